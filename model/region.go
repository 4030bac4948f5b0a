package model

import "fmt"

// Epoch is a region's epoch: Version grows on split and merge, ConfVer on
// membership change. A design that must not mix data of two epochs
// remembers the epoch it started from and compares (lease-retry, scan).
type Epoch struct {
	Version uint64 `json:"version"`
	ConfVer uint64 `json:"conf_ver"`
}

// String renders the epoch as "v1/c1".
func (e Epoch) String() string { return fmt.Sprintf("v%d/c%d", e.Version, e.ConfVer) }

// RegionState is a region's lifecycle state.
type RegionState uint8

// Region states. A snapshot may only be generated from a Normal region;
// a design that checks the state returns ErrRegionBusy for Splitting and
// Merging and ErrRegionGone for Tombstone.
const (
	RegionNormal RegionState = iota
	RegionSplitting
	RegionMerging
	RegionTombstone
)

// Region is a key range [Start, End) replicated by raft; End "" means
// unbounded. It is what a build collects the data of (Build.Region): the
// system mutates the live region (splits, merges, conf changes) while a
// build runs.
type Region struct {
	ID           uint64
	Start, End   string
	Epoch        Epoch
	State        RegionState
	AppliedIndex uint64
}

// Contains reports whether key is in the region's range.
func (r *Region) Contains(key string) bool {
	return key >= r.Start && (r.End == "" || key < r.End)
}

// Overlaps reports whether engine file f's key range [Smallest, Largest]
// meets the region's [Start, End).
func (r *Region) Overlaps(f *FileMeta) bool {
	return (r.End == "" || f.Smallest < r.End) && f.Largest >= r.Start
}

// String renders the region compactly: "region 2 [k004, k008) v3/c1".
func (r *Region) String() string {
	end := r.End
	if end == "" {
		end = "+inf"
	}
	return fmt.Sprintf("region %d [%s, %s) %s", r.ID, r.Start, end, r.Epoch)
}
