package cli

// simrun replay FILE: corpus files (.scenario, .seed) replay with the
// trace output of a seed replay.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const corpusDir = "../../../seeds/"

func TestReplayScenarioFileText(t *testing.T) {
	// A buggy file that shows its failure meets its expectation: exit 0.
	r := mustExit(t, exitOK, "replay", corpusDir+"report.buggy.scenario", "--actions-only")
	for _, want := range []string{
		"director", "run snap-gen until list", "open-deleted-file",
		"outcome:    violation", "collector:  naive, strategy random, seed 2",
		"VIOLATION panic", "expectation: met (expect open-deleted-file, expect panic)",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r.stdout, " io ") {
		t.Errorf("--actions-only printed filesystem calls:\n%s", r.stdout)
	}
	// The same file twice gives the same trace.
	again := mustExit(t, exitOK, "replay", corpusDir+"report.buggy.scenario", "--actions-only")
	if again.stdout != r.stdout {
		t.Error("two replays of one scenario differ")
	}
}

func TestReplayScenarioFileClean(t *testing.T) {
	r := mustExit(t, exitOK, "replay", corpusDir+"report.fixed.scenario")
	if !strings.Contains(r.stdout, "outcome:    ok") || !strings.Contains(r.stdout, "expectation: met (expect none)") {
		t.Errorf("unexpected output:\n%s", r)
	}
}

func TestReplayFileJSON(t *testing.T) {
	rep, _ := replayJSON(t, exitOK, corpusDir+"naive-default.seed")
	if rep.Outcome != "violation" || rep.Collector != "naive" || rep.Seed != 1 || len(rep.Events) == 0 {
		t.Errorf("seed file JSON: %+v", rep)
	}
	if !strings.HasSuffix(rep.Replay, "replay "+corpusDir+"naive-default.seed") {
		t.Errorf("replay line %q does not name the file", rep.Replay)
	}
	// A seed file replays exactly as the flags it stands for.
	flags, _ := replayJSON(t, exitViolation, "--collector", "naive", "--seed", "1")
	if flags.TraceHash != rep.TraceHash {
		t.Errorf("seed file hash %s, flags hash %s", rep.TraceHash, flags.TraceHash)
	}
	sc, _ := replayJSON(t, exitOK, corpusDir+"tikv-2923.fixed.scenario")
	if sc.Outcome != "ok" || len(sc.Violations) != 0 {
		t.Errorf("fixed scenario JSON: %+v", sc.Violations)
	}
}

func TestReplayFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.scenario")
	if err := os.WriteFile(bad, []byte("collector naive\nrun snap-gen until\nexpect none\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stuck := filepath.Join(dir, "stuck.scenario")
	if err := os.WriteFile(stuck, []byte("collector naive\nseed 2\nrun nobody steps 1\nexpect none\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"malformed", []string{"replay", bad}, bad + `:2: malformed run line; want "run ACTOR until OP [N]" or "run ACTOR steps N"`},
		{"no such actor", []string{"replay", stuck}, stuck + `:3: no actor named "nobody" in this configuration; want one of writer, snap-gen`},
		{"missing", []string{"replay", filepath.Join(dir, "nope.seed")}, "no such file"},
		{"not a corpus file", []string{"replay", "x.txt"}, `"x.txt" is not one (want FILE.scenario, FILE.seed or FILE.draws)`},
		{"two files", []string{"replay", "a.seed", "b.seed"}, "but one corpus file"},
		{"flag clash", []string{"replay", corpusDir + "naive-default.seed", "--seed", "3"}, "--seed cannot be combined with it"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := mustExit(t, exitUsage, c.args...)
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr lacks %q:\n%s", c.want, r)
			}
		})
	}
	// Without a FILE, replay still requires --seed.
	r := mustExit(t, exitUsage, "replay", "--collector", "naive")
	if !strings.Contains(r.stderr, "--seed is required") {
		t.Errorf("seed replay without --seed:\n%s", r)
	}
}

// TestReplayFileRefusedStep: a step the run cannot execute is a mismatch
// (exit 1), printed after the trace up to the refusal; --json carries the
// script report with the refusal.
func TestReplayFileRefusedStep(t *testing.T) {
	p := filepath.Join(t.TempDir(), "refused.scenario")
	body := "collector pin\nseed 2\nrun writer until put\nrestart n2 # n2 is up: refused\nrun snap-gen until list\nexpect none\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustExit(t, exitViolation, "replay", p, "--actions-only")
	for _, want := range []string{
		"writer action put default k000@1=v1 ok", // the trace up to the refusal
		"script:     1 of 3 steps completed",
		"REFUSED step 2: " + p + `:4: "restart n2": node n2 is not down`,
		"expectation: NOT MET: a scenario step was refused",
	} {
		if !strings.Contains(strings.Join(strings.Fields(r.stdout), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("output lacks %q:\n%s", want, r)
		}
	}
	j := mustExit(t, exitViolation, "replay", p, "--json")
	var rep struct {
		Events []json.RawMessage `json:"events"`
		Script *struct {
			Steps     int `json:"steps"`
			Completed int `json:"completed"`
			Refusal   *struct {
				Why string `json:"why"`
			} `json:"refusal"`
		} `json:"script"`
		Expectation struct {
			Met bool `json:"met"`
		} `json:"expectation"`
	}
	if err := json.Unmarshal([]byte(j.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Script == nil || rep.Script.Steps != 3 || rep.Script.Completed != 1 || rep.Script.Refusal == nil || rep.Expectation.Met || len(rep.Events) == 0 {
		t.Fatalf("JSON script report: %+v\n%s", rep.Script, j.stdout)
	}
}
