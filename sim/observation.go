package sim

// Kind names a class of observation (a violation). The names are part of the
// CLI and JSON contract: see docs/observations.md.
type Kind string

// The observation kinds (docs/observations.md).
const (
	// KindOpenDeletedFile: a snapshot-path actor opened or stat'ed a path
	// that had been deleted.
	KindOpenDeletedFile Kind = "open-deleted-file"
	// KindPanic: an actor panicked (message and stack recorded).
	KindPanic Kind = "panic"
	// KindInconsistentSnapshot: applied data differs from the region's
	// reference data at the snapshot sequence.
	KindInconsistentSnapshot Kind = "inconsistent-snapshot"
	// KindGCDeletedPinnedFile: GC removed a file still referenced by a live
	// version or an unexpired lease.
	KindGCDeletedPinnedFile Kind = "gc-deleted-pinned-file"
	// KindFileLeak: at quiescence a file is neither live nor pinned nor
	// deleted.
	KindFileLeak Kind = "file-leak"
	// KindSnapFileMissing: a snapshot file was deleted by snapshot GC while
	// registered or in use.
	KindSnapFileMissing Kind = "snap-file-missing"
	// KindLiveness: a snapshot did not complete within the bound after
	// interference stopped (or actors were parked forever).
	KindLiveness Kind = "liveness"
	// KindNondeterminism: the same seed and configuration produced two
	// different traces.
	KindNondeterminism Kind = "nondeterminism"
)

// Kinds lists every observation kind in a fixed order.
var Kinds = []Kind{
	KindOpenDeletedFile, KindPanic, KindInconsistentSnapshot,
	KindGCDeletedPinnedFile, KindFileLeak, KindSnapFileMissing,
	KindLiveness, KindNondeterminism,
}

// ValidKind reports whether k is one of Kinds.
func ValidKind(k Kind) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Observation is one violation seen during a run: what, when, by whom.
type Observation struct {
	Kind   Kind   `json:"kind"`
	Step   int64  `json:"step"`
	Time   Micros `json:"time_us"`
	Actor  string `json:"actor"`
	Detail string `json:"detail"`
	// Stack is the goroutine stack of a panic. It contains addresses and
	// goroutine ids, so it is reported but never hashed.
	Stack string `json:"stack,omitempty"`
}
