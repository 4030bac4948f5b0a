package tikv

import (
	"errors"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/sim"
)

// reportSteps is the report's script (seeds/report.buggy.scenario): two
// flushes (so that the compaction rewrites the listed file rather than
// moving it), the listing, the compaction, the compactor's prompt deletion
// of what it replaced, the open.
func reportSteps() []ScenarioStep {
	return []ScenarioStep{
		{Kind: StepRunSteps, Actor: "writer", N: 12, Source: "t:1", Text: "run writer steps 12"},
		{Kind: StepRunUntil, Actor: "flusher", Op: "flush", N: 1, Source: "t:2", Text: "run flusher until flush"},
		{Kind: StepRunSteps, Actor: "writer", N: 9, Source: "t:3", Text: "run writer steps 9"},
		{Kind: StepRunUntil, Actor: "flusher", Op: "flush", N: 1, Source: "t:4", Text: "run flusher until flush"},
		{Kind: StepRunUntil, Actor: "snap-gen", Op: "list", N: 1, Source: "t:5", Text: "run snap-gen until list"},
		{Kind: StepRunUntil, Actor: "compactor", Op: "compact", N: 1, Source: "t:6", Text: "run compactor until compact"},
		{Kind: StepRunUntil, Actor: "compactor", Op: "delete", N: 1, Source: "t:7", Text: "run compactor until delete"},
		{Kind: StepRunUntil, Actor: "snap-gen", Op: "open", N: 1, Source: "t:8", Text: "run snap-gen until open"},
	}
}

// reportDeleteStep is the index of reportSteps' deletion step.
const reportDeleteStep = 6

// listSteps are the writes, one flush and the listing: the start of the
// report's script before it needed a second flush.
func listSteps() []ScenarioStep {
	return []ScenarioStep{
		{Kind: StepRunSteps, Actor: "writer", N: 12, Source: "t:1", Text: "run writer steps 12"},
		{Kind: StepRunUntil, Actor: "flusher", Op: "flush", N: 1, Source: "t:2", Text: "run flusher until flush"},
		{Kind: StepRunUntil, Actor: "snap-gen", Op: "list", N: 1, Source: "t:3", Text: "run snap-gen until list"},
	}
}

func expect(kinds ...sim.Kind) []Expectation {
	var out []Expectation
	for _, k := range kinds {
		out = append(out, Expectation{Kind: k})
	}
	return out
}

func TestRunScenarioScripted(t *testing.T) {
	sc := Scenario{Config: DefaultConfig("naive"), Seed: 2, Steps: reportSteps(), Expect: expect(sim.KindOpenDeletedFile, sim.KindPanic)}
	out, err := RunScenario(sc, sim.Config{StopOnViolation: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Check(&sc); err != nil {
		t.Fatal(err)
	}
	again, err := RunScenario(sc, sim.Config{StopOnViolation: true})
	if err != nil || again.Result.TraceHash != out.Result.TraceHash {
		t.Fatalf("not deterministic: %x vs %x (%v)", again.Result.TraceHash, out.Result.TraceHash, err)
	}
	// Between the scripted steps only the named actor ran.
	for _, e := range out.Result.Events {
		if e.Step > 0 && e.Step <= 12 && e.Actor != "writer" && e.Actor != DirectorActor {
			t.Errorf("step %d ran %s during \"run writer steps 12\"", e.Step, e.Actor)
		}
	}
	// The run stopped in the step that completed the script: the script
	// ended there, every step completed, and both observations count as
	// made during the script.
	r := out.Script
	if r == nil || r.Steps != 8 || r.Completed != 8 || !r.Ended || r.EndStep != out.Result.Steps || r.ScriptObservations != 2 || len(r.NotRun) != 0 || r.Refusal != nil {
		t.Fatalf("script report %+v", r)
	}
	// The trace names steps by number and text, never by source line.
	for _, e := range out.Result.Events {
		if e.Actor == DirectorActor && strings.Contains(e.Detail, "t:") {
			t.Errorf("event names a source line: %+v", e)
		}
	}
}

func TestRunScenarioBadStep(t *testing.T) {
	sc := Scenario{Config: DefaultConfig("naive"), Steps: []ScenarioStep{{Kind: "dance", Source: "t:1", Text: "dance"}}}
	out, err := RunScenario(sc, sim.Config{})
	var se *ScenarioError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), `t:1: "dance": unknown step kind`) {
		t.Fatalf("got %v", err)
	}
	if out.Script == nil || out.Script.Refusal != se || len(out.Script.NotRun) != 1 || out.Script.NotRun[0].Number != 1 {
		t.Fatalf("script report %+v", out.Script)
	}
}

// TestRunUntilCountsOperations: "run snap-gen until open 2" waits for two
// opens, not two events: one open records a filesystem event and the
// collector's action event, both with op "open", in one kernel step.
func TestRunUntilCountsOperations(t *testing.T) {
	steps := append(listSteps(), ScenarioStep{Kind: StepRunUntil, Actor: "snap-gen", Op: "open", N: 2, Source: "t:4", Text: "run snap-gen until open 2"},
		ScenarioStep{Kind: StepRunSteps, Actor: "writer", N: 1, Source: "t:5", Text: "run writer steps 1"})
	sc := Scenario{Config: DefaultConfig("lease-retry"), Seed: 2, Steps: steps}
	out, err := RunScenario(sc, sim.Config{StopOnViolation: true})
	if err != nil {
		t.Fatal(err)
	}
	opens := map[int64]int{} // kernel step -> open events by snap-gen
	in := false
	for _, e := range out.Result.Events {
		if e.Actor == DirectorActor && e.Op == "scenario" {
			in = strings.HasPrefix(e.Detail, "step 4:")
		}
		if in && e.Actor == "snap-gen" && e.Op == "open" {
			opens[e.Step]++
		}
	}
	if len(opens) != 2 {
		t.Fatalf("step 4 ran %d opens (%v), want 2", len(opens), opens)
	}
	twoEvents := false
	for _, n := range opens {
		twoEvents = twoEvents || n >= 2
	}
	if !twoEvents {
		t.Fatalf("no open recorded two events (%v): the test proves nothing", opens)
	}
}

// TestRunIdle: "run gc until idle" completes at once when GC is parked
// (nothing obsolete), and after a pass otherwise: the naive collector's GC
// deletes the replaced file, lease-retry's keeps it and says so (gc-skip);
// then the same "run snap-gen until open" fails for one and not the other.
func TestRunIdle(t *testing.T) {
	idle := ScenarioStep{Kind: StepRunIdle, Actor: "gc", Source: "t:0", Text: "run gc until idle"}
	t.Run("parked at once", func(t *testing.T) {
		// GC's first turn finds nothing obsolete and parks; the second
		// "until idle" gives it no turn at all.
		first := ScenarioStep{Kind: StepRunSteps, Actor: "gc", N: 1, Source: "t:1", Text: "run gc steps 1"}
		sc := Scenario{Config: DefaultConfig("naive"), Seed: 2, Steps: []ScenarioStep{first, idle}}
		out, err := RunScenario(sc, sim.Config{StopOnViolation: true})
		if err != nil {
			t.Fatal(err)
		}
		if !hasEvent(out, DirectorActor, "scenario", "gc is idle at once (parked)") {
			t.Fatal("no 'idle at once' event")
		}
		if out.Script.Completed != 2 || !out.Script.Ended || out.Script.EndStep != 1 {
			t.Fatalf("script report %+v", out.Script)
		}
	})
	// The delayed deleter: the compaction leaves its inputs to GC, whose
	// pass is what "until idle" waits for (with the prompt one the
	// compactor deletes them itself, and GC has nothing to do).
	steps := reportSteps()
	steps[reportDeleteStep] = idle
	for _, c := range []struct {
		collector, op string
		violated      bool
	}{{"naive", "delete", true}, {"lease-retry", "gc-skip", false}} {
		t.Run(c.collector, func(t *testing.T) {
			cfg := DefaultConfig(c.collector)
			cfg.GCMode = "delayed"
			sc := Scenario{Config: cfg, Seed: 2, Steps: steps}
			out, err := RunScenario(sc, sim.Config{StopOnViolation: true})
			if err != nil {
				t.Fatal(err)
			}
			if !hasEvent(out, "gc", c.op, "/db/000001.sst") {
				t.Errorf("gc recorded no %s of /db/000001.sst", c.op)
			}
			if !hasEvent(out, DirectorActor, "scenario", "gc is idle after") {
				t.Error("no 'idle after' event")
			}
			if out.Violated() != c.violated {
				t.Errorf("violated %v, want %v: %v", out.Violated(), c.violated, out.Result.Observations)
			}
			if out.Script.Completed != len(steps) {
				t.Errorf("completed %d of %d steps: %+v", out.Script.Completed, len(steps), out.Script.NotRun)
			}
		})
	}
}

// TestGCSkipOncePerReason: a lease-retry run records each kept file once
// per reason, not on every poll.
func TestGCSkipOncePerReason(t *testing.T) {
	out, err := Run(DefaultConfig("lease-retry"), sim.NewPRNG(18), sim.Config{KeepTrace: true})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	n := 0
	for _, e := range out.Result.Events {
		if e.Op == "gc-skip" {
			n++
			if seen[e.Detail] {
				t.Errorf("gc-skip recorded twice: %s", e.Detail)
			}
			seen[e.Detail] = true
		}
	}
	if n == 0 {
		t.Fatal("lease-retry seed 18 kept no leased file: the test proves nothing")
	}
}

func hasEvent(out Outcome, actor, op, detail string) bool {
	for _, e := range out.Result.Events {
		if e.Actor == actor && e.Op == op && strings.Contains(e.Detail, detail) {
			return true
		}
	}
	return false
}

// TestHangStep: "hang snap-gen for 5ms" keeps snap-gen from running for
// exactly 5 ms of virtual time (its next open comes when the hang ends,
// plus only the open's own cost); "hang n2 for ..." hangs every actor of
// the learner.
func TestHangStep(t *testing.T) {
	steps := append(listSteps(),
		ScenarioStep{Kind: StepHang, Actor: "snap-gen", Duration: 5 * sim.Millisecond, Source: "t:4", Text: "hang snap-gen for 5ms"},
		ScenarioStep{Kind: StepRunUntil, Actor: "snap-gen", Op: "open", N: 1, Source: "t:5", Text: "run snap-gen until open"})
	run := func(steps []ScenarioStep) Outcome {
		t.Helper()
		out, err := RunScenario(Scenario{Config: DefaultConfig("pin"), Seed: 2, Steps: steps}, sim.Config{StopOnViolation: true})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	with, without := run(steps), run(append(append([]ScenarioStep(nil), steps[:3]...), steps[4]))
	hangAt, openWith, openWithout, listAt := sim.Micros(-1), sim.Micros(-1), sim.Micros(-1), sim.Micros(-1)
	for _, e := range with.Result.Events {
		switch {
		case e.Actor == DirectorActor && e.Op == "hang":
			hangAt = e.Time
			if !strings.Contains(e.Detail, "snap-gen for 5.000ms") {
				t.Errorf("hang event %q", e.Detail)
			}
		case e.Actor == "snap-gen" && e.Op == "open" && e.Class == sim.ClassAction && openWith < 0:
			openWith = e.Time
		}
	}
	for _, e := range without.Result.Events {
		switch {
		case e.Actor == "snap-gen" && e.Op == "list" && listAt < 0:
			listAt = e.Time
		case e.Actor == "snap-gen" && e.Op == "open" && e.Class == sim.ClassAction && openWithout < 0:
			openWithout = e.Time
		}
	}
	if hangAt < 0 || openWith < 0 || openWithout < 0 {
		t.Fatalf("missing events: hang %s, open %s / %s", hangAt, openWith, openWithout)
	}
	// Without the hang snap-gen's next steps (its limiter wait and the
	// open) take openWithout-listAt; with it they start 5 ms later.
	if got, want := openWith-hangAt, openWithout-listAt+5*sim.Millisecond; got != want {
		t.Errorf("open %s after the hang, want %s (5ms + the %s it takes without the hang)", got, want, openWithout-listAt)
	}

	node := run([]ScenarioStep{{Kind: StepHang, Node: "n2", Duration: 300, Source: "t:1", Text: "hang n2 for 300us"}})
	if !hasEvent(node, DirectorActor, "hang", "node n2 for 300us, until t=") || !hasEvent(node, DirectorActor, "hang", "n2-gc, applier, n2-snap-gc") {
		t.Errorf("node hang did not hang the learner's actors: %v", node.Result.Events[:8])
	}
}

// TestScriptReportNotRun: a run stopped by a violation lists the script
// steps it did not run and why, in the report and in the trace's last
// event; keep-going (StopOnViolation off) runs them.
func TestScriptReportNotRun(t *testing.T) {
	steps := append(reportSteps(), ScenarioStep{Kind: StepRunSteps, Actor: "writer", N: 1, Source: "t:9", Text: "run writer steps 1"})
	sc := Scenario{Config: DefaultConfig("naive"), Seed: 2, Steps: steps}
	out, err := RunScenario(sc, sim.Config{StopOnViolation: true})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Script
	if r.Completed != 8 || r.Ended || len(r.NotRun) != 1 || r.NotRun[0].Number != 9 || r.NotRun[0].Started {
		t.Fatalf("script report %+v", r)
	}
	want := "the run stopped at the violation at step 103 (open-deleted-file by snap-gen)"
	if r.NotRun[0].Reason != want {
		t.Errorf("reason %q, want %q", r.NotRun[0].Reason, want)
	}
	last := out.Result.Events[len(out.Result.Events)-1]
	if last.Actor != DirectorActor || last.Detail != "not run: step 9 (run writer steps 1)" || last.Result != want {
		t.Errorf("last event %+v", last)
	}
	// Observations during an unfinished script are all "during".
	during, after := out.SplitObservations()
	if len(during) != 2 || len(after) != 0 {
		t.Errorf("split %d/%d", len(during), len(after))
	}

	kept, err := RunScenario(sc, sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if kept.Script.Completed != 9 || !kept.Script.Ended || kept.Script.EndStep <= 103 {
		t.Errorf("keep-going script report %+v", kept.Script)
	}
}

// TestRefusalKeepsTrace: a refused step returns the outcome with the trace
// up to the refusal and the refusal in the report.
func TestRefusalKeepsTrace(t *testing.T) {
	steps := append(reportSteps()[:2], ScenarioStep{Kind: StepRunSteps, Actor: "nobody", N: 1, Source: "t:3", Text: "run nobody steps 1"},
		ScenarioStep{Kind: StepStop, Source: "t:4", Text: "stop"})
	out, err := RunScenario(Scenario{Config: DefaultConfig("naive"), Seed: 2, Steps: steps}, sim.Config{StopOnViolation: true})
	var se *ScenarioError
	if !errors.As(err, &se) || se.Number != 3 || !strings.Contains(se.Why, `no actor named "nobody"`) {
		t.Fatalf("got %v", err)
	}
	if !hasEvent(out, "flusher", "flush", "") || !hasEvent(out, DirectorActor, "scenario", "step 3 refused: run nobody steps 1") {
		t.Fatalf("trace up to the refusal is missing: %d events", len(out.Result.Events))
	}
	r := out.Script
	if r.Refusal != se || r.Completed != 2 || len(r.NotRun) != 2 || !r.NotRun[0].Started || r.NotRun[1].Reason != "step 3 was refused: "+se.Why {
		t.Fatalf("script report %+v", r)
	}
}

// TestDirectorRefusesItself: the director's own actor cannot be run or
// hung.
func TestDirectorRefusesItself(t *testing.T) {
	for _, st := range []ScenarioStep{
		{Kind: StepRunSteps, Actor: DirectorActor, N: 1, Text: "run director steps 1"},
		{Kind: StepHang, Actor: DirectorActor, Duration: 1, Text: "hang director for 1us"},
	} {
		_, err := RunScenario(Scenario{Config: DefaultConfig("naive"), Seed: 2, Steps: []ScenarioStep{st}}, sim.Config{})
		if err == nil || !strings.Contains(err.Error(), "the scenario's own actor") {
			t.Errorf("%s: got %v", st.Text, err)
		}
	}
}

func TestDetailNamesPath(t *testing.T) {
	cases := []struct {
		detail, path string
		want         bool
	}{
		{"open /db/000001.sst: removed at step 62", "/db/000001.sst", true},
		{"n2:/snap/rev_1_1_11.meta deleted by snapshot GC", "/snap/rev_1_1_11.meta", true},
		{"n2:/snap/rev_1_1_11.meta deleted", "n2:/snap/rev_1_1_11.meta", true},
		{"/db/000001.sst", "/db/000001.sst", true},
		{"rename /snap/x.sst.tmp: gone", "/snap/x.sst", false},
		{"open /x/db/000001.sst", "/db/000001.sst", false},
		{"open /db/000001.sst", "000001.sst", false},
		{"open /db/000010.sst then /db/000001.sst", "/db/000001.sst", true},
		{"anything", "", false},
	}
	for _, c := range cases {
		if got := DetailNamesPath(c.detail, c.path); got != c.want {
			t.Errorf("DetailNamesPath(%q, %q) = %v, want %v", c.detail, c.path, got, c.want)
		}
	}
}

func TestScenarioCheck(t *testing.T) {
	out := &Outcome{Result: sim.Result{Observations: []sim.Observation{{Kind: sim.KindPanic, Actor: "x"}}}}
	cases := []struct {
		sc   Scenario
		want string
	}{
		{Scenario{ExpectNone: true}, "expected no observation, got panic"},
		{Scenario{Expect: expect(sim.KindLiveness)}, "expected liveness during the script, observed panic by x at step 0"},
		{Scenario{ExpectNot: expect(sim.KindPanic)}, "expected no panic"},
		{Scenario{Expect: expect(sim.KindPanic)}, ""},
		{Scenario{Expect: []Expectation{{Kind: sim.KindPanic, Actor: "x"}}}, ""},
		{Scenario{Expect: []Expectation{{Kind: sim.KindPanic, Actor: "y"}}}, "expected panic by y during the script, observed panic by x"},
		{Scenario{ExpectNot: []Expectation{{Kind: sim.KindPanic, Actor: "y"}}}, ""},
	}
	for _, c := range cases {
		err := out.Check(&c.sc)
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: got %v, want %q", c.sc, err, c.want)
		}
	}
}

// TestIncompleteRunConfirmsNoAbsence: a run cut off by its step budget
// meets no "expect none" or expect-not-only file (the kind could have come
// later), but a positive expectation it met stays met.
func TestIncompleteRunConfirmsNoAbsence(t *testing.T) {
	cut := &Outcome{Result: sim.Result{End: sim.EndBudget, Steps: 10}}
	for _, sc := range []Scenario{{ExpectNone: true}, {ExpectNot: expect(sim.KindPanic)}} {
		err := cut.Check(&sc)
		if err == nil || !strings.Contains(err.Error(), "ran out of its step budget after 10 steps") {
			t.Errorf("%+v on an incomplete run: got %v", sc, err)
		}
	}
	done := &Outcome{Result: sim.Result{End: sim.EndDone}}
	if err := done.Check(&Scenario{ExpectNone: true}); err != nil {
		t.Errorf("a finished clean run must meet expect none: %v", err)
	}
	met := &Outcome{Result: sim.Result{End: sim.EndBudget, Observations: []sim.Observation{{Kind: sim.KindPanic}}}}
	if err := met.Check(&Scenario{Expect: expect(sim.KindPanic)}); err != nil {
		t.Errorf("a positive expectation met before the budget ran out: %v", err)
	}
}

// TestScenarioCheckScopes: positive expectations look at the script by
// default, at the tail or the whole run when they say so; negative ones
// always at the whole run.
func TestScenarioCheckScopes(t *testing.T) {
	obs := []sim.Observation{
		{Kind: sim.KindSnapFileMissing, Step: 5, Actor: "n2-snap-gc", Detail: "n2:/snap/a.meta deleted"},
		{Kind: sim.KindPanic, Step: 90, Actor: "snap-gen", Detail: "boom"},
	}
	out := &Outcome{Result: sim.Result{Observations: obs}, Script: &ScriptReport{Steps: 1, Completed: 1, Ended: true, EndStep: 10, ScriptObservations: 1}}
	ok := func(x ...Expectation) Scenario { return Scenario{Expect: x} }
	cases := []struct {
		sc   Scenario
		want string
	}{
		{ok(Expectation{Kind: sim.KindSnapFileMissing}), ""},
		{ok(Expectation{Kind: sim.KindSnapFileMissing, Path: "/snap/a.meta"}), ""},
		{ok(Expectation{Kind: sim.KindPanic}), `expected panic during the script, observed snap-file-missing by n2-snap-gc at step 5; it was observed after the script (step 90 by snap-gen: boom): write "expect panic anytime" if that is meant`},
		{ok(Expectation{Kind: sim.KindPanic, Scope: ScopeTail}), ""},
		{ok(Expectation{Kind: sim.KindPanic, Scope: ScopeAnytime}), ""},
		{ok(Expectation{Kind: sim.KindSnapFileMissing, Scope: ScopeTail}), `expected snap-file-missing after the script, observed panic by snap-gen at step 90; it was observed during the script (step 5 by n2-snap-gc: n2:/snap/a.meta deleted): write "expect snap-file-missing during script" if that is meant`},
		{Scenario{ExpectNot: expect(sim.KindPanic)}, "expected no panic, but it was observed (step 90 by snap-gen: boom)"},
		{Scenario{ExpectNone: true}, "expected no observation, got snap-file-missing, panic (first: snap-file-missing at step 5 by n2-snap-gc: n2:/snap/a.meta deleted)"},
	}
	for _, c := range cases {
		err := out.Check(&c.sc)
		if (err == nil) != (c.want == "") || (err != nil && err.Error() != c.want) {
			t.Errorf("%+v:\n got  %v\n want %q", c.sc, err, c.want)
		}
	}
	if got := (Expectation{Kind: sim.KindPanic, Actor: "a", Path: "/p", Scope: ScopeAnytime}).String(); got != "panic by a on /p anytime" {
		t.Errorf("String() = %q", got)
	}
}
