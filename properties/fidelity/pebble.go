package fidelity

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/sstable"
	"github.com/cockroachdb/pebble/vfs"
)

// PebbleOptions are the options the suite opens real Pebble with. They are
// Pebble's defaults except where the model has no counterpart:
//
//   - DisableAutomaticCompactions: only the sequence's Compact calls
//     compact (the model's runner starts no compactor either);
//   - DisableWAL: the model has no WAL (docs/domain.md), so a checkpoint's
//     readable keys are its SST files' keys in both systems;
//   - one TargetFileSize at every level (targetFileBytes): Pebble's default
//     doubles it per level, the model has one.
func PebbleOptions(fs vfs.FS, targetFileBytes int64) *pebble.Options {
	o := &pebble.Options{
		FS:                          fs,
		DisableAutomaticCompactions: true,
		DisableWAL:                  true,
		Logger:                      quietLogger{},
	}
	o.Levels = make([]pebble.LevelOptions, 7)
	for i := range o.Levels {
		o.Levels[i].TargetFileSize = targetFileBytes
	}
	return o.EnsureDefaults()
}

// quietLogger discards Pebble's informational log lines (the suite opens
// thousands of databases); errors still fail the run through the API.
type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{})  {}
func (quietLogger) Errorf(string, ...interface{}) {}
func (quietLogger) Fatalf(format string, args ...interface{}) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}

// pebbleSystem is real Pebble v1.1.5 over vfs.NewMem().
type pebbleSystem struct {
	fs     vfs.FS
	db     *pebble.DB
	target int64
	// settles numbers the scratch checkpoints settle makes.
	settles int
}

const pebbleDir = "/db"

// RunPebble runs ops on a fresh Pebble database and returns its trace.
// targetFileBytes is the output file size target at every level.
func RunPebble(ops []Op, targetFileBytes int64) (Trace, error) {
	fs := vfs.NewMem()
	db, err := pebble.Open(pebbleDir, PebbleOptions(fs, targetFileBytes))
	if err != nil {
		return Trace{}, fmt.Errorf("open pebble: %w", err)
	}
	p := &pebbleSystem{fs: fs, db: db, target: targetFileBytes}
	tr, err := drive(p, ops)
	if cerr := db.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close pebble: %w", cerr)
	}
	return tr, err
}

func (p *pebbleSystem) dbDir() string { return pebbleDir }

// flushes counts flush jobs (Metrics.Flush.Count), including the one
// DB.Compact starts for a memtable overlapping its range.
func (p *pebbleSystem) flushes() int64 { return p.db.Metrics().Flush.Count }

func (p *pebbleSystem) put(key, value string) error {
	return p.db.Set([]byte(key), []byte(value), pebble.NoSync)
}

func (p *pebbleSystem) del(key string) error { return p.db.Delete([]byte(key), pebble.NoSync) }

func (p *pebbleSystem) flush() error { return p.db.Flush() }

func (p *pebbleSystem) compact(start, end string) error {
	return p.db.Compact([]byte(start), []byte(end), false)
}

func (p *pebbleSystem) current() ([]fileDesc, error) {
	levels, err := p.db.SSTables()
	if err != nil {
		return nil, err
	}
	var out []fileDesc
	for l, files := range levels {
		for _, f := range files {
			out = append(out, fileDesc{num: uint64(f.FileNum), level: l,
				smallest: string(f.Smallest.UserKey), largest: string(f.Largest.UserKey)})
		}
	}
	return out, nil
}

// content reads an SST with Pebble's own sstable reader.
func (p *pebbleSystem) content(path string) ([]string, error) {
	f, err := p.fs.Open(path)
	if err != nil {
		return nil, err
	}
	readable, err := sstable.NewSimpleReadable(f)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	r, err := sstable.NewReader(readable, sstable.ReaderOptions{})
	if err != nil {
		_ = readable.Close()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	it, err := r.NewIter(nil, nil)
	if err != nil {
		_ = r.Close()
		return nil, err
	}
	var out []string
	last := ""
	for k, lv := it.First(); k != nil; k, lv = it.Next() {
		key := string(k.UserKey)
		if key == last && len(out) > 0 {
			continue // an older version of the same key
		}
		last = key
		if k.Kind() == pebble.InternalKeyKindDelete {
			out = append(out, key+"=del")
			continue
		}
		v, _, err := lv.Value(nil)
		if err != nil {
			_ = it.Close()
			_ = r.Close()
			return nil, err
		}
		out = append(out, key+"="+valueID(string(v)))
	}
	return out, errors.Join(it.Close(), r.Close())
}

func (p *pebbleSystem) exists(path string) (bool, error) {
	f, err := p.fs.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, f.Close()
}

func (p *pebbleSystem) list(dir string) ([]string, error) {
	names, err := p.fs.List(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	sort.Strings(names)
	return names, err
}

type pebbleIter struct{ it *pebble.Iterator }

func (i pebbleIter) close() error { return i.it.Close() }

func (p *pebbleSystem) iterOpen() (iterator, error) {
	it, err := p.db.NewIter(nil)
	if err != nil {
		return nil, err
	}
	return pebbleIter{it}, nil
}

func (p *pebbleSystem) checkpoint(dir string) error { return p.db.Checkpoint(dir) }

func (p *pebbleSystem) readCheckpoint(dir string) (map[string]string, error) {
	o := PebbleOptions(p.fs, p.target)
	o.ReadOnly = true
	db, err := pebble.Open(dir, o)
	if err != nil {
		return nil, fmt.Errorf("open checkpoint %s: %w", dir, err)
	}
	kv := map[string]string{}
	it, err := db.NewIter(nil)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	for ok := it.First(); ok; ok = it.Next() {
		kv[string(it.Key())] = string(it.Value())
	}
	err = errors.Join(it.Close(), db.Close())
	return kv, err
}

// settle waits for Pebble's deletions. Three things can still be under
// way when an op returns:
//
//   - something inside Pebble may hold an old version: the table stats
//     loader (table_stats.go, collectTableStats) runs on a goroutine of its
//     own after flushes and compactions and holds a read state while it
//     reads the new files; files of that version stay zombies
//     (Metrics.Table.ZombieCount: out of the current version, not yet
//     handed to the cleaner) until it lets go;
//   - the last unref of a version hands its files to the cleaner in
//     deleteObsoleteFiles, which drops them from the zombies under the DB
//     mutex but queues their cleanup job only after releasing it;
//   - the cleaner deletes on its own goroutine.
//
// So settle polls until the zombies are only the ones the open iterators
// hold, then waits for the cleaner (DB.Checkpoint disables file deletions
// first, and disabling them waits for every cleanup job already queued:
// cleanupManager.Wait in disableFileDeletions, compaction.go; the scratch
// checkpoint is removed again), and repeats until every SST file on disk
// is in the current version or held by an open iterator. A file Pebble
// never deleted would end the sequence with an error after 5 s, not a
// disagreement; none ever has.
func (p *pebbleSystem) settle(held map[uint64]bool) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		if p.db.Metrics().Table.ZombieCount <= int64(len(held)) {
			p.settles++
			dir := fmt.Sprintf("/settle-%d", p.settles)
			if err := p.db.Checkpoint(dir); err != nil {
				return fmt.Errorf("settle: %w", err)
			}
			if err := p.fs.RemoveAll(dir); err != nil {
				return fmt.Errorf("settle: %w", err)
			}
			extra, err := p.obsoleteOnDisk(held)
			if err != nil {
				return err
			}
			if extra == 0 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			extra, _ := p.obsoleteOnDisk(held)
			return fmt.Errorf("settle: after 5s, %d zombie tables (%d held by iterators), %d obsolete files on disk",
				p.db.Metrics().Table.ZombieCount, len(held), extra)
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// obsoleteOnDisk counts the SST files on disk that are neither in the
// current version nor held by an open iterator.
func (p *pebbleSystem) obsoleteOnDisk(held map[uint64]bool) (int, error) {
	cur, err := p.current()
	if err != nil {
		return 0, err
	}
	live := map[uint64]bool{}
	for _, f := range cur {
		live[f.num] = true
	}
	names, err := p.list(pebbleDir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		if num, ok := sstNum(name); ok && !live[num] && !held[num] {
			n++
		}
	}
	return n, nil
}
