package seeds

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// TestParseNewForms: keep-going, "run ACTOR until idle", hang of an actor
// and of a node, and the expectation clauses.
func TestParseNewForms(t *testing.T) {
	src := `collector lease-retry
keep-going
seed 2
run gc until idle
hang snap-gen for 5ms
hang n2 for 300us
hang gc for 2s
expect open-deleted-file by snap-gen on /db/000001.sst
expect panic anytime
expect snap-file-missing on n2:/snap/rev_1_1_11.meta after script
expect liveness during script
expect-not open-deleted-file by gc
expect-not gc-deleted-pinned-file on /db/000002.sst
`
	f, err := Parse("n.scenario", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if !f.KeepGoing {
		t.Error("keep-going not set")
	}
	if sc, _ := f.SimConfig(); sc.StopOnViolation {
		t.Error("keep-going file stops on violations")
	}
	want := []model.ScenarioStep{
		{Kind: model.StepRunIdle, Actor: "gc"},
		{Kind: model.StepHang, Actor: "snap-gen", Duration: 5 * sim.Millisecond},
		{Kind: model.StepHang, Node: "n2", Duration: 300},
		{Kind: model.StepHang, Actor: "gc", Duration: 2 * sim.Second},
	}
	for i, w := range want {
		g := f.Scenario.Steps[i]
		w.Source, w.Text = g.Source, g.Text
		if g != w {
			t.Errorf("step %d: got %+v, want %+v", i, g, w)
		}
	}
	wantExpect := []model.Expectation{
		{Kind: sim.KindOpenDeletedFile, Actor: "snap-gen", Path: "/db/000001.sst"},
		{Kind: sim.KindPanic, Scope: model.ScopeAnytime},
		{Kind: sim.KindSnapFileMissing, Path: "n2:/snap/rev_1_1_11.meta", Scope: model.ScopeTail},
		{Kind: sim.KindLiveness},
	}
	if len(f.Scenario.Expect) != len(wantExpect) {
		t.Fatalf("expect %+v", f.Scenario.Expect)
	}
	for i, w := range wantExpect {
		if f.Scenario.Expect[i] != w {
			t.Errorf("expect %d: got %+v, want %+v", i, f.Scenario.Expect[i], w)
		}
	}
	wantNot := []model.Expectation{
		{Kind: sim.KindOpenDeletedFile, Actor: "gc"},
		{Kind: sim.KindGCDeletedPinnedFile, Path: "/db/000002.sst"},
	}
	for i, w := range wantNot {
		if f.Scenario.ExpectNot[i] != w {
			t.Errorf("expect-not %d: got %+v, want %+v", i, f.Scenario.ExpectNot[i], w)
		}
	}
	// Without keep-going a file stops at the first violation.
	g, err := Parse("s.scenario", []byte("expect none\n"))
	if err != nil {
		t.Fatal(err)
	}
	if sc, _ := g.SimConfig(); !sc.StopOnViolation {
		t.Error("a file without keep-going does not stop on violations")
	}
}

// TestParseNewFormErrors: every new form has its error naming file:line
// and the expected form.
func TestParseNewFormErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"keep-going arity", "keep-going now\n", `a.scenario:1: want "keep-going"`},
		{"keep-going twice", "keep-going\nkeep-going\n", `a.scenario:2: keep-going given twice (first at line 1)`},
		{"keep-going after a step", "run gc until idle\nkeep-going\n", `a.scenario:2: configuration line "keep-going" after a step`},
		{"idle with N", "run gc until idle 2\n", `a.scenario:1: malformed run line; want "run ACTOR until idle" with no count`},
		{"bad actor", "run GC until idle\n", `a.scenario:1: bad actor "GC" in run line`},
		{"bad op", "run gc until Delete\n", `a.scenario:1: bad op "Delete" in run line; want "run ACTOR until OP [N]"`},
		{"hang form", "hang gc 5ms\n", `a.scenario:1: malformed hang line; want "hang ACTOR for DURATION" or "hang NODE for DURATION"`},
		{"hang unit", "hang gc for 5\n", `a.scenario:1: bad duration "5"; want "hang ACTOR for DURATION"`},
		{"hang zero", "hang gc for 0ms\n", `a.scenario:1: bad duration "0ms"`},
		{"hang sign", "hang gc for -5ms\n", `a.scenario:1: bad duration "-5ms"`},
		{"hang huge", "hang gc for 99999999999s\n", `a.scenario:1: bad duration "99999999999s"`},
		{"hang bad target", "hang n1:x for 5ms\n", `a.scenario:1: bad actor "n1:x" in hang line`},
		{"step after stop", "stop\nrun gc until idle\n", `a.scenario:2: a step after the stop at line 1; want stop as the last step`},
		{"by without actor", "expect panic by\n", `a.scenario:1: "by" without its argument; want "expect KIND [by ACTOR] [on PATH] [during script|after script|anytime]"`},
		{"by twice", "expect panic by a by b\n", `a.scenario:1: "by" given twice`},
		{"on twice", "expect panic on /a on /b\n", `a.scenario:1: "on" given twice`},
		{"bad path", "expect panic on db\n", `a.scenario:1: bad path "db"; want "on PATH" with PATH a whole path`},
		{"bad by actor", "expect panic by Snap\n", `a.scenario:1: bad actor "Snap"; want "by ACTOR"`},
		{"scope not last", "expect panic anytime by gc\n", `a.scenario:1: "by" after the scope; want the scope last`},
		{"two scopes", "expect panic anytime\nexpect panic during script after script\n", `a.scenario:2: "after" after the scope`},
		{"unknown clause", "expect panic soon\n", `a.scenario:1: unexpected "soon"; want "expect KIND [by ACTOR]`},
		{"half scope", "expect panic after\n", `a.scenario:1: unexpected "after"`},
		{"expect-not scope", "expect-not panic anytime\n", `a.scenario:1: "anytime": expect-not always covers the whole run, tail included; want "expect-not KIND [by ACTOR] [on PATH]"`},
		{"twice with clauses", "expect panic by gc\nexpect panic by gc\n", `a.scenario:2: panic by gc given twice (first at line 1); want one expect line per expectation`},
		{"contradiction", "expect panic by gc\nexpect-not panic\n", `a.scenario:2: expect-not line contradicts line 1 (expect panic by gc, expect-not panic)`},
		{"expect none extra", "expect none please\n", `a.scenario:1: "expect none" takes nothing after it`},
		{"contradiction reversed", "expect-not panic on /db/1\nexpect panic by gc on /db/1\n", `a.scenario:2: expect line contradicts line 1`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("a.scenario", []byte(c.src))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *ParseError", err)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got  %q\nwant %q...", err, c.want)
			}
		})
	}
	// Not a contradiction: the expect-not is narrower (another actor).
	if _, err := Parse("a.scenario", []byte("expect panic by snap-gen\nexpect-not panic by gc\n")); err != nil {
		t.Errorf("narrower expect-not refused: %v", err)
	}
	// Seed files have no script, so no scope.
	if _, err := Parse("s.seed", []byte("seed 1\nexpect panic anytime\n")); err == nil || !strings.Contains(err.Error(), `s.seed:2: "anytime": a seed file has no script`) {
		t.Errorf("seed file scope: %v", err)
	}
}

// TestConfigErrorNamesItsLine: a tikv.Config.Validate error points at the
// set line that gave the offending value (the last one, if set twice), not
// at the file's last line; with no such line, at the profile line, else
// line 1.
func TestConfigErrorNamesItsLine(t *testing.T) {
	cases := []struct{ src, want string }{
		{"collector naive\nset key_space 4\n\nset key_space 0 # zero\nseed 1\nexpect none\n", "a.scenario:4: config: key_space must be in 1..1000"},
		{"set snap_generators 9\nexpect none\n", "a.scenario:1: config: snap_generators must be in 1..8"},
		{"profile faults\nset max_crashes 101\nexpect none\n", "a.scenario:2: config: max_crashes must be in 0..100"},
		{"# header\n\nseed 1\nset max_steps 0\nexpect none\n", "a.scenario:4: max_steps 0 out of range"},
	}
	for _, c := range cases {
		_, err := Parse("a.scenario", []byte(c.src))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q:\n got  %v\n want %q...", c.src, err, c.want)
		}
	}
	for _, c := range []struct {
		msg, field string
	}{
		{"config: key_space must be in 1..1000", "key_space"},
		{"config: initial_regions must be in 0..key_space", "key_space"},
		{"config: value_bytes must be in 1..65536", ""},
	} {
		if got := validateField(c.msg, setFields(defaultSpec())); got != c.field {
			t.Errorf("validateField(%q) = %q, want %q", c.msg, got, c.field)
		}
	}
	seen := map[string]int{"profile": 3, "collector": 2}
	if got := configLine(map[string]int{}, seen, "value_bytes"); got != 3 {
		t.Errorf("fallback to the profile line: %d", got)
	}
	if got := configLine(map[string]int{}, map[string]int{}, ""); got != 1 {
		t.Errorf("fallback to line 1: %d", got)
	}
}

// TestHugeInputIsClipped: user input echoed in an error is clipped, so a
// 20 MB line does not come back whole.
func TestHugeInputIsClipped(t *testing.T) {
	huge := strings.Repeat("x", 20<<20)
	for _, src := range []string{
		huge + "\n",                        // unknown line
		"collector " + huge + "\n",         // unknown collector
		"expect " + huge + "\n",            // unknown kind
		"expect panic on /" + huge + "\n",  // too long a path
		"set lease_ttl_us 1" + huge + "\n", // bad value
		"run " + huge + " until idle\n",    // bad actor
		"run gc until " + huge + "\n",      // bad op
		"hang gc for " + huge + "ms\n",     // bad duration
		"expect panic " + huge + "\n",      // unexpected clause
		"seed " + huge + "\nexpect none\n", // bad seed
		"strategy " + huge + "\n",          // bad strategy
		"run gc steps 1\n" + huge + " 1\n", // unknown line after a step
	} {
		_, err := Parse("big.scenario", []byte(src))
		if err == nil {
			t.Fatalf("no error for a %d-byte line", len(src))
		}
		if len(err.Error()) > 2000 {
			t.Errorf("error of %d bytes: %.200s", len(err.Error()), err)
		}
		if strings.Contains(src[:min(len(src), 40)], "xxxx") && !strings.Contains(err.Error(), "…(") {
			t.Errorf("clipped input not marked: %.200s", err)
		}
	}
	if got := clip(strings.Repeat("é", 40)); !strings.HasSuffix(got, "…(80 bytes)") || !strings.HasPrefix(got, strings.Repeat("é", 30)) {
		t.Errorf("clip cuts a rune or misreports the length: %q", got)
	}
	if got := clip("short"); got != "short" {
		t.Errorf("clip(short) = %q", got)
	}
}

// TestCommentLineKeepsHash: the trace hash of a scenario does not depend
// on its file's name nor on where its steps stand: adding comment and blank
// lines, or renaming the file, keeps it; changing a step does not.
func TestCommentLineKeepsHash(t *testing.T) {
	data, err := os.ReadFile("report.buggy.scenario")
	if err != nil {
		t.Fatal(err)
	}
	hash := func(name string, data []byte) uint64 {
		t.Helper()
		f, err := Parse(name, data)
		if err != nil {
			t.Fatal(err)
		}
		out, err := f.Replay()
		if err != nil {
			t.Fatal(err)
		}
		return out.Result.TraceHash
	}
	base := hash("report.buggy.scenario", data)
	commented := strings.Replace(string(data), "run compactor until compact", "# a new comment\n\nrun compactor until compact   # and a trailing one", 1)
	if commented == string(data) {
		t.Fatal("the corpus file changed: no step to comment")
	}
	if got := hash("report.buggy.scenario", []byte("# top\n"+commented)); got != base {
		t.Errorf("comment lines changed the hash: %x vs %x", got, base)
	}
	if got := hash("elsewhere/renamed.buggy.scenario", data); got != base {
		t.Errorf("renaming changed the hash: %x vs %x", got, base)
	}
	changed := strings.Replace(string(data), "run writer steps 12", "run writer steps 11", 1)
	if got := hash("report.buggy.scenario", []byte(changed)); got == base {
		t.Error("a changed step kept the hash: the test proves nothing")
	}
}

// TestTailCannotMeetABuggyExpectation: a scenario whose expected
// violation happens only in the random schedule after its script fails its
// check, and passes only when it asks for the tail.
func TestTailCannotMeetABuggyExpectation(t *testing.T) {
	script := "collector naive\nseed 1\nrun writer steps 1\n"
	check := func(expect string) error {
		t.Helper()
		f, err := Parse("tail.buggy.scenario", []byte(script+expect+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := f.Replay()
		if err != nil {
			t.Fatal(err)
		}
		if !out.Violated() || out.Script == nil || !out.Script.Ended || out.Script.ScriptObservations != 0 {
			t.Fatalf("the tail did not find the violation alone: %+v %v", out.Script, out.Result.Observations)
		}
		return f.Check(&out)
	}
	err := check("expect open-deleted-file")
	if err == nil || !strings.Contains(err.Error(), "expected open-deleted-file during the script, observed nothing; it was observed after the script") || !strings.Contains(err.Error(), `write "expect open-deleted-file anytime"`) {
		t.Errorf("got %v", err)
	}
	for _, ok := range []string{"expect open-deleted-file anytime", "expect open-deleted-file after script", "expect panic by snap-gen after script"} {
		if err := check(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	if err := check("expect-not panic"); err == nil || !strings.Contains(err.Error(), "expected no panic, but it was observed") {
		t.Errorf("expect-not ignores the tail: %v", err)
	}
}

// TestExpectByAndOn: "by ACTOR" and "on PATH" select observations.
func TestExpectByAndOn(t *testing.T) {
	f, err := Load("report.buggy.scenario")
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Replay()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		line string
		ok   bool
	}{
		{"expect open-deleted-file by snap-gen on /db/000001.sst", true},
		{"expect open-deleted-file on /db/000001.sst by snap-gen", true},
		{"expect open-deleted-file by gc", false},
		{"expect open-deleted-file on /db/000002.sst", false},
		{"expect open-deleted-file on /db/000001", false},
		{"expect panic by snap-gen on /db/000001.sst", true},
		{"expect-not open-deleted-file by gc", true},
		{"expect-not open-deleted-file by snap-gen", false},
	} {
		g, err := Parse("x.scenario", []byte(c.line+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		err = g.Check(&out)
		if (err == nil) != c.ok {
			t.Errorf("%s: got %v, want ok=%v", c.line, err, c.ok)
		}
	}
}

// TestReplayRefusalKeepsTrace: a refused step returns the outcome with the
// trace up to the refusal, and the refusal in the script report.
func TestReplayRefusalKeepsTrace(t *testing.T) {
	f, err := Parse("r.scenario", []byte("collector naive\nseed 2\nrun writer steps 12\nrun flusher until flush\nrun writer steps 1000\nrun gc until idle\nexpect none\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Replay()
	var se *model.ScenarioError
	if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), `r.scenario:5: "run writer steps 1000": actor writer has finished`) {
		t.Fatalf("got %v", err)
	}
	if len(out.Result.Events) < 20 || out.Result.EventCount != len(out.Result.Events) {
		t.Fatalf("outcome has %d events", len(out.Result.Events))
	}
	last := out.Result.Events[len(out.Result.Events)-1]
	if last.Actor != model.DirectorActor || !strings.Contains(last.Detail, "step 3 refused") {
		t.Errorf("last event %+v", last)
	}
	r := out.Script
	if r == nil || r.Refusal != se || r.Completed != 2 || len(r.NotRun) != 2 || r.NotRun[1].Step.Text != "run gc until idle" {
		t.Errorf("script report %+v", r)
	}
}

// TestKeepGoingShowsTheFailingOpen: with keep-going, tikv-15053's script
// goes on past the removal to the applier's failing stat; without it the
// run stops at the removal and says which step it did not run.
func TestKeepGoingShowsTheFailingOpen(t *testing.T) {
	data, err := os.ReadFile("tikv-15053.buggy.scenario")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("k.scenario", data)
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Replay()
	if err != nil {
		t.Fatal(err)
	}
	if !out.Script.Ended || len(out.Script.NotRun) != 0 {
		t.Errorf("keep-going script report %+v", out.Script)
	}
	stopped, err := Parse("k.scenario", []byte(strings.Replace(string(data), "\nkeep-going\n", "\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	out, err = stopped.Replay()
	if err != nil {
		t.Fatal(err)
	}
	r := out.Script
	if r.Ended || len(r.NotRun) != 2 || !strings.HasPrefix(r.NotRun[0].Reason, "the run stopped at the violation at step") {
		t.Fatalf("script report %+v", r)
	}
	if err := stopped.Check(&out); err == nil || !strings.Contains(err.Error(), "expected open-deleted-file by applier") {
		t.Errorf("without keep-going the applier's failure is not observed, yet: %v", err)
	}
}

// TestScriptWithoutSteps: a scenario without steps ends its script before
// the first decision, so its positive expectations need "anytime" or
// "after script" like any other tail observation.
func TestScriptWithoutSteps(t *testing.T) {
	for _, c := range []struct {
		expect string
		ok     bool
	}{{"expect open-deleted-file", false}, {"expect open-deleted-file anytime", true}} {
		f, err := Parse("empty.scenario", []byte("collector naive\nseed 1\n"+c.expect+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		out, err := f.Replay()
		if err != nil {
			t.Fatal(err)
		}
		if r := out.Script; r == nil || !r.Ended || r.EndStep != 0 || r.Steps != 0 {
			t.Fatalf("script report %+v", r)
		}
		if err := f.Check(&out); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.expect, err)
		}
	}
}
