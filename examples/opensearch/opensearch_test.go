package opensearch

import (
	"path/filepath"
	"testing"

	"github.com/snapsim/snapsim/examples/internal/incidenttest"
	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/seeds"
	"github.com/snapsim/snapsim/sim"
)

// TestScenarios replays the pair: the slow replica's download of a segment
// the cleanup deleted is observed; the retrying replica re-reads the
// newest metadata and observes nothing.
func TestScenarios(t *testing.T) {
	incidenttest.Pair(t, System(), ".")
}

// TestFixedCountScenario replays PR 11329's fix on the same script: with
// metadata_keep 20 the replica's segments are kept.
func TestFixedCountScenario(t *testing.T) {
	f, err := seeds.LoadIn(incidenttest.Systems(t, System()), filepath.Join(".", "fixed-count.scenario"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Replay()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Check(&out); err != nil {
		t.Error(err)
	}
	if !f.Scenario.ExpectNone {
		t.Error("fixed-count.scenario does not say \"expect none\"")
	}
}

// TestSweep runs 500 fixed seeds of each design (the replica's delays
// drawn): failing on a missing segment is caught on some, retrying on
// none.
func TestSweep(t *testing.T) {
	sys := System()
	incidenttest.BuggyCaughtFixedClean(t, sys, incidenttest.Config(t, sys, FailOnMissing), incidenttest.Config(t, sys, RetryOnMissing), sim.KindOpenDeletedFile, 500)
}

// TestCountOnlyMovesTheThreshold: a retention of 20 metadata files keeps
// every segment a replica of the default lag needs (no seed of 500), and a
// replica slower than twenty refreshes outlasts it again; the retrying
// replica survives the slower one too.
func TestCountOnlyMovesTheThreshold(t *testing.T) {
	sys := System()
	with := func(design string, sets ...int64) model.Config {
		cfg := incidenttest.Config(t, sys, design)
		names := []string{"metadata_keep", "max_download_delay_us"}
		for i, v := range sets {
			var err error
			if cfg, err = cfg.WithSetting(names[i], v); err != nil {
				t.Fatal(err)
			}
		}
		return cfg
	}
	if got, first := incidenttest.Sweep(t, sys, with(FailOnMissing, 20), 500); len(got) > 0 {
		t.Errorf("metadata_keep 20: observed %v (first seed %d), want nothing at the default lag", got, first)
	}
	slow := with(FailOnMissing, 20, 40000)
	if got, _ := incidenttest.Sweep(t, sys, slow, 500); got[sim.KindOpenDeletedFile] == 0 {
		t.Errorf("metadata_keep 20, delays up to 40 ms: observed %v, want open-deleted-file on some seed", got)
	}
	if got, first := incidenttest.Sweep(t, sys, with(RetryOnMissing, 10, 40000), 500); len(got) > 0 {
		t.Errorf("retry-on-missing, delays up to 40 ms: observed %v (first seed %d), want nothing", got, first)
	}
}

// TestIgnoringCleanupIsCaught is the negative control of the deleter's
// oracle: a cleanup that ignores the retention deletes segments the
// newest metadata files reference, and gc-deleted-pinned-file says so.
func TestIgnoringCleanupIsCaught(t *testing.T) {
	sys := System()
	got, _ := incidenttest.Sweep(t, sys, incidenttest.Config(t, sys, RetryOnMissing, VariantIgnoreRetention), 100)
	if got[sim.KindGCDeletedPinnedFile] == 0 {
		t.Errorf("observed %v over 100 seeds, want gc-deleted-pinned-file on some", got)
	}
}

// TestRunsTheSameTwice: a seed of each design gives the same trace twice.
func TestRunsTheSameTwice(t *testing.T) {
	sys := System()
	for _, d := range []string{FailOnMissing, RetryOnMissing} {
		for _, seed := range []uint64{1, 6, 42} {
			incidenttest.Twice(t, sys, incidenttest.Config(t, sys, d), seed)
		}
	}
}
