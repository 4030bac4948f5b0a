package cli

// In-process tests of the simrun CLI contract, through execute(): exit codes,
// text and JSON output of run and replay, seed parsing, and usage errors.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// cliResult is what one execute() call produced.
type cliResult struct {
	code           int
	stdout, stderr string
}

func (r cliResult) String() string {
	return fmt.Sprintf("exit %d\n--- stdout ---\n%s\n--- stderr ---\n%s", r.code, r.stdout, r.stderr)
}

// cli runs simrun in-process with args.
func cli(t *testing.T, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := execute(args, &out, &errb)
	return cliResult{code: code, stdout: out.String(), stderr: errb.String()}
}

// anyOutcome, as mustExit's want, accepts exit 0, 1 or 3: a run that
// completed, with or without a violation or incomplete seeds.
const anyOutcome = -1

// mustExit runs args and fails the test unless the exit code is want.
func mustExit(t *testing.T, want int, args ...string) cliResult {
	t.Helper()
	r := cli(t, args...)
	if want == anyOutcome && (r.code == exitOK || r.code == exitViolation || r.code == exitIncomplete) {
		return r
	}
	if r.code != want {
		t.Fatalf("simrun %s: want exit %d, got:\n%s", strings.Join(args, " "), want, r)
	}
	return r
}

// The wire shapes below are written out here rather than reusing the
// command's own types, so that the tests pin the JSON contract itself.

type jsonObservation struct {
	Kind   string `json:"kind"`
	Step   int64  `json:"step"`
	TimeUS int64  `json:"time_us"`
	Actor  string `json:"actor"`
	Detail string `json:"detail"`
}

type jsonEvent struct {
	Step   int64  `json:"step"`
	TimeUS int64  `json:"time_us"`
	Actor  string `json:"actor"`
	Class  string `json:"class"`
	Op     string `json:"op"`
	Detail string `json:"detail"`
	Result string `json:"result"`
}

type jsonSweep struct {
	Outcome   string `json:"outcome"`
	Collector string `json:"collector"`
	Strategy  string `json:"strategy"`
	FirstSeed uint64 `json:"first_seed"`
	SeedsRun  uint64 `json:"seeds_run"`
	Steps     int64  `json:"steps"`
	Violation *struct {
		Seed       uint64            `json:"seed"`
		Kind       string            `json:"kind"`
		Step       int64             `json:"step"`
		Detail     string            `json:"detail"`
		TraceHash  string            `json:"trace_hash"`
		Replay     string            `json:"replay"`
		Violations []jsonObservation `json:"violations"`
	} `json:"violation"`
}

type jsonReplay struct {
	Outcome    string            `json:"outcome"`
	Collector  string            `json:"collector"`
	Strategy   string            `json:"strategy"`
	Seed       uint64            `json:"seed"`
	TraceHash  string            `json:"trace_hash"`
	Steps      int64             `json:"steps"`
	Violations []jsonObservation `json:"violations"`
	Events     []jsonEvent       `json:"events"`
	Replay     string            `json:"replay"`
}

// decodeStrict decodes exactly one JSON value from s into v, rejecting
// trailing garbage.
func decodeStrict(t *testing.T, s string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("stdout is not valid JSON: %v\n%s", err, s)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value:\n%s", s)
	}
}

// requireKeys checks that the JSON object s has every key.
func requireKeys(t *testing.T, what, s string, keys ...string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%s: not a JSON object: %v\n%s", what, err, s)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: JSON object lacks %q:\n%s", what, k, s)
		}
	}
	return m
}

var traceHashRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

func runJSON(t *testing.T, want int, args ...string) jsonSweep {
	t.Helper()
	r := mustExit(t, want, append(args, "--json")...)
	var s jsonSweep
	decodeStrict(t, r.stdout, &s)
	return s
}

func replayJSON(t *testing.T, want int, args ...string) (jsonReplay, string) {
	t.Helper()
	r := mustExit(t, want, append([]string{"replay"}, append(args, "--json")...)...)
	var rep jsonReplay
	decodeStrict(t, r.stdout, &rep)
	return rep, r.stdout
}

// firstNaiveViolation sweeps the naive collector and returns its first
// violating seed's report.
func firstNaiveViolation(t *testing.T) jsonSweep {
	t.Helper()
	s := runJSON(t, exitViolation, "run", "--collector", "naive", "--seeds", "2000")
	if s.Violation == nil {
		t.Fatalf("naive sweep exited 1 without a violation object: %+v", s)
	}
	return s
}

func TestRunNaiveReportsViolation(t *testing.T) {
	r := mustExit(t, exitViolation, "run", "--collector", "naive", "--seeds", "2000")
	if r.stderr != "" {
		t.Errorf("a violation is not an error; want empty stderr, got %q", r.stderr)
	}
	out := r.stdout
	if !strings.Contains(out, "open-deleted-file") && !strings.Contains(out, "panic") {
		t.Errorf("output names neither open-deleted-file nor panic:\n%s", out)
	}
	for _, want := range []string{"seed", "step", "No such file or directory", "trace hash"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	head := regexp.MustCompile(`(?m)^VIOLATION (\S+) at seed (\d+), step (\d+)$`).FindStringSubmatch(out)
	if head == nil {
		t.Fatalf("no 'VIOLATION KIND at seed N, step M' line:\n%s", out)
	}
	lines := replayLines(out)
	if len(lines) != 1 {
		t.Fatalf("want exactly one 'replay:' line, got %q in:\n%s", lines, out)
	}
	if !strings.Contains(lines[0], " replay ") || !strings.Contains(lines[0], "--collector naive") ||
		!strings.HasSuffix(lines[0], "--seed "+head[2]) {
		t.Errorf("replay line %q does not replay collector naive, seed %s", lines[0], head[2])
	}
	// The sweep stops at the first violating seed.
	if !regexp.MustCompile(`(?m)^violation: collector naive, profile default, strategy random, seeds 1\.\.` + head[2] + ` \(` + head[2] + ` run[:)]`).MatchString(out) {
		t.Errorf("summary line does not say the sweep stopped at seed %s:\n%s", head[2], out)
	}
}

// replayLines returns the commands of the "replay: " lines of run's text.
func replayLines(out string) []string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if cmd, ok := strings.CutPrefix(sc.Text(), "replay: "); ok {
			lines = append(lines, cmd)
		}
	}
	return lines
}

func TestRunLeaseRetryClean(t *testing.T) {
	for _, strategy := range []string{"random", "pct"} {
		t.Run(strategy, func(t *testing.T) {
			r := mustExit(t, exitOK, "run", "--collector", "lease-retry", "--seeds", "300", "--strategy", strategy)
			want := "ok: collector lease-retry, profile default, strategy " + strategy + ", seeds 1..300 (300 run)"
			if !strings.HasPrefix(r.stdout, want) {
				t.Errorf("want summary starting %q, got:\n%s", want, r)
			}
			if strings.Contains(r.stdout, "VIOLATION") || strings.Contains(r.stdout, "replay:") || r.stderr != "" {
				t.Errorf("clean sweep printed a violation or an error:\n%s", r)
			}
		})
	}
}

func TestRunJSON(t *testing.T) {
	t.Run("violation", func(t *testing.T) {
		r := mustExit(t, exitViolation, "run", "--collector", "naive", "--seeds", "2000", "--json")
		requireKeys(t, "run", r.stdout, "outcome", "collector", "strategy", "first_seed", "seeds_run", "steps", "violation")
		m := requireKeys(t, "run", r.stdout, "violation")
		requireKeys(t, "run.violation", string(m["violation"]), "seed", "kind", "step", "detail", "trace_hash", "replay", "violations")
		var s jsonSweep
		decodeStrict(t, r.stdout, &s)
		v := s.Violation
		if s.Outcome != "violation" || s.Collector != "naive" || s.Strategy != "random" || s.FirstSeed != 1 {
			t.Errorf("unexpected sweep header: %+v", s)
		}
		if s.SeedsRun != v.Seed-s.FirstSeed+1 {
			t.Errorf("seeds_run %d, but the first violation is at seed %d from %d", s.SeedsRun, v.Seed, s.FirstSeed)
		}
		if v.Kind != "open-deleted-file" && v.Kind != "panic" {
			t.Errorf("violation kind %q, want open-deleted-file or panic", v.Kind)
		}
		if v.Step <= 0 || v.Detail == "" || !traceHashRE.MatchString(v.TraceHash) {
			t.Errorf("violation lacks a step, a detail or a 16-hex trace hash: %+v", v)
		}
		if len(v.Violations) == 0 || v.Violations[0].Kind != v.Kind || v.Violations[0].Step != v.Step || v.Violations[0].Detail != v.Detail {
			t.Errorf("violation.violations[0] does not match the headline: %+v", v)
		}
		if !strings.Contains(r.stdout, "No such file or directory") {
			t.Errorf("JSON lacks the ENOENT message:\n%s", r.stdout)
		}
		if strings.Contains(r.stdout, "goroutine ") {
			t.Errorf("JSON carries panic stacks:\n%s", r.stdout)
		}
	})
	t.Run("ok", func(t *testing.T) {
		r := mustExit(t, exitOK, "run", "--collector", "lease-retry", "--seeds", "300", "--json")
		m := requireKeys(t, "run", r.stdout, "outcome", "seeds_run")
		if _, ok := m["violation"]; ok {
			t.Errorf("clean sweep has a violation field:\n%s", r.stdout)
		}
		var s jsonSweep
		decodeStrict(t, r.stdout, &s)
		if s.Outcome != "ok" || s.SeedsRun != 300 || s.FirstSeed != 1 || s.Steps <= 0 {
			t.Errorf("unexpected clean sweep report: %+v", s)
		}
	})
}

func TestReplayJSON(t *testing.T) {
	sweep := firstNaiveViolation(t)
	seed := strconv.FormatUint(sweep.Violation.Seed, 10)
	rep, raw := replayJSON(t, exitViolation, "--collector", "naive", "--seed", seed)
	requireKeys(t, "replay", raw, "outcome", "violations", "trace_hash", "events", "seed", "collector", "strategy", "replay")

	if rep.Outcome != "violation" || rep.Seed != sweep.Violation.Seed || rep.Collector != "naive" {
		t.Errorf("unexpected replay header: outcome %q seed %d collector %q", rep.Outcome, rep.Seed, rep.Collector)
	}
	if !traceHashRE.MatchString(rep.TraceHash) {
		t.Errorf("trace_hash %q is not 16 lowercase hex digits", rep.TraceHash)
	}
	if rep.TraceHash != sweep.Violation.TraceHash {
		t.Errorf("replay trace_hash %s differs from the sweep's %s", rep.TraceHash, sweep.Violation.TraceHash)
	}
	if len(rep.Violations) == 0 {
		t.Fatal("violation outcome with no violations")
	}
	var rawRep struct {
		Violations []map[string]json.RawMessage `json:"violations"`
		Events     []map[string]json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal([]byte(raw), &rawRep); err != nil {
		t.Fatal(err)
	}
	for i, v := range rawRep.Violations {
		for _, k := range []string{"kind", "step", "detail"} {
			if _, ok := v[k]; !ok {
				t.Errorf("violations[%d] lacks %q", i, k)
			}
		}
	}
	for i, o := range rep.Violations {
		if o.Kind == "" || o.Step <= 0 || o.Detail == "" {
			t.Errorf("violations[%d] is incomplete: %+v", i, o)
		}
	}
	if v := rep.Violations[0]; v.Kind != sweep.Violation.Kind || v.Step != sweep.Violation.Step || v.Detail != sweep.Violation.Detail {
		t.Errorf("replay's first violation %+v differs from the sweep's %+v", v, sweep.Violation)
	}

	if len(rep.Events) == 0 {
		t.Fatal("replay JSON has no events")
	}
	for i, e := range rawRep.Events {
		for _, k := range []string{"step", "time_us", "actor", "class", "op"} {
			if _, ok := e[k]; !ok {
				t.Errorf("events[%d] lacks %q: %v", i, k, e)
			}
		}
	}
	classes := map[string]bool{"action": true, "io": true, "violation": true, "info": true}
	for i, e := range rep.Events {
		if !classes[e.Class] || e.Actor == "" || e.Op == "" {
			t.Errorf("events[%d] is malformed: %+v", i, e)
		}
		if i > 0 && (e.Step < rep.Events[i-1].Step || e.TimeUS < rep.Events[i-1].TimeUS) {
			t.Errorf("events[%d] goes back in step or time: %+v after %+v", i, e, rep.Events[i-1])
		}
	}
	// Every violation appears in the trace as a violation event.
	for _, o := range rep.Violations {
		found := false
		for _, e := range rep.Events {
			if e.Class == "violation" && e.Op == o.Kind && e.Step == o.Step {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("violation %s at step %d has no violation event in the trace", o.Kind, o.Step)
		}
	}
	if last := rep.Events[len(rep.Events)-1]; last.Step != rep.Steps {
		t.Errorf("last event at step %d, but the run took %d steps", last.Step, rep.Steps)
	}

	t.Run("ok", func(t *testing.T) {
		rep, _ := replayJSON(t, exitOK, "--collector", "lease-retry", "--seed", "1")
		if rep.Outcome != "ok" || rep.Violations == nil || len(rep.Violations) != 0 || len(rep.Events) == 0 || !traceHashRE.MatchString(rep.TraceHash) {
			t.Errorf("clean replay: want outcome ok, violations [] (not null), events and a hash; got outcome %q, violations %v, %d events, hash %q",
				rep.Outcome, rep.Violations, len(rep.Events), rep.TraceHash)
		}
	})
}

// traceRows parses replay's text trace: the header and the rows up to the
// first blank line, each split into fields.
func traceRows(t *testing.T, out string) (header []string, rows [][]string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) == 0 {
		t.Fatal("empty output")
	}
	header = strings.Fields(lines[0])
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			break
		}
		rows = append(rows, strings.Fields(l))
	}
	return header, rows
}

func TestReplayText(t *testing.T) {
	sweep := firstNaiveViolation(t)
	seed := strconv.FormatUint(sweep.Violation.Seed, 10)
	r := mustExit(t, exitViolation, "replay", "--collector", "naive", "--seed", seed)
	header, rows := traceRows(t, r.stdout)
	if want := []string{"STEP", "TIME", "ACTOR", "CLASS", "OP"}; len(header) < len(want) || !reflect.DeepEqual(header[:len(want)], want) {
		t.Errorf("header line %q does not start with %q", header, want)
	}
	rep, _ := replayJSON(t, exitViolation, "--collector", "naive", "--seed", seed)
	if len(rows) != len(rep.Events) {
		t.Errorf("text trace has %d rows, JSON %d events", len(rows), len(rep.Events))
	}
	for _, want := range []string{
		"\noutcome:    violation ",
		fmt.Sprintf("\ntrace hash: %s (%d events)\n", rep.TraceHash, len(rep.Events)),
		fmt.Sprintf("\nVIOLATION %s at step %d ", sweep.Violation.Kind, sweep.Violation.Step),
		"seed " + seed,
		"No such file or directory",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("replay text lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "goroutine ") {
		t.Errorf("panic stacks printed without --stacks")
	}

	ok := mustExit(t, exitOK, "replay", "--collector", "lease-retry", "--seed", "1")
	if !regexp.MustCompile(`(?m)^outcome:\s+ok `).MatchString(ok.stdout) || strings.Contains(ok.stdout, "VIOLATION") {
		t.Errorf("clean replay text lacks 'outcome: ok' or shows a violation:\n%s", ok.stdout)
	}
}

func TestReplayActionsOnly(t *testing.T) {
	sweep := firstNaiveViolation(t)
	seed := strconv.FormatUint(sweep.Violation.Seed, 10)
	full := mustExit(t, exitViolation, "replay", "--collector", "naive", "--seed", seed)
	brief := mustExit(t, exitViolation, "replay", "--collector", "naive", "--seed", seed, "--actions-only")

	count := func(rows [][]string) map[string]int {
		n := map[string]int{}
		for _, r := range rows {
			if len(r) < 5 {
				t.Fatalf("short trace row %q", r)
			}
			n[r[3]]++ // STEP TIME ACTOR CLASS ...; none of the first four holds a space.
		}
		return n
	}
	_, fullRows := traceRows(t, full.stdout)
	_, briefRows := traceRows(t, brief.stdout)
	fc, bc := count(fullRows), count(briefRows)
	if fc["io"] == 0 {
		t.Fatalf("the full trace has no io events to omit: %v", fc)
	}
	if bc["io"] != 0 {
		t.Errorf("--actions-only kept %d io events", bc["io"])
	}
	for _, c := range []string{"action", "violation", "info"} {
		if bc[c] != fc[c] {
			t.Errorf("--actions-only changed the %s events: %d, want %d", c, bc[c], fc[c])
		}
	}
	// The summary, hash included, is that of the whole run either way.
	tail := func(s string) string { return s[strings.Index(s, "\noutcome:"):] }
	if tail(full.stdout) != tail(brief.stdout) {
		t.Errorf("--actions-only changed the summary:\n%s\nvs\n%s", tail(full.stdout), tail(brief.stdout))
	}
}

func TestHexSeedEqualsDecimal(t *testing.T) {
	dec, _ := replayJSON(t, anyOutcome, "--collector", "naive", "--seed", "137")
	for _, s := range []string{"0x89", "0X89", "0x0089"} {
		hex, _ := replayJSON(t, anyOutcome, "--collector", "naive", "--seed", s)
		if hex.Seed != 137 || hex.TraceHash != dec.TraceHash || !reflect.DeepEqual(hex.Events, dec.Events) {
			t.Errorf("--seed %s: seed %d hash %s, want seed 137 hash %s and the same events", s, hex.Seed, hex.TraceHash, dec.TraceHash)
		}
	}
	other, _ := replayJSON(t, anyOutcome, "--collector", "naive", "--seed", "138")
	if other.TraceHash == dec.TraceHash {
		t.Errorf("seeds 137 and 138 share trace hash %s; the comparison above proves nothing", dec.TraceHash)
	}
	sw := runJSON(t, anyOutcome, "run", "--collector", "lease-retry", "--seed", "0x89", "--seeds", "1")
	if sw.FirstSeed != 137 || sw.SeedsRun != 1 {
		t.Errorf("run --seed 0x89 --seeds 1: first_seed %d seeds_run %d, want 137 and 1", sw.FirstSeed, sw.SeedsRun)
	}
}

func TestLeadingZeroIsDecimal(t *testing.T) {
	ten, _ := replayJSON(t, anyOutcome, "--collector", "naive", "--seed", "10")
	eight, _ := replayJSON(t, anyOutcome, "--collector", "naive", "--seed", "8")
	z, _ := replayJSON(t, anyOutcome, "--collector", "naive", "--seed", "010")
	if z.Seed != 10 || z.TraceHash != ten.TraceHash {
		t.Errorf("--seed 010: seed %d hash %s, want seed 10 hash %s", z.Seed, z.TraceHash, ten.TraceHash)
	}
	if ten.TraceHash == eight.TraceHash {
		t.Errorf("seeds 8 and 10 share a trace hash; the comparison above proves nothing")
	}
	if sw := runJSON(t, anyOutcome, "run", "--collector", "lease-retry", "--seed", "010", "--seeds", "1"); sw.FirstSeed != 10 {
		t.Errorf("run --seed 010: first_seed %d, want 10", sw.FirstSeed)
	}
	// Counts read the same way: --seeds 010 is ten seeds, not octal eight.
	for _, n := range []string{"010", "10", "0xa", "0XA"} {
		if sw := runJSON(t, exitOK, "run", "--collector", "lease-retry", "--seeds", n); sw.SeedsRun != 10 {
			t.Errorf("--seeds %s ran %d seeds, want 10", n, sw.SeedsRun)
		}
	}
}

func TestExtremeSeeds(t *testing.T) {
	// The largest seed is accepted, alone, in both notations.
	max := "18446744073709551615"
	a, _ := replayJSON(t, anyOutcome, "--collector", "lease-retry", "--seed", max)
	b, _ := replayJSON(t, anyOutcome, "--collector", "lease-retry", "--seed", "0xffffffffffffffff")
	if a.Seed != 1<<64-1 || a.TraceHash != b.TraceHash {
		t.Errorf("max seed: %d %s vs %s", a.Seed, a.TraceHash, b.TraceHash)
	}
	if sw := runJSON(t, anyOutcome, "run", "--collector", "lease-retry", "--seed", max, "--seeds", "1"); sw.FirstSeed != 1<<64-1 || sw.SeedsRun != 1 {
		t.Errorf("run at the max seed: %+v", sw)
	}
	zero, _ := replayJSON(t, anyOutcome, "--collector", "lease-retry", "--seed", "0")
	if zero.Seed != 0 || !traceHashRE.MatchString(zero.TraceHash) {
		t.Errorf("seed 0: %+v", zero)
	}
}

func TestUsageErrors(t *testing.T) {
	const seedForm = "decimal or 0x-hex unsigned 64-bit integer"
	const intForm = "decimal or 0x-hex integer"
	const strategyForm = "random, pct or pct:DEPTH"
	cases := []struct {
		name string
		args []string
		want []string // substrings of stderr: the flag and the expected form
		not  []string // substrings stderr must not have
	}{
		{"run unknown collector", []string{"run", "--collector", "bogus"}, []string{"--collector", `"bogus"`, "lease-retry", "naive"}, nil},
		{"replay unknown collector", []string{"replay", "--collector", "bogus", "--seed", "1"}, []string{"--collector", `"bogus"`, "lease-retry", "naive"}, nil},
		{"seeds zero", []string{"run", "--seeds", "0"}, []string{"--seeds", "0 is out of range", "1..1000000000000"}, nil},
		{"seeds negative", []string{"run", "--seeds", "-1"}, []string{"--seeds", "-1 is out of range", "1..1000000000000"}, nil},
		{"seeds too many", []string{"run", "--seeds", "1000000000001"}, []string{"--seeds", "out of range", "1..1000000000000"}, nil},
		{"seeds not a number", []string{"run", "--seeds", "abc"}, []string{"--seeds", `"abc"`, intForm}, nil},
		{"seeds binary", []string{"run", "--seeds", "0b11"}, []string{"--seeds", intForm}, nil},
		{"seeds overflow int64", []string{"run", "--seeds", "9223372036854775808"}, []string{"--seeds", intForm}, nil},
		{"seeds missing value", []string{"run", "--seeds"}, []string{"--seeds"}, nil},
		{"run seed not a number", []string{"run", "--seed", "abc"}, []string{"--seed", `"abc"`, seedForm}, nil},
		{"replay seed not a number", []string{"replay", "--seed", "abc"}, []string{"--seed", `"abc"`, seedForm}, nil},
		{"seed negative", []string{"replay", "--seed", "-1"}, []string{"--seed", seedForm}, nil},
		{"seed empty", []string{"replay", "--seed", ""}, []string{"--seed", seedForm}, nil},
		{"seed bare 0x", []string{"replay", "--seed", "0x"}, []string{"--seed", seedForm}, nil},
		{"seed bad hex", []string{"replay", "--seed", "0xg"}, []string{"--seed", seedForm}, nil},
		{"seed float", []string{"run", "--seed", "1.5"}, []string{"--seed", seedForm}, nil},
		{"seed 2^64", []string{"run", "--seed", "18446744073709551616"}, []string{"--seed", "18446744073709551616", seedForm}, nil},
		{"seed 2^64 hex", []string{"replay", "--seed", "0x10000000000000000"}, []string{"--seed", seedForm}, nil},
		{"seed range overflows", []string{"run", "--seed", "18446744073709551615", "--seeds", "2"}, []string{"--seed", "--seeds", "overflows"}, nil},
		{"strategy bogus", []string{"run", "--strategy", "bogus"}, []string{"--strategy", `"bogus"`, strategyForm}, []string{"or replay"}},
		{"strategy bogus replay cmd", []string{"replay", "--seed", "1", "--strategy", "bogus"}, []string{"--strategy", strategyForm}, []string{"or replay"}},
		{"strategy replay", []string{"run", "--strategy", "replay"}, []string{"--strategy", `"replay"`, strategyForm}, nil},
		{"strategy random with arg", []string{"run", "--strategy", "random:3"}, []string{"--strategy", strategyForm}, []string{"or replay"}},
		{"strategy pct depth 0", []string{"run", "--strategy", "pct:0"}, []string{"--strategy", "1..64", "pct:DEPTH"}, nil},
		{"strategy pct depth junk", []string{"replay", "--seed", "1", "--strategy", "pct:x"}, []string{"--strategy", "1..64"}, nil},
		{"max-steps zero", []string{"run", "--max-steps", "0"}, []string{"--max-steps", "out of range", "1..1000000000"}, nil},
		{"max-steps too big", []string{"replay", "--seed", "1", "--max-steps", "1000000001"}, []string{"--max-steps", "1..1000000000"}, nil},
		{"max-steps not a number", []string{"run", "--max-steps", "abc"}, []string{"--max-steps", intForm}, nil},
		{"run positional", []string{"run", "extra"}, []string{"run", "no positional arguments", `"extra"`}, nil},
		{"replay positional", []string{"replay", "--seed", "1", "137"}, []string{"replay", "no positional arguments", `"137"`}, nil},
		{"run unknown flag", []string{"run", "--bogus"}, []string{"unknown flag", "--bogus"}, nil},
		{"replay unknown flag", []string{"replay", "--seed", "1", "--bogus"}, []string{"unknown flag", "--bogus"}, nil},
		{"replay without seed", []string{"replay", "--collector", "naive"}, []string{"--seed", "required", seedForm}, nil},
		{"unknown command", []string{"bogus"}, []string{`"bogus"`}, nil},
	}
	for _, c := range cases {
		for _, asJSON := range []bool{false, true} {
			args := c.args
			name := c.name
			if asJSON {
				args = append(append([]string{}, args...), "--json")
				name += " json"
			}
			t.Run(name, func(t *testing.T) {
				r := cli(t, args...)
				if r.code != exitUsage {
					t.Fatalf("simrun %q: want exit 2, got:\n%s", args, r)
				}
				if r.stdout != "" {
					t.Errorf("simrun %q: a usage error wrote to stdout:\n%s", args, r.stdout)
				}
				if !strings.HasPrefix(r.stderr, "simrun: ") {
					t.Errorf("simrun %q: stderr does not start with 'simrun: ':\n%s", args, r.stderr)
				}
				first, _, _ := strings.Cut(r.stderr, "\n")
				for _, w := range c.want {
					if !strings.Contains(first, w) {
						t.Errorf("simrun %q: error line lacks %q:\n%s", args, w, r.stderr)
					}
				}
				for _, w := range c.not {
					if strings.Contains(r.stderr, w) {
						t.Errorf("simrun %q: error says %q:\n%s", args, w, r.stderr)
					}
				}
			})
		}
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"run", "--help"}, {"replay", "--help"}, {}} {
		r := mustExit(t, exitOK, args...)
		if !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("simrun %q printed no usage:\n%s", args, r)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/local/bin/simrun": "/usr/local/bin/simrun",
		"./simrun":              "./simrun",
		"pct:3":                 "pct:3",
		"/tmp/my dir/simrun":    "'/tmp/my dir/simrun'",
		"/tmp/it's/simrun":      `'/tmp/it'\''s/simrun'`,
		"$HOME/simrun":          "'$HOME/simrun'",
		"":                      "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
