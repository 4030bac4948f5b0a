package tikv

import (
	"fmt"

	"github.com/snapsim/snapsim/model"
)

// The region types are the extension API's (a design reads them).
type (
	Epoch       = model.Epoch
	RegionState = model.RegionState
	Region      = model.Region
)

// Region states.
const (
	RegionNormal    = model.RegionNormal
	RegionSplitting = model.RegionSplitting
	RegionMerging   = model.RegionMerging
	RegionTombstone = model.RegionTombstone
)

// RegionTable is the cluster's region metadata (what PD and the leader
// agree on): regions sorted by start key, covering the whole key space.
type RegionTable struct {
	regions []*Region
	nextID  uint64
}

// newRegionTable returns one region covering everything.
func newRegionTable() *RegionTable {
	return &RegionTable{regions: []*Region{{ID: 1, Epoch: Epoch{Version: 1, ConfVer: 1}}}, nextID: 2}
}

// newPresplitRegionTable returns n regions (ids 1..n, epoch v1/c1, as a
// cluster bootstrapped pre-split) that divide the key space of keySpace
// keys evenly: region i (0-based) starts at key i·keySpace/n, the first
// one at "" and the last one unbounded, so the table still covers every
// key. n is clamped to 1..keySpace so that each region holds at least one
// key (a swarm draw may shrink the key space below Config.InitialRegions).
// n <= 1 is exactly newRegionTable.
func newPresplitRegionTable(n, keySpace int) *RegionTable {
	n = min(n, keySpace)
	if n <= 1 {
		return newRegionTable()
	}
	t := &RegionTable{regions: make([]*Region, 0, n), nextID: uint64(n) + 1}
	for i := 0; i < n; i++ {
		r := &Region{ID: uint64(i) + 1, Epoch: Epoch{Version: 1, ConfVer: 1}}
		if i > 0 {
			r.Start = KeyName(i * keySpace / n)
		}
		if i < n-1 {
			r.End = KeyName((i + 1) * keySpace / n)
		}
		t.regions = append(t.regions, r)
	}
	return t
}

// All returns the live regions sorted by start key.
func (t *RegionTable) All() []*Region { return t.regions }

// ByID returns the live region with id, or nil.
func (t *RegionTable) ByID(id uint64) *Region {
	for _, r := range t.regions {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// Locate returns the region containing key.
func (t *RegionTable) Locate(key string) *Region {
	for _, r := range t.regions {
		if r.Contains(key) {
			return r
		}
	}
	panic(fmt.Sprintf("model: no region contains %q", key))
}

// Split splits r at key (which must be strictly inside r): r keeps
// [Start, key), a new region gets [key, End). Both epochs' versions grow,
// as in TiKV.
func (t *RegionTable) Split(r *Region, key string) *Region {
	if key <= r.Start || (r.End != "" && key >= r.End) {
		panic(fmt.Sprintf("model: split key %q outside %s", key, r))
	}
	r.Epoch.Version++
	n := &Region{ID: t.nextID, Start: key, End: r.End, Epoch: r.Epoch, AppliedIndex: r.AppliedIndex}
	t.nextID++
	r.End = key
	for i, x := range t.regions {
		if x == r {
			t.regions = append(t.regions[:i+1], append([]*Region{n}, t.regions[i+1:]...)...)
			break
		}
	}
	return n
}

// Merge merges source into its neighbour target: target takes the union
// of both ranges and an epoch version of max(both)+1; source becomes a
// tombstone and leaves the table.
func (t *RegionTable) Merge(source, target *Region) {
	switch {
	case source.End != "" && source.End == target.Start:
		target.Start = source.Start
	case target.End != "" && target.End == source.Start:
		target.End = source.End
	default:
		panic(fmt.Sprintf("model: merge of non-adjacent %s into %s", source, target))
	}
	target.Epoch.Version = max(source.Epoch.Version, target.Epoch.Version) + 1
	target.AppliedIndex = max(source.AppliedIndex, target.AppliedIndex) + 1
	source.State = RegionTombstone
	for i, x := range t.regions {
		if x == source {
			t.regions = append(t.regions[:i], t.regions[i+1:]...)
			break
		}
	}
}
