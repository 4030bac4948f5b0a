package realpebble

import (
	"fmt"
	"path"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// Checkpointer is an engine that can make a checkpoint: a directory of
// hard links to every file of the current version, made while the
// engine's file deletions are held off (Pebble's DB.Checkpoint,
// checkpoint.go). It is what Pebble v1.1.5 offers instead of a public
// disable-deletions counter (model.DeletionHolder): the counter is taken
// and released inside the one call, around the links.
type Checkpointer interface {
	model.Engine
	// Checkpoint makes dir (which must not exist) a checkpoint.
	Checkpoint(dir string) error
	// RemoveCheckpoint removes dir and everything in it.
	RemoveCheckpoint(dir string) error
}

var _ Checkpointer = (*Engine)(nil)

// Checkpoint implements Checkpointer: DB.Checkpoint, which disables file
// deletions (disableFileDeletions, which waits for queued deletions),
// links every table of the current version and copies the MANIFEST and
// OPTIONS files (no WAL here: DisableWAL), then re-enables deletions.
// It is one step.
func (e *Engine) Checkpoint(dir string) error {
	if err := e.db.Checkpoint(dir); err != nil {
		return fmt.Errorf("realpebble: checkpoint into %s: %w", dir, err)
	}
	return nil
}

// RemoveCheckpoint implements Checkpointer: vfs.FS.RemoveAll.
func (e *Engine) RemoveCheckpoint(dir string) error {
	if err := e.fs.RemoveAll(dir); err != nil {
		return fmt.Errorf("realpebble: remove checkpoint %s: %w", dir, err)
	}
	return nil
}

// CheckpointDesign is the checkpoint design as it can be written against
// real Pebble v1.1.5: model/designs' checkpoint disables deletions, links
// the listed files one by one and re-enables deletions; Pebble exports no
// such counter, only DB.Checkpoint, which does all three in one call.
// So, in one step: take the engine snapshot, list the region's files and
// checkpoint the whole current version into a directory of the build's
// own; then read each listed file through its link there, after the rate
// limiter (Pebble may delete the originals meanwhile: the links keep the
// data); then remove the directory, on every way out. It links every file
// of the database, not only the region's, and copies the MANIFEST. It
// makes one attempt: an error fails the build (the shared retry policy
// of model/designs is not exported). It needs an engine that is a
// Checkpointer, which model.Needs cannot say: on another engine it
// returns an error at its first step.
func CheckpointDesign() model.Design {
	return model.Design{
		Name:    "pebble-checkpoint",
		Summary: "DB.Checkpoint of the current version into the build's directory in the listing's step, then the listed files read through their links; one attempt, errors fail the build; needs a realpebble.Checkpointer",
		Ops:     []model.Info{{Name: "list", Summary: "the region's files listed"}, {Name: "checkpoint", Summary: "the current version checkpointed, or the checkpoint removed"}, {Name: "open", Summary: "a link opened"}},
		New:     func(model.DesignConfig) model.Collector { return checkpointer{} },
	}
}

type checkpointer struct{}

// Collect implements model.Collector.
func (checkpointer) Collect(b model.Build) (model.Collected, error) {
	e, ok := b.Engine().(Checkpointer)
	if !ok {
		return model.Collected{}, fmt.Errorf("design pebble-checkpoint needs an engine with a checkpoint (realpebble.Checkpointer); %T is not one", b.Engine())
	}
	b.SetAttempts(b.Attempts() + 1)
	id, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(id)
	_, files := b.List()
	dir := path.Join(b.ScratchDir(), fmt.Sprintf("ckpt-%s-%d", b.Actor().Name(), id))
	if err := e.Checkpoint(dir); err != nil {
		b.Record(sim.ClassAction, "checkpoint", dir, err.Error())
		return model.Collected{}, err
	}
	b.Record(sim.ClassAction, "checkpoint", fmt.Sprintf("current version into %s (%d listed files)", dir, len(files)), "ok")
	defer func() {
		err := e.RemoveCheckpoint(dir)
		b.Record(sim.ClassAction, "checkpoint", "removed "+dir, result(err))
	}()
	// Real generation does other work between listing and opening.
	b.Actor().Yield()
	return b.Read(func(f *model.FileMeta) ([]model.Record, error) {
		b.Throttle(f.SizeBytes)
		lf := *f
		lf.Path = path.Join(dir, f.Name())
		h, err := b.FS().Open(lf.Path)
		b.Record(sim.ClassAction, "open", lf.Path, result(err))
		if err != nil {
			return nil, fmt.Errorf("checkpoint link of %s: %w", f.Name(), err)
		}
		return e.ReadFile(h, &lf, 1)
	}, files, seq)
}
