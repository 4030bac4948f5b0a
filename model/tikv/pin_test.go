package tikv

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// The listed file is compacted away while the generator waits on the
// limiter: the version reference keeps it on disk for the whole build, and
// GC deletes it once the build lets go.
func TestPinCollectorHoldsVersionForWholeBuild(t *testing.T) {
	cfg := DefaultConfig("pin")
	var alive bool
	var deletedAfter bool
	w := runCollect(t, cfg, sim.Config{}, 20, func(a *sim.Actor, w *collectRun) {
		compactAfter(t, 100*sim.Microsecond, &alive)(a, w)
		// The build is over: the file is GC's now.
		a.Sleep(5 * cfg.GCInterval)
		_, deletedAfter = w.n.FS.Deleted(w.listed[0].Path)
	})
	require.NoError(t, w.err)
	assert.True(t, alive, "the pinned file existed at every look during the build")
	assert.True(t, deletedAfter, "GC deleted it after the build")
	ev, ok := w.n.FS.Deleted(w.listed[0].Path)
	require.True(t, ok)
	assert.Equal(t, "gc", ev.Actor)
	assert.GreaterOrEqual(t, ev.Time, w.doneAt)

	assert.Empty(t, w.res.Observations)
	assert.Equal(t, 1, w.g.attempts)
	assert.Equal(t, []string{w.listed[0].Name()}, w.got.Files)
	assert.Equal(t, w.c.Ref.At(w.region, w.got.Seq), w.got.Data[CFDefault])
	pins, unpins := eventsOf(w.res.Events, "pin"), eventsOf(w.res.Events, "unpin")
	require.Len(t, pins, 1)
	require.Len(t, unpins, 1)
	assert.Equal(t, "version 2 (1 files): refs 2", pins[0].Detail+": "+pins[0].Result, "the current reference plus ours")
	assert.Equal(t, "version 2: refs 0", unpins[0].Detail+": "+unpins[0].Result, "replaced by the compaction, ours was the last")
	checkReleased(t, w)
}

// With the unsafe eager GC (an engine built with EngineOptions.EagerGC) a
// reference protects nothing: GC deletes the pinned file
// (gc-deleted-pinned-file), the open fails (open-deleted-file), and pin
// retries from the new version instead of panicking.
func TestPinCollectorUnderEagerGC(t *testing.T) {
	cfg := DefaultConfig("pin")
	cfg.Variants.EagerGC = true
	var alive bool
	w := runCollect(t, cfg, sim.Config{}, 20, compactAfter(t, 100*sim.Microsecond, &alive))
	require.True(t, w.n.Engine.Options().EagerGC, "the engine was built eager")
	require.NoError(t, w.err)
	assert.False(t, alive)
	assert.Equal(t, 2, w.g.attempts)

	k := kinds(w.res.Observations)
	require.Equal(t, map[sim.Kind]int{sim.KindGCDeletedPinnedFile: 1, sim.KindOpenDeletedFile: 1}, k)
	gcObs := ofKind(w.res.Observations, sim.KindGCDeletedPinnedFile)[0]
	odf := ofKind(w.res.Observations, sim.KindOpenDeletedFile)[0]
	assert.Equal(t, "disturb", gcObs.Actor, "the compacting actor deletes (the prompt deleter)")
	assert.Regexp(t, "^"+w.listed[0].Path+` deleted while referenced by live version \d+ \(refs 1\)$`, gcObs.Detail)
	assert.Equal(t, "snap-gen", odf.Actor)
	assert.Less(t, gcObs.Step, odf.Step)
	assert.Equal(t, []string{"attempt 1 aborted (1 of 5 failures): open " + w.listed[0].Path + ": file does not exist"}, actionLines(w.res.Events, "retry"))

	assert.Equal(t, w.c.Ref.At(w.region, w.got.Seq), w.got.Data[CFDefault])
	checkReleased(t, w)
}

// An attempt that fails still drops its reference: after MaxAttempts
// failed opens nothing stays pinned.
func TestPinCollectorUnpinsOnError(t *testing.T) {
	cfg := DefaultConfig("pin")
	cfg.MaxAttempts = 2
	cfg.FS.Faults.OpenEIOPermille = 1000
	w := runCollect(t, cfg, sim.Config{}, 20, nil)
	require.ErrorIs(t, w.err, model.ErrAttemptsSpent)
	assert.Contains(t, w.err.Error(), "input/output error")
	assert.Equal(t, 2, w.g.attempts)
	assert.Empty(t, w.res.Observations)
	assert.Len(t, eventsOf(w.res.Events, "pin"), 2)
	assert.Len(t, eventsOf(w.res.Events, "unpin"), 2)
	checkReleased(t, w)
}
