package properties

import (
	"fmt"
	"strings"

	"github.com/snapsim/snapsim/model/builtin"
	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
	"pgregory.net/rapid"
)

// tikvSys is the TiKV-like system with the built-in designs.
var tikvSys = builtin.TiKV()

// Run runs the model for cfg with every decision drawn from t, keeping the
// trace so a failure can show it.
func Run(t *rapid.T, cfg tikv.Config) tikv.Outcome {
	out, err := tikvSys.Simulate(cfg, NewChoice(t), sim.Config{KeepTrace: true, StopOnViolation: true})
	if err != nil {
		t.Fatalf("tikv.Run: %v", err)
	}
	return out
}

// Actions returns the high-level actions of a trace (put, flush, list,
// compact, delete, open...) and its violations, without filesystem calls.
func Actions(events []sim.Event) []sim.Event {
	var out []sim.Event
	for _, e := range events {
		if e.Class == sim.ClassAction || e.Class == sim.ClassViolation {
			out = append(out, e)
		}
	}
	return out
}

// ActionCount is the number of high-level actions in a trace: the size of a
// counterexample.
func ActionCount(events []sim.Event) int { return sim.CountClass(events, sim.ClassAction) }

// Story renders the high-level actions and violations of an outcome as
// aligned text, for failure messages.
func Story(out *tikv.Outcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "workload: %+v\n", out.Workload)
	_ = sim.WriteText(&b, Actions(out.Result.Events))
	for _, o := range out.Result.Observations {
		fmt.Fprintf(&b, "VIOLATION %s at step %d by %s: %s\n", o.Kind, o.Step, o.Actor, o.Detail)
	}
	return b.String()
}

// Kinds returns the distinct observation kinds of an outcome, in order of
// first appearance.
func Kinds(out *tikv.Outcome) []sim.Kind {
	var ks []sim.Kind
	seen := map[sim.Kind]bool{}
	for _, o := range out.Result.Observations {
		if !seen[o.Kind] {
			seen[o.Kind] = true
			ks = append(ks, o.Kind)
		}
	}
	return ks
}

// Has reports whether the outcome observed kind.
func Has(out *tikv.Outcome, kind sim.Kind) bool {
	for _, o := range out.Result.Observations {
		if o.Kind == kind {
			return true
		}
	}
	return false
}
