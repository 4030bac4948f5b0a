package realpebble

import (
	"fmt"
	"hash/crc32"
	"path"

	"github.com/cockroachdb/pebble/vfs"

	"github.com/snapsim/snapsim/model"
)

// output is the model.Output of a round: one plain file per column
// family in ScratchDir, "round003_default.kv", one "key\tvalue\n" line
// per record. It is not TiKV's snapshot format (the model writes SSTs for
// default and write): a design that writes through Output (scan) only
// needs its records kept, sized and checksummed.
type output struct {
	fs    *FS
	round int
}

func (o output) Path(cf model.CF) string {
	return path.Join(ScratchDir, fmt.Sprintf("round%03d_%s.kv", o.round, cf))
}

func (o output) Create(cf model.CF) (model.CFWriter, error) {
	o.fs.point()
	p := o.Path(cf)
	if err := o.fs.fs.MkdirAll(ScratchDir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: mkdir %s: %v", model.ErrSnapWrite, ScratchDir, err)
	}
	f, err := o.fs.fs.Create(p + ".tmp")
	if err != nil {
		return nil, fmt.Errorf("%w: create %s.tmp: %v", model.ErrSnapWrite, p, err)
	}
	return &cfWriter{fs: o.fs, f: f, path: p}, nil
}

// cfWriter writes one column family's file; every call is a scheduling
// point.
type cfWriter struct {
	fs   *FS
	f    vfs.File
	path string
	size int64
	crc  uint32
}

func (w *cfWriter) Add(r model.Record) error {
	w.fs.point()
	line := []byte(r.Key + "\t" + r.Value + "\n")
	if _, err := w.f.Write(line); err != nil {
		w.Abort("write failed")
		return fmt.Errorf("%w: write %s.tmp: %v", model.ErrSnapWrite, w.path, err)
	}
	w.size += int64(len(line))
	w.crc = crc32.Update(w.crc, crc32.IEEETable, line)
	return nil
}

func (w *cfWriter) Finish() (model.BuiltFile, error) {
	w.fs.point()
	if err := w.f.Sync(); err != nil {
		w.Abort("sync failed")
		return model.BuiltFile{}, fmt.Errorf("%w: sync %s.tmp: %v", model.ErrSnapWrite, w.path, err)
	}
	if err := w.f.Close(); err != nil {
		_ = w.fs.fs.Remove(w.path + ".tmp")
		return model.BuiltFile{}, fmt.Errorf("%w: close %s.tmp: %v", model.ErrSnapWrite, w.path, err)
	}
	if err := w.fs.fs.Rename(w.path+".tmp", w.path); err != nil {
		_ = w.fs.fs.Remove(w.path + ".tmp")
		return model.BuiltFile{}, fmt.Errorf("%w: rename %s.tmp: %v", model.ErrSnapWrite, w.path, err)
	}
	return model.BuiltFile{Size: w.size, CRC: w.crc}, nil
}

func (w *cfWriter) Abort(string) {
	_ = w.f.Close()
	_ = w.fs.fs.Remove(w.path + ".tmp")
}

func (w *cfWriter) Path() string { return w.path }
