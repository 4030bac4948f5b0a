package dulwich

import (
	"testing"

	"github.com/snapsim/snapsim/examples/internal/incidenttest"
	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/properties/proptest"
	"github.com/snapsim/snapsim/sim"
)

// TestScenarios replays the pair: the lazy open of a repacked-away index
// is observed; PackFileDisappeared evicts, rescans and finds the object.
func TestScenarios(t *testing.T) {
	incidenttest.Pair(t, System(), ".")
}

// TestSweep runs 500 fixed seeds of each design (lookups, fetches and
// repacks interleaved at random): the lazy open is caught on some, the
// rescan on none.
func TestSweep(t *testing.T) {
	sys := System()
	incidenttest.BuggyCaughtFixedClean(t, sys, incidenttest.Config(t, sys, LazyOpen), incidenttest.Config(t, sys, RescanOnDisappear), sim.KindOpenDeletedFile, 500)
}

// storm is a repack storm: a fetch and a repack every 300 us, 30 each.
func storm(t *testing.T, sys model.System, rescans int64) model.Config {
	t.Helper()
	cfg := incidenttest.Config(t, sys, RescanOnDisappear)
	for _, s := range []struct {
		name  string
		value int64
	}{{"repack_interval_us", 300}, {"repacks", 30}, {"fetch_interval_us", 300}, {"fetches", 30}, {"max_rescans", rescans}} {
		var err error
		if cfg, err = cfg.WithSetting(s.name, s.value); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

// TestTheBoundIsABound: under a repack storm the fix opens no deleted
// file, but its bound can be spent (a liveness failure: the lookup raises
// to its caller); with no rescan at all nearly every seed spends it, so
// the rescans are what the fix rests on.
func TestTheBoundIsABound(t *testing.T) {
	sys := System()
	got, _ := incidenttest.Sweep(t, sys, storm(t, sys, 3), 500)
	if got[sim.KindOpenDeletedFile] > 0 {
		t.Errorf("rescan-on-disappear opened a deleted file in a repack storm: %v", got)
	}
	if got[sim.KindLiveness] == 0 || got[sim.KindLiveness] > 50 {
		t.Errorf("max_rescans 3 in a repack storm: liveness on %d of 500 seeds, want a few (1..50)", got[sim.KindLiveness])
	}
	t.Logf("max_rescans 3 in a repack storm: %v over 500 seeds", got)
	none, _ := incidenttest.Sweep(t, sys, storm(t, sys, 0), 500)
	if none[sim.KindLiveness] < 400 {
		t.Errorf("max_rescans 0 in a repack storm: liveness on %d of 500 seeds, want most", none[sim.KindLiveness])
	}
}

// TestRunsTheSameTwice: a seed of each design gives the same trace twice.
func TestRunsTheSameTwice(t *testing.T) {
	sys := System()
	for _, d := range []string{LazyOpen, RescanOnDisappear} {
		for _, seed := range []uint64{1, 7, 42} {
			incidenttest.Twice(t, sys, incidenttest.Config(t, sys, d), seed)
		}
	}
}

// TestProperty: the property helper over a user's system. "The reader
// never opens a deleted file" is caught on lazy-open (its shrunk
// counterexample is the incident: a listing, a repack, the lazy open) and
// holds of rescan-on-disappear.
func TestProperty(t *testing.T) {
	sys := System()
	never := []sim.Kind{sim.KindOpenDeletedFile, sim.KindLiveness, sim.KindPanic}
	t.Run(LazyOpen, func(t *testing.T) {
		f := proptest.Caught(t, sys, incidenttest.Config(t, sys, LazyOpen), proptest.NeverShows(never...),
			proptest.DrawsDir(t.TempDir()), proptest.DeterministicShrink(), proptest.Program("./cmd/mysim"))
		o := f.Outcome.Result.Observations[0]
		if o.Kind != sim.KindOpenDeletedFile || o.Actor != "reader" {
			t.Fatalf("first observation %s by %s; want open-deleted-file by reader\n%s", o.Kind, o.Actor, f.Story())
		}
		t.Logf("lazy-open caught:\n%s", f.Story())
	})
	t.Run(RescanOnDisappear, func(t *testing.T) {
		proptest.Never(t, sys, incidenttest.Config(t, sys, RescanOnDisappear), never, proptest.Checks(500))
	})
}
