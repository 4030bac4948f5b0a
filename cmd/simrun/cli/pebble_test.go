package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/model/designs"
)

// naive over real Pebble: every round's open of a compacted-away file
// fails with ENOENT; exit 1, the ENOENT printed.
func TestPebbleNaiveExits1(t *testing.T) {
	r := mustExit(t, exitViolation, "pebble", "--collector", "naive", "--rounds", "2")
	for _, want := range []string{"design naive over pebble v1.1.5, seed 1: 2 rounds", "round 1 (gen-1): panic", "open: No such file or directory (os error 2)", "ENOENT gen-1 at", "ENOENT opens 2"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// pin over real Pebble: clean, exit 0.
func TestPebblePinExits0(t *testing.T) {
	r := mustExit(t, exitOK, "pebble", "--collector", "pin", "--rounds", "2", "--seed", "0x2")
	if !strings.Contains(r.stdout, "ok 2, error 0, panic 0, unfinished 0, not started 0; ENOENT opens 0") || !strings.Contains(r.stdout, "matches Pebble's iterator: true") {
		t.Errorf("output:\n%s", r.stdout)
	}
}

// A design that needs leases is refused before anything runs: exit 2,
// the reason on stderr.
func TestPebbleLeaseRefusedExits2(t *testing.T) {
	r := mustExit(t, exitUsage, "pebble", "--collector", "lease-retry")
	if !strings.Contains(r.stderr, "--collector lease-retry: realpebble: design lease-retry needs file leases (model.Leaser)") ||
		!strings.Contains(r.stderr, "Pebble v1.1.5 has no file leases") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

func TestPebbleBadFlagsExit2(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--collector", "nope"}, `--collector: "nope" is not a design (want one of [naive retry pin lease lease-retry checkpoint scan pebble-checkpoint])`},
		{[]string{"--rounds", "0"}, "--rounds: 0 is out of range (want 1..10000)"},
		{[]string{"--keys", "5000"}, "--keys: 5000 is out of range (want 1..1000)"},
		{[]string{"--seed", "x"}, "--seed"},
	} {
		r := mustExit(t, exitUsage, append([]string{"pebble"}, c.args...)...)
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("simrun pebble %v: stderr lacks %q:\n%s", c.args, c.want, r.stderr)
		}
	}
}

// A user's design handed to the CLI (WithDesigns) runs over real Pebble
// too, unchanged: here naive under another name, which meets the same
// ENOENT.
func TestPebbleRunsAUsersDesign(t *testing.T) {
	mine := designs.Naive()
	mine.Name = "mine"
	e, err := newEnv(WithDesigns(mine))
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := executeEnv(context.Background(), e, []string{"pebble", "--collector", "mine", "--rounds", "1"}, &out, &errb)
	if code != exitViolation || !strings.Contains(out.String(), "design mine over pebble v1.1.5") || !strings.Contains(out.String(), "ENOENT gen-1") {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
}
