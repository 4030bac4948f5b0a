package tikv

import (
	"testing"

	"github.com/snapsim/snapsim/sim"
)

// BenchmarkSeed runs whole seeds (one per iteration, seeds 1..b.N) of the
// default configuration of each collector and reports simulated steps and
// seeds per second of wall time.
func BenchmarkSeed(b *testing.B) {
	for _, name := range []string{"naive", "lease-retry"} {
		b.Run(name, func(b *testing.B) {
			seeds, steps := benchSeeds(b, DefaultConfig(name))
			b.ReportMetric(float64(steps)/float64(seeds), "steps/seed")
		})
	}
}

// benchSeeds runs one seed per iteration (seeds 1..b.N) of cfg, reports
// steps/s and seeds/s of wall time, and returns the seeds and steps run.
func benchSeeds(b *testing.B, cfg Config) (seeds uint64, steps int64) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		seeds++
		out, err := Run(cfg, sim.NewPRNG(seeds), sim.Config{})
		if err != nil {
			b.Fatal(err)
		}
		steps += out.Result.Steps
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(steps)/secs, "steps/s")
	b.ReportMetric(float64(seeds)/secs, "seeds/s")
	return seeds, steps
}
