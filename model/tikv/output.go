package tikv

import (
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/cockroachdb/pebble/vfs"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/engine"
)

// snapOutput is a build's model.Output: the snapshot's column-family files
// in SnapDir, named by the snapshot's key ("gen_<key>_<cf>.<ext>").
type snapOutput struct {
	n   *Node
	key SnapKey
}

// Create implements model.Output.
func (o snapOutput) Create(cf CF) (model.CFWriter, error) {
	return createSnapCFWriter(o.n, cf, o.Path(cf))
}

// Path implements model.Output.
func (o snapOutput) Path(cf CF) string { return snapFile(prefixGen, o.key, cf) }

// Path implements model.CFWriter: the finished file's path.
func (w *snapCFWriter) Path() string { return w.final }

// asVFSFile returns the vfs.File behind a handle a design opened through
// the build's FS (always one: fsView hands out vfsmem's files).
func asVFSFile(h model.Handle) vfs.File {
	f, ok := h.(vfs.File)
	if !ok {
		panic(fmt.Sprintf("tikv: a design read through a handle (%T) it did not open on the build's FS", h))
	}
	return f
}

// snapCFWriter writes one column family's snapshot file as records come
// (TiKV's SstWriter, or the plain writer of build_plain_cf_file): to
// final+".tmp" in chunks of ioChunkBytes, then the footer, sync, close and
// rename to final. The bytes are exactly encodeCF's for the same records.
// It is the model.CFWriter of a build's Output.
type snapCFWriter struct {
	n          *Node
	cf         CF
	tmp, final string
	f          vfs.File
	// pending holds encoded bytes not yet written.
	pending []byte
	// body is the crc32 of the entries (the footer's checksum), file the
	// crc32 of every byte written (the meta file's).
	body, file uint32
	count      int
	size       int64
}

// createSnapCFWriter creates the temporary file of cf's snapshot file.
func createSnapCFWriter(n *Node, cf CF, final string) (*snapCFWriter, error) {
	w := &snapCFWriter{n: n, cf: cf, tmp: final + ".tmp", final: final}
	f, err := n.FS.Create(w.tmp)
	if err != nil {
		return nil, fmt.Errorf("%w: create %s: %w", model.ErrSnapWrite, w.tmp, err)
	}
	w.f = f
	return w, nil
}

// Add appends one record (records come in key order).
func (w *snapCFWriter) Add(r Record) error {
	var b []byte
	if w.cf == CFLock {
		b = []byte(lockLine(r))
	} else {
		b = engine.AppendSSTEntry(nil, r)
	}
	w.body = crc32.Update(w.body, crc32.IEEETable, b)
	w.count++
	w.pending = append(w.pending, b...)
	return w.flush(false)
}

// flush writes the pending bytes in chunks of ioChunkBytes; all writes
// the last, short chunk too.
func (w *snapCFWriter) flush(all bool) error {
	for len(w.pending) >= ioChunkBytes || (all && len(w.pending) > 0) {
		chunk := w.pending[:min(ioChunkBytes, len(w.pending))]
		if _, err := w.f.Write(chunk); err != nil {
			w.Abort("partial write")
			return fmt.Errorf("%w: write %s: %w", model.ErrSnapWrite, w.tmp, err)
		}
		w.file = crc32.Update(w.file, crc32.IEEETable, chunk)
		w.size += int64(len(chunk))
		w.pending = w.pending[len(chunk):]
	}
	return nil
}

// Finish writes the footer, syncs, closes and renames the file into place.
func (w *snapCFWriter) Finish() (model.BuiltFile, error) {
	if w.cf == CFLock {
		w.pending = append(w.pending, lockFooter(w.body, w.count)...)
	} else {
		w.pending = engine.AppendSSTFooter(w.pending, w.count, w.body)
	}
	if err := w.flush(true); err != nil {
		return model.BuiltFile{}, err
	}
	if err := w.f.Sync(); err != nil {
		w.Abort("sync failed")
		return model.BuiltFile{}, fmt.Errorf("%w: sync %s: %w", model.ErrSnapWrite, w.tmp, err)
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		w.Abort("close failed")
		return model.BuiltFile{}, fmt.Errorf("%w: close %s: %w", model.ErrSnapWrite, w.tmp, err)
	}
	if err := w.n.FS.Rename(w.tmp, w.final); err != nil {
		w.Abort("rename failed")
		return model.BuiltFile{}, fmt.Errorf("%w: rename %s: %w", model.ErrSnapWrite, w.final, err)
	}
	return model.BuiltFile{Size: w.size, CRC: w.file}, nil
}

// Abort closes and removes the temporary file.
func (w *snapCFWriter) Abort(why string) {
	if w.f != nil {
		_ = w.f.Close()
		w.f = nil
	}
	_ = w.n.FS.RemoveBecause(w.tmp, why)
}

// lockLine is one record of the plain lock file format (snapfile.go).
func lockLine(r Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\t%d\t%d\t%s\n", r.Key, r.Seq, r.Kind, r.Value)
	return b.String()
}

// lockFooter is the plain lock file's footer over a body with crc32 sum.
func lockFooter(sum uint32, count int) string {
	return fmt.Sprintf("#crc32=%08x count=%d\n", sum, count)
}
