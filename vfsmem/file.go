package vfsmem

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/snapsim/snapsim/sim"
)

// ErrStaleHandle is returned by every operation on a handle opened before a
// crash (trap 3: MemFS would let it alias the reset node and panic).
var ErrStaleHandle = errors.New("file handle invalidated by crash")

// file wraps a MemFS handle: every call is a scheduling point, faults are
// injected, space is accounted, and the MemFS panics are turned into errors.
type file struct {
	fs     *FS
	f      vfs.File
	path   string
	ino    *inode // nil for directories
	gen    uint64
	closed bool
	wpos   int64
	// scratch receives a copy of each Write's data (trap 7: MemFS may
	// scramble the buffer it is given).
	scratch []byte
}

var _ vfs.File = (*file)(nil)

func (fs *FS) newFile(f vfs.File, p string, ino *inode, forWrite bool) *file {
	if ino != nil {
		fs.sp.opened(ino)
	}
	return &file{fs: fs, f: f, path: p, ino: ino, gen: fs.generation}
}

// SchedulerOf returns the scheduler of the filesystem f was opened on, or
// nil when f is not a handle of this package (code that only holds a
// handle can then declare its footprint: sim.Actor.Declare).
func SchedulerOf(f vfs.File) *sim.Scheduler {
	if h, ok := f.(*file); ok {
		return h.fs.s
	}
	return nil
}

// touch records an access to the handle's file: its contents, or for a
// directory handle its entries.
func (h *file) touch(write bool) {
	if h.ino != nil {
		h.fs.touchFile(h.ino, write)
	} else {
		h.fs.touchPath(h.path, write)
	}
}

// usable reports why the handle cannot be used, if it cannot (trap 9 and 3).
func (h *file) usable(op string) error {
	if h.closed {
		return &os.PathError{Op: op, Path: h.path, Err: os.ErrClosed}
	}
	if h.gen != h.fs.generation {
		return &os.PathError{Op: op, Path: h.path, Err: ErrStaleHandle}
	}
	return nil
}

func kib(n int) sim.Micros { return sim.Micros((n + 1023) / 1024) }

// Close implements vfs.File. A second Close returns os.ErrClosed instead of
// panicking (trap 9).
func (h *file) Close() error {
	h.fs.enter("close", h.path)
	h.touch(false)
	if h.ino != nil {
		h.fs.touchSpace() // an unlinked file's bytes are freed
	}
	if h.closed {
		err := &os.PathError{Op: "close", Path: h.path, Err: os.ErrClosed}
		h.fs.finish("close", h.path, 0, err)
		return err
	}
	h.closed = true
	stale := h.gen != h.fs.generation
	err := h.f.Close()
	if h.ino != nil && !stale {
		h.fs.sp.closed(h.ino)
	}
	h.fs.finish("close", h.path, h.fs.opts.Costs.Close, err)
	return err
}

// Read implements vfs.File.
func (h *file) Read(p []byte) (int, error) {
	h.fs.enter("read", h.path)
	h.touch(false)
	n, err := h.read(p, -1)
	h.fs.finish("read", h.path, h.fs.opts.Costs.ReadBase+h.fs.opts.Costs.ReadPerKiB*kib(n), err)
	return n, err
}

// ReadAt implements vfs.File.
func (h *file) ReadAt(p []byte, off int64) (int, error) {
	h.fs.enter("read", h.path)
	h.touch(false)
	n, err := h.read(p, off)
	h.fs.finish("read", h.path, h.fs.opts.Costs.ReadBase+h.fs.opts.Costs.ReadPerKiB*kib(n), err)
	return n, err
}

func (h *file) read(p []byte, off int64) (int, error) {
	if err := h.usable("read"); err != nil {
		return 0, err
	}
	if h.fs.fault(h.fs.opts.Faults.ReadEIOPermille, h.path) {
		h.fs.stats.EIO++
		return 0, eio("read", h.path)
	}
	if off < 0 {
		return h.f.Read(p)
	}
	return h.f.ReadAt(p, off)
}

// Write implements vfs.File. The caller's buffer is never handed to MemFS.
func (h *file) Write(p []byte) (int, error) {
	h.fs.enter("write", h.path)
	h.touch(true)
	h.fs.touchSpace()
	n, err := h.write(p, h.wpos, false)
	if err == nil {
		h.wpos += int64(n)
	}
	h.fs.finish("write", h.path, h.fs.opts.Costs.WriteBase+h.fs.opts.Costs.WritePerKiB*kib(n), err)
	return n, err
}

// WriteAt implements vfs.File.
func (h *file) WriteAt(p []byte, off int64) (int, error) {
	h.fs.enter("write", h.path)
	h.touch(true)
	h.fs.touchSpace()
	n, err := h.write(p, off, true)
	h.fs.finish("write", h.path, h.fs.opts.Costs.WriteBase+h.fs.opts.Costs.WritePerKiB*kib(n), err)
	return n, err
}

func (h *file) write(p []byte, off int64, at bool) (int, error) {
	if err := h.usable("write"); err != nil {
		return 0, err
	}
	if h.ino == nil {
		return 0, &os.PathError{Op: "write", Path: h.path, Err: syscall.EISDIR}
	}
	if h.fs.fault(h.fs.opts.Faults.WriteEIOPermille, h.path) {
		h.fs.stats.EIO++
		return 0, eio("write", h.path)
	}
	end := off + int64(len(p))
	if q := h.fs.opts.QuotaBytes; q > 0 && end > h.ino.size && h.fs.sp.used+(end-h.ino.size) > q {
		h.fs.stats.ENOSPC++
		return 0, &os.PathError{Op: "write", Path: h.path, Err: syscall.ENOSPC}
	}
	h.scratch = append(h.scratch[:0], p...)
	var n int
	var err error
	if at {
		n, err = h.f.WriteAt(h.scratch, off)
	} else {
		n, err = h.f.Write(h.scratch)
	}
	if n > 0 {
		h.fs.sp.grow(h.ino, off+int64(n))
		h.ino.modTime = int64(h.fs.s.Timestamp())
	}
	return n, err
}

// Preallocate implements vfs.File (a hint: not a scheduling point).
func (h *file) Preallocate(offset, length int64) error { return nil }

// Prefetch implements vfs.File (a hint: not a scheduling point).
func (h *file) Prefetch(offset, length int64) error { return nil }

// Fd implements vfs.File.
func (h *file) Fd() uintptr { return vfs.InvalidFd }

// Stat implements vfs.File.
func (h *file) Stat() (os.FileInfo, error) {
	h.fs.enter("fstat", h.path)
	h.touch(false)
	if err := h.usable("stat"); err != nil {
		h.fs.finish("fstat", h.path, 0, err)
		return nil, err
	}
	fi, err := h.f.Stat()
	h.fs.finish("fstat", h.path, h.fs.opts.Costs.Stat, err)
	if err != nil {
		return nil, err
	}
	return h.fs.info(fi, h.ino), nil
}

// Sync implements vfs.File: it makes the data (or a directory's entries)
// survive a crash.
func (h *file) Sync() error {
	h.fs.enter("sync", h.path)
	h.touch(true) // what a crash keeps
	err := h.usable("sync")
	if err == nil {
		err = h.f.Sync()
	}
	h.fs.finish("sync", h.path, h.fs.opts.Costs.Sync, err)
	return err
}

// SyncData implements vfs.File.
func (h *file) SyncData() error { return h.Sync() }

// SyncTo implements vfs.File. Like MemFS it promises nothing durable
// (fullSync is false); use Sync for durability.
func (h *file) SyncTo(length int64) (bool, error) {
	if err := h.usable("sync-to"); err != nil {
		return false, err
	}
	return false, nil
}

// info wraps MemFS FileInfo so ModTime is virtual (trap 6).
func (fs *FS) info(fi os.FileInfo, ino *inode) os.FileInfo {
	var mod int64
	if ino != nil {
		mod = ino.modTime
	}
	return fileInfo{FileInfo: fi, mod: mod}
}

type fileInfo struct {
	os.FileInfo
	mod int64 // virtual microseconds
}

// ModTime returns the virtual time of the last write, as an offset from the
// Unix epoch.
func (i fileInfo) ModTime() time.Time {
	return time.Unix(0, 0).UTC().Add(time.Duration(i.mod) * time.Microsecond)
}

// String helps debugging.
func (i fileInfo) String() string { return fmt.Sprintf("%s (%d bytes)", i.Name(), i.Size()) }
