package seeds

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/model"
)

// corpusFiles lists the corpus: every .scenario and .seed file in this
// directory, sorted.
func corpusFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, pat := range []string{"*.scenario", "*.seed"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m...)
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatal("the corpus is empty")
	}
	return out
}

// TestCorpus replays every corpus file and checks its expectations: a
// buggy scenario must reproduce its failure, a fixed one must observe
// nothing, and a seed that no longer reaches its observation is DRIFT.
func TestCorpus(t *testing.T) {
	for _, path := range corpusFiles(t) {
		t.Run(path, func(t *testing.T) {
			f, err := Load(path)
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			out, err := f.Replay()
			if err != nil {
				t.Fatalf("replay: %v", err)
			}
			if err := f.Check(&out); err != nil {
				t.Fatal(err)
			}
			// Determinism: a second replay gives the same trace.
			again, err := f.Replay()
			if err != nil || again.Result.TraceHash != out.Result.TraceHash {
				t.Fatalf("second replay differs: hash %x vs %x (err %v)", again.Result.TraceHash, out.Result.TraceHash, err)
			}
		})
	}
}

// corpusSide splits a scenario file name NAME.SIDE.scenario: SIDE is
// "buggy", "fixed" or "fixed-VARIANT" (VARIANT: lower-case letters,
// digits and '-'), so one buggy scenario pairs with NAME.fixed.scenario and
// any number of NAME.fixed-VARIANT.scenario (other fixes of the same bug).
func corpusSide(p string) (base, side, variant string, ok bool) {
	stem, isScenario := strings.CutSuffix(p, ".scenario")
	if !isScenario {
		return "", "", "", false
	}
	base, side, ok = strings.Cut(stem, ".")
	if !ok || base == "" {
		return "", "", "", false
	}
	if v, isVariant := strings.CutPrefix(side, "fixed-"); isVariant {
		if !validName(v) {
			return "", "", "", false
		}
		return base, "fixed", v, true
	}
	if side != "buggy" && side != "fixed" {
		return "", "", "", false
	}
	return base, side, "", true
}

// TestCorpusPairs checks that every incident keeps both sides: each
// NAME.buggy.scenario has a NAME.fixed.scenario, each fixed side
// (NAME.fixed.scenario or NAME.fixed-VARIANT.scenario) has its
// NAME.buggy.scenario, buggy ones expect something and fixed ones expect
// none.
func TestCorpusPairs(t *testing.T) {
	files := map[string]bool{}
	for _, p := range corpusFiles(t) {
		files[p] = true
	}
	for _, p := range corpusFiles(t) {
		if !strings.HasSuffix(p, ".scenario") {
			continue
		}
		base, side, _, ok := corpusSide(p)
		if !ok {
			t.Errorf("%s: want NAME.buggy.scenario, NAME.fixed.scenario or NAME.fixed-VARIANT.scenario", p)
			continue
		}
		f, err := Load(p)
		if err != nil {
			t.Fatalf("load %s: %v", p, err)
		}
		switch side {
		case "buggy":
			if !files[base+".fixed.scenario"] {
				t.Errorf("%s has no %s.fixed.scenario", p, base)
			}
			if len(f.Scenario.Expect) == 0 {
				t.Errorf("%s: a buggy scenario must expect a kind", p)
			}
		case "fixed":
			if !files[base+".buggy.scenario"] {
				t.Errorf("%s has no %s.buggy.scenario", p, base)
			}
			if !f.Scenario.ExpectNone {
				t.Errorf("%s: a fixed scenario must say expect none", p)
			}
		}
	}
}

func TestCorpusSide(t *testing.T) {
	cases := []struct {
		p, base, side, variant string
		ok                     bool
	}{
		{"report.buggy.scenario", "report", "buggy", "", true},
		{"report.fixed.scenario", "report", "fixed", "", true},
		{"lease-stall.fixed-grace.scenario", "lease-stall", "fixed", "grace", true},
		{"lease-stall.fixed-.scenario", "", "", "", false},
		{"lease-stall.fixed-Grace.scenario", "", "", "", false},
		{"lease-stall-grace.scenario", "", "", "", false},
		{"x.other.scenario", "", "", "", false},
		{"x.buggy.seed", "", "", "", false},
	}
	for _, c := range cases {
		base, side, variant, ok := corpusSide(c.p)
		if base != c.base || side != c.side || variant != c.variant || ok != c.ok {
			t.Errorf("corpusSide(%q) = %q, %q, %q, %v", c.p, base, side, variant, ok)
		}
	}
}

// TestBuggyScenariosAreMetByTheirScript: every buggy scenario's positive
// expectations are met by observations made while its script ran (none of
// them says "after script" or "anytime"): the script staged the failure,
// not the random tail.
func TestBuggyScenariosAreMetByTheirScript(t *testing.T) {
	for _, p := range corpusFiles(t) {
		if _, side, _, ok := corpusSide(p); !ok || side != "buggy" {
			continue
		}
		f, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range f.Scenario.Expect {
			if x.Scope != model.ScopeScript {
				t.Errorf("%s: %q looks beyond the script", p, "expect "+x.String())
			}
		}
	}
}

// TestDriftIsReported: a seed file whose seed does not reach its
// expectation fails with a DRIFT message, not silently.
func TestDriftIsReported(t *testing.T) {
	f, err := Parse("drift.seed", []byte("collector naive\nseed 2\nexpect open-deleted-file\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Replay()
	if err != nil {
		t.Fatal(err)
	}
	err = f.Check(&out)
	if err == nil || !strings.Contains(err.Error(), "DRIFT") || !strings.Contains(err.Error(), "seed 2") {
		t.Fatalf("want a DRIFT error naming seed 2, got %v", err)
	}
}
