package sim

import (
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func requireSameRun(t *testing.T, want, got Result, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, want.TraceHash, got.TraceHash, msgAndArgs...)
	require.Equal(t, want.Events, got.Events, msgAndArgs...)
	require.Equal(t, want.Steps, got.Steps, msgAndArgs...)
	require.Equal(t, want.Time, got.Time, msgAndArgs...)
	require.Equal(t, want.End, got.End, msgAndArgs...)
	require.Equal(t, want.EventCount, got.EventCount, msgAndArgs...)
	require.Equal(t, withoutStacks(want.Observations), withoutStacks(got.Observations), msgAndArgs...)
}

var determinismStrategies = []Strategy{
	{Name: "random"},
	{Name: "pct", Depth: 1},
	{Name: "pct", Depth: 3, Horizon: 100},
}

// TestWorkloadIsExercised guards the workload itself: across seeds it must
// sleep, park, record, spawn, panic now and then, and finish.
func TestWorkloadIsExercised(t *testing.T) {
	ends := map[string]int{}
	panics, events := 0, 0
	for seed := uint64(0); seed < 60; seed++ {
		res := runWorkload(NewPRNG(seed), Config{KeepTrace: true})
		ends[res.End]++
		events += len(res.Events)
		assert.Greater(t, res.Time, Micros(0), "seed %d: virtual time advanced", seed)
		for _, o := range res.Observations {
			require.Equal(t, KindPanic, o.Kind, "seed %d: %+v", seed, o)
			panics++
		}
	}
	assert.Equal(t, 60, ends[EndDone], "ends: %v", ends)
	assert.Greater(t, panics, 0, "some seeds inject a panic")
	assert.Greater(t, events, 60*10)
}

func TestSameSeedSameRun(t *testing.T) {
	for _, st := range determinismStrategies {
		for seed := uint64(0); seed < 25; seed++ {
			a := runWorkload(NewPRNG(seed), Config{KeepTrace: true, Strategy: st})
			b := runWorkload(NewPRNG(seed), Config{KeepTrace: true, Strategy: st})
			requireSameRun(t, a, b, "strategy %s seed %d", st, seed)
		}
	}
}

func TestDifferentSeedsDifferentHashes(t *testing.T) {
	for _, st := range determinismStrategies {
		hashes := map[uint64]bool{}
		const seeds = 40
		for seed := uint64(0); seed < seeds; seed++ {
			hashes[runWorkload(NewPRNG(seed), Config{Strategy: st}).TraceHash] = true
		}
		assert.GreaterOrEqual(t, len(hashes), seeds*9/10, "strategy %s: only %d distinct hashes of %d", st, len(hashes), seeds)
	}
}

func TestHashIndependentOfGOMAXPROCS(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	var want []Result
	for _, procs := range []int{1, 4, 1, 8} {
		runtime.GOMAXPROCS(procs)
		var got []Result
		for seed := uint64(100); seed < 110; seed++ {
			got = append(got, runWorkload(NewPRNG(seed), Config{KeepTrace: true}))
		}
		if want == nil {
			want = got
			continue
		}
		for i := range got {
			requireSameRun(t, want[i], got[i], "GOMAXPROCS %d seed %d", procs, 100+i)
		}
	}
}

// TestConcurrentSimulationsDoNotInterfere runs many simulations in parallel
// goroutines (as a seed sweep does): there must be no shared global state.
func TestConcurrentSimulationsDoNotInterfere(t *testing.T) {
	const seeds = 16
	want := make([]Result, seeds)
	for i := range want {
		want[i] = runWorkload(NewPRNG(uint64(i)), Config{KeepTrace: true})
	}
	prev := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(prev)
	got := make([]Result, seeds)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = runWorkload(NewPRNG(uint64(i)), Config{KeepTrace: true})
		}()
	}
	wg.Wait()
	for i := range got {
		requireSameRun(t, want[i], got[i], "seed %d", i)
	}
}
