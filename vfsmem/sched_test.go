package vfsmem_test

import (
	"errors"
	"io"
	"os"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEveryOpIsASchedulingPoint(t *testing.T) {
	const k = 25
	s, fs := newFS(21, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/db", 0o755))
	writeFile(t, fs, "/db/f", []byte("data"), false)
	for _, name := range []string{"a", "b"} {
		s.Spawn(name, sim.ActorOptions{}, func(a *sim.Actor) {
			for i := 0; i < k; i++ {
				_, err := fs.Stat("/db/f")
				assert.NoError(t, err)
			}
		})
	}
	res := runDone(t, s)

	// Each actor: one step to reach its first operation, then one step per
	// operation (the operation runs when the actor is resumed).
	require.EqualValues(t, 2*(k+1), res.Steps)

	var stats []sim.Event
	for _, e := range ioEvents(res.Events) {
		if e.Step > 0 {
			stats = append(stats, e)
		}
	}
	require.Len(t, stats, 2*k)
	seen := map[int64]bool{}
	switches := 0
	for i, e := range stats {
		require.Equal(t, sim.ClassIO, e.Class)
		require.Equal(t, "stat", e.Op)
		require.Equal(t, "/db/f", e.Detail)
		require.Equal(t, "ok", e.Result)
		require.Contains(t, []string{"a", "b"}, e.Actor)
		require.False(t, seen[e.Step], "two operations in step %d", e.Step)
		seen[e.Step] = true
		if i > 0 && stats[i-1].Actor != e.Actor {
			switches++
		}
	}
	require.Greater(t, switches, 5, "the two actors' operations should interleave")

	// Set-up operations are not scheduled: step 0, actor "setup".
	for _, e := range ioEvents(res.Events) {
		if e.Step == 0 {
			require.Equal(t, "setup", e.Actor)
		}
	}
}

func TestSetupModeIsNotScheduled(t *testing.T) {
	s, fs := newFS(1, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/a/b", 0o755))
	writeFile(t, fs, "/a/b/f", []byte("x"), true)
	require.Equal(t, []byte("x"), readFile(t, fs, "/a/b/f"))
	fs.Crash()
	require.Zero(t, s.Step())
	require.Nil(t, s.Current())
	res := s.Run() // no actors
	require.Equal(t, sim.EndDone, res.End)
	require.Zero(t, res.Steps)
	require.NotEmpty(t, res.Events)
	for _, e := range res.Events {
		require.Equal(t, "setup", e.Actor)
		require.Zero(t, e.Step)
	}
}

func TestOpNamesInTrace(t *testing.T) {
	s, fs := newFS(22, vfsmem.DefaultOptions())
	checkErr := errors.New("lease expired")
	var checkStep int64
	var got struct {
		checkedErr error
		reuse      vfs.File
	}
	s.Spawn("w", sim.ActorOptions{}, func(a *sim.Actor) {
		must := func(err error) { assert.NoError(t, err) }
		must(fs.MkdirAll("/db", 0o755))
		f, err := fs.Create("/db/a")
		must(err)
		_, err = f.Write([]byte("hello"))
		must(err)
		_, err = f.WriteAt([]byte("!"), 5)
		must(err)
		must(f.Sync())
		must(f.SyncData())
		_, err = f.Stat()
		must(err)
		// Hints and SyncTo are not scheduling points.
		must(f.Preallocate(0, 100))
		must(f.Prefetch(0, 100))
		_, err = f.SyncTo(3)
		must(err)
		assert.Equal(t, vfs.InvalidFd, f.Fd())
		must(f.Close())
		f, err = fs.Open("/db/a")
		must(err)
		_, err = f.Read(make([]byte, 2))
		must(err)
		_, err = f.ReadAt(make([]byte, 2), 1)
		must(err)
		must(f.Close())
		f, err = fs.OpenReadWrite("/db/b")
		must(err)
		must(f.Close())
		_, err = fs.Stat("/db/a")
		must(err)
		_, err = fs.List("/db")
		must(err)
		must(fs.Link("/db/a", "/db/c"))
		must(fs.Rename("/db/c", "/db/d"))
		got.reuse, err = fs.ReuseForWrite("/db/d", "/db/e")
		must(err)
		must(got.reuse.Close())
		d, err := fs.OpenDir("/db")
		must(err)
		must(d.Sync())
		must(d.Close())
		l, err := fs.Lock("/db/LOCK")
		must(err)
		must(l.Close())
		// Not scheduling points either.
		_, err = fs.GetDiskUsage("/")
		must(err)
		assert.Equal(t, "/db/x", fs.PathJoin("/db", "x"))
		assert.Equal(t, "x", fs.PathBase("/db/x"))
		assert.Equal(t, "/db", fs.PathDir("/db/x"))
		_, got.checkedErr = fs.OpenChecked("/db/a", func() error { checkStep = s.Step(); return checkErr })
		must(fs.Remove("/db/a"))
		must(fs.RemoveAll("/db"))
		fs.Crash()
	})
	res := runDone(t, s)
	want := []string{
		"mkdir", "create", "write", "write", "sync", "sync", "fstat", "close",
		"open", "read", "read", "close", "open-rw", "close", "stat", "list",
		"link", "rename", "rename", "open-rw", "close", "open-dir", "sync", "close",
		"lock", "open", "remove", "remove-all", "crash",
	}
	evs := ioEvents(res.Events)
	require.Equal(t, join(want), join(ops(evs)))
	// One step per operation plus the first step; one operation per step.
	require.EqualValues(t, len(want)+1, res.Steps)
	for i, e := range evs {
		require.EqualValues(t, i+2, e.Step, "op %d %s", i, e.Op)
		require.Equal(t, "w", e.Actor)
	}

	// The pre-open check ran in the same step as the open, after the
	// scheduling point, and its error is returned unchanged.
	require.ErrorIs(t, got.checkedErr, checkErr)
	openChecked := evs[len(want)-4]
	require.Equal(t, "open", openChecked.Op)
	require.Equal(t, openChecked.Step, checkStep)
	require.Equal(t, "pre-open check: lease expired", openChecked.Result)
	require.Equal(t, "/db/a -> /db/c", evs[16].Detail)
	require.Equal(t, "/db/c -> /db/d", evs[17].Detail)
}

func TestCostsAdvanceVirtualTime(t *testing.T) {
	c := vfsmem.DefaultCosts
	s, fs := newFS(23, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/db", 0o755))
	setupEnd := s.Now()
	var deltas []sim.Micros
	s.Spawn("w", sim.ActorOptions{}, func(a *sim.Actor) {
		last := s.Now()
		tick := func() { deltas = append(deltas, s.Now()-last); last = s.Now() }
		f, err := fs.Create("/db/f")
		tick()
		if !assert.NoError(t, err) {
			return
		}
		_, err = f.Write(make([]byte, 4096))
		assert.NoError(t, err)
		tick()
		_, err = f.Write(make([]byte, 1))
		assert.NoError(t, err)
		tick()
		assert.NoError(t, f.Sync())
		tick()
		assert.NoError(t, f.Close())
		tick()
		g, err := fs.Open("/db/f")
		tick()
		assert.NoError(t, err)
		_, err = g.ReadAt(make([]byte, 2048), 0)
		assert.NoError(t, err)
		tick()
		_, err = io.ReadAll(g) // 4097 bytes, then EOF
		assert.NoError(t, err)
		tick()
		assert.NoError(t, g.Close())
		tick()
		_, err = fs.Stat("/db/f")
		assert.NoError(t, err)
		tick()
		assert.NoError(t, fs.Remove("/db/f"))
		tick()
		a.Sleep(1000) // virtual time also passes by sleeping
		tick()
	})
	res := runDone(t, s)
	// io.ReadAll reads in chunks of at least 512 bytes: first 512 bytes,
	// then growing; its cost is the sum over the calls. Compute it from
	// the trace rather than from io's buffer policy.
	var readAllCost sim.Micros
	var reads int
	for _, e := range ioEvents(res.Events) {
		if e.Op == "read" {
			reads++
		}
	}
	require.Greater(t, reads, 2)
	readAllCost = deltas[7]
	require.Greater(t, readAllCost, c.ReadBase*sim.Micros(reads-1)) // at least the per-call costs

	require.Equal(t, []sim.Micros{
		c.Create,
		c.WriteBase + 4*c.WritePerKiB,
		c.WriteBase + 1*c.WritePerKiB,
		c.Sync,
		c.Close,
		c.Open,
		c.ReadBase + 2*c.ReadPerKiB,
		readAllCost,
		c.Close,
		c.Stat,
		c.Remove,
		1000,
	}, deltas)
	var sum sim.Micros
	for _, d := range deltas {
		sum += d
	}
	require.Equal(t, setupEnd+sum, res.Time)

	// Free operations cost nothing.
	s, fs = newFS(23, vfsmem.Options{})
	s.Spawn("w", sim.ActorOptions{}, func(a *sim.Actor) {
		writeFile(t, fs, "/f", make([]byte, 1<<20), true)
		_ = readFile(t, fs, "/f")
	})
	require.Zero(t, runDone(t, s).Time)
}

func TestStallSleepsWhileOthersRun(t *testing.T) {
	opts := vfsmem.DefaultOptions()
	opts.Faults.StallPermille = 1000
	opts.Faults.StallMicros = 5000
	s, fs := newFS(24, opts)
	var statDone sim.Micros
	s.Spawn("stalled", sim.ActorOptions{}, func(a *sim.Actor) {
		_, err := fs.Stat("/")
		assert.NoError(t, err)
		statDone = s.Now()
	})
	var otherTimes []sim.Micros
	s.Spawn("other", sim.ActorOptions{}, func(a *sim.Actor) {
		for i := 0; i < 5; i++ {
			a.Yield()
			otherTimes = append(otherTimes, s.Now())
			s.Record(sim.ClassAction, "tick", "", "")
		}
	})
	res := runDone(t, s)
	require.Equal(t, 1, fs.Faults().Stalls)
	require.Equal(t, opts.Faults.StallMicros+opts.Costs.Stat, statDone)

	var stallAt, statAt int64 = -1, -1
	ticksBetween, ticksBeforeStat := 0, 0
	for _, e := range res.Events {
		if e.Op == "tick" && statAt < 0 {
			ticksBeforeStat++
		}
		switch {
		case e.Op == "stall":
			require.Equal(t, sim.ClassIO, e.Class)
			require.Equal(t, "stalled", e.Actor)
			require.Equal(t, "stat /", e.Detail)
			require.Contains(t, e.Result, "5.000ms")
			stallAt = e.Step
		case e.Op == "stat":
			statAt = e.Step
			require.Equal(t, statDone, e.Time)
		case e.Op == "tick" && stallAt >= 0 && statAt < 0:
			ticksBetween++
		}
	}
	require.GreaterOrEqual(t, stallAt, int64(1))
	require.Greater(t, statAt, stallAt)
	require.Positive(t, ticksBetween, "the other actor runs while the stalled one sleeps")
	require.Equal(t, 5, ticksBeforeStat, "the stalled operation runs only after its stall")
	for _, tm := range otherTimes {
		require.Less(t, tm, opts.Faults.StallMicros)
	}
}

func TestSpikeAddsLatency(t *testing.T) {
	opts := vfsmem.DefaultOptions()
	opts.Faults.SpikePermille = 1000
	opts.Faults.SpikeMicros = 777
	s, fs := newFS(25, opts)
	var took sim.Micros
	s.Spawn("a", sim.ActorOptions{}, func(a *sim.Actor) {
		start := s.Now()
		_, err := fs.Stat("/")
		assert.NoError(t, err)
		took = s.Now() - start
	})
	runDone(t, s)
	require.Equal(t, opts.Costs.Stat+777, took)
	require.Equal(t, 1, fs.Faults().Spikes)
}

func TestEIOFaults(t *testing.T) {
	setup := func(opts vfsmem.Options) (*sim.Scheduler, *vfsmem.FS) {
		s, fs := newFS(26, opts)
		writeFile(t, fs, "/f", []byte("data"), true) // set-up is fault-free
		return s, fs
	}
	requireEIO := func(t *testing.T, err error, op string) {
		t.Helper()
		require.Error(t, err)
		require.ErrorIs(t, err, syscall.EIO)
		var pe *os.PathError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, op, pe.Op)
		require.Equal(t, "/f", pe.Path)
	}

	t.Run("open", func(t *testing.T) {
		opts := vfsmem.DefaultOptions()
		opts.Faults.OpenEIOPermille = 1000
		s, fs := setup(opts)
		var err error
		s.Spawn("a", sim.ActorOptions{Watched: true}, func(a *sim.Actor) { _, err = fs.Open("/f") })
		res := runDone(t, s)
		requireEIO(t, err, "open")
		require.Equal(t, 1, fs.Faults().EIO)
		require.Empty(t, res.Observations, "EIO is not an open of a deleted file")
		evs := ioEvents(res.Events)
		require.Equal(t, "open /f: input/output error", evs[len(evs)-1].Result)
	})
	t.Run("read", func(t *testing.T) {
		opts := vfsmem.DefaultOptions()
		opts.Faults.ReadEIOPermille = 1000
		s, fs := setup(opts)
		var errRead, errReadAt error
		var n int
		s.Spawn("a", sim.ActorOptions{}, func(a *sim.Actor) {
			f, err := fs.Open("/f")
			if !assert.NoError(t, err) {
				return
			}
			n, errRead = f.Read(make([]byte, 4))
			_, errReadAt = f.ReadAt(make([]byte, 4), 0)
			assert.NoError(t, f.Close())
		})
		runDone(t, s)
		requireEIO(t, errRead, "read")
		requireEIO(t, errReadAt, "read")
		require.Zero(t, n)
		require.Equal(t, 2, fs.Faults().EIO)
	})
	t.Run("write", func(t *testing.T) {
		opts := vfsmem.DefaultOptions()
		opts.Faults.WriteEIOPermille = 1000
		s, fs := setup(opts)
		var errWrite, errWriteAt error
		s.Spawn("a", sim.ActorOptions{}, func(a *sim.Actor) {
			f, err := fs.OpenReadWrite("/f")
			if !assert.NoError(t, err) {
				return
			}
			_, errWrite = f.Write([]byte("XXXXXXXX"))
			_, errWriteAt = f.WriteAt([]byte("YYYYYYYY"), 0)
			assert.NoError(t, f.Close())
		})
		runDone(t, s)
		requireEIO(t, errWrite, "write")
		requireEIO(t, errWriteAt, "write")
		require.Equal(t, 2, fs.Faults().EIO)
		require.Equal(t, []byte("data"), readFile(t, fs, "/f"), "a failed write changes nothing")
		du, err := fs.GetDiskUsage("/")
		require.NoError(t, err)
		require.EqualValues(t, 4, du.UsedBytes)
	})
	t.Run("transient", func(t *testing.T) {
		// At a partial rate some opens fail and a retry succeeds.
		opts := vfsmem.DefaultOptions()
		opts.Faults.OpenEIOPermille = 500
		s, fs := setup(opts)
		var failures, successes int
		s.Spawn("a", sim.ActorOptions{}, func(a *sim.Actor) {
			for successes < 20 {
				f, err := fs.Open("/f")
				if err != nil {
					assert.ErrorIs(t, err, syscall.EIO)
					failures++
					continue
				}
				successes++
				assert.NoError(t, f.Close())
			}
		})
		runDone(t, s)
		require.Positive(t, failures)
		require.Equal(t, failures, fs.Faults().EIO)
	})
}
