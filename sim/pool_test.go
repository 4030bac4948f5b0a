package sim

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestPoolReusesCarriers: one scheduler after another on one pool reuses
// the carriers of the actors that ended (returned, panicked, or halted in
// the middle of their function, deferred calls run), and Close leaves no
// goroutine behind.
func TestPoolReusesCarriers(t *testing.T) {
	before := runtime.NumGoroutine()
	var pool Pool
	started, deferred := 0, 0
	for run := 0; run < 50; run++ {
		s := New(NewPRNG(uint64(run)), Config{MaxSteps: 1000})
		s.pool = &pool
		s.Spawn("returns", ActorOptions{}, func(a *Actor) { a.Yield() })
		s.Spawn("panics", ActorOptions{}, func(a *Actor) {
			a.Yield()
			panic("boom")
		})
		s.Spawn("daemon", ActorOptions{Daemon: true}, func(a *Actor) {
			started++
			defer func() { deferred++ }()
			for {
				a.Sleep(Millisecond)
			}
		})
		res := s.Run()
		if len(res.Observations) != 1 || res.Observations[0].Kind != KindPanic || !strings.Contains(res.Observations[0].Stack, "pool_test.go") {
			t.Fatalf("run %d: observations %+v, want the one panic with its stack", run, res.Observations)
		}
	}
	if deferred != started || started < 25 {
		t.Fatalf("the halted daemon's deferred call ran %d times; it started in %d of 50 runs", deferred, started)
	}
	if len(pool.all) != 3 || len(pool.free) != 3 {
		t.Fatalf("pool holds %d carriers (%d idle) after 50 runs of 3 actors, want 3 (3)", len(pool.all), len(pool.free))
	}
	pool.Close()
	waitGoroutines(t, before)
}

// TestExploreLeavesNoGoroutine: an exploration's carriers end with it, on
// one worker or several.
func TestExploreLeavesNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	mustExplore(t, yielders(2, 2, 1), Options{Bounds: bounds(2, 0)})
	mustExplore(t, yielders(2, 2, 1), Options{Bounds: bounds(2, 0), ForEach: func(n int, do func(int)) {
		done := make(chan struct{})
		for i := 0; i < n; i++ {
			go func() { do(i); done <- struct{}{} }()
		}
		for i := 0; i < n; i++ {
			<-done
		}
	}})
	waitGoroutines(t, before)
}

// waitGoroutines waits (a bounded number of times) for exited goroutines
// to be gone; a count above start is a leak.
func waitGoroutines(t *testing.T, start int) {
	t.Helper()
	n := runtime.NumGoroutine()
	for i := 0; i < 100 && n > start; i++ {
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	if n > start {
		t.Fatalf("%d goroutines, %d at the start: carriers leaked", n, start)
	}
}
