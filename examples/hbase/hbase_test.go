package hbase

import (
	"testing"

	"github.com/snapsim/snapsim/examples/internal/incidenttest"
	"github.com/snapsim/snapsim/sim"
)

// TestScenarios replays the pair: the buggy scanner's open of an archived
// HFile is observed, the fixed one observes nothing.
func TestScenarios(t *testing.T) {
	incidenttest.Pair(t, System(), ".")
}

// TestSweep runs 500 fixed seeds of each design: the late reference is
// caught on some, the reference under the lock on none.
func TestSweep(t *testing.T) {
	sys := System()
	incidenttest.BuggyCaughtFixedClean(t, sys, incidenttest.Config(t, sys, LateRef), incidenttest.Config(t, sys, RefUnderLock), sim.KindOpenDeletedFile, 500)
}

// TestIgnoringDischargerIsCaught is the negative control of the deleter's
// oracle: with the fix in place, a discharger that ignores the reference
// counts archives a referenced file, and gc-deleted-pinned-file says so.
func TestIgnoringDischargerIsCaught(t *testing.T) {
	sys := System()
	got, _ := incidenttest.Sweep(t, sys, incidenttest.Config(t, sys, RefUnderLock, VariantIgnoreRefs), 200)
	if got[sim.KindGCDeletedPinnedFile] == 0 {
		t.Errorf("observed %v over 200 seeds, want gc-deleted-pinned-file on some", got)
	}
}

// TestRunsTheSameTwice: a seed of each design gives the same trace twice.
func TestRunsTheSameTwice(t *testing.T) {
	sys := System()
	for _, d := range []string{LateRef, RefUnderLock} {
		for _, seed := range []uint64{1, 7, 42} {
			incidenttest.Twice(t, sys, incidenttest.Config(t, sys, d), seed)
		}
	}
}
