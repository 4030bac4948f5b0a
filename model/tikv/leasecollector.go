package tikv

import (
	"fmt"

	"github.com/snapsim/snapsim/sim"
)

func init() {
	registerCollector("lease",
		"a time-bounded pin: a lease (TTL LeaseTTL) on the listed files taken at listing time, never renewed, not re-checked before open; GC may delete after expiry; an open error panics as naive does",
		func(c Config) Collector { return leaseOnly{cfg: c} })
}

// leaseOnly is a lease without the rest of lease-retry: at listing time it
// takes a lease of cfg.LeaseTTL on the listed files (in the same step, so
// they are live when leased), then reads them after the rate limiter's
// waits with no renewal and no re-check of the lease before an open. While
// the lease holds, GC keeps the files; once it expires (plus GC's grace)
// GC may delete them, and the next open fails. Like naive, an open or read
// error is unwrapped: the generator panics with TiKV's message. The lease
// is released on every way out, the panic included.
type leaseOnly struct{ cfg Config }

// Collect implements Collector.
func (c leaseOnly) Collect(g *Gen) (Collected, error) {
	n := g.Node
	e := n.Engine
	g.Attempts++
	snapID, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(snapID)
	_, files := g.list()
	l := e.AcquireLease(g.Actor.Name(), files, c.cfg.LeaseTTL)
	defer e.ReleaseLease(l)
	n.s.Record(sim.ClassAction, "lease", fmt.Sprintf("lease %d on %d files until %s", l.ID, len(files), l.Expiry), "ok")
	// Real generation does other work between listing and opening.
	g.Actor.Yield()
	return g.read(func(f *FileMeta) ([]Record, error) {
		g.throttle(f.SizeBytes)
		h, err := n.FS.Open(f.Path)
		n.s.Record(sim.ClassAction, "open", f.Path, result(err))
		if err == nil {
			var recs []Record
			if recs, err = readSST(h, f); err == nil {
				return recs, nil
			}
		}
		// Same message as naive: Rust's unwrap on the io::Error.
		panic(fmt.Sprintf("called `Result::unwrap()` on an `Err` value: %q [%v]", rustIOError(err), err))
	}, files, seq)
}
