package tikv

import (
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/model/engine"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// rig is an engine on its own kernel and filesystem, for white-box tests.
// A scheduler runs once: each test builds one rig and drives it with one
// script actor (plus whatever daemons it spawns).
type rig struct {
	s  *sim.Scheduler
	fs *vfsmem.FS
	e  *Engine
}

func testOpts() EngineOptions {
	return EngineOptions{FlushThreshold: 1000, CompactTrigger: 1000, GCInterval: 100 * sim.Microsecond,
		LevelBaseBytes: engine.DefaultLevelBaseBytes, LevelMultiplier: engine.DefaultLevelMultiplier, TargetFileBytes: engine.DefaultTargetFileBytes}
}

// delayedOpts is testOpts with the delayed GC (engine.GCDelayed): the gc actor
// deletes, GCInterval after it is woken.
func delayedOpts() EngineOptions {
	o := testOpts()
	o.GCMode = engine.GCDelayed
	return o
}

// gcModes are both deleters, for tests whose claim holds for each.
var gcModes = []engine.GCMode{engine.GCPrompt, engine.GCDelayed}

// flushOverlapping writes key in n flushes: n overlapping L0 files of the
// default column family, so that the next L0 compaction rewrites them (a
// lone L0 file with nothing below it is a trivial move instead). It
// returns the new files, oldest first.
func flushOverlapping(t *testing.T, e *Engine, key string, n int) []*FileMeta {
	t.Helper()
	before := len(e.Current().Levels[0])
	for i := 0; i < n; i++ {
		e.Put(key, fmt.Sprintf("%s.%d", key, i))
		assert.NoError(t, e.Flush())
	}
	return append([]*FileMeta(nil), e.Current().Levels[0][before:]...)
}

func newRig(t *testing.T, opts EngineOptions, fsOpts vfsmem.Options) *rig {
	t.Helper()
	return newRigSeed(t, 1, opts, fsOpts)
}

func newRigSeed(t *testing.T, seed uint64, opts EngineOptions, fsOpts vfsmem.Options) *rig {
	t.Helper()
	s := sim.New(sim.NewPRNG(seed), sim.Config{KeepTrace: true})
	fs := vfsmem.New(s, fsOpts)
	e, err := engine.NewEngine(s, fs, DBDir, opts)
	require.NoError(t, err)
	return &rig{s: s, fs: fs, e: e}
}

// withGC spawns the engine's GC daemon (it must be spawned before Run).
func (r *rig) withGC() *rig {
	r.e.SetDaemons(engine.Daemons{GC: r.s.Spawn("gc", sim.ActorOptions{Daemon: true}, r.e.GCLoop)})
	return r
}

// run spawns script as the only non-daemon actor, runs the kernel to the
// end and fails the test if any actor panicked. Assertions inside script
// must be non-fatal (assert, not require): they run on a coroutine.
func (r *rig) run(t *testing.T, script func(a *sim.Actor)) sim.Result {
	t.Helper()
	r.s.Spawn("script", sim.ActorOptions{}, script)
	res := r.s.Run()
	for _, o := range res.Observations {
		require.NotEqual(t, sim.KindPanic, o.Kind, "actor %s panicked: %s\n%s", o.Actor, o.Detail, o.Stack)
	}
	require.Equal(t, sim.EndDone, res.End)
	return res
}

// readFile reads a whole file outside any actor (no scheduling, no faults).
func readFile(t *testing.T, fs *vfsmem.FS, p string) []byte {
	t.Helper()
	fi, err := fs.Stat(p)
	require.NoError(t, err)
	f, err := fs.Open(p)
	require.NoError(t, err)
	b, err := readAll(f, p, fi.Size())
	require.NoError(t, err)
	return b
}

func decodeFile(t *testing.T, fs *vfsmem.FS, p string) []Record {
	t.Helper()
	recs, err := engine.DecodeSST(readFile(t, fs, p))
	require.NoError(t, err)
	return recs
}

func exists(fs *vfsmem.FS, p string) bool {
	_, err := fs.Stat(p)
	return err == nil
}

func kinds(obs []sim.Observation) map[sim.Kind]int {
	m := map[sim.Kind]int{}
	for _, o := range obs {
		m[o.Kind]++
	}
	return m
}

func ofKind(obs []sim.Observation, k sim.Kind) []sim.Observation {
	var out []sim.Observation
	for _, o := range obs {
		if o.Kind == k {
			out = append(out, o)
		}
	}
	return out
}

// stripStacks drops panic stacks (goroutine ids and addresses differ from
// run to run; the kernel never hashes them).
func stripStacks(obs []sim.Observation) []sim.Observation {
	out := append([]sim.Observation(nil), obs...)
	for i := range out {
		out[i].Stack = ""
	}
	return out
}

func mustRun(t testing.TB, cfg Config, seed uint64) Outcome {
	t.Helper()
	out, err := Run(cfg, sim.NewPRNG(seed), sim.Config{})
	require.NoError(t, err)
	return out
}

// stallConfig is lease-retry on a disk whose threads stall for 10ms (twice
// the 5ms lease TTL) on 2% of operations.
func stallConfig() Config {
	c := DefaultConfig("lease-retry")
	c.FS.Faults.StallPermille = 20
	c.FS.Faults.StallMicros = 10 * sim.Millisecond
	c.LeaseTTL = 5 * sim.Millisecond
	return c
}

// buildNode mirrors Run up to (not including) s.Run, so tests can reach the
// node afterwards. Keep it in step with run.go.

func crcOf(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
