package model

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
// file is a snap-file-missing violation.
func (n *Node) SnapGCLoop(a *sim.Actor) {
	if n.cfg.Variants.NoSnapGC {
		return
	}
	for !n.c.done {
		a.Sleep(n.cfg.SnapGCInterval)
		if n.down {
			continue
		}
		n.snapGCPass()
	}
}

// snapGCPass runs one snapshot GC pass.
func (n *Node) snapGCPass() {
	names, err := n.FS.List(SnapDir)
	if err != nil {
		return
	}
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
		if inUse != "" && !n.cfg.Variants.UnsafeSnapGC {
			continue
		}
		p := path.Join(SnapDir, name)
		// Re-check, in the step of the removal, that the snapshot is still
		// stale and unregistered: it may have been re-sent or re-registered
		// while GC waited (or stalled) after listing.
		check := func() error {
			inUse = n.Snap.InUse(key)
			if n.cfg.Variants.UnsafeSnapGC {
				return nil
			}
			if inUse != "" {
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
