package proptest

import (
	"github.com/snapsim/snapsim/sim"
	"pgregory.net/rapid"
)

// Choice adapts a *rapid.T to sim.Choice. Each Intn is one rapid draw of an
// integer in [0, n); rapid shrinks draws toward 0 and deletes them, which
// for a model means fewer, smaller, earlier-actor choices.
type Choice struct {
	t    *rapid.T
	gens map[int]*rapid.Generator[int]
}

// NewChoice returns a Choice drawing from t.
func NewChoice(t *rapid.T) *Choice {
	return &Choice{t: t, gens: make(map[int]*rapid.Generator[int])}
}

// Intn implements sim.Choice. Intn(1) is 0 without a draw.
func (c *Choice) Intn(n int) int {
	if n <= 0 {
		panic("proptest: Intn with n <= 0")
	}
	if n == 1 {
		return 0
	}
	g, ok := c.gens[n]
	if !ok {
		g = rapid.IntRange(0, n-1)
		c.gens[n] = g
	}
	// rapid ends a test case by panicking inside Draw; carry that through
	// the actor's coroutine to rapid untouched.
	defer func() {
		if r := recover(); r != nil {
			panic(sim.Abort{Cause: r})
		}
	}()
	return g.Draw(c.t, "choice")
}
