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

// coroutine is one actor's execution context.
type coroutine struct {
	next  func() (struct{}, bool)
	stop  func()
	yield func(struct{}) bool
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

// start prepares fn to run as a coroutine; it does not run it yet.
func (c *coroutine) start(fn func()) {
	c.next, c.stop = iter.Pull(func(yield func(struct{}) bool) {
		c.yield = yield
		defer func() {
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
		fn()
	})
}

// resume runs the coroutine until it yields (true) or finishes (false).
func (c *coroutine) resume() bool {
	_, ok := c.next()
	return ok
}

// suspend is called from inside the coroutine to give control back. It
// unwinds the coroutine if the scheduler stopped it meanwhile.
func (c *coroutine) suspend() {
	if c.yield == nil {
		panic("sim: suspend outside a running coroutine")
	}
	if !c.yield(struct{}{}) {
		panic(stopSignal{})
	}
}

// halt stops a suspended coroutine, unwinding its stack (deferred calls run).
func (c *coroutine) halt() {
	if c.stop != nil {
		c.stop()
	}
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
