package model

import (
	"fmt"
	"io"
	"strings"

	"github.com/snapsim/snapsim/sim"
)

// Engine is the engine-facing interface a design uses: what every LSM
// engine has. It is the part of RocksDB's and Pebble's public API that a
// file-collection design needs (docs/realpebble.md maps each method to
// Pebble v1.1.5, and baseline/realpebble implements it over a real
// *pebble.DB):
//
//   - an engine snapshot, a sequence number compaction must respect (it
//     pins data, not files);
//   - the current version's files (a listing pins nothing);
//   - decoding an engine file a design opened itself.
//
// What only some engines have comes as separate interfaces an engine may
// also implement: Pinner (version references), Leaser (file leases) and
// DeletionHolder (a DisableFileDeletions counter). A design declares the
// ones it needs (Design.Needs) and CheckNeeds refuses, before a run, an
// engine that lacks one. Every method runs inside the actor of the build;
// none is a scheduling point unless it says so.
type Engine interface {
	// TakeSnapshot registers an engine snapshot and returns its id and
	// sequence number; ReleaseSnapshot drops it.
	TakeSnapshot() (id, seq uint64)
	ReleaseSnapshot(id uint64)
	// Current returns the current version, without taking a reference:
	// its files can become obsolete and be deleted at the next scheduling
	// point.
	Current() Version
	// ReadFile reads and decodes engine file f through h, a handle the
	// design opened on it (FS.Open), trying each chunk read up to tries
	// times on a transient EIO, and closes h. Every record carries f's
	// column family. Each chunk read is a scheduling point.
	ReadFile(h Handle, f *FileMeta, tries int) ([]Record, error)
}

// Version is an immutable list of the files that make up an LSM at one
// moment (RocksDB's Version, Pebble's version): files by level, all
// column families together.
type Version interface {
	// ID numbers the version (engine-wide, increasing).
	ID() uint64
	// Files returns every file of the version, L0 first.
	Files() []*FileMeta
	// LevelFiles returns column family cf's files at level, in level order
	// (L0: oldest first; deeper: by smallest key).
	LevelFiles(cf CF, level int) []*FileMeta
	// Contains reports whether file number num is in the version (such a
	// file is live: no deleter may remove it).
	Contains(num uint64) bool
	// Refs returns the version's reference count (for traces).
	Refs() int
}

// Pinner is an engine whose versions can be referenced: while a reference
// is held none of the version's files becomes obsolete (a RocksDB or
// Pebble iterator holds one on its version). Ref must be called in the
// step that obtained v from Current, before any scheduling point.
type Pinner interface {
	Engine
	Ref(v Version)
	Unref(v Version)
}

// Lease is a time-bounded pin on a set of files: the deleter may not
// remove them before Expiry plus its grace period. Unlike a version
// reference, a lease cannot hold space for ever if its holder stalls.
type Lease interface {
	// ID numbers the lease (a renewal keeps it).
	ID() uint64
	// Expiry is when the lease ends (a renewal moves it).
	Expiry() sim.Micros
	// Valid reports whether the holder may still rely on the lease at now.
	Valid(now sim.Micros) bool
}

// Leaser is an engine with file leases (neither RocksDB nor Pebble has
// them: lease and lease-retry presume this extension).
type Leaser interface {
	Engine
	// AcquireLease leases files for holder until now+ttl.
	AcquireLease(holder string, files []*FileMeta, ttl sim.Micros) Lease
	// RenewLease extends a still-valid lease to now+ttl; an expired one
	// cannot be renewed (the deleter may already have removed its files).
	RenewLease(l Lease, ttl sim.Micros) bool
	// ReleaseLease gives a lease back.
	ReleaseLease(l Lease)
}

// DeletionHolder is an engine whose obsolete-file deletions can be held
// off: a counter, as RocksDB's DisableFileDeletions (and Pebble's private
// disableFileDeletions, which DB.Checkpoint uses; v1.1.5 exports neither
// half).
type DeletionHolder interface {
	Engine
	DisableDeletions()
	EnableDeletions()
}

// Handle is an open file a design reads: a pebble vfs.File, or anything
// with ReadAt and Close.
type Handle interface {
	io.ReaderAt
	io.Closer
}

// FS is the filesystem the engine's files live on, as a design uses it.
// Every call is a scheduling point (and an event in the trace) on
// vfsmem.FS.
type FS interface {
	// Open opens path for reading. An open by a watched actor of a path
	// the filesystem's ledger knows was deleted is an open-deleted-file
	// violation (vfsmem's oracle).
	Open(path string) (Handle, error)
	// Link makes newname a hard link to oldname (a checkpoint's link).
	Link(oldname, newname string) error
	// Remove removes path; why is what the ledger records.
	Remove(path, why string) error
}

// CheckedOpener is a filesystem that can run a check and an open in one
// step: check runs after any stall the open takes and before the open,
// with nothing scheduled in between, and an error from it is returned
// without opening (vfsmem.FS.OpenChecked). A real filesystem has no such
// atomicity.
type CheckedOpener interface {
	OpenChecked(path string, check func() error) (Handle, error)
}

// Needs are the capabilities beyond Engine and FS a design uses.
type Needs uint8

// Capabilities a design may need.
const (
	// NeedPins: Engine is a Pinner.
	NeedPins Needs = 1 << iota
	// NeedLeases: Engine is a Leaser.
	NeedLeases
	// NeedDeletionHold: Engine is a DeletionHolder.
	NeedDeletionHold
	// NeedCheckedOpen: FS is a CheckedOpener.
	NeedCheckedOpen
)

// needNames names each capability for messages.
var needNames = []struct {
	n    Needs
	what string
}{
	{NeedPins, "version references (model.Pinner)"},
	{NeedLeases, "file leases (model.Leaser)"},
	{NeedDeletionHold, "a disable-deletions counter (model.DeletionHolder)"},
	{NeedCheckedOpen, "an open atomic with a check (model.CheckedOpener)"},
}

// String lists the capabilities, e.g. "file leases (model.Leaser)".
func (n Needs) String() string {
	var parts []string
	for _, nn := range needNames {
		if n&nn.n != 0 {
			parts = append(parts, nn.what)
		}
	}
	if len(parts) == 0 {
		return "nothing beyond model.Engine and model.FS"
	}
	return strings.Join(parts, ", ")
}

// Missing returns the capabilities of n that e and fs lack.
func (n Needs) Missing(e Engine, fs FS) Needs {
	var missing Needs
	if _, ok := e.(Pinner); n&NeedPins != 0 && !ok {
		missing |= NeedPins
	}
	if _, ok := e.(Leaser); n&NeedLeases != 0 && !ok {
		missing |= NeedLeases
	}
	if _, ok := e.(DeletionHolder); n&NeedDeletionHold != 0 && !ok {
		missing |= NeedDeletionHold
	}
	if _, ok := fs.(CheckedOpener); n&NeedCheckedOpen != 0 && !ok {
		missing |= NeedCheckedOpen
	}
	return missing
}

// CheckNeeds reports, before a run, whether design d can run on engine e
// (named engineName in the message) and filesystem fs: nil, or an error
// naming what the engine lacks ("design lease-retry needs file leases
// (model.Leaser), which engine pebble v1.1.5 does not have").
func CheckNeeds(d Design, engineName string, e Engine, fs FS) error {
	if m := d.Needs.Missing(e, fs); m != 0 {
		return fmt.Errorf("design %s needs %s, which engine %s does not have", d.Name, m, engineName)
	}
	return nil
}
