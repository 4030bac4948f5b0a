package vfsmem

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"syscall"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/snapsim/snapsim/sim"
)

// FS is the observable filesystem. It implements vfs.FS; every method is a
// scheduling point of the kernel when called from an actor.
type FS struct {
	// mem is the wrapped filesystem; memfs is the same MemFS when it is
	// one (the default), nil over an OS filesystem (Options.NewInner).
	mem   vfs.FS
	memfs *vfs.MemFS
	s     *sim.Scheduler
	opts  Options
	led   ledger
	sp    space
	// generation is bumped by Crash; handles of an older generation are
	// invalid (trap 3).
	generation uint64
	// dirs is the set of directories created through MkdirAll, kept for
	// crash recovery walks.
	dirs map[string]bool
	// counts of injected faults, for reports.
	stats FaultStats
	// Objects of the explorer's dependency relation (footprint.go in sim):
	// the space of this filesystem's paths (a directory's path object
	// stands for its entries), the space of its files' contents by the
	// path each file was created at, the fault rates, the fault counters,
	// the set of paths the ledger knows, and the accounted space.
	ns, inodes, faultsObj, statsObj, keysObj, spaceObj sim.Object
}

var _ vfs.FS = (*FS)(nil)

// FaultStats counts the faults injected so far.
type FaultStats struct {
	EIO, ENOSPC, Spikes, Stalls, Crashes int
}

// New returns an empty FS whose operations are scheduled by s.
func New(s *sim.Scheduler, opts Options) *FS {
	fs := &FS{s: s, opts: opts, led: newLedger(), sp: newSpace(),
		dirs: map[string]bool{"/": true}}
	fs.ns = s.NewSpace("vfs")
	fs.inodes = fs.ns.Child("\x00inodes")
	fs.faultsObj = fs.ns.Child("\x00faults")
	fs.statsObj = fs.ns.Child("\x00fault-stats")
	fs.keysObj = fs.ns.Child("\x00ledger-paths")
	fs.spaceObj = fs.ns.Child("\x00space")
	if opts.NewInner != nil {
		fs.mem = opts.NewInner()
	} else {
		fs.memfs = vfs.NewStrictMem()
		fs.mem = fs.memfs
	}
	// Trap 5: an unsynced root directory makes a reset empty the whole FS.
	fs.syncDir("/")
	return fs
}

// Mem exposes the underlying MemFS for white-box tests.
// It is nil over an OS filesystem (Options.NewInner).
func (fs *FS) Mem() *vfs.MemFS { return fs.memfs }

// SetFaults replaces the fault rates from now on (the liveness phase turns
// faults off).
func (fs *FS) SetFaults(f Faults) {
	fs.s.Touch(fs.faultsObj, true)
	fs.opts.Faults = f
}

// Faults returns the counts of injected faults.
func (fs *FS) Faults() FaultStats {
	fs.s.Touch(fs.statsObj, false)
	return fs.stats
}

// clean normalises a path to the ledger's form: absolute and cleaned. A
// path that is already absolute is cleaned as is: path.Clean("/"+p) equals
// path.Clean(p) then (the doubled slash collapses), and path.Clean returns
// an already-clean path without allocating, where the concatenation would
// allocate on every operation.
func clean(p string) string {
	if len(p) > 0 && p[0] == '/' {
		return path.Clean(p)
	}
	return path.Clean("/" + p)
}

// Footprints (under an exhaustive exploration; free otherwise). A path's
// object stands for which file the name refers to (and, for a directory,
// for its list of entries); a file's contents are the object of the path
// it was created at, which a rename does not change, so a handle and a
// later open of the new name touch the same contents. The accounted space
// is observable only through the quota (and GetDiskUsage): without a quota
// opens, closes and removals do not touch it.

// touchPath records an access to the name p.
func (fs *FS) touchPath(p string, write bool) {
	if fs.s.Recording() {
		fs.s.Touch(fs.ns.Child(p), write)
	}
}

// touchDir records a change (or a read) of the entries of p's directory.
func (fs *FS) touchDir(p string, write bool) {
	if fs.s.Recording() {
		fs.s.Touch(fs.ns.Child(path.Dir(p)), write)
	}
}

// touchFile records an access to the contents of ino.
func (fs *FS) touchFile(ino *inode, write bool) {
	if ino != nil && fs.s.Recording() {
		fs.s.Touch(fs.inodes.Child(ino.born), write)
	}
}

// touchSpace records a change of the accounted space, which only the quota
// makes observable.
func (fs *FS) touchSpace() {
	if fs.opts.QuotaBytes > 0 {
		fs.s.Touch(fs.spaceObj, true)
	}
}

// enter is the scheduling point before an operation: the actor yields (or,
// if a stall fires, sleeps) and the operation runs when it is resumed.
func (fs *FS) enter(op, p string) {
	a := fs.s.Current()
	if a == nil {
		return
	}
	f := &fs.opts.Faults
	if fs.fault(f.StallPermille, p) {
		fs.stats.Stalls++
		fs.s.Record(sim.ClassIO, "stall", op+" "+p, "stalled "+f.StallMicros.String())
		a.Sleep(f.StallMicros)
		return
	}
	a.Yield()
}

// finish charges the operation's cost (plus a spike, if one fires) and
// records it in the trace.
func (fs *FS) finish(op, p string, cost sim.Micros, err error) {
	if fs.fault(fs.opts.Faults.SpikePermille, p) {
		fs.stats.Spikes++
		cost += fs.opts.Faults.SpikeMicros
	}
	fs.s.Advance(cost)
	result := "ok"
	if err != nil {
		result = err.Error()
	}
	fs.s.Record(sim.ClassIO, op, p, result)
}

// fault draws a fault with the given rate (parts per thousand) for an
// operation on path p. Set-up code (outside any actor) gets no faults and
// draws no choices: only the simulated system is subject to interference,
// and a run's choice stream starts with the run. /proc is a kernel
// pseudo-filesystem, not the disk: it gets no disk faults either. The fault
// fires on the highest draws, so a draw of 0 — what a shrinker moves toward
// — means "no fault".
func (fs *FS) fault(permille int, p string) bool {
	if fs.s.Current() == nil || strings.HasPrefix(p, "/proc/") {
		return false
	}
	fs.s.Touch(fs.faultsObj, false) // the rate SetFaults may change
	if permille <= 0 {
		return false
	}
	if fs.s.Intn(1000) >= 1000-permille {
		fs.s.TouchAdd(fs.statsObj)
		return true
	}
	return false
}

func eio(op, p string) error {
	return &os.PathError{Op: op, Path: p, Err: syscall.EIO}
}

// life appends to the ledger for the running actor.
func (fs *FS) life(p string, op LifeOp, other, why string) {
	name := "setup"
	if a := fs.s.Current(); a != nil {
		name = a.Name()
	}
	if len(fs.led.paths[p]) == 0 {
		fs.s.Touch(fs.keysObj, true) // a path the ledger did not know
	}
	fs.led.add(p, LifeEvent{Step: fs.s.Step(), Time: fs.s.Timestamp(), Actor: name, Op: op, Other: other, Why: why})
}

// oracle raises open-deleted-file when a snapshot-path actor's access to p
// failed because p had been deleted.
func (fs *FS) oracle(op, p string, err error) {
	a := fs.s.Current()
	if err == nil || a == nil || !a.Watched() || !errors.Is(err, os.ErrNotExist) {
		return
	}
	if ev, ok := fs.led.removed(p); ok {
		fs.s.Observe(sim.KindOpenDeletedFile, fmt.Sprintf("%s %s: %s", op, p, ev))
	}
}

// oracleRemoved is oracle for renames: it fires only when another actor
// (or the same one) explicitly removed or renamed the path away, not when a
// crash lost it (a writer whose own unsynced file vanished in a crash is a
// durability question, reported where the data is read).
func (fs *FS) oracleRemoved(op, p string, err error) {
	if ev, ok := fs.led.removed(p); ok && ev.Op != LifeLostCrash {
		fs.oracle(op, p, err)
	}
}

// History returns the lifecycle of p (nil if the ledger never saw it).
func (fs *FS) History(p string) []LifeEvent {
	p = clean(p)
	fs.touchPath(p, false)
	return fs.led.paths[p]
}

// Deleted reports the event that deleted p, if p's last event was a
// deletion.
func (fs *FS) Deleted(p string) (LifeEvent, bool) {
	p = clean(p)
	fs.touchPath(p, false)
	return fs.led.removed(p)
}

// Paths returns every path the ledger has seen, sorted.
func (fs *FS) Paths() []string {
	fs.s.Touch(fs.keysObj, false)
	return fs.led.sortedPaths()
}

// Usage returns the space breakdown; classify says which class each
// existing path is in (nil: everything counts as garbage).
func (fs *FS) Usage(classify func(path string) SpaceClass) Usage {
	fs.s.TouchAll() // every path's size and class
	return fs.sp.usage(classify)
}

// Create implements vfs.FS.
func (fs *FS) Create(name string) (vfs.File, error) {
	p := clean(name)
	fs.enter("create", p)
	fs.touchPath(p, true)
	fs.touchDir(p, true)
	f, err := fs.mem.Create(p)
	if err == nil {
		fs.touchFile(fs.sp.byPath[p], true) // truncated, if it existed
		ino := fs.sp.create(p)
		fs.touchFile(ino, true)
		fs.touchSpace()
		ino.modTime = int64(fs.s.Timestamp())
		fs.life(p, LifeCreated, "", "")
		fs.finish("create", p, fs.opts.Costs.Create, nil)
		return fs.newFile(f, p, ino, true), nil
	}
	fs.finish("create", p, fs.opts.Costs.Create, err)
	return nil, err
}

// Link implements vfs.FS. Linking a deleted path counts as opening it.
func (fs *FS) Link(oldname, newname string) error {
	op, np := clean(oldname), clean(newname)
	detail := op + " -> " + np
	fs.enter("link", detail)
	fs.touchPath(op, false)
	fs.touchPath(np, true)
	fs.touchDir(np, true)
	err := fs.mem.Link(op, np)
	fs.finish("link", detail, fs.opts.Costs.Link, err)
	if err != nil {
		fs.oracle("link", op, err)
		return err
	}
	if ino, ok := fs.sp.byPath[op]; ok {
		fs.sp.link(np, ino)
	}
	fs.life(np, LifeLinked, op, "")
	return nil
}

// Open implements vfs.FS.
func (fs *FS) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	return fs.OpenChecked(name, nil, opts...)
}

// OpenChecked is Open with a check that runs in the same step as the open,
// after the scheduling point: a collector's lease re-validation and its open
// are then atomic with respect to every other actor (GC included). If check
// returns an error the file is not opened and the error is returned.
func (fs *FS) OpenChecked(name string, check func() error, opts ...vfs.OpenOption) (vfs.File, error) {
	p := clean(name)
	fs.enter("open", p)
	fs.touchPath(p, false)
	fs.touchFile(fs.sp.byPath[p], false)
	if check != nil {
		if err := check(); err != nil {
			fs.finish("open", p, 0, fmt.Errorf("pre-open check: %w", err))
			return nil, err
		}
	}
	if fs.fault(fs.opts.Faults.OpenEIOPermille, p) {
		fs.stats.EIO++
		err := eio("open", p)
		fs.finish("open", p, fs.opts.Costs.Open, err)
		return nil, err
	}
	f, err := fs.mem.Open(p, opts...)
	fs.finish("open", p, fs.opts.Costs.Open, err)
	if err != nil {
		fs.oracle("open", p, err)
		return nil, err
	}
	ino := fs.sp.byPath[p]
	return fs.newFile(f, p, ino, false), nil
}

// OpenExpectMissing is Open for a caller that handles a missing file by
// design (TiKV's get_total_snap_size ignores NotFound; a graceful stats
// reader skips a vanished procfs entry): the oracle does not raise
// open-deleted-file for it. The trace records the operation as "open?".
func (fs *FS) OpenExpectMissing(name string) (vfs.File, error) {
	p := clean(name)
	fs.enter("open?", p)
	fs.touchPath(p, false)
	fs.touchFile(fs.sp.byPath[p], false)
	if fs.fault(fs.opts.Faults.OpenEIOPermille, p) {
		fs.stats.EIO++
		err := eio("open", p)
		fs.finish("open?", p, fs.opts.Costs.Open, err)
		return nil, err
	}
	f, err := fs.mem.Open(p)
	fs.finish("open?", p, fs.opts.Costs.Open, err)
	if err != nil {
		return nil, err
	}
	return fs.newFile(f, p, fs.sp.byPath[p], false), nil
}

// OpenReadWrite implements vfs.FS (creating the file if it is missing).
func (fs *FS) OpenReadWrite(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	p := clean(name)
	fs.enter("open-rw", p)
	fs.touchPath(p, true)
	fs.touchDir(p, true)
	fs.touchFile(fs.sp.byPath[p], true)
	at := int64(fs.s.Timestamp()) // a creation happens before the cost is charged, as in Create
	_, existed := fs.sp.byPath[p]
	f, err := fs.mem.OpenReadWrite(p, opts...)
	fs.finish("open-rw", p, fs.opts.Costs.Open, err)
	if err != nil {
		return nil, err
	}
	ino := fs.sp.byPath[p]
	if !existed || ino == nil {
		ino = fs.sp.create(p)
		fs.touchFile(ino, true)
		fs.touchSpace()
		ino.modTime = at
		fs.life(p, LifeCreated, "", "open-rw")
	}
	return fs.newFile(f, p, ino, true), nil
}

// OpenDir implements vfs.FS.
func (fs *FS) OpenDir(name string) (vfs.File, error) {
	p := clean(name)
	fs.enter("open-dir", p)
	fs.touchPath(p, false)
	f, err := fs.mem.OpenDir(p)
	fs.finish("open-dir", p, fs.opts.Costs.Open, err)
	if err != nil {
		return nil, err
	}
	return fs.newFile(f, p, nil, false), nil
}

// Remove implements vfs.FS.
func (fs *FS) Remove(name string) error { return fs.RemoveBecause(name, "") }

// RemoveBecause is Remove with a reason kept in the ledger ("obsolete after
// compaction 3"), which the oracle quotes when someone opens the path later.
func (fs *FS) RemoveBecause(name, why string) error { return fs.RemoveChecked(name, why, nil) }

// RemoveChecked is RemoveBecause with a check that runs in the same step as
// the removal, after the scheduling point: a garbage collector's "is this
// still unused?" and its delete are then atomic with respect to every other
// actor. If check returns an error nothing is removed and the error is
// returned.
func (fs *FS) RemoveChecked(name, why string, check func() error) error {
	p := clean(name)
	fs.enter("remove", p)
	fs.touchPath(p, true)
	fs.touchDir(p, true)
	fs.touchSpace()
	if check != nil {
		if err := check(); err != nil {
			fs.finish("remove", p, 0, fmt.Errorf("pre-remove check: %w", err))
			return err
		}
	}
	err := fs.mem.Remove(p)
	if err == nil {
		fs.sp.unlink(p)
		fs.life(p, LifeRemoved, "", why)
	} else if errors.Is(err, os.ErrNotExist) {
		// MemFS returns a bare ErrNotExist here; give it the path.
		err = &os.PathError{Op: "remove", Path: p, Err: err}
	}
	fs.finish("remove", p, fs.opts.Costs.Remove, err)
	return err
}

// RemoveAll implements vfs.FS.
func (fs *FS) RemoveAll(name string) error {
	p := clean(name)
	fs.enter("remove-all", p)
	fs.s.TouchAll() // every path below p
	victims := fs.under(p)
	err := fs.mem.RemoveAll(p)
	if err == nil {
		for _, v := range victims {
			fs.sp.unlink(v)
			fs.life(v, LifeRemoved, "", "remove-all "+p)
		}
		//detguard:order-independent deletes every matching key; order cannot matter
		for d := range fs.dirs {
			if d == p || isUnder(d, p) {
				delete(fs.dirs, d)
			}
		}
	}
	fs.finish("remove-all", p, fs.opts.Costs.Remove, err)
	return err
}

// under returns the accounted files at or below p, sorted.
func (fs *FS) under(p string) []string {
	var out []string
	for _, q := range fs.led.sortedView() { // read only; no add below
		if _, live := fs.sp.byPath[q]; live && (q == p || isUnder(q, p)) {
			out = append(out, q)
		}
	}
	return out
}

func isUnder(q, dir string) bool {
	if dir == "/" {
		return q != "/"
	}
	return len(q) > len(dir) && q[:len(dir)] == dir && q[len(dir)] == '/'
}

// Rename implements vfs.FS. Trap 2: the destination's parent is checked
// before MemFS removes the source, so a missing parent cannot lose the file.
func (fs *FS) Rename(oldname, newname string) error { return fs.RenameChecked(oldname, newname, nil) }

// RenameChecked is Rename with a check that runs in the same step as the
// rename, after the scheduling point (as OpenChecked does for opens). If
// check returns an error nothing is renamed and the error is returned.
func (fs *FS) RenameChecked(oldname, newname string, check func() error) error {
	op, np := clean(oldname), clean(newname)
	detail := op + " -> " + np
	fs.enter("rename", detail)
	fs.touchPath(op, true)
	fs.touchPath(np, true)
	fs.touchDir(op, true)
	fs.touchDir(np, true)
	fs.touchFile(fs.sp.byPath[np], true) // replaced, if it existed
	fs.touchSpace()
	if check != nil {
		if err := check(); err != nil {
			fs.finish("rename", detail, 0, fmt.Errorf("pre-rename check: %w", err))
			return err
		}
	}
	err := fs.renameChecked(op, np)
	fs.finish("rename", detail, fs.opts.Costs.Rename, err)
	if err != nil {
		fs.oracleRemoved("rename", op, err)
	}
	return err
}

func (fs *FS) renameChecked(op, np string) error {
	if fi, err := fs.mem.Stat(path.Dir(np)); err != nil || !fi.IsDir() {
		return &os.LinkError{Op: "rename", Old: op, New: np, Err: os.ErrNotExist}
	}
	src, err := fs.mem.Stat(op)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: op, New: np, Err: os.ErrNotExist}
	}
	if op == np {
		return nil // POSIX: renaming a path to itself does nothing
	}
	if isUnder(np, op) {
		// MemFS would unlink op and then fail to find np's parent (trap 2).
		return &os.LinkError{Op: "rename", Old: op, New: np, Err: syscall.EINVAL}
	}
	var moved []string // the accounted files below a renamed directory
	if src.IsDir() {
		fs.s.TouchAll() // every path below op and np
		moved = fs.under(op)
	}
	if err := fs.mem.Rename(op, np); err != nil {
		return err
	}
	if ino, ok := fs.sp.byPath[op]; ok {
		fs.sp.link(np, ino)
		fs.sp.unlink(op)
	}
	fs.life(op, LifeRenamedTo, np, "")
	fs.life(np, LifeRenamedIn, op, "")
	for _, q := range moved {
		nq := np + q[len(op):]
		fs.sp.link(nq, fs.sp.byPath[q])
		fs.sp.unlink(q)
		fs.life(q, LifeRenamedTo, nq, "rename "+op)
		fs.life(nq, LifeRenamedIn, q, "rename "+op)
	}
	return nil
}

// ReuseForWrite implements vfs.FS: rename, then open for writing.
func (fs *FS) ReuseForWrite(oldname, newname string) (vfs.File, error) {
	if err := fs.Rename(oldname, newname); err != nil {
		return nil, err
	}
	return fs.OpenReadWrite(newname)
}

// MkdirAll implements vfs.FS. Trap 5: each directory it creates is made
// durable (it and its parent are synced), so a crash does not lose the tree;
// the model treats directory creation as durable set-up. Directories that
// already existed are not synced: that would make unsynced entries in them
// crash-proof. (Syncing the parent of a new directory does make the parent's
// other entries durable too; MemFS cannot sync one entry alone.)
func (fs *FS) MkdirAll(dir string, perm os.FileMode) error {
	p := clean(dir)
	fs.enter("mkdir", p)
	for d := p; ; d = path.Dir(d) {
		fs.touchPath(d, true) // created, or its entries grow
		if d == "/" {
			break
		}
	}
	// The directories to create, deepest first: up to the first one that
	// exists (its ancestors do too; a file in the way fails MkdirAll).
	var missingBuf [8]string
	missing := missingBuf[:0]
	for d := p; d != "/"; d = path.Dir(d) {
		if _, err := fs.mem.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
	}
	err := fs.mem.MkdirAll(p, perm)
	if err == nil {
		for _, d := range missing {
			fs.dirs[d] = true
			fs.syncDir(d)
			fs.syncDir(path.Dir(d))
		}
	}
	fs.finish("mkdir", p, fs.opts.Costs.Create, err)
	return err
}

// syncDir syncs a directory's entries directly on MemFS (no scheduling).
func (fs *FS) syncDir(p string) {
	d, err := fs.mem.OpenDir(p)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// Lock implements vfs.FS.
func (fs *FS) Lock(name string) (io.Closer, error) {
	p := clean(name)
	fs.enter("lock", p)
	fs.touchPath(p, true)
	fs.touchDir(p, true)
	c, err := fs.mem.Lock(p)
	fs.finish("lock", p, fs.opts.Costs.Create, err)
	if err == nil {
		fs.touchFile(fs.sp.byPath[p], true)
		ino := fs.sp.create(p)
		fs.touchFile(ino, true)
		fs.touchSpace()
		ino.modTime = int64(fs.s.Timestamp())
		fs.life(p, LifeCreated, "", "lock")
	}
	return c, err
}

// List implements vfs.FS. Trap 1: the names are sorted.
func (fs *FS) List(dir string) ([]string, error) {
	p := clean(dir)
	fs.enter("list", p)
	fs.touchPath(p, false)
	names, err := fs.mem.List(p)
	sort.Strings(names)
	fs.finish("list", p, fs.opts.Costs.List, err)
	return names, err
}

// Stat implements vfs.FS. Trap 6: ModTime is virtual.
func (fs *FS) Stat(name string) (os.FileInfo, error) {
	p := clean(name)
	fs.enter("stat", p)
	fs.touchPath(p, false)
	fs.touchFile(fs.sp.byPath[p], false)
	fi, err := fs.mem.Stat(p)
	fs.finish("stat", p, fs.opts.Costs.Stat, err)
	if err != nil {
		fs.oracle("stat", p, err)
		return nil, err
	}
	return fs.info(fi, fs.sp.byPath[p]), nil
}

// PathBase implements vfs.FS.
func (fs *FS) PathBase(p string) string { return path.Base(p) }

// PathJoin implements vfs.FS.
func (fs *FS) PathJoin(elem ...string) string { return path.Join(elem...) }

// PathDir implements vfs.FS.
func (fs *FS) PathDir(p string) string { return path.Dir(p) }

// GetDiskUsage implements vfs.FS from this package's accounting (trap 10).
func (fs *FS) GetDiskUsage(string) (vfs.DiskUsage, error) {
	fs.s.TouchAll() // the bytes every operation accounts
	used := uint64(max(fs.sp.used, 0))
	total := uint64(1) << 40
	if fs.opts.QuotaBytes > 0 {
		total = uint64(fs.opts.QuotaBytes)
	}
	avail := uint64(0)
	if total > used {
		avail = total - used
	}
	return vfs.DiskUsage{AvailBytes: avail, TotalBytes: total, UsedBytes: used}, nil
}

// Ops are the ops the filesystem records in the trace (sim.Event.Op of
// its ClassIO events), one per kind of call: what a scenario's "run ACTOR
// until OP" may wait for in any actor that calls the filesystem. "open?"
// is OpenExpectMissing, "stall" a stall before an operation.
var Ops = []string{"close", "crash", "create", "fstat", "link", "list", "lock", "mkdir", "open", "open-dir", "open-rw", "open?",
	"read", "remove", "remove-all", "rename", "stall", "stat", "sync", "tick", "write"}
