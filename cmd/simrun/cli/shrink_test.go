package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestShrinkReport: the report's bug (naive, seed 2) shrinks to at most 10
// high-level actions, and replaying the written file reproduces the same
// violation kind with the same trace hash.
func TestShrinkReport(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.draws")
	r := cli(t, "shrink", "--collector", "naive", "--seed", "1", "-o", path)
	if r.code != exitOK {
		t.Fatalf("shrink: %v", r)
	}
	m := regexp.MustCompile(`actions: (\d+) -> (\d+)`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no actions line:\n%v", r)
	}
	before, _ := strconv.Atoi(m[1])
	after, _ := strconv.Atoi(m[2])
	if after > 10 || after >= before {
		t.Fatalf("actions %d -> %d; want <= 10 and fewer than before\n%v", before, after, r)
	}
	hm := regexp.MustCompile(`trace hash ([0-9a-f]{16})`).FindStringSubmatch(r.stdout)
	if hm == nil {
		t.Fatalf("no trace hash:\n%v", r)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var df drawsFile
	if err := json.Unmarshal(data, &df); err != nil {
		t.Fatal(err)
	}
	if df.Expect != "open-deleted-file" || df.TraceHash != hm[1] || df.Collector != "naive" || len(df.Draws) == 0 {
		t.Fatalf("file: %+v", df)
	}

	rep := cli(t, "replay", path, "--actions-only")
	if rep.code != exitOK {
		t.Fatalf("replay: %v", rep)
	}
	if !strings.Contains(rep.stdout, "trace hash: "+hm[1]) || !strings.Contains(rep.stdout, "expectation: met (expect open-deleted-file") {
		t.Fatalf("replay does not reproduce hash %s:\n%v", hm[1], rep)
	}
	if got := strings.Count(rep.stdout, " action "); got != after {
		t.Fatalf("replay shows %d actions, shrink reported %d", got, after)
	}
	var js struct {
		TraceHash  string `json:"trace_hash"`
		Violations []struct {
			Kind string `json:"kind"`
		} `json:"violations"`
	}
	jr := cli(t, "replay", path, "--json")
	if err := json.Unmarshal([]byte(jr.stdout), &js); err != nil {
		t.Fatalf("replay --json: %v\n%v", err, jr)
	}
	if js.TraceHash != hm[1] || len(js.Violations) == 0 || js.Violations[0].Kind != "open-deleted-file" {
		t.Fatalf("replay --json: %+v", js)
	}
	// A file carries its own configuration.
	if c := cli(t, "replay", path, "--collector", "naive"); c.code != exitUsage {
		t.Fatalf("replay FILE --collector: %v", c)
	}

	// Refuses to overwrite without --force, leaves the file alone.
	if err := os.WriteFile(path, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	r2 := cli(t, "shrink", "--collector", "naive", "--seed", "1", "-o", path)
	if r2.code != exitUsage || !strings.Contains(r2.stderr, "already exists") || !strings.Contains(r2.stderr, "--force") {
		t.Fatalf("overwrite without --force: %v", r2)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep" {
		t.Fatalf("file was modified: %q", b)
	}
	r3 := cli(t, "shrink", "--collector", "naive", "--seed", "1", "-o", path, "--force", "--budget", "200")
	if r3.code != exitOK {
		t.Fatalf("--force: %v", r3)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), `"format": "snapsim-draws/1"`) {
		t.Fatalf("file not replaced: %q", b)
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("directory holds %d entries, want 1", len(ents))
	}
}

// TestShrinkDeterministic: the same seed and budget give the same file.
func TestShrinkDeterministic(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.draws"), filepath.Join(dir, "b.draws")
	for _, p := range []string{a, b} {
		if r := cli(t, "shrink", "--collector", "naive", "--seed", "1", "--budget", "300", "-o", p); r.code != exitOK {
			t.Fatalf("shrink: %v", r)
		}
	}
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if string(da) != string(db) {
		t.Fatalf("two shrinks differ:\n%s\n%s", da, db)
	}
}

func TestShrinkNoViolation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.draws")
	r := cli(t, "shrink", "--collector", "lease-retry", "--seed", "2", "-o", path)
	if r.code != exitViolation || !strings.Contains(r.stdout, "no violation") {
		t.Fatalf("no-violation shrink: %v", r)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a file was written for a run without a violation: %v", err)
	}
}

func TestShrinkUsage(t *testing.T) {
	for _, args := range [][]string{
		{"shrink", "--collector", "naive"}, // no seed
		{"shrink", "--collector", "naive", "--seed", "1", "--budget", "0"},
		{"shrink", "--collector", "naive", "--seed", "1", "-o", "x.txt"},
		{"shrink", "--collector", "nope", "--seed", "2"},
	} {
		if r := cli(t, args...); r.code != exitUsage {
			t.Errorf("%q: %v", args, r)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.draws")
	os.WriteFile(bad, []byte(`{"format":"other"}`), 0o644)
	if r := cli(t, "replay", bad); r.code != exitUsage {
		t.Errorf("replay of a bad .draws file: %v", r)
	}
}
