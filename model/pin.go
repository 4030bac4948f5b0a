package model

import (
	"fmt"

	"github.com/snapsim/snapsim/sim"
)

func init() {
	registerCollector("pin",
		"holds a reference on the listed version for the whole build (RocksDB/Pebble iterator style), no expiry; an open error (only possible with eager GC or I/O faults) retries from a fresh version, up to MaxAttempts; never panics",
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
// the attempt is discarded and retried from a fresh version, like retry and
// like TiKV's snapshot builds (which are retried several times before raft
// gives up), rather than failing the snapshot at once. Transient faults
// then cost a retry, not a snapshot; an eager GC is still caught, because
// the oracle and GC's own pin check report it whatever the collector does
// next. After MaxAttempts the build fails with ErrAttemptsSpent; it never
// panics.
type pin struct{ cfg Config }

// Collect implements Collector.
func (c pin) Collect(g *Gen) (Collected, error) {
	return retryAttempts(g, c.cfg, func(int) (Collected, error) { return c.attempt(g) })
}

func (c pin) attempt(g *Gen) (Collected, error) {
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
		h, err := n.FS.Open(f.Path)
		n.s.Record(sim.ClassAction, "open", f.Path, result(err))
		if err != nil {
			return nil, err
		}
		return readSST(h, f)
	}, files, seq)
}
