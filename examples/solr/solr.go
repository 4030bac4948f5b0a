// Package solr models SOLR-18406: a follower asks the leader for its
// latest commit generation G, lists G's files, then fetches them one by
// one; the leader reserves G for commitReserveDuration on each request,
// and its deletion policy deletes an older commit, with the files only it
// references, at the next commit once the reservation has lapsed. A
// follower delayed between two fetches longer than the reservation asks
// for a file of a generation that is gone. The fix (PR 4820) restarts the
// replication when the generation is gone, as the list step already does
// for a stale generation.
//
// It is built with model/kit only: the leader's indexer (commits and the
// deletion policy, a deleter honouring the commits' file references and
// the time reservation), the follower (a reader the oracle watches, its
// fetches served by the leader's file handler), the kinds segments_N and
// segment files. See README.md for what is modelled and what is
// simplified.
package solr

import (
	"fmt"
	"slices"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/kit"
	"github.com/snapsim/snapsim/sim"
)

// Name is the system's name (--system solr, "system solr").
const Name = "solr"

// The designs: the follower's fetch before and after PR 4820.
const (
	// FailOnGone fetches each listed file of G whether or not G still
	// exists: the open of a deleted file fails the replication.
	FailOnGone = "fail-on-gone"
	// RestartOnGone checks, with each fetch, that G is still a commit of
	// the leader (renewing its reservation) and restarts the replication
	// from the latest generation when it is not (the fix, PR 4820).
	RestartOnGone = "restart-on-gone"
)

// VariantIgnoreReservation makes the leader's deletion policy ignore the
// reservations: a negative control for the deleter's oracle.
const VariantIgnoreReservation = "ignore-reservation"

// The leader's and the follower's index directories.
const (
	leaderDir   = "/solr/leader/data/index"
	followerDir = "/solr/follower/data/index"
)

// The leader's file kinds: the commit point segments_N and the segment
// files (one number per file, across commits).
var (
	SegmentsN = kit.Kind{Name: "segments", Dir: leaderDir, Prefix: "segments_"}
	Segment   = kit.Kind{Name: "segment", Dir: leaderDir, Prefix: "_", Ext: ".cfs"}
)

func op(name, summary string) model.Info { return model.Info{Name: name, Summary: summary} }

// System returns the Solr system.
func System() *kit.System { return kit.MustNewSystem(Definition()) }

// Definition is the system's definition.
func Definition() kit.Definition {
	return kit.Definition{
		Name:    Name,
		Summary: "SOLR-18406: a follower lists commit generation G's files and fetches them one by one; the leader keeps G only while its commitReserveDuration reservation lasts",
		Designs: []model.Info{
			{Name: FailOnGone, Summary: "the follower fetches every listed file of G even after G was deleted (SOLR-18406)"},
			{Name: RestartOnGone, Summary: "each fetch checks G is still a commit and renews its reservation; a gone generation restarts the replication (the fix, PR 4820)"},
		},
		DefaultDesign: RestartOnGone,
		Variants:      []model.Info{{Name: VariantIgnoreReservation, Summary: "the leader's deletion policy deletes reserved commits (a negative control)"}},
		Settings: []kit.Setting{
			{Name: "commits", Summary: "commits the leader makes after the first", Default: 6, Min: 1, Max: 50},
			{Name: "commit_interval_us", Summary: "pause before each commit", Default: 4000, Min: 1, Max: 1e9},
			{Name: "files_per_commit", Summary: "segment files in each commit (a fully merged index: none shared)", Default: 3, Min: 1, Max: 10},
			{Name: "segment_kib", Summary: "each segment file's size", Default: 16, Min: 1, Max: 1024},
			{Name: "commit_reserve_us", Summary: "how long a request reserves its commit (commitReserveDuration; 10 s in Solr, scaled)", Default: 10000, Min: 1, Max: 1e9},
			{Name: "replications", Summary: "replications the follower polls for", Default: 4, Min: 1, Max: 20},
			{Name: "poll_interval_us", Summary: "the follower's pause before each poll (pollInterval)", Default: 3000, Min: 1, Max: 1e9},
			{Name: "max_fetch_delay_us", Summary: "the follower's delay after each fetched file is drawn in 0..this (a slow disk, a pause)", Default: 15000, Min: 0, Max: 1e9},
			{Name: "max_restarts", Summary: "restarts of one replication before it fails (restart-on-gone)", Default: 5, Min: 0, Max: 100},
		},
		Groups: []string{"leader", "follower"}, GroupWord: "NODE",
		Actors: actors,
		Setup:  setup,
	}
}

func actors(kit.Config) []kit.Actor {
	fp := kit.Declared()
	return []kit.Actor{
		{Name: "indexer", Summary: "the leader's indexing: commits a generation, then the deletion policy deletes older unreserved commits", FS: true, Group: "leader", Footprint: fp,
			Ops: append([]model.Info{op("commit", "a commit, and the deletion policy's pass after it")}, kit.DeleterOps...)},
		{Name: "follower", Summary: "the follower's IndexFetcher: lists the latest generation's files and fetches each through the leader's file handler (watched by the oracle)", FS: true, Watched: true, Group: "follower", Footprint: fp,
			Ops: []model.Info{op("list", "the latest generation's file list (reserves it)"), op("fetch", "a file fetched (renews the reservation)"), op("restart", "the generation is gone: the replication restarts"), op("replicate", "a replication done or failed")}},
	}
}

// commit is one of the leader's commit points.
type commit struct {
	gen   uint64
	files []string // segments_N last
}

// leader is one run's state.
type leader struct {
	w   *kit.World
	cfg kit.Config
	// commits are the leader's commit points, oldest first (the deletion
	// policy's list); nextSeg numbers segment files.
	commits *kit.Var[[]commit]
	nextSeg *kit.Var[uint64]
	// refs count, per file, the commits that reference it; reserve is
	// commitReserveDuration's table; del the deletion policy's deleter.
	refs    *kit.RefCounts
	reserve *kit.TimeReservation
	del     *kit.Deleter
	// done, failed, restarts are the follower's counts for the summary.
	done, failed, restarts int
}

func setup(w *kit.World, cfg kit.Config) error {
	for _, d := range []string{leaderDir, followerDir} {
		if err := w.MkdirAll(d); err != nil {
			return err
		}
	}
	l := &leader{w: w, cfg: cfg, refs: kit.NewRefCounts(w, "commit references"), reserve: kit.NewTimeReservation(w, "commit reservation")}
	l.commits = kit.NewVar(w, "commits", []commit(nil))
	l.nextSeg = kit.NewVar(w, "next-segment", uint64(0))
	honours, ignores := []kit.Protection{l.refs, l.reserve}, []kit.Protection(nil)
	if cfg.Variant(VariantIgnoreReservation) {
		honours, ignores = []kit.Protection{l.refs}, []kit.Protection{l.reserve}
	}
	l.del = kit.NewDeleter(w, "deletion policy", honours, ignores)
	if err := l.commit(1); err != nil {
		return err
	}
	w.Spawn("indexer", l.indexLoop)
	w.Spawn("follower", l.followLoop)
	return nil
}

// commit writes generation gen: its segment files and segments_N, each
// referenced by the commit.
func (l *leader) commit(gen uint64) error {
	c := commit{gen: gen}
	for i := int64(0); i < l.cfg.Int("files_per_commit"); i++ {
		n := l.nextSeg.Get()
		l.nextSeg.Set(n + 1)
		c.files = append(c.files, Segment.Path(n))
	}
	c.files = append(c.files, SegmentsN.Path(gen))
	data := make([]byte, l.cfg.Int("segment_kib")*1024)
	for _, f := range c.files {
		if err := kit.WriteFile(l.w.FS(), f, data); err != nil {
			return err
		}
		l.refs.Ref(f, fmt.Sprintf("commit %d", gen))
	}
	l.commits.Set(append(slices.Clone(l.commits.Get()), c))
	return nil
}

// indexLoop commits, then runs the deletion policy (keep the newest
// commit, and any older one while it is reserved).
func (l *leader) indexLoop(a *sim.Actor) {
	for gen := uint64(2); gen <= uint64(l.cfg.Int("commits"))+1; gen++ {
		a.Sleep(l.cfg.Micros("commit_interval_us"))
		if err := l.commit(gen); err != nil {
			l.w.Record(sim.ClassAction, "commit", fmt.Sprintf("generation %d", gen), "failed: "+err.Error())
			continue
		}
		deleted := l.deleteOld()
		l.w.Record(sim.ClassAction, "commit", fmt.Sprintf("generation %d", gen), fmt.Sprintf("ok; deleted generations %v", deleted))
	}
}

// deleteOld is the deletion policy's pass after a commit: each commit but
// the newest whose segments_N no reservation holds is deleted — dropped
// from the commit list first (Lucene's onCommit marks it, and Solr's
// handler no longer finds it), its references released, then every file
// of it that no commit references and no reservation holds removed.
func (l *leader) deleteOld() []uint64 {
	cs := l.commits.Get()
	var kept, gone []commit
	for i, c := range cs {
		point := c.files[len(c.files)-1]
		if i < len(cs)-1 {
			p, holder, held := kit.Protected([]kit.Protection{l.reserve}, point)
			if !held || l.cfg.Variant(VariantIgnoreReservation) {
				gone = append(gone, c)
				continue
			}
			l.w.Record(sim.ClassInfo, kit.OpKeep, fmt.Sprintf("generation %d", c.gen), p.Name()+": "+holder)
		}
		kept = append(kept, c)
	}
	l.commits.Set(kept)
	var deleted []uint64
	for _, c := range gone {
		for _, f := range c.files {
			l.refs.Unref(f, fmt.Sprintf("commit %d", c.gen))
		}
		for _, f := range c.files {
			_, _ = l.del.Delete(f, fmt.Sprintf("generation %d deleted", c.gen))
		}
		deleted = append(deleted, c.gen)
	}
	return deleted
}

// find returns the leader's commit gen, if it still exists.
func (l *leader) find(gen uint64) (commit, bool) {
	for _, c := range l.commits.Get() {
		if c.gen == gen {
			return c, true
		}
	}
	return commit{}, false
}

// followLoop polls the leader and replicates.
func (l *leader) followLoop(a *sim.Actor) {
	var local uint64
	for i := int64(0); i < l.cfg.Int("replications"); i++ {
		a.Sleep(l.cfg.Micros("poll_interval_us"))
		local = l.replicate(a, local)
	}
	l.w.Summarize("replications: %d done, %d failed, %d restarts", l.done, l.failed, l.restarts)
}

// replicate fetches the leader's latest generation if it is newer than
// local, and returns the generation the follower has afterwards.
func (l *leader) replicate(a *sim.Actor, local uint64) uint64 {
	for attempt := int64(0); attempt <= l.cfg.Int("max_restarts"); attempt++ {
		cs := l.commits.Get()
		latest := cs[len(cs)-1]
		if latest.gen <= local {
			return local
		}
		// filelist: the list step checks the generation and reserves it.
		l.reserve.Reserve("follower", latest.files, l.cfg.Micros("commit_reserve_us"))
		l.w.Record(sim.ClassAction, "list", fmt.Sprintf("generation %d: %s", latest.gen, strings.Join(latest.files, " ")), "reserved")
		err := l.fetchAll(a, latest)
		if err == nil {
			l.done++
			l.w.Record(sim.ClassAction, "replicate", fmt.Sprintf("generation %d", latest.gen), "ok")
			return latest.gen
		}
		if err != errGone {
			l.failed++
			l.w.Record(sim.ClassAction, "replicate", fmt.Sprintf("generation %d", latest.gen), "failed: "+err.Error())
			return local
		}
		l.restarts++
		l.w.Record(sim.ClassAction, "restart", fmt.Sprintf("generation %d is gone", latest.gen), "restarting from the latest generation")
	}
	l.failed++
	l.w.Record(sim.ClassAction, "replicate", "", "failed: restarts spent")
	return local
}

// errGone is the leader handler's answer for a generation that no longer
// exists ("invalid index generation").
var errGone = fmt.Errorf("invalid index generation")

// fetchAll fetches c's files one by one through the leader's file
// handler, each followed by the follower's own delay.
func (l *leader) fetchAll(a *sim.Actor, c commit) error {
	for _, f := range c.files {
		// The leader's file handler: it renews the reservation with each
		// request and (restart-on-gone) first checks that the generation
		// is still a commit, in the step that opens the file — the
		// follower's delays fall between requests, not inside the
		// leader's handler.
		handler := func() error {
			if _, ok := l.find(c.gen); !ok && l.cfg.Design == RestartOnGone {
				return errGone
			}
			l.reserve.Reserve("follower", c.files, l.cfg.Micros("commit_reserve_us"))
			return nil
		}
		data, err := kit.ReadFileChecked(l.w.FS(), f, handler)
		if err == errGone {
			return err
		}
		if err != nil {
			return fmt.Errorf("fetch %s: %w", f, err)
		}
		local := followerDir + "/" + strings.TrimPrefix(f, leaderDir+"/")
		if err := kit.WriteFile(l.w.FS(), local, data); err != nil {
			return err
		}
		l.w.Record(sim.ClassAction, "fetch", f, "ok")
		if d := l.cfg.Int("max_fetch_delay_us"); d > 0 {
			a.Sleep(sim.Micros(l.w.Scheduler().Intn(int(d) + 1)))
		}
	}
	return nil
}
