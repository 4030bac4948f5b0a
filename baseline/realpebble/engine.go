package realpebble

import (
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"

	"github.com/snapsim/snapsim/model"
)

// EngineName is how refusals name the engine ("design lease needs file
// leases (model.Leaser), which engine pebble v1.1.5 does not have").
const EngineName = "pebble v1.1.5"

// DBDir is the directory of the database on its filesystem.
const DBDir = "/db"

// settleTimeout bounds a wait for Pebble's deletions (settle): only a file
// Pebble never deletes should reach it. The longest wait measured was
// under a second, on a 2-core machine shared with other test runs; the
// bound is generous so that a loaded machine cannot make a run fail.
const settleTimeout = 30 * time.Second

// Engine is a real *pebble.DB over an in-memory vfs.FS, seen as the
// model.Engine (and model.Pinner) a design uses. It also carries the
// workload's writes (Put, Delete, Flush, Compact), so that it knows the
// sequence number of the newest write (TakeSnapshot) and can wait for
// Pebble's deletions after each operation that may make files obsolete.
//
// An Engine is used from one goroutine at a time: the kernel's actors
// (one runs at a time) or a test. Pebble's own goroutines run beside it.
type Engine struct {
	db *pebble.DB
	fs vfs.FS
	// lastSeq is the sequence number of the newest write committed
	// through the Engine: Pebble's visible sequence number minus one
	// (base.SeqNumStart-1 before the first write).
	lastSeq uint64
	// flushedSeq is lastSeq when the memtable was last flushed (Flush;
	// Compact flushes first): every write up to it is in a file.
	flushedSeq uint64
	// flushSnap is the Pebble snapshot taken right after the last flush,
	// at flushedSeq+1; snaps are the engine snapshots designs took and did
	// not release, by id, each one of those flush snapshots (shared).
	flushSnap *flushSnapshot
	snaps     map[uint64]*flushSnapshot
	nextID    uint64
	// snapshotAtNewestWrite is a negative control for tests: TakeSnapshot
	// takes a fresh pebble.Snapshot (at the newest write) but still returns
	// the flushed sequence number, so compaction may drop or re-number
	// (zero) what a design reads at it.
	snapshotAtNewestWrite bool
	// views holds, per flushed sequence number, what Pebble's own
	// iterator read right after the flush (view).
	views map[uint64][]model.Record
	// cur is the version Current returned last; versions counts them.
	cur      *version
	versions uint64
	// refs are the references held (Ref), oldest first.
	refs []heldRef
	// stats counts the workload's operations.
	stats Stats
}

// flushSnapshot is a pebble.Snapshot taken right after a flush, so that
// it sees exactly the writes up to the flushed sequence number; refs
// counts the engine snapshots handed out on it.
type flushSnapshot struct {
	s    *pebble.Snapshot
	seq  uint64
	refs int
}

// heldRef is one reference: an open iterator on a version.
type heldRef struct {
	v  *version
	it *pebble.Iterator
}

// Stats counts what the workload did to the database.
type Stats struct {
	Puts, Deletes, Flushes, Compactions int
	// Settles counts the waits for Pebble's deletions; SettleWait is their
	// total and SettleWaitMax the longest (wall clock), for the report.
	Settles                   int
	SettleWait, SettleWaitMax time.Duration
	// SettlePolls counts the polls of all waits (each a check of the zombie
	// count, and when it is low enough a scratch checkpoint).
	SettlePolls int
}

var _ model.Pinner = (*Engine)(nil)

// Options are the options the adapter opens Pebble with: Pebble's
// defaults except
//
//   - DisableAutomaticCompactions: only the workload's Compact calls
//     compact, within their step (properties/fidelity does the same);
//   - DisableWAL: the model has no WAL;
//   - a 64 MiB memtable, so that no write fills it and no flush starts on
//     Pebble's own goroutine: only the workload's Flush flushes;
//   - one TargetFileSize at every level (targetFileBytes).
func Options(fs vfs.FS, targetFileBytes int64) *pebble.Options {
	o := &pebble.Options{
		FS:                          fs,
		DisableAutomaticCompactions: true,
		DisableWAL:                  true,
		MemTableSize:                64 << 20,
		Logger:                      quietLogger{},
	}
	o.Levels = make([]pebble.LevelOptions, 7)
	for i := range o.Levels {
		o.Levels[i].TargetFileSize = targetFileBytes
	}
	return o.EnsureDefaults()
}

// quietLogger discards Pebble's informational log lines; a fatal one
// panics with its text.
type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{})  {}
func (quietLogger) Errorf(string, ...interface{}) {}
func (quietLogger) Fatalf(format string, args ...interface{}) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}

// Open opens a fresh database in DBDir on vfs.NewMem().
func Open(targetFileBytes int64) (*Engine, error) {
	if targetFileBytes <= 0 {
		return nil, fmt.Errorf("realpebble: target file size %d bytes: want > 0", targetFileBytes)
	}
	fs := vfs.NewMem()
	db, err := pebble.Open(DBDir, Options(fs, targetFileBytes))
	if err != nil {
		return nil, fmt.Errorf("realpebble: open pebble in %s: %w", DBDir, err)
	}
	e := &Engine{db: db, fs: fs, lastSeq: seqNumStart - 1, flushedSeq: seqNumStart - 1, snaps: map[uint64]*flushSnapshot{}, views: map[uint64][]model.Record{seqNumStart - 1: nil}}
	e.flushSnap = &flushSnapshot{s: db.NewSnapshot(), seq: e.flushedSeq}
	return e, nil
}

// seqNumStart is Pebble's first sequence number (internal/base
// SeqNumStart, 10): a fresh database assigns it to its first write.
const seqNumStart = 10

// DB returns the database (for a test's own reads).
func (e *Engine) DB() *pebble.DB { return e.db }

// VFS returns the filesystem the database runs on.
func (e *Engine) VFS() vfs.FS { return e.fs }

// Stats returns the workload's counts so far.
func (e *Engine) Stats() Stats { return e.stats }

// Close closes what the designs left open (an error names it: a leaked
// reference or snapshot is a design's bug), then the database.
func (e *Engine) Close() error {
	var errs []error
	if n := len(e.refs); n > 0 {
		errs = append(errs, fmt.Errorf("realpebble: %d version references still held at close", n))
		for _, r := range e.refs {
			errs = append(errs, r.it.Close())
		}
		e.refs = nil
	}
	if n := len(e.snaps); n > 0 {
		errs = append(errs, fmt.Errorf("realpebble: %d engine snapshots still open at close", n))
		for _, id := range sortedIDs(e.snaps) {
			if fs := e.snaps[id]; fs != e.flushSnap {
				if fs.refs--; fs.refs == 0 {
					errs = append(errs, fs.s.Close())
				}
			}
		}
		e.snaps = map[uint64]*flushSnapshot{}
	}
	errs = append(errs, e.flushSnap.s.Close())
	if err := e.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("realpebble: close pebble: %w", err))
	}
	return errors.Join(errs...)
}

func sortedIDs(m map[uint64]*flushSnapshot) []uint64 {
	ids := make([]uint64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// Put writes key=value in a batch of its own, so that the batch's
// sequence number (Batch.SeqNum) tells the Engine the write's.
func (e *Engine) Put(key, value string) error {
	b := e.db.NewBatch()
	if err := b.Set([]byte(key), []byte(value), nil); err != nil {
		return fmt.Errorf("realpebble: put %s: %w", key, err)
	}
	if err := e.commit(b); err != nil {
		return fmt.Errorf("realpebble: put %s: %w", key, err)
	}
	e.stats.Puts++
	return nil
}

// Delete deletes key (a point tombstone).
func (e *Engine) Delete(key string) error {
	b := e.db.NewBatch()
	if err := b.Delete([]byte(key), nil); err != nil {
		return fmt.Errorf("realpebble: delete %s: %w", key, err)
	}
	if err := e.commit(b); err != nil {
		return fmt.Errorf("realpebble: delete %s: %w", key, err)
	}
	e.stats.Deletes++
	return nil
}

// commit commits a one-record batch and advances lastSeq to its sequence
// number, asserting that it is the next one (the Engine is the only
// writer).
func (e *Engine) commit(b *pebble.Batch) error {
	defer b.Close()
	if err := b.Commit(pebble.NoSync); err != nil {
		return err
	}
	seq := b.SeqNum()
	if seq != e.lastSeq+1 {
		panic(fmt.Sprintf("realpebble: a write got sequence number %d, want %d: something else writes to the database", seq, e.lastSeq+1))
	}
	e.lastSeq = seq
	return nil
}

// Flush flushes the memtable and waits for it (DB.Flush). A flush makes
// no file obsolete.
func (e *Engine) Flush() error {
	if err := e.db.Flush(); err != nil {
		return fmt.Errorf("realpebble: flush: %w", err)
	}
	e.stats.Flushes++
	if err := e.flushed(); err != nil {
		return fmt.Errorf("realpebble: after flush: %w", err)
	}
	return nil
}

// Compact compacts [start, end] (DB.Compact, not parallelized: it
// compacts level by level and returns when the compactions are
// installed), then waits for Pebble to delete every file that made
// obsolete and that no reference holds. DB.Compact first flushes the
// memtable if it overlaps the range; Compact flushes any unflushed write
// itself just before (Flush), so that the flush's snapshot is taken
// before the compactions run (TakeSnapshot). For a range covering every
// written key (the workload's) that is the same flush.
func (e *Engine) Compact(start, end string) error {
	if e.lastSeq != e.flushedSeq {
		if err := e.Flush(); err != nil {
			return fmt.Errorf("realpebble: compact [%s, %s]: %w", start, end, err)
		}
	}
	before := e.db.Metrics().Flush.Count
	if err := e.db.Compact([]byte(start), []byte(end), false); err != nil {
		return fmt.Errorf("realpebble: compact [%s, %s]: %w", start, end, err)
	}
	if n := e.db.Metrics().Flush.Count; n != before {
		panic(fmt.Sprintf("realpebble: DB.Compact flushed (%d flushes) with every write already flushed", n-before))
	}
	e.stats.Compactions++
	return e.settle()
}

// TakeSnapshot implements model.Engine: a pebble.Snapshot
// (DB.NewSnapshot) at the flushed sequence number. A design reads engine
// files, never the memtable, so the sequence number it reduces records at
// is the newest one every record of which is in a file: the newest write
// when the memtable was last flushed (the model's engine does the same:
// engine.TakeSnapshot, "at the flushed sequence of the current version").
// For Pebble to keep what is visible at that number the snapshot must be
// taken at it (compaction keeps, per key, only the newest version below
// each snapshot, and zeroes the sequence numbers of the bottom stripe:
// compaction_iter.go maybeZeroSeqnum), so the Engine takes one right
// after every flush and hands that one out, shared: the engine snapshot
// of a design is the snapshot of the last flush. Its sequence number is
// unexported (snapshot.go); the Engine knows it from Batch.SeqNum.
func (e *Engine) TakeSnapshot() (id, seq uint64) {
	e.nextID++
	if e.snapshotAtNewestWrite {
		// The negative control: a fresh snapshot, which protects what is
		// visible at the newest write, not at the flushed seq returned.
		e.snaps[e.nextID] = &flushSnapshot{s: e.db.NewSnapshot(), seq: e.flushedSeq, refs: 1}
		return e.nextID, e.flushedSeq
	}
	e.flushSnap.refs++
	e.snaps[e.nextID] = e.flushSnap
	return e.nextID, e.flushSnap.seq
}

// view returns what Pebble's iterator read at flushed sequence number
// seq, sorted by key.
func (e *Engine) view(seq uint64) ([]model.Record, bool) {
	kv, ok := e.views[seq]
	return kv, ok
}

// flushed records that the memtable was flushed: every write up to
// lastSeq is in a file. It reads the whole database with Pebble's own
// iterator, for the report's check of what a design collected at that
// sequence number (view).
func (e *Engine) flushed() error {
	e.flushedSeq = e.lastSeq
	if e.flushSnap.seq != e.flushedSeq {
		old := e.flushSnap
		e.flushSnap = &flushSnapshot{s: e.db.NewSnapshot(), seq: e.flushedSeq}
		if old.refs == 0 {
			if err := old.s.Close(); err != nil {
				return fmt.Errorf("close the snapshot of seq %d: %w", old.seq, err)
			}
		}
	}
	if _, ok := e.views[e.flushedSeq]; ok {
		return nil
	}
	it, err := e.db.NewIter(nil)
	if err != nil {
		return err
	}
	var kv []model.Record
	for ok := it.First(); ok; ok = it.Next() {
		kv = append(kv, model.Record{CF: model.CFDefault, Key: string(it.Key()), Seq: e.flushedSeq, Kind: model.KindPut, Value: string(it.Value())})
	}
	if err := it.Close(); err != nil {
		return err
	}
	e.views[e.flushedSeq] = kv
	return nil
}

// ReleaseSnapshot implements model.Engine: the snapshot's Snapshot.Close
// once no design holds it and a later flush has replaced it. An unknown id
// panics (a design's bug).
func (e *Engine) ReleaseSnapshot(id uint64) {
	fs, ok := e.snaps[id]
	if !ok {
		panic(fmt.Sprintf("realpebble: ReleaseSnapshot(%d): no such snapshot open", id))
	}
	delete(e.snaps, id)
	fs.refs--
	if fs.refs == 0 && fs != e.flushSnap {
		if err := fs.s.Close(); err != nil {
			panic(fmt.Sprintf("realpebble: close snapshot of seq %d: %v", fs.seq, err))
		}
	}
}

// Current implements model.Engine: DB.SSTables, which references Pebble's
// read state only while it copies the file list, so the version returned
// pins nothing. A file list unchanged since the last call is the same
// version (same ID); Pebble exposes no version numbers, so IDs are the
// adapter's.
func (e *Engine) Current() model.Version {
	v, err := e.list()
	if err != nil {
		panic(fmt.Sprintf("realpebble: SSTables: %v", err))
	}
	if e.cur != nil && e.cur.key == v.key {
		return e.cur
	}
	e.versions++
	v.id = e.versions
	e.cur = v
	return v
}

// list reads the current version's files from DB.SSTables.
func (e *Engine) list() (*version, error) {
	levels, err := e.db.SSTables()
	if err != nil {
		return nil, err
	}
	return newVersion(levels)
}

// Ref implements model.Pinner: it opens a pebble.Iterator (DB.NewIter),
// which references the current read state, and so its version, until
// Unref closes it (db.go newIter, read_state.go). v must be the version
// Current returned in this step: Ref asserts that Pebble's current
// version is still v once the iterator is open.
func (e *Engine) Ref(x model.Version) {
	v := mustVersion(x)
	if v != e.cur {
		panic(fmt.Sprintf("realpebble: Ref of version %d, which is not the version Current returned last: Ref must be called in the step that obtained v from Current", v.id))
	}
	it, err := e.db.NewIter(nil)
	if err != nil {
		panic(fmt.Sprintf("realpebble: NewIter: %v", err))
	}
	now, err := e.list()
	if err != nil {
		panic(fmt.Sprintf("realpebble: SSTables: %v", err))
	}
	if now.key != v.key {
		_ = it.Close()
		panic(fmt.Sprintf("realpebble: Pebble's version changed between Current and Ref (version %d: %s; now: %s): something outside the kernel's steps changed it", v.id, v.key, now.key))
	}
	v.refs++
	e.refs = append(e.refs, heldRef{v: v, it: it})
}

// Unref implements model.Pinner: it closes the oldest iterator Ref opened
// on v, then waits for Pebble to delete the files that leaves obsolete.
func (e *Engine) Unref(x model.Version) {
	v := mustVersion(x)
	for i, r := range e.refs {
		if r.v != v {
			continue
		}
		e.refs = append(e.refs[:i], e.refs[i+1:]...)
		v.refs--
		if err := r.it.Close(); err != nil {
			panic(fmt.Sprintf("realpebble: close iterator of version %d: %v", v.id, err))
		}
		if err := e.settle(); err != nil {
			panic(fmt.Sprintf("realpebble: after closing the iterator of version %d: %v", v.id, err))
		}
		return
	}
	panic(fmt.Sprintf("realpebble: Unref of version %d, which holds no reference", v.id))
}

func mustVersion(x model.Version) *version {
	v, ok := x.(*version)
	if !ok {
		panic(fmt.Sprintf("realpebble: a version of another engine (%T)", x))
	}
	return v
}

// settle waits until Pebble has deleted every SST file that is neither in
// the current version nor held by a reference. When DB.Compact returns,
// or an iterator is closed, three things can still be under way (see
// properties/fidelity's settle): the table stats loader holding an old
// read state (table_stats.go: its files stay zombies until it lets go),
// deleteObsoleteFiles queuing the cleanup job after it released the DB
// mutex (compaction.go), and the cleaner deleting on its own goroutine
// (cleaner.go). settle polls until the zombie tables
// (Metrics().Table.ZombieCount) are only the held ones and no obsolete,
// unheld SST is left in DBDir: the condition itself, so no queued
// deletion can be missed (a file queued for deletion is still on disk).
// It gives up after settleTimeout.
//
// properties/fidelity also waits for the cleaner with a scratch
// DB.Checkpoint (its disableFileDeletions waits for queued jobs); that
// copies the MANIFEST, which grows with every compaction, so over a long
// run each wait took longer. Polling the directory is enough here.
func (e *Engine) settle() error {
	start := time.Now()
	defer func() {
		d := time.Since(start)
		e.stats.Settles++
		e.stats.SettleWait += d
		e.stats.SettleWaitMax = max(e.stats.SettleWaitMax, d)
	}()
	deadline := start.Add(settleTimeout)
	for {
		e.stats.SettlePolls++
		held, err := e.held()
		if err != nil {
			return err
		}
		zombies := e.db.Metrics().Table.ZombieCount
		extra, err := e.obsoleteOnDisk(held)
		if err != nil {
			return err
		}
		if zombies <= int64(len(held)) && len(extra) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("settle: after %v, %d zombie tables (%d held by references), obsolete files still on disk: %v",
				settleTimeout, zombies, len(held), extra)
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// held returns the files the references hold that are not in the current
// version.
func (e *Engine) held() (map[uint64]bool, error) {
	cur, err := e.list()
	if err != nil {
		return nil, err
	}
	held := map[uint64]bool{}
	for _, r := range e.refs {
		for _, f := range r.v.files {
			if !cur.Contains(f.Num) {
				held[f.Num] = true
			}
		}
	}
	return held, nil
}

// obsoleteOnDisk returns the SST files in DBDir that are neither in the
// current version nor held.
func (e *Engine) obsoleteOnDisk(held map[uint64]bool) ([]string, error) {
	cur, err := e.list()
	if err != nil {
		return nil, err
	}
	names, err := e.fs.List(DBDir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", DBDir, err)
	}
	sort.Strings(names)
	var out []string
	for _, name := range names {
		num, ok := sstNum(name)
		if ok && !cur.Contains(num) && !held[num] {
			out = append(out, name)
		}
	}
	return out, nil
}

// sstNum parses a table's name, "000012.sst".
func sstNum(name string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, ".sst")
	if !ok || base == "" {
		return 0, false
	}
	var n uint64
	for _, c := range base {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// sstPath is where Pebble keeps table num (filenames.go MakeFilepath:
// "%06d.sst").
func sstPath(num uint64) string { return path.Join(DBDir, fmt.Sprintf("%06d.sst", num)) }

// isNotExist reports whether err is ENOENT.
func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
