package engine

import "github.com/snapsim/snapsim/sim"

// DeleterWeakenings are deliberately weakened versions of the engine's
// obsolete-file deleter, each the negative control of a whole-run
// property (properties/outcome_test.go): the property must catch it. Zero
// is the real code; no CLI flag, scenario line or profile sets them.
type DeleterWeakenings struct {
	// LeaseBoundary makes GC let a lease's files go this long before the
	// lease (plus the grace period) ends, in the deleter and in its
	// wake-up alike: 1 µs is an off-by-one at the boundary; GCInterval is
	// a deleter that rounds expiry down to its polling interval, "so the
	// poll that would come just after the expiry deletes on time".
	LeaseBoundary sim.Micros
	// NestedDisable makes EnableDeletions re-enable deletions outright
	// instead of undoing one DisableDeletions: with several holders, the
	// first to release lets GC delete under the others.
	NestedDisable bool
}

// LeaseLog is the life of one lease on the leader's engine, kept for the
// whole-run properties: who took it, on which files, when, until when it
// was valid (its expiry after the last renewal), and when it ended before
// that (released by its holder, or dropped by a recovery). A lease is
// valid from its acquisition (Step) until EndStep or Expiry (its expiry
// after the last renewal), whichever comes first.
type LeaseLog struct {
	ID     uint64     `json:"id"`
	Holder string     `json:"holder"`
	Files  []string   `json:"files"`
	Step   int64      `json:"step"`
	Time   sim.Micros `json:"time_us"`
	Expiry sim.Micros `json:"expiry_us"`
	// FirstExpiry is the expiry it was taken with.
	FirstExpiry sim.Micros `json:"first_expiry_us"`
	// Renewals are the renewals that moved the expiry, in order (a lease
	// is renewed only while valid, so it is valid without a gap from Step
	// to Expiry unless it ended first).
	Renewals []LeaseRenewal `json:"renewals,omitempty"`
	// EndStep and EndTime are when the lease was released or dropped; 0
	// when it was still held when the run ended.
	EndStep int64      `json:"end_step,omitempty"`
	EndTime sim.Micros `json:"end_time_us,omitempty"`
	// Dropped is set when a recovery, not the holder, ended it.
	Dropped bool `json:"dropped,omitempty"`
}

// LeaseRenewal is one renewal of a lease: when, and the new expiry.
type LeaseRenewal struct {
	Step   int64      `json:"step"`
	Time   sim.Micros `json:"time_us"`
	Expiry sim.Micros `json:"expiry_us"`
}

// ExpiryAt returns the lease's expiry as it stood just before step: its
// first expiry, moved by every renewal made in an earlier step.
func (l *LeaseLog) ExpiryAt(step int64) sim.Micros {
	exp := l.FirstExpiry
	for _, r := range l.Renewals {
		if r.Step < step {
			exp = r.Expiry
		}
	}
	return exp
}

// Deletion is one removal of an engine file by the obsolete-file deleter
// (GC, or the compacting or ingesting actor that made it obsolete), on a
// node, with who and when.
type Deletion struct {
	Node  string     `json:"node"`
	Path  string     `json:"path"`
	Actor string     `json:"actor"`
	Step  int64      `json:"step"`
	Time  sim.Micros `json:"time_us"`
}

// DeletionHold is one DisableDeletions on a node, until the matching
// EnableDeletions (EndStep 0: not yet, when the run ended) or a recovery
// (Dropped).
type DeletionHold struct {
	Node    string     `json:"node"`
	Holder  string     `json:"holder"`
	Step    int64      `json:"step"`
	Time    sim.Micros `json:"time_us"`
	EndStep int64      `json:"end_step,omitempty"`
	EndTime sim.Micros `json:"end_time_us,omitempty"`
	Dropped bool       `json:"dropped,omitempty"`
}
