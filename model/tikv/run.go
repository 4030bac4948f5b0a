package tikv

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/engine"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// Outcome is everything a run produced: the kernel's result (trace hash,
// events, observations), the drawn workload, the snapshot reports and the
// space and fault accounting of each node.
type Outcome struct {
	Config    Config            `json:"config"`
	Workload  Workload          `json:"workload"`
	Result    sim.Result        `json:"result"`
	Snapshots []SnapshotReport  `json:"snapshots"`
	Usage     vfsmem.Usage      `json:"usage"`
	Faults    vfsmem.FaultStats `json:"faults"`
	Learner   vfsmem.Usage      `json:"learner_usage"`
	Regions   []Region          `json:"regions"`
	// PeakPinnedBytes is the leader's peak of obsolete-but-pinned bytes
	// (Engine.PeakPinnedBytes).
	PeakPinnedBytes int64 `json:"peak_pinned_bytes"`
	// Leases is the life of every lease on the leader's engine,
	// Deletions every removal of an obsolete engine file by either
	// node's deleter, DeletionHolds every DisableDeletions interval on
	// either node: the facts the whole-run properties judge
	// (properties/outcome_test.go), recorded, never decided on.
	Leases        []LeaseLog     `json:"leases,omitempty"`
	Deletions     []Deletion     `json:"deletions,omitempty"`
	DeletionHolds []DeletionHold `json:"deletion_holds,omitempty"`
	// Script says how far a scenario's script got: how many steps
	// completed, where the script ended, which steps were not run and why,
	// and the refused step if one was (RunScenario). Nil for any run that
	// is not a scenario.
	Script *model.ScriptReport `json:"script,omitempty"`
}

// Violated reports whether anything was observed.
func (o *Outcome) Violated() bool { return len(o.Result.Observations) > 0 }

// Simulate builds a two-node cluster for cfg, draws its workload and runs it to
// completion under the kernel configured by sc, drawing every decision from
// choice. An error means the configuration is unusable or the model itself
// failed (a bug in snapsim, reported, never a crash); actor panics are
// observations, not errors.
func (sys *System) Simulate(cfg Config, choice sim.Choice, sc sim.Config) (out Outcome, err error) {
	return sys.run(cfg, choice, sc, nil, nil)
}

// run is Simulate with a hook called after every actor of the cluster has been
// spawned and before the kernel runs (RunScenario spawns its director
// there). A nil hook is Simulate.
func (sys *System) run(cfg Config, choice sim.Choice, sc sim.Config, hook func(rt model.Runtime), after func()) (out Outcome, err error) {
	if err := sys.Validate(cfg); err != nil {
		return Outcome{}, err
	}
	defer func() {
		if r := recover(); r != nil {
			if ab, ok := r.(sim.Abort); ok {
				panic(ab.Cause) // the Choice source's own control flow
			}
			err = fmt.Errorf("model failed outside any actor (a snapsim bug): %v\n%s", r, debug.Stack())
		}
	}()
	s := sim.New(choice, sc)
	drawProfile(&cfg, s)
	work := drawWorkload(cfg, s)
	c, err := sys.NewCluster(s, cfg, work)
	if err != nil {
		return Outcome{}, err
	}
	s.RecordAs("setup", sim.ClassInfo, "workload", fmt.Sprintf("collector=%s puts=%d flush_threshold=%d compact_trigger=%d snapshots=%d delays=%v",
		cfg.Collector, work.Puts, work.FlushThreshold, work.CompactTrigger, work.Snapshots, work.SnapshotDelays), "")
	c.spawn()
	if hook != nil {
		hook(scenarioRuntime{c})
	}
	s.Run()
	if after != nil {
		after()
	}

	out = Outcome{Config: cfg, Workload: work, Result: s.Result(),
		Usage: c.Leader.FS.Usage(c.Leader.classify), Faults: c.Leader.FS.Faults(),
		Learner: c.Learner.FS.Usage(c.Learner.classify), PeakPinnedBytes: c.Leader.Engine.PeakPinnedBytes()}
	for _, r := range c.Regions.All() {
		out.Regions = append(out.Regions, *r)
	}
	out.Leases = c.Leader.Engine.LeaseLog()
	for _, n := range []*Node{c.Leader, c.Learner} {
		for _, d := range n.Engine.Deletions() {
			d.Node = n.Name
			out.Deletions = append(out.Deletions, d)
		}
		for _, h := range n.Engine.DeletionHolds() {
			h.Node = n.Name
			out.DeletionHolds = append(out.DeletionHolds, h)
		}
	}
	for _, r := range c.Snapshots {
		if !r.final() {
			r.Status, r.Error = SnapAborted, "did not finish: "+generatorFate(out.Result.Observations, r)
		}
		out.Snapshots = append(out.Snapshots, *r)
	}
	return out, nil
}

// drawProfile makes a profile's per-seed draws (swarm's mechanisms, the
// pipeline profile's generators and crash stage), the first draws of a
// run, and sets the kernel's timer tick the configuration asks for.
func drawProfile(cfg *Config, s *sim.Scheduler) {
	if cfg.Swarm {
		drawSwarm(cfg, s)
	}
	if cfg.Pipeline {
		drawPipeline(cfg, s)
	}
	s.SetTimerTick(cfg.TimerTick)
}

// spawn creates every actor, workers first (their order is the order a
// random walk's choices refer to).
func (c *Cluster) spawn() {
	s := c.s
	c.workers = append(c.workers, s.Spawn("writer", sim.ActorOptions{Footprint: c.fp.writer}, c.worker(c.WriteLoop)))
	c.spawnGenerator()
	if c.cfg.MaxRegionOps > 0 {
		c.workers = append(c.workers, s.Spawn("pd", sim.ActorOptions{}, c.worker(c.PDLoop)))
	}
	c.coordinator = s.Spawn("coordinator", sim.ActorOptions{Footprint: c.fp.coordinator}, c.CoordinatorLoop)
	c.spawnLeaderDaemons()
	c.spawnLearnerDaemons()
	if c.cfg.MaxCrashes > 0 {
		s.Spawn("crasher", sim.ActorOptions{Daemon: true}, c.CrashLoop)
	}
	c.spawnChurn()
}

// spawnGenerator starts (or, after a leader restart, restarts) the snapshot
// generator; it resumes with the next requested snapshot.
func (c *Cluster) spawnGenerator() {
	c.generators = nil
	for i := 0; i < c.cfg.SnapGenerators; i++ {
		name := "snap-gen"
		if i > 0 {
			name = fmt.Sprintf("snap-gen-%d", i+1)
		}
		g := c.s.Spawn(name, sim.ActorOptions{Watched: true, Footprint: c.genFP}, c.worker(c.GenerateLoop))
		c.generators = append(c.generators, g)
		c.workers = append(c.workers, g)
	}
}

// generatorsAlive reports whether some generator still has requests to
// serve (it was killed with work left).
func (c *Cluster) generatorsAlive() bool { return c.nextGen < len(c.work.SnapshotDelays) }

// spawnChurn starts the leader's worker-thread churn daemon, if configured.
func (c *Cluster) spawnChurn() {
	if c.Leader.Threads != nil && c.cfg.ThreadChurnInterval > 0 && c.interference {
		c.churn = c.s.Spawn("threads", sim.ActorOptions{Daemon: true}, c.Leader.Threads.ChurnLoop)
	}
}

// worker wraps an interfering actor so that its end (return or panic)
// wakes the coordinator.
func (c *Cluster) worker(fn func(a *sim.Actor)) func(a *sim.Actor) {
	return func(a *sim.Actor) {
		defer func() { c.s.Wake(c.coordinator) }()
		fn(a)
	}
}

func (c *Cluster) spawnLeaderDaemons() {
	s, e := c.s, c.Leader.Engine
	e.SetDaemons(engine.Daemons{
		Flusher:   s.Spawn("flusher", sim.ActorOptions{Daemon: true, Footprint: c.fp.flusher}, e.FlushLoop),
		Compactor: s.Spawn("compactor", sim.ActorOptions{Daemon: true, Footprint: c.fp.compactor}, e.CompactLoop),
		GC:        s.Spawn("gc", sim.ActorOptions{Daemon: true, Footprint: c.fp.gc}, e.GCLoop),
	})
	c.sender = s.Spawn("sender", sim.ActorOptions{Daemon: true, Watched: true, Footprint: c.fp.sender}, c.SendLoop)
	c.Leader.snapGC = s.Spawn("snap-gc", sim.ActorOptions{Daemon: true, Footprint: c.fp.snapGC}, c.Leader.SnapGCLoop)
}

func (c *Cluster) spawnLearnerDaemons() {
	s, e := c.s, c.Learner.Engine
	e.SetDaemons(engine.Daemons{GC: s.Spawn("n2-gc", sim.ActorOptions{Daemon: true, Footprint: c.fp.learnerGC}, e.GCLoop)})
	c.applier = s.Spawn("applier", sim.ActorOptions{Daemon: true, Watched: true, Footprint: c.fp.applier}, c.ApplyLoop)
	c.Learner.snapGC = s.Spawn("n2-snap-gc", sim.ActorOptions{Daemon: true, Footprint: c.fp.learnerSnapGC}, c.Learner.SnapGCLoop)
}

// generatorFate explains why an unfinished snapshot stopped.
func generatorFate(obs []sim.Observation, r *SnapshotReport) string {
	if r.Status == SnapRunning {
		for _, o := range obs {
			if o.Kind == sim.KindPanic && strings.HasPrefix(o.Actor, "snap-gen") {
				return "the generator panicked at step " + fmt.Sprint(o.Step)
			}
		}
	}
	return "the run ended while it was " + r.Status
}

// SplitObservations returns the observations made while a scenario's
// script ran and those made after it ended (model.ScriptReport.Split);
// for a run that is not a scenario every observation is in the first
// part.
func (o *Outcome) SplitObservations() (during, after []sim.Observation) {
	return o.Script.Split(o.Result.Observations)
}

// Check compares o with sc's expectations (model.Scenario.Check).
func (o *Outcome) Check(sc *model.Scenario) error { return sc.Check(o.Result, o.Script) }
