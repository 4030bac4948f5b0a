package model

import (
	"fmt"
	"path"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// ioChunkBytes is the size of one read or write call: each is a scheduling
// point.
const ioChunkBytes = 256

// Engine is a RocksDB-like LSM engine with one column family: a memtable,
// immutable refcounted Versions, an obsolete-file list and leases. It is
// driven by actors (see actors.go); its methods that touch the filesystem
// are scheduling points.
type Engine struct {
	s    *sim.Scheduler
	fs   *vfsmem.FS
	dir  string
	opts EngineOptions

	seq uint64
	mem []Record

	current     *Version
	live        []*Version // referenced versions, oldest first; includes current
	nextVersion uint64
	nextFile    uint64
	compactions int

	// obsolete holds files in no live version and not yet deleted.
	obsolete  []*FileMeta
	leases    []*Lease
	nextLease uint64

	// deletionsDisabled counts DisableDeletions calls not yet matched by
	// EnableDeletions (RocksDB's DisableFileDeletions): GC deletes nothing
	// while it is positive.
	deletionsDisabled int

	// snapshots are engine snapshots (sequence numbers) that compaction
	// must preserve: they pin data, not files.
	snapshots []engineSnapshot
	nextSnap  uint64

	// Daemon actors to wake when there is work.
	flusher, compactor, gc *sim.Actor
}

type engineSnapshot struct {
	id  uint64
	seq uint64
}

// EngineOptions are the engine's tuning knobs for one run.
type EngineOptions struct {
	// FlushThreshold is the memtable size (records) that triggers a flush.
	FlushThreshold int
	// CompactTrigger is the L0 file count that triggers an L0→L1 compaction.
	CompactTrigger int
	// GCInterval is GC's pause between deletion passes.
	GCInterval sim.Micros
	// GCGrace is how long past a lease's expiry its files are still kept.
	GCGrace sim.Micros
	// EagerGC is the deliberately unsafe deleter: a file becomes deletable
	// as soon as it leaves the current version, whatever references or
	// leases hold it.
	EagerGC bool
}

// NewEngine creates an engine with its directory (set-up: no scheduling).
func NewEngine(s *sim.Scheduler, fs *vfsmem.FS, dir string, opts EngineOptions) (*Engine, error) {
	if opts.FlushThreshold < 1 || opts.CompactTrigger < 1 || opts.GCInterval <= 0 || opts.GCGrace < 0 {
		return nil, fmt.Errorf("engine options out of range: %+v", opts)
	}
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create engine dir %s: %w", dir, err)
	}
	e := &Engine{s: s, fs: fs, dir: dir, opts: opts, nextVersion: 1, nextFile: 1}
	e.current = &Version{ID: e.nextVersion, refs: 1}
	e.live = []*Version{e.current}
	return e, nil
}

// Seq returns the last assigned sequence number.
func (e *Engine) Seq() uint64 { return e.seq }

// Current returns the current version (without taking a reference).
func (e *Engine) Current() *Version { return e.current }

// MemLen returns the number of records in the memtable.
func (e *Engine) MemLen() int { return len(e.mem) }

// Obsolete returns the files awaiting deletion.
func (e *Engine) Obsolete() []*FileMeta { return e.obsolete }

// Put writes key=value and returns its sequence number.
func (e *Engine) Put(key, value string) uint64 {
	return e.write(Record{Key: key, Kind: KindPut, Value: value})
}

// Delete writes a tombstone for key and returns its sequence number.
func (e *Engine) Delete(key string) uint64 { return e.write(Record{Key: key, Kind: KindDelete}) }

func (e *Engine) write(r Record) uint64 {
	e.seq++
	r.Seq = e.seq
	e.mem = append(e.mem, r)
	if len(e.mem) >= e.opts.FlushThreshold {
		e.wake(e.flusher)
	}
	return r.Seq
}

func (e *Engine) wake(a *sim.Actor) {
	if a != nil {
		e.s.Wake(a)
	}
}

// Ref takes a reference on v: its files cannot become obsolete.
func (e *Engine) Ref(v *Version) {
	if v.refs <= 0 {
		panic(fmt.Sprintf("model: Ref of dead version %d", v.ID))
	}
	v.refs++
}

// Unref drops a reference; when the last one goes, files that are in no
// other live version become obsolete and GC is woken.
func (e *Engine) Unref(v *Version) {
	if v.refs <= 0 {
		panic(fmt.Sprintf("model: Unref of version %d with %d refs", v.ID, v.refs))
	}
	v.refs--
	if v.refs > 0 {
		return
	}
	for i, lv := range e.live {
		if lv == v {
			e.live = append(e.live[:i], e.live[i+1:]...)
			break
		}
	}
	for _, f := range v.Files() {
		if !e.inLiveVersion(f.Num) && !f.deleted && !e.isObsolete(f.Num) {
			e.obsolete = append(e.obsolete, f)
			e.wake(e.gc)
		}
	}
}

func (e *Engine) inLiveVersion(num uint64) bool {
	for _, v := range e.live {
		if v.contains(num) {
			return true
		}
	}
	return false
}

func (e *Engine) isObsolete(num uint64) bool {
	for _, f := range e.obsolete {
		if f.Num == num {
			return true
		}
	}
	return false
}

// install makes v current (with the current reference) and drops the
// reference on the old current. reason explains the change for the ledger.
func (e *Engine) install(v *Version, reason string) {
	e.nextVersion++
	v.ID = e.nextVersion
	v.refs = 1
	e.live = append(e.live, v)
	old := e.current
	e.current = v
	for _, f := range old.Files() {
		if !v.contains(f.Num) {
			f.replacedBy = reason
			// The eager deleter considers a file obsolete the moment it
			// leaves the current version, referenced or not.
			if e.opts.EagerGC && !f.deleted && !e.isObsolete(f.Num) {
				e.obsolete = append(e.obsolete, f)
				e.wake(e.gc)
			}
		}
	}
	e.Unref(old)
}

// clone copies the current version's file lists.
func (e *Engine) clone() *Version {
	v := &Version{FlushedSeq: e.current.FlushedSeq}
	for l := range e.current.Levels {
		v.Levels[l] = append([]*FileMeta(nil), e.current.Levels[l]...)
	}
	return v
}

// AcquireLease pins files until now+ttl for holder.
func (e *Engine) AcquireLease(holder string, files []*FileMeta, ttl sim.Micros) *Lease {
	e.nextLease++
	l := &Lease{ID: e.nextLease, Holder: holder, Expiry: e.s.Now() + ttl}
	for _, f := range files {
		l.Files = append(l.Files, f.Num)
	}
	e.leases = append(e.leases, l)
	return l
}

// RenewLease extends a still-valid lease to now+ttl. An expired lease
// cannot be renewed: GC may already have deleted its files.
func (e *Engine) RenewLease(l *Lease, ttl sim.Micros) bool {
	if !l.Valid(e.s.Now()) {
		return false
	}
	l.Expiry = e.s.Now() + ttl
	return true
}

// ReleaseLease gives a lease back.
func (e *Engine) ReleaseLease(l *Lease) {
	l.released = true
	for i, x := range e.leases {
		if x == l {
			e.leases = append(e.leases[:i], e.leases[i+1:]...)
			break
		}
	}
	e.wake(e.gc)
}

// DisableDeletions stops GC from deleting files until the matching
// EnableDeletions (a counter, like RocksDB's DisableFileDeletions).
func (e *Engine) DisableDeletions() { e.deletionsDisabled++ }

// EnableDeletions undoes one DisableDeletions and wakes GC.
func (e *Engine) EnableDeletions() {
	if e.deletionsDisabled <= 0 {
		panic("model: EnableDeletions without DisableDeletions")
	}
	e.deletionsDisabled--
	e.wake(e.gc)
}

// DeletionsDisabled reports whether GC is currently held off.
func (e *Engine) DeletionsDisabled() bool { return e.deletionsDisabled > 0 }

// TakeSnapshot registers an engine snapshot at the flushed sequence of the
// current version and returns its id and sequence number.
func (e *Engine) TakeSnapshot() (uint64, uint64) {
	e.nextSnap++
	seq := e.current.FlushedSeq
	e.snapshots = append(e.snapshots, engineSnapshot{id: e.nextSnap, seq: seq})
	return e.nextSnap, seq
}

// ReleaseSnapshot drops an engine snapshot.
func (e *Engine) ReleaseSnapshot(id uint64) {
	for i, s := range e.snapshots {
		if s.id == id {
			e.snapshots = append(e.snapshots[:i], e.snapshots[i+1:]...)
			return
		}
	}
}

// pinnedBy explains why file f may not be deleted now, or returns "".
func (e *Engine) pinnedBy(f *FileMeta) string {
	for _, v := range e.live {
		if v.contains(f.Num) {
			return fmt.Sprintf("referenced by live version %d (refs %d)", v.ID, v.refs)
		}
	}
	now := e.s.Now()
	for _, l := range e.leases {
		if l.covers(f.Num, now, e.opts.GCGrace) {
			return fmt.Sprintf("leased by %s until %s (+grace %s)", l.Holder, l.Expiry, e.opts.GCGrace)
		}
	}
	return ""
}

// filePath returns the path of file number num.
func (e *Engine) filePath(num uint64) string { return path.Join(e.dir, fmt.Sprintf("%06d.sst", num)) }

// writeFile writes data to a new file in chunks, syncs and closes it. On
// error the partial file is removed.
func (e *Engine) writeFile(p string, data []byte) error {
	f, err := e.fs.Create(p)
	if err != nil {
		return fmt.Errorf("create %s: %w", p, err)
	}
	for off := 0; off < len(data); off += ioChunkBytes {
		end := min(off+ioChunkBytes, len(data))
		if _, err := f.Write(data[off:end]); err != nil {
			_ = f.Close()
			_ = e.fs.RemoveBecause(p, "partial write")
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		_ = e.fs.RemoveBecause(p, "sync failed")
		return fmt.Errorf("sync %s: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", p, err)
	}
	return nil
}

// readAll reads size bytes from an open file in chunks and closes it.
func readAll(f vfs.File, p string, size int64) ([]byte, error) {
	buf := make([]byte, size)
	for off := int64(0); off < size; off += ioChunkBytes {
		end := min(off+ioChunkBytes, size)
		n, err := f.ReadAt(buf[off:end], off)
		if err != nil && !(n == int(end-off) && isEOF(err)) {
			_ = f.Close()
			return nil, fmt.Errorf("read %s at %d: %w", p, off, err)
		}
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("close %s: %w", p, err)
	}
	return buf, nil
}

// readSST reads and decodes an SST file opened by the caller.
func readSST(h vfs.File, f *FileMeta) ([]Record, error) {
	b, err := readAll(h, f.Path, f.SizeBytes)
	if err != nil {
		return nil, err
	}
	recs, err := DecodeSST(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	return recs, nil
}
