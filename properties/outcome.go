package properties

// Outcome properties: whole-run invariants that judge what a design did,
// not only which violation kinds the oracle raised. A design can do less
// than it claims and still end in a state every kind accepts (a build
// shipped on a stale epoch is merely rejected by the learner; GC deleting
// a leased file a microsecond early harms nobody unless an open lands in
// that microsecond). Each judge reads the facts a run recorded (the trace,
// Outcome.Leases, Outcome.Deletions, Outcome.DeletionHolds, the snapshot
// reports) and recomputes the documented rule on its own, so a weakened
// mechanism that also weakens the model's own bookkeeping (pinnedBy,
// InUse) is still caught. properties/outcome_test.go runs them as rapid
// properties, each with a negative control (tikv.Weakenings).

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
)

// Judge is one outcome property: nil if the run kept it, else what broke.
type Judge struct {
	// Name names the property in failure messages and test names.
	Name string
	// Applies reports whether the design claims the property.
	Applies func(collector string) bool
	// Check judges one run.
	Check func(out *tikv.Outcome) error
}

// everyDesign is Judge.Applies for properties every design must keep.
func everyDesign(string) bool { return true }

// Judges are the outcome properties, in a fixed order.
var Judges = []Judge{
	{Name: "lease-covers-opens", Applies: func(c string) bool { return c == "lease-retry" }, Check: LeaseCoversOpens},
	{Name: "gc-outside-lease-windows", Applies: everyDesign, Check: GCOutsideLeaseWindows},
	{Name: "no-stale-epoch-ship", Applies: func(c string) bool { return c == "lease-retry" }, Check: NoStaleEpochShip},
	{Name: "nested-holds-stop-gc", Applies: everyDesign, Check: NestedHoldsStopGC},
	{Name: "retries-bounded", Applies: everyDesign, Check: RetriesBounded},
}

// JudgeNamed returns the judge called name.
func JudgeNamed(name string) (Judge, bool) {
	for _, j := range Judges {
		if j.Name == name {
			return j, true
		}
	}
	return Judge{}, false
}

// Judge runs every judge the run's collector claims and returns the first
// broken one's name and error.
func JudgeOutcome(out *tikv.Outcome) (string, error) {
	for _, j := range Judges {
		if !j.Applies(out.Config.Collector) {
			continue
		}
		if err := j.Check(out); err != nil {
			return j.Name, err
		}
	}
	return "", nil
}

// isGenerator reports whether actor is a snapshot generator.
func isGenerator(actor string) bool { return strings.HasPrefix(actor, "snap-gen") }

// validAt reports whether lease l is valid for its holder at an event of
// step and time: taken in that step or an earlier one (lease-retry
// re-takes a lapsed lease in the step of the check and open), not yet
// released or dropped, and before its expiry (Lease.Valid: now < Expiry).
func validAt(l *tikv.LeaseLog, step int64, t sim.Micros) bool {
	return l.Step <= step && (l.EndStep == 0 || step < l.EndStep) && t < l.Expiry
}

// LeaseCoversOpens: every engine file a lease holder opens is covered, at
// the instant of the open, by a valid lease of that holder on that file
// (lease-retry re-checks its lease in the same step as each open). The
// README's broken re-check (tikv.Weakenings.LeaseRecheck) and
// --non-atomic-check break it whenever a stall outlives the lease before
// an open, whether or not GC deleted the file meanwhile.
func LeaseCoversOpens(out *tikv.Outcome) error {
	for _, e := range out.Result.Events {
		if e.Class != sim.ClassAction || e.Op != "open" || e.Result != "ok" || !isGenerator(e.Actor) || !strings.HasPrefix(e.Detail, tikv.DBDir+"/") {
			continue
		}
		covered := false
		for i := range out.Leases {
			l := &out.Leases[i]
			if l.Holder == e.Actor && slices.Contains(l.Files, e.Detail) && validAt(l, e.Step, e.Time) {
				covered = true
				break
			}
		}
		if !covered {
			return fmt.Errorf("%s opened %s at step %d (t=%s) with no valid lease of its own on it (%s)", e.Actor, e.Detail, e.Step, e.Time, leasesOn(out, e.Actor, e.Detail))
		}
	}
	return nil
}

// leasesOn describes holder's leases on path, for failure messages.
func leasesOn(out *tikv.Outcome, holder, path string) string {
	var parts []string
	for _, l := range out.Leases {
		if l.Holder == holder && slices.Contains(l.Files, path) {
			end := "held to the end"
			if l.EndStep != 0 {
				end = fmt.Sprintf("ended at step %d (t=%s)", l.EndStep, l.EndTime)
			}
			parts = append(parts, fmt.Sprintf("lease %d: from step %d (t=%s), expiry %s, %s", l.ID, l.Step, l.Time, l.Expiry, end))
		}
	}
	if len(parts) == 0 {
		return "it never leased it"
	}
	return strings.Join(parts, "; ")
}

// GCOutsideLeaseWindows: the deleter (GC, or the compacting actor) never
// removes a file of the leader while a lease on it protects it: from the
// step after the lease was taken until it is released or dropped, or until
// its expiry plus the configured grace period, whichever comes first. The
// boundary is exact: a removal at expiry+grace is allowed, one a
// microsecond before is not (tikv.Weakenings.LeaseBoundary).
func GCOutsideLeaseWindows(out *tikv.Outcome) error {
	grace := out.Config.GCGrace
	for _, d := range out.Deletions {
		if d.Node != "n1" {
			continue
		}
		for i := range out.Leases {
			l := &out.Leases[i]
			if !slices.Contains(l.Files, d.Path) {
				continue
			}
			if l.Step < d.Step && (l.EndStep == 0 || d.Step < l.EndStep) && d.Time < l.Expiry+grace {
				return fmt.Errorf("%s removed %s at step %d (t=%s) inside lease %d of %s (taken at step %d; its expiry then %s, + grace %s; valid until %s after %d renewals)",
					d.Actor, d.Path, d.Step, d.Time, l.ID, l.Holder, l.Step, l.ExpiryAt(d.Step), grace, l.Expiry, len(l.Renewals))
			}
		}
	}
	return nil
}

// generated returns the IDs of the snapshots whose build finished (the
// pipeline's "generate ... done" event): the ones handed to the sender.
func generated(out *tikv.Outcome) map[int]bool {
	ids := map[int]bool{}
	for _, e := range out.Result.Events {
		if e.Op != "generate" || e.Result != "done" {
			continue
		}
		f := strings.Fields(e.Detail) // "snapshot N KEY: ..."
		if len(f) >= 2 && f[0] == "snapshot" {
			if id, err := strconv.Atoi(f[1]); err == nil {
				ids[id] = true
			}
		}
	}
	return ids
}

// NoStaleEpochShip: a build whose region's epoch changed before its last
// open of an engine file is never shipped as if current: every snapshot
// handed to the sender carries the epoch the region had at that open
// (lease-retry re-checks the epoch in the same step as each open, and
// aborts and re-issues the attempt when it changed). Such a snapshot is
// only rejected by the learner, a legal final state, so no violation kind
// sees it (tikv.Weakenings.EpochRecheck).
func NoStaleEpochShip(out *tikv.Outcome) error {
	done := generated(out)
	for _, r := range out.Snapshots {
		if !done[r.ID] || r.LastOpen.Step == 0 {
			continue
		}
		if r.LastOpen.Epoch != r.Epoch {
			return fmt.Errorf("snapshot %d %s shipped with epoch %s, but region %d was at %s at its build's last open (step %d, t=%s); it ended %s",
				r.ID, r.Key, r.Epoch, r.Region, r.LastOpen.Epoch, r.LastOpen.Step, r.LastOpen.Time, r.Status)
		}
	}
	return nil
}

// NestedHoldsStopGC: while any holder has deletions disabled on a node
// (DisableDeletions not yet matched by its EnableDeletions, nor dropped by
// a recovery), the node's deleter removes nothing, however many holders
// there are and in whatever order they release: GC resumes only when the
// last one has (tikv.Weakenings.NestedDisable; it needs more than one
// snapshot generator).
func NestedHoldsStopGC(out *tikv.Outcome) error {
	for _, d := range out.Deletions {
		for _, h := range out.DeletionHolds {
			if h.Node == d.Node && h.Step < d.Step && (h.EndStep == 0 || d.Step < h.EndStep) {
				return fmt.Errorf("%s removed %s:%s at step %d (t=%s) while %s had deletions disabled (since step %d, t=%s; %s)",
					d.Actor, d.Node, d.Path, d.Step, d.Time, h.Holder, h.Step, h.Time, holdsAt(out, d.Node, d.Step))
			}
		}
	}
	return nil
}

// holdsAt describes the holds open on node at step.
func holdsAt(out *tikv.Outcome, node string, step int64) string {
	var who []string
	for _, h := range out.DeletionHolds {
		if h.Node == node && h.Step < step && (h.EndStep == 0 || step < h.EndStep) {
			who = append(who, fmt.Sprintf("%s since step %d", h.Holder, h.Step))
		}
	}
	return fmt.Sprintf("%d holders then: %s", len(who), strings.Join(who, ", "))
}

// maxAttemptsFactor is the shared retry policy's hard bound, in units of
// MaxAttempts (README "The shared retry policy": 4 × MaxAttempts attempts
// of any kind).
const maxAttemptsFactor = 4

// reissuedError reports whether an aborted attempt's error is one the
// policy re-issues without counting it: the region changed under the
// attempt (epoch changed, mid-split or mid-merge).
func reissuedError(msg string) bool {
	return strings.Contains(msg, model.ErrEpochChanged.Error()) || strings.Contains(msg, model.ErrRegionBusy.Error())
}

// RetriesBounded: every build's retries follow the documented policy
// (README "The shared retry policy"). naive and lease make one attempt.
// The retrying designs number their attempts 1, 2, ...; count every
// aborted attempt as a failure except those aborted because the region
// changed under them, and report that count with each retry; stop after
// MaxAttempts counted failures; and make at most 4 × MaxAttempts attempts
// in all. The count is recomputed here from each abort's error, so a
// design that silently stops counting some failure
// (tikv.Weakenings.LeaseLossReissued) is caught at its first such abort.
func RetriesBounded(out *tikv.Outcome) error {
	maxF := out.Config.MaxAttempts
	for _, r := range out.Snapshots {
		if r.Attempts > maxAttemptsFactor*maxF {
			return fmt.Errorf("snapshot %d made %d attempts, more than %d × %d", r.ID, r.Attempts, maxAttemptsFactor, maxF)
		}
		if (out.Config.Collector == "naive" || out.Config.Collector == "lease") && r.Attempts > 1 {
			return fmt.Errorf("snapshot %d of %s made %d attempts; the design never retries", r.ID, out.Config.Collector, r.Attempts)
		}
	}
	type build struct{ attempts, failures int }
	current := map[string]*build{} // by generator
	for _, e := range out.Result.Events {
		if !isGenerator(e.Actor) {
			continue
		}
		switch {
		case e.Op == "generate" && e.Result == "start":
			current[e.Actor] = &build{}
		case e.Op == "retry" && e.Class == sim.ClassAction:
			b := current[e.Actor]
			if b == nil {
				return fmt.Errorf("%s retried at step %d outside any build", e.Actor, e.Step)
			}
			var n, f, m int
			if _, err := fmt.Sscanf(e.Detail, "attempt %d aborted (%d of %d failures)", &n, &f, &m); err != nil {
				return fmt.Errorf("%s: unreadable retry event at step %d: %q", e.Actor, e.Step, e.Detail)
			}
			if b.failures >= maxF {
				return fmt.Errorf("%s made attempt %d at step %d after %d counted failures (MaxAttempts %d)", e.Actor, n, e.Step, b.failures, maxF)
			}
			b.attempts++
			if n != b.attempts {
				return fmt.Errorf("%s numbered its aborted attempt %d at step %d; the policy's count is %d", e.Actor, n, e.Step, b.attempts)
			}
			if !reissuedError(e.Result) {
				b.failures++
			}
			if f != b.failures || m != maxF {
				return fmt.Errorf("%s reported %d of %d failures at step %d (attempt %d aborted: %s); the documented policy counts %d of %d",
					e.Actor, f, m, e.Step, n, e.Result, b.failures, maxF)
			}
			if b.attempts > maxAttemptsFactor*maxF {
				return fmt.Errorf("%s aborted attempt %d at step %d, past the hard bound of %d", e.Actor, n, e.Step, maxAttemptsFactor*maxF)
			}
		}
	}
	return nil
}
