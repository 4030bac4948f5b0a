package designs

import (
	"github.com/snapsim/snapsim/model"
)

// Retry is like naive (lists the current version, pins nothing, opens
// later), but errors go to the shared retryPolicy instead of panicking: a
// transient EIO is retried in place, a lost file (ENOENT) discards the
// attempt, which is retried from a fresh listing after a backoff. It still
// pins nothing, so it still opens files GC has deleted (the oracle reports
// open-deleted-file); it only survives them. Under heavy compaction every
// attempt can lose a file and the build fails after MaxAttempts
// (model.ErrAttemptsSpent).
func Retry() model.Design {
	return model.Design{
		Name:      "retry",
		Summary:   "like naive (lists the current version, pins nothing, opens later), but errors go to the shared retry policy: transient EIO retried in place, a lost file discards the attempt and retries from a fresh listing after a backoff, up to MaxAttempts; never panics",
		Footprint: &model.Footprint{},
		Ops:       []model.Info{{Name: "list", Summary: "the region's files listed"}, {Name: "open", Summary: "a listed file opened"}, {Name: "retry", Summary: "an attempt aborted"}},
		New:       func(c model.DesignConfig) model.Collector { return retry{cfg: c} },
	}
}

type retry struct{ cfg model.DesignConfig }

// Collect implements model.Collector.
func (c retry) Collect(b model.Build) (model.Collected, error) {
	p := policyFor(c.cfg)
	return p.run(b, func(int) (model.Collected, error) { return c.attempt(b, p) })
}

func (c retry) attempt(b model.Build, p retryPolicy) (model.Collected, error) {
	e := b.Engine()
	snapID, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(snapID)
	_, files := b.List()
	// Real generation does other work between listing and opening.
	b.Actor().Yield()
	return b.Read(func(f *model.FileMeta) ([]model.Record, error) {
		b.Throttle(f.SizeBytes)
		return p.openSST(b, f, func() (model.Handle, error) { return b.FS().Open(f.Path) })
	}, files, seq)
}
