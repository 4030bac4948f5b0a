package properties

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/seeds"
	"github.com/snapsim/snapsim/sim"
)

// The exhaustive counterpart of the sampling properties: instead of rapid
// drawing schedules, sim.Explore runs every execution of a small scope
// within bounds (simrun check). "Verified" here is within the scope and the
// bounds only.

// scopeProgram is the model under scope for collector as an explorer's
// Program.
func scopeProgram(t *testing.T, scope, collector string, v model.Variants, nonAtomic bool) (sim.Program, *seeds.Scope, model.Config) {
	t.Helper()
	s, ok := seeds.BuiltinScope(scope)
	if !ok {
		t.Fatalf("no built-in scope %q", scope)
	}
	cfg, err := s.Config(collector, v, nonAtomic)
	if err != nil {
		t.Fatal(err)
	}
	return func(ch sim.Choice, sc sim.Config) (sim.Result, error) {
		out, err := model.Run(cfg, ch, sc)
		return out.Result, err
	}, s, cfg
}

// goroutines is a ForEach over n workers (the explorer starts none).
func goroutines(workers int) func(n int, do func(i int)) {
	return func(n int, do func(i int)) {
		var next atomic.Int64
		var wg sync.WaitGroup
		for g := 0; g < workers; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
					do(i)
				}
			}()
		}
		wg.Wait()
	}
}

// explore runs opt over shards explorations and concludes them.
func explore(t *testing.T, prog sim.Program, opt sim.Options, shards int) sim.Verdict {
	t.Helper()
	var parts []*sim.Exploration
	for sh := 0; sh < max(shards, 1); sh++ {
		o := opt
		o.Shard, o.Shards = sh, max(shards, 1)
		ex, err := sim.Explore(prog, o)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, ex)
	}
	v, err := sim.Conclude(parts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// deterministicCounts drops the work figure (steps), which depends on how
// the exploration was split.
func deterministicCounts(c sim.Counts) sim.Counts {
	c.Steps = 0
	return c
}

// TestExhaustiveReportLeaseRetry: lease-retry opens no deleted file (and
// shows no other observation) in any execution of the report scope with at
// most 2 delays; the exploration's counts are the same on every run, with
// one worker or two, whole or in two shards.
func TestExhaustiveReportLeaseRetry(t *testing.T) {
	prog, s, _ := scopeProgram(t, "report", "lease-retry", model.Variants{}, false)
	opt := sim.Options{Bounds: s.Bounds}
	if opt.Delays != 2 {
		t.Fatalf("the report scope's bound is %d delays; the README's figures are at 2", opt.Delays)
	}
	whole := explore(t, prog, opt, 1)
	if whole.Outcome != sim.OutcomeVerified {
		t.Fatalf("lease-retry on the report scope: %s (%s, %+v)", whole.Outcome, whole.Reason, whole.Counterexample)
	}
	if whole.Counts.Executions < 1000 {
		t.Fatalf("only %d executions at K=2: the scope explores less than it did when the README was written", whole.Counts.Executions)
	}
	again := explore(t, prog, opt, 1)
	two := opt
	two.ForEach = goroutines(2)
	parallel := explore(t, prog, two, 1)
	sharded := explore(t, prog, opt, 2)
	for name, v := range map[string]sim.Verdict{"again": again, "2 workers": parallel, "2 shards": sharded} {
		if v.Outcome != whole.Outcome || deterministicCounts(v.Counts) != deterministicCounts(whole.Counts) {
			t.Errorf("%s: %s %+v; the first exploration: %s %+v", name, v.Outcome, v.Counts, whole.Outcome, whole.Counts)
		}
	}
	t.Logf("lease-retry verified on the report scope at K=2: %d executions, %d pruned, %d runs cut by the sleep sets",
		whole.Counts.Executions, whole.Counts.Pruned, whole.Counts.Blocked)
}

// TestExhaustiveReportNaive: naive is caught on the report scope with the
// fewest delays that can catch it (one: no execution without a delay shows
// anything), the counterexample is the report's bug, and its draws replay
// it under the random strategy with the same trace hash.
func TestExhaustiveReportNaive(t *testing.T) {
	prog, s, cfg := scopeProgram(t, "report", "naive", model.Variants{}, false)
	v := explore(t, prog, sim.Options{Bounds: s.Bounds}, 1)
	if v.Outcome != sim.OutcomeCounterexample {
		t.Fatalf("naive on the report scope: %s, want a counterexample", v.Outcome)
	}
	ce := v.Counterexample
	if ce.Delays != 1 || ce.Level != 1 || v.PerLevel[0].Executions != 1 {
		t.Fatalf("counterexample with %d delays at level %d (level 0: %+v); want 1 delay, level 0 clean", ce.Delays, ce.Level, v.PerLevel[0])
	}
	first := ce.Result.Observations[0]
	if first.Kind != sim.KindOpenDeletedFile || first.Actor != "snap-gen" {
		t.Fatalf("first observation %s by %s; want open-deleted-file by snap-gen", first.Kind, first.Actor)
	}
	out, err := model.Run(cfg, sim.NewLog(ce.Draws), sim.Config{MaxSteps: s.Bounds.MaxSteps, StopOnViolation: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Result.Observations) == 0 || out.Result.Observations[0].Kind != first.Kind || out.Result.TraceHash != ce.Result.TraceHash {
		t.Fatalf("the counterexample's draws replay to %v (hash %x); want %s (hash %x)", out.Result.Observations, out.Result.TraceHash, first.Kind, ce.Result.TraceHash)
	}
}

// TestExhaustiveCatchesWhatSamplingMisses is the negative control of the
// exhaustive check: a weakened lease-retry (its lease check and its open
// in two steps, --non-atomic-check) on the lease-stall scope with stalls on
// 0.5% of filesystem calls. The explorer tries a stall at every call (a
// fault is a branch, whatever its rate) and catches the open of a deleted
// file with one delay and one fault; random sampling of as many seeds as
// the explorer made runs sees nothing.
func TestExhaustiveCatchesWhatSamplingMisses(t *testing.T) {
	s, _ := seeds.BuiltinScope("lease-stall")
	cfg, err := s.Config("lease-retry", model.Variants{}, true)
	if err != nil {
		t.Fatal(err)
	}
	cfg.FS.Faults.StallPermille = 5
	prog := func(ch sim.Choice, sc sim.Config) (sim.Result, error) {
		out, err := model.Run(cfg, ch, sc)
		return out.Result, err
	}
	v := explore(t, prog, sim.Options{Bounds: s.Bounds}, 1)
	if v.Outcome != sim.OutcomeCounterexample || v.Counterexample.Result.Observations[0].Kind != sim.KindOpenDeletedFile {
		t.Fatalf("weakened lease-retry on lease-stall: %s; want an open-deleted-file counterexample", v.Outcome)
	}
	ce := v.Counterexample
	runs := v.Total.Runs()
	hits := 0
	for seed := uint64(1); seed <= uint64(runs); seed++ {
		out, err := model.Run(cfg, sim.NewPRNG(seed), sim.Config{MaxSteps: s.Bounds.MaxSteps, StopOnViolation: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Result.Observations) > 0 {
			hits++
		}
	}
	if hits != 0 {
		t.Fatalf("random sampling found the weakened design in %d of %d seeds: the comparison no longer shows what exhaustive checking adds", hits, runs)
	}
	// The intact design is verified at the same bounds.
	intact, _ := s.Config("lease-retry", model.Variants{}, false)
	intact.FS.Faults.StallPermille = 5
	okProg := func(ch sim.Choice, sc sim.Config) (sim.Result, error) {
		out, err := model.Run(intact, ch, sc)
		return out.Result, err
	}
	opt := sim.Options{Bounds: s.Bounds}
	opt.Delays = ce.Level
	if w := explore(t, okProg, opt, 1); w.Outcome != sim.OutcomeVerified {
		t.Fatalf("lease-retry with the atomic check on the same scope at K=%d: %s", ce.Level, w.Outcome)
	}
	t.Logf("exhaustive: caught after %d runs with %d delays and %d faults; random: 0 of %d seeds", runs, ce.Delays, ce.Faults, runs)
}
