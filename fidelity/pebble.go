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

// settle waits for Pebble's deletions in two parts:
//
//   - Something inside Pebble may still hold an old version: the table
//     stats loader (table_stats.go, collectTableStats) runs on a goroutine
//     of its own after flushes and compactions and holds a read state while
//     it reads the new files. Files of that version stay zombies
//     (Metrics.Table.ZombieCount: out of the current version, not yet
//     handed to the cleaner) until it lets go. settle polls until the
//     zombies are only the held ones the open iterators account for.
//   - The cleaner then deletes on its own goroutine. DB.Checkpoint disables
//     file deletions first, and disabling them waits for every cleanup job
//     already queued (cleanupManager.Wait in disableFileDeletions,
//     compaction.go): a compaction queues its job before DB.Compact returns
//     (compact1 calls deleteObsoleteFiles before it reports done), and the
//     last unref of a read state queues one before it returns
//     (readState.unref). The scratch checkpoint is removed again.
func (p *pebbleSystem) settle(held int) error {
	deadline := time.Now().Add(5 * time.Second)
	for p.db.Metrics().Table.ZombieCount > int64(held) {
		if time.Now().After(deadline) {
			return fmt.Errorf("settle: %d zombie tables after 5s, %d held by iterators",
				p.db.Metrics().Table.ZombieCount, held)
		}
		time.Sleep(20 * time.Microsecond)
	}
	p.settles++
	dir := fmt.Sprintf("/settle-%d", p.settles)
	if err := p.db.Checkpoint(dir); err != nil {
		return fmt.Errorf("settle: %w", err)
	}
	return p.fs.RemoveAll(dir)
}
