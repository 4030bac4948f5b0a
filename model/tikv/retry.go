package tikv

import (
	"github.com/cockroachdb/pebble/vfs"
)

func init() {
	registerCollector("retry",
		"like naive (lists the current version, pins nothing, opens later), but errors go to the shared retry policy: transient EIO retried in place, a lost file discards the attempt and retries from a fresh listing after a backoff, up to MaxAttempts; never panics",
		func(c Config) Collector { return retry{cfg: c} })
}

// retry is the report's first fix on its own: the naive design, but an
// open or read error is returned instead of unwrapped and handled by the
// shared retryPolicy. A transient EIO is retried in place; any other error
// discards the attempt (its engine snapshot released) and the build starts
// over from a fresh listing after a backoff. It still pins nothing, so it
// still opens files GC has deleted (the oracle reports open-deleted-file);
// it only survives them. Under heavy compaction every attempt can lose a
// file and the build fails after MaxAttempts (ErrAttemptsSpent).
type retry struct{ cfg Config }

// Collect implements Collector.
func (c retry) Collect(g *Gen) (Collected, error) {
	p := policyFor(c.cfg)
	return p.run(g, func(int) (Collected, error) { return c.attempt(g, p) })
}

func (c retry) attempt(g *Gen, p retryPolicy) (Collected, error) {
	n := g.Node
	e := n.Engine
	snapID, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(snapID)
	_, files := g.list()
	// Real generation does other work between listing and opening.
	g.Actor.Yield()
	return g.read(func(f *FileMeta) ([]Record, error) {
		g.throttle(f.SizeBytes)
		return p.openSST(g, f, func() (vfs.File, error) { return n.FS.Open(f.Path) })
	}, files, seq)
}
