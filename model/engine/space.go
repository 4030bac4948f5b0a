package engine

// This file tracks the peak of obsolete-but-pinned bytes: the bytes of SST
// files that are no longer in the current version, not yet deleted, and
// that GC may not delete now because a live (older) version references
// them, a lease covers them, or deletions are disabled. It is the "space
// held" column of docs/matrix.md. Only the events that can raise the figure
// recompute it (a new version, a dropped reference, a lease taken or
// renewed, deletions disabled); expiries and deletions only lower it.

// PinnedBytes returns the bytes of files outside the current version that
// are not deleted and that GC may not delete now.
func (e *Engine) PinnedBytes() int64 {
	if e.current == nil {
		return 0
	}
	var total int64
	counted := make(map[uint64]bool)
	add := func(f *FileMeta) {
		if f.Deleted() || counted[f.Num] || e.current.Contains(f.Num) {
			return
		}
		counted[f.Num] = true
		total += f.SizeBytes
	}
	for _, v := range e.live {
		if v == e.current {
			continue
		}
		for _, f := range v.Files() {
			add(f)
		}
	}
	for _, f := range e.obsolete {
		if e.deletionsDisabled > 0 || e.pinnedBy(f) != "" {
			add(f)
		}
	}
	return total
}

// PeakPinnedBytes is the largest PinnedBytes seen since the engine was
// created (across recoveries).
func (e *Engine) PeakPinnedBytes() int64 { return e.peakPinned }

// notePinned recomputes the pinned bytes and keeps the maximum.
func (e *Engine) notePinned() {
	if b := e.PinnedBytes(); b > e.peakPinned {
		e.peakPinned = b
	}
}
