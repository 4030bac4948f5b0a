package baseline

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/snapsim/snapsim/sim"
)

func TestStressShort(t *testing.T) {
	if testing.Short() {
		t.Skip("stress test skipped in -short mode")
	}
	const limit = 5 * time.Second
	start := time.Now()
	res, err := Run(context.Background(), Options{Dir: t.TempDir(), TimeLimit: limit, Seed: 1})
	wall := time.Since(start)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if wall > limit+2*time.Second {
		t.Fatalf("Run took %v, limit %v", wall, limit)
	}
	if res.Found {
		t.Logf("found ENOENT after %v (%d snapshot rounds): %s", res.Elapsed, res.Iterations, res.Err)
	} else {
		t.Logf("no ENOENT within %v (%d snapshot rounds)", res.Elapsed, res.Iterations)
	}
}

func BenchmarkStressFirstENOENT(b *testing.B) {
	var foundN int
	var totalMS float64
	for i := 0; i < b.N; i++ {
		res, err := Run(context.Background(), Options{TimeLimit: 10 * time.Second, Seed: int64(i + 1)})
		if err != nil {
			b.Fatalf("Run: %v", err)
		}
		if res.Found {
			foundN++
			totalMS += float64(res.Elapsed) / float64(time.Millisecond)
		}
	}
	if foundN > 0 {
		b.ReportMetric(totalMS/float64(foundN), "ms-to-first")
	}
	b.ReportMetric(float64(foundN)/float64(b.N), "found-rate")
}

// TestStressRepeat re-runs the stress test with the same seed to show that it
// does not reproduce. Enabled only when SNAPSIM_BASELINE_REPEAT is set, e.g.
// SNAPSIM_BASELINE_REPEAT=1 go test ./baseline -run Repeat -v.
func TestStressRepeat(t *testing.T) {
	if os.Getenv("SNAPSIM_BASELINE_REPEAT") == "" {
		t.Skip("set SNAPSIM_BASELINE_REPEAT to run")
	}
	const runs, limit = 5, 60 * time.Second
	for i := 0; i < runs; i++ {
		start := time.Now()
		res, err := Run(context.Background(), Options{TimeLimit: limit, Seed: 1})
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		t.Logf("run %d seed 1: found=%v elapsed=%v wall=%v rounds=%d file=%s",
			i, res.Found, res.Elapsed, time.Since(start), res.Iterations, filepath.Base(res.File))
	}
}

// BenchmarkBugSimulator measures, per catalogued bug and strategy, the
// simulator's wall time and seeds to the first failure: each iteration is
// one independent search starting at seed i*1000000+1.
func BenchmarkBugSimulator(b *testing.B) {
	for _, bug := range Bugs() {
		for _, strategy := range []string{"random", "pct"} {
			b.Run(bug.Name+"/"+strategy, func(b *testing.B) {
				st, err := sim.ParseStrategy(strategy)
				if err != nil {
					b.Fatal(err)
				}
				var seeds int
				var i uint64
				for b.Loop() {
					res, err := SimSearch(context.Background(), bug, st, i*1_000_000+1, time.Minute)
					if err != nil {
						b.Fatal(err)
					}
					if !res.Found {
						b.Fatalf("%s not found in a minute of search", bug.Name)
					}
					seeds += res.Seeds
					i++
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(i), "ms/first")
				b.ReportMetric(float64(seeds)/float64(i), "seeds/first")
			})
		}
	}
}

// BenchmarkBugFreeGoroutines is the stress-test side of BenchmarkBugSimulator:
// the model's actors as free goroutines over the OS filesystem, each
// iteration one search limited to 60 s. It runs real time (seconds to
// minutes), so it is skipped unless SNAPSIM_BENCH_STRESS is set; `simrun
// bench` is the everyday form of this comparison.
func BenchmarkBugFreeGoroutines(b *testing.B) {
	if os.Getenv("SNAPSIM_BENCH_STRESS") == "" {
		b.Skip("set SNAPSIM_BENCH_STRESS=1 to run (real time, up to 60 s per search)")
	}
	for _, bug := range Bugs() {
		b.Run(bug.Name, func(b *testing.B) {
			var found, seeds int
			var i uint64
			for b.Loop() {
				res, err := FreeSearch(context.Background(), bug, i*1_000_000+1, 60*time.Second)
				if err != nil {
					b.Fatal(err)
				}
				seeds += res.Seeds
				if res.Found {
					found++
				}
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(i), "ms/search")
			b.ReportMetric(float64(found)/float64(i), "found-rate")
			b.ReportMetric(float64(seeds)/float64(i), "seeds/search")
		})
	}
}
