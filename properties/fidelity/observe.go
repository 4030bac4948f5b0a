package fidelity

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
)

// ObsKind is what an observation is about.
type ObsKind int

// The observable outcomes the suite compares.
const (
	// ObsList is a listing of the live SST files: how many, which of them
	// are in L0, and the key range of each (file numbers differ between
	// the systems and are never compared).
	ObsList ObsKind = iota
	// ObsOpen is the outcome of opening a file listed earlier: it exists,
	// or ENOENT.
	ObsOpen
	// ObsIterator is, for an iterator, which files of its version (by
	// position in the listing taken when it was opened) exist just before
	// it is closed, and which just after, deletions settled both times.
	ObsIterator
	// ObsCheckpoint is the set of keys and values readable from a
	// checkpoint, read right after it is made and again at the end of the
	// sequence (when compactions may have deleted its originals).
	ObsCheckpoint
	// ObsOpenCheckpoint is the outcome of opening a file of a checkpoint.
	ObsOpenCheckpoint
	// ObsDisk is the set of SST files on disk (by key range) after an
	// operation, once deletions have settled. It is compared only after the
	// operations that changed it in one of the systems.
	ObsDisk
	numObsKinds
)

var obsNames = [numObsKinds]string{"list", "open", "iterator", "checkpoint", "open-checkpoint", "disk (settled)"}

// String returns the kind's name, as the report prints it.
func (k ObsKind) String() string {
	if k < 0 || k >= numObsKinds {
		return fmt.Sprintf("obs(%d)", int(k))
	}
	return obsNames[k]
}

// Truth names the ground-truth semantics an observation tests, if any. The
// reference side (Pebble) decides which observations are in each class, and
// the expected outcome is known independently of either system.
type Truth int

// The three ground-truth semantics.
const (
	// TruthNone: the observation is not a ground-truth test.
	TruthNone Truth = iota
	// TruthStale: an open of a listed file that has since left the current
	// version and that no open iterator holds must fail with ENOENT (an
	// unpinned listing goes stale after a compaction).
	TruthStale
	// TruthIterator: every file of an open iterator's version exists until
	// the iterator is closed.
	TruthIterator
	// TruthCheckpoint: a checkpoint's files and keys survive the deletion of
	// the originals (hard links outlive them).
	TruthCheckpoint
	numTruths
)

var truthNames = [numTruths]string{"", "unpinned listing goes stale after a compaction", "open iterator keeps its version's files", "checkpoint links outlive the originals"}

// String returns the semantics' description.
func (t Truth) String() string {
	if t < 0 || t >= numTruths {
		return fmt.Sprintf("truth(%d)", int(t))
	}
	return truthNames[t]
}

// Obs is one observation of one system.
type Obs struct {
	// Op is the index of the op that produced it.
	Op   int
	Kind ObsKind
	// Value is the canonical rendering compared between the systems.
	Value string
	// Truth is the ground-truth class this observation belongs to, as the
	// system that made it sees it (the comparison uses Pebble's).
	Truth Truth
	// Expected is the outcome the ground truth requires (Truth != TruthNone).
	Expected string
	// Tested is the part of Value the ground truth is about (for an
	// iterator: the files alive before it is closed).
	Tested string
}

// Trace is everything one system showed for one sequence.
type Trace struct {
	// Obs are the outcomes, in op order; both systems produce the same
	// kinds at the same ops.
	Obs []Obs
	// State is the canonical listing of the current version after each op
	// (not an observation of its own: the comparison uses it to find the
	// op where the systems' states first diverge).
	State []string
	// Disk is the settled set of SST files on disk after each op.
	Disk []string
	// Change describes what each op did to the current version.
	Change []Change
	// Pending is, after each op that can delete files (compact,
	// iter-close, checkpoint), how many SST files were still on disk when
	// the op returned that were gone once deletions settled; -1 after the
	// other ops.
	Pending []int
}

// Change is what one op did to the current version: files added in L0
// (flushes), files added below L0 (compaction outputs), files removed, and
// files that kept their number but changed level (trivial moves). Each is
// a key-range descriptor.
type Change struct {
	Flushed, Written, Removed, Moved []string
	// Absorbed counts the writes the op flushed from the memtable: an
	// explicit flush's, or those of the flush DB.Compact makes of a
	// memtable overlapping its range.
	Absorbed int
}

// empty reports whether the op left the version as it was.
func (c Change) empty() bool {
	return len(c.Flushed)+len(c.Written)+len(c.Removed)+len(c.Moved) == 0
}

// String renders the change for the report.
func (c Change) String() string {
	var parts []string
	add := func(name string, l []string) {
		if len(l) > 0 {
			parts = append(parts, name+" "+strings.Join(l, " "))
		}
	}
	add("flushed", c.Flushed)
	add("moved", c.Moved)
	add("removed", c.Removed)
	add("wrote", c.Written)
	if c.Absorbed > 0 {
		parts = append(parts, fmt.Sprintf("flushed %d memtable writes", c.Absorbed))
	}
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, "; ")
}

// fileDesc is a file as the suite identifies it: whether it is in L0, and
// its key range. Numbers are kept for diffs within one system only.
type fileDesc struct {
	num      uint64
	level    int
	smallest string
	largest  string
	// content is what the file holds, newest record per key, sorted:
	// "k003=v12" (the value written by op 12) or "k005=del".
	content []string
}

// String renders the descriptor: "L0[k001..k007]/3#a1b2" or
// "Ln[k001..k007]/3#a1b2": level class, key range, number of keys and a
// hash of the content (every level below L0 is "Ln": Pebble has seven
// levels and the model four, and the suite compares where data is, not
// level numbers).
func (d fileDesc) String() string {
	cls := "Ln"
	if d.level == 0 {
		cls = "L0"
	}
	return cls + d.rangeString()
}

// rangeString renders the key range and content alone, for files on disk
// that may be in no version.
func (d fileDesc) rangeString() string {
	h := fnv.New32a()
	for _, c := range d.content {
		h.Write([]byte(c))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("[%s..%s]/%d#%04x", d.smallest, d.largest, len(d.content), h.Sum32()&0xffff)
}

// valueID shortens a value to the op index that wrote it ("v12").
func valueID(v string) string {
	if j := strings.IndexByte(v, '.'); j > 0 {
		return v[:j]
	}
	return v
}

// canonical sorts a listing into the order both systems agree on: L0 files
// oldest first (by file number: both allocate numbers in flush order), then
// the files below L0 by smallest key (they do not overlap).
func canonical(files []fileDesc) []fileDesc {
	out := append([]fileDesc(nil), files...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.level == 0) != (b.level == 0) {
			return a.level == 0
		}
		if a.level == 0 {
			return a.num < b.num
		}
		if a.smallest != b.smallest {
			return a.smallest < b.smallest
		}
		return a.largest < b.largest
	})
	return out
}

// listingString renders a canonical listing.
func listingString(files []fileDesc) string {
	if len(files) == 0 {
		return "(none)"
	}
	parts := make([]string, len(files))
	for i, f := range files {
		parts[i] = f.String()
	}
	return strings.Join(parts, " ")
}

// diskString renders the set of SST files on disk by key range, sorted;
// unknown files (never seen in a version) render as "[?]".
func diskString(files []fileDesc) string {
	if len(files) == 0 {
		return "(none)"
	}
	parts := make([]string, len(files))
	for i, f := range files {
		parts[i] = f.rangeString()
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// diff computes the change between two listings of one system (by file
// number).
func diff(before, after []fileDesc) Change {
	var c Change
	old := make(map[uint64]fileDesc, len(before))
	for _, f := range before {
		old[f.num] = f
	}
	seen := make(map[uint64]bool, len(after))
	for _, f := range after {
		seen[f.num] = true
		o, ok := old[f.num]
		switch {
		case !ok && f.level == 0:
			c.Flushed = append(c.Flushed, f.String())
		case !ok:
			c.Written = append(c.Written, f.String())
		case o.level != f.level:
			// Levels below L0 are one class (see fileDesc.String).
			c.Moved = append(c.Moved, o.String()+" down")
		}
	}
	for _, f := range before {
		if !seen[f.num] {
			c.Removed = append(c.Removed, f.String())
		}
	}
	return c
}

// aliveString renders which files of a listing exist: "110" (one digit per
// position, 1 present, 0 gone), "(none)" for an empty listing.
func aliveString(alive []bool) string {
	if len(alive) == 0 {
		return "(none)"
	}
	b := make([]byte, len(alive))
	for i, a := range alive {
		b[i] = '0'
		if a {
			b[i] = '1'
		}
	}
	return string(b)
}

// kvString renders readable keys and values, sorted by key; values are
// shortened to the op index that wrote them ("k003=v12"), which identifies
// them.
func kvString(kv map[string]string) string {
	if len(kv) == 0 {
		return "(no keys)"
	}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + valueID(kv[k])
	}
	return strings.Join(parts, " ")
}

// Outcome strings of opens.
const (
	outExists = "exists"
	outENOENT = "ENOENT"
	outNone   = "no file (empty listing)"
)
