package model

import (
	"fmt"
	"strings"
)

// NumLevels is the number of LSM levels in this slice (L0 and L1).
const NumLevels = 2

// FileMeta describes one immutable SST file.
type FileMeta struct {
	Num       uint64
	CF        CF
	Path      string
	SizeBytes int64
	Smallest  string
	Largest   string
	MaxSeq    uint64
	Level     int
	// deleted is set when GC has removed the file.
	deleted bool
	// replacedBy says which change took the file out of the current
	// version ("compaction 2"), for the ledger.
	replacedBy string
}

// Name returns the file's base name, e.g. "000007.sst".
func (f *FileMeta) Name() string { return fmt.Sprintf("%06d.sst", f.Num) }

// Version is an immutable list of the files that make up the LSM at one
// moment. Readers that hold a reference keep its files from being deleted.
type Version struct {
	ID     uint64
	Levels [NumLevels][]*FileMeta
	// FlushedSeq is the highest sequence number whose data is entirely in
	// this version's files.
	FlushedSeq uint64
	refs       int
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
func (v *Version) contains(num uint64) bool {
	for _, l := range v.Levels {
		for _, f := range l {
			if f.Num == num {
				return true
			}
		}
	}
	return false
}

// names lists file names for traces: "000004.sst 000007.sst".
func names(files []*FileMeta) string {
	parts := make([]string, len(files))
	for i, f := range files {
		parts[i] = f.Name()
	}
	return strings.Join(parts, " ")
}
