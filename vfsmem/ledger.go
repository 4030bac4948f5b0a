package vfsmem

import (
	"fmt"
	"sort"

	"github.com/snapsim/snapsim/sim"
)

// LifeOp is one kind of event in a path's life.
type LifeOp string

// Path lifecycle events.
const (
	LifeCreated    LifeOp = "created"
	LifeLinked     LifeOp = "linked"     // a hard link to Other was made at this path
	LifeRenamedTo  LifeOp = "renamed-to" // this path was renamed to Other
	LifeRenamedIn  LifeOp = "renamed-in" // Other was renamed to this path
	LifeRemoved    LifeOp = "removed"    // unlinked (Remove, RemoveAll, replaced by a rename)
	LifeLostCrash  LifeOp = "lost-in-crash"
	LifeBackFromCr LifeOp = "restored-by-crash" // an unsynced removal undone by a crash
)

// LifeEvent is one entry in a path's history: when, by whom, why.
type LifeEvent struct {
	Step  int64      `json:"step"`
	Time  sim.Micros `json:"time_us"`
	Actor string     `json:"actor"`
	Op    LifeOp     `json:"op"`
	Other string     `json:"other,omitempty"`
	Why   string     `json:"why,omitempty"`
}

// String renders the event for observations: "removed at step 41
// (t=1.234ms) by gc: obsolete after compaction 2".
func (e LifeEvent) String() string {
	s := fmt.Sprintf("%s at step %d (t=%s) by %s", e.Op, e.Step, e.Time, e.Actor)
	if e.Other != "" {
		s += " (" + e.Other + ")"
	}
	if e.Why != "" {
		s += ": " + e.Why
	}
	return s
}

// ledger keeps every path's history. Keys are cleaned absolute paths.
type ledger struct {
	paths map[string][]LifeEvent
	// sorted caches the keys of paths in order; stale is set when a path
	// is added (histories only grow, so keys are never removed).
	sorted []string
	stale  bool
}

func newLedger() ledger { return ledger{paths: make(map[string][]LifeEvent)} }

func (l *ledger) add(path string, e LifeEvent) {
	h := l.paths[path]
	if len(h) == 0 {
		l.stale = true
	}
	l.paths[path] = append(h, e)
}

// removed reports the event that deleted path, if its last event is a
// deletion.
func (l *ledger) removed(path string) (LifeEvent, bool) {
	h := l.paths[path]
	if len(h) == 0 {
		return LifeEvent{}, false
	}
	last := h[len(h)-1]
	switch last.Op {
	case LifeRemoved, LifeRenamedTo, LifeLostCrash:
		return last, true
	}
	return LifeEvent{}, false
}

// sortedPaths returns every path the ledger knows, sorted, in a slice the
// caller owns.
func (l *ledger) sortedPaths() []string {
	v := l.sortedView()
	return append(make([]string, 0, len(v)), v...)
}

// sortedView is sortedPaths without the copy: the result is shared with
// the ledger and valid until the next add; callers must not modify it.
func (l *ledger) sortedView() []string {
	if l.stale || len(l.sorted) != len(l.paths) {
		l.sorted = l.sorted[:0]
		for p := range l.paths {
			l.sorted = append(l.sorted, p)
		}
		sort.Strings(l.sorted)
		l.stale = false
	}
	return l.sorted
}
