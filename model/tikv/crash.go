package tikv

import (
	"fmt"
	"path"

	"github.com/snapsim/snapsim/sim"
)

// crashDowntime is how long a crashed node stays down before it restarts.
const crashDowntime = 2 * sim.Millisecond

// CrashStage is the pipeline stage a crash aims at (Config.CrashStage).
type CrashStage int

const (
	// CrashAnytime crashes a drawn node after a drawn pause.
	CrashAnytime CrashStage = iota
	// CrashGenerating crashes the leader while a snapshot is being built.
	CrashGenerating
	// CrashSending crashes the leader or the learner (drawn) while a
	// snapshot is being sent.
	CrashSending
	// CrashApplying crashes the learner while a snapshot is being applied.
	CrashApplying
)

// String names the stage.
func (st CrashStage) String() string {
	switch st {
	case CrashGenerating:
		return "generating"
	case CrashSending:
		return "sending"
	case CrashApplying:
		return "applying"
	}
	return "anytime"
}

// crashStagePoll is how often an aimed crasher looks for its stage.
const crashStagePoll = 100 * sim.Microsecond

// inStage returns the node to crash when a snapshot is in stage st (nil:
// none is). Sending draws which end of the connection dies, once the stage
// is found.
func (c *Cluster) inStage(st CrashStage) *Node {
	switch st {
	case CrashGenerating:
		for _, r := range c.Snapshots {
			if r.Status == SnapRunning && !c.Leader.down {
				return c.Leader
			}
		}
	case CrashSending:
		if !c.Leader.down && !c.Learner.down && c.Leader.Snap.inState(SnapSending) {
			if c.s.Intn(2) == 1 {
				return c.Learner
			}
			return c.Leader
		}
	case CrashApplying:
		if !c.Learner.down && c.Learner.Snap.inState(SnapApplying) {
			return c.Learner
		}
	}
	return nil
}

// CrashLoop is the crasher daemon (the faults profile): up to MaxCrashes
// times, after a drawn pause (and, with Config.CrashStage, once a snapshot
// is in that pipeline stage), it crashes a node — its filesystem is reset
// to the synced state, its open handles invalidated, its threads killed —
// and restarts it after a short downtime: the engine recovers from its
// MANIFEST and replays the raft log, the snapshot manager cleans up
// half-built snapshots and resumes received ones.
func (c *Cluster) CrashLoop(a *sim.Actor) {
	for i := 0; i < c.cfg.MaxCrashes && c.interference; i++ {
		a.Sleep(sim.Micros(1 + c.s.Intn(2*int(c.cfg.CrashInterval)+1)))
		if !c.interference {
			return
		}
		n := c.Leader
		if c.s.Intn(2) == 1 {
			n = c.Learner
		}
		if st := c.cfg.CrashStage; st != CrashAnytime {
			// Aimed: wait for a snapshot in the stage (the drawn node is
			// not used), until interference stops.
			for n = c.inStage(st); n == nil; n = c.inStage(st) {
				a.Sleep(crashStagePoll)
				if !c.interference {
					return
				}
			}
			c.s.Record(sim.ClassInfo, "crash", fmt.Sprintf("aimed at a snapshot %s on %s", st, n.Name), "")
		}
		c.crash(n)
		a.Sleep(crashDowntime)
		if err := c.restart(a, n); err != nil {
			c.s.Observe(sim.KindPanic, fmt.Sprintf("%s failed to restart: %v", n.Name, err))
			return
		}
	}
}

// nodeActors returns the actors that live on node n.
func (c *Cluster) nodeActors(n *Node) []*sim.Actor {
	d := n.Engine.Daemons()
	if n == c.Leader {
		return append([]*sim.Actor{d.Flusher, d.Compactor, d.GC, c.sender, n.snapGC, c.churn}, c.generators...)
	}
	return []*sim.Actor{d.GC, c.applier, n.snapGC}
}

// crash kills the node's actors and resets its filesystem.
func (c *Cluster) crash(n *Node) {
	n.down = true
	n.incarnation++
	for _, a := range c.nodeActors(n) {
		if a != nil {
			c.s.Kill(a)
		}
	}
	c.s.Record(sim.ClassAction, "crash", n.Name, "node down")
	n.FS.Crash()
	for _, r := range c.Snapshots {
		switch {
		case n == c.Leader && (r.Status == SnapRunning || r.Status == SnapGenerated):
			c.finish(r, SnapAborted, "leader crashed")
		}
	}
	if n == c.Leader {
		c.toSend = nil
	}
}

// restart recovers the node and respawns its actors.
func (c *Cluster) restart(a *sim.Actor, n *Node) error {
	e := n.Engine
	if n.Threads != nil {
		// The process restarts: every worker thread is new, and the
		// thread-local caches start empty.
		if err := n.Threads.Restart(a); err != nil {
			return fmt.Errorf("restart threads: %w", err)
		}
	}
	if err := e.Recover(); err != nil {
		return fmt.Errorf("recover engine: %w", err)
	}
	if n == c.Leader {
		replayed := 0
		for _, rec := range c.Ref.Log() {
			if rec.Seq > e.Current().FlushedSeq {
				e.ApplyAt(rec)
				replayed++
			}
		}
		c.term++
		c.s.Record(sim.ClassAction, "restart", fmt.Sprintf("%s: recovered version %d, replayed %d raft entries, term %d", n.Name, e.Current().ID, replayed, c.term), "ok")
	} else {
		c.s.Record(sim.ClassAction, "restart", fmt.Sprintf("%s: recovered version %d", n.Name, e.Current().ID), "ok")
	}
	n.Snap.reset()
	if err := c.recoverSnapDir(n); err != nil {
		return err
	}
	n.down = false
	if n == c.Leader {
		c.spawnLeaderDaemons()
		c.spawnChurn()
		if c.generatorsAlive() {
			c.spawnGenerator()
		}
	} else {
		c.spawnLearnerDaemons()
		c.s.Wake(c.applier)
	}
	return nil
}

// recoverSnapDir removes half-built snapshots (temporary files, and data
// files whose meta never made it) and the checkpoint collector's links of
// builds the crash killed and, on the learner, queues received snapshots
// that were not applied yet.
func (c *Cluster) recoverSnapDir(n *Node) error {
	names, err := n.FS.List(SnapDir)
	if err != nil {
		return fmt.Errorf("list %s: %w", SnapDir, err)
	}
	hasMeta := map[string]bool{}
	for _, name := range names {
		if prefix, key, tmp, ok := parseSnapPath(name); ok && !tmp && path.Ext(name) == ".meta" {
			hasMeta[prefix+key.String()] = true
		}
	}
	for _, name := range names {
		if p := path.Join(SnapDir, name); isCheckpointLink(p) {
			// A checkpoint link outlives its build only in a crash: the
			// link was made durable (another build's directory sync) and
			// its removal was not. Its generator died with the node, so
			// nobody else would ever remove it.
			err := n.FS.RemoveBecause(p, "checkpoint link of a build that died in the crash")
			c.s.Record(sim.ClassAction, "snap-cleanup", n.Name+":"+p, result(err))
			continue
		}
		prefix, key, tmp, ok := parseSnapPath(name)
		if !ok {
			continue
		}
		if tmp || !hasMeta[prefix+key.String()] {
			p := path.Join(SnapDir, name)
			err := n.FS.RemoveBecause(p, "half-built snapshot after restart")
			c.s.Record(sim.ClassAction, "snap-cleanup", n.Name+":"+p, result(err))
		}
	}
	if n != c.Learner {
		return nil
	}
	c.toApply = nil
	for _, r := range c.Snapshots {
		if r.Status == SnapSent && hasMeta[prefixRev+r.Key.String()] {
			r.Status = SnapSent
			n.Snap.Register(r.Key, SnapPendingApply)
			c.toApply = append(c.toApply, r)
		} else if r.Status == SnapSent {
			c.finish(r, SnapFailed, "received files lost in the learner's crash")
		}
	}
	return nil
}
