package tikv

import (
	"fmt"
	"path"
	"strings"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/snapsim/snapsim/sim"
)

func init() {
	registerCollector("checkpoint",
		"RocksDB Checkpoint and raftstore-v2's tablet checkpointer: disable deletions, hard-link the listed files into the snap dir, re-enable deletions, read from the links, remove them; errors go to the shared retry policy; never panics",
		func(c Config) Collector { return checkpoint{cfg: c} })
}

// checkpointPrefix starts the base name of every checkpoint link in
// SnapDir. Snapshot GC does not recognise it (it is neither "gen" nor
// "rev"), so it never touches the links.
const checkpointPrefix = "ckpt_"

// checkpoint is RocksDB's Checkpoint applied to snapshot generation:
//
//  1. disable file deletions (a counter), take the engine snapshot and list
//     the current version, in one step;
//  2. hard-link every listed file into SnapDir under a name unique to this
//     attempt (each link is a scheduling point; GC deletes nothing
//     meanwhile, so every listed file is still there to link);
//  3. re-enable deletions as soon as the links exist, and on every way out
//     of step 2 (deletions are never left disabled);
//  4. read every file through its link, after the rate limiter: GC may
//     delete the originals now, the links keep the data;
//  5. remove the links, on success and on error.
//
// Deletions are held off only for the linking, not for the (rate-limited)
// reading; the links hold the space until the build is done. Errors (an
// injected I/O fault) go to the shared retryPolicy, as for every retrying
// design: a transient EIO is retried in place, anything else discards the
// attempt, which is retried; it never panics.
type checkpoint struct{ cfg Config }

// Collect implements Collector.
func (c checkpoint) Collect(g *Gen) (Collected, error) {
	p := policyFor(c.cfg)
	return p.run(g, func(attempt int) (Collected, error) { return c.attempt(g, p, attempt) })
}

// checkpointLink returns the link path of file num for one attempt:
// /snap/ckpt_<actor>_<engine snapshot id>_<attempt>_<file num>.sst. The
// engine snapshot id is unique per attempt on the engine, so no two
// attempts, generators or snapshots share a link.
func checkpointLink(actor string, snapID uint64, attempt int, num uint64) string {
	return path.Join(SnapDir, fmt.Sprintf("%s%s_%d_%d_%06d.sst", checkpointPrefix, actor, snapID, attempt, num))
}

// isCheckpointLink reports whether p is a checkpoint link.
func isCheckpointLink(p string) bool {
	return strings.HasPrefix(p, SnapDir+"/"+checkpointPrefix)
}

func (c checkpoint) attempt(g *Gen, p retryPolicy, attempt int) (Collected, error) {
	n := g.Node
	e := n.Engine

	// Deferred calls run last in, first out: deletions are re-enabled (no
	// scheduling point) before the links are removed (scheduling points),
	// so even a run halted mid-cleanup leaves deletions enabled.
	var links []string
	defer func() {
		for _, l := range links {
			err := n.FS.RemoveBecause(l, "checkpoint done")
			n.s.Record(sim.ClassAction, "unlink", l, result(err))
		}
	}()
	e.DisableDeletions()
	enabled := false
	enable := func(why string) {
		if !enabled {
			enabled = true
			e.EnableDeletions()
			n.s.Record(sim.ClassAction, "checkpoint", "deletions enabled", why)
		}
	}
	defer enable("attempt abandoned")

	snapID, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(snapID)
	_, files := g.list()
	n.s.Record(sim.ClassAction, "checkpoint", fmt.Sprintf("deletions disabled; linking %d files", len(files)), "ok")
	linkOf := make(map[uint64]string, len(files))
	for _, f := range files {
		l := checkpointLink(g.Actor.Name(), snapID, attempt, f.Num)
		err := n.FS.Link(f.Path, l)
		n.s.Record(sim.ClassAction, "link", f.Path+" -> "+l, result(err))
		if err != nil {
			return Collected{}, fmt.Errorf("checkpoint link: %w", err)
		}
		links = append(links, l)
		linkOf[f.Num] = l
	}
	enable(fmt.Sprintf("%d links made", len(links)))

	// Real generation does other work between listing and opening.
	g.Actor.Yield()
	return g.read(func(f *FileMeta) ([]Record, error) {
		g.throttle(f.SizeBytes)
		lf := *f
		lf.Path = linkOf[f.Num]
		return p.openSST(g, &lf, func() (vfs.File, error) { return n.FS.Open(lf.Path) })
	}, files, seq)
}
