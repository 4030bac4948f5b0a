package sim

import (
	"fmt"
	"math"
)

// Micros is a span or an instant of virtual time in microseconds. Virtual time
// advances only by modeled operation costs and by sleeping actors; it never
// reads a wall clock.
type Micros int64

// Common virtual-time spans.
const (
	Microsecond Micros = 1
	Millisecond Micros = 1000
	Second      Micros = 1000 * Millisecond
)

// String renders t as a compact decimal with a unit, e.g. "1.250ms".
func (t Micros) String() string {
	switch {
	case t == math.MinInt64:
		// -t overflows back to t: recursing would never end.
		return "-9223372036854.775808s"
	case t < 0:
		return "-" + (-t).String()
	case t < Millisecond:
		return fmt.Sprintf("%dus", int64(t))
	case t < Second:
		return fmt.Sprintf("%d.%03dms", int64(t/Millisecond), int64(t%Millisecond))
	default:
		return fmt.Sprintf("%d.%06ds", int64(t/Second), int64(t%Second))
	}
}

// Clock is the virtual clock of one simulation. It only moves forward.
type Clock struct {
	now Micros
}

// Now returns the current virtual time.
func (c *Clock) Now() Micros { return c.now }

// Advance moves the clock forward by d (the modeled cost of an operation).
func (c *Clock) Advance(d Micros) {
	if d < 0 {
		panic(fmt.Sprintf("sim: Clock.Advance(%d): negative span", d))
	}
	c.now += d
}

// advanceTo moves the clock to t if t is later than now.
func (c *Clock) advanceTo(t Micros) {
	if t > c.now {
		c.now = t
	}
}
