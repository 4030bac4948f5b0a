package tikv

import (
	"testing"

	"github.com/snapsim/snapsim/sim"
)

// BenchmarkProfile runs whole seeds of lease-retry on each profile and
// reports simulated steps and seeds per second of wall time (issue
// "Performance": steps/s and seeds/s per profile).
func BenchmarkProfile(b *testing.B) {
	for _, p := range ProfileNames() {
		b.Run(p, func(b *testing.B) {
			cfg, err := ProfileConfig("lease-retry", p)
			if err != nil {
				b.Fatal(err)
			}
			benchSeeds(b, cfg)
		})
	}
}

// BenchmarkFirstViolation measures, per weak design and strategy, how many
// seeds and how much wall time the simulator needs to find the first
// violation: each iteration sweeps seeds from a fresh start (iteration i
// starts at seed 1+1000·i, so iterations are independent searches) until a
// seed violates, and the medians are reported by benchstat over -count runs.
func BenchmarkFirstViolation(b *testing.B) {
	type target struct {
		name string
		cfg  func() Config
	}
	stall := func() Config {
		c, _ := ProfileConfig("lease-retry", "slow-disk")
		c.NonAtomicCheck = true
		return c
	}
	lease := func() Config { return DefaultConfig("lease") }
	targets := []target{
		{"naive", func() Config { return DefaultConfig("naive") }},
		{"retry", func() Config { return DefaultConfig("retry") }},
		{"lease", lease},
		{"lease-retry-non-atomic", stall},
	}
	strategies := []struct {
		name string
		st   sim.Strategy
		cfg  func(Config) Config
	}{
		{"random", sim.Strategy{Name: "random"}, func(c Config) Config { return c }},
		{"pct", sim.Strategy{Name: "pct", Depth: sim.DefaultPCTDepth, Horizon: sim.DefaultPCTHorizon}, func(c Config) Config { return c }},
		{"swarm", sim.Strategy{Name: "random"}, func(c Config) Config { c.Swarm = true; return c }},
	}
	const maxSeeds = 20000
	for _, tg := range targets {
		for _, st := range strategies {
			b.Run(tg.name+"/"+st.name, func(b *testing.B) {
				cfg := st.cfg(tg.cfg())
				var seedsTotal, found int64
				iter := uint64(0)
				for b.Loop() {
					start := 1 + 1000*iter
					iter++
					for k := uint64(0); k < maxSeeds; k++ {
						out, err := Run(cfg, sim.NewPRNG(start+k), sim.Config{Strategy: st.st, StopOnViolation: true})
						if err != nil {
							b.Fatal(err)
						}
						seedsTotal++
						if out.Violated() {
							found++
							break
						}
					}
				}
				if found == 0 {
					b.ReportMetric(0, "found")
					return
				}
				b.ReportMetric(float64(seedsTotal)/float64(iter), "seeds/first")
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(iter)/1000, "ms/first")
				b.ReportMetric(float64(found)/float64(iter), "found")
			})
		}
	}
}
