package kit

import (
	"errors"
	"fmt"
	"os"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// Ops a Deleter records, for the Ops of the actor that runs it.
const (
	// OpDelete: a file removed (an action).
	OpDelete = "delete"
	// OpKeep: a file kept because a protection the deleter honours holds
	// it (an info; the fix shows as an event, not as an absence).
	OpKeep = "keep"
)

// DeleterOps are the ops a Deleter records.
var DeleterOps = []model.Info{
	{Name: OpDelete, Summary: "a file removed"},
	{Name: OpKeep, Summary: "a file kept: a protection the deleter honours holds it"},
}

// Deleter removes files honouring a set of protections: the compacted-files
// discharger, a snapshot purger, a commit-point deleter. Its check of the
// protections and the removal are one step (vfsmem's RemoveChecked), so
// no protection can be taken between them.
//
// A system whose buggy variant deletes without honouring a protection that
// exists gives the deleter that protection as ignored: the file is removed
// all the same, and the deleter raises gc-deleted-pinned-file naming the
// protection and its holder — the deletion itself is the violation,
// whether or not a reader then trips over it.
type Deleter struct {
	w       *World
	name    string
	honours []Protection
	ignores []Protection
}

// NewDeleter returns a deleter named name (for the ledger's reasons)
// honouring honours and ignoring ignores.
func NewDeleter(w *World, name string, honours, ignores []Protection) *Deleter {
	return &Deleter{w: w, name: name, honours: honours, ignores: ignores}
}

// Delete removes path, on the running actor, unless a protection the
// deleter honours holds it (an error wrapping ErrProtected; the deleter
// records OpKeep). why is the reason the ledger keeps and the oracle
// quotes to a reader that opens the path later. A path that is already
// gone is no error (deleted false).
func (d *Deleter) Delete(path, why string) (deleted bool, err error) {
	return d.remove(path, why, func(check func() error) error {
		return d.w.fs.RemoveChecked(path, d.name+": "+why, check)
	})
}

// Archive is Delete by a rename into dir (HBase's archiver moves compacted
// HFiles to the archive directory; Kafka renames a deleted log directory):
// to a reader of the old path the file is gone all the same, and the
// oracle names the rename.
func (d *Deleter) Archive(path, dir, why string) (archived bool, err error) {
	to := dir + "/" + baseName(path)
	return d.remove(path, why+" (archived to "+to+")", func(check func() error) error {
		return d.w.fs.RenameChecked(path, to, check)
	})
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

// remove runs do (a removal or a rename of path) with the deleter's check.
func (d *Deleter) remove(path, why string, do func(check func() error) error) (bool, error) {
	var ignored Protection
	var ignoredHolder string
	check := func() error {
		if p, holder, ok := Protected(d.honours, path); ok {
			return &ProtectedError{Path: path, Protection: p.Name(), Holder: holder}
		}
		ignored, ignoredHolder, _ = Protected(d.ignores, path)
		return nil
	}
	err := do(check)
	var pe *ProtectedError
	switch {
	case errors.As(err, &pe):
		d.w.Record(sim.ClassInfo, OpKeep, path, pe.Error())
		return false, err
	case errors.Is(err, os.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%s: delete %s: %w", d.name, path, err)
	}
	d.w.Record(sim.ClassAction, OpDelete, path, why)
	if ignored != nil {
		d.w.Observe(sim.KindGCDeletedPinnedFile, fmt.Sprintf("%s deleted by %s while %s protected it (%s)", path, d.name, ignored.Name(), ignoredHolder))
	}
	return true, nil
}

// ProtectedError is a deletion a protection refused.
type ProtectedError struct {
	Path, Protection, Holder string
}

// Error says which file was kept, by which protection and holder.
func (e *ProtectedError) Error() string {
	return fmt.Sprintf("%s kept: %s (%s)", e.Path, e.Protection, e.Holder)
}

// Unwrap makes the error match ErrProtected.
func (e *ProtectedError) Unwrap() error { return ErrProtected }
