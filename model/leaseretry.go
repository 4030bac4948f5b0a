package model

import (
	"fmt"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/snapsim/snapsim/sim"
)

// leaseRetry is the design under validation:
//
//  1. check the region state and remember its epoch;
//  2. list the current version's files and take a lease on them in the same
//     step (a listed file is live at that instant);
//  3. before each file, wait for the snapshot I/O limiter while renewing
//     the lease once half its TTL is gone, then re-validate lease and epoch; by default the check and the open are one
//     step (atomic with respect to GC), with Config.NonAtomicCheck they are
//     two, and a stall can fall in between;
//  4. a lost lease, a changed epoch or any I/O error aborts the attempt,
//     releases everything and retries from a fresh version after a backoff,
//     up to MaxAttempts; it never panics.
type leaseRetry struct{ cfg Config }

// Collect implements Collector.
func (c leaseRetry) Collect(g *Gen) (Collected, error) {
	var last error
	for attempt := 1; attempt <= c.cfg.MaxAttempts; attempt++ {
		g.Attempts = attempt
		got, err := c.attempt(g)
		if err == nil {
			return got, nil
		}
		last = err
		g.Node.s.Record(sim.ClassAction, "retry", fmt.Sprintf("attempt %d aborted", attempt), err.Error())
		g.Actor.Sleep(c.cfg.Backoff * sim.Micros(attempt))
	}
	return Collected{}, fmt.Errorf("%w after %d attempts: %w", ErrAttemptsSpent, c.cfg.MaxAttempts, last)
}

func (c leaseRetry) attempt(g *Gen) (Collected, error) {
	n := g.Node
	e := n.Engine
	if n.Region.State != RegionNormal {
		return Collected{}, ErrRegionBusy
	}
	epoch := n.Region.Epoch
	snapID, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(snapID)
	_, files := g.list()
	lease := e.AcquireLease(g.Actor.Name(), files, c.cfg.LeaseTTL)
	defer e.ReleaseLease(lease)
	n.s.Record(sim.ClassAction, "lease", fmt.Sprintf("lease %d on %d files until %s", lease.ID, len(files), lease.Expiry), "ok")
	g.Actor.Yield()

	check := func() error {
		if !lease.Valid(n.s.Now()) {
			return fmt.Errorf("%w: lease %d expired at %s, now %s", ErrLeaseLost, lease.ID, lease.Expiry, n.s.Now())
		}
		if n.Region.Epoch != epoch {
			return fmt.Errorf("%w: %s -> %s", ErrEpochChanged, epoch, n.Region.Epoch)
		}
		return nil
	}
	return g.read(func(f *FileMeta) ([]Record, error) {
		// Wait for the rate limiter in slices of a quarter of the TTL,
		// renewing the lease between slices (a heartbeat), so a long wait
		// never lets it lapse. Only a stall elsewhere can.
		renew := func() {
			if lease.Expiry-n.s.Now() <= c.cfg.LeaseTTL/2 && e.RenewLease(lease, c.cfg.LeaseTTL) {
				n.s.Record(sim.ClassAction, "renew", fmt.Sprintf("lease %d until %s", lease.ID, lease.Expiry), "ok")
			}
		}
		renew()
		wait := g.throttleWait(f.SizeBytes)
		for wait > 0 {
			// At least 1µs: a TTL under 4µs would otherwise make the
			// slice 0 and this loop spin without ever finishing the wait.
			slice := min(wait, max(c.cfg.LeaseTTL/4, 1))
			g.Actor.Sleep(slice)
			wait -= slice
			renew()
		}
		var h vfs.File
		var err error
		if c.cfg.NonAtomicCheck {
			if err = check(); err == nil {
				h, err = n.FS.Open(f.Path)
			}
		} else {
			h, err = n.FS.OpenChecked(f.Path, check)
		}
		n.s.Record(sim.ClassAction, "open", f.Path, result(err))
		if err != nil {
			return nil, err
		}
		return readSST(h, f)
	}, files, seq)
}
