package model

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
			cfg := DefaultConfig(name)
			b.ReportAllocs()
			var steps int64
			seed := uint64(0)
			for b.Loop() {
				seed++
				out, err := Run(cfg, sim.NewPRNG(seed), sim.Config{})
				if err != nil {
					b.Fatal(err)
				}
				steps += out.Result.Steps
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(steps)/secs, "steps/s")
			b.ReportMetric(float64(seed)/secs, "seeds/s")
			b.ReportMetric(float64(steps)/float64(seed), "steps/seed")
		})
	}
}
