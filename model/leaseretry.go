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
//  4. a lease that lapsed (a stall outlived it) is re-taken in the same
//     step as the check if every listed file is still in the current
//     version (so none can have been deleted);
//  5. a lost lease, a changed epoch or any I/O error aborts the attempt,
//     releases everything and is handled by the shared retryPolicy (a
//     transient EIO is first retried in place; a changed epoch is
//     re-issued, not counted); it never panics.
type leaseRetry struct{ cfg Config }

// Collect implements Collector. Errors go to the shared retryPolicy:
// transient EIO is retried in place, and only real build failures count
// toward MaxAttempts (TiKV's MAX_SNAP_TRY_CNT): an attempt aborted because
// the region's epoch changed or it was mid-split/merge is, in TiKV, a
// request raft drops and re-issues for the new epoch, not a failed build.
func (c leaseRetry) Collect(g *Gen) (Collected, error) {
	p := policyFor(c.cfg)
	return p.run(g, func(int) (Collected, error) { return c.attempt(g, p) })
}

func (c leaseRetry) attempt(g *Gen, p retryPolicy) (Collected, error) {
	n := g.Node
	e := n.Engine
	switch g.Region.State {
	case RegionNormal:
	case RegionTombstone:
		return Collected{}, fmt.Errorf("%w: region %d", ErrRegionGone, g.Region.ID)
	default:
		return Collected{}, ErrRegionBusy
	}
	epoch := g.Region.Epoch
	snapID, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(snapID)
	_, files := g.list()
	lease := e.AcquireLease(g.Actor.Name(), files, c.cfg.LeaseTTL)
	defer func() { e.ReleaseLease(lease) }()
	n.s.Record(sim.ClassAction, "lease", fmt.Sprintf("lease %d on %d files until %s", lease.ID, len(files), lease.Expiry), "ok")
	g.Actor.Yield()

	// relet re-leases the listed files after the lease lapsed (a stall
	// outlived it), if every one of them is still in the current version:
	// such a file is not obsolete, so GC cannot have deleted it. Checking
	// and re-leasing happen in one step. Otherwise the attempt is lost.
	relet := func() bool {
		cur := e.Current()
		for _, f := range files {
			if !cur.contains(f.Num) {
				return false
			}
		}
		old := lease
		e.ReleaseLease(old)
		lease = e.AcquireLease(g.Actor.Name(), files, c.cfg.LeaseTTL)
		n.s.Record(sim.ClassAction, "lease", fmt.Sprintf("lease %d lapsed at %s; files still live, re-leased as %d until %s", old.ID, old.Expiry, lease.ID, lease.Expiry), "ok")
		return true
	}
	check := func() error {
		if c.cfg.Weaken.LeaseRecheck {
			return nil
		}
		if !lease.Valid(n.s.Now()) && !relet() {
			return fmt.Errorf("%w: lease %d expired at %s, now %s, and a listed file left the current version", ErrLeaseLost, lease.ID, lease.Expiry, n.s.Now())
		}
		if g.Region.Epoch != epoch && !c.cfg.Weaken.EpochRecheck {
			return fmt.Errorf("%w: %s -> %s", ErrEpochChanged, epoch, g.Region.Epoch)
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
		slice := g.sliceBytes(max(c.cfg.LeaseTTL/4, sim.Microsecond))
		for left := f.SizeBytes; left > 0; left -= slice {
			g.throttle(min(left, slice))
			renew()
		}
		// The shared policy retries a transient EIO in place, the lease and
		// epoch check included in each try.
		return p.openSST(g, f, func() (vfs.File, error) {
			if c.cfg.NonAtomicCheck {
				if err := check(); err != nil {
					return nil, err
				}
				return n.FS.Open(f.Path)
			}
			return n.FS.OpenChecked(f.Path, check)
		})
	}, files, seq)
}
