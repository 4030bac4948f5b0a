package tikv

import (
	"fmt"

	"github.com/snapsim/snapsim/sim"
)

// naive is the design in the report: list the region's SST files from the
// current version, pin nothing, open them later; an open error panics
// (Rust's unwrap on the io::Error), which is what crashed TiKV.
type naive struct{}

// Collect implements Collector.
func (naive) Collect(g *Gen) (Collected, error) {
	e := g.Node.Engine
	g.Attempts++
	snapID, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(snapID)
	_, files := g.list()
	// Real generation does other work between listing and opening.
	g.Actor.Yield()
	return g.read(func(f *FileMeta) ([]Record, error) {
		g.throttle(f.SizeBytes)
		h, err := g.Node.FS.Open(f.Path)
		g.Node.s.Record(sim.ClassAction, "open", f.Path, result(err))
		if err == nil {
			var recs []Record
			if recs, err = readSST(h, f); err == nil {
				return recs, nil
			}
		}
		panic(fmt.Sprintf("called `Result::unwrap()` on an `Err` value: %q [%v]", rustIOError(err), err))
	}, files, seq)
}
