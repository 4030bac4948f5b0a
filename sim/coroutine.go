package sim

import (
	"fmt"
	"iter"
	"runtime/debug"
)

// This file is the only place that creates execution contexts. Actors are
// coroutines built on iter.Pull: resuming one (next) transfers control to it
// and blocks the scheduler until the actor yields, returns or panics, so
// exactly one of them runs at any moment and no goroutine runs free.

// stopSignal unwinds an actor whose coroutine is being stopped.
type stopSignal struct{}

// coroutine is one actor's execution context. It runs on a carrier of its
// own, or on one borrowed from a Pool (an exploration's runs reuse their
// carriers, and the stacks those have grown).
type coroutine struct {
	k       *carrier
	fn      func()
	started bool
	// finished is set when fn has returned, panicked or been unwound.
	finished bool
	// panicValue and panicStack hold a panic caught in the last resume.
	panicked   bool
	panicValue any
	panicStack string
	// abort holds an Abort raised in the last resume.
	abort *Abort
}

// Abort is a panic value that abandons the whole run instead of failing one
// actor: the kernel stops every actor and re-panics with the Abort in the
// goroutine that called Run. A Choice source uses it to carry its own
// control flow through actor coroutines (rapid signals "out of data" and
// "stop this test case" by panicking inside a draw).
type Abort struct {
	// Cause is the original panic value.
	Cause any
}

// carrier is a goroutine-backed context (an iter.Pull coroutine) that runs
// one coroutine's function after another: between two it waits, idle, for
// the next. Exactly one of the scheduler and the carrier runs at a time.
type carrier struct {
	next  func() (struct{}, bool)
	stop  func()
	yield func(struct{}) bool
	co    *coroutine // the coroutine it runs (nil while idle)
	// halting makes a suspended function unwind when resumed.
	halting bool
	// pooled carriers go back to their pool when their coroutine ends.
	pool *Pool
}

func newCarrier(pool *Pool) *carrier {
	k := &carrier{pool: pool}
	k.next, k.stop = iter.Pull(func(yield func(struct{}) bool) {
		k.yield = yield
		for {
			k.run()
			if !yield(struct{}{}) {
				return
			}
		}
	})
	return k
}

// run runs the current coroutine's function, catching its panic.
func (k *carrier) run() {
	c := k.co
	defer func() {
		c.finished = true
		r := recover()
		if r == nil {
			return
		}
		if _, ok := r.(stopSignal); ok {
			return
		}
		if ab, ok := r.(Abort); ok {
			c.abort = &ab
			return
		}
		c.panicked = true
		c.panicValue = r
		c.panicStack = string(debug.Stack())
	}()
	c.fn()
}

// Pool keeps the carriers of finished actors for the next run's actors:
// an exhaustive exploration runs the same program thousands of times, and
// a fresh goroutine per actor and run grows its stack again each time
// (about a tenth of a run's cost). A Pool belongs to one goroutine (it is
// not safe for concurrent use); Close stops its carriers. A Scheduler uses
// the pool of the Explorer that drives it.
type Pool struct {
	all  []*carrier
	free []*carrier
}

func (p *Pool) get() *carrier {
	if n := len(p.free); n > 0 {
		k := p.free[n-1]
		p.free = p.free[:n-1]
		return k
	}
	k := newCarrier(p)
	p.all = append(p.all, k)
	return k
}

// Close stops every carrier of the pool (each is idle, or suspended in a
// function that is then unwound); none is left running.
func (p *Pool) Close() {
	for _, k := range p.all {
		k.stop()
	}
	p.all, p.free = nil, nil
}

// start prepares fn to run as a coroutine (on a carrier of pool, or on a
// new goroutine of its own when pool is nil); it does not run it yet.
func (c *coroutine) start(fn func(), pool *Pool) {
	c.fn = fn
	if pool != nil {
		c.k = pool.get()
	} else {
		c.k = newCarrier(nil)
	}
}

// resume runs the coroutine until it yields (true) or finishes (false).
func (c *coroutine) resume() bool {
	if c.finished {
		return false
	}
	c.started = true
	k := c.k
	k.co = c
	if _, ok := k.next(); !ok {
		c.finished = true // the carrier was stopped
	}
	if c.finished {
		c.release()
		return false
	}
	return true
}

// release gives the carrier back (to its pool, or stops a carrier of its
// own) once the coroutine has finished.
func (c *coroutine) release() {
	k := c.k
	if k == nil {
		return
	}
	c.k = nil
	k.co = nil
	if k.pool != nil {
		k.pool.free = append(k.pool.free, k)
	} else {
		k.stop()
	}
}

// suspend is called from inside the coroutine to give control back. It
// unwinds the coroutine if the scheduler stopped it meanwhile.
func (c *coroutine) suspend() {
	k := c.k
	if k == nil || k.yield == nil || k.co != c {
		panic("sim: suspend outside a running coroutine")
	}
	if !k.yield(struct{}{}) || k.halting {
		panic(stopSignal{})
	}
}

// halt stops a suspended coroutine, unwinding its stack (deferred calls
// run). A coroutine that never ran just ends.
func (c *coroutine) halt() {
	if c.finished || c.k == nil {
		return
	}
	if !c.started {
		c.finished = true
		c.release()
		return
	}
	k := c.k
	k.halting = true
	k.co = c
	_, ok := k.next()
	k.halting = false
	if !ok || !c.finished {
		// The carrier was stopped, or the function would not unwind (it
		// recovered the stop and suspended again): this carrier is not
		// reused; stopping it unwinds what is left.
		c.finished = true
		c.k, k.co, k.pool = nil, nil, nil
		k.stop()
		return
	}
	c.release()
}

// panicMessage renders a recovered panic value.
func panicMessage(v any) string {
	switch x := v.(type) {
	case error:
		return x.Error()
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}
