package tikv

import (
	"fmt"
	"path"
	"strings"

	"github.com/snapsim/snapsim/sim"
)

// CoordinatorLoop ends a run in three phases, as TigerBeetle's VOPR does:
//
//  1. safety: wait while the workload (writer, PD, snapshot requests)
//     interferes;
//  2. liveness: stop interference (no more writes, region operations,
//     crashes or injected faults) and require every requested snapshot to
//     reach a final state within LivenessBound;
//  3. quiescence: let leases expire and both GCs drain, then check that no
//     file is left that is neither live, pinned nor deleted (file-leak).
func (c *Cluster) CoordinatorLoop(a *sim.Actor) {
	for !c.workloadDone() {
		a.Park()
	}
	if c.cfg.EndAfter == EndAfterWorkload {
		c.s.Record(sim.ClassInfo, "phase", "end: the workload is done (end after workload)", "")
		c.end()
		return
	}
	c.interference = false
	if c.Leader.Threads != nil {
		c.Leader.Threads.StopChurn()
	}
	c.Leader.FS.SetFaults(c.cfg.FS.Faults.Quiet())
	c.Learner.FS.SetFaults(c.cfg.FS.Faults.Quiet())
	c.s.Record(sim.ClassInfo, "phase", "liveness: interference stopped", "")

	deadline := c.s.Now() + c.cfg.LivenessBound
	for !c.allFinal() && c.s.Now() < deadline {
		a.Sleep(max(c.cfg.LivenessBound/64, sim.Microsecond))
	}
	for _, r := range c.Snapshots {
		if !r.final() {
			c.s.Observe(sim.KindLiveness, fmt.Sprintf("snapshot %d %s still %s %s after interference stopped", r.ID, r.Key, r.Status, c.cfg.LivenessBound))
		}
	}

	if c.cfg.EndAfter == EndAfterLiveness {
		c.s.Record(sim.ClassInfo, "phase", "end: every snapshot is final (end after liveness)", "")
		c.end()
		return
	}
	c.s.Record(sim.ClassInfo, "phase", "quiescence: waiting for leases to expire and GC to drain", "")
	c.settle(a, c.s.Now()+c.cfg.LivenessBound)
	a.Sleep(max(c.cfg.LeaseTTL+c.cfg.GCGrace, c.cfg.SnapGCTimeout) + 2*c.cfg.SnapGCInterval + 2*c.cfg.GCInterval)
	for _, n := range []*Node{c.Leader, c.Learner} {
		if leaks := n.leaks(); len(leaks) > 0 {
			c.s.Observe(sim.KindFileLeak, fmt.Sprintf("%s: %d files neither live, pinned nor deleted: %s", n.Name, len(leaks), strings.Join(leaks, " ")))
		}
	}
	c.end()
}

// end marks the run over and wakes the daemons that wait for it.
func (c *Cluster) end() {
	c.done = true
	c.s.Wake(c.sender)
	c.s.Wake(c.applier)
}

// settle waits, until deadline at most, for both nodes to be up and their
// engines to have no background work in progress or due (Engine.Settled).
// Crashes stop with interference, but a node crashed just before is still
// down or restarting, and after its restart the flusher and compactor
// write the replayed memtables out: their outputs are on disk before
// their version is installed, and a received snapshot's files wait for
// the restarted snapshot GC's first pass. The quiescence wait (lease
// expiry, GC passes, the snapshot-GC timeout) runs from the moment the
// cluster has settled, not from the moment interference stopped; before
// it did, a short snap_gc_timeout_us let the leak check run mid-flush and
// report the flush's outputs as leaked (seeds/leak-restart.seed).
func (c *Cluster) settle(a *sim.Actor, deadline sim.Micros) {
	start := c.s.Now()
	for !c.settled() && c.s.Now() < deadline {
		a.Sleep(max(c.cfg.GCInterval, sim.Microsecond))
	}
	if waited := c.s.Now() - start; waited > 0 {
		state := "settled"
		if !c.settled() {
			state = "not settled by the bound"
		}
		c.s.Record(sim.ClassInfo, "phase", fmt.Sprintf("quiescence: waited %s for both nodes to be up and their engines idle (%s)", waited, state), "")
	}
}

// settled reports whether both nodes are up and their engines settled.
func (c *Cluster) settled() bool {
	for _, n := range []*Node{c.Leader, c.Learner} {
		if n.down || !n.Engine.Settled() {
			return false
		}
	}
	return true
}

// workloadDone reports whether the interfering workers have finished.
func (c *Cluster) workloadDone() bool {
	for _, a := range c.workers {
		if !a.Done() {
			return false
		}
	}
	// A leader crash kills the generators; its restart respawns them if
	// requests are left. Until then the workload is not done (else the
	// liveness and quiescence phases began while the restarted generator
	// still had snapshots to build, and the leak check ran mid-ingest).
	return !(c.Leader.down && c.generatorsAlive())
}

// allFinal reports whether every requested snapshot reached a final state.
func (c *Cluster) allFinal() bool {
	if !c.workloadDone() {
		return false
	}
	for _, r := range c.Snapshots {
		if !r.final() {
			return false
		}
	}
	return true
}

// leaks returns n's files that are neither live (in the current version,
// the manifest, a registered snapshot) nor pinned (a live version, a lease)
// nor deleted, plus snapshot files GC should have removed. Sorted.
func (n *Node) leaks() []string {
	var out []string
	e := n.Engine
	for _, p := range n.FS.Paths() {
		if _, gone := n.FS.Deleted(p); gone || path.Dir(p) != DBDir || !strings.HasSuffix(p, ".sst") {
			continue
		}
		if e.Tracks(p) {
			continue
		}
		out = append(out, p)
	}
	return append(out, n.leftovers()...)
}
