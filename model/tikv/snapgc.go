package tikv

import (
	"fmt"
	"path"
	"sort"

	"github.com/snapsim/snapsim/sim"
)

// SnapGCLoop is a node's snapshot GC actor: every SnapGCInterval it lists
// the snapshot dir and deletes the files of stale snapshots — applied (or
// rejected) ones, and any older than SnapGCTimeout — skipping snapshots
// registered as in use. The unsafe variant (Variants.UnsafeSnapGC, TiKV
// #11746) does not consult the registry; deleting a registered snapshot's
// file is a snap-file-missing violation. The wait after a pass that
// removed nothing is an idle wait (sim.Actor.SleepIdle), where a
// scenario's "run snap-gc until idle" stops.
func (n *Node) SnapGCLoop(a *sim.Actor) {
	if n.cfg.Variants.NoSnapGC {
		return
	}
	idle := false
	for !n.c.done {
		if idle {
			a.SleepIdle(n.cfg.SnapGCInterval)
		} else {
			a.Sleep(n.cfg.SnapGCInterval)
		}
		if n.down {
			continue
		}
		idle = n.snapGCPass() == 0
	}
}

// snapSkip remembers why snapshot GC last recorded keeping a stale
// snapshot's file (snap-gc-skip), and in which pass it was still kept.
type snapSkip struct {
	path, inUse string
	pass        uint64
}

// snapGCPass runs one snapshot GC pass and returns how many removals it
// attempted. A stale snapshot's file kept because the registry has the
// snapshot in use is recorded as a snap-gc-skip event, once per file and
// registry state (not on every pass).
func (n *Node) snapGCPass() int {
	names, err := n.FS.List(SnapDir)
	if err != nil {
		return 0
	}
	n.snapGCPasses++
	tried := 0
	defer n.dropSnapSkips()
	for _, name := range names {
		prefix, key, tmp, ok := parseSnapPath(name)
		if !ok {
			continue
		}
		why := n.staleWhy(prefix, key, tmp)
		if why == "" {
			continue
		}
		inUse := n.Snap.InUse(key)
		p := path.Join(SnapDir, name)
		if inUse != "" && !n.cfg.Variants.UnsafeSnapGC && !n.forgetsApplying(inUse) {
			n.noteSnapSkip(p, why, inUse)
			continue
		}
		tried++
		// Re-check, in the step of the removal, that the snapshot is still
		// stale and unregistered: it may have been re-sent or re-registered
		// while GC waited (or stalled) after listing.
		check := func() error {
			inUse = n.Snap.InUse(key)
			if n.cfg.Variants.UnsafeSnapGC {
				return nil
			}
			if inUse != "" && !n.forgetsApplying(inUse) {
				return fmt.Errorf("snapshot %s is registered %s", key, inUse)
			}
			if n.staleWhy(prefix, key, tmp) == "" {
				return fmt.Errorf("snapshot %s is no longer stale", key)
			}
			return nil
		}
		err := n.FS.RemoveChecked(p, "snapshot GC: "+why, check)
		if err == nil && inUse != "" {
			n.s.Observe(sim.KindSnapFileMissing, fmt.Sprintf("%s:%s deleted by snapshot GC (%s) while registered %s", n.Name, p, why, inUse))
		}
		n.s.Record(sim.ClassAction, "snap-gc", n.Name+":"+p+" ("+why+")", result(err))
	}
	return tried
}

// forgetsApplying reports whether the SnapGCApplying weakening lets
// snapshot GC treat a snapshot registered only as Applying as unregistered.
func (n *Node) forgetsApplying(inUse string) bool {
	return n.cfg.Weaken.SnapGCApplying && inUse == SnapApplying.String()
}

// noteSnapSkip records a snap-gc-skip event for p unless the same registry
// state was the last one recorded for it.
func (n *Node) noteSnapSkip(p, why, inUse string) {
	for i := range n.snapSkips {
		if k := &n.snapSkips[i]; k.path == p {
			k.pass = n.snapGCPasses
			if k.inUse == inUse {
				return
			}
			k.inUse = inUse
			n.recordSnapSkip(p, why, inUse)
			return
		}
	}
	n.snapSkips = append(n.snapSkips, snapSkip{path: p, inUse: inUse, pass: n.snapGCPasses})
	n.recordSnapSkip(p, why, inUse)
}

func (n *Node) recordSnapSkip(p, why, inUse string) {
	n.s.Record(sim.ClassInfo, "snap-gc-skip", n.Name+":"+p+" ("+why+"; registered "+inUse+")", "kept")
}

// dropSnapSkips forgets the files the pass just ended did not keep (gone,
// no longer stale, or removed): keeping one again is a new decision.
func (n *Node) dropSnapSkips() {
	kept := n.snapSkips[:0]
	for _, k := range n.snapSkips {
		if k.pass == n.snapGCPasses {
			kept = append(kept, k)
		}
	}
	n.snapSkips = kept
}

// staleWhy says why a snapshot's files may go, or "" if they must stay.
func (n *Node) staleWhy(prefix string, key SnapKey, tmp bool) string {
	c := n.c
	switch {
	case prefix == prefixRev && n.Snap.Applied(key):
		return "applied"
	case prefix == prefixGen && c.Learner.Snap.Applied(key):
		return "applied by the peer"
	case prefix == prefixGen && key.Term < c.term:
		return "older term"
	}
	if age := n.Snap.age(key); age > n.cfg.SnapGCTimeout || (age == 0 && tmp) {
		return fmt.Sprintf("timeout (%s old)", age)
	}
	return ""
}

// leftovers returns the snapshot files of n that snapshot GC should have
// removed by quiescence: stale and not registered. Sorted.
func (n *Node) leftovers() []string {
	var out []string
	for _, p := range n.FS.Paths() {
		if path.Dir(p) != SnapDir {
			continue
		}
		if _, gone := n.FS.Deleted(p); gone {
			continue
		}
		prefix, key, tmp, ok := parseSnapPath(p)
		if !ok {
			out = append(out, p)
			continue
		}
		if n.Snap.InUse(key) == "" && n.staleWhy(prefix, key, tmp) != "" {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
