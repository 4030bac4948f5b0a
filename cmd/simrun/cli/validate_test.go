package cli

import (
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// validateArgs is a small validation: two collectors × two profiles.
var validateArgs = []string{"validate", "--collectors", "naive,lease-retry", "--profiles", "default,heavy-compaction", "--seeds", "12"}

var allKinds = []string{"open-deleted-file", "panic", "inconsistent-snapshot", "gc-deleted-pinned-file",
	"file-leak", "snap-file-missing", "liveness", "nondeterminism"}

type jsonCell struct {
	Collector      string            `json:"collector"`
	Profile        string            `json:"profile"`
	Strategy       string            `json:"strategy"`
	FirstSeed      uint64            `json:"first_seed"`
	Seeds          uint64            `json:"seeds"`
	ViolatingSeeds uint64            `json:"violating_seeds"`
	Kinds          map[string]uint64 `json:"kinds"`
	FirstViolation *uint64           `json:"first_violation_index"`
	Incomplete     uint64            `json:"incomplete_seeds"`
	FirstIncomp    *uint64           `json:"first_incomplete_index"`
	Checked        uint64            `json:"determinism_checked"`
	RetriesP50     int               `json:"retries_p50"`
	RetriesP99     int               `json:"retries_p99"`
	LatencyP50US   int64             `json:"latency_p50_us"`
	LatencyP99US   int64             `json:"latency_p99_us"`
	PeakPinned     int64             `json:"peak_pinned_bytes"`
	Requested      uint64            `json:"snapshots_requested"`
	Applied        uint64            `json:"snapshots_applied"`
	Replays        map[string]string `json:"replays"`
	Steps          int64             `json:"steps"`
	Elapsed        float64           `json:"elapsed_seconds"`
}

func validateJSON(t *testing.T, args ...string) []jsonCell {
	t.Helper()
	r := mustExit(t, exitOK, append(args, "--format", "json")...)
	var cells []jsonCell
	for _, line := range strings.Split(strings.TrimRight(r.stdout, "\n"), "\n") {
		var c jsonCell
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("line is not a cell: %v\n%s", err, line)
		}
		cells = append(cells, c)
	}
	return cells
}

func TestValidateJSONLines(t *testing.T) {
	cells := validateJSON(t, validateArgs...)
	if len(cells) != 4 {
		t.Fatalf("want 4 cells, got %d", len(cells))
	}
	order := []string{"naive/default", "naive/heavy-compaction", "lease-retry/default", "lease-retry/heavy-compaction"}
	for i, c := range cells {
		if got := c.Collector + "/" + c.Profile; got != order[i] {
			t.Errorf("cell %d is %s, want %s", i, got, order[i])
		}
		if c.Seeds != 12 || c.FirstSeed != 1 || c.Strategy != "random" {
			t.Errorf("%s: seeds %d first %d strategy %q", order[i], c.Seeds, c.FirstSeed, c.Strategy)
		}
		if len(c.Kinds) != len(allKinds) {
			t.Errorf("%s: kinds %v, want all %d with zeros", order[i], c.Kinds, len(allKinds))
		}
		for _, k := range allKinds {
			if _, ok := c.Kinds[k]; !ok {
				t.Errorf("%s: kind %s missing", order[i], k)
			}
			if c.Kinds[k] > c.ViolatingSeeds {
				t.Errorf("%s: kind %s in %d seeds > %d violating", order[i], k, c.Kinds[k], c.ViolatingSeeds)
			}
			if (c.Kinds[k] > 0) != (c.Replays[k] != "") {
				t.Errorf("%s: kind %s seen %d times, replay %q", order[i], k, c.Kinds[k], c.Replays[k])
			}
		}
		if (c.ViolatingSeeds > 0) != (c.FirstViolation != nil) {
			t.Errorf("%s: %d violating seeds, first %v", order[i], c.ViolatingSeeds, c.FirstViolation)
		}
		if c.LatencyP50US <= 0 || c.LatencyP99US < c.LatencyP50US || c.RetriesP99 < c.RetriesP50 || c.RetriesP50 < 0 {
			t.Errorf("%s: latency %d/%d retries %d/%d", order[i], c.LatencyP50US, c.LatencyP99US, c.RetriesP50, c.RetriesP99)
		}
		if c.Steps <= 0 || c.PeakPinned < 0 {
			t.Errorf("%s: steps %d peak pinned %d", order[i], c.Steps, c.PeakPinned)
		}
	}
	naive := cells[0]
	if naive.ViolatingSeeds == 0 || naive.Kinds["open-deleted-file"] == 0 || naive.Kinds["panic"] == 0 {
		t.Fatalf("naive found nothing in 12 seeds: %+v", naive)
	}
	// Seed 1 is naive's first violation in the default profile (seed 2
	// was, until trivial moves and the prompt deleter).
	if *naive.FirstViolation != 0 {
		t.Errorf("naive first violation index %d, want 0 (seed 1)", *naive.FirstViolation)
	}
	want := "go run ./cmd/simrun replay --collector naive --seed 1"
	if naive.Replays["open-deleted-file"] != want {
		t.Errorf("replay %q, want %q", naive.Replays["open-deleted-file"], want)
	}
	if r := cells[1].Replays["open-deleted-file"]; !strings.Contains(r, "--profile heavy-compaction") {
		t.Errorf("replay lacks the profile: %q", r)
	}
	for _, c := range cells[2:] {
		if c.ViolatingSeeds != 0 || len(c.Replays) != 0 {
			t.Errorf("lease-retry violated: %+v", c)
		}
	}
	// The replay line reproduces the violation.
	r := mustExit(t, exitViolation, "replay", "--collector", "naive", "--seed", "1", "--json")
	if !strings.Contains(r.stdout, "open-deleted-file") {
		t.Errorf("replay of naive seed 1 shows no open-deleted-file")
	}
}

func TestValidateStartSeedAndStrategy(t *testing.T) {
	cells := validateJSON(t, "validate", "--collectors", "naive", "--profiles", "default", "--seeds", "5", "--seed", "2", "--strategy", "pct:2")
	if len(cells) != 1 || cells[0].FirstSeed != 2 || cells[0].Seeds != 5 || cells[0].Strategy != "pct:2" {
		t.Fatalf("cells %+v", cells)
	}
	for _, r := range cells[0].Replays {
		if !strings.Contains(r, "--strategy pct:2") {
			t.Errorf("replay lacks the strategy: %q", r)
		}
	}
}

func TestValidateCSV(t *testing.T) {
	r := mustExit(t, exitOK, append(validateArgs, "--format", "csv")...)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, r.stdout)
	}
	if len(rows) != 5 {
		t.Fatalf("want a header and 4 rows, got %d", len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range append([]string{"collector", "profile", "seeds", "violating_seeds", "first_violation_index",
		"retries_p50", "retries_p99", "latency_p50_us", "latency_p99_us", "peak_pinned_bytes", "snapshots_requested", "snapshots_applied", "replay_panic"}, allKinds...) {
		if _, ok := col[h]; !ok {
			t.Errorf("header lacks %q: %v", h, rows[0])
		}
	}
	for _, row := range rows[1:] {
		for _, k := range allKinds {
			if row[col[k]] == "" {
				t.Errorf("empty count for %s in %v", k, row)
			}
		}
	}
	if rows[1][col["collector"]] != "naive" || rows[1][col["first_violation_index"]] != "0" || rows[1][col["panic"]] == "0" {
		t.Errorf("naive row %v", rows[1])
	}
	if rows[3][col["collector"]] != "lease-retry" || rows[3][col["violating_seeds"]] != "0" || rows[3][col["first_violation_index"]] != "" {
		t.Errorf("lease-retry row %v", rows[3])
	}
}

func TestValidateTableAndMarkdown(t *testing.T) {
	r := mustExit(t, exitOK, validateArgs...)
	lines := strings.Split(r.stdout, "\n")
	if !strings.HasPrefix(lines[0], "COLLECTOR") || !strings.Contains(lines[0], "PEAK PINNED") || !strings.HasSuffix(lines[0], "APPLIED") {
		t.Fatalf("table header: %q", lines[0])
	}
	if !regexp.MustCompile(`^naive\s+default\s+12\s+\d+\s+0\s+0\s+\d+ \(open-deleted-file \d+, panic \d+\)`).MatchString(lines[1]) {
		t.Errorf("naive row: %q", lines[1])
	}
	if !regexp.MustCompile(`^lease-retry\s+default\s+12\s+0\s+0\s+none\s+0\s`).MatchString(lines[3]) {
		t.Errorf("lease-retry row: %q", lines[3])
	}
	if !strings.Contains(r.stdout, "naive × default, open-deleted-file: go run ./cmd/simrun replay --collector naive --seed 1\n") {
		t.Errorf("replay list missing:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "4 cells, 12 seeds each (seeds 1..12), strategy random; elapsed ") {
		t.Errorf("summary missing:\n%s", r.stdout)
	}

	m := mustExit(t, exitOK, append(validateArgs, "--format", "markdown")...)
	ml := strings.Split(m.stdout, "\n")
	if !strings.HasPrefix(ml[0], "| collector | profile |") || !strings.HasSuffix(ml[0], "| applied |") || ml[1] != "|---|---|---|---|---|---|---|---|---|" {
		t.Fatalf("markdown header:\n%s", m.stdout)
	}
	for _, l := range ml[2:6] {
		if strings.Count(l, "|") != 10 {
			t.Errorf("markdown row %q", l)
		}
	}
	if !strings.Contains(m.stdout, "- naive × default, open-deleted-file: `go run ./cmd/simrun replay --collector naive --seed 1`\n") {
		t.Errorf("markdown replay list missing:\n%s", m.stdout)
	}
}

var elapsedRE = regexp.MustCompile(`elapsed[^\n]*|"elapsed_seconds":[0-9.e+-]+|,[0-9]+\.[0-9]{3}\n`)

func TestValidateDeterministic(t *testing.T) {
	for _, f := range []string{"table", "markdown", "json", "csv"} {
		args := append(append([]string{}, validateArgs...), "--format", f)
		a := elapsedRE.ReplaceAllString(mustExit(t, exitOK, args...).stdout, "")
		b := elapsedRE.ReplaceAllString(mustExit(t, exitOK, args...).stdout, "")
		if a != b {
			t.Errorf("--format %s differs between runs:\n%s\n---\n%s", f, a, b)
		}
	}
}

// A validation that observed violations still exits 0: it is a
// measurement; 'simrun run' is the test.
func TestValidateExitsZeroWithViolations(t *testing.T) {
	r := mustExit(t, exitOK, "validate", "--collectors", "naive", "--profiles", "default", "--seeds", "3")
	if !strings.Contains(r.stdout, "naive × default, panic") {
		t.Errorf("no violation in naive seeds 1..3:\n%s", r.stdout)
	}
	h := mustExit(t, exitOK, "validate", "--help")
	if !strings.Contains(h.stdout, "Exit codes: 0 when the validation completed") || !strings.Contains(h.stdout, "first violation") {
		t.Errorf("help does not document exit codes or StopOnViolation:\n%s", h.stdout)
	}
}

func TestValidateUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--collectors", "naive,bogus"}, []string{"--collectors", `"bogus"`, "naive, retry, pin, lease, lease-retry, checkpoint, scan"}},
		{[]string{"--profiles", "nope"}, []string{"--profiles", `"nope"`, "default, heavy-compaction", "swarm"}},
		{[]string{"--format", "xml"}, []string{"--format", "table, markdown, json or csv"}},
		{[]string{"--seeds", "0"}, []string{"--seeds"}},
		{[]string{"--seed", "x"}, []string{"--seed"}},
		{[]string{"--strategy", "dfs"}, []string{"--strategy"}},
		{[]string{"--max-steps", "0"}, []string{"--max-steps"}},
		{[]string{"extra"}, []string{"positional"}},
	} {
		r := mustExit(t, exitUsage, append([]string{"validate"}, tc.args...)...)
		for _, w := range tc.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, w, r.stderr)
			}
		}
		if r.stdout != "" {
			t.Errorf("%v: stdout %q", tc.args, r.stdout)
		}
	}
}

// TestValidateExpectCatchesRegressions: a recorded matrix compared with a
// run: as recorded exits 0; a cell recorded at zero that shows a kind, or a
// caught cell that shows nothing, is a regression (exit 1) naming the
// file's line; different flags or a malformed file are bad input.
func TestValidateExpectCatchesRegressions(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "matrix.txt")
	args := []string{"validate", "--collectors", "naive,lease-retry", "--profiles", "default", "--seeds", "12"}
	mustExit(t, exitOK, append(args, "--record", rec)...)
	r := mustExit(t, exitOK, append(args, "--expect", rec)...)
	require.Contains(t, r.stdout, "expectation: met: 16 recorded cell kinds and 2 applied floors as recorded")

	body := mustRead(t, rec)
	require.Regexp(t, `\napplied lease-retry default \d+\.\d% # \(\d+\.\d%: \d+ of \d+\)\n`, body)
	require.Contains(t, body, "cell naive default open-deleted-file caught\n")
	require.Contains(t, body, "cell lease-retry default open-deleted-file zero\n")
	// Pretend naive was recorded clean and lease-retry caught panicking.
	edited := strings.NewReplacer(
		"cell naive default open-deleted-file caught", "cell naive default open-deleted-file zero",
		"cell lease-retry default panic zero", "cell lease-retry default panic caught").Replace(body)
	bad := writeFile(t, "edited.txt", edited)
	r = mustExit(t, exitViolation, append(args, "--expect", bad)...)
	require.Regexp(t, `REGRESSION .*edited.txt:\d+: naive default open-deleted-file must stay at zero, measured \d+ seeds \(a protection weakened\); first: .*replay --collector naive --seed 1`, r.stdout)
	require.Regexp(t, `REGRESSION .*edited.txt:\d+: lease-retry default panic must stay caught, measured 0 seeds`, r.stdout)
	require.Contains(t, r.stdout, "expectation: NOT MET: 2 of 16 recorded cell kinds and 2 applied floors regressed")

	// A floor above the measured share: the design ships less than it did.
	floor := regexp.MustCompile(`applied lease-retry default [0-9.]+%`).ReplaceAllString(body, "applied lease-retry default 99.9%")
	high := writeFile(t, "floor.txt", floor)
	r = mustExit(t, exitViolation, append(args, "--expect", high)...)
	require.Regexp(t, `REGRESSION .*floor.txt:\d+: lease-retry default must keep applying at least 99\.9% of its requested snapshots, measured \d+\.\d% \(\d+ of \d+\): a design that ships less`, r.stdout)
	require.Contains(t, r.stdout, "expectation: NOT MET: 1 of 16 recorded cell kinds and 2 applied floors regressed")

	// Other flags than recorded: bad input, before any seed runs.
	r = mustExit(t, exitUsage, "validate", "--collectors", "naive", "--profiles", "default", "--seeds", "13", "--expect", rec)
	require.Contains(t, r.stderr, "--seeds 13 (recorded: 12)")
	// A malformed file names its line.
	mal := writeFile(t, "mal.txt", expectFormat+"\ncell naive default open-deleted-file maybe\n")
	r = mustExit(t, exitUsage, append(args, "--expect", mal)...)
	require.Contains(t, r.stderr, "mal.txt:2: state \"maybe\"; want zero or caught")
	mal = writeFile(t, "mal2.txt", expectFormat+"\napplied naive default 80.25%\n")
	r = mustExit(t, exitUsage, append(args, "--expect", mal)...)
	require.Contains(t, r.stderr, "mal2.txt:2: applied floor \"80.25%\"; want a percentage with at most one decimal")
	// --record refuses to overwrite without --force.
	r = mustExit(t, exitUsage, append(args, "--record", rec)...)
	require.Contains(t, r.stderr, "already exists")
}

func TestParsePermille(t *testing.T) {
	for in, want := range map[string]uint64{"0%": 0, "86.9%": 869, "100%": 1000, "100.0%": 1000, "7%": 70, "7.0%": 70} {
		got, ok := parsePermille(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "%", "86.9", "86.95%", "100.1%", "101%", "-1%", "x%", "8.x%", ".5%"} {
		_, ok := parsePermille(bad)
		require.False(t, ok, bad)
	}
}
