package sim

import (
	"fmt"
	"math/rand/v2"
)

// Choice is the one source of nondeterminism in a simulation. Every decision
// (which actor runs next, how many keys a writer puts, whether a fault fires)
// is one call to Intn. Implementations: PRNG (seeded), Log (replay of a
// recorded stream), Recorder (records another source), and, outside this
// package, an adapter over *rapid.T so that rapid's shrinker minimises
// schedule, workload and faults together.
type Choice interface {
	// Intn returns a value in [0, n). n must be > 0.
	Intn(n int) int
}

// PRNG is a Choice backed by a seeded PCG generator from math/rand/v2. The
// same seed always yields the same stream, on every platform.
type PRNG struct {
	src rand.PCG
}

// pcgStream is the fixed second half of the PCG state: a seed is one uint64,
// as users type it on the command line.
const pcgStream = 0x9e3779b97f4a7c15

// NewPRNG returns a PRNG seeded with seed.
func NewPRNG(seed uint64) *PRNG {
	p := &PRNG{}
	p.src.Seed(seed, pcgStream)
	return p
}

// Intn implements Choice with Lemire's unbiased bounded method; it does not
// allocate.
func (p *PRNG) Intn(n int) int {
	if n <= 0 {
		panic(fmt.Sprintf("sim: Intn(%d): n must be > 0", n))
	}
	if n == 1 {
		return 0
	}
	bound := uint64(n)
	for {
		hi, lo := mul64(p.src.Uint64(), bound)
		if lo < bound {
			threshold := -bound % bound
			if lo < threshold {
				continue
			}
		}
		return int(hi)
	}
}

// mul64 returns the 128-bit product of a and b as (hi, lo).
func mul64(a, b uint64) (hi, lo uint64) {
	const mask32 = 1<<32 - 1
	a0, a1 := a&mask32, a>>32
	b0, b1 := b&mask32, b>>32
	w0 := a0 * b0
	t := a1*b0 + w0>>32
	w1 := t & mask32
	w2 := t >> 32
	w1 += a0 * b1
	hi = a1*b1 + w2 + w1>>32
	lo = a * b
	return hi, lo
}

// Draw is one recorded decision: the bound that was asked for and the value
// that was returned.
type Draw struct {
	N     int `json:"n"`
	Value int `json:"v"`
}

// Recorder wraps a Choice and records every draw, so a run can be replayed
// exactly from its log (see Log) or shrunk.
type Recorder struct {
	inner Choice
	draws []Draw
}

// NewRecorder returns a Recorder over inner.
func NewRecorder(inner Choice) *Recorder { return &Recorder{inner: inner} }

// Intn implements Choice.
func (r *Recorder) Intn(n int) int {
	v := r.inner.Intn(n)
	r.draws = append(r.draws, Draw{N: n, Value: v})
	return v
}

// Draws returns the recorded draws (the caller must not modify them).
func (r *Recorder) Draws() []Draw { return r.draws }

// Log replays a recorded stream of values. A value out of range for the
// bound now asked is reduced modulo the bound, and draws past the end of the
// log return 0 (the "simplest" choice, as rapid does), so a shortened or
// lowered log — what a shrinker produces — is always a valid stream.
// Divergences counts draws whose bound differed from the recorded one: a
// non-zero count after replaying an unmodified log means the code drifted.
type Log struct {
	draws       []Draw
	pos         int
	Divergences int
}

// NewLog returns a Choice that replays draws.
func NewLog(draws []Draw) *Log { return &Log{draws: draws} }

// Intn implements Choice.
func (l *Log) Intn(n int) int {
	if n <= 0 {
		panic(fmt.Sprintf("sim: Intn(%d): n must be > 0", n))
	}
	if l.pos >= len(l.draws) {
		l.pos++
		return 0
	}
	d := l.draws[l.pos]
	l.pos++
	if d.N != 0 && d.N != n {
		l.Divergences++
	}
	if d.Value < 0 {
		return 0
	}
	return d.Value % n
}

// Consumed reports how many draws have been made, including those past the
// end of the log.
func (l *Log) Consumed() int { return l.pos }
