package tikv

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
)

// Bounds of TestLongSweepNoLeak's heap check.
//
// The sweep runs the default lease-retry configuration; each seed allocates
// about 160 to 190 KB (BenchmarkSeed, B/op) and keeps nothing once Run
// returns. The live heap after a double runtime.GC is measured after the
// warm-up seeds (1..leakWarmSeeds: lazily built runtime and package state
// such as fmt's caches and type metadata settle there) and again after
// leakSweepSeeds; their difference must stay below leakHeapBound.
//
// Measured on the development machine, the difference is 7 to 18 KiB over
// the 1800 seeds (run to run) and about 23 KiB over 5800 (under 10 B per
// seed and flattening out, so not per-seed model state), nowhere near a
// megabyte. A bound of 1 MiB is more than 50 times that and cannot flake,
// while a real leak of L bytes per seed shows up as L·1800 bytes: the test
// catches any leak of about 600 bytes per seed or more (1 KiB per seed
// would be 1.8 MiB). A leaked coroutine is caught by the goroutine check
// whatever its size, and keeping a whole run's state (scheduler, actors,
// filesystems: the 60+ KiB of BenchmarkScaling's end-live-B) would be a
// hundred times over the bound.
const (
	leakWarmSeeds  = 200
	leakSweepSeeds = 2000
	leakHeapBound  = 1 << 20
)

// TestLongSweepNoLeak runs a long sweep of seeds and checks that nothing
// outlives a run: the goroutine count returns to its value before the sweep
// after every seed (actors are coroutines on iter.Pull, and the kernel must
// stop each one, even those still parked when the run ends), and the live
// heap does not grow between the warm-up and the end of the sweep (see
// leakHeapBound). Under -short only the goroutine check runs, over a
// shorter sweep.
func TestLongSweepNoLeak(t *testing.T) {
	cfg := DefaultConfig("lease-retry")
	g0 := runtime.NumGoroutine()
	seeds := uint64(leakSweepSeeds)
	if testing.Short() {
		seeds = leakWarmSeeds
	}
	var h0 uint64
	for seed := uint64(1); seed <= seeds; seed++ {
		out, err := Run(cfg, sim.NewPRNG(seed), sim.Config{})
		require.NoError(t, err)
		require.Equal(t, sim.EndDone, out.Result.End, "seed %d", seed)
		// At most g0: a goroutine of an earlier test (the runtime's, the
		// testing package's) may end during the sweep; a coroutine that
		// outlived its run is one more.
		require.LessOrEqual(t, settledGoroutines(g0), g0, "seed %d: a coroutine outlived its run", seed)
		if seed == leakWarmSeeds {
			h0 = liveHeap()
		}
	}
	if testing.Short() {
		return
	}
	h1 := liveHeap()
	growth := int64(h1) - int64(h0)
	t.Logf("live heap after seed %d: %d B; after seed %d: %d B; growth %+d B (%.1f B/seed; %+.0f B per 1000 seeds)",
		leakWarmSeeds, h0, seeds, h1, growth, float64(growth)/float64(seeds-leakWarmSeeds), 1000*float64(growth)/float64(seeds-leakWarmSeeds))
	assert.Less(t, growth, int64(leakHeapBound), "the live heap grew by %d B over %d seeds", growth, seeds-leakWarmSeeds)
}

// TestNoGoroutineLeakAcrossEndings checks that every way a run can end
// releases its coroutines: normal ends, panicking actors (naive), runs
// stopped at the first violation with actors still parked, runs cut by the
// step budget, and every profile (crashes restart actors, the PD actor,
// swarm draws).
func TestNoGoroutineLeakAcrossEndings(t *testing.T) {
	g0 := runtime.NumGoroutine()
	type variant struct {
		collector, profile string
		sc                 sim.Config
	}
	var variants []variant
	for _, p := range ProfileNames() {
		for _, coll := range []string{"naive", "lease-retry"} {
			variants = append(variants, variant{coll, p, sim.Config{}})
		}
	}
	variants = append(variants,
		variant{"naive", "default", sim.Config{StopOnViolation: true}},
		variant{"lease-retry", "default", sim.Config{MaxSteps: 50}})
	ends := map[string]bool{}
	for _, v := range variants {
		cfg, err := ProfileConfig(v.collector, v.profile)
		require.NoError(t, err)
		for seed := uint64(1); seed <= 20; seed++ {
			out, err := Run(cfg, sim.NewPRNG(seed), v.sc)
			require.NoError(t, err)
			ends[out.Result.End] = true
			// At most g0 (an earlier test's goroutine may end meanwhile);
			// a coroutine that outlived its run is one more.
			require.LessOrEqual(t, settledGoroutines(g0), g0, "%s/%s seed %d (%s): a coroutine outlived its run", v.collector, v.profile, seed, out.Result.End)
		}
	}
	for _, end := range []string{sim.EndDone, sim.EndViolation, sim.EndBudget} {
		assert.True(t, ends[end], "some run ended %q", end)
	}
}

// settledGoroutines returns the goroutine count once it is at most want, or
// after a second if it is not. Stopping an iter.Pull coroutine is
// synchronous, so the count is normally right at once; the grace only keeps
// a goroutine that is exiting on its own (none of the model's) from failing
// the check.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(time.Millisecond)
	}
	return n
}
