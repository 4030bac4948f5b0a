package tikv

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
)

// TestPresplitRegionTable checks the layout of Config.InitialRegions: n
// adjacent regions covering the whole key space, each holding at least one
// key, ids 1..n, fresh epochs, and the next split id after them.
func TestPresplitRegionTable(t *testing.T) {
	for _, tc := range []struct{ n, keys int }{{2, 8}, {3, 8}, {8, 8}, {10, 80}, {7, 1000}, {100, 800}, {1000, 1000}} {
		name := fmt.Sprintf("%d-of-%d", tc.n, tc.keys)
		tab := newPresplitRegionTable(tc.n, tc.keys)
		regs := tab.All()
		require.Len(t, regs, tc.n, name)
		assert.Equal(t, "", regs[0].Start, name)
		assert.Equal(t, "", regs[len(regs)-1].End, name)
		for i, r := range regs {
			assert.Equal(t, uint64(i+1), r.ID, name)
			assert.Equal(t, Epoch{Version: 1, ConfVer: 1}, r.Epoch, name)
			assert.Equal(t, RegionNormal, r.State, name)
			if i > 0 {
				assert.Equal(t, regs[i-1].End, r.Start, "%s: adjacent", name)
			}
			lo, hi := keyIndex(r.Start, 0), keyIndex(r.End, tc.keys)
			assert.GreaterOrEqual(t, hi-lo, tc.keys/tc.n, "%s: region %d holds an even share", name, r.ID)
			assert.LessOrEqual(t, hi-lo, tc.keys/tc.n+1, "%s: region %d holds an even share", name, r.ID)
		}
		// Every key is in exactly one region, and Locate finds it.
		for k := 0; k < tc.keys; k++ {
			key := KeyName(k)
			in := 0
			for _, r := range regs {
				if r.Contains(key) {
					in++
				}
			}
			require.Equal(t, 1, in, "%s: %s", name, key)
			require.True(t, tab.Locate(key).Contains(key))
		}
		// A split after the pre-split gets the next id.
		r := regs[len(regs)-1]
		if lo, hi := keyIndex(r.Start, 0), tc.keys; hi-lo >= 2 {
			assert.Equal(t, uint64(tc.n+1), tab.Split(r, KeyName(lo+1)).ID, name)
		}
	}
}

// TestPresplitRegionTableDegenerate checks that 0 and 1 are today's single
// region, and that n is clamped to the key space (a swarm draw may shrink
// it below the configured InitialRegions).
func TestPresplitRegionTableDegenerate(t *testing.T) {
	for _, n := range []int{-1, 0, 1} {
		assert.Equal(t, newRegionTable(), newPresplitRegionTable(n, 8), "n=%d", n)
	}
	assert.Len(t, newPresplitRegionTable(100, 16).All(), 16, "clamped to the key space")
}

// TestInitialRegionsValidate checks the bounds of initial_regions: 0..KeySpace.
func TestInitialRegionsValidate(t *testing.T) {
	for _, bad := range []struct{ n, keys int }{{-1, 8}, {9, 8}, {1001, 1000}, {1 << 30, 1000}} {
		c := DefaultConfig("lease-retry")
		c.InitialRegions, c.KeySpace = bad.n, bad.keys
		err := c.Validate()
		require.Error(t, err, "%+v", bad)
		assert.Contains(t, err.Error(), "initial_regions")
		_, err = Run(c, sim.NewPRNG(1), sim.Config{})
		assert.Error(t, err, "Run validates too")
	}
	for _, good := range []struct{ n, keys int }{{0, 8}, {1, 8}, {8, 8}, {1000, 1000}} {
		c := DefaultConfig("lease-retry")
		c.InitialRegions, c.KeySpace = good.n, good.keys
		assert.NoError(t, c.Validate(), "%+v", good)
	}
}

// TestInitialRegionsDefaultUnchanged checks that the default and every
// profile leave the knob off, and that 0 and 1 give the same trace (the
// seed corpus's hashes rest on it).
func TestInitialRegionsDefaultUnchanged(t *testing.T) {
	for _, p := range ProfileNames() {
		c, err := ProfileConfig("lease-retry", p)
		require.NoError(t, err)
		assert.Zero(t, c.InitialRegions, p)
	}
	for seed := uint64(1); seed <= 20; seed++ {
		c := DefaultConfig("lease-retry")
		a, err := Run(c, sim.NewPRNG(seed), sim.Config{})
		require.NoError(t, err)
		c.InitialRegions = 1
		b, err := Run(c, sim.NewPRNG(seed), sim.Config{})
		require.NoError(t, err)
		require.Equal(t, a.Result.TraceHash, b.Result.TraceHash, "seed %d", seed)
	}
}

// TestInitialRegionsRun runs pre-split clusters (with the PD actor on, so
// splits and merges act on the pre-split table): runs end normally, are
// deterministic, and snapshots target the pre-split regions.
func TestInitialRegionsRun(t *testing.T) {
	c, err := ProfileConfig("lease-retry", "split-merge")
	require.NoError(t, err)
	c.InitialRegions = 4
	regionsSeen := map[uint64]bool{}
	for seed := uint64(1); seed <= 30; seed++ {
		a, err := Run(c, sim.NewPRNG(seed), sim.Config{})
		require.NoError(t, err)
		assert.Empty(t, a.Result.Observations, "seed %d: the correct design holds", seed)
		assert.Equal(t, sim.EndDone, a.Result.End, "seed %d", seed)
		b, err := Run(c, sim.NewPRNG(seed), sim.Config{})
		require.NoError(t, err)
		require.Equal(t, a.Result.TraceHash, b.Result.TraceHash, "seed %d: deterministic", seed)
		for _, s := range a.Snapshots {
			regionsSeen[s.Region] = true
		}
	}
	assert.Greater(t, len(regionsSeen), 1, "snapshots are drawn among several regions")
}
