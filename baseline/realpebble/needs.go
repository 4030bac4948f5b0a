package realpebble

import (
	"strings"

	"github.com/snapsim/snapsim/model"
)

// RefusedError is Check's refusal of a design that needs what Pebble
// v1.1.5 lacks. Its message is model.CheckNeeds' ("design lease needs
// file leases (model.Leaser), which engine pebble v1.1.5 does not have")
// followed by why Pebble lacks each missing capability.
type RefusedError struct {
	// Design is the refused design's name, Missing what it lacks here.
	Design  string
	Missing model.Needs
	msg     string
}

// Error returns the refusal: the design, what it lacks, and why.
func (e *RefusedError) Error() string { return e.msg }

// whyMissing says, per capability, why Pebble v1.1.5 (or a real
// filesystem) does not have it, citing the module's source.
var whyMissing = []struct {
	n   model.Needs
	why string
}{
	{model.NeedLeases, "Pebble v1.1.5 has no file leases: the only public way to keep an obsolete file is an open iterator, which references its read state and version until Close with no expiry (db.go newIter, read_state.go); nothing lets a file outlive a deadline and then go"},
	{model.NeedDeletionHold, "Pebble v1.1.5's disable-deletions counter is unexported (disableFileDeletions and enableFileDeletions in compaction.go, the counter d.mu.disableFileDeletions); only DB.Checkpoint uses it, around its own links (checkpoint.go)"},
	{model.NeedCheckedOpen, "a check and an open in one step exist only on the kernel's vfsmem (OpenChecked); on a real filesystem Pebble's cleaner goroutine (cleaner.go) can delete between the two"},
}

// Check reports, before a run, whether design d can run over real Pebble
// through e and fs: nil, or a *RefusedError naming the design, every
// capability it needs that Pebble v1.1.5 lacks, and why. The adapter
// has version references (model.Pinner: an open iterator); it has no
// leases (model.Leaser), no disable-deletions counter
// (model.DeletionHolder) and no checked open (model.CheckedOpener).
func Check(d model.Design, e *Engine, fs *FS) error {
	err := model.CheckNeeds(d, EngineName, e, fs)
	if err == nil {
		return nil
	}
	missing := d.Needs.Missing(e, fs)
	var why []string
	for _, w := range whyMissing {
		if missing&w.n != 0 {
			why = append(why, w.why)
		}
	}
	return &RefusedError{Design: d.Name, Missing: missing, msg: "realpebble: " + err.Error() + ": " + strings.Join(why, "; ")}
}
