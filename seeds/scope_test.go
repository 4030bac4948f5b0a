package seeds

import (
	"errors"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// TestBuiltinScopes: every built-in scope parses, is named after its file,
// and gives a valid configuration for every collector.
func TestBuiltinScopes(t *testing.T) {
	scopes := Scopes()
	want := []string{"lease-stall", "recycled-tid", "report", "snap-gc-apply", "split-merge"}
	if got := strings.Join(ScopeNames(), " "); got != strings.Join(want, " ") {
		t.Fatalf("built-in scopes %s; want %s", got, strings.Join(want, " "))
	}
	for _, s := range scopes {
		if !strings.HasSuffix(s.Path, "/"+s.Name+".scope") {
			t.Errorf("%s: scope %s is not named after its file", s.Path, s.Name)
		}
		for _, c := range model.CollectorNames() {
			cfg, err := s.Config(c, model.Variants{}, false)
			if err != nil {
				t.Errorf("%s with %s: %v", s.Name, c, err)
			}
			if cfg.Workload == nil || cfg.EndAfter == "" {
				t.Errorf("%s: a built-in scope fixes its workload and ends early (got workload %v, end after %q)", s.Name, cfg.Workload, cfg.EndAfter)
			}
		}
		if err := s.Bounds.Validate(); err != nil {
			t.Errorf("%s: bounds %+v: %v", s.Name, s.Bounds, err)
		}
	}
	r, _ := BuiltinScope("report")
	cfg, _ := r.Config("naive", model.Variants{}, false)
	if cfg.Workload.Puts != 2 || cfg.Workload.SnapshotDelays[0] != 400 || cfg.ThreadChurnInterval != 0 || cfg.EndAfter != model.EndAfterWorkload {
		t.Errorf("report scope config: %+v", cfg)
	}
	for _, k := range r.Kinds() {
		if k == sim.KindLiveness || k == sim.KindFileLeak {
			t.Errorf("report scope ends with the workload: it cannot show %s", k)
		}
	}
}

// TestScopeFileErrors: a malformed scope file names FILE:LINE and the
// expected form.
func TestScopeFileErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"summary x\n", "x.scope:1: no scope line; want \"scope NAME\""},
		{"scope a\n", "x.scope:1: no summary line"},
		{"scope a\nsummary s\nbogus 1\n", "x.scope:3: unknown keyword \"bogus\""},
		{"scope a\nsummary s\ndelays 9\n", "x.scope:3: bad value \"9\"; want \"delays K\" with N in 0..8"},
		{"scope a\nsummary s\nwidth 1\n", "x.scope:3: bad value \"1\"; want \"width W\" with N in 2..64"},
		{"scope a\nsummary s\nset bogus 1\n", "x.scope:3: unknown field \"bogus\"; want \"set FIELD VALUE\""},
		{"scope a\nsummary s\nset max_steps 1\n", "x.scope:3: unknown field \"max_steps\""},
		{"scope a\nsummary s\nworkload puts 2\n", "x.scope:3: 2 words after workload; want \"workload puts N"},
		{"scope a\nsummary s\nworkload puts 2 flush-threshold 0 compact-trigger 1 snapshots 0\n", "x.scope:3: config: workload flush_threshold and compact_trigger must be >= 1"},
		{"scope a\nsummary s\nset key_space 0\n", "x.scope:3: config: key_space must be in 1..1000"},
		{"scope a\nsummary s\nend-after never\n", "x.scope:3: want \"end-after workload|liveness\""},
		{"scope a\nscope b\n", "x.scope:2: scope given twice (first at line 1)"},
		{"scope A\n", "x.scope:1: bad name \"A\""},
		{"scope a\nsummary s\nprofile swarm\n", "x.scope:3: unknown profile \"swarm\""},
	} {
		_, err := ParseScope("x.scope", []byte(c.src))
		var pe *ParseError
		if err == nil || !errors.As(err, &pe) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: error %v; want one starting %q", c.src, err, c.want)
		}
	}
}
