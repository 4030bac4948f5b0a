package engine

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// NumLevels is the number of LSM levels: L0 (flush outputs, overlapping)
// and L1..L3 (each a sorted run of non-overlapping files per column
// family). The last level has no size target.
const NumLevels = 4

// FileMeta describes one immutable SST file.
type FileMeta struct {
	Num       uint64
	CF        CF
	Path      string
	SizeBytes int64
	Smallest  string
	Largest   string
	MaxSeq    uint64
	// Level is the file's level in the versions that list this FileMeta. A
	// trivial move lists the same file (same number, same path) at the next
	// level through a copy of its FileMeta, so that older versions keep
	// theirs unchanged; the copies share one fate.
	Level int
	// fate is what happens to the file, shared by every copy of its
	// FileMeta (see fate()).
	fate *fileFate
}

// fileFate is the part of a file's description that is about the file on
// disk, not about its place in one version.
type fileFate struct {
	// deleted is set when the file has been removed.
	deleted bool
	// deleting is set while a deleter (GC or the actor whose version
	// change made the file obsolete) is removing it: the removal is a
	// scheduling point, and the other deleter must not remove it too.
	deleting bool
	// replacedBy says which change took the file out of the current
	// version ("compaction 2"), for the ledger.
	replacedBy string
}

// state returns the file's fate, creating it on first use.
func (f *FileMeta) state() *fileFate {
	if f.fate == nil {
		f.fate = &fileFate{}
	}
	return f.fate
}

// deleted reports whether the file has been removed.
func (f *FileMeta) Deleted() bool { return f.fate != nil && f.fate.deleted }

// replacedBy says which change took the file out of the current version.
func (f *FileMeta) replacedBy() string {
	if f.fate == nil {
		return ""
	}
	return f.fate.replacedBy
}

// movedTo returns a copy of f at level, sharing f's fate: what a trivial
// move lists in the new version.
func (f *FileMeta) movedTo(level int) *FileMeta {
	f.state()
	c := *f
	c.Level = level
	return &c
}

// Name returns the file's base name, e.g. "000007.sst".
func (f *FileMeta) Name() string { return sstName(f.Num) }

func sstName(num uint64) string { return string(appendPadded(nil, num, 6)) + ".sst" }

// appendPadded appends n in decimal, zero-padded to width digits (as
// fmt's %0*d, without its cost on the flush and compaction path).
func appendPadded(dst []byte, n uint64, width int) []byte {
	var buf [20]byte
	d := strconv.AppendUint(buf[:0], n, 10)
	for i := len(d); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, d...)
}

// overlapsRange reports whether the file's key range meets [lo, hi].
func (f *FileMeta) overlapsRange(lo, hi string) bool {
	return f.Smallest <= hi && lo <= f.Largest
}

// Version is an immutable list of the files that make up the LSM at one
// moment. Readers that hold a reference keep its files from being deleted.
// Levels holds the files of every column family (each FileMeta says its
// CF): L0 in flush order (oldest first), L1 and below sorted by column
// family, then smallest key.
type Version struct {
	ID     uint64
	Levels [NumLevels][]*FileMeta
	// FlushedSeq is the highest sequence number whose data is entirely in
	// this version's files.
	FlushedSeq uint64
	refs       int
	// gen is the engine generation (incremented by Recover) the version
	// belongs to: a version from before a crash is dead to the engine.
	gen uint64
}

// Files returns every file of the version, L0 first.
func (v *Version) Files() []*FileMeta {
	var out []*FileMeta
	for _, l := range v.Levels {
		out = append(out, l...)
	}
	return out
}

// Refs returns the reference count.
func (v *Version) Refs() int { return v.refs }

// contains reports whether file num is in the version.
func (v *Version) Contains(num uint64) bool {
	for _, l := range v.Levels {
		for _, f := range l {
			if f.Num == num {
				return true
			}
		}
	}
	return false
}

// LevelFiles returns the files of column family cf at level, in level
// order.
func (v *Version) LevelFiles(cf CF, level int) []*FileMeta {
	var out []*FileMeta
	for _, f := range v.Levels[level] {
		if f.CF == cf {
			out = append(out, f)
		}
	}
	return out
}

// LevelBytes returns the total size of column family cf's files at level.
func (v *Version) LevelBytes(cf CF, level int) int64 {
	var n int64
	for _, f := range v.Levels[level] {
		if f.CF == cf {
			n += f.SizeBytes
		}
	}
	return n
}

// sortLevel puts a level in its canonical order: L0 by file number (flush
// order), deeper levels by column family, then smallest key.
func sortLevel(level int, files []*FileMeta) {
	if level == 0 {
		sort.Slice(files, func(i, j int) bool { return files[i].Num < files[j].Num })
		return
	}
	sort.Slice(files, func(i, j int) bool {
		if files[i].CF != files[j].CF {
			return files[i].CF < files[j].CF
		}
		return files[i].Smallest < files[j].Smallest
	})
}

// Check verifies the version's structural invariants: every file sits at
// the level it says, numbers are unique, key ranges are well formed, and
// in L1 and below the files of one column family do not overlap and are
// sorted. It returns the first violation.
func (v *Version) Check() error {
	seen := map[uint64]bool{}
	for l, files := range v.Levels {
		for i, f := range files {
			switch {
			case f.Level != l:
				return fmt.Errorf("version %d: %s listed at L%d says L%d", v.ID, f.Name(), l, f.Level)
			case seen[f.Num]:
				return fmt.Errorf("version %d: %s listed twice", v.ID, f.Name())
			case f.Smallest > f.Largest:
				return fmt.Errorf("version %d: %s has smallest %q > largest %q", v.ID, f.Name(), f.Smallest, f.Largest)
			case int(f.CF) >= NumCFs:
				return fmt.Errorf("version %d: %s has unknown column family %d", v.ID, f.Name(), f.CF)
			case f.MaxSeq > v.FlushedSeq:
				return fmt.Errorf("version %d: %s has max seq %d above the flushed seq %d", v.ID, f.Name(), f.MaxSeq, v.FlushedSeq)
			}
			seen[f.Num] = true
			if l == 0 || i == 0 {
				continue
			}
			p := files[i-1]
			if p.CF > f.CF || (p.CF == f.CF && p.Largest >= f.Smallest) {
				return fmt.Errorf("version %d: L%d %s [%q, %q] and %s [%q, %q] overlap or are out of order",
					v.ID, l, p.Name(), p.Smallest, p.Largest, f.Name(), f.Smallest, f.Largest)
			}
		}
	}
	return nil
}

// names lists file names for traces: "000004.sst 000007.sst".
func Names(files []*FileMeta) string {
	parts := make([]string, len(files))
	for i, f := range files {
		parts[i] = f.Name()
	}
	return strings.Join(parts, " ")
}
