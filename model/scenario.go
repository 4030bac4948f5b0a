package model

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/snapsim/snapsim/sim"
)

// Step kinds every system's scenarios have (a scripted interleaving); a
// system adds its own commands (Spec.Commands: tikv's crash, restart,
// split, merge, conf-change), whose Kind is the command's name.
const (
	StepRunUntil = "run-until" // run ACTOR until OP [N]
	StepRunSteps = "run-steps" // run ACTOR steps N
	StepRunIdle  = "run-idle"  // run ACTOR until idle
	StepHang     = "hang"      // hang ACTOR|GROUP for DURATION
	StepStop     = "stop"      // stop
)

// DefaultStepBudget is how many director decisions one scenario step may
// take before the scenario is declared stuck.
const DefaultStepBudget = 5000

// DirectorActor is the name of the actor that performs a scenario's
// commands (hang, and the system's: tikv's crash, restart, split, merge,
// conf-change).
const DirectorActor = "director"

// ScenarioStep is one line of a scenario's script.
type ScenarioStep struct {
	// Kind is one of the Step* constants, or the name of a system command.
	Kind string `json:"kind"`
	// Actor: run-until (with Op), run-steps, run-idle, and hang of one
	// actor.
	Actor string `json:"actor,omitempty"`
	Op    string `json:"op,omitempty"`
	// N: the operations to wait for (run-until, default 1) or the steps to
	// run (run-steps).
	N int `json:"n,omitempty"`
	// Node: the group a hang stalls (Spec.Groups), or a system command's
	// node (tikv: crash and restart of "n1" or "n2").
	Node string `json:"node,omitempty"`
	// Duration is how long a hang stalls its actors (virtual time).
	Duration sim.Micros `json:"duration_us,omitempty"`
	// Region, Target and Key are a system command's arguments, as the
	// command's Parse fills them (tikv: split, merge source, conf-change;
	// merge target; split key). Key may hold any word of a user's command.
	Region uint64 `json:"region,omitempty"`
	Target uint64 `json:"target,omitempty"`
	Key    string `json:"key,omitempty"`
	// Source is where the step was written ("file:line"), and Text the
	// line itself; both name the step in errors. Only Text reaches the
	// trace, so the trace hash does not depend on the file's name or on
	// where in it the step stands (adding a comment line changes nothing).
	Source string `json:"source,omitempty"`
	Text   string `json:"text,omitempty"`
}

// String names the step for errors: its source and its text, clipped.
func (st ScenarioStep) String() string {
	src := st.Source
	if src == "" {
		src = "step"
	}
	return fmt.Sprintf("%s: %q", src, Clip(st.Text))
}

// Clip bounds user input echoed in a message: past 60 bytes it is cut
// (at a rune boundary) and the full length is said instead ("…(N
// bytes)"), so a 20 MB line does not come back whole. A system's command
// parser (Command.Parse) uses it for the words it echoes.
func Clip(s string) string {
	const clipMax = 60
	if len(s) <= clipMax {
		return s
	}
	cut := clipMax
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:cut], len(s))
}

// ParseUint accepts a decimal or 0x-hex uint64 (no sign, no octal, no
// digit separators), as every number of a scenario or scope file is
// written.
func ParseUint(s string) (uint64, bool) {
	var v uint64
	var err error
	if rest, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		if rest == "" || strings.ContainsAny(rest, "+-_") {
			return 0, false
		}
		v, err = strconv.ParseUint(rest, 16, 64)
	} else {
		if strings.ContainsAny(s, "+-_") {
			return 0, false
		}
		v, err = strconv.ParseUint(s, 10, 64)
	}
	return v, err == nil
}

// Scope says which observations of a scenario's run a positive expectation
// looks at. The script ends at the director's "script done" point: after
// the step in which the last script step completed; what the strategy (or
// the rest of a stopped run) does after it is the tail.
type Scope string

// Expectation scopes.
const (
	// ScopeScript (the default, written "during script" or not at all):
	// only observations made while the script ran, so a buggy scenario is
	// met by what its script staged, not by a violation the random tail
	// happened to find.
	ScopeScript Scope = ""
	// ScopeTail ("after script"): only observations made after the script
	// ended.
	ScopeTail Scope = "after script"
	// ScopeAnytime ("anytime"): observations of the whole run.
	ScopeAnytime Scope = "anytime"
)

// Expectation is one "expect" or "expect-not" line: an observation of
// Kind, optionally by Actor (the observation's actor, exactly) and on Path
// (the observation's detail names Path as a whole path token: see
// DetailNamesPath). Scope applies to positive expectations only; negative
// ones always look at the whole run.
type Expectation struct {
	Kind  sim.Kind `json:"kind"`
	Actor string   `json:"actor,omitempty"`
	Path  string   `json:"path,omitempty"`
	Scope Scope    `json:"scope,omitempty"`
}

// String renders the expectation as written after "expect" (without the
// default scope), e.g. "open-deleted-file by snap-gen on /db/000001.sst".
func (x Expectation) String() string {
	s := string(x.Kind)
	if x.Actor != "" {
		s += " by " + x.Actor
	}
	if x.Path != "" {
		s += " on " + x.Path
	}
	if x.Scope != ScopeScript {
		s += " " + string(x.Scope)
	}
	return s
}

// Matches reports whether observation o is of the expected kind, actor
// and path (the scope is the caller's business).
func (x Expectation) Matches(o sim.Observation) bool {
	return o.Kind == x.Kind && (x.Actor == "" || o.Actor == x.Actor) && (x.Path == "" || DetailNamesPath(o.Detail, x.Path))
}

// DetailNamesPath reports whether detail contains path as a whole path
// token: an occurrence neither preceded nor followed by a path character
// (a letter, digit, '/', '.', '_' or '-'). So "/db/000001.sst" is named by
// "open /db/000001.sst: removed ..." and by "n2:/db/000001.sst deleted",
// but not by "/db/000001.sst.tmp" nor "/x/db/000001.sst"; a base name
// ("000001.sst") never matches a full path.
func DetailNamesPath(detail, path string) bool {
	if path == "" {
		return false
	}
	for from := 0; from <= len(detail)-len(path); {
		i := strings.Index(detail[from:], path)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(path)
		if (i == 0 || !isPathByte(detail[i-1])) && (end == len(detail) || !isPathByte(detail[end])) {
			return true
		}
		from = i + 1
	}
	return false
}

func isPathByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '/' || b == '.' || b == '_' || b == '-'
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
	// Expect lists observations that must be made (each within its
	// Scope: by default while the script runs); ExpectNone demands that
	// nothing is observed in the whole run; ExpectNot lists observations
	// that must not be made in the whole run, tail included. The asymmetry
	// is deliberate: a positive expectation must be met by what the script
	// staged, and a negative one is safer the more of the run it covers.
	Expect     []Expectation `json:"expect,omitempty"`
	ExpectNone bool          `json:"expect_none,omitempty"`
	ExpectNot  []Expectation `json:"expect_not,omitempty"`
}

// Check compares a run's result with the scenario's expectations and
// returns an error describing the first mismatch. script splits the
// observations at the end of the script; without it (a run that was not a
// scenario, such as a seed file's) every observation counts as made during
// the script.
func (sc *Scenario) Check(res sim.Result, script *ScriptReport) error {
	all := res.Observations
	during, after := script.Split(all)
	if sc.ExpectNone && len(all) > 0 {
		o := all[0]
		return fmt.Errorf("expected no observation, got %s (first: %s at step %d by %s: %s)", kindsOf(all), o.Kind, o.Step, o.Actor, o.Detail)
	}
	// A file that expects nothing (or only the absence of kinds) is
	// confirmed only by a run that finished: a run cut off by its step
	// budget could have shown the kind later.
	if len(sc.Expect) == 0 && len(all) == 0 && res.End == sim.EndBudget {
		return fmt.Errorf("the run did not finish: it ran out of its step budget after %d steps, so %s cannot be confirmed (raise max_steps)", res.Steps, sc.negativeWords())
	}
	for _, x := range sc.Expect {
		pool, where := during, "during the script"
		switch x.Scope {
		case ScopeTail:
			pool, where = after, "after the script"
		case ScopeAnytime:
			pool, where = all, "in the run"
		}
		if matching(pool, x) != nil {
			continue
		}
		msg := fmt.Sprintf("expected %s %s, observed %s", x.withoutScope(), where, describeObs(pool))
		if o := matching(all, x); o != nil {
			hint := "anytime"
			if x.Scope == ScopeTail {
				hint = "during script"
			}
			msg += fmt.Sprintf("; it was observed %s (step %d by %s: %s): write \"expect %s %s\" if that is meant", otherPart(during, *o), o.Step, o.Actor, o.Detail, x.withoutScope(), hint)
		}
		return fmt.Errorf("%s", msg)
	}
	for _, x := range sc.ExpectNot {
		if o := matching(all, x); o != nil {
			return fmt.Errorf("expected no %s, but it was observed (step %d by %s: %s)", x.withoutScope(), o.Step, o.Actor, o.Detail)
		}
	}
	return nil
}

// negativeWords restates a file's negative expectations for messages.
func (sc *Scenario) negativeWords() string {
	if sc.ExpectNone {
		return `"expect none"`
	}
	var parts []string
	for _, x := range sc.ExpectNot {
		parts = append(parts, `"expect-not `+x.withoutScope()+`"`)
	}
	return strings.Join(parts, ", ")
}

func (x Expectation) withoutScope() string {
	x.Scope = ScopeScript
	return x.String()
}

// otherPart says where an observation outside the expectation's scope was.
func otherPart(during []sim.Observation, o sim.Observation) string {
	for _, d := range during {
		if d == o {
			return "during the script"
		}
	}
	return "after the script"
}

func matching(obs []sim.Observation, x Expectation) *sim.Observation {
	for i := range obs {
		if x.Matches(obs[i]) {
			return &obs[i]
		}
	}
	return nil
}

func kindsOf(obs []sim.Observation) string {
	seen := map[sim.Kind]bool{}
	var kinds []string
	for _, o := range obs {
		if !seen[o.Kind] {
			seen[o.Kind] = true
			kinds = append(kinds, string(o.Kind))
		}
	}
	return strings.Join(kinds, ", ")
}

// describeObs lists observations briefly: kind, actor and step of each
// (at most 4).
func describeObs(obs []sim.Observation) string {
	if len(obs) == 0 {
		return "nothing"
	}
	var parts []string
	for i, o := range obs {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("and %d more", len(obs)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s by %s at step %d", o.Kind, o.Actor, o.Step))
	}
	return strings.Join(parts, ", ")
}

// ScenarioError is a scenario step that could not make progress (a
// refusal): the step, its number in the script (1-based) and why.
type ScenarioError struct {
	Step   ScenarioStep `json:"step"`
	Number int          `json:"number"`
	Why    string       `json:"why"`
	// NoSuchActor is set when the step names an actor the configuration
	// does not have (a mistake in the file, not a behaviour of the run).
	NoSuchActor bool `json:"no_such_actor,omitempty"`
}

// noSuchActor is the error of a step naming an actor the run does not
// have.
type noSuchActor string

func (e noSuchActor) Error() string { return string(e) }

func (e *ScenarioError) Error() string {
	return fmt.Sprintf("%s: %s", e.Step, e.Why)
}

// ScriptReport says how far a scenario's script got; Outcome.Script holds
// it for a scenario run (nil for any other run). A run stopped by a
// violation before the script's end is not an error, but the steps it
// did not run are listed here (and in the trace's last event) with why.
type ScriptReport struct {
	// Steps is the number of script steps; Completed how many completed
	// (steps complete in order, so they are the first Completed).
	Steps     int `json:"steps"`
	Completed int `json:"completed"`
	// Ended reports whether the script reached its end: every step
	// completed. EndStep and EndTime are the kernel step and virtual time
	// after which it ended (the director's "script done" point, or the
	// run's last step if that step completed the script).
	Ended   bool       `json:"ended"`
	EndStep int64      `json:"end_step"`
	EndTime sim.Micros `json:"end_time_us"`
	// ScriptObservations is how many of Result.Observations were made
	// while the script ran (the first ScriptObservations; all of them if
	// the script did not end). The rest were made in the tail.
	ScriptObservations int `json:"script_observations"`
	// NotRun lists, in order, the steps that did not complete, each with
	// the reason (e.g. "the run stopped at the violation at step 167
	// (open-deleted-file by snap-gen)").
	NotRun []StepNotRun `json:"not_run,omitempty"`
	// Refusal is the step that could not make progress, if one could
	// not; RunScenario returns it as its error too.
	Refusal *ScenarioError `json:"refusal,omitempty"`
}

// StepNotRun is a script step that did not complete.
type StepNotRun struct {
	// Number is the step's place in the script (1-based).
	Number int          `json:"number"`
	Step   ScenarioStep `json:"step"`
	// Started reports whether the step had begun (it was the one in
	// progress when the run ended or was refused).
	Started bool   `json:"started"`
	Reason  string `json:"reason"`
}

// Split returns the observations of obs (a run's) made while the script
// ran and those made after it ended (the tail). For a run that is not a
// scenario (r nil) every observation is in the first part.
func (r *ScriptReport) Split(obs []sim.Observation) (during, after []sim.Observation) {
	if r == nil || !r.Ended {
		return obs, nil
	}
	n := min(max(r.ScriptObservations, 0), len(obs))
	return obs[:n], obs[n:]
}

// SplitObservations returns the observations made while the script ran
// and those made after it ended (the tail); see ScriptReport.Split.
func (o *Outcome) SplitObservations() (during, after []sim.Observation) {
	return o.Script.Split(o.Result.Observations)
}

// RunScenario runs sc on sys: the system runs sc.Config with a PRNG
// seeded with sc.Seed, and a director executes the steps in order; after
// the last one the configured strategy finishes the run (unless a stop
// step ended it). simCfg.KeepTrace is forced on: the director steers by
// the recorded events. simCfg.StopOnViolation decides whether the run
// (script included) stops at the end of the first violating step. The
// outcome always carries a Script report. An error means the
// configuration is unusable or a step could not make progress (a
// *ScenarioError naming the step and its source line); the outcome, with
// the trace kept up to that point, is returned with it.
func RunScenario(sys System, sc Scenario, simCfg sim.Config) (Outcome, error) {
	var out Outcome
	script, err := Direct(sc, sys.Spec().Commands, simCfg, func(simCfg sim.Config, h Hooks) error {
		var err error
		out, err = sys.Run(sc.Config, sim.NewPRNG(sc.Seed), simCfg, h)
		return err
	})
	out.Script = script
	return out, err
}

// Direct runs a scenario's script over a run: it validates the steps
// (commands are the system's), then calls run with the kernel
// configuration and the hooks that put the director in the run; run runs
// the system (a system with a richer outcome than Outcome calls Direct
// itself, as tikv.System.RunScenario does). It returns the script report
// and the error RunScenario returns.
func Direct(sc Scenario, commands []Command, simCfg sim.Config, run func(simCfg sim.Config, h Hooks) error) (*ScriptReport, error) {
	budget := sc.StepBudget
	if budget <= 0 {
		budget = DefaultStepBudget
	}
	d := &director{sc: &sc, budget: budget, commands: commands}
	for i, st := range sc.Steps {
		if err := st.validate(commands); err != nil {
			d.err = &ScenarioError{Step: st, Number: i + 1, Why: err.Error()}
			d.next = i
			return d.report(nil), d.err
		}
	}
	simCfg.KeepTrace = true
	simCfg.Director = d.direct
	err := run(simCfg, Hooks{Start: d.attach, End: d.finish})
	if d.rep == nil { // the run did not get as far as its end
		d.rep = d.report(nil)
	}
	if err != nil {
		return d.rep, err
	}
	if d.err != nil {
		return d.rep, d.err
	}
	return d.rep, nil
}

// validate checks a step's own fields (the parser should never build a bad
// one; a hand-built Scenario might); a system command's fields are its
// Check's.
func (st ScenarioStep) validate(commands []Command) error {
	switch st.Kind {
	case StepRunUntil:
		if st.Actor == "" || st.Op == "" || st.N < 1 {
			return fmt.Errorf("run-until needs an actor, an op and N >= 1")
		}
	case StepRunSteps:
		if st.Actor == "" || st.N < 1 {
			return fmt.Errorf("run-steps needs an actor and N >= 1")
		}
	case StepRunIdle:
		if st.Actor == "" {
			return fmt.Errorf("run-idle needs an actor")
		}
	case StepHang:
		if (st.Actor == "") == (st.Node == "") {
			return fmt.Errorf("hang needs an actor or a node, not both")
		}
		if st.Duration <= 0 {
			return fmt.Errorf("hang needs a duration > 0")
		}
	case StepStop:
	default:
		for _, c := range commands {
			if c.Name == st.Kind {
				if c.Check != nil {
					return c.Check(st)
				}
				return nil
			}
		}
		return fmt.Errorf("unknown step kind %q", Clip(st.Kind))
	}
	return nil
}

// director executes a scenario's steps from sim.Config.Director.
type director struct {
	sc       *Scenario
	budget   int64
	commands []Command
	rt       Runtime
	s        *sim.Scheduler
	actor    *sim.Actor // performs the commands
	// next is the index of the step being executed; started tells whether
	// its start was recorded; used counts the turns given to its actor
	// (against the step budget) and waits the decisions that only let time
	// pass; count the operations (run-until) or steps (run-steps) seen so
	// far, and turns the turns given to the actor (run-idle).
	next    int
	started bool
	used    int64
	waits   int
	count   int
	turns   int
	seen    int   // events already scanned
	opStep  int64 // the kernel step of the last operation counted
	pending *ScenarioStep
	cmdDone bool
	err     *ScenarioError
	// ended is set at the "script done" point, with the kernel step, time
	// and number of observations then.
	ended   bool
	endStep int64
	endTime sim.Micros
	endObs  int
	// stopped is the number of the stop step that ended the run (0: none).
	stopped int
	rep     *ScriptReport
}

// attach is the Start hook: it spawns the director actor after the
// system's (finish is the End hook).
func (d *director) attach(rt Runtime) {
	d.rt, d.s = rt, rt.Scheduler()
	d.actor = d.s.Spawn(DirectorActor, sim.ActorOptions{}, d.loop)
}

// loop is the director actor: it performs pending commands until the
// script is over.
func (d *director) loop(a *sim.Actor) {
	for d.next < len(d.sc.Steps) && d.err == nil {
		if st := d.pending; st != nil {
			if err := d.perform(a, st); err != nil {
				d.refuse(st, "%v", err)
				var nsa noSuchActor
				if errors.As(err, &nsa) {
					d.err.NoSuchActor = true
				}
			}
			d.pending, d.cmdDone = nil, true
		}
		a.Yield()
	}
}

// refuse records why the current step st cannot go on.
func (d *director) refuse(st *ScenarioStep, format string, args ...any) {
	if d.err == nil {
		d.err = &ScenarioError{Step: *st, Number: d.next + 1, Why: fmt.Sprintf(format, args...)}
		d.s.RecordAs(DirectorActor, sim.ClassInfo, "scenario", fmt.Sprintf("step %d refused: %s", d.next+1, Clip(st.Text)), "stuck: "+d.err.Why)
	}
}

// fail refuses the current step and ends the run.
func (d *director) fail(st *ScenarioStep, format string, args ...any) int {
	d.refuse(st, format, args...)
	return -1
}

// direct is the sim.Config.Director.
func (d *director) direct(runnable []*sim.Actor, step int64) int {
	s := d.s
	if d.err != nil {
		return -1
	}
	if d.next >= len(d.sc.Steps) {
		if !d.ended { // a script without steps ends before the first decision
			d.markEnd()
		}
		return sim.Fallback
	}
	st := &d.sc.Steps[d.next]
	if !d.started {
		d.started, d.used, d.waits, d.count, d.turns, d.cmdDone = true, 0, 0, 0, 0, false
		d.seen, d.opStep = len(s.Events()), -1
		s.RecordAs(DirectorActor, sim.ClassInfo, "scenario", fmt.Sprintf("step %d: %s", d.next+1, st.Text), "")
	}
	if d.used >= d.budget {
		if st.Kind == StepRunIdle {
			return d.fail(st, "actor %s did not become idle within the step budget of %d decisions", st.Actor, d.budget)
		}
		return d.fail(st, "no progress within the step budget of %d decisions", d.budget)
	}
	if d.waits >= maxIdleWaits {
		return d.fail(st, "no progress after letting time pass %d times (t=%s)", maxIdleWaits, s.Now())
	}
	switch st.Kind {
	case StepStop:
		s.RecordAs(DirectorActor, sim.ClassInfo, "scenario", "stop", "")
		d.stopped = d.next + 1
		d.advance()
		if !d.ended { // steps after a stop (the parser refuses them)
			d.markEnd()
		}
		return -1
	case StepRunUntil, StepRunSteps, StepRunIdle:
		if d.complete(st) {
			d.advance()
			return d.direct(runnable, step)
		}
		if st.Actor == DirectorActor {
			return d.fail(st, "%s is the scenario's own actor; want one of %s", DirectorActor, d.names())
		}
		a := d.find(st.Actor)
		if a == nil {
			d.fail(st, "no actor named %q (actors: %s)", Clip(st.Actor), d.names())
			d.err.NoSuchActor = true
			return -1
		}
		if st.Kind == StepRunIdle && d.turns == 0 && (a.Parked() || a.Done()) {
			s.RecordAs(DirectorActor, sim.ClassInfo, "scenario", fmt.Sprintf("%s is idle at once (%s)", a.Name(), idleState(a)), "")
			d.advance()
			return d.direct(runnable, step)
		}
		i := d.pick(st, a, runnable)
		if i >= 0 {
			d.turns++
			if st.Kind == StepRunSteps {
				d.count++ // this decision runs one step of a
			}
		}
		return d.counted(i)
	default: // a command for the director actor
		if d.cmdDone {
			d.advance()
			return d.direct(runnable, step)
		}
		if d.pending == nil {
			d.pending = st
		}
		return d.counted(d.pick(st, d.actor, runnable))
	}
}

// maxIdleWaits bounds how often one step may let virtual time pass (sim.Idle
// decisions: the actor sleeps or is hung while others' timers fire). Each
// wait moves the clock strictly forward, so it is a bound on a loop that
// ends anyway; it is far above DefaultStepBudget because a long hang or
// sleep can span many other actors' wake-ups.
const maxIdleWaits = 1000000

// counted charges decision i to the step: a turn given to an actor against
// the step budget, a wait for time to pass against maxIdleWaits.
func (d *director) counted(i int) int {
	switch {
	case i >= 0:
		d.used++
	case i == sim.Idle:
		d.waits++
	}
	return i
}

// complete reports whether the current run step st has reached its goal,
// scanning the events recorded since the last look. For run-until it
// counts operations, not events: a scheduling step of the actor counts
// once however many events with op OP it recorded (the filesystem call and
// the collector's action event of one open are one open).
func (d *director) complete(st *ScenarioStep) bool {
	s := d.s
	switch st.Kind {
	case StepRunUntil:
		evs := s.Events()
		for _, e := range evs[d.seen:] {
			if e.Actor == st.Actor && e.Op == st.Op && e.Step != d.opStep {
				d.count++
				d.opStep = e.Step
			}
		}
		d.seen = len(evs)
		return d.count >= st.N
	case StepRunSteps:
		return d.count >= st.N
	case StepRunIdle:
		if d.turns == 0 {
			return false
		}
		a := d.find(st.Actor)
		if a == nil || !isIdle(a) {
			return false
		}
		turns := "turns"
		if d.turns == 1 {
			turns = "turn"
		}
		s.RecordAs(DirectorActor, sim.ClassInfo, "scenario", fmt.Sprintf("%s is idle after %d %s (%s)", a.Name(), d.turns, turns, idleState(a)), "")
		return true
	}
	return false
}

// isIdle reports whether a has nothing to do now: it is parked, finished,
// or sleeping in an idle wait (a poll after a pass that did nothing).
func isIdle(a *sim.Actor) bool {
	if a.Parked() || a.Done() {
		return true
	}
	ok, _ := a.Sleeping()
	return ok && a.IdleWait()
}

func idleState(a *sim.Actor) string {
	switch {
	case a.Done():
		return "finished"
	case a.Parked():
		return "parked"
	}
	_, until := a.Sleeping()
	return "polling, next look at t=" + until.String()
}

// pick returns a's index in runnable, Idle if it sleeps or is hung (time
// passes, nobody runs), or refuses the step if a cannot run again.
func (d *director) pick(st *ScenarioStep, a *sim.Actor, runnable []*sim.Actor) int {
	if hung, _ := a.Hung(); hung && !a.Done() && !a.Parked() {
		return sim.Idle
	}
	for i, r := range runnable {
		if r == a {
			return i
		}
	}
	if ok, _ := a.Sleeping(); ok {
		return sim.Idle
	}
	if a.Done() {
		return d.fail(st, "actor %s has finished", a.Name())
	}
	if a.Parked() {
		return d.fail(st, "actor %s is parked (waiting for another actor) and cannot make progress; \"run %s until idle\" accepts a parked actor", a.Name(), a.Name())
	}
	panic(fmt.Sprintf("model: scenario: actor %s is neither runnable, sleeping, hung, parked nor done", a.Name()))
}

// advance moves to the next step; past the last one it marks the script's
// end.
func (d *director) advance() {
	d.next++
	d.started = false
	if d.next >= len(d.sc.Steps) {
		d.markEnd()
	}
}

// markEnd marks the end of the script (the "script done" point): what is
// observed from now on is the tail.
func (d *director) markEnd() {
	s := d.s
	d.ended, d.endStep, d.endTime, d.endObs = true, s.Step(), s.Now(), len(s.Observations())
	s.RecordAs(DirectorActor, sim.ClassInfo, "scenario", "script done: the strategy takes over", "")
}

// finish runs after the kernel: it settles the step in progress (the run
// may have stopped at the end of the very step that completed it), records
// the steps that were not run and why, and builds the report.
func (d *director) finish() {
	s := d.s
	if d.err == nil && d.next < len(d.sc.Steps) && d.started {
		st := &d.sc.Steps[d.next]
		done := false
		switch st.Kind {
		case StepRunUntil, StepRunSteps, StepRunIdle:
			done = d.completeQuietly(st)
		case StepStop:
		default:
			done = d.cmdDone
		}
		if done {
			d.next++
			d.started = false
			if d.next >= len(d.sc.Steps) {
				d.ended, d.endStep, d.endTime, d.endObs = true, s.Step(), s.Now(), len(s.Observations())
			}
		}
	}
	if d.err == nil && !d.ended && d.next < len(d.sc.Steps) && s.Result().End != sim.EndViolation {
		res := s.Result()
		d.refuse(&d.sc.Steps[d.next], "the run ended (%s after %d steps) before this step completed", res.End, res.Steps)
	}
	res := s.Result()
	d.rep = d.report(&res)
	if nr := d.rep.NotRun; len(nr) > 0 && d.rep.Refusal == nil {
		var parts []string
		for _, n := range nr {
			parts = append(parts, fmt.Sprintf("step %d (%s)", n.Number, Clip(n.Step.Text)))
		}
		s.RecordAs(DirectorActor, sim.ClassInfo, "scenario", "not run: "+strings.Join(parts, ", "), nr[0].Reason)
	}
}

// completeQuietly is complete for a run that is over. A run-idle step
// cannot be judged then (the kernel has halted every actor, so each looks
// finished): it stays incomplete, which is what it was when the run
// stopped in its middle.
func (d *director) completeQuietly(st *ScenarioStep) bool {
	if st.Kind == StepRunIdle {
		return false
	}
	return d.complete(st)
}

// report builds the script report; res is the kernel's result (nil when
// the scenario was refused before the run).
func (d *director) report(res *sim.Result) *ScriptReport {
	rep := &ScriptReport{Steps: len(d.sc.Steps), Completed: d.next, Refusal: d.err}
	if d.ended {
		rep.Ended, rep.EndStep, rep.EndTime, rep.ScriptObservations = true, d.endStep, d.endTime, d.endObs
	} else if res != nil {
		rep.ScriptObservations = len(res.Observations)
	}
	if rep.Completed >= rep.Steps {
		return rep
	}
	why := "the run did not start"
	switch {
	case d.err != nil:
		why = fmt.Sprintf("step %d was refused: %s", d.err.Number, d.err.Why)
	case d.stopped > 0:
		why = fmt.Sprintf("step %d (stop) ended the run", d.stopped)
	case res == nil:
	case res.End == sim.EndViolation && len(res.Observations) > 0:
		o := res.Observations[0]
		why = fmt.Sprintf("the run stopped at the violation at step %d (%s by %s)", o.Step, o.Kind, o.Actor)
	default:
		why = fmt.Sprintf("the run ended (%s after %d steps) before the script did", res.End, res.Steps)
	}
	for i := d.next; i < len(d.sc.Steps); i++ {
		n := StepNotRun{Number: i + 1, Step: d.sc.Steps[i], Started: i == d.next && d.started, Reason: why}
		if d.err != nil && i == d.next {
			n.Started, n.Reason = true, d.err.Why
		}
		rep.NotRun = append(rep.NotRun, n)
	}
	return rep
}

// find returns the latest actor named name (a restart respawns a node's
// actors under the same names), preferring one that has not finished.
func (d *director) find(name string) *sim.Actor {
	var found *sim.Actor
	for _, a := range d.s.Actors() {
		if a.Name() == name && (found == nil || !a.Done() || found.Done()) {
			found = a
		}
	}
	return found
}

func (d *director) names() string {
	seen := map[string]bool{}
	var out []string
	for _, a := range d.s.Actors() {
		if !seen[a.Name()] && a.Name() != DirectorActor {
			seen[a.Name()] = true
			out = append(out, a.Name())
		}
	}
	return strings.Join(out, ", ")
}

// perform executes a command step on the director actor a: a hang here,
// any other command by the system.
func (d *director) perform(a *sim.Actor, st *ScenarioStep) error {
	if st.Kind != StepHang {
		return d.rt.Perform(a, *st)
	}
	s := d.s
	var targets []*sim.Actor
	what := st.Actor
	if st.Node != "" {
		label, actors, err := d.rt.Group(st.Node)
		if err != nil {
			return err
		}
		for _, x := range actors {
			if x != nil && !x.Done() {
				targets = append(targets, x)
			}
		}
		what = label
	} else {
		if st.Actor == DirectorActor {
			return fmt.Errorf("%s is the scenario's own actor and cannot be hung", DirectorActor)
		}
		x := d.find(st.Actor)
		if x == nil {
			return noSuchActor(fmt.Sprintf("no actor named %q (actors: %s)", Clip(st.Actor), d.names()))
		}
		if x.Done() {
			return fmt.Errorf("actor %s has finished", x.Name())
		}
		targets = append(targets, x)
	}
	var names []string
	for _, x := range targets {
		s.Hang(x, st.Duration)
		names = append(names, x.Name())
	}
	s.Record(sim.ClassAction, "hang", fmt.Sprintf("%s for %s, until t=%s: %s", what, st.Duration, s.Now()+st.Duration, strings.Join(names, ", ")), "ok")
	return nil
}
