package cli

// The parallel seed sweep behind run: seeds run on worker goroutines (each
// model run has its own scheduler and filesystem, so runs are independent),
// and their results are folded into the report strictly in seed order, so
// the report never depends on the number of workers or on scheduling.

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// seedResult is one seed's outcome: what run folds into its report and what
// --out writes, one JSON line per seed.
type seedResult struct {
	Seed uint64 `json:"seed"`
	// Outcome is "ok" (finished, nothing observed), "violation" or
	// "incomplete" (nothing observed, but the step budget ran out before
	// the run finished: not a clean seed).
	Outcome string `json:"outcome"`
	// Kinds are the distinct violation kinds the seed showed, in the order
	// of sim.Kinds.
	Kinds []sim.Kind `json:"kinds,omitempty"`
	// Kind, Step and Detail are the first observation's.
	Kind       sim.Kind          `json:"kind,omitempty"`
	Step       int64             `json:"step,omitempty"`
	Detail     string            `json:"detail,omitempty"`
	TraceHash  string            `json:"trace_hash"`
	Steps      int64             `json:"steps"`
	Violations []sim.Observation `json:"violations,omitempty"`
}

// Seed outcomes, part of the JSON contract.
const (
	outcomeOK         = "ok"
	outcomeViolation  = "violation"
	outcomeIncomplete = "incomplete"
)

func (r *seedResult) violated() bool   { return r.Outcome == outcomeViolation }
func (r *seedResult) incomplete() bool { return r.Outcome == outcomeIncomplete }

// newSeedResult summarises one model run.
func newSeedResult(seed uint64, out *model.Outcome) seedResult {
	r := seedResult{Seed: seed, Outcome: outcomeWord(out), TraceHash: sim.FormatHash(out.Result.TraceHash), Steps: out.Result.Steps}
	if out.Violated() {
		o := out.Result.Observations[0]
		r.Kind, r.Step, r.Detail = o.Kind, o.Step, o.Detail
		r.Violations = stripStacks(out.Result.Observations)
		for _, k := range sim.Kinds {
			for _, o := range out.Result.Observations {
				if o.Kind == k {
					r.Kinds = append(r.Kinds, k)
					break
				}
			}
		}
	}
	return r
}

// seedPlan is the seeds one process runs: shard i of n of START..START+N-1,
// seed k belonging to shard (k-START) mod n.
type seedPlan struct {
	first, n      uint64 // the whole range
	shard, shards uint64 // shards >= 1
}

// count is how many seeds the shard holds.
func (p seedPlan) count() uint64 {
	if p.shard >= p.n {
		return 0
	}
	return (p.n-p.shard-1)/p.shards + 1
}

// seed is the shard's j-th seed.
func (p seedPlan) seed(j uint64) uint64 { return p.first + p.shard + j*p.shards }

// sweepSeeds runs the plan's seeds on workers goroutines with run and calls
// fold with each result in seed order. fold returns false to stop the sweep
// (a first violation without --keep-going): seeds above it are no longer
// dispatched, seeds below it still finish and are folded first, so the
// lowest stopping seed always wins. A run error stops the sweep the same
// way and is returned when it is reached in seed order.
//
// When ctx is cancelled (a first SIGINT/SIGTERM) no further seed is
// dispatched; the seeds already running finish and are folded, so the
// folded seeds are always a prefix of the plan. When ctx's abort channel
// closes (a second signal), sweepSeeds returns at once with what it has
// folded, leaving the running seeds behind (the process is about to exit).
func sweepSeeds(ctx context.Context, plan seedPlan, workers int, stopOnViolation bool, run func(seed uint64) (seedResult, error), fold func(seedResult) bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	abort := abortChan(ctx)
	total := plan.count()
	var next atomic.Uint64
	var limit atomic.Uint64 // dispatch only indices below limit
	limit.Store(total)
	lower := func(to uint64) {
		for {
			cur := limit.Load()
			if to >= cur || limit.CompareAndSwap(cur, to) {
				return
			}
		}
	}
	type item struct {
		j   uint64
		r   seedResult
		err error
	}
	results := make(chan item, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if ctx.Err() != nil {
					return
				}
				j := next.Add(1) - 1
				if j >= limit.Load() {
					return
				}
				r, err := run(plan.seed(j))
				if err != nil || (stopOnViolation && r.violated()) {
					// Nothing above j can matter any more; seeds below it
					// are already dispatched and still finish.
					lower(j + 1)
				}
				results <- item{j, r, err}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	pending := map[uint64]item{}
	want := uint64(0)
	stopped := false
	var firstErr error
	for {
		var it item
		var ok bool
		select {
		case it, ok = <-results:
		case <-abort:
			return firstErr
		}
		if !ok {
			break
		}
		if stopped {
			continue // drain
		}
		pending[it.j] = it
		for !stopped {
			cur, ok := pending[want]
			if !ok {
				break
			}
			delete(pending, want)
			want++
			if cur.err != nil {
				firstErr = cur.err
				stopped = true
			} else if !fold(cur.r) {
				stopped = true
			}
			if stopped {
				lower(want)
			}
		}
	}
	return firstErr
}
