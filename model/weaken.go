package model

// DesignWeakenings are deliberately weakened versions of a design's
// protections (the built-in lease-retry and the shared retry policy): each
// is a change a developer could plausibly make, and each exists only as
// the negative control of a whole-run property (properties/outcome_test.go)
// or of a strong cell (properties/matrix_test.go): the property must catch
// the weakening it is there for. They are not variants: no CLI flag,
// scenario line or profile sets them, and all false is the real code. A
// user's design may ignore them.
type DesignWeakenings struct {
	// LeaseRecheck makes lease-retry's re-check before each open pass
	// whatever the lease and the epoch (the README's "broken re-check").
	LeaseRecheck bool
	// EpochRecheck makes lease-retry's re-check ignore the region epoch
	// (it checks only the lease): a build whose region split or changed
	// membership under it is shipped with its stale epoch, and the
	// learner rejects it, a legal final state.
	EpochRecheck bool
	// LeaseLossReissued makes the shared retry policy treat a lost lease
	// like an epoch change: the attempt is re-issued and not counted
	// toward MaxAttempts.
	LeaseLossReissued bool
}
