package model

import (
	"fmt"
	"strings"

	"github.com/snapsim/snapsim/sim"
)

// Step kinds of a scenario (a scripted interleaving).
const (
	StepRunUntil   = "run-until"   // run ACTOR until OP [N]
	StepRunSteps   = "run-steps"   // run ACTOR steps N
	StepCrash      = "crash"       // crash NODE
	StepRestart    = "restart"     // restart NODE
	StepSplit      = "split"       // split REGION AT KEY
	StepMerge      = "merge"       // merge SOURCE INTO TARGET
	StepConfChange = "conf-change" // conf-change REGION
	StepStop       = "stop"        // stop
)

// DefaultStepBudget is how many director decisions one scenario step may
// take before the scenario is declared stuck.
const DefaultStepBudget = 5000

// DirectorActor is the name of the actor that performs a scenario's
// commands (crash, restart, split, merge, conf-change).
const DirectorActor = "director"

// ScenarioStep is one line of a scenario's script.
type ScenarioStep struct {
	// Kind is one of the Step* constants.
	Kind string `json:"kind"`
	// Actor and Op: run-until (Op) and run-steps.
	Actor string `json:"actor,omitempty"`
	Op    string `json:"op,omitempty"`
	// N: the events to wait for (run-until, default 1) or the steps to run
	// (run-steps).
	N int `json:"n,omitempty"`
	// Node: crash and restart ("n1" or "n2").
	Node string `json:"node,omitempty"`
	// Region (split, merge source, conf-change), Target (merge) and Key
	// (split).
	Region uint64 `json:"region,omitempty"`
	Target uint64 `json:"target,omitempty"`
	Key    string `json:"key,omitempty"`
	// Source is where the step was written ("file:line"), and Text the
	// line itself; both name the step in errors.
	Source string `json:"source,omitempty"`
	Text   string `json:"text,omitempty"`
}

func (st ScenarioStep) String() string {
	src := st.Source
	if src == "" {
		src = "step"
	}
	return fmt.Sprintf("%s: %q", src, st.Text)
}

// Scenario is a scripted interleaving: a configuration, a seed (for the
// workload draws and for the schedule after the script), ordered steps and
// the expected observations.
type Scenario struct {
	Name   string         `json:"name"`
	Config Config         `json:"config"`
	Seed   uint64         `json:"seed"`
	Steps  []ScenarioStep `json:"steps"`
	// StepBudget bounds the director decisions per step (0: the default).
	StepBudget int64 `json:"step_budget,omitempty"`
	// Expect lists kinds that must be observed; ExpectNone demands that
	// nothing is; ExpectNot lists kinds that must not be observed.
	Expect     []sim.Kind `json:"expect,omitempty"`
	ExpectNone bool       `json:"expect_none,omitempty"`
	ExpectNot  []sim.Kind `json:"expect_not,omitempty"`
}

// Check compares an outcome with the scenario's expectations and returns
// an error describing the first mismatch.
func (sc *Scenario) Check(out *Outcome) error {
	seen := map[sim.Kind]bool{}
	var kinds []string
	for _, o := range out.Result.Observations {
		if !seen[o.Kind] {
			kinds = append(kinds, string(o.Kind))
		}
		seen[o.Kind] = true
	}
	if sc.ExpectNone && len(kinds) > 0 {
		o := out.Result.Observations[0]
		return fmt.Errorf("expected no observation, got %s (first: %s at step %d by %s: %s)", strings.Join(kinds, ", "), o.Kind, o.Step, o.Actor, o.Detail)
	}
	for _, k := range sc.Expect {
		if !seen[k] {
			got := "nothing"
			if len(kinds) > 0 {
				got = strings.Join(kinds, ", ")
			}
			return fmt.Errorf("expected %s, observed %s", k, got)
		}
	}
	for _, k := range sc.ExpectNot {
		if seen[k] {
			return fmt.Errorf("expected no %s, but it was observed", k)
		}
	}
	return nil
}

// ScenarioError is a scenario step that could not make progress.
type ScenarioError struct {
	Step ScenarioStep
	Why  string
}

func (e *ScenarioError) Error() string {
	return fmt.Sprintf("%s: %s", e.Step, e.Why)
}

// RunScenario runs sc: the cluster is built as Run builds it (from
// sc.Config and a PRNG seeded with sc.Seed), and a Director executes the
// steps in order; after the last one the configured strategy finishes the
// run (unless a stop step ended it). simCfg.KeepTrace is forced on: the
// director steers by the recorded events. An error means the configuration
// is unusable or a step could not make progress (named with its source
// line); the outcome is returned as far as it got.
func RunScenario(sc Scenario, simCfg sim.Config) (Outcome, error) {
	budget := sc.StepBudget
	if budget <= 0 {
		budget = DefaultStepBudget
	}
	for _, st := range sc.Steps {
		if err := st.validate(); err != nil {
			return Outcome{}, &ScenarioError{Step: st, Why: err.Error()}
		}
	}
	d := &director{sc: &sc, budget: budget}
	simCfg.KeepTrace = true
	simCfg.Director = d.direct
	out, err := run(sc.Config, sim.NewPRNG(sc.Seed), simCfg, d.attach)
	if err != nil {
		return out, err
	}
	if d.err != nil {
		return out, d.err
	}
	if d.next < len(sc.Steps) && out.Result.End != sim.EndViolation {
		st := sc.Steps[d.next]
		return out, &ScenarioError{Step: st, Why: fmt.Sprintf("the run ended (%s after %d steps) before this step completed", out.Result.End, out.Result.Steps)}
	}
	return out, nil
}

// validate checks a step's own fields (the parser should never build a bad
// one; a hand-built Scenario might).
func (st ScenarioStep) validate() error {
	switch st.Kind {
	case StepRunUntil:
		if st.Actor == "" || st.Op == "" || st.N < 1 {
			return fmt.Errorf("run-until needs an actor, an op and N >= 1")
		}
	case StepRunSteps:
		if st.Actor == "" || st.N < 1 {
			return fmt.Errorf("run-steps needs an actor and N >= 1")
		}
	case StepCrash, StepRestart:
		if st.Node != "n1" && st.Node != "n2" {
			return fmt.Errorf("%s needs node n1 or n2, got %q", st.Kind, st.Node)
		}
	case StepSplit:
		if st.Region == 0 || st.Key == "" {
			return fmt.Errorf("split needs a region and a key")
		}
	case StepMerge:
		if st.Region == 0 || st.Target == 0 || st.Region == st.Target {
			return fmt.Errorf("merge needs two different regions")
		}
	case StepConfChange:
		if st.Region == 0 {
			return fmt.Errorf("conf-change needs a region")
		}
	case StepStop:
	default:
		return fmt.Errorf("unknown step kind %q", st.Kind)
	}
	return nil
}

// director executes a scenario's steps from sim.Config.Director.
type director struct {
	sc     *Scenario
	budget int64
	c      *Cluster
	actor  *sim.Actor // performs the commands
	// next is the index of the step being executed; started tells whether
	// its start was recorded; used counts its director decisions; target
	// is its event count to reach (run-until) and count the events seen.
	next    int
	started bool
	used    int64
	count   int
	seen    int // events already scanned
	// pending is the command the director actor performs next; cmdDone is
	// set when it has.
	pending *ScenarioStep
	cmdDone bool
	err     error
}

// attach is run's hook: it spawns the director actor after the cluster's.
func (d *director) attach(c *Cluster) {
	d.c = c
	d.actor = c.s.Spawn(DirectorActor, sim.ActorOptions{}, d.loop)
}

// loop is the director actor: it performs pending commands until the
// script is over.
func (d *director) loop(a *sim.Actor) {
	for d.next < len(d.sc.Steps) && d.err == nil {
		if st := d.pending; st != nil {
			if err := d.perform(a, st); err != nil {
				d.err = &ScenarioError{Step: *st, Why: err.Error()}
			}
			d.pending, d.cmdDone = nil, true
		}
		a.Yield()
	}
}

// fail records why step st cannot go on and ends the run.
func (d *director) fail(st *ScenarioStep, format string, args ...any) int {
	if d.err == nil {
		d.err = &ScenarioError{Step: *st, Why: fmt.Sprintf(format, args...)}
		d.c.s.RecordAs(DirectorActor, sim.ClassInfo, "scenario", st.Text, "stuck: "+d.err.(*ScenarioError).Why)
	}
	return -1
}

// direct is the sim.Config.Director.
func (d *director) direct(runnable []*sim.Actor, step int64) int {
	s := d.c.s
	if d.err != nil {
		return -1
	}
	if d.next >= len(d.sc.Steps) {
		return sim.Fallback
	}
	st := &d.sc.Steps[d.next]
	if !d.started {
		d.started, d.used, d.count, d.cmdDone = true, 0, 0, false
		d.seen = len(s.Events())
		s.RecordAs(DirectorActor, sim.ClassInfo, "scenario", fmt.Sprintf("step %d (%s): %s", d.next+1, st.Source, st.Text), "")
	}
	d.used++
	if d.used > d.budget {
		return d.fail(st, "no progress within the step budget of %d decisions", d.budget)
	}
	switch st.Kind {
	case StepStop:
		s.RecordAs(DirectorActor, sim.ClassInfo, "scenario", "stop", "")
		d.advance()
		return -1
	case StepRunUntil, StepRunSteps:
		if st.Kind == StepRunUntil {
			for _, e := range s.Events()[d.seen:] {
				if e.Actor == st.Actor && e.Op == st.Op {
					d.count++
				}
			}
			d.seen = len(s.Events())
		}
		if d.count >= st.N {
			d.advance()
			return d.direct(runnable, step)
		}
		a := d.find(st.Actor)
		if a == nil {
			return d.fail(st, "no actor named %q (actors: %s)", st.Actor, d.names())
		}
		if st.Kind == StepRunSteps {
			d.count++ // this decision runs one step of a
		}
		return d.pick(st, a, runnable)
	default: // a command for the director actor
		if d.cmdDone {
			d.advance()
			return d.direct(runnable, step)
		}
		if d.pending == nil {
			d.pending = st
		}
		return d.pick(st, d.actor, runnable)
	}
}

// pick returns a's index in runnable, Idle if it sleeps, or ends the run if
// it cannot run again.
func (d *director) pick(st *ScenarioStep, a *sim.Actor, runnable []*sim.Actor) int {
	for i, r := range runnable {
		if r == a {
			return i
		}
	}
	if ok, _ := a.Sleeping(); ok {
		if st.Kind == StepRunSteps {
			d.count-- // nothing ran
		}
		return sim.Idle
	}
	if a.Done() {
		return d.fail(st, "actor %s has finished", a.Name())
	}
	if a.Parked() {
		return d.fail(st, "actor %s is parked (waiting for another actor) and cannot make progress", a.Name())
	}
	panic(fmt.Sprintf("model: scenario: actor %s is neither runnable, sleeping, parked nor done", a.Name()))
}

// advance moves to the next step.
func (d *director) advance() {
	d.next++
	d.started = false
	if d.next >= len(d.sc.Steps) {
		d.c.s.RecordAs(DirectorActor, sim.ClassInfo, "scenario", "script done: the strategy takes over", "")
	}
}

// find returns the latest actor named name (a restart respawns a node's
// actors under the same names), preferring one that has not finished.
func (d *director) find(name string) *sim.Actor {
	var found *sim.Actor
	for _, a := range d.c.s.Actors() {
		if a.Name() == name && (found == nil || !a.Done() || found.Done()) {
			found = a
		}
	}
	return found
}

func (d *director) names() string {
	seen := map[string]bool{}
	var out []string
	for _, a := range d.c.s.Actors() {
		if !seen[a.Name()] {
			seen[a.Name()] = true
			out = append(out, a.Name())
		}
	}
	return strings.Join(out, ", ")
}

// perform executes a command step on the director actor a.
func (d *director) perform(a *sim.Actor, st *ScenarioStep) error {
	c := d.c
	switch st.Kind {
	case StepCrash, StepRestart:
		n := c.Leader
		if st.Node == "n2" {
			n = c.Learner
		}
		if st.Kind == StepCrash {
			if n.down {
				return fmt.Errorf("node %s is already down", n.Name)
			}
			c.crash(n)
			return nil
		}
		if !n.down {
			return fmt.Errorf("node %s is not down (crash it first)", n.Name)
		}
		return c.restart(a, n)
	case StepSplit:
		r := c.Regions.ByID(st.Region)
		if r == nil {
			return fmt.Errorf("no live region %d", st.Region)
		}
		if st.Key <= r.Start || (r.End != "" && st.Key >= r.End) {
			return fmt.Errorf("key %s is not strictly inside %s", st.Key, r)
		}
		n := c.Regions.Split(r, st.Key)
		c.s.Record(sim.ClassAction, "split", fmt.Sprintf("at %s: %s and %s", st.Key, r, n), "ok")
	case StepMerge:
		src, dst := c.Regions.ByID(st.Region), c.Regions.ByID(st.Target)
		if src == nil || dst == nil {
			return fmt.Errorf("merge needs live regions %d and %d", st.Region, st.Target)
		}
		if !(src.End != "" && src.End == dst.Start) && !(dst.End != "" && dst.End == src.Start) {
			return fmt.Errorf("%s and %s are not adjacent", src, dst)
		}
		c.Regions.Merge(src, dst)
		c.s.Record(sim.ClassAction, "merge", fmt.Sprintf("region %d into %s", src.ID, dst), "ok")
	case StepConfChange:
		r := c.Regions.ByID(st.Region)
		if r == nil {
			return fmt.Errorf("no live region %d", st.Region)
		}
		r.Epoch.ConfVer++
		c.s.Record(sim.ClassAction, "conf-change", r.String(), "ok")
	default:
		panic(fmt.Sprintf("model: scenario: %q is not a command", st.Kind))
	}
	return nil
}
