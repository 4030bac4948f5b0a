package detguard

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ruleLine identifies a finding by file base name, line and rule.
type ruleLine struct {
	File string
	Line int
	Rule Rule
}

func ruleLines(fs []Finding) []ruleLine {
	out := make([]ruleLine, len(fs))
	for i, f := range fs {
		out[i] = ruleLine{filepath.Base(f.File), f.Line, f.Rule}
	}
	return out
}

func listFindings(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("\n\t" + f.String())
	}
	return b.String()
}

// TestBadFixture is the negative control: a package breaking every rule must
// produce exactly the expected findings, in order.
func TestBadFixture(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "bad")
	got, err := Check(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []ruleLine{
		{"bad.go", 7, RuleGlobalRand},   // import "math/rand"
		{"bad.go", 16, RuleWallClock},   // clock.Now via renamed import
		{"bad.go", 21, RuleGlobalRand},  // rand.IntN (v2)
		{"bad.go", 26, RuleGoStatement}, // go f()
		{"bad.go", 33, RuleMapRange},    // sort before, not after
		{"bad.go", 42, RuleMapRange},    // maps.Values
		{"bad.go", 50, RuleMapRange},    // maps.Keys
		{"bad.go", 60, RuleMapRange},    // directive without a reason
		{"bad.go", 68, RuleMapRange},    // map-typed type parameter
		{"bad.go", 76, RuleMapRange},    // slices.Collect(maps.Values(m)), no range
		{"bad.go", 81, RuleMapRange},    // maps.Keys(m) passed on
		{"dot.go", 7, RuleWallClock},    // Sleep via dot import
	}
	if gotRL := ruleLines(got); !slices.Equal(gotRL, want) {
		t.Errorf("findings mismatch:\ngot  %v\nwant %v\nfull:%s", gotRL, want, listFindings(got))
	}

	for _, f := range got {
		if wantFile := filepath.Join(dir, filepath.Base(f.File)); f.File != wantFile {
			t.Errorf("Finding.File = %q, want %q", f.File, wantFile)
		}
		if s := f.String(); !strings.HasPrefix(s, f.File+":") || !strings.Contains(s, ": "+string(f.Rule)+": ") {
			t.Errorf("Finding.String() = %q: not file:line: rule: message", s)
		}
	}
	if len(got) > 0 {
		const want = "testdata/bad/bad.go:7: global-rand: "
		if s := filepath.ToSlash(got[0].String()); !strings.HasPrefix(s, want) {
			t.Errorf("first finding = %q, want prefix %q", s, want)
		}
	}
	t.Logf("bad fixture findings:%s", listFindings(got))
}

// TestGoAllowedFiles checks that Options.GoAllowedFiles exempts go
// statements, and only them, in the named files.
func TestGoAllowedFiles(t *testing.T) {
	t.Parallel()
	got, err := Check(filepath.Join("testdata", "bad"), Options{GoAllowedFiles: []string{"bad.go"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 11 {
		t.Errorf("got %d findings, want 11:%s", len(got), listFindings(got))
	}
	for _, f := range got {
		if f.Rule == RuleGoStatement {
			t.Errorf("go statement reported in allowed file: %s", f)
		}
	}
}

// TestGoodFixture checks that deterministic uses of maps, time and
// math/rand/v2 produce no findings.
func TestGoodFixture(t *testing.T) {
	t.Parallel()
	got, err := Check(filepath.Join("testdata", "good"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("want no findings, got %d:%s", len(got), listFindings(got))
	}
}

// TestErrors checks that Check refuses, rather than passes, what it cannot
// analyse.
func TestErrors(t *testing.T) {
	t.Parallel()
	t.Run("no go files", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "x_test.go"), []byte("package x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Check(dir, Options{}); !errors.Is(err, ErrNoGoFiles) {
			t.Errorf("Check(dir with only tests) error = %v, want ErrNoGoFiles", err)
		}
	})
	t.Run("missing dir", func(t *testing.T) {
		t.Parallel()
		if _, err := Check(filepath.Join(t.TempDir(), "nope"), Options{}); err == nil {
			t.Error("Check(missing dir) succeeded")
		}
	})
	t.Run("type error", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		files := map[string]string{
			"go.mod": "module example.com/broken\n\ngo 1.26\n",
			"x.go":   "package x\n\nvar V int = \"not an int\"\n",
		}
		for name, src := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := Check(dir, Options{}); err == nil {
			t.Error("Check(package with a type error) succeeded")
		} else {
			t.Logf("error as expected: %v", err)
		}
	})
}

// guardedPackages are the simulation packages the rules hold for: sim,
// vfsmem, and model with every package below it (model/engine, model/tikv,
// model/designs, model/kit, ...), and the systems of the examples module
// (examples/hbase, ...: its own module, checked in its own directory),
// found by walking the trees, so a new sub-package is guarded the day it
// is created. A directory named testdata is not a package.
func guardedPackages(t *testing.T) []string {
	t.Helper()
	root := filepath.Join("..", "..")
	pkgs := []string{"sim", "vfsmem"}
	for _, tree := range []string{"model", "examples"} {
		pkgs = append(pkgs, walkPackages(t, root, tree)...)
	}
	return pkgs
}

// walkPackages lists the directories under root/tree, relative to root.
func walkPackages(t *testing.T, root, tree string) []string {
	t.Helper()
	var pkgs []string
	err := filepath.WalkDir(filepath.Join(root, tree), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if d.Name() == "testdata" {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		pkgs = append(pkgs, filepath.ToSlash(rel))
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("walk %s: %v", tree, err)
	}
	return pkgs
}

// The walk finds the sub-packages of model and the examples' systems, so
// the guard covers them.
func TestGuardCoversModelSubpackages(t *testing.T) {
	pkgs := guardedPackages(t)
	for _, want := range []string{"sim", "vfsmem", "model", "model/engine", "model/kit", "examples/hbase"} {
		if !slices.Contains(pkgs, want) {
			t.Errorf("the determinism guard does not cover %s (it covers %v)", want, pkgs)
		}
	}
}

// TestProjectIsDeterministic enforces the rules on the simulation packages.
// A package that does not exist yet (or has no non-test Go files) is skipped;
// once it exists, every finding fails the test.
func TestProjectIsDeterministic(t *testing.T) {
	t.Parallel()
	for _, name := range guardedPackages(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("..", "..", filepath.FromSlash(name))
			if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
				t.Skipf("package %s does not exist yet (%s); it will be checked once it does", name, dir)
			}
			findings, err := Check(dir, Options{})
			if errors.Is(err, ErrNoGoFiles) {
				t.Skipf("package %s has no non-test Go files yet; it will be checked once it does", name)
			}
			if err != nil {
				t.Fatalf("cannot check package %s: %v", name, err)
			}
			if len(findings) > 0 {
				t.Errorf("package %s has %d determinism finding(s):%s", name, len(findings), listFindings(findings))
			}
		})
	}
}
