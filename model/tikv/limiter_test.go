package tikv

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

const tikvENOENTPanic = "called `Result::unwrap()` on an `Err` value: \"open: No such file or directory (os error 2)\""

func obsOfKind(obs []sim.Observation, k sim.Kind) []sim.Observation {
	var out []sim.Observation
	for _, o := range obs {
		if o.Kind == k {
			out = append(out, o)
		}
	}
	return out
}

func eventsWithOp(evs []sim.Event, op string) []sim.Event {
	var out []sim.Event
	for _, e := range evs {
		if e.Op == op {
			out = append(out, e)
		}
	}
	return out
}

// limiterScenario is the TiKV #18030 interleaving on slot 0: the watched
// generator ("snap-gen") makes a request at t=0 (its thread's entry is
// read: the tracker's baseline); at t=1ms the "churn" actor runs script
// (by default: slot 0's idle thread exits and a new one starts in the
// slot); at t=2ms the generator makes its next request, reading through
// the slot's cached path.
type limiterScenario struct {
	threads ThreadOptions
	limiter LimiterOptions
	script  func(a *sim.Actor, p *ThreadPool) error
	// second lists the slots of the requests made at t=2ms (default {0}).
	second []int
}

type limiterOutcome struct {
	res       sim.Result
	pool      *ThreadPool
	lim       *IOLimiter
	scriptErr error
	finished  bool // the generator returned (did not panic)
}

func (sc limiterScenario) run(t *testing.T, seed uint64) limiterOutcome {
	t.Helper()
	r := newThreadRig(t, seed, sc.threads)
	if sc.limiter.BytesPerSec == 0 {
		sc.limiter.BytesPerSec = 64 << 20 // 4 KiB take 61µs
	}
	if sc.script == nil {
		sc.script = func(a *sim.Actor, p *ThreadPool) error { return p.Replace(a, 0) }
	}
	if sc.second == nil {
		sc.second = []int{0}
	}
	out := limiterOutcome{pool: r.p, lim: NewIOLimiter(r.p, sc.limiter)}
	r.s.Spawn("snap-gen", sim.ActorOptions{Watched: true}, func(a *sim.Actor) {
		out.lim.Request(a, 0, 4096)
		a.Sleep(2*sim.Millisecond - r.s.Now())
		for _, slot := range sc.second {
			out.lim.Request(a, slot, 4096)
		}
		out.finished = true
	})
	r.s.Spawn("churn", sim.ActorOptions{}, func(a *sim.Actor) {
		a.Sleep(sim.Millisecond)
		out.scriptErr = sc.script(a, r.p)
	})
	out.res = r.s.Run()
	require.NoError(t, out.scriptErr)
	require.Equal(t, sim.EndDone, out.res.End)
	return out
}

// TiKV #18030: the slot's thread exits, a new thread with a different tid
// starts in the slot and inherits the cache entry; the unwrapped stats read
// opens the dead thread's procfs entry and panics.
func TestLimiterUnwrapPanicsOnInheritedCache(t *testing.T) {
	out := limiterScenario{limiter: LimiterOptions{Unwrap: true}}.run(t, 1)
	th, _ := out.pool.Thread(0)
	require.Equal(t, 1006, th.Tid, "the new thread got another tid")
	require.Equal(t, "/proc/1001/task/1002/io", out.pool.CachedStatsPath(0))
	require.False(t, out.finished)

	obs := out.res.Observations
	require.Len(t, obs, 2, "%v", obs)
	odf, panics := obsOfKind(obs, sim.KindOpenDeletedFile), obsOfKind(obs, sim.KindPanic)
	require.Len(t, odf, 1)
	require.Len(t, panics, 1)
	require.Equal(t, "snap-gen", odf[0].Actor)
	require.Contains(t, odf[0].Detail, "open /proc/1001/task/1002/io: removed at step")
	require.Contains(t, odf[0].Detail, "by churn: thread 1002 exited")
	require.Equal(t, "snap-gen", panics[0].Actor)
	require.Equal(t, tikvENOENTPanic+" [open /proc/1001/task/1002/io: file does not exist]", panics[0].Detail)
	require.Equal(t, odf[0].Step, panics[0].Step, "the open that fails is the one that panics")
	require.Equal(t, 1, out.lim.Stats().Requests, "the first request completed")
}

// The fix (IoBytesTracker): the same interleaving raises nothing; the
// interval is skipped and the request completes.
func TestLimiterGracefulSkipsInheritedCache(t *testing.T) {
	out := limiterScenario{}.run(t, 1)
	require.Empty(t, out.res.Observations)
	require.True(t, out.finished)
	st := out.lim.Stats()
	require.Equal(t, 2, st.Requests)
	require.Equal(t, 1, st.Skipped)
	require.Equal(t, 2*sim.Micros(4096*int64(sim.Second)/(64<<20)), st.Waited, "the skipped interval still waits")
	stats := eventsWithOp(out.res.Events, "io-stats")
	require.Len(t, stats, 2)
	require.Equal(t, "baseline", stats[0].Result)
	require.Equal(t, "stats unavailable, skipped", stats[1].Result)
	require.Equal(t, "slot 0 thread #5: open: No such file or directory (os error 2)", stats[1].Detail)
	// The graceful read is an expected miss: "open?" in the trace.
	var opens []string
	for _, e := range out.res.Events {
		if e.Class == sim.ClassIO && strings.HasPrefix(e.Op, "open") {
			opens = append(opens, e.Op+" "+e.Detail+" "+e.Result)
		}
	}
	require.Len(t, opens, 2)
	require.Equal(t, "open? /proc/1001/task/1002/io ok", opens[0])
	require.True(t, strings.HasPrefix(opens[1], "open? /proc/1001/task/1002/io open "), opens[1])
	require.True(t, strings.HasSuffix(opens[1], "file does not exist"), opens[1])
}

// If the replacement happens to get the dead thread's tid, the cached path
// exists again and nothing fails: the read returns the counters of the new
// thread, not of the thread that filled the cache (and whose counters the
// tracker's baseline came from). The model discards that delta (Rebased);
// TiKV would subtract the old thread's total from the new thread's.
func TestLimiterSameTidReadsNewThreadStats(t *testing.T) {
	out := limiterScenario{
		threads: ThreadOptions{TidPolicy: TidLowestFree},
		limiter: LimiterOptions{Unwrap: true},
	}.run(t, 1)
	th, _ := out.pool.Thread(0)
	require.Equal(t, 1002, th.Tid, "the replacement got the same tid")
	require.Equal(t, 5, th.Serial)
	require.Empty(t, out.res.Observations)
	require.True(t, out.finished)
	st := out.lim.Stats()
	require.Equal(t, LimiterStats{Requests: 2, Waited: st.Waited, Rebased: 1}, st)
	stats := eventsWithOp(out.res.Events, "io-stats")
	require.Len(t, stats, 2)
	require.Equal(t, "entry now belongs to thread #5 (was #1): delta discarded", stats[1].Result)
	start := eventsWithOp(out.res.Events, "thread-start")
	require.Len(t, start, 5, "4 in set-up, 1 by churn")
	require.Equal(t, "churn", start[4].Actor)
	require.Contains(t, start[4].Detail, "inherited from thread #1: same tid, by chance")
}

// The cached tid can also be recycled to a thread in another slot: the
// read then succeeds with that other thread's stats.
func TestLimiterReadsAnotherThreadsStats(t *testing.T) {
	out := limiterScenario{
		threads: ThreadOptions{TidPolicy: TidLowestFree},
		limiter: LimiterOptions{Unwrap: true},
		script: func(a *sim.Actor, p *ThreadPool) error {
			for _, step := range []func() error{
				func() error { return p.Exit(a, 0) },  // frees 1002
				func() error { return p.Exit(a, 1) },  // frees 1003
				func() error { return p.Start(a, 1) }, // gets 1002
				func() error { return p.Start(a, 0) }, // gets 1003
			} {
				if err := step(); err != nil {
					return err
				}
			}
			return nil
		},
		second: []int{0, 1},
	}.run(t, 1)
	require.Equal(t, 1003, tidOf(t, out.pool, 0))
	require.Equal(t, 1002, tidOf(t, out.pool, 1))
	require.Empty(t, out.res.Observations)
	st := out.lim.Stats()
	require.Equal(t, 3, st.Requests)
	require.Equal(t, 2, st.Foreign, "each slot read the other slot's thread")
	stats := eventsWithOp(out.res.Events, "io-stats")
	require.Len(t, stats, 3)
	require.Equal(t, "slot 0 thread #6: tid 1002 read_bytes=0", stats[1].Detail)
	require.Equal(t, "entry now belongs to thread #5 (was #1): delta discarded; stats of thread #5, not of the requester #6", stats[1].Result)
}

// Negative control: a cache that is not inherited (std thread_local!,
// destroyed at thread exit) never points at a dead thread.
func TestLimiterFreshCacheNeverPanics(t *testing.T) {
	out := limiterScenario{
		threads: ThreadOptions{FreshCachePerThread: true},
		limiter: LimiterOptions{Unwrap: true},
	}.run(t, 1)
	require.Empty(t, out.res.Observations)
	require.Equal(t, "/proc/1001/task/1006/io", out.pool.CachedStatsPath(0))
	require.Equal(t, 2, out.lim.Stats().Requests)
}

func TestLimiterWaitsAtRateAndTracksBytes(t *testing.T) {
	r := newThreadRig(t, 1, ThreadOptions{Workers: 1})
	lim := NewIOLimiter(r.p, LimiterOptions{BytesPerSec: 64 << 10})
	var before, after sim.Micros
	r.s.Spawn("snap-gen", sim.ActorOptions{Watched: true}, func(a *sim.Actor) {
		slot := r.p.Acquire(a)
		defer r.p.Release(a, slot)
		lim.Request(a, slot, 64<<10)
		before = r.s.Now()
		lim.Request(a, slot, 32<<10)
		after = r.s.Now()
	})
	res := r.s.Run()
	require.Empty(t, res.Observations)
	require.GreaterOrEqual(t, before, sim.Second)
	require.GreaterOrEqual(t, after-before, 500*sim.Millisecond)
	require.Less(t, after-before, 501*sim.Millisecond, "the stats read costs microseconds")
	require.Equal(t, LimiterStats{Requests: 2, Waited: 1500 * sim.Millisecond, Accounted: 32 << 10}, lim.Stats())
	th, _ := r.p.Thread(0)
	require.Equal(t, int64(96<<10), th.ReadBytes)
	require.Equal(t, int64(4), th.SyscR, "two I/Os and two stats reads")
	require.Equal(t, "graceful", lim.Variant())

	st, err := parseProcIO([]byte("rchar: 5\nread_bytes: 12\nwrite_bytes: 34\n"))
	require.NoError(t, err)
	require.Equal(t, IOStats{ReadBytes: 12, WriteBytes: 34}, st)
	_, err = parseProcIO([]byte("read_bytes: x\n"))
	require.ErrorContains(t, err, "parse read_bytes")
}

// churnRun is one seed of the randomized scenario: 4 workers churned every
// ~4ms (cyclic tids over 8 ids), and a watched generator that runs 3
// builds, each on a thread it acquires, of 4 requests of 4 KiB at 1 MiB/s.
func churnRun(seed uint64, threads ThreadOptions, lim LimiterOptions) (sim.Result, LimiterStats, int, error) {
	s := sim.New(sim.NewPRNG(seed), sim.Config{})
	fsys := vfsmem.New(s, vfsmem.DefaultOptions())
	threads.ChurnInterval = 4 * sim.Millisecond
	p, err := NewThreadPool(s, fsys, 1, threads)
	if err != nil {
		return sim.Result{}, LimiterStats{}, 0, err
	}
	lim.BytesPerSec = 1 << 20
	l := NewIOLimiter(p, lim)
	builds := 0
	s.Spawn("churn", sim.ActorOptions{Daemon: true}, p.ChurnLoop)
	s.Spawn("snap-gen", sim.ActorOptions{Watched: true}, func(a *sim.Actor) {
		for b := 0; b < 3; b++ {
			a.Sleep(sim.Micros(s.Intn(10_000)))
			slot := p.Acquire(a)
			for i := 0; i < 4; i++ {
				l.Request(a, slot, 4096)
			}
			p.Release(a, slot)
			builds++
		}
	})
	res := s.Run()
	return res, l.Stats(), builds, nil
}

func TestLimiterRandomizedSeeds(t *testing.T) {
	const seeds = 300
	var caught, skippedSeeds, foreignSeeds int
	for seed := uint64(1); seed <= seeds; seed++ {
		res, _, builds, err := churnRun(seed, ThreadOptions{}, LimiterOptions{Unwrap: true})
		require.NoError(t, err)
		panics := obsOfKind(res.Observations, sim.KindPanic)
		odf := obsOfKind(res.Observations, sim.KindOpenDeletedFile)
		if len(panics) == 0 {
			require.Empty(t, res.Observations, "seed %d", seed)
			require.Equal(t, 3, builds, "seed %d", seed)
			continue
		}
		caught++
		require.Len(t, panics, 1, "seed %d", seed)
		require.Len(t, odf, 1, "seed %d", seed)
		require.True(t, strings.HasPrefix(panics[0].Detail, tikvENOENTPanic), "seed %d: %s", seed, panics[0].Detail)
		require.Regexp(t, `^open /proc/1001/task/\d+/io: removed at step \d+ \(t=[^)]*\) by churn: thread \d+ exited$`, odf[0].Detail)

		// The fix on the same seed: nothing observed, every build done.
		res, st, builds, err := churnRun(seed, ThreadOptions{}, LimiterOptions{})
		require.NoError(t, err)
		require.Empty(t, res.Observations, "seed %d graceful", seed)
		require.Equal(t, 3, builds, "seed %d graceful", seed)
		require.Equal(t, 12, st.Requests)
		if st.Skipped > 0 {
			skippedSeeds++
		}
		if st.Foreign > 0 {
			foreignSeeds++
		}
	}
	// The graceful variant on every seed, and the fresh-cache control.
	for seed := uint64(1); seed <= seeds; seed++ {
		res, st, builds, err := churnRun(seed, ThreadOptions{}, LimiterOptions{})
		require.NoError(t, err)
		require.Empty(t, res.Observations, "seed %d graceful", seed)
		require.Equal(t, 3, builds)
		require.Equal(t, 12, st.Requests)
		res, _, _, err = churnRun(seed, ThreadOptions{FreshCachePerThread: true}, LimiterOptions{Unwrap: true})
		require.NoError(t, err)
		require.Empty(t, res.Observations, "seed %d fresh cache", seed)
	}
	frac := float64(caught) / seeds
	t.Logf("unwrap limiter panicked (with open-deleted-file) on %d/%d seeds (%.0f%%); graceful skipped an interval on %d of those, read another thread's stats on %d; graceful and fresh-cache: 0/%d",
		caught, seeds, 100*frac, skippedSeeds, foreignSeeds, seeds)
	require.Greater(t, frac, 0.2, "the bug is found often")
	require.Less(t, frac, 1.0, "not every schedule reaches it")
	require.Equal(t, caught, skippedSeeds, "where unwrap panics, graceful skips")
}

func TestLimiterDeterministic(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		a, sa, _, err := churnRun(seed, ThreadOptions{TidPolicy: TidRandom}, LimiterOptions{Unwrap: true})
		require.NoError(t, err)
		b, sb, _, err := churnRun(seed, ThreadOptions{TidPolicy: TidRandom}, LimiterOptions{Unwrap: true})
		require.NoError(t, err)
		require.Equal(t, a.TraceHash, b.TraceHash, "seed %d", seed)
		require.Equal(t, sa, sb)
		require.Equal(t, fmt.Sprint(stripObsStacks(a.Observations)), fmt.Sprint(stripObsStacks(b.Observations)))
	}
}

func stripObsStacks(obs []sim.Observation) []sim.Observation {
	out := append([]sim.Observation(nil), obs...)
	for i := range out {
		out[i].Stack = ""
	}
	return out
}
