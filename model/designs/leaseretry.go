package designs

import (
	"fmt"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// LeaseRetry is the design under validation:
//
//  1. check the region state and remember its epoch;
//  2. list the current version's files and take a lease on them in the same
//     step (a listed file is live at that instant);
//  3. before each file, wait for the snapshot I/O limiter while renewing
//     the lease once half its TTL is gone, then re-validate lease and
//     epoch; by default the check and the open are one step (atomic with
//     respect to GC), with DesignConfig.NonAtomicCheck they are two, and a
//     stall can fall in between;
//  4. a lease that lapsed (a stall outlived it) is re-taken in the same
//     step as the check if every listed file is still in the current
//     version (so none can have been deleted);
//  5. a lost lease, a changed epoch or any I/O error aborts the attempt,
//     releases everything and is handled by the shared retryPolicy (a
//     transient EIO is first retried in place; a changed epoch is
//     re-issued, not counted); it never panics.
func LeaseRetry() model.Design {
	return model.Design{
		Name:      "lease-retry",
		Summary:   "epoch check, then a lease (renewed) on the listed files; lease and epoch re-checked before each open; a lost lease or changed epoch aborts and retries from a fresh version; errors go to the shared retry policy; never panics",
		Needs:     model.NeedLeases | model.NeedCheckedOpen,
		Footprint: &model.Footprint{Leases: true},
		Ops:       []model.Info{{Name: "list", Summary: "the region's files listed"}, {Name: "lease", Summary: "the listed files leased (or re-leased)"}, {Name: "renew", Summary: "the lease renewed"}, {Name: "open", Summary: "a listed file opened after the lease and epoch check"}, {Name: "retry", Summary: "an attempt aborted"}},
		New:       func(c model.DesignConfig) model.Collector { return leaseRetry{cfg: c} },
	}
}

type leaseRetry struct{ cfg model.DesignConfig }

// Collect implements model.Collector. Errors go to the shared retryPolicy:
// transient EIO is retried in place, and only real build failures count
// toward MaxAttempts (TiKV's MAX_SNAP_TRY_CNT): an attempt aborted because
// the region's epoch changed or it was mid-split/merge is, in TiKV, a
// request raft drops and re-issues for the new epoch, not a failed build.
func (c leaseRetry) Collect(b model.Build) (model.Collected, error) {
	p := policyFor(c.cfg)
	return p.run(b, func(int) (model.Collected, error) { return c.attempt(b, p) })
}

// checkRegion is the region-state check of the designs that make one
// (lease-retry, scan): nil for a Normal region, model.ErrRegionGone for a
// merged one, model.ErrRegionBusy mid-split or mid-merge.
func checkRegion(r *model.Region) error {
	switch r.State {
	case model.RegionNormal:
		return nil
	case model.RegionTombstone:
		return fmt.Errorf("%w: region %d", model.ErrRegionGone, r.ID)
	}
	return model.ErrRegionBusy
}

func (c leaseRetry) attempt(b model.Build, p retryPolicy) (model.Collected, error) {
	e := b.Engine().(model.Leaser)
	if err := checkRegion(b.Region()); err != nil {
		return model.Collected{}, err
	}
	epoch := b.Region().Epoch
	snapID, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(snapID)
	_, files := b.List()
	lease := e.AcquireLease(b.Actor().Name(), files, c.cfg.LeaseTTL)
	defer func() { e.ReleaseLease(lease) }()
	b.Record(sim.ClassAction, "lease", fmt.Sprintf("lease %d on %d files until %s", lease.ID(), len(files), lease.Expiry()), "ok")
	b.Actor().Yield()

	// relet re-leases the listed files after the lease lapsed (a stall
	// outlived it), if every one of them is still in the current version:
	// such a file is not obsolete, so GC cannot have deleted it. Checking
	// and re-leasing happen in one step. Otherwise the attempt is lost.
	relet := func() bool {
		cur := e.Current()
		for _, f := range files {
			if !cur.Contains(f.Num) {
				return false
			}
		}
		old := lease
		e.ReleaseLease(old)
		lease = e.AcquireLease(b.Actor().Name(), files, c.cfg.LeaseTTL)
		b.Record(sim.ClassAction, "lease", fmt.Sprintf("lease %d lapsed at %s; files still live, re-leased as %d until %s", old.ID(), old.Expiry(), lease.ID(), lease.Expiry()), "ok")
		return true
	}
	check := func() error {
		if c.cfg.Weaken.LeaseRecheck {
			return nil
		}
		if !lease.Valid(b.Now()) && !relet() {
			return fmt.Errorf("%w: lease %d expired at %s, now %s, and a listed file left the current version", model.ErrLeaseLost, lease.ID(), lease.Expiry(), b.Now())
		}
		if b.Region().Epoch != epoch && !c.cfg.Weaken.EpochRecheck {
			return fmt.Errorf("%w: %s -> %s", model.ErrEpochChanged, epoch, b.Region().Epoch)
		}
		return nil
	}
	return b.Read(func(f *model.FileMeta) ([]model.Record, error) {
		// Wait for the rate limiter in slices of a quarter of the TTL,
		// renewing the lease between slices (a heartbeat), so a long wait
		// never lets it lapse. Only a stall elsewhere can.
		renew := func() {
			if lease.Expiry()-b.Now() <= c.cfg.LeaseTTL/2 && e.RenewLease(lease, c.cfg.LeaseTTL) {
				b.Record(sim.ClassAction, "renew", fmt.Sprintf("lease %d until %s", lease.ID(), lease.Expiry()), "ok")
			}
		}
		renew()
		slice := b.SliceBytes(max(c.cfg.LeaseTTL/4, sim.Microsecond))
		for left := f.SizeBytes; left > 0; left -= slice {
			b.Throttle(min(left, slice))
			renew()
		}
		// The shared policy retries a transient EIO in place, the lease and
		// epoch check included in each try.
		return p.openSST(b, f, func() (model.Handle, error) {
			if c.cfg.NonAtomicCheck {
				if err := check(); err != nil {
					return nil, err
				}
				return b.FS().Open(f.Path)
			}
			return b.FS().(model.CheckedOpener).OpenChecked(f.Path, check)
		})
	}, files, seq)
}
