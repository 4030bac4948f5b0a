package proptest_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snapsim/snapsim/cmd/simrun/cli"
	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/builtin"
	"github.com/snapsim/snapsim/properties/proptest"
	"github.com/snapsim/snapsim/sim"
	"github.com/stretchr/testify/require"
)

// shrinkTime bounds each negative control's shrinking: enough to shrink a
// report counterexample to a fraction of its size, short enough for go
// test ./... (the tests assert what any shrink keeps: the kind, a smaller
// run, an exact replay).
const shrinkTime = 8 * time.Second

// reportKinds is the report's property: no open of a deleted file, no
// panic.
var reportKinds = []sim.Kind{sim.KindOpenDeletedFile, sim.KindPanic}

func config(t *testing.T, sys model.System, design string) model.Config {
	t.Helper()
	cfg, err := sys.NewConfig(design, "default")
	require.NoError(t, err)
	return cfg
}

// simrun runs the library CLI in process on args and returns its output
// and exit code.
func simrun(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	cmd := cli.Command()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), cli.ExitCode(err)
}

// TestCaughtNaive is the helper's negative control: naive on the TiKV-like
// system is caught, the counterexample is shrunk (deterministically) to
// the report's story, and the replay line the helper prints replays it
// exactly through the CLI (run in process).
func TestCaughtNaive(t *testing.T) {
	sys := builtin.TiKV()
	f := proptest.Caught(t, sys, config(t, sys, "naive"), proptest.NeverShows(reportKinds...), proptest.DrawsDir(t.TempDir()),
		proptest.DeterministicShrink(), proptest.ShrinkRuns(3000))
	require.NotEmpty(t, f.Outcome.Result.Observations)
	require.Equal(t, sim.KindOpenDeletedFile, f.Outcome.Result.Observations[0].Kind, "%s", f.Story())
	actions := sim.CountClass(f.Outcome.Result.Events, sim.ClassAction)
	require.Less(t, actions, f.FoundActions, "the counterexample was not shrunk:\n%s", f.Story())
	// Deterministic (no time-bounded pass): 51 actions found, 12 at the
	// shrinker's fixed point, the report's story (puts, flushes, list,
	// compactions, deletes, the open).
	require.LessOrEqual(t, actions, 12, "shrunk counterexample too long:\n%s", f.Story())
	story := f.Story()
	for _, want := range []string{"showed open-deleted-file", "system tikv, design naive", "VIOLATION open-deleted-file", "-rapid.seed=", "replay " + f.DrawsFile} {
		require.Contains(t, story, want)
	}
	t.Logf("naive caught, %d actions shrunk to %d:\n%s", f.FoundActions, actions, story)

	// The printed simrun line: go run ./cmd/simrun replay FILE --actions-only.
	words := strings.Fields(f.Replay)
	require.Equal(t, []string{"go", "run", "./cmd/simrun", "replay"}, words[:4])
	out, code := simrun(t, words[3:]...)
	require.Equal(t, 0, code, "the replay line does not replay the counterexample:\n%s", out)
	require.Contains(t, out, "expectation: met (expect open-deleted-file, trace hash "+sim.FormatHash(f.Outcome.Result.TraceHash))
	require.Contains(t, out, "found by go test . -run '^TestCaughtNaive$'")
}

// TestNeverLeaseRetry: the property holds of lease-retry for a modest
// number of cases (the matrix's strong cell, through the helper).
func TestNeverLeaseRetry(t *testing.T) {
	sys := builtin.TiKV()
	proptest.Never(t, sys, config(t, sys, "lease-retry"), reportKinds, proptest.Checks(25))
}

// TestCaughtOverProfiles: with Profiles the profile is a draw too, and
// the counterexample's configuration (the drawn profile's) is the one its
// .draws file carries.
func TestCaughtOverProfiles(t *testing.T) {
	sys := builtin.TiKV()
	dir := t.TempDir()
	f := proptest.Caught(t, sys, config(t, sys, "naive"), proptest.NeverShows(reportKinds...), proptest.DrawsDir(dir), proptest.ShrinkTime(shrinkTime),
		proptest.Profiles("default", "heavy-compaction"))
	require.Equal(t, "naive", f.Outcome.Config.DesignName())
	data, err := os.ReadFile(f.DrawsFile)
	require.NoError(t, err)
	require.Contains(t, string(data), `"profile": "`+f.Outcome.Config.ProfileName()+`"`)
	out, code := simrun(t, "replay", f.DrawsFile)
	require.Equal(t, 0, code, "%s", out)
}

// TestAlwaysJudgeOnOutcome: a judge over the outcome, not a kind. The
// property "every run ends by a violation" is false of lease-retry (a
// clean run exists), so the negative control catches it, and the failure,
// which observed nothing, has no .draws file and says why.
func TestAlwaysJudgeOnOutcome(t *testing.T) {
	sys := builtin.TiKV()
	judge := func(out *model.Outcome) error {
		if !out.Violated() {
			return errClean
		}
		return nil
	}
	f := proptest.Caught(t, sys, config(t, sys, "lease-retry"), judge, proptest.DrawsDir(t.TempDir()), proptest.Checks(5), proptest.ShrinkTime(time.Second))
	require.ErrorIs(t, f.Err, errClean)
	require.Empty(t, f.DrawsFile)
	require.Contains(t, f.Story(), "no .draws file")
}

var errClean = errorString("the run ended clean")

type errorString string

func (e errorString) Error() string { return string(e) }

// TestSeedIsFixed guards the deterministic default: the seed of a
// property depends only on its name.
func TestSeedIsFixed(t *testing.T) {
	a, b := proptest.Seed("TestX/lease-retry"), proptest.Seed("TestX/lease-retry")
	require.Equal(t, a, b)
	require.NotZero(t, a)
	require.NotEqual(t, a, proptest.Seed("TestX/pin"))
}

// TestDeterministicShrink: with rapid's time-bounded shrink skipped, the
// counterexample is the same twice (the run-budgeted shrink is
// deterministic), and smaller than the one rapid found.
func TestDeterministicShrink(t *testing.T) {
	sys := builtin.TiKV()
	var first *proptest.Failure
	for i := range 2 {
		t.Run("naive", func(t *testing.T) {
			f := proptest.Caught(t, sys, config(t, sys, "naive"), proptest.NeverShows(reportKinds...), proptest.DrawsDir(t.TempDir()),
				proptest.DeterministicShrink(), proptest.FixedSeed(1), proptest.ShrinkRuns(600))
			require.Less(t, sim.CountClass(f.Outcome.Result.Events, sim.ClassAction), f.FoundActions)
			if i == 0 {
				first = f
				return
			}
			require.Equal(t, first.Draws, f.Draws)
			require.Equal(t, first.Outcome.Result.TraceHash, f.Outcome.Result.TraceHash)
			t.Logf("the same counterexample twice: %d actions (found with %d), %d draws", sim.CountClass(f.Outcome.Result.Events, sim.ClassAction), f.FoundActions, len(f.Draws))
		})
	}
}

// TestNeverFailsWithTheStory: Never on naive fails its test, and the
// failure carries the story and both replay lines. The failing test runs
// in a child process (this test binary again), whose output is checked.
func TestNeverFailsWithTheStory(t *testing.T) {
	if os.Getenv("PROPTEST_CHILD") == "1" {
		sys := builtin.TiKV()
		proptest.Never(t, sys, config(t, sys, "naive"), reportKinds, proptest.DrawsDir(os.Getenv("PROPTEST_DIR")),
			proptest.DeterministicShrink(), proptest.ShrinkRuns(300))
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestNeverFailsWithTheStory$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PROPTEST_CHILD=1", "PROPTEST_DIR="+dir)
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "Never passed on naive:\n%s", out)
	for _, want := range []string{"counterexample, shrunk:", "showed open-deleted-file", "VIOLATION open-deleted-file",
		"replay: go test . -run '^TestNeverFailsWithTheStory$' -rapid.seed=", "replay: go run ./cmd/simrun replay " + dir} {
		require.Contains(t, string(out), want)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.draws"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	replay, code := simrun(t, "replay", files[0])
	require.Equal(t, 0, code, "%s", replay)
}
