package cli

// Tests of the parallel sweep, shards, --out and merge: the report never
// depends on the number of workers or on how the seeds were split.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// timing matches the only run-dependent parts of a report: elapsed time and
// the rate derived from it, in text and in JSON.
var timing = regexp.MustCompile(`in [0-9.]+s \([0-9]+ steps/s\)|"elapsed_seconds": [0-9.e+-]+`)

func untimed(s string) string { return timing.ReplaceAllString(s, "<timing>") }

func TestWorkersDoNotChangeTheReport(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--collector", "naive", "--seeds", "120", "--keep-going"},
		{"run", "--collector", "naive", "--seeds", "120"},
		{"run", "--collector", "naive", "--seeds", "120", "--seed", "3"},
		{"run", "--collector", "naive", "--seeds", "120", "--keep-going", "--json"},
		{"run", "--collector", "lease-retry", "--seeds", "60"},
	} {
		want := mustExit(t, anyOutcome, append(args, "--workers", "1")...)
		require.Empty(t, want.stderr, "no progress bar when stderr is not a terminal")
		for _, w := range []string{"2", "7"} {
			got := mustExit(t, want.code, append(args, "--workers", w)...)
			require.Equal(t, untimed(want.stdout), untimed(got.stdout), "%v with --workers %s", args, w)
			require.Empty(t, got.stderr)
		}
	}
}

func TestStopsAtTheLowestViolatingSeed(t *testing.T) {
	// Seed 1 is naive's first violation; many workers race past it.
	s := runJSON(t, exitViolation, "run", "--collector", "naive", "--seeds", "500", "--workers", "16")
	require.NotNil(t, s.Violation)
	require.EqualValues(t, 1, s.Violation.Seed)
	require.EqualValues(t, 1, s.SeedsRun)
}

// shardRun runs shard i/n of args with --out and returns the file.
func shardRuns(t *testing.T, dir string, n int, args ...string) []string {
	t.Helper()
	var files []string
	for i := range n {
		f := filepath.Join(dir, "shard-"+string(rune('0'+i))+".jsonl")
		mustExit(t, anyOutcome, append(args, "--shard", string(rune('0'+i))+"/"+string(rune('0'+n)), "--out", f)...)
		files = append(files, f)
	}
	return files
}

func TestShardsMergeToTheSingleRunReport(t *testing.T) {
	dir := t.TempDir()
	args := []string{"run", "--collector", "naive", "--seeds", "150", "--seed", "5", "--keep-going", "--strategy", "pct:3"}
	files := shardRuns(t, dir, 3, args...)
	for _, asJSON := range []bool{false, true} {
		single, merge := args, append([]string{"merge"}, files...)
		if asJSON {
			single, merge = append(single, "--json"), append(merge, "--json")
		}
		want := mustExit(t, exitViolation, single...)
		got := mustExit(t, exitViolation, merge...)
		require.Equal(t, untimed(want.stdout), untimed(got.stdout))
	}
	// Order of the files does not matter.
	got := mustExit(t, exitViolation, "merge", files[2], files[0], files[1])
	want := mustExit(t, exitViolation, args...)
	require.Equal(t, untimed(want.stdout), untimed(got.stdout))

	// A clean sweep merges to exit 0.
	clean := []string{"run", "--collector", "lease-retry", "--seeds", "40", "--keep-going"}
	files = shardRuns(t, t.TempDir(), 2, clean...)
	require.Equal(t, untimed(mustExit(t, exitOK, clean...).stdout), untimed(mustExit(t, exitOK, append([]string{"merge"}, files...)...).stdout))
}

func TestOutFileLines(t *testing.T) {
	f := filepath.Join(t.TempDir(), "out.jsonl")
	mustExit(t, exitViolation, "run", "--collector", "naive", "--seeds", "10", "--keep-going", "--out", f, "--eager-gc")
	data, err := os.ReadFile(f)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 12, "header, 10 seeds, footer")
	var h struct {
		Header map[string]any `json:"header"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &h))
	require.Equal(t, "naive", h.Header["collector"])
	require.Equal(t, []any{"eager-gc"}, h.Header["variants"])
	for i, l := range lines[1:11] {
		m := requireKeys(t, "seed line", l, "seed", "outcome", "trace_hash", "steps")
		require.Equal(t, strconv.Itoa(i+1), string(m["seed"]))
		if string(m["outcome"]) == `"violation"` {
			requireKeys(t, "violating seed line", l, "kinds", "kind", "step", "detail", "violations")
		}
	}
	requireKeys(t, "footer", lines[11], "footer")
	// Nothing but the file is left in the directory.
	entries, err := os.ReadDir(filepath.Dir(f))
	require.NoError(t, err)
	require.Len(t, entries, 1)
}

func TestJobCompletionIndex(t *testing.T) {
	args := []string{"run", "--collector", "naive", "--seeds", "60", "--keep-going", "--json"}
	want := mustExit(t, exitViolation, append(args, "--shard", "2/4")...)
	t.Setenv("JOB_COMPLETION_INDEX", "2")
	got := mustExit(t, exitViolation, append(args, "--shards", "4")...)
	require.Equal(t, untimed(want.stdout), untimed(got.stdout))
	require.Contains(t, got.stdout, `"shard": "2/4"`)

	r := mustExit(t, exitUsage, args...)
	require.Contains(t, r.stderr, "JOB_COMPLETION_INDEX")
	require.Contains(t, r.stderr, "--shards")
	r = mustExit(t, exitUsage, append(args, "--shards", "2")...)
	require.Contains(t, r.stderr, "JOB_COMPLETION_INDEX")
	t.Setenv("JOB_COMPLETION_INDEX", "x")
	mustExit(t, exitUsage, append(args, "--shards", "4")...)
}

func TestShardUsageErrors(t *testing.T) {
	for _, bad := range []string{"3/3", "1", "1/0", "-1/3", "a/3", "1/b", "1/3/4", "/3", "1/", "9999999/99999999"} {
		r := mustExit(t, exitUsage, "run", "--seeds", "5", "--shard", bad)
		require.Contains(t, r.stderr, "--shard", bad)
		require.Contains(t, r.stderr, "I/N", bad)
	}
	r := mustExit(t, exitUsage, "run", "--seeds", "5", "--shard", "1/3", "--shards", "4")
	require.Contains(t, r.stderr, "--shards")
	r = mustExit(t, exitUsage, "run", "--seeds", "5", "--shards", "4")
	require.Contains(t, r.stderr, "JOB_COMPLETION_INDEX")
	r = mustExit(t, exitUsage, "run", "--seeds", "5", "--workers", "0")
	require.Contains(t, r.stderr, "--workers")
}

func TestMergeErrors(t *testing.T) {
	dir := t.TempDir()
	files := shardRuns(t, dir, 3, "run", "--collector", "naive", "--seeds", "30", "--keep-going")
	r := mustExit(t, exitUsage, "merge", files[0], files[2])
	require.Contains(t, r.stderr, "missing shards 1 of 3")
	r = mustExit(t, exitUsage, "merge", files[0], files[0], files[1], files[2])
	require.Contains(t, r.stderr, "both shard 0/3")
	mustExit(t, exitUsage, "merge")
	mustExit(t, exitUsage, "merge", filepath.Join(dir, "nope.jsonl"))

	// Another sweep's shard.
	other := shardRuns(t, t.TempDir(), 3, "run", "--collector", "naive", "--seeds", "31", "--keep-going")
	r = mustExit(t, exitUsage, "merge", files[0], files[1], other[2])
	require.Contains(t, r.stderr, "another sweep")

	// Without --keep-going a shard stops early and cannot be merged.
	stopped := shardRuns(t, t.TempDir(), 3, "run", "--collector", "naive", "--seeds", "30")
	r = mustExit(t, exitUsage, append([]string{"merge"}, stopped...)...)
	require.Contains(t, r.stderr, "--keep-going")

	// A truncated file.
	data, err := os.ReadFile(files[1])
	require.NoError(t, err)
	trunc := filepath.Join(dir, "trunc.jsonl")
	require.NoError(t, os.WriteFile(trunc, data[:len(data)/2], 0o644))
	mustExit(t, exitUsage, "merge", files[0], trunc, files[2])
}
