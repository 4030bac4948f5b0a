package proptest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoCLIDependency: a user's property test links proptest, and with it
// neither the CLI (cobra, the progress bar) nor the real Pebble database
// (only pebble's vfs package, which the filesystem is built on).
func TestNoCLIDependency(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/snapsim/snapsim/properties/proptest").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "github.com/snapsim/snapsim/cmd/simrun/cli",
			strings.HasPrefix(dep, "github.com/spf13/"),
			strings.HasPrefix(dep, "github.com/schollz/"),
			dep == "github.com/cockroachdb/pebble",
			dep == "github.com/snapsim/snapsim/baseline/realpebble":
			t.Errorf("proptest depends on %s", dep)
		}
	}
}
