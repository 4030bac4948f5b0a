package mydesign_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snapsim/snapsim/cmd/simrun/cli"
	"github.com/snapsim/snapsim/examples/mydesign"
	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/designs"
	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/properties/proptest"
	"github.com/snapsim/snapsim/sim"
	"github.com/stretchr/testify/require"
)

// mysim runs the library CLI with the design registered, in process, as
// examples/cmd/mysim does, and returns its output and exit code.
func mysim(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	cmd := cli.Command(cli.WithDesigns(mydesign.Designs()...), cli.WithGoRun("./cmd/mysim"))
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), cli.ExitCode(err)
}

// row is the part of a validate JSON row the tests read.
type row struct {
	Collector string         `json:"collector"`
	Violating int            `json:"violating_seeds"`
	Kinds     map[string]int `json:"kinds"`
}

// TestValidateRows: validate gives the user's designs their rows beside
// the built-ins on the swarm profile: naive and recheck open deleted
// files, recheck-atomic and lease-retry do not.
func TestValidateRows(t *testing.T) {
	out, code := mysim(t, "validate", "--collectors", "naive,recheck,recheck-atomic,lease-retry", "--profiles", "swarm", "--seed", "161", "--seeds", "40", "--format", "json")
	require.Equal(t, 0, code, "validate reports the violations it found and exits 0:\n%s", out)
	rows := map[string]row{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r row
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Collector != "" {
			rows[r.Collector] = r
		}
	}
	require.Len(t, rows, 4, "%s", out)
	require.Positive(t, rows["naive"].Kinds["open-deleted-file"])
	require.Positive(t, rows["recheck"].Kinds["open-deleted-file"], "recheck's window (seed 172 of swarm) is gone: %+v", rows["recheck"])
	require.Zero(t, rows["recheck-atomic"].Kinds["open-deleted-file"])
	require.Zero(t, rows["lease-retry"].Violating)
	require.Less(t, rows["recheck"].Violating, rows["naive"].Violating, "recheck's window is narrower than naive's")
}

// violatingSeed is a seed of recheck on swarm that opens a deleted file:
// the open after the check stalls while compaction deletes the file.
var violatingSeed = []string{"--collector", "recheck", "--profile", "swarm", "--seed", "172"}

// TestShrink: shrink minimises the violating seed to a .draws file, which
// replay reproduces.
func TestShrink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "recheck.draws")
	out, code := mysim(t, append([]string{"shrink", "-o", path, "--budget", "600"}, violatingSeed...)...)
	require.Equal(t, 0, code, "%s", out)
	require.Contains(t, out, "shrunk open-deleted-file")
	require.Contains(t, out, "replay: go run ./cmd/mysim replay "+path)
	out, code = mysim(t, "replay", path, "--actions-only")
	require.Equal(t, 0, code, "%s", out)
	require.Contains(t, out, "expectation: met (expect open-deleted-file")
}

// TestTimeline: timeline draws the violating seed as an SVG.
func TestTimeline(t *testing.T) {
	path := filepath.Join(t.TempDir(), "recheck.svg")
	out, code := mysim(t, append([]string{"timeline", "-o", path}, violatingSeed...)...)
	require.Equal(t, 0, code, "%s", out)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(bytes.TrimSpace(data), []byte("<svg")) || bytes.Contains(data, []byte("<svg ")), "not an SVG: %.80s", data)
	require.True(t, bytes.Contains(data, []byte("open-deleted-file")), "the timeline does not draw the open of a deleted file (%d bytes of SVG)", len(data))
}

// stallConfig is the property tests' configuration: the default profile,
// with one filesystem call in twenty stalling its caller for 3 ms, which
// widens recheck's window between its check and its open.
func stallConfig(t *testing.T, sys model.System, design string) model.Config {
	t.Helper()
	cfg, err := sys.NewConfig(design, "default")
	require.NoError(t, err)
	for _, s := range []struct {
		field string
		value int64
	}{{"stall_permille", 50}, {"stall_us", 3000}} {
		cfg, err = cfg.WithSetting(s.field, s.value)
		require.NoError(t, err)
	}
	return cfg
}

// system is the TiKV-like system with the built-in designs and the user's.
func system(t *testing.T) model.System {
	sys, err := tikv.New(append(designs.All(), mydesign.Designs()...)...)
	require.NoError(t, err)
	return sys
}

// TestPropertyRecheckCaught: the property "never opens a deleted file nor
// panics" catches recheck (its check and open are two steps), and the
// counterexample's replay line replays it through mysim.
func TestPropertyRecheckCaught(t *testing.T) {
	sys := system(t)
	f := proptest.Caught(t, sys, stallConfig(t, sys, "recheck"), proptest.NeverShows(sim.KindOpenDeletedFile, sim.KindPanic),
		proptest.DrawsDir(t.TempDir()), proptest.Program("./cmd/mysim"), proptest.Checks(1000), proptest.ShrinkTime(5*time.Second))
	require.Equal(t, sim.KindOpenDeletedFile, f.Outcome.Result.Observations[0].Kind, "%s", f.Story())
	t.Logf("recheck caught:\n%s", f.Story())
	words := strings.Fields(f.Replay)
	require.Equal(t, []string{"go", "run", "./cmd/mysim", "replay"}, words[:4])
	out, code := mysim(t, words[3:]...)
	require.Equal(t, 0, code, "%s", out)
	require.Contains(t, out, "expectation: met")
}

// TestPropertyRecheckAtomic: the same property holds of recheck-atomic.
func TestPropertyRecheckAtomic(t *testing.T) {
	sys := system(t)
	proptest.Never(t, sys, stallConfig(t, sys, "recheck-atomic"), []sim.Kind{sim.KindOpenDeletedFile, sim.KindPanic}, proptest.Checks(1000))
}
