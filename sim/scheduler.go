package sim

import (
	"fmt"
	"math"
	"strings"
)

// Config configures one run.
type Config struct {
	// MaxSteps is the step budget: the run ends after this many steps even
	// if actors are still alive (End "budget").
	MaxSteps int64
	// Strategy picks the next actor.
	Strategy Strategy
	// KeepTrace retains every event (for printing); otherwise only the hash
	// and the count are kept.
	KeepTrace bool
	// StopOnViolation ends the run at the end of the first step that raised
	// an observation.
	StopOnViolation bool
	// Director, when set, decides every step instead of Strategy (a
	// scripted interleaving: a scenario file). It returns the index in
	// runnable of the actor to run, Idle to let virtual time pass to the
	// next sleeper's wake-up without running anyone, or Fallback to let
	// Strategy decide this step.
	Director func(runnable []*Actor, step int64) int
	// Gate, when set, runs the actors in free mode (see free.go): each on
	// its own goroutine under the Go runtime's scheduler, with real time.
	// Only the stress-test baseline uses it; Strategy and Director are
	// ignored, and a run is not reproducible.
	Gate Gate
}

// Director results besides an index.
const (
	// Idle advances the clock to the earliest sleeping actor's wake-up.
	Idle = -2
	// Fallback lets the configured Strategy pick.
	Fallback = -3
)

// DefaultMaxSteps is the step budget when Config.MaxSteps is zero.
const DefaultMaxSteps = 20000

// How a run ended.
const (
	EndDone      = "done"      // every non-daemon actor finished
	EndBudget    = "budget"    // MaxSteps reached
	EndViolation = "violation" // StopOnViolation and an observation
	EndDeadlock  = "deadlock"  // actors parked with nobody to wake them
	EndStopped   = "stopped"   // Stop was called or a replay diverged
)

// Result is what a run produced.
type Result struct {
	Steps        int64         `json:"steps"`
	Time         Micros        `json:"time_us"`
	End          string        `json:"end"`
	TraceHash    uint64        `json:"-"`
	Events       []Event       `json:"events,omitempty"`
	EventCount   int           `json:"event_count"`
	Observations []Observation `json:"violations"`
}

// Scheduler is the deterministic kernel: it owns the actors, the clock, the
// Choice source and the trace, and runs one actor step at a time.
type Scheduler struct {
	cfg      Config
	choice   Choice
	clock    Clock
	trace    *Trace
	picker   picker
	actors   []*Actor
	runnable []*Actor // reused every step: scheduling allocates nothing
	current  *Actor
	step     int64
	obs      []Observation
	stop     string
	end      string
	running  bool
	// killPending is set when Kill was called since the last reap.
	killPending bool
	// fs is free mode's state (zero unless Config.Gate is set).
	fs freeState
	// tick is the timer granularity (SetTimerTick; 0: exact).
	tick Micros
	// last is the actor that ran the previous step (nil before the
	// first), kept for the explorer's default.
	last *Actor
	// xs is the exhaustive explorer driving the run (strategy
	// "exhaustive"), nil otherwise; rec records each step's footprint
	// when it reduces.
	xs *walker
	// pool supplies actors' carriers under an exploration (nil: a goroutine
	// per actor).
	pool *Pool
	rec  stepRecorder
	// spaces counts NewSpace calls.
	spaces uint64
}

// SetTimerTick makes every Sleep wake on the next multiple of tick of
// virtual time at or after its exact wake-up, as a coarse OS timer (a
// jiffy) would: sleepers that would wake microseconds apart wake on the
// same instant, and the strategy alone orders them. 0 (the default) wakes
// each sleeper at its exact time. The model sets it before the run starts
// (the swarm and pipeline profiles' same-instant draw).
func (s *Scheduler) SetTimerTick(tick Micros) {
	if tick < 0 {
		panic(fmt.Sprintf("sim: SetTimerTick(%d): negative tick", tick))
	}
	s.tick = tick
}

// New returns a Scheduler drawing every decision from choice.
func New(choice Choice, cfg Config) *Scheduler {
	if choice == nil {
		panic("sim: New: nil Choice")
	}
	if cfg.MaxSteps <= 0 {
		cfg.MaxSteps = DefaultMaxSteps
	}
	s := &Scheduler{cfg: cfg, choice: choice, trace: newTrace(cfg.KeepTrace), runnable: make([]*Actor, 0, 16)}
	if cfg.Strategy.Name == StrategyExhaustive {
		w, ok := choice.(*walker)
		if !ok {
			panic("sim: New: strategy \"exhaustive\" needs the Choice an Explorer passes to its Program")
		}
		if cfg.Director != nil || cfg.Gate != nil {
			panic("sim: New: strategy \"exhaustive\" cannot run with a Director or in free mode")
		}
		s.xs = w
		s.pool = &w.pool
		s.rec.on = w.recording()
		s.trace.noHash = true // the explorer re-runs a counterexample for its hash
	}
	s.picker = newPicker(cfg.Strategy, s)
	s.fs.gate = cfg.Gate
	return s
}

// Spawn creates an actor running fn. It may be called before Run or from a
// running actor; the new actor is runnable from the next step.
func (s *Scheduler) Spawn(name string, opts ActorOptions, fn func(a *Actor)) *Actor {
	if name == "" {
		panic("sim: Spawn: empty actor name")
	}
	// A new actor changes the set every later decision ranges over.
	s.TouchAll()
	a := &Actor{id: len(s.actors), name: name, opts: opts, sched: s, decl: opts.Footprint}
	switch {
	case !s.free():
		a.co.start(func() { fn(a) }, s.pool)
	case s.fs.running:
		s.goFree(a, func() { fn(a) })
	default:
		a.body = func() { fn(a) }
	}
	s.actors = append(s.actors, a)
	s.picker.spawned(a)
	return a
}

// Intn draws from the run's Choice source. Every decision of every layer
// goes through here.
func (s *Scheduler) Intn(n int) int { return s.choice.Intn(n) }

// Now returns the virtual time. A step that calls it depends on the clock
// (for the explorer's dependency relation); code that only labels what
// happened with the time uses Timestamp.
func (s *Scheduler) Now() Micros {
	if s.rec.on && s.current != nil {
		s.rec.fp.add(clockObject, Read)
	}
	return s.Timestamp()
}

// Timestamp returns the virtual time for a record (a trace event, a ledger
// entry): a value that labels what happened and never steers what an actor
// does. Unlike Now it is not a read of the clock in the running step's
// footprint, so two steps that only stamp their records still commute.
func (s *Scheduler) Timestamp() Micros {
	if s.fs.gate != nil {
		return s.freeNow()
	}
	return s.clock.Now()
}

// Advance charges d of virtual time (the modeled cost of an operation).
// In free mode, while running, real operations take real time and Advance
// does nothing.
func (s *Scheduler) Advance(d Micros) {
	if s.fs.running {
		return
	}
	if d != 0 && s.rec.on && s.current != nil {
		s.rec.fp.add(clockObject, Add)
	}
	s.clock.Advance(d)
}

// Step returns the number of the step being run (1-based; 0 before Run).
func (s *Scheduler) Step() int64 { return s.step }

// Current returns the running actor, or nil outside any actor (set-up code
// before Run, or checks after it).
func (s *Scheduler) Current() *Actor { return s.current }

// Actors returns every actor in spawn order.
func (s *Scheduler) Actors() []*Actor { return s.actors }

// Wake makes a parked actor runnable. Waking an actor that is not parked
// does nothing.
func (s *Scheduler) Wake(a *Actor) {
	s.touchActor(a, Write)
	if a.state == stateParked {
		if s.rec.on && a.id < 64 {
			s.rec.woken |= 1 << uint(a.id)
		}
		a.state = stateRunnable
		if s.fs.running {
			s.fs.gate.Broadcast()
		}
	}
}

// Hang stalls actor a for d of virtual time from now, as a descheduled
// thread or a process stopped by a debugger: a is suspended at a
// scheduling point whenever it is not running, and it is not resumed
// before Now()+d whatever its state. A runnable actor becomes runnable
// again at Now()+d; a sleeper whose timer fires during the hang resumes
// when the hang ends (a later wake-up is unchanged); a parked actor woken
// during the hang runs from its end. Hangs do not add up: a second Hang
// extends the first only if it ends later. Nothing is recorded in the trace
// (the caller says why it hung a), and no choice is drawn, so a Hang
// changes a run only through what it delays. Hanging a finished actor does
// nothing. A director uses it for a scenario's "hang ACTOR for DURATION";
// free mode has no virtual time to hang in.
func (s *Scheduler) Hang(a *Actor, d Micros) {
	if d < 0 {
		panic(fmt.Sprintf("sim: Hang(%s, %d): negative span", a.name, d))
	}
	if s.free() {
		panic("sim: Hang is not available in free mode")
	}
	s.touchActor(a, Write)
	if a.state == stateDone {
		return
	}
	until := s.clock.Now() + d
	if until < d { // saturate instead of wrapping to the past
		until = Micros(math.MaxInt64)
	}
	if until > a.hold {
		a.hold = until
	}
}

// Kill ends actor a at the end of the current step, as if its thread died
// with its process: its coroutine is unwound (deferred calls run, and any
// scheduling point they reach ends them at once) and it never runs again.
// Killing a finished actor does nothing.
func (s *Scheduler) Kill(a *Actor) {
	// The victim's deferred code runs at the end of this step, under no
	// declaration of the killer's.
	s.TouchAll()
	if a.state != stateDone {
		a.killed = true
		s.killPending = true
		if s.fs.running {
			s.fs.gate.Broadcast()
		}
	}
}

// Stop ends the run at the end of the current step.
func (s *Scheduler) Stop(reason string) {
	s.TouchAll()
	if s.stop == "" {
		s.stop = reason
	}
	if s.fs.running {
		s.fs.gate.Broadcast()
	}
}

// Tracing reports whether the details of recorded events are used: they
// are hashed, kept, or both. Under an exhaustive exploration they are
// neither (a counterexample is re-run for its trace), so a caller may skip
// formatting a detail string when Tracing is false; it must still call
// Record (with any detail), which keeps the event count.
func (s *Scheduler) Tracing() bool { return !s.trace.noHash || s.trace.Keep }

// Record appends an event for the running actor (or "setup" outside one).
func (s *Scheduler) Record(class Class, op, detail, result string) {
	s.trace.Add(Event{Step: s.step, Time: s.Timestamp(), Actor: s.actorName(s.current),
		Class: class, Op: op, Detail: detail, Result: result})
}

// Recordf is Record with the detail fmt.Sprintf(format, args...), formatted
// only when Tracing: under an exhaustive exploration, which re-runs a
// counterexample for its trace, the formatting is skipped. The arguments
// must not be computed for the detail alone (they are evaluated anyway).
func (s *Scheduler) Recordf(class Class, op, result, format string, args ...any) {
	detail := ""
	if s.Tracing() {
		detail = fmt.Sprintf(format, args...)
	}
	s.Record(class, op, detail, result)
}

// Observe raises an observation attributed to the running actor and records
// it in the trace.
func (s *Scheduler) Observe(kind Kind, detail string) {
	s.observeAs(s.current, kind, detail, "")
	s.afterObservation()
}

// Events returns the events kept so far (Config.KeepTrace), for a director
// that steers by what happened.
func (s *Scheduler) Events() []Event { return s.trace.Events() }

// Observations returns what has been observed so far.
func (s *Scheduler) Observations() []Observation { return s.obs }

func (s *Scheduler) observeAs(a *Actor, kind Kind, detail, stack string) {
	// An observation can end the run: it conflicts with every other step.
	s.TouchAll()
	name := s.actorName(a)
	now := s.Timestamp()
	s.obs = append(s.obs, Observation{Kind: kind, Step: s.step, Time: now,
		Actor: name, Detail: detail, Stack: stack})
	s.trace.Add(Event{Step: s.step, Time: now, Actor: name,
		Class: ClassViolation, Op: string(kind), Detail: detail})
}

func (s *Scheduler) actorName(a *Actor) string {
	if a == nil {
		return "setup"
	}
	return a.name
}

// Run drives the actors until every non-daemon actor has finished, the step
// budget is spent, the actors deadlock, or (with StopOnViolation) something
// is observed. Then it stops every remaining actor and returns the result.
// Run may be called once.
func (s *Scheduler) Run() Result {
	if s.running {
		panic("sim: Run called twice")
	}
	s.running = true
	defer s.haltAll()
	if s.free() {
		if s.cfg.Director != nil {
			panic("sim: a Director cannot drive a free-mode run")
		}
		s.end = s.runFree()
		return s.Result()
	}
	s.end = s.loop()
	s.haltAll()
	return s.Result()
}

// haltAll stops every actor that has not finished, unwinding its stack. It
// also runs when Run is left by an Abort panic, so no coroutine outlives
// the run.
func (s *Scheduler) haltAll() {
	// Index, not range: an actor's deferred code may Spawn while being
	// halted, and that actor must be halted too (or its goroutine leaks).
	for i := 0; i < len(s.actors); i++ {
		if a := s.actors[i]; a.state != stateDone {
			s.current = a
			a.co.halt()
			a.state = stateDone
			s.current = nil
		}
	}
}

// Result returns the run's result so far: after Run, it includes anything
// observed or recorded by post-run checks.
func (s *Scheduler) Result() Result {
	return Result{
		Steps: s.step, Time: s.clock.Now(), End: s.end,
		TraceHash: s.trace.Hash(), Events: s.trace.Events(), EventCount: s.trace.Len(),
		Observations: s.obs,
	}
}

// ObserveAs raises an observation on behalf of a named party that is not an
// actor (a post-run checker, say).
func (s *Scheduler) ObserveAs(who string, kind Kind, detail string) {
	s.TouchAll()
	now := s.Timestamp()
	s.obs = append(s.obs, Observation{Kind: kind, Step: s.step, Time: now, Actor: who, Detail: detail})
	s.trace.Add(Event{Step: s.step, Time: now, Actor: who, Class: ClassViolation, Op: string(kind), Detail: detail})
	s.afterObservation()
}

// RecordAs appends an event on behalf of a named party that is not an actor.
func (s *Scheduler) RecordAs(who string, class Class, op, detail, result string) {
	s.trace.Add(Event{Step: s.step, Time: s.Timestamp(), Actor: who, Class: class, Op: op, Detail: detail, Result: result})
}

func (s *Scheduler) loop() string {
	for {
		if s.stop != "" {
			return EndStopped
		}
		if !s.anyLiveWorker() {
			return EndDone
		}
		if s.step >= s.cfg.MaxSteps {
			return EndBudget
		}
		s.collectRunnable()
		if len(s.runnable) == 0 {
			wake, ok := s.earliestWake()
			if !ok {
				s.observeAs(nil, KindLiveness, "deadlock: "+s.parkedNames(), "")
				return EndDeadlock
			}
			s.clock.advanceTo(wake)
			continue
		}
		i := Fallback
		if s.cfg.Director != nil {
			i = s.cfg.Director(s.runnable, s.step+1)
		}
		if i == Idle {
			wake, ok := s.earliestWake()
			if !ok {
				s.observeAs(nil, KindLiveness, "the director waits for time to pass, but no actor is sleeping", "")
				return EndStopped
			}
			s.clock.advanceTo(wake)
			continue
		}
		if i == Fallback {
			i = s.picker.pick(s.runnable, s.step+1)
		}
		if i < 0 {
			return EndStopped
		}
		if i >= len(s.runnable) {
			panic(fmt.Sprintf("sim: strategy picked %d of %d runnable actors", i, len(s.runnable)))
		}
		a := s.runnable[i]
		s.step++
		s.trace.fold(uint64(s.step), uint64(a.id))
		if s.xs != nil {
			before := s.clock.Now()
			if s.rec.on {
				s.beginStep(a)
			}
			s.resume(a)
			s.reapKilled()
			s.xs.stepDone(s, a, before)
			s.last = a
		} else {
			s.resume(a)
			s.reapKilled()
		}
		if s.cfg.StopOnViolation && len(s.obs) > 0 {
			return EndViolation
		}
	}
}

// reapKilled halts the actors killed during the last step.
func (s *Scheduler) reapKilled() {
	if !s.killPending {
		return
	}
	s.killPending = false
	for i := 0; i < len(s.actors); i++ {
		if a := s.actors[i]; a.killed && a.state != stateDone {
			s.current = a
			a.co.halt()
			a.state = stateDone
			s.current = nil
		}
	}
}

// resume runs one step of a.
func (s *Scheduler) resume(a *Actor) {
	s.current = a
	alive := a.co.resume()
	s.current = nil
	if ab := a.co.abort; ab != nil {
		a.co.abort = nil
		a.state = stateDone
		panic(*ab)
	}
	if a.co.panicked {
		a.co.panicked = false
		s.observeAs(a, KindPanic, panicMessage(a.co.panicValue), a.co.panicStack)
		a.state = stateDone
		return
	}
	if !alive {
		a.state = stateDone
	}
}

func (s *Scheduler) anyLiveWorker() bool {
	for _, a := range s.actors {
		if a.state != stateDone && !a.opts.Daemon {
			return true
		}
	}
	return false
}

// collectRunnable fills s.runnable, in spawn order, with the actors that may
// run now, waking sleepers whose time has come; a hung actor (Hang) is left
// out until its hold ends.
func (s *Scheduler) collectRunnable() {
	s.runnable = s.runnable[:0]
	now := s.clock.Now()
	for _, a := range s.actors {
		if a.state == stateSleeping && a.wake <= now {
			a.state = stateRunnable
		}
		if a.state == stateRunnable && a.hold <= now {
			s.runnable = append(s.runnable, a)
		}
	}
}

// earliestWake returns the earliest future time at which an actor that is
// not parked becomes runnable: a sleeper's wake-up (or the end of its hang,
// if later) or the end of a runnable actor's hang.
func (s *Scheduler) earliestWake() (Micros, bool) {
	var best Micros
	found := false
	now := s.clock.Now()
	for _, a := range s.actors {
		var t Micros
		switch {
		case a.state == stateSleeping:
			t = max(a.wake, a.hold)
		case a.state == stateRunnable && a.hold > now:
			t = a.hold
		default:
			continue
		}
		if !found || t < best {
			best, found = t, true
		}
	}
	return best, found
}

func (s *Scheduler) parkedNames() string {
	var names []string
	for _, a := range s.actors {
		if a.state == stateParked && !a.opts.Daemon {
			names = append(names, a.name)
		}
	}
	return "parked forever: " + strings.Join(names, ", ")
}
