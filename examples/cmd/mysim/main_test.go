package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/cmd/simrun/cli"
	"github.com/snapsim/snapsim/examples/mydesign"
)

// mysim runs the command's CLI in process, from the examples directory
// (the scenario paths are relative to it).
func mysim(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	cmd := cli.Command(cli.WithDesigns(mydesign.Designs()...), cli.WithSystems(Systems()...), cli.WithGoRun("./cmd/mysim"))
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	code := cli.ExitCode(cmd.ExecuteContext(context.Background()))
	return out.String(), code
}

// TestRegistered: mysim runs the user's design, and replays each of the
// user's systems' scenario pairs with their expectations met.
func TestRegistered(t *testing.T) {
	out, code := mysim(t, "replay", "--collector", "recheck-atomic", "--seed", "1", "--json")
	if code != 0 || !strings.Contains(out, `"collector": "recheck-atomic"`) {
		t.Fatalf("replay --collector recheck-atomic: exit %d\n%.400s", code, out)
	}
	for _, s := range Systems() {
		for _, f := range []string{"buggy", "fixed"} {
			path := "../../" + s.Spec().Name + "/" + f + ".scenario"
			out, code := mysim(t, "replay", path)
			if code != 0 || !strings.Contains(out, "expectation: met") {
				t.Errorf("replay %s: exit %d\n%s", path, code, out)
			}
		}
	}
}
