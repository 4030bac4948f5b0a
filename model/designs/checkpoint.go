package designs

import (
	"fmt"
	"path"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// Checkpoint is RocksDB's Checkpoint applied to snapshot generation
// (raftstore-v2's tablet checkpointer):
//
//  1. disable file deletions (a counter), take the engine snapshot and list
//     the current version, in one step;
//  2. hard-link every listed file into the build's scratch directory under
//     a name unique to this attempt (each link is a scheduling point; GC
//     deletes nothing meanwhile, so every listed file is still there to
//     link);
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
func Checkpoint() model.Design {
	return model.Design{
		Name:      "checkpoint",
		Summary:   "RocksDB Checkpoint and raftstore-v2's tablet checkpointer: disable deletions, hard-link the listed files into the snap dir, re-enable deletions, read from the links, remove them; errors go to the shared retry policy; never panics",
		Needs:     model.NeedDeletionHold,
		Footprint: &model.Footprint{Deletions: true},
		Ops:       []model.Info{{Name: "list", Summary: "the region's files listed"}, {Name: "checkpoint", Summary: "deletions disabled or enabled"}, {Name: "link", Summary: "a listed file hard-linked"}, {Name: "unlink", Summary: "a link removed"}, {Name: "open", Summary: "a link opened"}, {Name: "retry", Summary: "an attempt aborted"}},
		New:       func(c model.DesignConfig) model.Collector { return checkpoint{cfg: c} },
	}
}

// CheckpointPrefix starts the base name of every checkpoint link in the
// scratch directory. The TiKV system's snapshot GC does not recognise it
// (it is neither "gen" nor "rev"), so it never touches the links.
const CheckpointPrefix = "ckpt_"

type checkpoint struct{ cfg model.DesignConfig }

// Collect implements model.Collector.
func (c checkpoint) Collect(b model.Build) (model.Collected, error) {
	p := policyFor(c.cfg)
	return p.run(b, func(attempt int) (model.Collected, error) { return c.attempt(b, p, attempt) })
}

// checkpointLink returns the link path of file num for one attempt:
// DIR/ckpt_<actor>_<engine snapshot id>_<attempt>_<file num>.sst. The
// engine snapshot id is unique per attempt on the engine, so no two
// attempts, generators or snapshots share a link.
func checkpointLink(dir, actor string, snapID uint64, attempt int, num uint64) string {
	return path.Join(dir, fmt.Sprintf("%s%s_%d_%d_%06d.sst", CheckpointPrefix, actor, snapID, attempt, num))
}

func (c checkpoint) attempt(b model.Build, p retryPolicy, attempt int) (model.Collected, error) {
	e := b.Engine().(model.DeletionHolder)
	fs := b.FS()

	// Deferred calls run last in, first out: deletions are re-enabled (no
	// scheduling point) before the links are removed (scheduling points),
	// so even a run halted mid-cleanup leaves deletions enabled.
	var links []string
	defer func() {
		for _, l := range links {
			err := fs.Remove(l, "checkpoint done")
			b.Record(sim.ClassAction, "unlink", l, result(err))
		}
	}()
	e.DisableDeletions()
	enabled := false
	enable := func(why string) {
		if !enabled {
			enabled = true
			e.EnableDeletions()
			b.Record(sim.ClassAction, "checkpoint", "deletions enabled", why)
		}
	}
	defer enable("attempt abandoned")

	snapID, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(snapID)
	_, files := b.List()
	b.Record(sim.ClassAction, "checkpoint", fmt.Sprintf("deletions disabled; linking %d files", len(files)), "ok")
	linkOf := make(map[uint64]string, len(files))
	for _, f := range files {
		l := checkpointLink(b.ScratchDir(), b.Actor().Name(), snapID, attempt, f.Num)
		err := fs.Link(f.Path, l)
		b.Record(sim.ClassAction, "link", f.Path+" -> "+l, result(err))
		if err != nil {
			return model.Collected{}, fmt.Errorf("checkpoint link: %w", err)
		}
		links = append(links, l)
		linkOf[f.Num] = l
	}
	enable(fmt.Sprintf("%d links made", len(links)))

	// Real generation does other work between listing and opening.
	b.Actor().Yield()
	return b.Read(func(f *model.FileMeta) ([]model.Record, error) {
		b.Throttle(f.SizeBytes)
		lf := *f
		lf.Path = linkOf[f.Num]
		return p.openSST(b, &lf, func() (model.Handle, error) { return fs.Open(lf.Path) })
	}, files, seq)
}
