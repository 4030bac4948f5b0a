package seeds

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"
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

// TestCorpusPairs checks that every incident keeps both sides: each
// X.buggy.scenario has an X.fixed.scenario and vice versa, buggy ones
// expect something and fixed ones expect none.
func TestCorpusPairs(t *testing.T) {
	files := map[string]bool{}
	for _, p := range corpusFiles(t) {
		files[p] = true
	}
	for _, p := range corpusFiles(t) {
		base, side, ok := strings.Cut(strings.TrimSuffix(p, ".scenario"), ".")
		if !ok || !strings.HasSuffix(p, ".scenario") {
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
			if !files[base+".buggy.scenario"] && !strings.HasSuffix(base, "-grace") {
				t.Errorf("%s has no %s.buggy.scenario", p, base)
			}
			if !f.Scenario.ExpectNone {
				t.Errorf("%s: a fixed scenario must say expect none", p)
			}
		default:
			t.Errorf("%s: want NAME.buggy.scenario or NAME.fixed.scenario", p)
		}
	}
}

// TestDriftIsReported: a seed file whose seed does not reach its
// expectation fails with a DRIFT message, not silently.
func TestDriftIsReported(t *testing.T) {
	f, err := Parse("drift.seed", []byte("collector naive\nseed 1\nexpect open-deleted-file\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Replay()
	if err != nil {
		t.Fatal(err)
	}
	err = f.Check(&out)
	if err == nil || !strings.Contains(err.Error(), "DRIFT") || !strings.Contains(err.Error(), "seed 1") {
		t.Fatalf("want a DRIFT error naming seed 1, got %v", err)
	}
}
