package solr

import (
	"testing"

	"github.com/snapsim/snapsim/examples/internal/incidenttest"
	"github.com/snapsim/snapsim/sim"
)

// TestScenarios replays the pair: the buggy follower's fetch of a file of
// the deleted generation is observed, the fixed one restarts and observes
// nothing.
func TestScenarios(t *testing.T) {
	incidenttest.Pair(t, System(), ".")
}

// TestSweep runs 500 fixed seeds of each design (the follower's delays
// drawn): fetching a gone generation is caught on some, restarting on
// none.
func TestSweep(t *testing.T) {
	sys := System()
	incidenttest.BuggyCaughtFixedClean(t, sys, incidenttest.Config(t, sys, FailOnGone), incidenttest.Config(t, sys, RestartOnGone), sim.KindOpenDeletedFile, 500)
}

// TestIgnoringDeletionPolicyIsCaught is the negative control of the
// deleter's oracle: a deletion policy that ignores the reservations
// deletes a reserved commit's files, and gc-deleted-pinned-file says so.
func TestIgnoringDeletionPolicyIsCaught(t *testing.T) {
	sys := System()
	got, _ := incidenttest.Sweep(t, sys, incidenttest.Config(t, sys, RestartOnGone, VariantIgnoreReservation), 200)
	if got[sim.KindGCDeletedPinnedFile] == 0 {
		t.Errorf("observed %v over 200 seeds, want gc-deleted-pinned-file on some", got)
	}
}

// TestRunsTheSameTwice: a seed of each design gives the same trace twice.
func TestRunsTheSameTwice(t *testing.T) {
	sys := System()
	for _, d := range []string{FailOnGone, RestartOnGone} {
		for _, seed := range []uint64{1, 7, 42} {
			incidenttest.Twice(t, sys, incidenttest.Config(t, sys, d), seed)
		}
	}
}
