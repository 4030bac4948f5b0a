package designs

import (
	"fmt"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// Naive is the design in the report: list the region's SST files from the
// current version, pin nothing, open them later; an open error panics
// (Rust's unwrap on the io::Error), which is what crashed TiKV.
func Naive() model.Design {
	return model.Design{
		Name:      "naive",
		Summary:   "lists the region's SSTs from the current version, pins nothing, opens later; an open error panics",
		Footprint: &model.Footprint{},
		Ops:       []model.Info{{Name: "list", Summary: "the region's files listed"}, {Name: "open", Summary: "a listed file opened"}},
		New:       func(model.DesignConfig) model.Collector { return naive{} },
	}
}

type naive struct{}

// Collect implements model.Collector.
func (naive) Collect(b model.Build) (model.Collected, error) {
	e := b.Engine()
	b.SetAttempts(b.Attempts() + 1)
	snapID, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(snapID)
	_, files := b.List()
	// Real generation does other work between listing and opening.
	b.Actor().Yield()
	return b.Read(func(f *model.FileMeta) ([]model.Record, error) {
		b.Throttle(f.SizeBytes)
		h, err := b.FS().Open(f.Path)
		b.Record(sim.ClassAction, "open", f.Path, result(err))
		if err == nil {
			var recs []model.Record
			if recs, err = e.ReadFile(h, f, 1); err == nil {
				return recs, nil
			}
		}
		panic(unwrapPanic(err))
	}, files, seq)
}

// unwrapPanic is the panic of a design that unwraps an open or read error
// as TiKV's code did: Rust's message for Result::unwrap on the io::Error.
func unwrapPanic(err error) string {
	return fmt.Sprintf("called `Result::unwrap()` on an `Err` value: %q [%v]", model.RustOpenError(err), err)
}
