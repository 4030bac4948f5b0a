package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/properties/fidelity"
)

// A small measurement meets the default --min-agreement: exit 0, the table
// and the verdict printed.
func TestFidelityMeetsTheTarget(t *testing.T) {
	r := mustExit(t, exitOK, "fidelity", "--seqs", "20", "--ops", "40")
	for _, want := range []string{"fidelity: 20 sequences of 40 ops from seed 1", "OBSERVATION", "open", "overall",
		"GROUND TRUTH", "checkpoint links outlive the originals", "ok: overall agreement"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// Below --min-agreement the command exits 1 and says so: a negative
// control (no trivial moves) over the same sequences.
func TestFidelityBelowTheTargetExits1(t *testing.T) {
	r := mustExit(t, exitViolation, "fidelity", "--seqs", "30", "--ops", "40", "--control", "no-trivial-moves")
	if !strings.Contains(r.stdout, "BELOW: overall agreement") || !strings.Contains(r.stdout, "no-trivial-move") ||
		!strings.Contains(r.stdout, "negative control no-trivial-moves") {
		t.Errorf("output:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "simrun fidelity --seed SEED --seqs 1 --ops 40 --control no-trivial-moves") {
		t.Errorf("the replay hint does not carry the control:\n%s", r.stdout)
	}
	// The same run with the threshold at 0 passes.
	mustExit(t, exitOK, "fidelity", "--seqs", "30", "--ops", "40", "--control", "no-trivial-moves", "--min-agreement", "0")
}

// --seqs 1 replays one sequence: every op, both systems' state after it,
// and the observations.
func TestFidelityReplayOneSequence(t *testing.T) {
	r := mustExit(t, exitOK, "fidelity", "--seed", "0x7", "--seqs", "1", "--ops", "30")
	for _, want := range []string{"sequence of seed 7 (", "  0  ", "pebble: ", "model:  ", "version "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestFidelityJSON(t *testing.T) {
	r := mustExit(t, exitOK, "fidelity", "--seqs", "5", "--ops", "40", "--format", "json", "--keys", "8", "--max-value-bytes", "64")
	var rep fidelity.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if rep.Seqs != 5 || rep.Ops != 40 || rep.Keys != 8 || rep.MaxValueBytes != 64 || rep.Overall.Total == 0 || len(rep.Truths) != 3 {
		t.Errorf("report %+v", rep)
	}
}

// Bad input exits 2 with a message naming the flag and the expected form;
// echoed input is clipped.
func TestFidelityBadInput(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--seqs", "0"}, "--seqs: 0 is out of range (want 1..1000000)"},
		{[]string{"--seqs", "ten"}, "--seqs"},
		{[]string{"--ops", "-3"}, "--ops: -3 is out of range (want 1..100000)"},
		{[]string{"--seed", "-1"}, "--seed: \"-1\" is not a seed (want a decimal or 0x-hex unsigned 64-bit integer"},
		{[]string{"--min-agreement", "101"}, "--min-agreement: \"101\" is not a percentage (want a number from 0 to 100, e.g. 99.5)"},
		{[]string{"--min-agreement", "NaN"}, "--min-agreement: \"NaN\" is not a percentage"},
		{[]string{"--min-agreement", long}, "…(300 bytes)"},
		{[]string{"--format", "csv"}, "--format: \"csv\" is not a format (want table or json)"},
		{[]string{"--keys", "1"}, "--keys: 1 is out of range (want 2..1000, or 0 to draw it per sequence)"},
		{[]string{"--max-value-bytes", "7"}, "--max-value-bytes: 7 is out of range (want 8..65536, or 0 to draw it per sequence)"},
		{[]string{"--show", "-2"}, "--show: -2 is out of range"},
		{[]string{"--control", "maybe"}, "--control: \"maybe\" is not a control (want none or one of delayed-gc, no-trivial-moves, one-pick)"},
		{[]string{"extra"}, "fidelity takes no positional arguments"},
	} {
		r := mustExit(t, exitUsage, append([]string{"fidelity"}, c.args...)...)
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: stderr %q lacks %q", c.args, r.stderr, c.want)
		}
		if r.stdout != "" {
			t.Errorf("%v: bad input printed a report: %q", c.args, r.stdout)
		}
	}
}
