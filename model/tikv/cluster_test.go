package tikv

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
)

// buildCluster mirrors Run up to (not including) s.Run and returns the
// kernel and the cluster, so that tests can inspect both nodes after the
// run. Keep it in step with run.go: TestBuildClusterMatchesRun checks that
// both produce the same trace.
func buildCluster(t testing.TB, cfg Config, seed uint64, sc sim.Config) (*sim.Scheduler, *Cluster) {
	t.Helper()
	require.NoError(t, cfg.Validate())
	s := sim.New(sim.NewPRNG(seed), sc)
	drawProfile(&cfg, s)
	work := drawWorkload(cfg, s)
	c, err := newCluster(s, cfg, work)
	require.NoError(t, err)
	s.RecordAs("setup", sim.ClassInfo, "workload", fmt.Sprintf("collector=%s puts=%d flush_threshold=%d compact_trigger=%d snapshots=%d delays=%v",
		cfg.Collector, work.Puts, work.FlushThreshold, work.CompactTrigger, work.Snapshots, work.SnapshotDelays), "")
	c.spawn()
	return s, c
}

// runCluster runs a white-box cluster to its end.
func runCluster(t testing.TB, cfg Config, seed uint64, sc sim.Config) (*Cluster, sim.Result) {
	t.Helper()
	s, c := buildCluster(t, cfg, seed, sc)
	return c, s.Run()
}

// buildCluster is Run: the same seed gives the same trace.
func TestBuildClusterMatchesRun(t *testing.T) {
	for _, p := range ProfileNames() {
		cfg, err := ProfileConfig("lease-retry", p)
		require.NoError(t, err)
		for seed := uint64(1); seed <= 5; seed++ {
			_, res := runCluster(t, cfg, seed, sim.Config{})
			require.Equal(t, mustRun(t, cfg, seed).Result.TraceHash, res.TraceHash, "%s seed %d: buildCluster drifted from Run", p, seed)
		}
	}
}

func TestNewClusterLayout(t *testing.T) {
	s := sim.New(sim.NewPRNG(1), sim.Config{})
	cfg := DefaultConfig("pin")
	c, err := newCluster(s, cfg, Workload{FlushThreshold: 3, CompactTrigger: 2})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), c.term)
	assert.True(t, c.interference)
	assert.Equal(t, "designs.pin", fmt.Sprintf("%T", c.collector))
	assert.Equal(t, []string{"region 1 [, +inf) v1/c1"}, regionStrings(c.Regions))
	for i, n := range []*Node{c.Leader, c.Learner} {
		assert.Equal(t, i+1, n.ID)
		assert.Equal(t, fmt.Sprintf("n%d", i+1), n.Name)
		assert.Same(t, c.Ref, n.Ref, "one raft log")
		assert.NotSame(t, c.Leader.FS, c.Learner.FS)
		for _, dir := range []string{DBDir, SnapDir} {
			_, err := n.FS.Stat(dir)
			assert.NoError(t, err, "%s %s", n.Name, dir)
		}
		assert.Empty(t, n.Engine.Current().Files())
		assert.False(t, n.Snap.NonExclusive)
	}
	require.NotNil(t, c.Leader.Threads, "the leader builds snapshots on worker threads")
	require.NotNil(t, c.Leader.Limiter)
	assert.Nil(t, c.Learner.Threads)
	assert.Nil(t, c.Learner.Limiter)
	// The leader's worker threads have procfs stats files.
	procs := 0
	for _, p := range c.Leader.FS.Paths() {
		if strings.HasPrefix(p, "/proc/") && strings.HasSuffix(p, "/io") {
			procs++
		}
	}
	assert.Positive(t, procs)

	cfg.Variants.NonExclusiveBuild = true
	c, err = newCluster(sim.New(sim.NewPRNG(1), sim.Config{}), cfg, Workload{FlushThreshold: 3, CompactTrigger: 2})
	require.NoError(t, err)
	assert.True(t, c.Leader.Snap.NonExclusive)
	assert.True(t, c.Learner.Snap.NonExclusive)

	_, err = newCluster(sim.New(sim.NewPRNG(1), sim.Config{}), cfg, Workload{})
	assert.ErrorContains(t, err, "node n1: engine options out of range", "a zero flush threshold is refused")
}

func TestValuePadding(t *testing.T) {
	assert.Equal(t, "v12.....", value(12, 8))
	assert.Equal(t, "v12345", value(12345, 3), "never truncated")
	assert.Equal(t, "v7", value(7, 2))
	assert.Len(t, value(1, 100), 100)
}

// engineView returns what an engine holds for cf: its current version's
// files and its memtable, newest version of each key.
func nodeView(t *testing.T, n *Node, cf CF) []Record {
	t.Helper()
	var recs []Record
	for _, f := range n.Engine.Current().Files() {
		if f.CF == cf {
			for _, r := range decodeFile(t, n.FS, f.Path) {
				r.CF = cf
				recs = append(recs, r)
			}
		}
	}
	recs = append(recs, n.Engine.MemRecords(cf)...)
	return visible(recs, &Region{ID: 1}, ^uint64(0))
}

// After a run the leader's engine (files and memtable) holds exactly the
// raft log, through flushes, compactions, GC, and crashes with replay;
// every write reached the log and its region's applied index.
func TestLeaderHoldsTheRaftLog(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"default", "heavy-compaction", "faults", "split-merge"} {
		cfg, err := ProfileConfig("lease-retry", p)
		require.NoError(t, err)
		for seed := uint64(1); seed <= 40; seed++ {
			c, res := runCluster(t, cfg, seed, sim.Config{})
			require.Empty(t, res.Observations, "%s seed %d", p, seed)
			require.Len(t, c.Ref.Log(), c.work.Puts, "%s seed %d: every write is in the raft log", p, seed)
			var applied uint64
			for _, r := range c.Regions.All() {
				applied += r.AppliedIndex
			}
			if p != "split-merge" {
				// (A merge adds one entry of its own.)
				require.Equal(t, uint64(c.work.Puts), applied, "%s seed %d", p, seed)
			}
			for _, cf := range CFs {
				require.Equal(t, c.Ref.AtCF(cf, &Region{ID: 1}, ^uint64(0)), nodeView(t, c.Leader, cf), "%s seed %d cf %s", p, seed, cf)
			}
		}
	}
}

// Outcome mirrors the cluster: one report per snapshot requested and
// generated, the final region table, both nodes' space.
func TestOutcomeMirrorsCluster(t *testing.T) {
	cfg, err := ProfileConfig("lease-retry", "split-merge")
	require.NoError(t, err)
	for seed := uint64(1); seed <= 10; seed++ {
		out := mustRun(t, cfg, seed)
		c, _ := runCluster(t, cfg, seed, sim.Config{})
		require.Len(t, out.Snapshots, len(c.Snapshots))
		for i, r := range c.Snapshots {
			assert.Equal(t, r.ID, out.Snapshots[i].ID)
			assert.Equal(t, r.Status, out.Snapshots[i].Status)
		}
		require.Len(t, out.Regions, len(c.Regions.All()))
		for i, r := range c.Regions.All() {
			assert.Equal(t, *r, out.Regions[i])
		}
		assert.Equal(t, c.Leader.FS.Usage(c.Leader.classify), out.Usage)
		assert.Equal(t, c.Learner.FS.Usage(c.Learner.classify), out.Learner)
		assert.Equal(t, c.work, out.Workload)
		assert.LessOrEqual(t, len(out.Snapshots), out.Workload.Snapshots)
	}
}
