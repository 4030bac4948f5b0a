package model

import "errors"

// Errors a design returns (or wraps) to tell the system, and the shared
// retry policy of model/designs, what happened to an attempt. A design's
// other errors are counted failures.
var (
	// ErrLeaseLost: a design's lease lapsed and a listed file left the
	// current version. A counted failure.
	ErrLeaseLost = errors.New("lease lost")
	// ErrEpochChanged: the region split, merged or changed membership under
	// the attempt. Re-issued, not counted.
	ErrEpochChanged = errors.New("region epoch changed")
	// ErrRegionBusy: the region is mid-split or mid-merge (TiKV: "snap job
	// for N seems stale, skip"). Re-issued, not counted.
	ErrRegionBusy = errors.New("region is not in normal state")
	// ErrRegionGone: the region was merged away. The build ends, skipped.
	ErrRegionGone = errors.New("region no longer exists (merged away)")
	// ErrSnapWrite wraps a failure to write the snapshot's own files
	// (Output). The build ends, not retried and not counted: the designs
	// differ only in how they find and protect engine files.
	ErrSnapWrite = errors.New("snapshot file write failed")
	// ErrAttemptsSpent: the design gave up after its counted failures
	// (TiKV's MAX_SNAP_TRY_CNT). The system reports it as a liveness
	// failure (raft's fatal error).
	ErrAttemptsSpent = errors.New("snapshot attempts exhausted")
)
