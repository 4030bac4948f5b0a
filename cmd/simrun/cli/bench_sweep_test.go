package cli

import (
	"context"
	"runtime/debug"
	"strconv"
	"testing"

	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
)

// BenchmarkSweepWorkers measures how a --keep-going sweep's seeds/s scale
// with --workers: each iteration sweeps 200 lease-retry seeds of the default
// profile through sweepSeeds, as `simrun run` does, under simrun's GOGC.
// Compare the seeds/s of workers=1 and workers=2 (the README quotes the
// ratio).
func BenchmarkSweepWorkers(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(defaultGCPercent))
	cfg := tikv.DefaultConfig("lease-retry")
	sc := sim.Config{StopOnViolation: true, MaxSteps: sim.DefaultMaxSteps}
	const seedsPerSweep = 200
	for _, workers := range []int{1, 2, 4} {
		b.Run("workers="+strconv.Itoa(workers), func(b *testing.B) {
			var seeds int
			var first uint64 = 1
			for b.Loop() {
				plan := seedPlan{first: first, n: seedsPerSweep, shards: 1}
				first += seedsPerSweep
				err := sweepSeeds(context.Background(), plan, workers, false, func(seed uint64) (seedResult, error) {
					out, err := runSeed(benchSystem, cfg, sc, seed)
					if err != nil {
						return seedResult{}, err
					}
					return newSeedResult(seed, &out), nil
				}, func(seedResult) bool { seeds++; return true })
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(seeds)/b.Elapsed().Seconds(), "seeds/s")
		})
	}
}
