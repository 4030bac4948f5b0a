package model

import (
	"fmt"
	"runtime/debug"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// Outcome is everything a run produced: the kernel's result (trace hash,
// events, observations), the drawn workload, the snapshot reports and the
// space and fault accounting.
type Outcome struct {
	Config    Config            `json:"config"`
	Workload  Workload          `json:"workload"`
	Result    sim.Result        `json:"result"`
	Snapshots []SnapshotReport  `json:"snapshots"`
	Usage     vfsmem.Usage      `json:"usage"`
	Faults    vfsmem.FaultStats `json:"faults"`
}

// Violated reports whether anything was observed.
func (o *Outcome) Violated() bool { return len(o.Result.Observations) > 0 }

// Run builds a node for cfg, draws its workload and runs it to completion
// under the kernel configured by sc, drawing every decision from choice,
// then runs the checker. An error means the configuration is unusable or the
// model itself failed (a bug in snapsim, reported, never a crash); actor
// panics are observations, not errors.
func Run(cfg Config, choice sim.Choice, sc sim.Config) (out Outcome, err error) {
	if err := cfg.Validate(); err != nil {
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
	work := drawWorkload(cfg, s)
	n, err := newNode(s, cfg, work)
	if err != nil {
		return Outcome{}, err
	}
	s.RecordAs("setup", sim.ClassInfo, "workload", fmt.Sprintf("collector=%s puts=%d flush_threshold=%d compact_trigger=%d snapshots=%d delays=%v",
		cfg.Collector, work.Puts, work.FlushThreshold, work.CompactTrigger, work.Snapshots, work.SnapshotDelays), "")

	s.Spawn("writer", sim.ActorOptions{}, n.WriteLoop)
	s.Spawn("snap-gen", sim.ActorOptions{Watched: true}, n.GenerateLoop)
	n.Engine.flusher = s.Spawn("flusher", sim.ActorOptions{Daemon: true}, n.Engine.FlushLoop)
	n.Engine.compactor = s.Spawn("compactor", sim.ActorOptions{Daemon: true}, n.Engine.CompactLoop)
	n.Engine.gc = s.Spawn("gc", sim.ActorOptions{Daemon: true}, n.Engine.GCLoop)

	s.Run()
	n.verify()

	out = Outcome{Config: cfg, Workload: work, Result: s.Result(), Usage: n.FS.Usage(n.classify), Faults: n.FS.Faults()}
	for _, r := range n.Snapshots {
		if r.Status == SnapRunning {
			r.Status, r.Error = SnapAborted, "generator did not finish: "+generatorFate(out.Result.Observations)
		}
		out.Snapshots = append(out.Snapshots, *r)
	}
	return out, nil
}

// generatorFate explains why an unfinished snapshot stopped.
func generatorFate(obs []sim.Observation) string {
	for _, o := range obs {
		if o.Kind == sim.KindPanic && o.Actor == "snap-gen" {
			return "it panicked at step " + fmt.Sprint(o.Step)
		}
	}
	return "the run ended first"
}
