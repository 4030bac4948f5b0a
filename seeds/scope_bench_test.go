package seeds

import (
	"testing"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// benchCheck explores scope with collector (and variants) at the scope's
// bounds, in one walk per level on one core, b.N times, and reports
// executions per second and per check.
func benchCheck(b *testing.B, scope, collector string, v model.Variants, nonAtomic bool, want string) {
	s, ok := BuiltinScope(scope)
	if !ok {
		b.Fatalf("no scope %s", scope)
	}
	cfg, err := s.Config(collector, v, nonAtomic)
	if err != nil {
		b.Fatal(err)
	}
	prog := func(ch sim.Choice, sc sim.Config) (sim.Result, error) {
		out, err := model.Run(cfg, ch, sc)
		return out.Result, err
	}
	b.ReportAllocs()
	var runs, execs int64
	for i := 0; i < b.N; i++ {
		ex, err := sim.Explore(prog, sim.Options{Bounds: s.Bounds})
		if err != nil {
			b.Fatal(err)
		}
		verdict, err := sim.Conclude([]*sim.Exploration{ex})
		if err != nil {
			b.Fatal(err)
		}
		if verdict.Outcome != want {
			b.Fatalf("%s %s: %s, want %s", scope, collector, verdict.Outcome, want)
		}
		runs += verdict.Total.Runs()
		execs += verdict.Counts.Executions
	}
	b.ReportMetric(float64(runs)/b.Elapsed().Seconds(), "runs/s")
	b.ReportMetric(float64(execs)/float64(b.N), "executions/check")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/check")
}

// BenchmarkCheck times simrun check's targets on one core: verifying
// lease-retry, pin and checkpoint on the report scope at K = 2, finding
// naive's counterexample, the recycled thread id at the default churn and
// the lease stall.
func BenchmarkCheck(b *testing.B) {
	none := model.Variants{}
	b.Run("report/lease-retry", func(b *testing.B) { benchCheck(b, "report", "lease-retry", none, false, sim.OutcomeVerified) })
	b.Run("report/pin", func(b *testing.B) { benchCheck(b, "report", "pin", none, false, sim.OutcomeVerified) })
	b.Run("report/checkpoint", func(b *testing.B) { benchCheck(b, "report", "checkpoint", none, false, sim.OutcomeVerified) })
	b.Run("report/naive", func(b *testing.B) { benchCheck(b, "report", "naive", none, false, sim.OutcomeCounterexample) })
	b.Run("recycled-tid/limiter-unwrap", func(b *testing.B) {
		benchCheck(b, "recycled-tid", "lease-retry", model.Variants{LimiterUnwrap: true}, false, sim.OutcomeCounterexample)
	})
	b.Run("lease-stall/non-atomic-check", func(b *testing.B) {
		benchCheck(b, "lease-stall", "lease-retry", none, true, sim.OutcomeCounterexample)
	})
}
