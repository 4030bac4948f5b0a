package cli

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

type jsonBenchRow struct {
	Bug         string    `json:"bug"`
	Runner      string    `json:"runner"`
	Reps        int       `json:"reps"`
	Found       int       `json:"found"`
	TimesMS     []float64 `json:"times_ms"`
	Seeds       []int     `json:"seeds"`
	Replays     int       `json:"replays"`
	Same        int       `json:"same"`
	Failure     string    `json:"failure"`
	Replay      string    `json:"replay"`
	StepsPerSec float64   `json:"steps_per_sec"`
	SeedsPerSec float64   `json:"seeds_per_sec"`
	Ratio       float64   `json:"ratio"`
}

// TestBenchSideBySide runs a small bench in-process: the simulator finds
// the snapshot-GC bug deterministically at seed 1 and every replay shows
// the same trace; the free-goroutine stress test ran in the same command.
func TestBenchSideBySide(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the stress test for seconds")
	}
	r := mustExit(t, exitOK, "bench", "--bugs", "snap-gc", "--reps", "2", "--limit", "3s", "--replays", "3", "--format", "json")
	var rows []jsonBenchRow
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var row jsonBenchRow
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("%v in %q", err, line)
		}
		rows = append(rows, row)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want simulator and model-goroutines:\n%s", len(rows), r)
	}
	sim, stress := rows[0], rows[1]
	if sim.Runner != "simulator (random)" || stress.Runner != "stress: model goroutines" {
		t.Fatalf("runners %q, %q", sim.Runner, stress.Runner)
	}
	if sim.Found != 2 || sim.Same != 3 || sim.Replays != 3 || len(sim.TimesMS) != 2 {
		t.Errorf("simulator row %+v: want found 2/2 and 3/3 identical replays", sim)
	}
	if sim.Seeds[0] != 1 || !strings.Contains(sim.Replay, "--unsafe-snap-gc --snap-gc-timeout-us 5000 --seed 1") {
		t.Errorf("simulator row: seeds %v, replay %q; want seed 1 and its replay line", sim.Seeds, sim.Replay)
	}
	if sim.StepsPerSec <= 0 || sim.SeedsPerSec <= 0 || sim.Ratio != 1 {
		t.Errorf("simulator row rates %v steps/s %v seeds/s ratio %v", sim.StepsPerSec, sim.SeedsPerSec, sim.Ratio)
	}
	if stress.Reps != 2 || len(stress.TimesMS) != 2 || stress.Seeds[0] < 1 || stress.StepsPerSec <= 0 {
		t.Errorf("stress row %+v: want 2 repetitions that ran seeds", stress)
	}
	if math.IsNaN(stress.Ratio) || stress.Ratio <= 0 {
		t.Errorf("stress ratio %v", stress.Ratio)
	}
	if !strings.Contains(r.stderr, "bench: snap-gc simulator rep 1: found=true") {
		t.Errorf("no progress notes on stderr:\n%s", r.stderr)
	}

	// The table format prints the header, both rows and the failures;
	// --quiet silences the progress lines.
	tbl := mustExit(t, exitOK, "bench", "--bugs", "snap-gc", "--reps", "1", "--limit", "2s", "--replays", "1", "--quiet")
	if tbl.stderr != "" {
		t.Errorf("--quiet printed on stderr: %q", tbl.stderr)
	}
	for _, want := range []string{"TIME TO FIRST median (min … max)", "simulator (random)", "stress: model goroutines", "machine: ", "First failure found by each runner:"} {
		if !strings.Contains(tbl.stdout, want) {
			t.Errorf("table output lacks %q:\n%s", want, tbl.stdout)
		}
	}
}

func TestBenchUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--reps", "0"}, "--reps: 0 is out of range"},
		{[]string{"--limit", "0s"}, "--limit: 0s is out of range"},
		{[]string{"--limit", "soon"}, "--limit: \"soon\" is not valid: want a Go duration"},
		{[]string{"--bugs", "nope"}, "--bugs: \"nope\" is not one of naive, lease-stall, snap-gc, recycled-tid"},
		{[]string{"--format", "xml"}, "--format: \"xml\" is not a format"},
		{[]string{"--strategy", "replay"}, "--strategy: \"replay\" is not a search strategy"},
		{[]string{"--replays", "-1"}, "--replays: -1 is out of range"},
	} {
		r := mustExit(t, exitUsage, append([]string{"bench"}, c.args...)...)
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("bench %v: stderr %q lacks %q", c.args, r.stderr, c.want)
		}
	}
}

func TestMedianAndCensoring(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median odd = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median even = %v", m)
	}
	if !censored(benchRow{Reps: 5, Found: 2}) || censored(benchRow{Reps: 5, Found: 3}) || censored(benchRow{Reps: 1, Found: 1}) {
		t.Error("censored: a median is censored exactly when at most half of the repetitions found the bug")
	}
}
