package sim

import (
	"fmt"
	"math"
)

// actorState is where an actor is in its life.
type actorState uint8

const (
	stateRunnable actorState = iota
	stateSleeping
	stateParked
	stateDone
)

// ActorOptions configure an actor at spawn time.
type ActorOptions struct {
	// Daemon actors (flusher, compactor, GC) serve others: a run ends when
	// every non-daemon actor has finished, and daemons are then stopped.
	Daemon bool
	// Watched marks an actor on the snapshot path: the open-deleted-file
	// oracle applies to its opens and stats.
	Watched bool
	// Footprint is the declaration in force when the actor starts (see
	// Actor.Declare): the shared objects its steps may touch besides what
	// the kernel and the filesystem record. Nil means undeclared: under an
	// exhaustive exploration, each of its steps then conflicts with every
	// other step.
	Footprint *Footprint
}

// Actor is one sequential activity of the simulated system. Its function
// runs as a coroutine and gives control back at every scheduling point
// (Yield, Sleep, Park, and every filesystem operation).
type Actor struct {
	id    int
	name  string
	opts  ActorOptions
	state actorState
	// wake is the virtual time at which a sleeping actor becomes runnable.
	wake  Micros
	sched *Scheduler
	co    coroutine
	// killed is set by Scheduler.Kill; the actor is halted at the end of
	// the current step.
	killed bool
	// body is the actor's function, kept until a free-mode Run starts it.
	body func()
	// hold is the virtual time before which the actor may not run
	// (Scheduler.Hang); 0 when it was never hung.
	hold Micros
	// idleWait is set while the actor is suspended in SleepIdle.
	idleWait bool
	// decl is the footprint declaration in force (Declare).
	decl *Footprint
}

// ID returns the actor's index in spawn order (stable for a given run).
func (a *Actor) ID() int { return a.id }

// Name returns the actor's name as it appears in traces.
func (a *Actor) Name() string { return a.name }

// Watched reports whether the actor is on the snapshot path.
func (a *Actor) Watched() bool { return a.opts.Watched }

// Sleeping reports whether the actor is waiting for virtual time to pass,
// and until when.
func (a *Actor) Sleeping() (bool, Micros) {
	a.sched.touchActor(a, Read)
	return a.state == stateSleeping, a.wake
}

// Parked reports whether the actor waits for a Wake.
func (a *Actor) Parked() bool {
	a.sched.touchActor(a, Read)
	return a.state == stateParked
}

// Hung reports whether the actor is stalled by Scheduler.Hang, and until
// when: it may not run before that virtual time, whatever its state.
func (a *Actor) Hung() (bool, Micros) {
	a.sched.touchActor(a, Read)
	return a.hold > a.sched.Now(), a.hold
}

// IdleWait reports whether the actor is suspended in SleepIdle: a polling
// daemon waiting to look again after finding nothing to do. A scenario's
// "run ACTOR until idle" stops there.
func (a *Actor) IdleWait() bool {
	a.sched.touchActor(a, Read)
	return a.idleWait && a.state != stateDone
}

// Done reports whether the actor has finished (returned, panicked or been
// stopped).
func (a *Actor) Done() bool {
	a.sched.touchActor(a, Read)
	return a.state == stateDone
}

// Yield is a scheduling point: the actor stays runnable, and the scheduler
// decides who runs the next step.
func (a *Actor) Yield() {
	a.mustBeCurrent("Yield")
	if a.sched.fs.gate != nil {
		a.freeYield()
		return
	}
	a.state = stateRunnable
	a.co.suspend()
}

// Sleep blocks the actor for d of virtual time (a timer, a backoff, a stall).
func (a *Actor) Sleep(d Micros) {
	a.mustBeCurrent("Sleep")
	if d < 0 {
		panic(fmt.Sprintf("sim: %s: Sleep(%d): negative span", a.name, d))
	}
	if a.sched.fs.gate != nil {
		a.freeSleep(d)
		return
	}
	if a.sched.rec.on {
		a.sched.rec.fp.add(clockObject, Read) // the wake-up time is now+d
	}
	a.state = stateSleeping
	a.wake = a.sched.clock.Now() + d
	if a.wake < d { // saturate instead of wrapping to the past
		a.wake = Micros(math.MaxInt64)
	}
	if t := a.sched.tick; t > 0 && a.wake%t != 0 && a.wake < Micros(math.MaxInt64)-t {
		a.wake += t - a.wake%t // a coarse timer (SetTimerTick)
	}
	a.co.suspend()
}

// SleepIdle is Sleep for a polling daemon that has just found nothing to
// do: the scheduler treats it exactly as Sleep (the same trace, the same
// decisions), and IdleWait reports true until the actor resumes. The model
// marks its pollers' idle waits this way so that a director can tell "went
// back to its wait without doing anything" from a sleep in the middle of
// work (a stall, a backoff, a rate-limiter wait).
func (a *Actor) SleepIdle(d Micros) {
	a.idleWait = true
	a.Sleep(d)
	a.idleWait = false
}

// Park blocks the actor until another actor calls Scheduler.Wake on it.
// Callers re-check their condition after Park returns.
func (a *Actor) Park() {
	a.mustBeCurrent("Park")
	if a.sched.fs.gate != nil {
		a.freePark()
		return
	}
	a.state = stateParked
	a.co.suspend()
}

func (a *Actor) mustBeCurrent(op string) {
	if a.sched.current != a {
		panic(fmt.Sprintf("sim: %s called on actor %q, which is not running", op, a.name))
	}
}
