package tikv

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// threadRig is a node's thread pool on its own kernel and filesystem.
type threadRig struct {
	s  *sim.Scheduler
	fs *vfsmem.FS
	p  *ThreadPool
}

func newThreadRig(t *testing.T, seed uint64, opts ThreadOptions) *threadRig {
	t.Helper()
	s := sim.New(sim.NewPRNG(seed), sim.Config{KeepTrace: true})
	fs := vfsmem.New(s, vfsmem.DefaultOptions())
	p, err := NewThreadPool(s, fs, 1, opts)
	require.NoError(t, err)
	return &threadRig{s: s, fs: fs, p: p}
}

// procContent reads a file outside any actor.
func procContent(t *testing.T, fs *vfsmem.FS, p string) string {
	t.Helper()
	f, err := fs.Open(p)
	require.NoError(t, err)
	b := make([]byte, 512)
	n, _ := f.ReadAt(b, 0)
	require.NoError(t, f.Close())
	return string(b[:n])
}

func procExists(fs *vfsmem.FS, p string) bool {
	_, err := fs.Stat(p)
	return err == nil
}

func tidOf(t *testing.T, p *ThreadPool, slot int) int {
	t.Helper()
	th, ok := p.Thread(slot)
	require.True(t, ok, "slot %d has no live thread", slot)
	return th.Tid
}

func TestThreadPoolSetup(t *testing.T) {
	r := newThreadRig(t, 1, ThreadOptions{})
	require.Equal(t, 1001, r.p.Pid())
	require.Equal(t, 4, r.p.Workers())
	require.Equal(t, DefaultThreadOptions(), r.p.Options())
	for slot := 0; slot < 4; slot++ {
		th, ok := r.p.Thread(slot)
		require.True(t, ok)
		require.Equal(t, 1002+slot, th.Tid)
		require.Equal(t, slot+1, th.Serial)
		path := fmt.Sprintf("/proc/1001/task/%d/io", th.Tid)
		require.Equal(t, path, r.p.StatsPath(th.Tid))
		require.Equal(t, path, r.p.CachedStatsPath(slot), "the start hook fills the cache")
		require.Equal(t,
			"rchar: 0\nwchar: 0\nsyscr: 0\nsyscw: 0\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n",
			procContent(t, r.fs, path))
		h := r.fs.History(path)
		require.Len(t, h, 1)
		require.Equal(t, vfsmem.LifeCreated, h[0].Op)
		require.Equal(t, "setup", h[0].Actor)
	}
	require.Equal(t, 4, r.p.Starts())
	require.Zero(t, r.s.Step(), "set-up takes no scheduling points")

	_, err := NewThreadPool(r.s, r.fs, 2, ThreadOptions{Workers: 4, TidRange: 3})
	require.ErrorContains(t, err, "tid_range (3) must be >= workers (4)")
	_, err = NewThreadPool(r.s, r.fs, 2, ThreadOptions{TidPolicy: "fifo"})
	require.ErrorContains(t, err, `unknown tid policy "fifo"`)
}

// A thread exit removes its procfs entry; the ledger says who and why.
func TestThreadExitRemovesProcFile(t *testing.T) {
	r := newThreadRig(t, 1, ThreadOptions{})
	var exitErr, startErr error
	var newTid int
	r.s.Spawn("churn", sim.ActorOptions{}, func(a *sim.Actor) {
		a.Sleep(100 * sim.Microsecond)
		exitErr = r.p.Exit(a, 1)
		_, live := r.p.Thread(1)
		assert.False(t, live, "no thread between exit and start")
		startErr = r.p.Start(a, 1)
		th, _ := r.p.Thread(1)
		newTid = th.Tid
	})
	res := r.s.Run()
	require.NoError(t, exitErr)
	require.NoError(t, startErr)
	require.Empty(t, res.Observations)

	old := "/proc/1001/task/1003/io"
	require.False(t, procExists(r.fs, old))
	ev, deleted := r.fs.Deleted(old)
	require.True(t, deleted)
	require.Equal(t, "churn", ev.Actor)
	require.Equal(t, "thread 1003 exited", ev.Why)
	require.Contains(t, ev.String(), "by churn: thread 1003 exited")
	dirEv, deleted := r.fs.Deleted("/proc/1001/task/1003")
	require.True(t, deleted, "the task directory goes too")
	require.Equal(t, "thread 1003 exited", dirEv.Why)

	require.Equal(t, 1006, newTid, "cyclic allocation: the next id after the last handed out")
	require.True(t, procExists(r.fs, r.p.StatsPath(1006)))
	require.Equal(t, old, r.p.CachedStatsPath(1), "the cache entry is inherited, not refreshed")
	require.Equal(t, 1, r.p.Exits())
	require.Equal(t, 5, r.p.Starts())

	var trace strings.Builder
	for _, e := range res.Events {
		if (e.Op == "thread-start" || e.Op == "thread-exit") && e.Actor != "setup" {
			fmt.Fprintf(&trace, "%s %s %s\n", e.Actor, e.Op, e.Detail)
		}
	}
	require.Equal(t, "churn thread-exit slot 1: thread #2 tid 1003\n"+
		"churn thread-start slot 1: thread #5 tid 1006; cache /proc/1001/task/1003/io inherited from thread #2 (tid 1003): stale\n",
		trace.String())
}

// replaceSeq runs Replace on each slot in order, recording the new tids.
func replaceSeq(t *testing.T, r *threadRig, slots []int) []int {
	t.Helper()
	var tids []int
	var errs []error
	r.s.Spawn("churn", sim.ActorOptions{}, func(a *sim.Actor) {
		for _, slot := range slots {
			errs = append(errs, r.p.Replace(a, slot))
			th, _ := r.p.Thread(slot)
			tids = append(tids, th.Tid)
		}
	})
	r.s.Run()
	for _, err := range errs {
		require.NoError(t, err)
	}
	return tids
}

func TestThreadTidRecycling(t *testing.T) {
	t.Run("cyclic", func(t *testing.T) {
		// 4 workers share 1002..1009; 1002..1005 are taken at start.
		r := newThreadRig(t, 1, ThreadOptions{})
		tids := replaceSeq(t, r, []int{0, 1, 2, 3, 0, 1})
		// New ids until the range wraps; then the freed ids come back:
		// slot 0's third thread gets 1002, its first thread's id.
		require.Equal(t, []int{1006, 1007, 1008, 1009, 1002, 1003}, tids)
		require.Equal(t, "/proc/1001/task/1002/io", r.p.CachedStatsPath(0))
		require.True(t, procExists(r.fs, "/proc/1001/task/1002/io"), "the recycled tid has its entry again")
		h := r.fs.History("/proc/1001/task/1002/io")
		require.Len(t, h, 3)
		require.Equal(t, []vfsmem.LifeOp{vfsmem.LifeCreated, vfsmem.LifeRemoved, vfsmem.LifeCreated},
			[]vfsmem.LifeOp{h[0].Op, h[1].Op, h[2].Op})
	})
	t.Run("lowest-free", func(t *testing.T) {
		r := newThreadRig(t, 1, ThreadOptions{TidPolicy: TidLowestFree})
		tids := replaceSeq(t, r, []int{0, 2, 0})
		require.Equal(t, []int{1002, 1004, 1002}, tids, "one at a time, a replacement gets the freed id")
	})
	t.Run("random", func(t *testing.T) {
		r := newThreadRig(t, 7, ThreadOptions{TidPolicy: TidRandom})
		tids := replaceSeq(t, r, []int{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3})
		again := replaceSeq(t, newThreadRig(t, 7, ThreadOptions{TidPolicy: TidRandom}), []int{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3})
		require.Equal(t, tids, again, "deterministic for a seed")
		seen := map[int]bool{}
		for _, tid := range tids {
			require.True(t, tid >= 1002 && tid <= 1009, "tid %d out of range", tid)
			seen[tid] = true
		}
		require.Greater(t, len(seen), 4, "ids are spread over the range")
		for slot := 0; slot < 4; slot++ {
			for other := slot + 1; other < 4; other++ {
				require.NotEqual(t, tidOf(t, r.p, slot), tidOf(t, r.p, other), "live tids are distinct")
			}
		}
	})
	t.Run("range equal to workers", func(t *testing.T) {
		r := newThreadRig(t, 1, ThreadOptions{Workers: 2, TidRange: 2})
		require.Equal(t, []int{1002, 1003, 1002}, replaceSeq(t, r, []int{0, 1, 0}))
	})
}

// A held thread cannot exit; churn skips it; Acquire parks until a thread
// is idle.
func TestThreadHoldBlocksExit(t *testing.T) {
	r := newThreadRig(t, 3, ThreadOptions{Workers: 1})
	var exitErr error
	var order []string
	r.s.Spawn("gen", sim.ActorOptions{}, func(a *sim.Actor) {
		slot := r.p.Acquire(a)
		order = append(order, "gen acquired")
		a.Sleep(sim.Millisecond)
		order = append(order, "gen releases")
		r.p.Release(a, slot)
	})
	r.s.Spawn("churn", sim.ActorOptions{}, func(a *sim.Actor) {
		a.Sleep(100 * sim.Microsecond)
		exitErr = r.p.Exit(a, 0)
	})
	r.s.Spawn("gen2", sim.ActorOptions{}, func(a *sim.Actor) {
		a.Sleep(200 * sim.Microsecond)
		slot := r.p.Acquire(a) // parks until gen releases
		order = append(order, "gen2 acquired")
		r.p.Release(a, slot)
	})
	res := r.s.Run()
	require.Equal(t, sim.EndDone, res.End)
	require.ErrorContains(t, exitErr, "is running a task of gen")
	require.Equal(t, []string{"gen acquired", "gen releases", "gen2 acquired"}, order)
}

func TestThreadChurnLoop(t *testing.T) {
	r := newThreadRig(t, 11, ThreadOptions{ChurnInterval: sim.Millisecond})
	r.s.Spawn("churn", sim.ActorOptions{Daemon: true}, r.p.ChurnLoop)
	r.s.Spawn("clock", sim.ActorOptions{}, func(a *sim.Actor) {
		a.Sleep(50 * sim.Millisecond)
		r.p.StopChurn()
	})
	res := r.s.Run()
	require.Equal(t, sim.EndDone, res.End)
	require.Empty(t, res.Observations)
	// Pauses are drawn in [0.5ms, 1.5ms]: 50ms hold 34..100 replacements.
	require.GreaterOrEqual(t, r.p.Exits(), 34)
	require.LessOrEqual(t, r.p.Exits(), 100)
	// Exactly the live threads have entries.
	live := 0
	for tid := 1002; tid <= 1009; tid++ {
		if procExists(r.fs, r.p.StatsPath(tid)) {
			live++
			require.NotNil(t, r.p.owner(tid))
		}
	}
	require.Equal(t, 4, live)

	off := newThreadRig(t, 11, ThreadOptions{})
	off.s.Spawn("churn", sim.ActorOptions{}, off.p.ChurnLoop)
	off.s.Run()
	require.Zero(t, off.p.Exits(), "no interval: ChurnLoop returns at once")
}

// After a crash the unsynced procfs entries are gone (lost-in-crash). A
// process restart replaces every thread and drops the thread-local cache,
// so the stats reads work again; without it the unwrap limiter would
// panic on the lost entry.
func TestThreadPoolRestartAfterCrash(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprintf("restart=%v", restart), func(t *testing.T) {
			r := newThreadRig(t, 5, ThreadOptions{})
			lim := NewIOLimiter(r.p, LimiterOptions{BytesPerSec: 1 << 20, Unwrap: true})
			var restartErr error
			r.s.Spawn("crasher", sim.ActorOptions{}, func(a *sim.Actor) {
				r.fs.Crash()
				if restart {
					restartErr = r.p.Restart(a)
				}
			})
			r.s.Spawn("snap-gen", sim.ActorOptions{Watched: true}, func(a *sim.Actor) {
				a.Sleep(10 * sim.Millisecond)
				lim.Request(a, 0, 4096)
			})
			res := r.s.Run()
			require.NoError(t, restartErr)
			ev, lost := r.fs.Deleted("/proc/1001/task/1002/io")
			if !restart {
				require.True(t, lost)
				require.Equal(t, vfsmem.LifeLostCrash, ev.Op)
				require.Len(t, res.Observations, 2)
				require.Contains(t, res.Observations[0].Detail, "lost-in-crash")
				require.Equal(t, sim.KindPanic, res.Observations[1].Kind)
				return
			}
			require.Empty(t, res.Observations)
			require.Equal(t, 1, lim.Stats().Requests)
			for slot := 0; slot < 4; slot++ {
				th, ok := r.p.Thread(slot)
				require.True(t, ok)
				require.Equal(t, 1006+slot, th.Tid)
				require.Equal(t, r.p.StatsPath(th.Tid), r.p.CachedStatsPath(slot), "a new process has a new cache")
				require.True(t, procExists(r.fs, r.p.StatsPath(th.Tid)))
			}
		})
	}
}

// TestProcIOFormat: the stats file is the kernel's format, byte for byte
// what the fmt rendering it replaced produced (trace hashes hash file
// contents through the limiter's reads).
func TestProcIOFormat(t *testing.T) {
	for _, ti := range []ThreadInfo{{}, {RChar: 1, WChar: 22, SyscR: 333, SyscW: 4444, ReadBytes: 1 << 40, WriteBytes: -7}} {
		want := fmt.Sprintf("rchar: %d\nwchar: %d\nsyscr: %d\nsyscw: %d\nread_bytes: %d\nwrite_bytes: %d\ncancelled_write_bytes: 0\n",
			ti.RChar, ti.WChar, ti.SyscR, ti.SyscW, ti.ReadBytes, ti.WriteBytes)
		assert.Equal(t, want, string(appendProcIO(nil, ti)))
	}
}
