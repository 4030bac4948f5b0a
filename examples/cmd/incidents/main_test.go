package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/cmd/simrun/cli"
)

// run runs the incidents command in-process on args with stdout captured
// into a file outside the checkout, and returns the exit code and output.
func run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	out, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = out
	cmd := cli.Command(cli.WithSystems(Systems()...), cli.WithGoRun("./cmd/incidents"))
	cmd.SetArgs(args)
	cmd.SetOut(out)
	code := cli.ExitCode(cmd.Execute())
	os.Stdout = saved
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	return code, string(data)
}

// TestReplayEveryExample is "go run ./cmd/incidents replay --system NAME
// NAME/buggy.scenario" (and fixed) for every registered example: each
// file's expectation is met (exit 0).
func TestReplayEveryExample(t *testing.T) {
	for _, sys := range Systems() {
		name := sys.Spec().Name
		for _, side := range []string{"buggy", "fixed"} {
			file := filepath.Join("..", "..", name, side+".scenario")
			code, out := run(t, "replay", "--system", name, file)
			if code != 0 || !strings.Contains(out, "expectation: met") {
				t.Errorf("replay --system %s %s: exit %d, output:\n%s", name, file, code, out)
			}
		}
	}
}

// TestReplayRefusesAnotherSystem: --system must name the file's own
// system (exit 2, bad usage).
func TestReplayRefusesAnotherSystem(t *testing.T) {
	code, _ := run(t, "replay", "--system", "tikv", filepath.Join("..", "..", "hbase", "buggy.scenario"))
	if code != 2 {
		t.Errorf("replay --system tikv hbase/buggy.scenario: exit %d, want 2", code)
	}
}

// TestSystemsListsTheExamples: simrun systems names every example.
func TestSystemsListsTheExamples(t *testing.T) {
	code, out := run(t, "systems")
	if code != 0 {
		t.Fatalf("systems: exit %d", code)
	}
	for _, sys := range Systems() {
		if !strings.Contains(out, sys.Spec().Name+" ") {
			t.Errorf("systems does not list %s:\n%s", sys.Spec().Name, out)
		}
	}
}

// TestCheckAnExampleScope is "simrun check" on a kit system: the
// exhaustive explorer finds etcd's purge of a pending DB file within no
// delay, and verifies the registry within two.
func TestCheckAnExampleScope(t *testing.T) {
	dir := t.TempDir()
	scope := filepath.Join(dir, "etcd-two.scope")
	if err := os.WriteFile(scope, []byte("system etcd\nscope etcd-two\nsummary two snapshots, no drawn delays\nset snapshots 2\nset max_snapshot_gap_us 0\nset max_apply_delay_us 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := run(t, "check", "--scope", scope, "--collector", "purge-older", "--delays", "2", "-o", filepath.Join(dir, "cx.draws"))
	if code != 1 || !strings.Contains(out, "found after") {
		t.Errorf("check purge-older: exit %d, want 1 (a counterexample):\n%s", code, out)
	}
	code, out = run(t, "check", "--scope", scope, "--collector", "skip-pending", "--delays", "2", "-o", filepath.Join(dir, "none.draws"))
	if code != 0 || !strings.Contains(out, "verified:") {
		t.Errorf("check skip-pending: exit %d, want 0 (verified):\n%s", code, out)
	}
}
