package etcd

import (
	"testing"

	"github.com/snapsim/snapsim/examples/internal/incidenttest"
	"github.com/snapsim/snapsim/sim"
)

// TestScenarios replays the pair: the buggy apply of a released DB file
// is observed (and panics), the fixed one observes nothing.
func TestScenarios(t *testing.T) {
	incidenttest.Pair(t, System(), ".")
}

// TestSweep runs 500 fixed seeds of each design (the snapshots' gaps and
// the apply delays drawn): the purge of a pending DB file is caught on
// some, the registry's skip on none.
func TestSweep(t *testing.T) {
	sys := System()
	incidenttest.BuggyCaughtFixedClean(t, sys, incidenttest.Config(t, sys, PurgeOlder), incidenttest.Config(t, sys, SkipPending), sim.KindOpenDeletedFile, 500)
}

// TestIgnoringReleaseIsCaught is the negative control of the deleter's
// oracle: a release that ignores the registry removes a DB file pending
// apply, and gc-deleted-pinned-file says so.
func TestIgnoringReleaseIsCaught(t *testing.T) {
	sys := System()
	got, _ := incidenttest.Sweep(t, sys, incidenttest.Config(t, sys, SkipPending, VariantIgnoreRegistry), 200)
	if got[sim.KindGCDeletedPinnedFile] == 0 {
		t.Errorf("observed %v over 200 seeds, want gc-deleted-pinned-file on some", got)
	}
}

// TestRunsTheSameTwice: a seed of each design gives the same trace twice.
func TestRunsTheSameTwice(t *testing.T) {
	sys := System()
	for _, d := range []string{PurgeOlder, SkipPending} {
		for _, seed := range []uint64{1, 7, 42} {
			incidenttest.Twice(t, sys, incidenttest.Config(t, sys, d), seed)
		}
	}
}
