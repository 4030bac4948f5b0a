package tikv

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/engine"
	"github.com/snapsim/snapsim/sim"
)

// collectRun is one white-box build: cfg's collector runs once on the
// leader of a fresh cluster whose engine holds one flushed file of 20
// records, beside the leader's GC daemon and a disturb actor (no writer,
// no pipeline).
type collectRun struct {
	s      *sim.Scheduler
	c      *Cluster
	n      *Node
	region *Region
	// listed are the engine's files when the build starts.
	listed []*FileMeta
	g      *Gen
	got    model.Collected
	err    error
	// done is set when Collect returned, at doneAt.
	done   bool
	doneAt sim.Micros
	res    sim.Result
}

// setupFlushes is how the white-box engine is filled: flushes files of
// perFile records each, 20 records in all.
func runCollect(t *testing.T, cfg Config, sc sim.Config, perFile int, disturb func(a *sim.Actor, w *collectRun)) *collectRun {
	t.Helper()
	return runCollectSetup(t, cfg, sc, func(w *collectRun) {
		e := w.n.Engine
		for i := 0; i < 20; i++ {
			rec := Record{CF: CFDefault, Key: KeyName(i % cfg.KeySpace), Kind: KindPut, Value: value(uint64(i+1), cfg.ValueBytes)}
			rec.Seq = e.Put(rec.Key, rec.Value)
			w.c.Ref.Append(rec)
			if (i+1)%perFile == 0 {
				require.NoError(t, e.Flush()) // set-up: outside any actor, no scheduling
			}
		}
		require.Len(t, e.Current().Files(), (20+perFile-1)/perFile)
	}, disturb)
}

// runCollectSetup is runCollect with the engine filled by setup (outside
// any actor) instead of by flushes of 20 records.
func runCollectSetup(t *testing.T, cfg Config, sc sim.Config, setup func(w *collectRun), disturb func(a *sim.Actor, w *collectRun)) *collectRun {
	t.Helper()
	sc.KeepTrace = true
	s := sim.New(sim.NewPRNG(1), sc)
	c, err := newCluster(s, cfg, Workload{FlushThreshold: 1000, CompactTrigger: 1000})
	require.NoError(t, err)
	w := &collectRun{s: s, c: c, n: c.Leader, region: c.Regions.All()[0]}
	e := w.n.Engine
	setup(w)
	w.listed = e.Current().Files()
	s.Spawn("snap-gen", sim.ActorOptions{Watched: true}, func(a *sim.Actor) {
		w.g = w.c.NewBuild(a, w.region)
		w.got, w.err = c.collector.Collect(w.g)
		w.done, w.doneAt = true, s.Now()
	})
	s.Spawn("disturb", sim.ActorOptions{}, func(a *sim.Actor) {
		if disturb != nil {
			disturb(a, w)
		}
	})
	e.SetDaemons(engine.Daemons{GC: s.Spawn("gc", sim.ActorOptions{Daemon: true}, e.GCLoop)})
	w.res = s.Run()
	return w
}

// compactAfter is a disturb script: after d (the generator is waiting on
// the rate limiter by then) it compacts the listed files away, then
// watches them until the build is over, reporting through alive whether
// each existed at every look while the build ran. It first flushes one
// more write of a listed key, so the L0 compaction has an overlapping
// second input and rewrites the listed files (a lone L0 file would be a
// trivial move: nothing replaced, nothing deleted). With the prompt
// deleter the disturb actor, which ran the compaction, deletes what it
// made obsolete.
func compactAfter(t *testing.T, d sim.Micros, alive *bool) func(a *sim.Actor, w *collectRun) {
	return func(a *sim.Actor, w *collectRun) {
		a.Sleep(d)
		e := w.n.Engine
		rec := Record{CF: CFDefault, Key: w.listed[0].Smallest, Kind: KindPut, Value: "overlap"}
		rec.Seq = e.Put(rec.Key, rec.Value)
		w.c.Ref.Append(rec)
		assert.NoError(t, e.Flush())
		assert.NoError(t, e.Compact())
		assert.NotContains(t, w.n.Engine.Current().Files(), w.listed[0], "the compaction replaced the listed file")
		*alive = true
		for !w.done {
			for _, f := range w.listed {
				*alive = *alive && exists(w.n.FS, f.Path)
			}
			a.Sleep(sim.Millisecond)
		}
	}
}

// actionLines returns "detail: result" of the trace's events with op.
func actionLines(events []sim.Event, op string) []string {
	var out []string
	for _, ev := range events {
		if ev.Op == op && ev.Class == sim.ClassAction {
			out = append(out, ev.Detail+": "+ev.Result)
		}
	}
	return out
}

// eventsOf returns the trace's action events with op.
func eventsOf(events []sim.Event, op string) []sim.Event {
	var out []sim.Event
	for _, ev := range events {
		if ev.Op == op && ev.Class == sim.ClassAction {
			out = append(out, ev)
		}
	}
	return out
}

// checkReleased checks that a build left no engine snapshot, lease,
// reference or disabled deletions behind.
func checkReleased(t *testing.T, w *collectRun) {
	t.Helper()
	e := w.n.Engine
	assert.Empty(t, e.Snapshots(), "engine snapshots released")
	assert.Empty(t, e.Leases(), "leases released")
	assert.False(t, e.DeletionsDisabled(), "deletions enabled")
	assert.Equal(t, []*Version{e.Current()}, e.LiveVersions(), "only the current version is live")
	assert.Equal(t, 1, e.Current().Refs(), "no reference left on the current version")
}

// The listed file is compacted away and deleted by GC while the generator
// waits on the limiter: the open fails, the attempt is discarded, and the
// second attempt, after the backoff, reads the new version.
func TestRetryCollectorRetriesFromFreshListing(t *testing.T) {
	cfg := DefaultConfig("retry")
	var alive bool
	w := runCollect(t, cfg, sim.Config{}, 20, compactAfter(t, 100*sim.Microsecond, &alive))
	require.NoError(t, w.err)
	require.True(t, w.done)
	assert.False(t, alive, "GC deleted the listed file during the build (retry pins nothing)")
	assert.Equal(t, 2, w.g.attempts)

	obs := w.res.Observations
	require.Len(t, obs, 1, "%v", obs)
	assert.Equal(t, sim.KindOpenDeletedFile, obs[0].Kind)
	assert.Equal(t, "snap-gen", obs[0].Actor)
	assert.Regexp(t, "^open "+w.listed[0].Path+`: removed at step \d+ .* by disturb: obsolete after compaction`, obs[0].Detail)
	assert.Equal(t, []string{"attempt 1 aborted (1 of 5 failures): open " + w.listed[0].Path + ": file does not exist"}, actionLines(w.res.Events, "retry"))

	lists := eventsOf(w.res.Events, "list")
	retries := eventsOf(w.res.Events, "retry")
	require.Len(t, lists, 2)
	require.Len(t, retries, 1)
	assert.GreaterOrEqual(t, lists[1].Time-retries[0].Time, cfg.Backoff, "backoff × 1 before attempt 2")

	cur := w.n.Engine.Current().Files()
	require.Len(t, cur, 1)
	assert.Equal(t, []string{cur[0].Name()}, w.got.Files, "attempt 2 read the compaction's output")
	assert.Equal(t, w.c.Ref.At(w.region, w.got.Seq), w.got.Data[CFDefault])
	assert.Len(t, w.got.Data[CFDefault], cfg.KeySpace)
	checkReleased(t, w)
}

// Every open failing: MaxAttempts attempts with growing backoffs, then an
// error wrapping model.ErrAttemptsSpent and the last I/O error; no panic.
func TestRetryCollectorGivesUp(t *testing.T) {
	cfg := DefaultConfig("retry")
	cfg.MaxAttempts = 3
	cfg.FS.Faults.OpenEIOPermille = 1000
	w := runCollect(t, cfg, sim.Config{}, 20, nil)
	require.True(t, w.done)
	require.Error(t, w.err)
	assert.ErrorIs(t, w.err, model.ErrAttemptsSpent)
	assert.Contains(t, w.err.Error(), "snapshot attempts exhausted after 3 attempts (3 failures): open "+w.listed[0].Path+": input/output error")
	assert.Equal(t, 3, w.g.attempts)
	assert.Empty(t, w.res.Observations, "an I/O error is no deleted file, and nothing panics")

	lists := eventsOf(w.res.Events, "list")
	retries := eventsOf(w.res.Events, "retry")
	require.Len(t, lists, 3)
	require.Len(t, retries, 3)
	for i, r := range retries {
		assert.True(t, strings.HasPrefix(r.Detail, "attempt "), r.Detail)
		assert.Contains(t, r.Result, "input/output error")
		if i+1 < len(lists) {
			assert.GreaterOrEqual(t, lists[i+1].Time-r.Time, cfg.Backoff*sim.Micros(i+1), "backoff × %d", i+1)
		}
	}
	assert.Equal(t, retries[2].Time, w.doneAt, "no backoff after the last attempt")
	checkReleased(t, w)
}
