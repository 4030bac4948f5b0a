package sim

import "testing"

func TestKillEndsAnotherActorAtStepEnd(t *testing.T) {
	s := New(NewPRNG(1), Config{KeepTrace: true})
	unwound := false
	victim := s.Spawn("victim", ActorOptions{Daemon: true}, func(a *Actor) {
		defer func() { unwound = true }()
		for {
			a.Yield()
		}
	})
	steps := 0
	s.Spawn("killer", ActorOptions{}, func(a *Actor) {
		for i := 0; i < 5; i++ {
			a.Yield()
		}
		s.Kill(victim)
		a.Yield()
		if !victim.Done() {
			t.Errorf("victim still alive a step after Kill")
		}
		for i := 0; i < 5; i++ {
			a.Yield()
			steps++
		}
	})
	res := s.Run()
	if !unwound {
		t.Fatal("killed actor's deferred calls did not run")
	}
	if res.End != EndDone || steps != 5 {
		t.Fatalf("end %s steps %d", res.End, steps)
	}
}
