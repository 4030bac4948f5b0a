// Package etcd models etcd #18055: a follower receives two snapshots close
// together. The raft loop saves each snapshot and then releases the
// snapshot DB files older than it (snap.ReleaseSnapDBs), while the apply
// loop applies the snapshots in order, each by opening its .snap.db file.
// Saving the second snapshot purges the first's .snap.db before the first
// was applied, and the apply panics: "failed to find database snapshot
// file (snap: snapshot file doesn't exist)". The fix a maintainer
// proposed (PR 22046) keeps a registry of DB files waiting to be applied,
// which the release skips.
//
// It is built with model/kit only: the follower's receiver (rafthttp's
// snapshot handler), raft loop (the purge: a listing of .snap.db files and
// a deleter) and apply loop (a reader the oracle watches), the kinds
// .snap.db and .snap, and the Registry protection. See README.md for what
// is modelled and what is simplified.
package etcd

import (
	"fmt"
	"slices"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/kit"
	"github.com/snapsim/snapsim/sim"
)

// Name is the system's name (--system etcd, "system etcd").
const Name = "etcd"

// The designs: the release of older snapshot DB files before and after
// the fix.
const (
	// PurgeOlder releases every .snap.db older than the snapshot just
	// saved (etcd #18055).
	PurgeOlder = "purge-older"
	// SkipPending registers each received DB file until it is applied,
	// and the release skips registered files (the fix, PR 22046).
	SkipPending = "skip-pending"
)

// VariantIgnoreRegistry keeps the registry but makes the release ignore
// it: a negative control for the deleter's oracle.
const VariantIgnoreRegistry = "release-ignores-registry"

// snapDir is the follower's snapshot directory.
const snapDir = "/etcd/member/snap"

// The follower's snapshot files: the DB snapshot received from the leader
// (INDEX.snap.db) and the raft snapshot saved for it (INDEX.snap); etcd
// names them by the index in hex, the model in decimal.
var (
	SnapDB = kit.Kind{Name: "snap-db", Dir: snapDir, Ext: ".snap.db"}
	Snap   = kit.Kind{Name: "snap", Dir: snapDir, Ext: ".snap"}
)

// backendPath is where an applied DB file goes (etcd renames it to the
// backend's db file).
const backendPath = snapDir + "/db"

func op(name, summary string) model.Info { return model.Info{Name: name, Summary: summary} }

// System returns the etcd system.
func System() *kit.System { return kit.MustNewSystem(Definition()) }

// Definition is the system's definition.
func Definition() kit.Definition {
	return kit.Definition{
		Name:    Name,
		Summary: "etcd #18055: a follower saves a second snapshot and releases the first's .snap.db before the first was applied",
		Designs: []model.Info{
			{Name: PurgeOlder, Summary: "saving a snapshot releases every older .snap.db (etcd #18055)"},
			{Name: SkipPending, Summary: "received DB files are registered until applied, and the release skips them (the fix, PR 22046)"},
		},
		DefaultDesign: SkipPending,
		Variants:      []model.Info{{Name: VariantIgnoreRegistry, Summary: "the release ignores the registry of DB files pending apply (a negative control)"}},
		Settings: []kit.Setting{
			{Name: "snapshots", Summary: "snapshots the leader sends the follower", Default: 3, Min: 1, Max: 20},
			{Name: "index_step", Summary: "raft index between two snapshots", Default: 10, Min: 1, Max: 1e6},
			{Name: "max_snapshot_gap_us", Summary: "the pause before each snapshot is drawn in 0..this", Default: 3000, Min: 0, Max: 1e9},
			{Name: "max_apply_delay_us", Summary: "the apply loop's delay before applying a snapshot (entries ahead of it) is drawn in 0..this", Default: 3000, Min: 0, Max: 1e9},
			{Name: "poll_us", Summary: "how often the raft and apply loops look for work", Default: 200, Min: 1, Max: 1e9},
			{Name: "db_kib", Summary: "each snapshot DB file's size", Default: 32, Min: 1, Max: 1024},
		},
		Groups: []string{"follower"}, GroupWord: "NODE",
		Actors: actors,
		Setup:  setup,
	}
}

func actors(kit.Config) []kit.Actor {
	fp := kit.Declared()
	return []kit.Actor{
		{Name: "receiver", Summary: "rafthttp's snapshot handler: receives each snapshot's DB file (INDEX.snap.db) and hands the snapshot to raft", FS: true, Group: "follower", Footprint: fp,
			Ops: []model.Info{op("receive", "a snapshot's DB file received")}},
		{Name: "raft", Summary: "the raft loop: saves each snapshot (INDEX.snap), releases older DB files, queues it for apply", FS: true, Group: "follower", Footprint: fp,
			Ops: append([]model.Info{op("save", "a snapshot saved"), op("release", "older snapshot DB files released")}, kit.DeleterOps...)},
		{Name: "applier", Summary: "the apply loop: applies each snapshot by opening its DB file (watched by the oracle)", FS: true, Watched: true, Group: "follower", Footprint: fp,
			Ops: []model.Info{op("apply", "a snapshot applied")}},
	}
}

// follower is one run's state.
type follower struct {
	w   *kit.World
	cfg kit.Config
	// ready are the received snapshots raft has not saved; applyq the
	// saved ones the apply loop has not applied (raft indexes).
	ready, applyq *kit.Var[[]uint64]
	// pending registers DB files waiting to be applied (skip-pending);
	// del is the release's deleter.
	pending *kit.Registry
	del     *kit.Deleter
	applied int
}

func setup(w *kit.World, cfg kit.Config) error {
	if err := w.MkdirAll(snapDir); err != nil {
		return err
	}
	f := &follower{w: w, cfg: cfg, pending: kit.NewRegistry(w, "pending apply")}
	f.ready = kit.NewVar(w, "ready", []uint64(nil))
	f.applyq = kit.NewVar(w, "apply-queue", []uint64(nil))
	var honours, ignores []kit.Protection
	switch {
	case cfg.Design == SkipPending && cfg.Variant(VariantIgnoreRegistry):
		ignores = []kit.Protection{f.pending}
	case cfg.Design == SkipPending:
		honours = []kit.Protection{f.pending}
	}
	f.del = kit.NewDeleter(w, "release", honours, ignores)
	w.Spawn("receiver", f.receiveLoop)
	w.Spawn("raft", f.raftLoop)
	w.Spawn("applier", f.applyLoop)
	return nil
}

// maxPolls bounds a loop's polls (the run ends long before).
const maxPolls = 1 << 20

// draw returns a delay drawn in 0..setting name.
func (f *follower) draw(name string) sim.Micros {
	max := f.cfg.Int(name)
	if max == 0 {
		return 0
	}
	return sim.Micros(f.w.Scheduler().Intn(int(max) + 1))
}

// receiveLoop receives the leader's snapshots: each DB file is written
// (and, skip-pending, registered) before raft sees the snapshot.
func (f *follower) receiveLoop(a *sim.Actor) {
	for i := int64(1); i <= f.cfg.Int("snapshots"); i++ {
		a.Sleep(f.draw("max_snapshot_gap_us"))
		index := uint64(i * f.cfg.Int("index_step"))
		p := SnapDB.Path(index)
		if err := kit.WriteFile(f.w.FS(), p, make([]byte, f.cfg.Int("db_kib")*1024)); err != nil {
			f.w.Record(sim.ClassAction, "receive", p, "failed: "+err.Error())
			continue
		}
		if f.cfg.Design == SkipPending {
			f.pending.Register(p, fmt.Sprintf("snapshot at index %d", index))
		}
		f.ready.Set(append(slices.Clone(f.ready.Get()), index))
		f.w.Record(sim.ClassAction, "receive", p, "ok")
	}
}

// raftLoop saves each ready snapshot, releases the DB files older than it
// and queues it for apply, until it has handled every snapshot.
func (f *follower) raftLoop(a *sim.Actor) {
	handled := int64(0)
	for poll := 0; poll < maxPolls && handled < f.cfg.Int("snapshots"); poll++ {
		ready := f.ready.Get()
		if len(ready) == 0 {
			a.SleepIdle(f.cfg.Micros("poll_us"))
			continue
		}
		index := ready[0]
		f.ready.Set(slices.Clone(ready[1:]))
		handled++
		if err := kit.WriteFile(f.w.FS(), Snap.Path(index), []byte("raft snapshot")); err != nil {
			f.w.Record(sim.ClassAction, "save", Snap.Path(index), "failed: "+err.Error())
			continue
		}
		f.w.Record(sim.ClassAction, "save", Snap.Path(index), "ok")
		f.release(index)
		f.applyq.Set(append(slices.Clone(f.applyq.Get()), index))
	}
}

// release is snap.ReleaseSnapDBs: list the .snap.db files and remove
// those older than the snapshot at index.
func (f *follower) release(index uint64) {
	files, err := kit.List(f.w.FS(), SnapDB)
	if err != nil {
		f.w.Record(sim.ClassAction, "release", "", "failed: "+err.Error())
		return
	}
	var released []string
	for _, p := range files {
		if gen, _ := SnapDB.Gen(p); gen < index {
			if ok, _ := f.del.Delete(p, fmt.Sprintf("older than the snapshot at index %d", index)); ok {
				released = append(released, p)
			}
		}
	}
	f.w.Record(sim.ClassAction, "release", fmt.Sprintf("DB files older than index %d", index), fmt.Sprintf("released %v", released))
}

// applyLoop applies the saved snapshots in order, each after a drawn
// delay (the entries ahead of it), until it has applied every snapshot.
func (f *follower) applyLoop(a *sim.Actor) {
	for poll := 0; poll < maxPolls && int64(f.applied) < f.cfg.Int("snapshots"); poll++ {
		q := f.applyq.Get()
		if len(q) == 0 {
			a.SleepIdle(f.cfg.Micros("poll_us"))
			continue
		}
		index := q[0]
		f.applyq.Set(slices.Clone(q[1:]))
		a.Sleep(f.draw("max_apply_delay_us"))
		f.apply(index)
	}
	f.w.Summarize("snapshots applied: %d", f.applied)
}

// apply opens the snapshot's DB file and moves it into the backend, as
// etcd's OpenSnapshotBackend; a missing file is etcd's panic.
func (f *follower) apply(index uint64) {
	p := SnapDB.Path(index)
	if _, err := f.w.FS().Stat(p); err != nil {
		panic(fmt.Sprintf("failed to open snapshot backend: failed to find database snapshot file (snap: snapshot file doesn't exist) [%s: %v]", p, err))
	}
	if err := f.w.FS().Rename(p, backendPath); err != nil {
		panic(fmt.Sprintf("failed to open snapshot backend: %v", err))
	}
	f.pending.Deregister(p)
	f.applied++
	f.w.Record(sim.ClassAction, "apply", fmt.Sprintf("snapshot at index %d", index), "ok")
}
