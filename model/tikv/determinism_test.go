package tikv

import (
	"encoding/json"
	"maps"
	"runtime"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/model/engine"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

func deterministicConfigs() map[string]Config {
	na := stallConfig()
	na.NonAtomicCheck = true
	return map[string]Config{
		"naive":                 DefaultConfig("naive"),
		"lease-retry":           DefaultConfig("lease-retry"),
		"lease-retry-stalls":    stallConfig(),
		"lease-retry-nonatomic": na,
	}
}

func outcomeJSON(t *testing.T, o Outcome) string {
	t.Helper()
	o.Result.Observations = stripStacks(o.Result.Observations)
	b, err := json.Marshal(o)
	require.NoError(t, err)
	return string(b)
}

func TestSameSeedSameOutcome(t *testing.T) {
	for name, cfg := range deterministicConfigs() {
		for seed := uint64(1); seed <= 40; seed++ {
			a, b := mustRun(t, cfg, seed), mustRun(t, cfg, seed)
			require.Equal(t, a.Result.TraceHash, b.Result.TraceHash, "%s seed %d", name, seed)
			require.Equal(t, outcomeJSON(t, a), outcomeJSON(t, b), "%s seed %d", name, seed)
			if len(a.Result.Observations) == 0 {
				// Nothing to strip: the raw JSON is identical too.
				ja, _ := json.Marshal(a)
				jb, _ := json.Marshal(b)
				require.Equal(t, string(ja), string(jb))
			}
		}
	}
}

// Panic stacks carry goroutine ids and addresses: they are the one part of
// an Outcome that may differ between two runs of a seed. They are never
// hashed.
func TestPanicStackIsTheOnlyVariablePart(t *testing.T) {
	var p []sim.Observation
	var out Outcome
	for seed := uint64(1); seed <= 50 && len(p) == 0; seed++ {
		out = mustRun(t, DefaultConfig("naive"), seed)
		p = ofKind(out.Result.Observations, sim.KindPanic)
	}
	require.NotEmpty(t, p, "naive panics in one of the first seeds")
	assert.Contains(t, p[0].Stack, "goroutine ")
	j, err := json.Marshal(out)
	require.NoError(t, err)
	assert.Contains(t, string(j), `"stack":`)
}

func TestDifferentSeedsDiffer(t *testing.T) {
	for _, name := range []string{"naive", "lease-retry"} {
		hashes := map[uint64]bool{}
		for seed := uint64(1); seed <= 200; seed++ {
			hashes[mustRun(t, DefaultConfig(name), seed).Result.TraceHash] = true
		}
		assert.GreaterOrEqual(t, len(hashes), 195, name)
	}
}

func TestTraceHashIndependentOfKeepTraceAndReplayable(t *testing.T) {
	for _, name := range []string{"naive", "lease-retry"} {
		cfg := DefaultConfig(name)
		for seed := uint64(1); seed <= 20; seed++ {
			rec := sim.NewRecorder(sim.NewPRNG(seed))
			kept, err := Run(cfg, rec, sim.Config{KeepTrace: true})
			require.NoError(t, err)
			plain := mustRun(t, cfg, seed)
			require.Equal(t, plain.Result.TraceHash, kept.Result.TraceHash)
			require.Len(t, kept.Result.Events, kept.Result.EventCount)
			require.Empty(t, plain.Result.Events)

			log := sim.NewLog(rec.Draws())
			replay, err := Run(cfg, log, sim.Config{})
			require.NoError(t, err)
			require.Equal(t, plain.Result.TraceHash, replay.Result.TraceHash, "%s seed %d replay", name, seed)
			require.Zero(t, log.Divergences)
			require.Equal(t, len(rec.Draws()), log.Consumed())
		}
	}
}

func TestGOMAXPROCSDoesNotMatter(t *testing.T) {
	hashes := func() []uint64 {
		var hs []uint64
		cfgs := deterministicConfigs()
		for _, name := range slices.Sorted(maps.Keys(cfgs)) {
			cfg := cfgs[name]
			for seed := uint64(1); seed <= 30; seed++ {
				hs = append(hs, mustRun(t, cfg, seed).Result.TraceHash)
			}
		}
		return hs
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	one := hashes()
	runtime.GOMAXPROCS(4)
	four := hashes()
	require.Equal(t, one, four)
}

// An Abort raised by the Choice source (rapid's control flow) escapes Run
// with its cause, whether it fires while drawing the workload or inside an
// actor.
func TestRunPropagatesAbort(t *testing.T) {
	for _, after := range []int{0, 3, 50} {
		ch := &abortAfter{inner: sim.NewPRNG(1), n: after}
		assert.PanicsWithValue(t, "out of data", func() {
			_, _ = Run(DefaultConfig("naive"), ch, sim.Config{})
		}, "abort after %d draws", after)
	}
}

type abortAfter struct {
	inner sim.Choice
	n     int
}

func (a *abortAfter) Intn(n int) int {
	if a.n == 0 {
		panic(sim.Abort{Cause: "out of data"})
	}
	a.n--
	return a.inner.Intn(n)
}

// Space accounting on both nodes of the cluster. Outcome.Usage is the
// leader's, Outcome.Learner the learner's. Snapshot files do not survive a
// run (snapshot GC removes them once applied), so what is left is engine
// data: the leader's written data, the learner's ingested snapshots.
func TestSpaceAccounting(t *testing.T) {
	ingested := 0
	for seed := uint64(1); seed <= 50; seed++ {
		out := mustRun(t, DefaultConfig("lease-retry"), seed)
		require.Empty(t, out.Result.Observations, "seed %d", seed)
		u := out.Usage
		require.Positive(t, u.TotalBytes, "seed %d", seed)
		require.Positive(t, u.LiveBytes, "seed %d", seed)
		require.Positive(t, u.Files)
		require.Equal(t, u.TotalBytes, u.LiveBytes+u.PinnedBytes+u.GarbageBytes+u.OrphanBytes, "seed %d: %+v", seed, u)
		require.GreaterOrEqual(t, u.PeakBytes, u.TotalBytes)

		l := out.Learner
		require.Equal(t, l.TotalBytes, l.LiveBytes+l.PinnedBytes+l.GarbageBytes+l.OrphanBytes, "seed %d: learner %+v", seed, l)
		require.GreaterOrEqual(t, l.PeakBytes, l.TotalBytes)
		require.Zero(t, l.GarbageBytes, "seed %d: the learner's GC drained: %+v", seed, l)
		var snapBytes, keys int64
		for _, s := range out.Snapshots {
			if s.Status == SnapApplied {
				snapBytes += s.SizeBytes
				keys += int64(s.Keys)
			}
		}
		// At its peak the learner held at least one whole snapshot.
		if snapBytes > 0 {
			require.Positive(t, l.PeakBytes, "seed %d", seed)
		}
		if keys > 0 {
			ingested++
			require.Positive(t, l.LiveBytes, "seed %d: ingested data is live on the learner: %+v", seed, l)
		}
	}
	require.Positive(t, ingested, "some seed ingests data")
}

// classify: the snap dir and the current version are live, an obsolete file
// under a lease is pinned, one in an old referenced version is pinned, and
// an obsolete unprotected file is garbage.
//
// Every compaction here has an overlapping second input, so it rewrites
// (a lone file would be moved); the delayed deleter with no gc actor
// leaves the unprotected obsolete file on disk as garbage (the prompt one
// would delete it in the compaction).
func TestClassify(t *testing.T) {
	s := sim.New(sim.NewPRNG(1), sim.Config{})
	cfg := DefaultConfig("lease-retry")
	cfg.GCMode = "delayed"
	c, err := newCluster(s, cfg, Workload{Puts: 1, FlushThreshold: 1, CompactTrigger: 1, Snapshots: 1, SnapshotDelays: []sim.Micros{0}})
	require.NoError(t, err)
	n := c.Leader
	e := n.Engine
	var leased, referenced, garbage, live *FileMeta
	s.Spawn("script", sim.ActorOptions{}, func(a *sim.Actor) {
		e.Put("a", "1")
		assert.NoError(t, e.Flush())
		e.Put("a", "2")
		assert.NoError(t, e.Flush())
		leased = e.Current().Files()[0]
		e.AcquireLease("reader", e.Current().Files(), sim.Second)
		assert.NoError(t, e.Compact())
		e.Put("a", "3")
		assert.NoError(t, e.Flush())
		v := e.Current()
		e.Ref(v)
		referenced = v.Levels[0][0]
		assert.NoError(t, e.Compact())
		e.Put("a", "4")
		assert.NoError(t, e.Flush())
		garbage = e.Current().Levels[0][0]
		assert.NoError(t, e.Compact())
		live = e.Current().Levels[1][0]
		assert.NoError(t, e.WriteFile(SnapDir+"/1_1_1.sst", engine.EncodeSST(nil)))
	})
	s.Run()
	assert.Equal(t, vfsmem.SpaceLive, n.classify(SnapDir+"/1_1_1.sst"))
	assert.Equal(t, vfsmem.SpaceLive, n.classify(live.Path))
	assert.Equal(t, vfsmem.SpacePinned, n.classify(leased.Path))
	assert.Equal(t, vfsmem.SpacePinned, n.classify(referenced.Path))
	assert.Equal(t, vfsmem.SpaceGarbage, n.classify(garbage.Path))
	u := n.FS.Usage(n.classify)
	assert.Positive(t, u.PinnedBytes)
	assert.Positive(t, u.GarbageBytes)
	assert.Positive(t, u.LiveBytes)
}
