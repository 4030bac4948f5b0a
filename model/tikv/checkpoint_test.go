package tikv

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// liveLinks returns the checkpoint links that exist in n's filesystem.
func liveLinks(n *Node) []string {
	var out []string
	for _, p := range n.FS.Paths() {
		if _, gone := n.FS.Deleted(p); !gone && isCheckpointLink(p) {
			out = append(out, p)
		}
	}
	return out
}

// linksMade returns every checkpoint link the ledger saw created.
func linksMade(n *Node) []string {
	var out []string
	for _, p := range n.FS.Paths() {
		for _, ev := range n.FS.History(p) {
			if ev.Op == vfsmem.LifeLinked && isCheckpointLink(p) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

func TestCheckpointLinkNames(t *testing.T) {
	assert.True(t, isCheckpointLink("/snap/ckpt_snap-gen_7_2_000012.sst"))
	assert.False(t, isCheckpointLink("/snap/gen_1_1_7_default.sst"))
	assert.False(t, isCheckpointLink("/db/000012.sst"))
	_, _, _, ok := parseSnapPath("ckpt_snap-gen_7_2_000012.sst")
	assert.False(t, ok, "snapshot GC does not take a link for a snapshot file")
}

// The original is compacted away and deleted by GC while the generator
// waits on the limiter: the build reads it through its link, then removes
// the link.
func TestCheckpointCollectorReadsThroughLinks(t *testing.T) {
	cfg := DefaultConfig("checkpoint")
	var alive bool
	w := runCollect(t, cfg, sim.Config{}, 20, compactAfter(t, 100*sim.Microsecond, &alive))
	require.NoError(t, w.err)
	assert.Empty(t, w.res.Observations)
	assert.Equal(t, 1, w.g.attempts)

	orig, ok := w.n.FS.Deleted(w.listed[0].Path)
	require.True(t, ok, "the original was deleted during the build")
	assert.Equal(t, "disturb", orig.Actor, "the compacting actor deletes (the prompt deleter)")
	assert.Less(t, orig.Time, w.doneAt)

	made := linksMade(w.n)
	require.Len(t, made, 1)
	hist := w.n.FS.History(made[0])
	require.Len(t, hist, 2)
	assert.Equal(t, vfsmem.LifeLinked, hist[0].Op)
	assert.Equal(t, w.listed[0].Path, hist[0].Other)
	assert.Equal(t, vfsmem.LifeRemoved, hist[1].Op)
	assert.Equal(t, "checkpoint done", hist[1].Why)
	assert.Equal(t, "snap-gen", hist[1].Actor)
	assert.Empty(t, liveLinks(w.n))

	opens := eventsOf(w.res.Events, "open")
	require.Len(t, opens, 1)
	assert.Equal(t, made[0], opens[0].Detail)
	assert.Greater(t, opens[0].Time, orig.Time, "read through the link after the original was gone")
	assert.Equal(t, []string{w.listed[0].Name()}, w.got.Files, "the report names the engine file")
	assert.Equal(t, w.c.Ref.At(w.region, w.got.Seq), w.got.Data[CFDefault])
	checkReleased(t, w)
}

// Linking 20 files takes 20ms (a slow link); meanwhile the files are
// dropped from the engine (as DeleteFilesInRange does after a region
// moves), so they are obsolete while the generator still links them.
// Deletions are disabled while linking, so every link succeeds; GC deletes
// the originals right after the last link, when deletions are enabled
// again (not waiting for the slow reads).
func TestCheckpointCollectorHoldsDeletionsWhileLinking(t *testing.T) {
	cfg := DefaultConfig("checkpoint")
	cfg.FS.Costs.Link = sim.Millisecond
	var droppedAt sim.Micros
	w := runCollect(t, cfg, sim.Config{}, 1, func(a *sim.Actor, w *collectRun) {
		a.Sleep(50 * sim.Microsecond)
		assert.True(t, w.n.Engine.DeletionsDisabled(), "the generator is linking")
		_, err := w.n.Engine.IngestFiles(nil, w.listed, "test: drop the region's files")
		assert.NoError(t, err)
		assert.Len(t, w.n.Engine.Obsolete(), len(w.listed))
		droppedAt = w.s.Now()
	})
	require.NoError(t, w.err)
	assert.Empty(t, w.res.Observations)
	require.Len(t, w.listed, 20)

	enabled := eventsOf(w.res.Events, "checkpoint")
	require.Len(t, enabled, 2)
	assert.Equal(t, "deletions enabled", enabled[1].Detail)
	assert.Equal(t, "20 links made", enabled[1].Result)
	assert.Less(t, droppedAt, enabled[1].Time, "the files were dropped while the generator was linking")
	for _, f := range w.listed {
		ev, ok := w.n.FS.Deleted(f.Path)
		require.True(t, ok, "%s deleted once deletions were enabled", f.Path)
		assert.Equal(t, "gc", ev.Actor)
		assert.Greater(t, ev.Step, enabled[1].Step, "%s deleted while deletions were disabled", f.Path)
		assert.Less(t, ev.Time, w.doneAt, "deletions resumed before the reads were done")
	}
	assert.Len(t, linksMade(w.n), 20)
	assert.Empty(t, liveLinks(w.n))
	assert.Equal(t, w.c.Ref.At(w.region, w.got.Seq), w.got.Data[CFDefault])
	checkReleased(t, w)
}

// Every open of a link failing: each attempt removes its links and
// re-enables deletions; after MaxAttempts the build fails with an error,
// leaving no link.
func TestCheckpointCollectorCleansUpOnError(t *testing.T) {
	cfg := DefaultConfig("checkpoint")
	cfg.MaxAttempts = 3
	cfg.FS.Faults.OpenEIOPermille = 1000
	w := runCollect(t, cfg, sim.Config{}, 10, nil)
	require.Error(t, w.err)
	assert.ErrorIs(t, w.err, model.ErrAttemptsSpent)
	assert.Contains(t, w.err.Error(), "input/output error")
	assert.Equal(t, 3, w.g.attempts)
	assert.Empty(t, w.res.Observations)
	made := linksMade(w.n)
	assert.Len(t, made, 3*2, "two files linked per attempt")
	for _, p := range made {
		ev, ok := w.n.FS.Deleted(p)
		require.True(t, ok, p)
		assert.Equal(t, "checkpoint done", ev.Why)
	}
	assert.Empty(t, liveLinks(w.n))
	assert.Len(t, actionLines(w.res.Events, "retry"), 3)
	checkReleased(t, w)
}

// A run halted at any step (the step budget) never leaves deletions
// disabled, nor an engine snapshot held. (Links may stay behind when the
// halt falls in their removal: a halted actor cannot run scheduling
// points; the run is over anyway.)
func TestCheckpointCollectorHaltedNeverLeavesDeletionsDisabled(t *testing.T) {
	cfg := DefaultConfig("checkpoint")
	full := runCollect(t, cfg, sim.Config{}, 5, nil)
	require.NoError(t, full.err)
	require.Empty(t, full.res.Observations)
	steps := full.res.Steps
	require.Greater(t, steps, int64(10))
	halted := 0
	for budget := int64(1); budget < steps; budget++ {
		w := runCollect(t, cfg, sim.Config{MaxSteps: budget}, 5, nil)
		require.Equal(t, sim.EndBudget, w.res.End, "budget %d", budget)
		require.Empty(t, ofKind(w.res.Observations, sim.KindPanic), "budget %d", budget)
		assert.False(t, w.n.Engine.DeletionsDisabled(), "budget %d", budget)
		assert.Empty(t, w.n.Engine.Snapshots(), "budget %d", budget)
		if !w.done {
			halted++
		}
	}
	assert.Positive(t, halted)
}

// The generator's trace, in order: disable, list, links, enable, opens of
// links, link removals.
func TestCheckpointCollectorTraceOrder(t *testing.T) {
	cfg := DefaultConfig("checkpoint")
	w := runCollect(t, cfg, sim.Config{}, 10, nil)
	require.NoError(t, w.err)
	ours := map[string]bool{"list": true, "checkpoint": true, "link": true, "open": true, "unlink": true, "retry": true}
	var ops []string
	for _, ev := range w.res.Events {
		if ev.Actor == "snap-gen" && ev.Class == sim.ClassAction && ours[ev.Op] {
			op := ev.Op
			if op == "checkpoint" {
				op += " " + strings.Fields(ev.Detail)[1]
			}
			ops = append(ops, op)
		}
	}
	assert.Equal(t, []string{"list", "checkpoint disabled;", "link", "link", "checkpoint enabled", "open", "open", "unlink", "unlink"}, ops)
}
