package baseline

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
)

// freeSched returns a free-mode scheduler.
func freeSched(maxSteps int64, stopOnViolation bool) *sim.Scheduler {
	return sim.New(sim.NewPRNG(1), sim.Config{Gate: NewGate(), MaxSteps: maxSteps, StopOnViolation: stopOnViolation})
}

// settleGoroutines waits for goroutines that have finished their work to
// exit, and returns the count.
func settleGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 200 && n > want; i++ {
		time.Sleep(time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

func TestFreeModeRunsEveryActorToCompletion(t *testing.T) {
	before := runtime.NumGoroutine()
	s := freeSched(0, false)
	counter := 0
	var waiter *sim.Actor
	woke := false
	for i := 0; i < 3; i++ {
		s.Spawn("yielder", sim.ActorOptions{}, func(a *sim.Actor) {
			for j := 0; j < 100; j++ {
				counter++ // guarded by the gate's lock
				a.Yield()
			}
		})
	}
	waiter = s.Spawn("waiter", sim.ActorOptions{}, func(a *sim.Actor) {
		a.Park()
		woke = true
	})
	var slept sim.Micros
	s.Spawn("sleeper", sim.ActorOptions{}, func(a *sim.Actor) {
		t0 := s.Now()
		a.Sleep(2 * sim.Millisecond)
		slept = s.Now() - t0
		s.Wake(waiter)
	})
	s.Spawn("spawner", sim.ActorOptions{}, func(a *sim.Actor) {
		s.Spawn("child", sim.ActorOptions{}, func(c *sim.Actor) { c.Yield(); counter++ })
	})
	res := s.Run()
	if res.End != sim.EndDone {
		t.Fatalf("end %q, want done; observations %v", res.End, res.Observations)
	}
	if counter != 301 {
		t.Errorf("counter %d, want 301 (3 yielders x 100 + child)", counter)
	}
	if !woke {
		t.Error("the parked actor was never woken")
	}
	if slept < 2*sim.Millisecond {
		t.Errorf("Sleep(2ms) returned after %v of real time", slept)
	}
	if res.Steps < 300 {
		t.Errorf("%d steps, want at least one per Yield (300)", res.Steps)
	}
	if n := settleGoroutines(before); n > before {
		t.Errorf("%d goroutines after Run, %d before: actors outlived the run", n, before)
	}
}

func TestFreeModePanicIsAnObservation(t *testing.T) {
	s := freeSched(0, true)
	s.Spawn("bad", sim.ActorOptions{}, func(a *sim.Actor) {
		a.Yield()
		panic("boom")
	})
	s.Spawn("daemon", sim.ActorOptions{Daemon: true}, func(a *sim.Actor) {
		for {
			a.Sleep(100 * sim.Microsecond)
		}
	})
	res := s.Run()
	if res.End != sim.EndViolation {
		t.Fatalf("end %q, want violation", res.End)
	}
	if len(res.Observations) != 1 || res.Observations[0].Kind != sim.KindPanic || !strings.Contains(res.Observations[0].Detail, "boom") {
		t.Fatalf("observations %+v, want one panic with boom", res.Observations)
	}
	if res.Observations[0].Stack == "" {
		t.Error("the panic observation has no stack")
	}
}

func TestFreeModeDeadlockBudgetAndKill(t *testing.T) {
	t.Run("deadlock", func(t *testing.T) {
		s := freeSched(0, false)
		s.Spawn("stuck", sim.ActorOptions{}, func(a *sim.Actor) { a.Park() })
		res := s.Run()
		if res.End != sim.EndDeadlock || len(res.Observations) != 1 || res.Observations[0].Kind != sim.KindLiveness {
			t.Fatalf("end %q, observations %+v; want deadlock with a liveness observation", res.End, res.Observations)
		}
	})
	t.Run("budget", func(t *testing.T) {
		s := freeSched(50, false)
		s.Spawn("spinner", sim.ActorOptions{}, func(a *sim.Actor) {
			for {
				a.Yield()
			}
		})
		res := s.Run()
		if res.End != sim.EndBudget || res.Steps != 50 {
			t.Fatalf("end %q after %d steps, want budget after 50", res.End, res.Steps)
		}
	})
	t.Run("kill", func(t *testing.T) {
		s := freeSched(0, false)
		unwound := false
		victim := s.Spawn("victim", sim.ActorOptions{}, func(a *sim.Actor) {
			defer func() { unwound = true }()
			for {
				a.Sleep(sim.Millisecond)
			}
		})
		s.Spawn("killer", sim.ActorOptions{}, func(a *sim.Actor) {
			a.Sleep(3 * sim.Millisecond)
			s.Kill(victim)
		})
		res := s.Run()
		if res.End != sim.EndDone || !unwound || !victim.Done() {
			t.Fatalf("end %q, unwound %v, done %v; want done with the victim unwound", res.End, unwound, victim.Done())
		}
	})
}

func TestFreeRunModelOverOSFilesystem(t *testing.T) {
	dir := t.TempDir()
	out, err := FreeRun(tikv.DefaultConfig("lease-retry"), 1, dir, sim.DefaultMaxSteps)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains([]string{sim.EndDone, sim.EndViolation}, out.Result.End) {
		t.Fatalf("end %q, observations %+v", out.Result.End, out.Result.Observations)
	}
	// Safety holds under any interleaving; liveness bounds are real time
	// here, so a loaded machine may exceed them.
	for _, o := range out.Result.Observations {
		if o.Kind != sim.KindLiveness {
			t.Errorf("lease-retry showed %s in free mode (%s); the correct design must not fail under any interleaving", o.Kind, o.Detail)
		}
	}
	// The model's files really went to the OS filesystem, one directory
	// per node.
	for _, node := range []string{"node-1", "node-2"} {
		if _, err := os.Stat(filepath.Join(dir, node, "db")); err != nil {
			t.Errorf("%s: %v", node, err)
		}
	}
	if out.Result.Steps == 0 {
		t.Error("no scheduling points were passed")
	}
}

// TestBugCatalogueShowsInSimulator: every catalogued bug shows under the
// simulator within a few hundred seeds, and its simrun flags select the same
// configuration (the replay line the bench prints must reproduce it).
func TestBugCatalogueShowsInSimulator(t *testing.T) {
	for _, b := range Bugs() {
		t.Run(b.Name, func(t *testing.T) {
			found := uint64(0)
			for seed := uint64(1); seed <= 300 && found == 0; seed++ {
				out, err := tikvSys.Simulate(b.Config, sim.NewPRNG(seed), sim.Config{StopOnViolation: true})
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := b.Hit(out.Result.Observations); ok {
					found = seed
				}
			}
			if found == 0 {
				t.Fatalf("%s did not show in 300 seeds", b.Name)
			}
			t.Logf("%s: first at seed %d", b.Name, found)
			if b.Title == "" || !strings.HasPrefix(b.Flags, "--collector "+b.Config.Collector) {
				t.Errorf("catalogue entry %q: title %q, flags %q", b.Name, b.Title, b.Flags)
			}
		})
	}
}

func TestFailureKeyIgnoresStepsAndTimes(t *testing.T) {
	a := sim.Observation{Kind: sim.KindOpenDeletedFile, Detail: "open /db/000001.sst: removed at step 176 (t=19.923ms) by gc: obsolete after compaction 1"}
	b := sim.Observation{Kind: sim.KindOpenDeletedFile, Detail: "open /db/000001.sst: removed at step 12 (t=4ms) by gc: obsolete after compaction 1"}
	c := sim.Observation{Kind: sim.KindOpenDeletedFile, Detail: "open /db/000002.sst: removed at step 12 (t=4ms) by gc: obsolete after compaction 1"}
	d := sim.Observation{Kind: sim.KindSnapFileMissing, Detail: "n1:/snap/gen_1_1_14.meta deleted by snapshot GC (timeout (9.858ms old)) while registered Sending"}
	e := sim.Observation{Kind: sim.KindSnapFileMissing, Detail: "n1:/snap/gen_1_1_14.meta deleted by snapshot GC (timeout (5.031ms old)) while registered Sending"}
	if FailureKey(a) != FailureKey(b) || FailureKey(d) != FailureKey(e) {
		t.Errorf("same file and cause differ: %q vs %q; %q vs %q", FailureKey(a), FailureKey(b), FailureKey(d), FailureKey(e))
	}
	if FailureKey(a) == FailureKey(c) {
		t.Errorf("different files are the same failure: %q", FailureKey(a))
	}
	if !strings.Contains(FailureKey(a), "/db/000001.sst") {
		t.Errorf("the key lost the file name: %q", FailureKey(a))
	}
}
