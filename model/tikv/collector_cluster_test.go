package tikv

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/engine"
	"github.com/snapsim/snapsim/sim"
)

// The collector tests of the single-node model, ported to the two-node
// cluster: end-to-end sweeps through Run, and white-box generations
// (c.generate in an actor, with a disturbing actor beside it).

// The report's design: open-deleted-file and the TiKV panic are found
// quickly, named precisely, and reproduced exactly.
func TestNaiveFindsOpenDeletedFileAndPanic(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig("naive")
	hits, firstHit := 0, uint64(0)
	for seed := uint64(1); seed <= 300; seed++ {
		out := mustRun(t, cfg, seed)
		k := kinds(out.Result.Observations)
		require.Zero(t, k[sim.KindInconsistentSnapshot], "seed %d: naive never ships wrong data, it crashes", seed)
		require.Zero(t, k[sim.KindGCDeletedPinnedFile], "seed %d", seed)
		require.Zero(t, k[sim.KindFileLeak], "seed %d", seed)
		if k[sim.KindOpenDeletedFile] == 0 && k[sim.KindPanic] == 0 {
			require.Empty(t, out.Result.Observations, "seed %d", seed)
			for _, s := range out.Snapshots {
				require.Contains(t, []string{SnapApplied, SnapSkipped}, s.Status, "seed %d: %s", seed, s.Error)
			}
			continue
		}
		require.Equal(t, 1, k[sim.KindOpenDeletedFile], "seed %d: every panic is caused by exactly one deleted file", seed)
		require.Equal(t, 1, k[sim.KindPanic], "seed %d", seed)
		hits++
		if firstHit == 0 {
			firstHit = seed
		}
		odf := ofKind(out.Result.Observations, sim.KindOpenDeletedFile)[0]
		pan := ofKind(out.Result.Observations, sim.KindPanic)[0]
		assert.Equal(t, "snap-gen", odf.Actor)
		assert.Equal(t, "snap-gen", pan.Actor)
		assert.Regexp(t, reODFByGC, odf.Detail)
		assert.Contains(t, pan.Detail, "open: No such file or directory (os error 2)")
		assert.Contains(t, pan.Detail, "called `Result::unwrap()` on an `Err` value")
		assert.Contains(t, pan.Detail, "file does not exist", "the real MemFS error is kept")
		assert.Contains(t, pan.Stack, "designs.naive.Collect", "the stack points at the collector")
		assert.Equal(t, odf.Step, pan.Step, "the oracle and the panic are the same step")
		// The generator died: what it was building is reported aborted,
		// and the liveness phase notices it never finished.
		var aborted *SnapshotReport
		for i := range out.Snapshots {
			if strings.Contains(out.Snapshots[i].Error, "panicked") {
				aborted = &out.Snapshots[i]
			}
		}
		require.NotNil(t, aborted, "seed %d", seed)
		assert.Equal(t, SnapAborted, aborted.Status)
		assert.Equal(t, fmt.Sprintf("did not finish: the generator panicked at step %d", pan.Step), aborted.Error)
		assert.Equal(t, 1, aborted.Attempts)
		for _, l := range ofKind(out.Result.Observations, sim.KindLiveness) {
			assert.Regexp(t, reStillAfter, l.Detail)
		}
	}
	t.Logf("naive: %d/300 seeds panic on a deleted file; first at seed %d", hits, firstHit)
	require.GreaterOrEqual(t, hits, 30)
	require.LessOrEqual(t, firstHit, uint64(20), "the bug is shallow: it must show in the first seeds")

	// Exact reproduction.
	a, b := mustRun(t, cfg, firstHit), mustRun(t, cfg, firstHit)
	assert.Equal(t, a.Result.TraceHash, b.Result.TraceHash)
	assert.Equal(t, stripStacks(a.Result.Observations), stripStacks(b.Result.Observations))
	assert.Equal(t, a.Snapshots, b.Snapshots)
}

func TestLeaseRetryDefaultIsClean(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig("lease-retry")
	applied := 0
	for seed := uint64(1); seed <= 500; seed++ {
		out := mustRun(t, cfg, seed)
		require.Empty(t, out.Result.Observations, "seed %d", seed)
		require.Equal(t, sim.EndDone, out.Result.End, "seed %d", seed)
		require.NotEmpty(t, out.Snapshots)
		require.LessOrEqual(t, len(out.Snapshots), out.Workload.Snapshots)
		for _, s := range out.Snapshots {
			require.GreaterOrEqual(t, s.End, s.Start)
			if s.Status == SnapSkipped {
				// A request for a key already in flight reuses it; one for
				// a key the peer already applied is not rebuilt.
				require.True(t, strings.Contains(s.Error, "in flight") || strings.Contains(s.Error, "already applied"), "seed %d: %s", seed, s.Error)
				continue
			}
			applied++
			require.Equal(t, SnapApplied, s.Status, "seed %d snapshot %d: %s", seed, s.ID, s.Error)
			require.Positive(t, s.SizeBytes)
			require.GreaterOrEqual(t, s.Attempts, 1)
			// Keys come from files. A file may hold only tombstones (a
			// flushed deletion, moved down by a trivial move, which keeps
			// them): files without keys are possible.
			if s.Keys > 0 {
				require.NotEmpty(t, s.Files, "seed %d: keys come from files", seed)
			}
		}
	}
	t.Logf("lease-retry: 500 seeds, %d snapshots applied and verified", applied)
}

// Stalls longer than the lease: the atomic check-and-open still never opens
// a deleted file; the lease is lost now and then and the build retries.
func TestLeaseRetryStallsAtomicCheck(t *testing.T) {
	t.Parallel()
	cfg := stallConfig()
	retried, stalls := 0, 0
	for seed := uint64(1); seed <= 500; seed++ {
		out := mustRun(t, cfg, seed)
		require.Empty(t, out.Result.Observations, "seed %d", seed)
		stalls += out.Faults.Stalls
		for _, s := range out.Snapshots {
			require.Contains(t, []string{SnapApplied, SnapSkipped}, s.Status, "seed %d: %s", seed, s.Error)
			if s.Attempts > 1 {
				retried++
			}
		}
	}
	t.Logf("atomic: %d stalls, %d snapshots retried", stalls, retried)
	require.Positive(t, stalls, "the stall fault must fire")
	require.Positive(t, retried, "stalls longer than the TTL must cost a retry somewhere")
}

// The lease check-then-open gap (docs/architecture.md): check and open as
// two steps, no grace: a stall between them lets GC delete the file. The
// design still never panics and never ships wrong data: it retries.
func TestLeaseRetryNonAtomicCheckIsCaught(t *testing.T) {
	t.Parallel()
	cfg := stallConfig()
	cfg.NonAtomicCheck = true
	cfg.GCGrace = 0
	hits, first := 0, uint64(0)
	for seed := uint64(1); seed <= 2000; seed++ {
		out := mustRun(t, cfg, seed)
		k := kinds(out.Result.Observations)
		require.Zero(t, k[sim.KindPanic], "seed %d", seed)
		require.Zero(t, k[sim.KindInconsistentSnapshot], "seed %d", seed)
		require.Zero(t, k[sim.KindGCDeletedPinnedFile], "seed %d", seed)
		if k[sim.KindOpenDeletedFile] == 0 {
			continue
		}
		hits++
		if first == 0 {
			first = seed
			odf := ofKind(out.Result.Observations, sim.KindOpenDeletedFile)[0]
			assert.Equal(t, "snap-gen", odf.Actor)
			assert.Regexp(t, reODFByGC, odf.Detail)
			assert.True(t, retriedRun(out), "the lost file costs a retry")
			for _, s := range out.Snapshots {
				assert.Contains(t, []string{SnapApplied, SnapSkipped}, s.Status, "the retry succeeds")
			}
		}
	}
	t.Logf("non-atomic, no grace: open-deleted-file in %d/2000 seeds, first at %d", hits, first)
	require.Positive(t, hits)
}

func TestLeaseRetryNonAtomicCheckWithGraceIsSafe(t *testing.T) {
	t.Parallel()
	cfg := stallConfig()
	cfg.NonAtomicCheck = true
	cfg.GCGrace = 20 * sim.Millisecond // longer than any 10ms stall
	retried := 0
	for seed := uint64(1); seed <= 500; seed++ {
		out := mustRun(t, cfg, seed)
		require.Empty(t, out.Result.Observations, "seed %d", seed)
		if retriedRun(out) {
			retried++
		}
	}
	require.Positive(t, retried, "the lease is still lost to stalls; only the deletion is prevented")
}

// A lease shorter than 4µs used to make the rate-limiter wait loop sleep
// for 0µs forever (TTL/4 == 0): the generator never finished.
func TestLeaseRetryTinyTTLMakesProgress(t *testing.T) {
	for _, ttl := range []sim.Micros{1, 3} {
		cfg := DefaultConfig("lease-retry")
		cfg.LeaseTTL = ttl
		cfg.SnapIOBytesPerSec = 16 << 20 // waits of a few dozen µs
		for seed := uint64(1); seed <= 20; seed++ {
			out := mustRun(t, cfg, seed)
			require.Equal(t, sim.EndDone, out.Result.End, "ttl %s seed %d", ttl, seed)
			failed := 0
			for _, s := range out.Snapshots {
				require.Contains(t, []string{SnapApplied, SnapSkipped, SnapFailed}, s.Status)
				if s.Status == SnapFailed {
					failed++
					require.Contains(t, s.Error, model.ErrAttemptsSpent.Error())
					require.Contains(t, s.Error, "lease lost")
				}
			}
			// A build that gives up is raft's fatal error, nothing else.
			require.Len(t, out.Result.Observations, failed, "ttl %s seed %d", ttl, seed)
			for _, o := range out.Result.Observations {
				require.Equal(t, sim.KindLiveness, o.Kind)
				require.Regexp(t, reFatal, o.Detail)
			}
		}
	}
}

// With every open failing, lease-retry gives up after MaxAttempts with a
// report (raft's fatal error, a liveness observation) and never panics;
// naive panics with the Rust-style EIO message.
func TestCollectorsUnderOpenEIO(t *testing.T) {
	lr := DefaultConfig("lease-retry")
	lr.FS.Faults.OpenEIOPermille = 1000
	lr.MaxAttempts = 3
	gaveUp, eio := 0, 0
	for seed := uint64(1); seed <= 10; seed++ {
		out := mustRun(t, lr, seed)
		require.Empty(t, ofKind(out.Result.Observations, sim.KindPanic))
		eio += out.Faults.EIO
		for _, o := range out.Result.Observations {
			require.Equal(t, sim.KindLiveness, o.Kind, "seed %d: %s", seed, o.Detail)
		}
		for _, s := range out.Snapshots {
			switch {
			case s.Status == SnapFailed && strings.HasPrefix(s.Error, "send: "):
				// An empty region needs no engine file, but the sender's
				// open of the snapshot file fails too.
				assert.Contains(t, s.Error, "input/output error")
			case s.Status == SnapFailed:
				gaveUp++
				assert.Equal(t, 3, s.Attempts)
				assert.Contains(t, s.Error, "snapshot attempts exhausted after 3 attempts (3 failures)")
				assert.Contains(t, s.Error, "input/output error")
			default:
				// Faults stop with the interference: a snapshot sent in
				// the liveness phase goes through.
				assert.Contains(t, []string{SnapSkipped, SnapApplied}, s.Status, "seed %d: %s", seed, s.Error)
			}
		}
	}
	assert.Positive(t, gaveUp)
	assert.Positive(t, eio)

	na := DefaultConfig("naive")
	na.FS.Faults.OpenEIOPermille = 1000
	found := false
	for seed := uint64(1); seed <= 20 && !found; seed++ {
		out := mustRun(t, na, seed)
		for _, o := range ofKind(out.Result.Observations, sim.KindPanic) {
			found = true
			assert.Contains(t, o.Detail, "open: Input/output error (os error 5)")
		}
	}
	assert.True(t, found)
}

// Transient read, write and open errors everywhere: flushes and
// compactions fail and retry, snapshot builds retry or fail with a report,
// failed sends and ingests are reported. lease-retry never panics, never
// ships wrong data, leaks nothing.
func TestLeaseRetryUnderIOErrors(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig("lease-retry")
	cfg.FS.Faults.ReadEIOPermille = 30
	cfg.FS.Faults.WriteEIOPermille = 30
	cfg.FS.Faults.OpenEIOPermille = 30
	var flushFailed, compactFailed, retried int
	st := statusCounts{}
	for seed := uint64(1); seed <= 300; seed++ {
		out, err := Run(cfg, sim.NewPRNG(seed), sim.Config{KeepTrace: true})
		require.NoError(t, err)
		require.Empty(t, out.Result.Observations, "seed %d", seed)
		for _, ev := range out.Result.Events {
			switch {
			case ev.Op == "flush" && ev.Detail == "failed":
				flushFailed++
				require.Contains(t, ev.Result, "input/output error")
			case ev.Op == "compact" && ev.Detail == "failed":
				compactFailed++
			}
		}
		st.add(out)
		for _, s := range out.Snapshots {
			require.Equal(t, s.End-s.Start, s.Latency())
			switch s.Status {
			case SnapApplied, SnapSkipped:
			case SnapFailed:
				require.Contains(t, s.Error, "input/output error", "seed %d", seed)
			default:
				t.Fatalf("seed %d: snapshot %d %s: %s", seed, s.ID, s.Status, s.Error)
			}
			if s.Attempts > 1 {
				retried++
			}
		}
	}
	// (A transient EIO is retried in place; rarely does it cost a whole
	// build attempt.)
	t.Logf("EIO: %d flushes and %d compactions failed and retried; snapshots %s, %d took more than one attempt", flushFailed, compactFailed, st, retried)
	require.Positive(t, flushFailed)
	require.Positive(t, compactFailed)
	require.Positive(t, st[SnapFailed])
	require.Greater(t, st[SnapApplied], 300)
}

func TestRustIOError(t *testing.T) {
	enoent := &os.PathError{Op: "open", Path: "/db/000001.sst", Err: os.ErrNotExist}
	assert.Equal(t, "open: No such file or directory (os error 2)", model.RustOpenError(enoent))
	assert.Equal(t, "open: No such file or directory (os error 2)", model.RustOpenError(fmt.Errorf("wrapped: %w", syscall.ENOENT)))
	assert.Equal(t, "open: Input/output error (os error 5)", model.RustOpenError(&os.PathError{Op: "open", Path: "x", Err: syscall.EIO}))
	assert.Equal(t, "open: No space left on device (os error 28)", model.RustOpenError(syscall.ENOSPC))
	assert.Equal(t, "plain", model.RustOpenError(errors.New("plain")))
}

func TestGeneratorFate(t *testing.T) {
	running := &SnapshotReport{Status: SnapRunning}
	assert.Equal(t, "the run ended while it was running", generatorFate(nil, running))
	assert.Equal(t, "the run ended while it was running", generatorFate([]sim.Observation{{Kind: sim.KindPanic, Actor: "writer", Step: 3}}, running))
	assert.Equal(t, "the generator panicked at step 7", generatorFate([]sim.Observation{
		{Kind: sim.KindOpenDeletedFile, Actor: "snap-gen", Step: 7},
		{Kind: sim.KindPanic, Actor: "snap-gen", Step: 7},
	}, running))
	assert.Equal(t, "the generator panicked at step 9", generatorFate([]sim.Observation{{Kind: sim.KindPanic, Actor: "snap-gen-2", Step: 9}}, running))
	assert.Equal(t, "the run ended while it was sent", generatorFate([]sim.Observation{{Kind: sim.KindPanic, Actor: "snap-gen", Step: 7}}, &SnapshotReport{Status: SnapSent}))
}

// Step budgets too small to finish: unfinished snapshots are reported as
// aborted, not lost and not left running.
func TestRunReportsUnfinishedSnapshotsAsAborted(t *testing.T) {
	cfg := DefaultConfig("lease-retry")
	full := mustRun(t, cfg, 1)
	aborted := 0
	for budget := int64(1); budget < full.Result.Steps; budget += 7 {
		out, err := Run(cfg, sim.NewPRNG(1), sim.Config{MaxSteps: budget})
		require.NoError(t, err)
		require.Equal(t, sim.EndBudget, out.Result.End)
		assert.False(t, out.Violated())
		for _, s := range out.Snapshots {
			if s.Status == SnapApplied || s.Status == SnapSkipped {
				continue
			}
			require.Equal(t, SnapAborted, s.Status)
			require.Regexp(t, `^did not finish: the run ended while it was (running|generated|sent)$`, s.Error)
			aborted++
		}
	}
	assert.Positive(t, aborted)
}

// genRun is one white-box generation: a cluster whose leader holds 20
// flushed records of region 1 (four files), a generator actor that runs
// c.generate for region 1 and waits for the snapshot's final state (the
// real sender and applier run), and a disturbing actor beside it.
type genRun struct {
	s      *sim.Scheduler
	c      *Cluster
	region *Region
	listed []*FileMeta
	rep    *SnapshotReport
	done   bool
	res    sim.Result
}

func runGenerate(t *testing.T, cfg Config, disturb func(a *sim.Actor, w *genRun)) *genRun {
	t.Helper()
	s := sim.New(sim.NewPRNG(1), sim.Config{KeepTrace: true})
	c, err := newCluster(s, cfg, Workload{FlushThreshold: 1000, CompactTrigger: 1000})
	require.NoError(t, err)
	w := &genRun{s: s, c: c, region: c.Regions.All()[0]}
	e := c.Leader.Engine
	for i := 0; i < 20; i++ {
		rec := Record{CF: CFDefault, Key: KeyName(i % cfg.KeySpace), Kind: KindPut, Value: value(uint64(i+1), cfg.ValueBytes)}
		rec.Seq = e.Put(rec.Key, rec.Value)
		c.Ref.Append(rec)
		w.region.AppliedIndex++
		if (i+1)%5 == 0 {
			require.NoError(t, e.Flush()) // set-up: outside any actor, no scheduling
		}
	}
	w.listed = e.Current().Files()
	require.Len(t, w.listed, 4)
	c.sender = s.Spawn("sender", sim.ActorOptions{Daemon: true, Watched: true}, c.SendLoop)
	c.applier = s.Spawn("applier", sim.ActorOptions{Daemon: true, Watched: true}, c.ApplyLoop)
	e.SetDaemons(engine.Daemons{GC: s.Spawn("gc", sim.ActorOptions{Daemon: true}, e.GCLoop)})
	s.Spawn("snap-gen", sim.ActorOptions{Watched: true}, func(a *sim.Actor) {
		defer func() { w.done = true }()
		c.generate(a, 1, w.region)
		w.rep = c.Snapshots[0]
		for !w.rep.final() {
			a.Sleep(100 * sim.Microsecond)
		}
	})
	s.Spawn("disturb", sim.ActorOptions{}, func(a *sim.Actor) {
		if disturb != nil {
			disturb(a, w)
		}
	})
	w.res = s.Run()
	require.Equal(t, sim.EndDone, w.res.End)
	require.NotNil(t, w.rep)
	return w
}

// retryLines returns "detail: result" of the run's retry events.
func (w *genRun) retryLines() string {
	var b strings.Builder
	for _, ev := range w.res.Events {
		if ev.Op == "retry" {
			b.WriteString(ev.Detail + ": " + ev.Result + "\n")
		}
	}
	return b.String()
}

// released checks that the generation let go of everything: engine
// snapshots, leases, its worker thread.
func (w *genRun) released(t *testing.T) {
	t.Helper()
	e := w.c.Leader.Engine
	assert.Empty(t, e.Snapshots(), "every engine snapshot was released")
	assert.Empty(t, e.Leases(), "every lease was released")
	for i := range w.c.Leader.Threads.slots {
		assert.Nil(t, w.c.Leader.Threads.slots[i].holder, "slot %d", i)
	}
}

func TestGenerateWhiteBox(t *testing.T) {
	w := runGenerate(t, DefaultConfig("lease-retry"), nil)
	require.Empty(t, w.res.Observations)
	assert.Equal(t, SnapApplied, w.rep.Status, w.rep.Error)
	assert.Equal(t, SnapKey{Region: 1, Term: 1, Index: 20}, w.rep.Key)
	assert.Equal(t, 1, w.rep.Attempts)
	assert.Equal(t, uint64(20), w.rep.Seq)
	assert.Equal(t, 8, w.rep.Keys, "the key space")
	assert.ElementsMatch(t, strings.Fields(names(w.listed)), w.rep.Files)
	w.released(t)
}

func TestLeaseRetryAbortsOnEpochChange(t *testing.T) {
	w := runGenerate(t, DefaultConfig("lease-retry"), func(a *sim.Actor, w *genRun) {
		a.Sleep(100 * sim.Microsecond) // the generator is waiting on the limiter
		w.region.Epoch.Version++       // a split
	})
	require.Empty(t, w.res.Observations)
	assert.Equal(t, 2, w.rep.Attempts)
	assert.Equal(t, Epoch{Version: 2, ConfVer: 1}, w.rep.Epoch, "the data belongs to the new epoch")
	assert.Contains(t, w.retryLines(), "attempt 1 aborted (0 of 5 failures): region epoch changed: v1/c1 -> v2/c1")
	assert.Equal(t, SnapApplied, w.rep.Status, "the learner accepts the new epoch: %s", w.rep.Error)
	w.released(t)
}

func TestLeaseRetryWaitsForNormalRegion(t *testing.T) {
	w := runGenerate(t, DefaultConfig("lease-retry"), func(a *sim.Actor, w *genRun) {
		w.region.State = RegionSplitting
		a.Sleep(sim.Millisecond)
		w.region.State = RegionNormal
	})
	require.Empty(t, w.res.Observations)
	assert.Greater(t, w.rep.Attempts, 1)
	assert.Contains(t, w.retryLines(), "attempt 1 aborted (0 of 5 failures): "+model.ErrRegionBusy.Error())
	assert.Equal(t, SnapApplied, w.rep.Status, w.rep.Error)
	w.released(t)

	// A region that never becomes normal again: busy aborts are not build
	// failures, but they are bounded too (maxAttemptsFactor × MaxAttempts);
	// then raft reports its fatal error.
	cfg := DefaultConfig("lease-retry")
	cfg.MaxAttempts = 2
	cfg.Backoff = 10 * sim.Microsecond
	w = runGenerate(t, cfg, func(a *sim.Actor, w *genRun) { w.region.State = RegionMerging })
	assert.Equal(t, SnapFailed, w.rep.Status)
	assert.Equal(t, 4*2, w.rep.Attempts, "the shared policy's hard bound: 4 × MaxAttempts")
	assert.Contains(t, w.rep.Error, model.ErrAttemptsSpent.Error())
	assert.Contains(t, w.rep.Error, model.ErrRegionBusy.Error())
	l := ofKind(w.res.Observations, sim.KindLiveness)
	require.Len(t, l, 1)
	assert.Regexp(t, reFatal, l[0].Detail)
	w.released(t)
}

func TestLeaseRetryStopsForMergedRegion(t *testing.T) {
	w := runGenerate(t, DefaultConfig("lease-retry"), func(a *sim.Actor, w *genRun) { w.region.State = RegionTombstone })
	require.Empty(t, w.res.Observations)
	assert.Equal(t, SnapSkipped, w.rep.Status)
	assert.Equal(t, model.ErrRegionGone.Error()+": region 1", w.rep.Error)
	assert.Equal(t, "", w.c.Leader.Snap.InUse(w.rep.Key), "the key is free again")
	w.released(t)
}

// The lease lapses while the generator waits on the limiter (as after a
// stall longer than the TTL). If every listed file is still in the current
// version, none can have been deleted: the lease is taken again and the
// attempt goes on.
func TestLeaseRetryReleasesLapsedLeaseOfLiveFiles(t *testing.T) {
	w := runGenerate(t, DefaultConfig("lease-retry"), func(a *sim.Actor, w *genRun) {
		a.Sleep(100 * sim.Microsecond)
		w.c.Leader.Engine.Leases()[0].Expiry = w.s.Now() // white-box: the lease lapses now
	})
	require.Empty(t, w.res.Observations)
	assert.Equal(t, 1, w.rep.Attempts)
	relet := 0
	for _, ev := range w.res.Events {
		if ev.Op == "lease" && strings.Contains(ev.Detail, "lapsed") && strings.Contains(ev.Detail, "files still live, re-leased") {
			relet++
		}
	}
	assert.Equal(t, 1, relet)
	assert.Equal(t, SnapApplied, w.rep.Status, w.rep.Error)
	w.released(t)
}

// The lease lapses and a compaction replaces the listed files, which GC
// then deletes: the next check finds the lease lost, the attempt is
// abandoned without opening a deleted file, and the retry from a fresh
// version ships the right data.
func TestLeaseRetryLostLeaseRetries(t *testing.T) {
	w := runGenerate(t, DefaultConfig("lease-retry"), func(a *sim.Actor, w *genRun) {
		a.Sleep(100 * sim.Microsecond)
		e := w.c.Leader.Engine
		e.Leases()[0].Expiry = w.s.Now()
		assert.NoError(t, e.Compact())
		for e.CompactionDue() {
			assert.NoError(t, e.Compact())
		}
	})
	require.Empty(t, w.res.Observations, "no deleted file is opened")
	assert.Equal(t, 2, w.rep.Attempts)
	assert.Contains(t, w.retryLines(), "attempt 1 aborted (1 of 5 failures): lease lost: lease 1 expired")
	assert.Equal(t, SnapApplied, w.rep.Status, w.rep.Error)
	deleted := 0
	for _, f := range w.listed {
		if _, gone := w.c.Leader.FS.Deleted(f.Path); gone {
			deleted++
		}
	}
	assert.Positive(t, deleted, "GC did delete listed files")
	w.released(t)
}

// No engine snapshot, lease, deletion hold, version reference or worker
// thread outlives its generator: not after success, not after a panic
// (naive, lease), not after a retry, for any design.
func TestGeneratorsReleaseEverything(t *testing.T) {
	t.Parallel()
	cfgs := []Config{DefaultConfig("naive"), DefaultConfig("lease-retry"), stallConfig(),
		DefaultConfig("retry"), DefaultConfig("pin"), DefaultConfig("checkpoint"), DefaultConfig("lease"), DefaultConfig("scan")}
	for _, cfg := range cfgs {
		panics := 0
		for seed := uint64(1); seed <= 40; seed++ {
			c, res := runCluster(t, cfg, seed, sim.Config{})
			panics += len(ofKind(res.Observations, sim.KindPanic))
			e := c.Leader.Engine
			what := fmt.Sprintf("%s seed %d", cfg.Collector, seed)
			require.Empty(t, e.Snapshots(), what)
			require.Empty(t, e.Leases(), what)
			require.Zero(t, e.DisabledDeletions(), what)
			for _, v := range e.LiveVersions() {
				if v != e.Current() {
					require.Zero(t, v.Refs(), "%s: version %d still referenced", what, v.ID)
				}
			}
			require.Equal(t, 1, e.Current().Refs(), what)
			for i := range c.Leader.Threads.slots {
				require.Nil(t, c.Leader.Threads.slots[i].holder, "%s: slot %d", what, i)
			}
		}
		if cfg.Collector == "naive" {
			require.Positive(t, panics, "the panic path is exercised")
		}
	}
}
