package engine

import (
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// IngestRecords makes a new engine file for one column family of a
// snapshot: a hard link to the received SST when link is true, else a new
// SST written from recs. It returns nil when there is nothing to ingest.
func (e *Engine) IngestRecords(cf CF, recs []Record, src string, link bool) (*FileMeta, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	num := e.newFileNum()
	p := e.filePath(num)
	var size int64
	if link {
		if err := e.fs.Link(src, p); err != nil {
			return nil, err
		}
		fi, err := e.fs.Stat(p)
		if err != nil {
			_ = e.fs.RemoveBecause(p, "ingest failed")
			return nil, err
		}
		size = fi.Size()
	} else {
		data := EncodeSST(recs)
		if err := e.WriteFile(p, data); err != nil {
			return nil, err
		}
		size = int64(len(data))
	}
	f := &FileMeta{Num: num, CF: cf, Path: p, SizeBytes: size}
	f.Smallest, f.Largest = KeyRange(recs)
	for _, r := range recs {
		f.MaxSeq = max(f.MaxSeq, r.Seq)
	}
	return f, nil
}

// Tracks reports whether the engine knows path p: in a live version,
// obsolete and pinned, or obsolete and awaiting GC (not a leak yet). A
// system's leak check asks it about every SST file of the engine's
// directory.
func (e *Engine) Tracks(p string) bool {
	for _, v := range e.live {
		for _, f := range v.Files() {
			if f.Path == p {
				return true
			}
		}
	}
	for _, f := range e.obsolete {
		if f.Path == p && e.pinnedBy(f) != "" {
			return true
		}
	}
	return false
}

// Classify tells the space accounting (vfsmem.FS.Usage) what an engine
// path is: live (in the current version, or the MANIFEST), pinned (out of
// the current version, but a live version or a lease keeps it), or
// garbage. Paths outside the engine are the caller's to classify.
func (e *Engine) Classify(p string) vfsmem.SpaceClass {
	if p == e.ManifestPath() {
		return vfsmem.SpaceLive
	}
	for _, f := range e.current.Files() {
		if f.Path == p {
			return vfsmem.SpaceLive
		}
	}
	for _, f := range e.obsolete {
		if f.Path == p && e.pinnedBy(f) != "" {
			return vfsmem.SpacePinned
		}
	}
	for _, v := range e.live {
		for _, f := range v.Files() {
			if f.Path == p {
				return vfsmem.SpacePinned
			}
		}
	}
	return vfsmem.SpaceGarbage
}

// Daemons are the actors the engine wakes when there is work: the flusher
// (memtables full), the compactor (a compaction due) and the obsolete-file
// deleter (GC). A system spawns them (FlushLoop, CompactLoop, GCLoop) and
// hands them over with SetDaemons; a nil actor is never woken.
type Daemons struct {
	Flusher, Compactor, GC *sim.Actor
}

// SetDaemons makes d the actors the engine wakes (after a restart, the
// respawned ones).
func (e *Engine) SetDaemons(d Daemons) {
	e.flusher, e.compactor, e.gc = d.Flusher, d.Compactor, d.GC
}

// Daemons returns the actors the engine wakes.
func (e *Engine) Daemons() Daemons {
	return Daemons{Flusher: e.flusher, Compactor: e.compactor, GC: e.gc}
}

// The inspection methods below are for harnesses and tests that check a
// run let go of everything it took (engine snapshots, leases, version
// references, disabled deletions); the engine's own code does not use
// them.

// Snapshots returns the ids of the engine snapshots not yet released,
// oldest first.
func (e *Engine) Snapshots() []uint64 {
	var out []uint64
	for _, s := range e.snapshots {
		out = append(out, s.id)
	}
	return out
}

// Leases returns the leases not yet released, oldest first (the engine's
// own objects: a white-box test may move a lease's Expiry).
func (e *Engine) Leases() []*Lease { return e.leases }

// LiveVersions returns the versions something still references, oldest
// first; the current version is one of them.
func (e *Engine) LiveVersions() []*Version { return e.live }

// DisabledDeletions returns how many DisableDeletions calls are not yet
// matched by EnableDeletions.
func (e *Engine) DisabledDeletions() int { return e.deletionsDisabled }

// Options returns the options the engine was created with.
func (e *Engine) Options() EngineOptions { return e.opts }

// MemRecords returns a copy of column family cf's memtable, in write
// order.
func (e *Engine) MemRecords(cf CF) []Record { return append([]Record(nil), e.mem[cf]...) }
