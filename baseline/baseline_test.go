package baseline

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
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
