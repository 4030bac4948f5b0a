package realpebble

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/sstable"

	"github.com/snapsim/snapsim/model"
)

// ReadFile implements model.Engine: it decodes the real sstable h is open
// on with Pebble's sstable reader (sstable.NewSimpleReadable,
// sstable.NewReader, Reader.NewIter) into model records of column family
// default, each with the internal key's user key, sequence number and
// kind, and closes h. A sequence number may be 0: Pebble zeroes those of
// the bottom snapshot stripe at the bottom level (compaction_iter.go
// maybeZeroSeqnum); such a record is below every open snapshot, so it is
// visible at every design's sequence number, as it is to Pebble. Each ReadAt is tried up to tries times on EIO. The
// whole read is one step (no scheduling point per chunk): an open file
// stays readable on vfs.NewMem() after Pebble removes its name, so a
// later point could change nothing.
//
// A table with a range deletion or range key, or a record of a kind other
// than SET, SETWITHDEL, DEL and SINGLEDEL, is an error: the workload
// writes none and the model's records cannot express them.
func (e *Engine) ReadFile(h model.Handle, f *model.FileMeta, tries int) ([]model.Record, error) {
	file, ok := h.(sstable.ReadableFile)
	if !ok {
		_ = h.Close()
		return nil, fmt.Errorf("realpebble: read %s: handle %T has no Stat (want the vfs.File FS.Open returns)", f.Path, h)
	}
	recs, err := decode(retrying{ReadableFile: file, tries: max(tries, 1)}, f)
	if err != nil {
		return nil, fmt.Errorf("realpebble: read %s: %w", f.Path, err)
	}
	return recs, nil
}

// decode reads every point record of the table file holds and closes it.
func decode(file sstable.ReadableFile, f *model.FileMeta) (recs []model.Record, err error) {
	readable, err := sstable.NewSimpleReadable(file)
	if err != nil {
		_ = file.Close()
		return nil, err
	}
	r, err := sstable.NewReader(readable, sstable.ReaderOptions{})
	if err != nil {
		_ = readable.Close()
		return nil, err
	}
	defer func() { err = errors.Join(err, r.Close()) }()
	if r.Properties.NumRangeDeletions > 0 || r.Properties.NumRangeKeys() > 0 {
		return nil, fmt.Errorf("%d range deletions, %d range keys: not supported (the model's records are point records)", r.Properties.NumRangeDeletions, r.Properties.NumRangeKeys())
	}
	it, err := r.NewIter(nil, nil)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, it.Close()) }()
	for k, lv := it.First(); k != nil; k, lv = it.Next() {
		rec := model.Record{CF: f.CF, Key: string(k.UserKey), Seq: k.SeqNum()}
		switch k.Kind() {
		case pebble.InternalKeyKindSet, pebble.InternalKeyKindSetWithDelete:
			v, _, err := lv.Value(nil)
			if err != nil {
				return nil, fmt.Errorf("value of %s: %w", rec.Key, err)
			}
			rec.Kind, rec.Value = model.KindPut, string(v)
		case pebble.InternalKeyKindDelete, pebble.InternalKeyKindSingleDelete:
			rec.Kind = model.KindDelete
		default:
			return nil, fmt.Errorf("record %s@%d of kind %s: not supported", rec.Key, rec.Seq, k.Kind())
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// retrying is a table file whose ReadAt is tried up to tries times on
// EIO (model.Engine.ReadFile's contract).
type retrying struct {
	sstable.ReadableFile
	tries int
}

func (r retrying) ReadAt(p []byte, off int64) (n int, err error) {
	for try := 1; try <= r.tries; try++ {
		n, err = r.ReadableFile.ReadAt(p, off)
		if err == nil || !errors.Is(err, syscall.EIO) {
			return n, err
		}
	}
	return n, err
}

// Stat passes through (the reader sizes the file with it).
func (r retrying) Stat() (os.FileInfo, error) { return r.ReadableFile.Stat() }
