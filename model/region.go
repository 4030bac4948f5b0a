package model

import "fmt"

// Epoch is a region's epoch: Version grows on split and merge, ConfVer on
// membership change. Snapshot senders and receivers compare epochs.
type Epoch struct {
	Version uint64 `json:"version"`
	ConfVer uint64 `json:"conf_ver"`
}

// String renders the epoch as "v1/c1".
func (e Epoch) String() string { return fmt.Sprintf("v%d/c%d", e.Version, e.ConfVer) }

// RegionState is a region's lifecycle state.
type RegionState uint8

// Region states. A snapshot may only be generated from a Normal region.
const (
	RegionNormal RegionState = iota
	RegionSplitting
	RegionMerging
	RegionTombstone
)

// Region is a key range [Start, End) replicated by raft; End "" means
// unbounded.
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
