package designs

import (
	"fmt"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// Pin protects the files the way a RocksDB/Pebble iterator does: it takes
// a reference on the version it lists, in the same step as the listing,
// and holds it until the build is over (on every path out of an attempt).
// A referenced version's files never become obsolete, so the safe GC
// cannot delete them; the price is that a stalled or dead generator holds
// their space for ever (no expiry).
//
// An open or read error cannot come from the safe GC; it comes from an
// injected I/O fault or from the deliberately unsafe eager GC (which
// deletes referenced files, and reports gc-deleted-pinned-file). Choice:
// errors go to the shared retryPolicy, as for every retrying design (a
// transient EIO is retried in place; anything else discards the attempt,
// which is retried from a fresh version, as TiKV's snapshot builds are
// retried several times before raft gives up), rather than failing the
// snapshot at once. An eager GC is still caught, because the oracle and
// GC's own pin check report it whatever the collector does next. After
// MaxAttempts the build fails with model.ErrAttemptsSpent; it never
// panics.
func Pin() model.Design {
	return model.Design{
		Name:      "pin",
		Summary:   "holds a reference on the listed version for the whole build (RocksDB/Pebble iterator style), no expiry; errors (only possible with eager GC or I/O faults) go to the shared retry policy; never panics",
		Needs:     model.NeedPins,
		Footprint: &model.Footprint{Versions: true},
		Ops:       []model.Info{{Name: "list", Summary: "the region's files listed"}, {Name: "pin", Summary: "the listed version referenced"}, {Name: "unpin", Summary: "the reference dropped"}, {Name: "open", Summary: "a listed file opened"}, {Name: "retry", Summary: "an attempt aborted"}},
		New:       func(c model.DesignConfig) model.Collector { return pin{cfg: c} },
	}
}

type pin struct{ cfg model.DesignConfig }

// Collect implements model.Collector.
func (c pin) Collect(b model.Build) (model.Collected, error) {
	p := policyFor(c.cfg)
	return p.run(b, func(int) (model.Collected, error) { return c.attempt(b, p) })
}

func (c pin) attempt(b model.Build, p retryPolicy) (model.Collected, error) {
	e := b.Engine().(model.Pinner)
	snapID, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(snapID)
	v, files := b.List()
	e.Ref(v) // same step as the listing: no file of v can be deleted in between
	defer func() {
		e.Unref(v)
		b.Record(sim.ClassAction, "unpin", fmt.Sprintf("version %d", v.ID()), fmt.Sprintf("refs %d", v.Refs()))
	}()
	b.Record(sim.ClassAction, "pin", fmt.Sprintf("version %d (%d files)", v.ID(), len(files)), fmt.Sprintf("refs %d", v.Refs()))
	b.Actor().Yield()
	return b.Read(func(f *model.FileMeta) ([]model.Record, error) {
		b.Throttle(f.SizeBytes)
		return p.openSST(b, f, func() (model.Handle, error) { return b.FS().Open(f.Path) })
	}, files, seq)
}
