package cli

// The replay line printed by run, fed back to execute(), reproduces the
// violation it was printed for.

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// In-process, os.Args[0] is the test binary, so the line starts with the
// go run form of the command.
const testInvocation = "go run ./cmd/simrun"

// replayArgs turns a printed replay line into execute's args: split on
// spaces, the leading invocation replaced by nothing.
func replayArgs(t *testing.T, line string) []string {
	t.Helper()
	words := strings.Split(line, " ")
	i := slices.Index(words, "replay")
	if i < 0 {
		t.Fatalf("replay line %q has no replay subcommand", line)
	}
	if inv := strings.Join(words[:i], " "); inv != testInvocation {
		t.Errorf("replay line %q: invocation %q, want %q", line, inv, testInvocation)
	}
	for _, w := range words {
		if w == "" || strings.ContainsAny(w, `'"\$`) {
			t.Fatalf("replay line %q does not split cleanly on spaces", line)
		}
	}
	return words[i:]
}

func TestReplayLineReproduces(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string // flags the replay line must carry
	}{
		{"defaults", []string{"--collector", "naive", "--seeds", "2000"}, nil},
		{"hex start", []string{"--collector", "naive", "--seeds", "2000", "--seed", "0x100"}, nil},
		{"pct", []string{"--collector", "naive", "--seeds", "2000", "--strategy", "pct"}, []string{"--strategy pct"}},
		{"pct depth and budget", []string{"--collector", "naive", "--seeds", "2000", "--seed", "0x100", "--strategy", "pct:5", "--max-steps", "5000"},
			[]string{"--strategy pct:5", "--max-steps 5000"}},
		{"thread churn", []string{"--collector", "naive", "--seeds", "2000", "--thread-churn-us", "5000"}, []string{"--thread-churn-us 5000"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sw := runJSON(t, exitViolation, append([]string{"run"}, c.args...)...)
			v := sw.Violation
			if v == nil {
				t.Fatalf("no violation object: %+v", sw)
			}
			line := v.Replay
			for _, w := range append([]string{"--collector naive", "--seed " + strconv.FormatUint(v.Seed, 10)}, c.want...) {
				if !strings.Contains(line+" ", w+" ") {
					t.Errorf("replay line %q lacks %q", line, w)
				}
			}

			// The text output prints the same line and hash.
			text := mustExit(t, exitViolation, append([]string{"run"}, c.args...)...)
			if got := replayLines(text.stdout); len(got) != 1 || got[0] != line {
				t.Errorf("text replay line %q, JSON %q", got, line)
			}
			if !strings.Contains(text.stdout, "trace hash "+v.TraceHash+"\n") {
				t.Errorf("text output lacks trace hash %s:\n%s", v.TraceHash, text.stdout)
			}

			args := replayArgs(t, line)
			rep, _ := replayJSON(t, exitViolation, args[1:]...)
			if rep.Outcome != "violation" || len(rep.Violations) == 0 {
				t.Fatalf("replaying %q: outcome %q, violations %v", line, rep.Outcome, rep.Violations)
			}
			if got := rep.Violations[0]; got.Kind != v.Kind || got.Step != v.Step || got.Detail != v.Detail {
				t.Errorf("replaying %q: first violation %s at step %d (%s), run reported %s at step %d (%s)",
					line, got.Kind, got.Step, got.Detail, v.Kind, v.Step, v.Detail)
			}
			if rep.TraceHash != v.TraceHash {
				t.Errorf("replaying %q: trace hash %s, run reported %s", line, rep.TraceHash, v.TraceHash)
			}
			if len(rep.Violations) != len(v.Violations) {
				t.Errorf("replaying %q: %d violations, run reported %d", line, len(rep.Violations), len(v.Violations))
			}
			if rep.Replay != line {
				t.Errorf("replay's own replay line %q differs from run's %q", rep.Replay, line)
			}

			// The pasted line, in text mode, prints the same violation.
			r := mustExit(t, exitViolation, args...)
			want := regexp.MustCompile(`(?m)^VIOLATION ` + regexp.QuoteMeta(v.Kind) + ` at step ` + strconv.FormatInt(v.Step, 10) + ` `)
			if !want.MatchString(r.stdout) || !strings.Contains(r.stdout, "trace hash: "+v.TraceHash+" ") {
				t.Errorf("text replay of %q does not show %s at step %d with hash %s:\n%s", line, v.Kind, v.Step, v.TraceHash, r.stdout)
			}
		})
	}
}
