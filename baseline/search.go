package baseline

import (
	"context"
	"fmt"
	"time"

	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
)

// SearchResult is the outcome of a search for a bug, by the simulator
// (SimSearch) or by the free-goroutine stress test (FreeSearch).
type SearchResult struct {
	// Found reports whether the bug showed; Seed is the seed of the run
	// that showed it, Obs the observation and TraceHash that run's trace
	// hash (meaningful for the simulator only: a free run's trace is not
	// reproducible).
	Found     bool
	Seed      uint64
	Obs       sim.Observation
	TraceHash uint64
	// Elapsed is the wall time to the failure (or to the limit).
	Elapsed time.Duration
	// Seeds and Steps count the runs and scheduling points executed.
	Seeds int
	Steps int64
}

// SimSearch runs seeds first, first+1, ... of bug.Config under the
// deterministic kernel with strategy st until the bug shows or limit passes.
func SimSearch(ctx context.Context, bug Bug, st sim.Strategy, first uint64, limit time.Duration) (SearchResult, error) {
	sc := sim.Config{Strategy: st, StopOnViolation: true, MaxSteps: sim.DefaultMaxSteps}
	return search(ctx, bug, first, limit, func(seed uint64) (tikv.Outcome, error) {
		return tikvSys.Simulate(bug.Config, sim.NewPRNG(seed), sc)
	})
}

// search is the loop both searches share: run seeds in order until one
// shows the bug or limit passes.
func search(ctx context.Context, bug Bug, first uint64, limit time.Duration, run func(seed uint64) (tikv.Outcome, error)) (SearchResult, error) {
	start := time.Now()
	var res SearchResult
	for seed := first; time.Since(start) < limit && ctx.Err() == nil; seed++ {
		out, err := run(seed)
		if err != nil {
			return res, fmt.Errorf("%s seed %d: %w", bug.Name, seed, err)
		}
		res.Seeds++
		res.Steps += out.Result.Steps
		if o, ok := bug.Hit(out.Result.Observations); ok {
			res.Found, res.Seed, res.Obs, res.TraceHash = true, seed, o, out.Result.TraceHash
			break
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}
