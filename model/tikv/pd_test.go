package tikv

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
)

// checkTable checks the region table's invariants: regions sorted by
// start key, adjacent, covering the whole key space, with unique ids, all
// in the Normal state.
func checkTable(t *testing.T, tb *RegionTable, what string) {
	t.Helper()
	rs := tb.All()
	require.NotEmpty(t, rs, what)
	assert.Equal(t, "", rs[0].Start, "%s: the first region starts at -inf", what)
	assert.Equal(t, "", rs[len(rs)-1].End, "%s: the last region is unbounded", what)
	ids := map[uint64]bool{}
	for i, r := range rs {
		assert.False(t, ids[r.ID], "%s: id %d twice", what, r.ID)
		ids[r.ID] = true
		assert.Equal(t, RegionNormal, r.State, "%s: %s", what, r)
		assert.GreaterOrEqual(t, r.Epoch.Version, uint64(1), what)
		assert.GreaterOrEqual(t, r.Epoch.ConfVer, uint64(1), what)
		if i > 0 {
			assert.Equal(t, rs[i-1].End, r.Start, "%s: %s follows %s", what, r, rs[i-1])
		}
		if r.End != "" {
			assert.Less(t, r.Start, r.End, "%s: %s", what, r)
		}
		assert.Same(t, r, tb.ByID(r.ID))
		assert.Same(t, r, tb.Locate(r.Start), "%s: %s holds its start key", what, r)
	}
}

func TestRegionBasics(t *testing.T) {
	r := &Region{ID: 3, Start: "k002", End: "k005", Epoch: Epoch{Version: 4, ConfVer: 2}}
	assert.Equal(t, "region 3 [k002, k005) v4/c2", r.String())
	assert.Equal(t, "v4/c2", r.Epoch.String())
	assert.True(t, r.Contains("k002"))
	assert.True(t, r.Contains("k004"))
	assert.False(t, r.Contains("k005"), "the end is exclusive")
	assert.False(t, r.Contains("k001"))
	all := &Region{ID: 1}
	assert.Equal(t, "region 1 [, +inf) v0/c0", all.String())
	assert.True(t, all.Contains(""))
	assert.True(t, all.Contains("zzz"))
}

func TestRegionTableSplit(t *testing.T) {
	tb := newRegionTable()
	checkTable(t, tb, "new")
	r1 := tb.All()[0]
	assert.Equal(t, "region 1 [, +inf) v1/c1", r1.String())
	r1.AppliedIndex = 17

	r2 := tb.Split(r1, "k004")
	assert.Equal(t, "region 1 [, k004) v2/c1", r1.String())
	assert.Equal(t, "region 2 [k004, +inf) v2/c1", r2.String(), "both sides get the new epoch")
	assert.Equal(t, uint64(17), r2.AppliedIndex)
	checkTable(t, tb, "one split")

	// Splitting the left region inserts in order.
	r3 := tb.Split(r1, "k002")
	assert.Equal(t, []string{"region 1 [, k002) v3/c1", "region 3 [k002, k004) v3/c1", "region 2 [k004, +inf) v2/c1"}, regionStrings(tb))
	assert.Same(t, r3, tb.Locate("k003"))
	assert.Same(t, r2, tb.Locate("k999"))
	assert.Nil(t, tb.ByID(42))
	checkTable(t, tb, "two splits")

	for _, bad := range []struct {
		r   *Region
		key string
	}{{r1, ""}, {r3, "k002"}, {r3, "k004"}, {r3, "k005"}, {r1, "k003"}} {
		assert.PanicsWithValue(t, fmt.Sprintf("model: split key %q outside %s", bad.key, bad.r), func() { tb.Split(bad.r, bad.key) })
	}
	checkTable(t, tb, "after refused splits")
}

func TestRegionTableMerge(t *testing.T) {
	tb := newRegionTable()
	r1 := tb.All()[0]
	r2 := tb.Split(r1, "k004")
	r3 := tb.Split(r2, "k008")
	r2.Epoch.ConfVer = 5
	r3.AppliedIndex = 30
	r2.AppliedIndex = 10
	// r1 v2, r2 v3, r3 v3.

	// The right neighbour into the left: the target takes the union and
	// max(versions)+1; the source is a tombstone, out of the table.
	tb.Merge(r3, r2)
	assert.Equal(t, "region 2 [k004, +inf) v4/c5", r2.String())
	assert.Equal(t, RegionTombstone, r3.State)
	assert.Nil(t, tb.ByID(3))
	assert.Equal(t, uint64(31), r2.AppliedIndex, "the merge is one more raft entry after both")
	checkTable(t, tb, "right into left")

	// The left neighbour into the right.
	tb.Merge(r1, r2)
	assert.Equal(t, "region 2 [, +inf) v5/c5", r2.String())
	assert.Equal(t, []string{"region 2 [, +inf) v5/c5"}, regionStrings(tb))
	checkTable(t, tb, "left into right")

	// Non-adjacent regions do not merge, and the table is unchanged.
	tb = newRegionTable()
	a := tb.All()[0]
	b := tb.Split(a, "k003")
	c := tb.Split(b, "k006")
	before := regionStrings(tb)
	assert.PanicsWithValue(t, fmt.Sprintf("model: merge of non-adjacent %s into %s", c, a), func() { tb.Merge(c, a) })
	assert.Panics(t, func() { tb.Merge(a, c) })
	assert.Panics(t, func() { tb.Merge(b, b) }, "a region is not its own neighbour")
	assert.Equal(t, before, regionStrings(tb))
}

func TestRegionTableLocatePanicsOutsideTable(t *testing.T) {
	tb := &RegionTable{regions: []*Region{{ID: 1, Start: "k005"}}}
	assert.PanicsWithValue(t, `model: no region contains "k001"`, func() { tb.Locate("k001") })
}

func regionStrings(tb *RegionTable) []string {
	var out []string
	for _, r := range tb.All() {
		out = append(out, r.String())
	}
	return out
}

func TestKeyIndex(t *testing.T) {
	assert.Equal(t, 0, keyIndex(KeyName(0), 99))
	assert.Equal(t, 12, keyIndex(KeyName(12), 99))
	assert.Equal(t, 99, keyIndex("", 99), "an unbounded end")
	assert.PanicsWithValue(t, `model: bad key "x12"`, func() { keyIndex("x12", 0) })
}

// The PD actor's operations, one at a time, in a white-box cluster: a
// split passes through Splitting for a few steps and bumps both sides'
// versions; a merge passes through Merging and bumps the target's; a
// conf change bumps conf_ver. The table stays well formed throughout.
func TestPDOperations(t *testing.T) {
	cfg := DefaultConfig("lease-retry")
	cfg.KeySpace = 16
	s := sim.New(sim.NewPRNG(3), sim.Config{KeepTrace: true})
	c, err := newCluster(s, cfg, Workload{FlushThreshold: 1000, CompactTrigger: 1000})
	require.NoError(t, err)
	seen := map[RegionState]int{}
	done := false
	s.Spawn("watch", sim.ActorOptions{}, func(a *sim.Actor) {
		for !done {
			for _, r := range c.Regions.All() {
				seen[r.State]++
			}
			a.Yield()
		}
	})
	s.Spawn("pd", sim.ActorOptions{}, func(a *sim.Actor) {
		defer func() { done = true }()
		c.split(a)
		require.Len(t, c.Regions.All(), 2)
		left, right := c.Regions.All()[0], c.Regions.All()[1]
		assert.Equal(t, Epoch{Version: 2, ConfVer: 1}, left.Epoch)
		assert.Equal(t, Epoch{Version: 2, ConfVer: 1}, right.Epoch)
		// The region to split is drawn: one too small to split is left
		// alone.
		for i := 0; i < 20 && len(c.Regions.All()) < 3; i++ {
			c.split(a)
		}
		require.Len(t, c.Regions.All(), 3)
		c.merge(a)
		require.Len(t, c.Regions.All(), 2)
		// Two splits made versions of 2 and 3; the merge target gets
		// max(both)+1 = 4.
		top := uint64(0)
		for _, r := range c.Regions.All() {
			top = max(top, r.Epoch.Version)
		}
		assert.Equal(t, uint64(4), top)
	})
	res := s.Run()
	require.Empty(t, res.Observations)
	checkTable(t, c.Regions, "after PD")
	assert.Positive(t, seen[RegionSplitting], "a split is visible while it runs")
	assert.Positive(t, seen[RegionMerging], "a merge is visible while it runs")
	var ops []string
	for _, ev := range res.Events {
		if ev.Class == sim.ClassAction && (ev.Op == "split" || ev.Op == "merge") {
			ops = append(ops, ev.Op)
		}
	}
	assert.Equal(t, "merge", ops[len(ops)-1])
	assert.Equal(t, []string{"split", "split"}, ops[:len(ops)-1], "a refused split records nothing")

	// A region of one key cannot split: nothing happens.
	tb := &RegionTable{regions: []*Region{{ID: 1, End: KeyName(1), Epoch: Epoch{Version: 1, ConfVer: 1}}, {ID: 2, Start: KeyName(1), Epoch: Epoch{Version: 1, ConfVer: 1}}}, nextID: 3}
	c.Regions = tb
	cfg.KeySpace = 2
	c.cfg = cfg
	s2 := sim.New(sim.NewPRNG(1), sim.Config{})
	c.s = s2
	s2.Spawn("pd", sim.ActorOptions{}, func(a *sim.Actor) {
		for i := 0; i < 10; i++ {
			c.split(a)
		}
	})
	s2.Run()
	assert.Equal(t, []string{"region 1 [, k001) v1/c1", "region 2 [k001, +inf) v1/c1"}, regionStrings(tb))
}

// The PD actor over many seeds of the split-merge profile: at most
// MaxRegionOps operations per run, epochs never go down (versions grow
// with splits and merges, conf_ver with conf changes), the table stays
// well formed, and over the sweep every operation happens.
func TestPDLoopSplitMergeProfile(t *testing.T) {
	t.Parallel()
	cfg := profileConfig(t, "lease-retry", "split-merge")
	ops := map[string]int{}
	for seed := uint64(1); seed <= 100; seed++ {
		c, res := runCluster(t, cfg, seed, sim.Config{KeepTrace: true})
		require.Empty(t, res.Observations, "seed %d", seed)
		checkTable(t, c.Regions, fmt.Sprintf("seed %d", seed))
		n := 0
		epochs := map[uint64]Epoch{1: {Version: 1, ConfVer: 1}}
		for _, ev := range res.Events {
			if ev.Actor != "pd" || ev.Class != sim.ClassAction {
				continue
			}
			n++
			ops[ev.Op]++
			// Every region named in the event has an epoch no lower than
			// the last seen for its id.
			for _, part := range strings.Split(ev.Detail, "region ")[1:] {
				var id, v, cv uint64
				var lo, hi string
				if _, err := fmt.Sscanf(part, "%d [%s %s v%d/c%d", &id, &lo, &hi, &v, &cv); err != nil {
					continue
				}
				e := Epoch{Version: v, ConfVer: cv}
				if prev, ok := epochs[id]; ok {
					assert.True(t, e.Version >= prev.Version && e.ConfVer >= prev.ConfVer, "seed %d: region %d went from %s to %s", seed, id, prev, e)
				}
				epochs[id] = e
			}
		}
		require.LessOrEqual(t, n, cfg.MaxRegionOps, "seed %d", seed)
	}
	t.Logf("split-merge, seeds 1..100: PD operations %v", ops)
	for _, op := range []string{"split", "merge", "conf-change"} {
		assert.Positive(t, ops[op], op)
	}
}
