package realpebble

import (
	"errors"
	"fmt"
	"os"
	"path"
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

// Engine is a real *pebble.DB over an in-memory vfs.FS, seen as the
// model.Engine (and model.Pinner) a design uses. It also carries the
// workload's writes (Put, Delete, Flush, Compact), so that it knows the
// sequence numbers of the newest and of the newest flushed write
// (TakeSnapshot), takes the flush's snapshot, and can wait for Pebble's
// deletions after each operation that may make files obsolete.
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
	// views holds, per sequence number of an engine snapshot handed out
	// and not yet checked, what Pebble's own iterator read through it
	// (view).
	views map[uint64][]model.Record
	// cur is the version Current returned last; versions counts them.
	cur      *version
	versions uint64
	// refs are the references held (Ref), oldest first.
	refs []heldRef
	// stats counts the workload's operations.
	stats Stats
}

// Stats counts what the workload did to the database.
type Stats struct {
	Puts, Deletes, Flushes, Compactions int
	// Settles counts the waits for Pebble's deletions; SettleWait is their
	// total and SettleWaitMax the longest (wall clock), for the report.
	Settles                   int
	SettleWait, SettleWaitMax time.Duration
	// SettlePolls counts the polls of all waits (each a check of the zombie
	// count and of the directory).
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
	e := &Engine{db: db, fs: fs, lastSeq: seqNumStart - 1, flushedSeq: seqNumStart - 1, snaps: map[uint64]*flushSnapshot{}, views: map[uint64][]model.Record{}}
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

// sstPath is where Pebble keeps table num (filenames.go MakeFilepath:
// "%06d.sst").
func sstPath(num uint64) string { return path.Join(DBDir, fmt.Sprintf("%06d.sst", num)) }

// isNotExist reports whether err is ENOENT.
func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }
