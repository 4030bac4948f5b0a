package baseline

import (
	"runtime"
	"sync"
	"time"

	"github.com/snapsim/snapsim/sim"
)

// Gate is the free-mode runtime (sim.Gate): real goroutines, one mutex
// guarding the simulated system, and the wall clock. Under it the model's
// actors are interleaved by the Go scheduler and the OS, exactly as a
// goroutine stress test of the same code would be.
type Gate struct {
	mu    sync.Mutex
	cond  *sync.Cond
	start time.Time
}

var _ sim.Gate = (*Gate)(nil)

// NewGate returns a gate whose clock starts now.
func NewGate() *Gate {
	g := &Gate{start: time.Now()}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// Go implements sim.Gate.
func (g *Gate) Go(fn func()) { go fn() }

// Lock implements sim.Gate.
func (g *Gate) Lock() { g.mu.Lock() }

// Unlock implements sim.Gate.
func (g *Gate) Unlock() { g.mu.Unlock() }

// Yield implements sim.Gate: release the lock and let the Go scheduler pick
// who runs next. This is the whole "scheduling point" of a stress test.
func (g *Gate) Yield() {
	g.mu.Unlock()
	runtime.Gosched()
	g.mu.Lock()
}

// Wait implements sim.Gate.
func (g *Gate) Wait() { g.cond.Wait() }

// WaitUntil implements sim.Gate with a real timer.
func (g *Gate) WaitUntil(t sim.Micros) {
	d := time.Duration(t-g.Now()) * time.Microsecond
	if d <= 0 {
		return
	}
	timer := time.AfterFunc(d, func() {
		g.mu.Lock()
		g.cond.Broadcast()
		g.mu.Unlock()
	})
	g.cond.Wait()
	timer.Stop()
}

// Broadcast implements sim.Gate.
func (g *Gate) Broadcast() { g.cond.Broadcast() }

// Now implements sim.Gate: wall-clock time since NewGate.
func (g *Gate) Now() sim.Micros { return sim.Micros(time.Since(g.start) / time.Microsecond) }
