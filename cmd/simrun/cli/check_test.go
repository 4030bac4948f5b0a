package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// verifiedCounts extracts "N executions" and the levels from check's
// verdict, for comparing two explorations.
var verdictCounts = regexp.MustCompile(`(\d+) executions? after reduction \((\d+) subtrees? pruned, (\d+) runs? cut.*levels: ([^)]*)\)`)

func countsOf(t *testing.T, out string) string {
	t.Helper()
	m := verdictCounts.FindStringSubmatch(strings.ReplaceAll(out, "\n", " "))
	if m == nil {
		t.Fatalf("no counts in:\n%s", out)
	}
	return strings.Join(m[1:], " ")
}

// TestCheckVerifiedAndSplit: lease-retry is verified on the report scope
// (exit 0, the verdict names the scope, the bounds and the kinds), with
// the same counts on one worker, two workers, and merged from three shards.
func TestCheckVerifiedAndSplit(t *testing.T) {
	r := mustExit(t, exitOK, "check", "--collector", "lease-retry", "--scope", "report", "--workers", "1")
	for _, want := range []string{"verified: ", "of scope report with ≤ 2 delays and ≤ 0 faults", "lease-retry never showed any of open-deleted-file, panic", "within the scope and these bounds only"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("verdict lacks %q:\n%s", want, r.stdout)
		}
	}
	one := countsOf(t, r.stdout)
	two := countsOf(t, mustExit(t, exitOK, "check", "--collector", "lease-retry", "--scope", "report", "--workers", "2").stdout)
	dir := t.TempDir()
	var files []string
	for i := 0; i < 3; i++ {
		f := filepath.Join(dir, "s"+string(rune('0'+i))+".jsonl")
		mustExit(t, exitOK, "check", "--collector", "lease-retry", "--scope", "report", "--shard", string(rune('0'+i))+"/3", "--out", f, "--workers", "1")
		files = append(files, f)
	}
	// Every line carries its checksum member once (a JSON object with a
	// key twice is one many decoders reject).
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if n := strings.Count(line, `"sum":`); n != 1 {
				t.Fatalf("%s:%d has %d \"sum\" members, want 1: %s", f, i+1, n, line)
			}
		}
	}
	merged := countsOf(t, mustExit(t, exitOK, append([]string{"merge"}, files...)...).stdout)
	if one != two || one != merged {
		t.Fatalf("counts differ: 1 worker %q, 2 workers %q, 3 shards merged %q", one, two, merged)
	}
	// A missing shard is not a verdict.
	r = mustExit(t, exitUsage, "merge", files[0], files[1])
	if !strings.Contains(r.stderr, "have 2 shards of an exploration split into 3") {
		t.Fatalf("merge of 2 of 3 shards:\n%s", r)
	}
	// An edited line is named by FILE:LINE.
	data, _ := os.ReadFile(files[1])
	bad := filepath.Join(dir, "bad.jsonl")
	_ = os.WriteFile(bad, []byte(strings.Replace(string(data), `"executions":`, `"executions": `, 1)), 0o644)
	if r := mustExit(t, exitUsage, "merge", files[0], bad, files[2]); !strings.Contains(r.stderr, "bad.jsonl:") {
		t.Fatalf("merge of an edited shard:\n%s", r)
	}
}

// TestCheckCounterexample: naive is caught with one delay (exit 1); the
// .draws file replays to the same violation and trace hash (exit 0), and
// timeline draws it.
func TestCheckCounterexample(t *testing.T) {
	dir := t.TempDir()
	draws := filepath.Join(dir, "naive.draws")
	r := mustExit(t, exitViolation, "check", "--collector", "naive", "--scope", "report", "-o", draws)
	for _, want := range []string{"COUNTEREXAMPLE open-deleted-file", "with 1 delay and 0 faults", "no execution with fewer delays", "wrote " + draws} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("counterexample report lacks %q:\n%s", want, r.stdout)
		}
	}
	rep := mustExit(t, exitOK, "replay", draws, "--actions-only")
	if !strings.Contains(rep.stdout, "expectation: met") || !strings.Contains(rep.stdout, "found by simrun check in scope report") {
		t.Fatalf("replay of the counterexample:\n%s", rep)
	}
	svg := filepath.Join(dir, "naive.svg")
	if r := mustExit(t, exitOK, "timeline", draws, "-o", svg); !strings.Contains(r.stdout, "3 legs") {
		t.Fatalf("timeline of the counterexample:\n%s", r)
	}
	// The file is not overwritten without --force, and that is checked
	// before the exploration.
	if r := mustExit(t, exitUsage, "check", "--collector", "naive", "--scope", "report", "-o", draws); !strings.Contains(r.stderr, "-o") {
		t.Fatalf("existing -o file:\n%s", r)
	}
}

// TestCheckIncomplete: a budget that runs out, or executions cut by the
// step bound, are never "verified" (exit 3), and say how far they got.
func TestCheckIncomplete(t *testing.T) {
	r := mustExit(t, exitIncomplete, "check", "--collector", "lease-retry", "--scope", "report", "--budget", "20", "--workers", "1")
	if !strings.Contains(r.stdout, "INCOMPLETE") || !strings.Contains(r.stdout, "budget of 20 runs") || !strings.Contains(r.stdout, "got to level K=") || strings.Contains(r.stdout, "verified:") {
		t.Fatalf("budget:\n%s", r)
	}
	r = mustExit(t, exitIncomplete, "check", "--collector", "lease-retry", "--scope", "report", "--max-steps", "30", "--delays", "0")
	if !strings.Contains(r.stdout, "reached the step budget of 30") {
		t.Fatalf("step bound:\n%s", r)
	}
}

// TestCheckBadInput: exit 2 naming the flag or FILE:LINE and the form.
func TestCheckBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.scope")
	_ = os.WriteFile(bad, []byte("scope mine\nsummary s\ndelays 99\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "--collector", "naive"}, "--scope is required"},
		{[]string{"check", "--collector", "naive", "--scope", "nope"}, `--scope: unknown scope "nope" (want one of lease-stall, recycled-tid, report, snap-gc-apply, split-merge, or a FILE.scope)`},
		{[]string{"check", "--collector", "bogus", "--scope", "report"}, `--collector: unknown collector "bogus"`},
		{[]string{"check", "--scope", "report", "--delays", "9"}, "--delays: 9 is out of range (want 0..8)"},
		{[]string{"check", "--scope", "report", "--faults", "-1"}, "--faults: -1 is out of range (want 0..8)"},
		{[]string{"check", "--scope", "report", "--width", "1"}, "--width: 1 is out of range (want 2..64)"},
		{[]string{"check", "--scope", "report", "--delays", "two"}, `--delays: "two" is not valid: want a decimal or 0x-hex integer`},
		{[]string{"check", "--scope", "report", "--shard", "3/3"}, "--shard: \"3/3\" is not a shard"},
		{[]string{"check", "--scope", "report", "--traces"}, "--traces needs an unsplit exploration"},
		{[]string{"check", "--scope", bad}, bad + ":3: bad value \"99\"; want \"delays K\" with N in 0..8"},
		{[]string{"check", "--scope", filepath.Join(dir, "missing.scope")}, "--scope: open"},
		{[]string{"check", "--scope", "report", "-o", filepath.Join(dir, "x.txt")}, "want a name ending in .draws"},
	} {
		r := mustExit(t, exitUsage, c.args...)
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("simrun %s: stderr lacks %q:\n%s", strings.Join(c.args, " "), c.want, r)
		}
	}
}

// TestScopesList: simrun scopes lists every built-in scope with its bounds.
func TestScopesList(t *testing.T) {
	r := mustExit(t, exitOK, "scopes", "-v")
	for _, want := range []string{"report", "split-merge", "snap-gc-apply", "recycled-tid", "lease-stall", "delays 2, faults 0", "can show: open-deleted-file"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("scopes lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestCheckInterrupted: a signal stops the exploration; the report says
// how far it got (never "verified") and simrun exits 128+N.
func TestCheckInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errInterrupted{syscall.SIGINT})
	var out, errb bytes.Buffer
	code := executeContext(ctx, []string{"check", "--collector", "lease-retry", "--scope", "report", "--workers", "1"}, &out, &errb)
	if code != 130 || !strings.Contains(out.String(), "INCOMPLETE") || !strings.Contains(out.String(), "interrupted") || strings.Contains(out.String(), "verified:") {
		t.Fatalf("interrupted check: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
}
