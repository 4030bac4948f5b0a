package model

import (
	"fmt"

	"github.com/snapsim/snapsim/sim"
)

func init() {
	registerCollector("retry",
		"like naive (lists the current version, pins nothing, opens later), but an open or read error discards the attempt and retries from a fresh listing after a backoff, up to MaxAttempts; never panics",
		func(c Config) Collector { return retry{cfg: c} })
}

// retry is the report's first fix on its own: the naive design, but an
// open or read error is returned instead of unwrapped, the attempt is
// discarded (its engine snapshot released) and the build starts over from
// a fresh listing after a backoff. It still pins nothing, so it still opens
// files GC has deleted (the oracle reports open-deleted-file); it only
// survives them. Under heavy compaction every attempt can lose a file and
// the build fails after MaxAttempts (ErrAttemptsSpent).
type retry struct{ cfg Config }

// Collect implements Collector.
func (c retry) Collect(g *Gen) (Collected, error) {
	return retryAttempts(g, c.cfg, func(int) (Collected, error) { return c.attempt(g) })
}

func (c retry) attempt(g *Gen) (Collected, error) {
	n := g.Node
	e := n.Engine
	snapID, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(snapID)
	_, files := g.list()
	// Real generation does other work between listing and opening.
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

// retryAttempts runs attempt (numbered from 1) until it succeeds or
// cfg.MaxAttempts attempts have failed. Each failure is recorded as a
// "retry" action; before the next attempt the generator sleeps
// cfg.Backoff × the failed attempt's number (no sleep after the last one:
// nothing follows it). The final error wraps ErrAttemptsSpent and the last
// attempt's error. g.Attempts tracks the attempt in progress, so a report
// shows how many were made even if the run ends mid-attempt.
func retryAttempts(g *Gen, cfg Config, attempt func(n int) (Collected, error)) (Collected, error) {
	var last error
	for i := 1; i <= cfg.MaxAttempts; i++ {
		g.Attempts = i
		got, err := attempt(i)
		if err == nil {
			return got, nil
		}
		last = err
		g.Node.s.Record(sim.ClassAction, "retry", fmt.Sprintf("attempt %d aborted", i), err.Error())
		if i < cfg.MaxAttempts {
			g.Actor.Sleep(cfg.Backoff * sim.Micros(i))
		}
	}
	return Collected{}, fmt.Errorf("%w after %d attempts: %w", ErrAttemptsSpent, cfg.MaxAttempts, last)
}
