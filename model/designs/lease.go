package designs

import (
	"fmt"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// Lease is a lease without the rest of lease-retry: at listing time it
// takes a lease of LeaseTTL on the listed files (in the same step, so they
// are live when leased), then reads them after the rate limiter's waits
// with no renewal and no re-check of the lease before an open. While the
// lease holds, GC keeps the files; once it expires (plus GC's grace) GC
// may delete them, and the next open fails. Like naive, an open or read
// error is unwrapped: the generator panics with TiKV's message. The lease
// is released on every way out, the panic included.
func Lease() model.Design {
	return model.Design{
		Name:      "lease",
		Summary:   "a time-bounded pin: a lease (TTL LeaseTTL) on the listed files taken at listing time, never renewed, not re-checked before open; GC may delete after expiry; an open error panics as naive does",
		Needs:     model.NeedLeases,
		Footprint: &model.Footprint{Leases: true},
		Ops:       []model.Info{{Name: "list", Summary: "the region's files listed"}, {Name: "lease", Summary: "the listed files leased"}, {Name: "open", Summary: "a listed file opened"}},
		New:       func(c model.DesignConfig) model.Collector { return leaseOnly{cfg: c} },
	}
}

type leaseOnly struct{ cfg model.DesignConfig }

// Collect implements model.Collector.
func (c leaseOnly) Collect(b model.Build) (model.Collected, error) {
	e := b.Engine().(model.Leaser)
	b.SetAttempts(b.Attempts() + 1)
	snapID, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(snapID)
	_, files := b.List()
	l := e.AcquireLease(b.Actor().Name(), files, c.cfg.LeaseTTL)
	defer e.ReleaseLease(l)
	b.Record(sim.ClassAction, "lease", fmt.Sprintf("lease %d on %d files until %s", l.ID(), len(files), l.Expiry()), "ok")
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
		// Same message as naive: Rust's unwrap on the io::Error.
		panic(unwrapPanic(err))
	}, files, seq)
}
