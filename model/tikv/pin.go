package tikv

import (
	"fmt"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/snapsim/snapsim/sim"
)

func init() {
	registerCollector("pin",
		"holds a reference on the listed version for the whole build (RocksDB/Pebble iterator style), no expiry; errors (only possible with eager GC or I/O faults) go to the shared retry policy; never panics",
		func(c Config) Collector { return pin{cfg: c} })
}

// pin protects the files the way a RocksDB/Pebble iterator does: it takes a
// reference on the version it lists, in the same step as the listing, and
// holds it until the build is over (on every path out of an attempt). A
// referenced version's files never become obsolete, so the safe GC cannot
// delete them; the price is that a stalled or dead generator holds their
// space for ever (no expiry).
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
// MaxAttempts the build fails with ErrAttemptsSpent; it never panics.
type pin struct{ cfg Config }

// Collect implements Collector.
func (c pin) Collect(g *Gen) (Collected, error) {
	p := policyFor(c.cfg)
	return p.run(g, func(int) (Collected, error) { return c.attempt(g, p) })
}

func (c pin) attempt(g *Gen, p retryPolicy) (Collected, error) {
	n := g.Node
	e := n.Engine
	snapID, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(snapID)
	v, files := g.list()
	e.Ref(v) // same step as the listing: no file of v can be deleted in between
	defer func() {
		e.Unref(v)
		n.s.Record(sim.ClassAction, "unpin", fmt.Sprintf("version %d", v.ID), fmt.Sprintf("refs %d", v.Refs()))
	}()
	n.s.Record(sim.ClassAction, "pin", fmt.Sprintf("version %d (%d files)", v.ID, len(files)), fmt.Sprintf("refs %d", v.Refs()))
	g.Actor.Yield()
	return g.read(func(f *FileMeta) ([]Record, error) {
		g.throttle(f.SizeBytes)
		return p.openSST(g, f, func() (vfs.File, error) { return n.FS.Open(f.Path) })
	}, files, seq)
}
