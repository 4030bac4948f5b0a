package realpebble

import (
	"fmt"

	"github.com/cockroachdb/pebble/vfs"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// FS is the model.FS a design sees of the database's vfs.FS (the
// vfs.NewMem() Pebble runs on). Every call is a scheduling point, taken
// before the operation, as on vfsmem.FS: another actor (the workload) may
// run between a design's decision to open and the open. Unlike vfsmem it
// keeps no ledger and has no oracle: an open of a deleted file is what
// the real filesystem says it is, ENOENT, and FS logs every such open
// (ENOENTs). It is not a model.CheckedOpener: nothing makes a check and an
// open on a real filesystem one step.
type FS struct {
	fs    vfs.FS
	sched *sim.Scheduler
	// enoent logs the opens that failed with ENOENT.
	enoent []OpenFailure
}

var _ model.FS = (*FS)(nil)

// OpenFailure is one open that failed with ENOENT: who, what, when.
type OpenFailure struct {
	Actor string
	Path  string
	Time  sim.Micros
	Err   string
}

// String renders the failure: "gen-2 at 1.2ms: open /db/000012.sst: file does not exist".
func (o OpenFailure) String() string {
	return fmt.Sprintf("%s at %s: %s", o.Actor, o.Time, o.Err)
}

// NewFS returns the design's view of fs. Its calls yield the kernel's
// current actor of s (none outside a run; s may be nil in a test that
// calls it outside any kernel).
func NewFS(fs vfs.FS, s *sim.Scheduler) *FS { return &FS{fs: fs, sched: s} }

// ENOENTs returns the opens that failed with ENOENT, in order.
func (f *FS) ENOENTs() []OpenFailure { return append([]OpenFailure(nil), f.enoent...) }

// point is the scheduling point before every call.
func (f *FS) point() {
	if f.sched == nil {
		return
	}
	if a := f.sched.Current(); a != nil {
		a.Yield()
	}
}

// Open implements model.FS: vfs.FS.Open.
func (f *FS) Open(p string) (model.Handle, error) {
	f.point()
	h, err := f.fs.Open(p)
	if err != nil {
		if isNotExist(err) {
			o := OpenFailure{Path: p, Err: err.Error()}
			if f.sched != nil {
				o.Time = f.sched.Now()
				if a := f.sched.Current(); a != nil {
					o.Actor = a.Name()
				}
			}
			f.enoent = append(f.enoent, o)
		}
		return nil, err
	}
	return h, nil
}

// Link implements model.FS: vfs.FS.Link (memfs has hard links).
func (f *FS) Link(oldname, newname string) error {
	f.point()
	return f.fs.Link(oldname, newname)
}

// Remove implements model.FS: vfs.FS.Remove; why is not kept (there is
// no ledger).
func (f *FS) Remove(p, _ string) error {
	f.point()
	return f.fs.Remove(p)
}
