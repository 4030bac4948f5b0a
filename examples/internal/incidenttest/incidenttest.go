// Package incidenttest holds the checks every incident example runs on its
// system: its scenario pair replays as it expects, a sweep of fixed seeds
// catches the buggy design and never the fixed one, and a seed runs the
// same twice.
package incidenttest

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/seeds"
	"github.com/snapsim/snapsim/sim"
)

// Systems is the set of systems a scenario file of sys may name: sys
// alone (a corpus file's "system" line must name it).
func Systems(t testing.TB, sys model.System) *model.Systems {
	t.Helper()
	ss, err := model.NewSystems(sys)
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

// Pair replays dir/buggy.scenario and dir/fixed.scenario on sys and checks
// each against its expectations; the buggy one must expect an
// observation and the fixed one none. It returns the two outcomes.
func Pair(t *testing.T, sys model.System, dir string) (buggy, fixed model.Outcome) {
	t.Helper()
	ss := Systems(t, sys)
	replay := func(name string) (*seeds.File, model.Outcome) {
		f, err := seeds.LoadIn(ss, filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		out, err := f.Replay()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := f.Check(&out); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		return f, out
	}
	bf, buggy := replay("buggy.scenario")
	ff, fixed := replay("fixed.scenario")
	if len(bf.Scenario.Expect) == 0 {
		t.Errorf("buggy.scenario expects no observation")
	}
	if !ff.Scenario.ExpectNone {
		t.Errorf("fixed.scenario does not say \"expect none\"")
	}
	bj, err1 := json.Marshal(bf.Scenario.Config)
	fj, err2 := json.Marshal(ff.Scenario.Config)
	if err1 != nil || err2 != nil {
		t.Fatalf("encode configurations: %v, %v", err1, err2)
	}
	if string(bj) == string(fj) {
		t.Errorf("buggy.scenario and fixed.scenario run the same configuration %s", bj)
	}
	return buggy, fixed
}

// Sweep runs cfg on sys over seeds 0..n-1 (random schedule, stopping at
// the first violation) and returns, per observation kind, how many seeds
// observed it, and the first seed that observed anything (-1 if none).
func Sweep(t *testing.T, sys model.System, cfg model.Config, n int) (map[sim.Kind]int, int) {
	t.Helper()
	counts := map[sim.Kind]int{}
	first := -1
	for seed := 0; seed < n; seed++ {
		out, err := sys.Run(cfg, sim.NewPRNG(uint64(seed)), sim.Config{StopOnViolation: true}, model.Hooks{})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if out.Result.End == sim.EndBudget {
			t.Fatalf("seed %d ran out of its step budget: the system does not finish", seed)
		}
		seen := map[sim.Kind]bool{}
		for _, o := range out.Result.Observations {
			seen[o.Kind] = true
		}
		for _, k := range sim.Kinds {
			if seen[k] {
				counts[k]++
			}
		}
		if len(seen) > 0 && first < 0 {
			first = seed
		}
	}
	return counts, first
}

// Config returns sys's configuration of design under the default
// profile, with variants turned on.
func Config(t testing.TB, sys model.System, design string, variants ...string) model.Config {
	t.Helper()
	cfg, err := sys.NewConfig(design, sys.Spec().DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range variants {
		if cfg, err = cfg.WithVariant(v); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

// BuggyCaughtFixedClean sweeps n seeds of both designs: the buggy one
// must show kind on some seed, the fixed one nothing on any.
func BuggyCaughtFixedClean(t *testing.T, sys model.System, buggy, fixed model.Config, kind sim.Kind, n int) {
	t.Helper()
	got, first := Sweep(t, sys, buggy, n)
	if got[kind] == 0 {
		t.Errorf("buggy %s: %s on no seed of %d (observed %s)", buggy.DesignName(), kind, n, describe(got))
	}
	t.Logf("buggy %s: %s on %d of %d seeds (first: seed %d)", buggy.DesignName(), kind, got[kind], n, first)
	got, first = Sweep(t, sys, fixed, n)
	if len(got) > 0 {
		t.Errorf("fixed %s: observed %s over %d seeds (first: seed %d)", fixed.DesignName(), describe(got), n, first)
	}
}

func describe(counts map[sim.Kind]int) string {
	if len(counts) == 0 {
		return "nothing"
	}
	var parts []string
	for k, n := range counts { // sorted below
		parts = append(parts, fmt.Sprintf("%s on %d", k, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// Twice runs cfg with seed twice, keeping the trace, and fails if the two
// runs differ (hash, steps or the first differing event).
func Twice(t *testing.T, sys model.System, cfg model.Config, seed uint64) {
	t.Helper()
	run := func() sim.Result {
		out, err := sys.Run(cfg, sim.NewPRNG(seed), sim.Config{KeepTrace: true, StopOnViolation: true}, model.Hooks{})
		if err != nil {
			t.Fatal(err)
		}
		return out.Result
	}
	a, b := run(), run()
	if a.TraceHash != b.TraceHash || a.Steps != b.Steps {
		i := sim.FirstDifference(a.Events, b.Events)
		t.Errorf("seed %d of %s runs differently twice: %016x/%d steps and %016x/%d steps, first difference at event %d", seed, cfg.DesignName(), a.TraceHash, a.Steps, b.TraceHash, b.Steps, i)
	}
	if len(a.Events) == 0 {
		t.Errorf("seed %d of %s kept no trace", seed, cfg.DesignName())
	}
}
