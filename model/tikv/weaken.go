package tikv

import (
	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/engine"
	"github.com/snapsim/snapsim/sim"
)

// Weakenings are deliberately weakened versions of the protections, each
// a change a developer could plausibly make to lease-retry, the shared
// retry policy, GC or snapshot GC, and each there only as the negative
// control of a whole-run property (properties/outcome_test.go) or of a
// strong cell (properties/matrix_test.go): the property must catch the
// weakening it is there for. They are not variants: no CLI flag, scenario
// line or profile sets them, Config's JSON leaves them out, and all false
// is the real code. The design's and the deleter's are the layers' own
// (model.DesignWeakenings, engine.DeleterWeakenings), embedded so a test
// writes cfg.Weaken.LeaseRecheck.
type Weakenings struct {
	model.DesignWeakenings
	engine.DeleterWeakenings
	// SnapGCApplying makes snapshot GC forget the Applying registration:
	// a received snapshot older than SnapGCTimeout is removed while the
	// learner applies it (the harm needs a timeout shorter than an apply).
	SnapGCApplying bool
}

// OpenMark is a build's last successful open of an engine file: when, and
// the epoch the live region had at that instant.
type OpenMark struct {
	Step  int64       `json:"step"`
	Time  sim.Micros  `json:"time_us"`
	Epoch model.Epoch `json:"epoch"`
}
