package sim

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHangDelaysARunnableActorExactly: a runnable actor hung for d at time
// T next runs at exactly T+d, while the others go on running meanwhile.
func TestHangDelaysARunnableActorExactly(t *testing.T) {
	s := newSched(1, Config{KeepTrace: true})
	var victimRuns []Micros
	var victim *Actor
	victim = s.Spawn("victim", ActorOptions{}, func(a *Actor) {
		for i := 0; i < 3; i++ {
			victimRuns = append(victimRuns, s.Now())
			a.Yield()
		}
	})
	otherSteps := 0
	var hungAt Micros
	s.Spawn("other", ActorOptions{}, func(a *Actor) {
		for len(victimRuns) == 0 {
			a.Yield()
		}
		hungAt = s.Now()
		s.Hang(victim, 5*Millisecond) // victim is runnable, suspended at its Yield
		for i := 0; i < 20; i++ {
			otherSteps++
			s.Advance(100)
			a.Yield()
		}
	})
	res := s.Run()
	require.Equal(t, EndDone, res.End)
	require.Len(t, victimRuns, 3)
	// other charges 2 ms in all and is done long before the hang ends,
	// so the clock jumps to the hang's end and victim runs exactly then.
	assert.Equal(t, hungAt+5*Millisecond, victimRuns[1], "the run after the hang starts exactly when it ends")
	assert.Less(t, hungAt, Micros(Millisecond))
	assert.Equal(t, 20, otherSteps)
}

// TestHangAloneJumpsTheClock: when the hung actor is the only one, the
// clock jumps to the end of the hang (it is not a deadlock).
func TestHangAloneJumpsTheClock(t *testing.T) {
	s := newSched(1, Config{})
	var at []Micros
	s.Spawn("solo", ActorOptions{}, func(a *Actor) {
		at = append(at, s.Now())
		s.Hang(a, 300) // hangs itself: it suspends at the Yield
		a.Yield()
		at = append(at, s.Now())
	})
	res := s.Run()
	assert.Equal(t, EndDone, res.End)
	assert.Empty(t, res.Observations, "a hang is not a deadlock")
	assert.Equal(t, []Micros{0, 300}, at)
}

// TestHangOfASleeper: a sleeper whose timer fires during the hang resumes
// at the hang's end; one whose timer fires later is unaffected.
func TestHangOfASleeper(t *testing.T) {
	for _, c := range []struct {
		sleep, hang, want Micros
	}{
		{sleep: 1000, hang: 5000, want: 5000},
		{sleep: 8000, hang: 5000, want: 8000},
		{sleep: 1000, hang: 0, want: 1000},
	} {
		t.Run(fmt.Sprintf("sleep %s hang %s", c.sleep, c.hang), func(t *testing.T) {
			s := newSched(1, Config{})
			var woke Micros
			sleeper := s.Spawn("sleeper", ActorOptions{}, func(a *Actor) {
				a.Sleep(c.sleep)
				woke = s.Now()
			})
			s.Spawn("hanger", ActorOptions{}, func(a *Actor) {
				for !sleeperAsleep(sleeper) {
					a.Yield()
				}
				s.Hang(sleeper, c.hang)
			})
			s.Run()
			assert.Equal(t, c.want, woke)
		})
	}
}

func sleeperAsleep(a *Actor) bool { ok, _ := a.Sleeping(); return ok }

// TestHangOfAParkedActor: woken during its hang, a parked actor runs at
// the hang's end; Hung reports the hold; hangs do not add up.
func TestHangOfAParkedActor(t *testing.T) {
	s := newSched(1, Config{})
	var ran Micros = -1
	parked := s.Spawn("parked", ActorOptions{}, func(a *Actor) {
		a.Park()
		ran = s.Now()
	})
	s.Spawn("waker", ActorOptions{}, func(a *Actor) {
		for !parked.Parked() {
			a.Yield()
		}
		s.Hang(parked, 2000)
		s.Hang(parked, 1000) // shorter: no effect
		hung, until := parked.Hung()
		if !hung || until != 2000 {
			panic(fmt.Sprintf("Hung() = %v, %s; want true, 2ms", hung, until))
		}
		s.Advance(500)
		s.Wake(parked)
	})
	res := s.Run()
	require.Empty(t, res.Observations)
	assert.Equal(t, Micros(2000), ran)
	hung, _ := parked.Hung()
	assert.False(t, hung)
}

// TestHangMisuse: negative spans panic; a finished actor is left alone.
func TestHangMisuse(t *testing.T) {
	s := newSched(1, Config{})
	a := s.Spawn("a", ActorOptions{}, func(*Actor) {})
	assert.Panics(t, func() { s.Hang(a, -1) })
	s.Run()
	s.Hang(a, 100)
	hung, _ := a.Hung()
	assert.False(t, hung)
}

// TestHangKeepsDeterminismAndDecisionsAllocationFree: a run with hangs
// replays to the same hash, and a scheduling decision among hung and
// runnable actors allocates nothing.
func TestHangKeepsDeterminismAndDecisionsAllocationFree(t *testing.T) {
	build := func(steps int64) (*Scheduler, func() Result) {
		s := New(NewPRNG(7), Config{MaxSteps: steps})
		var actors []*Actor
		for i := 0; i < 4; i++ {
			actors = append(actors, s.Spawn(fmt.Sprintf("y%d", i), ActorOptions{}, func(a *Actor) {
				for n := 0; ; n++ {
					if n%7 == 0 {
						s.Hang(actors[(a.ID()+1)%len(actors)], Micros(1+n%5))
					}
					s.Advance(1)
					a.Yield()
				}
			}))
		}
		return s, s.Run
	}
	_, run1 := build(2000)
	_, run2 := build(2000)
	assert.Equal(t, run1().TraceHash, run2().TraceHash)
	mallocs := func(steps int64) uint64 {
		_, run := build(steps)
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		run()
		runtime.ReadMemStats(&m1)
		return m1.Mallocs - m0.Mallocs
	}
	mallocs(100)
	extra := int64(mallocs(11000)) - int64(mallocs(1000))
	assert.Less(t, extra, int64(50), "10000 extra steps with hangs allocated %d times", extra)
}

// TestSleepIdle: SleepIdle sleeps exactly as Sleep (same trace hash) and
// IdleWait reports it while the actor waits there, not in a plain Sleep.
func TestSleepIdle(t *testing.T) {
	run := func(idle bool) (Result, []bool) {
		s := newSched(3, Config{KeepTrace: true})
		var seen []bool
		var poller *Actor
		poller = s.Spawn("poller", ActorOptions{}, func(a *Actor) {
			for i := 0; i < 3; i++ {
				s.Record(ClassAction, "poll", "", "")
				if idle && i%2 == 0 {
					a.SleepIdle(100)
				} else {
					a.Sleep(100)
				}
			}
		})
		s.Spawn("watcher", ActorOptions{}, func(a *Actor) {
			a.Sleep(50) // look between the poller's wake-ups
			for !poller.Done() {
				if ok, _ := poller.Sleeping(); ok {
					seen = append(seen, poller.IdleWait())
				}
				a.Sleep(100)
			}
		})
		return s.Run(), seen
	}
	plain, plainSeen := run(false)
	idle, idleSeen := run(true)
	assert.Equal(t, plain.TraceHash, idle.TraceHash, "SleepIdle changes nothing the trace sees")
	assert.NotContains(t, plainSeen, true)
	assert.Contains(t, idleSeen, true)
	assert.Contains(t, idleSeen, false)
}
