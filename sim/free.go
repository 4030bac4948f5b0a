package sim

import "runtime/debug"

// This file is the kernel's free mode: the same actors, the same scheduling
// points, but no scheduling decisions. It exists so that the stress-test
// baseline (package baseline) can run the model's own code under the Go
// runtime's scheduler and compare it with ours.
//
// Free mode is opt-in (Config.Gate) and never used by a simulation. Its
// nondeterminism — goroutines, a mutex, real timers, the wall clock — is
// supplied entirely by the Gate that the caller passes in; this package
// still starts no goroutine and reads no clock of its own, so the
// determinism guard holds for it.
//
// Every actor runs on its own goroutine and holds the gate's lock while it
// runs, releasing it at each scheduling point: the model's state is not
// thread-safe (in TiKV those structures have their own mutexes), and the
// lock gives Go's scheduler exactly the interleaving points our kernel
// decides between. Which actor runs next, and how long a sleep or a
// filesystem operation really takes, is up to the Go runtime and the OS.

// Gate supplies the concurrency primitives of free mode. Implementations
// live outside the deterministic packages (baseline.NewGate).
type Gate interface {
	// Go runs fn on a new goroutine.
	Go(fn func())
	// Lock and Unlock guard the whole simulated system.
	Lock()
	Unlock()
	// Yield releases the lock, lets other goroutines run, and re-acquires it.
	Yield()
	// Wait atomically releases the lock, blocks until Broadcast, and
	// re-acquires it (sync.Cond semantics; spurious wake-ups allowed).
	Wait()
	// WaitUntil is Wait that also returns once Now() >= t.
	WaitUntil(t Micros)
	// Broadcast wakes every Wait and WaitUntil.
	Broadcast()
	// Now returns real time elapsed since the gate was made.
	Now() Micros
}

// freeState is the scheduler's bookkeeping in free mode; every field is
// guarded by the gate's lock.
type freeState struct {
	gate    Gate
	running bool
	// base maps gate time to the run's clock: Now() = base + gate.Now().
	base    Micros
	halting bool
	live    int
}

func (s *Scheduler) free() bool { return s.fs.gate != nil }

// freeNow is Now in free mode: virtual time frozen at Run's start plus the
// real time elapsed since.
func (s *Scheduler) freeNow() Micros {
	if !s.fs.running {
		return s.clock.Now()
	}
	return s.fs.base + s.fs.gate.Now()
}

// goFree starts a's goroutine. Called with the lock held (from Run, or from
// Spawn by a running actor).
func (s *Scheduler) goFree(a *Actor, fn func()) {
	s.fs.live++
	g := s.fs.gate
	g.Go(func() {
		g.Lock()
		defer func() {
			a.state = stateDone
			s.fs.live--
			s.current = nil
			g.Broadcast()
			g.Unlock()
		}()
		if s.fs.halting || a.killed {
			return
		}
		s.current = a
		s.runFreeBody(a, fn)
	})
}

// runFreeBody runs an actor's function, turning its panic into an
// observation exactly as the kernel does.
func (s *Scheduler) runFreeBody(a *Actor, fn func()) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if _, ok := r.(stopSignal); ok {
			return
		}
		if ab, ok := r.(Abort); ok {
			r = ab.Cause
		}
		s.observeAs(a, KindPanic, panicMessage(r), string(debug.Stack()))
		s.afterObservation()
	}()
	fn()
}

// afterObservation ends a free run at the first observation when so
// configured.
func (s *Scheduler) afterObservation() {
	if s.free() && s.fs.running && s.cfg.StopOnViolation && len(s.obs) > 0 {
		s.Stop(EndViolation)
	}
}

// freePoint is a scheduling point in free mode: count the step, release the
// lock so that any other goroutine may run, and unwind if the run is over.
func (a *Actor) freePoint(wait func()) {
	s := a.sched
	s.step++
	s.trace.fold(uint64(s.step), uint64(a.id))
	if s.step >= s.cfg.MaxSteps {
		s.Stop(EndBudget)
	}
	s.current = nil
	wait()
	s.current = a
	if s.fs.halting || a.killed {
		panic(stopSignal{})
	}
}

func (a *Actor) freeYield() {
	a.state = stateRunnable
	a.freePoint(a.sched.fs.gate.Yield)
}

func (a *Actor) freeSleep(d Micros) {
	s := a.sched
	a.state = stateSleeping
	a.wake = s.freeNow() + d
	wakeGate := a.wake - s.fs.base
	a.freePoint(func() {
		for !s.fs.halting && !a.killed && s.fs.gate.Now() < wakeGate {
			s.fs.gate.WaitUntil(wakeGate)
		}
	})
	a.state = stateRunnable
}

func (a *Actor) freePark() {
	s := a.sched
	a.state = stateParked
	s.fs.gate.Broadcast() // Run re-checks for a deadlock
	a.freePoint(func() {
		for a.state == stateParked && !s.fs.halting && !a.killed {
			s.fs.gate.Wait()
		}
	})
	a.state = stateRunnable
}

// runFree is Run in free mode.
func (s *Scheduler) runFree() string {
	g := s.fs.gate
	g.Lock()
	defer g.Unlock()
	s.fs.base = s.clock.Now() - g.Now()
	s.fs.running = true
	for _, a := range s.actors {
		s.goFree(a, a.body)
	}
	end := ""
	for end == "" {
		end = s.freeEnd()
		if end == "" {
			g.Wait()
		}
	}
	s.fs.halting = true
	g.Broadcast()
	for s.fs.live > 0 {
		g.Wait()
	}
	s.clock.advanceTo(s.freeNow())
	s.fs.running = false
	return end
}

// freeEnd reports why a free run is over, or "" while it is not.
func (s *Scheduler) freeEnd() string {
	switch s.stop {
	case "":
	case EndBudget, EndViolation:
		return s.stop
	default:
		return EndStopped
	}
	if !s.anyLiveWorker() {
		return EndDone
	}
	for _, a := range s.actors {
		if a.state != stateDone && a.state != stateParked {
			return ""
		}
	}
	s.observeAs(nil, KindLiveness, "deadlock: "+s.parkedNames(), "")
	return EndDeadlock
}
