package vfsmem_test

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// Op-cost benchmarks (docs/targets.md: "the scheduler adds less than the cost of
// the VFS op it schedules"). Each filesystem operation is measured twice:
//
//   - BenchmarkOpMemFS: on a bare pebble vfs.NewStrictMem(), the floor;
//   - BenchmarkOpVFSMem: through vfsmem.FS inside a sim.Scheduler actor, so
//     every call includes its scheduling point (a coroutine switch out and
//     back, one strategy decision, the trace hash of the recorded event) and
//     vfsmem's own bookkeeping (path cleaning, ledger, space accounting).
//
// BenchmarkOpOverhead runs both back to back and reports the difference
// directly (added-ns/op); BenchmarkSchedulingPoint is one bare Yield with
// the same single actor, to compare with sim's BenchmarkSchedulingDecision.
// Docs: docs/profile.md.

const benchIOSize = 4096

// removeBatch is how many files BenchmarkOp*/remove creates, with the timer
// stopped, before removing them one per iteration.
const removeBatch = 256

var removeNames = func() []string {
	out := make([]string, removeBatch)
	for i := range out {
		out[i] = fmt.Sprintf("/x/%06d", i)
	}
	return out
}()

// benchOp is one measured operation.
type benchOp struct {
	name string
	// do runs operation i (timed).
	do func(fs vfs.FS, i int, buf []byte) error
	// refill, if set, prepares iterations i..i+removeBatch-1 with the timer
	// stopped; it is called when i%removeBatch == 0.
	refill func(fs vfs.FS, i int) error
}

// benchSetup creates what the operations use: /d/r (4 KiB), /l with 100
// entries, and the directories /d and /x.
func benchSetup(fs vfs.FS) error {
	for _, d := range []string{"/d", "/l", "/x"} {
		if err := fs.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	data := make([]byte, benchIOSize)
	if err := writeAll(fs, "/d/r", data); err != nil {
		return err
	}
	for i := 0; i < 100; i++ {
		if err := writeAll(fs, fmt.Sprintf("/l/%06d.sst", i), data[:64]); err != nil {
			return err
		}
	}
	return nil
}

func writeAll(fs vfs.FS, p string, data []byte) error {
	f, err := fs.Create(p)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Close()
}

var benchOps = []benchOp{
	{name: "open-read-4KiB-close", do: func(fs vfs.FS, _ int, buf []byte) error {
		f, err := fs.Open("/d/r")
		if err != nil {
			return err
		}
		if n, err := f.Read(buf); err != nil || n != benchIOSize {
			return fmt.Errorf("read %d bytes: %v", n, err)
		}
		return f.Close()
	}},
	{name: "create-write-4KiB-close", do: func(fs vfs.FS, _ int, buf []byte) error {
		return writeAll(fs, "/d/w", buf)
	}},
	{name: "list-100", do: func(fs vfs.FS, _ int, _ []byte) error {
		names, err := fs.List("/l")
		if err == nil && len(names) != 100 {
			err = fmt.Errorf("listed %d names", len(names))
		}
		return err
	}},
	{
		name: "remove",
		do: func(fs vfs.FS, i int, _ []byte) error {
			return fs.Remove(removeNames[i%removeBatch])
		},
		refill: func(fs vfs.FS, _ int) error {
			for _, p := range removeNames {
				f, err := fs.Create(p)
				if err != nil {
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
			}
			return nil
		},
	},
}

// stopwatch is the part of *testing.B the runners use; the overhead
// benchmark passes its own.
type stopwatch interface {
	StartTimer()
	StopTimer()
}

// runOps runs n iterations of op on fs. The stopwatch is running on entry
// and on return; it is stopped only while refill prepares a batch.
func runOps(sw stopwatch, fs vfs.FS, op benchOp, n int) error {
	buf := make([]byte, benchIOSize)
	for i := 0; i < n; i++ {
		if op.refill != nil && i%removeBatch == 0 {
			sw.StopTimer()
			err := op.refill(fs, i)
			sw.StartTimer()
			if err != nil {
				return err
			}
		}
		if err := op.do(fs, i, buf); err != nil {
			return err
		}
	}
	return nil
}

// newRawFS returns a set-up bare strict MemFS.
func newRawFS() (vfs.FS, error) {
	fs := vfs.NewStrictMem()
	return fs, benchSetup(fs)
}

// schedChunk is how many operations one scheduler runs before the next
// chunk starts on a fresh scheduler and FS. A model seed is a few hundred
// steps, so the ledger's per-path histories stay short as they do there
// (one FS reused for millions of operations would instead time the growth
// of a 10^6-event history). Building and tearing down a scheduler (spawn,
// the first step, halt) is timed, amortised over the chunk; set-up is not.
const schedChunk = 1024

// runScheduled runs n iterations of op through vfsmem.FS, from one actor
// of a scheduler (default costs, no faults, trace not kept: as the model
// runs seeds), in chunks of schedChunk on fresh schedulers. It returns the
// number of steps the operations took: each run's steps less the first
// (from the actor's start to its first scheduling point) and less those of
// untimed refills (removeBatch × create+close each).
func runScheduled(sw stopwatch, op benchOp, n int) (int64, error) {
	var steps int64
	for done := 0; done < n; done += schedChunk {
		k := min(schedChunk, n-done)
		st, err := runChunk(sw, op, k)
		steps += st
		if err != nil {
			return steps, err
		}
	}
	return steps, nil
}

func runChunk(sw stopwatch, op benchOp, n int) (int64, error) {
	sw.StopTimer()
	s := sim.New(sim.NewPRNG(1), sim.Config{MaxSteps: math.MaxInt64})
	fs := vfsmem.New(s, vfsmem.DefaultOptions())
	if err := benchSetup(fs); err != nil {
		sw.StartTimer()
		return 0, err
	}
	var opErr error
	s.Spawn("bench", sim.ActorOptions{}, func(*sim.Actor) {
		opErr = runOps(sw, fs, op, n)
	})
	sw.StartTimer()
	res := s.Run()
	if opErr == nil && res.End != sim.EndDone {
		opErr = fmt.Errorf("run ended %q", res.End)
	}
	for _, o := range res.Observations {
		opErr = errors.Join(opErr, fmt.Errorf("%s: %s", o.Kind, o.Detail))
	}
	steps := res.Steps - 1
	if op.refill != nil {
		steps -= int64((n+removeBatch-1)/removeBatch) * removeBatch * 2
	}
	return steps, opErr
}

// BenchmarkOpMemFS: the raw pebble MemFS cost of each operation.
func BenchmarkOpMemFS(b *testing.B) {
	for _, op := range benchOps {
		b.Run(op.name, func(b *testing.B) {
			fs, err := newRawFS()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			if err := runOps(b, fs, op, b.N); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkOpVFSMem: the same operations through vfsmem.FS inside a
// scheduler actor. steps/op is the number of scheduling points per
// operation (one per vfs call: open+read+close is 3); ns/step divides the
// whole cost by them. Set-up and remove's refills are not timed.
func BenchmarkOpVFSMem(b *testing.B) {
	for _, op := range benchOps {
		b.Run(op.name, func(b *testing.B) {
			b.ReportAllocs()
			b.ResetTimer()
			steps, err := runScheduled(b, op, b.N)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			perOp := float64(steps) / float64(b.N)
			b.ReportMetric(perOp, "steps/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(steps), "ns/step")
		})
	}
}

// watch is a stopwatch over wall time.
type watch struct {
	start   time.Time
	elapsed time.Duration
}

func (w *watch) StartTimer() { w.start = time.Now() }
func (w *watch) StopTimer()  { w.elapsed += time.Since(w.start) }

// BenchmarkOpOverhead runs each operation b.N times raw and b.N times
// through vfsmem+scheduler, and reports the difference: added-ns/op is
// what simulation adds to one operation (scheduling points plus vfsmem's
// bookkeeping), added-ns/step the same per scheduling point. (The
// framework's ns/op is the sum of both runs; read the named metrics.)
func BenchmarkOpOverhead(b *testing.B) {
	for _, op := range benchOps {
		b.Run(op.name, func(b *testing.B) {
			fs, err := newRawFS()
			if err != nil {
				b.Fatal(err)
			}
			var raw, sched watch
			raw.StartTimer()
			err = runOps(&raw, fs, op, b.N)
			raw.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			sched.StartTimer()
			steps, err := runScheduled(&sched, op, b.N)
			sched.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			n := float64(b.N)
			added := float64(sched.elapsed.Nanoseconds()-raw.elapsed.Nanoseconds()) / n
			b.ReportMetric(float64(raw.elapsed.Nanoseconds())/n, "raw-ns/op")
			b.ReportMetric(float64(sched.elapsed.Nanoseconds())/n, "sim-ns/op")
			b.ReportMetric(added, "added-ns/op")
			b.ReportMetric(added*n/float64(steps), "added-ns/step")
		})
	}
}

// BenchmarkSchedulingPoint: one actor that only yields, through the same
// scheduler set-up as BenchmarkOpVFSMem (one runnable actor, random
// strategy, trace not kept): the bare cost of a scheduling point, with no
// filesystem operation and no recorded event.
func BenchmarkSchedulingPoint(b *testing.B) {
	s := sim.New(sim.NewPRNG(1), sim.Config{MaxSteps: int64(b.N)})
	s.Spawn("y", sim.ActorOptions{}, func(a *sim.Actor) {
		for {
			a.Yield()
		}
	})
	b.ReportAllocs()
	b.ResetTimer()
	res := s.Run()
	b.StopTimer()
	if res.Steps != int64(b.N) {
		b.Fatalf("ran %d steps, want %d", res.Steps, b.N)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/step")
}
