package sim

import (
	"fmt"
	"testing"
)

// benchScheduling runs b.N steps of actors that only Yield: each step is one
// scheduling decision plus two coroutine switches (into the actor and back).
// Set-up (New, Spawn) is outside the timer; halting the actors at the end is
// inside it but amortised over b.N.
func benchScheduling(b *testing.B, st Strategy, actors int, keep bool) {
	s := New(NewPRNG(1), Config{MaxSteps: int64(b.N), Strategy: st, KeepTrace: keep})
	for i := 0; i < actors; i++ {
		s.Spawn(fmt.Sprintf("y%d", i), ActorOptions{}, func(a *Actor) {
			for {
				a.Yield()
			}
		})
	}
	b.ReportAllocs()
	b.ResetTimer()
	res := s.Run()
	b.StopTimer()
	if res.Steps != int64(b.N) || res.End != EndBudget {
		b.Fatalf("ran %d steps, end %q; want %d, %q", res.Steps, res.End, b.N, EndBudget)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/decision")
}

// BenchmarkSchedulingDecision: 4 yielding actors, random walk, no kept
// trace. Must report 0 allocs/op.
func BenchmarkSchedulingDecision(b *testing.B) {
	benchScheduling(b, Strategy{Name: "random"}, 4, false)
}

func BenchmarkSchedulingDecisionPCT(b *testing.B) {
	benchScheduling(b, Strategy{Name: "pct", Depth: 3}, 4, false)
}

func BenchmarkSchedulingDecision64Actors(b *testing.B) {
	benchScheduling(b, Strategy{Name: "random"}, 64, false)
}

// BenchmarkSchedulingSleep: actors that Sleep, so the clock jumps and
// sleepers are woken by collectRunnable.
func BenchmarkSchedulingSleep(b *testing.B) {
	s := New(NewPRNG(1), Config{MaxSteps: int64(b.N)})
	for i := 0; i < 4; i++ {
		d := Micros(10 * (i + 1))
		s.Spawn(fmt.Sprintf("s%d", i), ActorOptions{}, func(a *Actor) {
			for {
				a.Sleep(d)
			}
		})
	}
	b.ReportAllocs()
	b.ResetTimer()
	res := s.Run()
	b.StopTimer()
	if res.Steps != int64(b.N) {
		b.Fatalf("ran %d steps, want %d", res.Steps, b.N)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/decision")
}

// BenchmarkRecordEvent: one step that also records an event (hash only).
func BenchmarkRecordEvent(b *testing.B) {
	s := New(NewPRNG(1), Config{MaxSteps: int64(b.N)})
	for i := 0; i < 4; i++ {
		s.Spawn(fmt.Sprintf("r%d", i), ActorOptions{}, func(a *Actor) {
			for {
				s.Record(ClassIO, "open", "/db/000001.sst", "ok")
				a.Yield()
			}
		})
	}
	b.ReportAllocs()
	b.ResetTimer()
	s.Run()
}

var sinkInt int

func BenchmarkPRNGIntn(b *testing.B) {
	for _, bc := range []struct {
		name string
		n    int
	}{{"n=2", 2}, {"n=1000", 1000}, {"n=3<<61", 3 << 61}} {
		n := bc.n
		b.Run(bc.name, func(b *testing.B) {
			p := NewPRNG(1)
			b.ReportAllocs()
			sum := 0
			for i := 0; i < b.N; i++ {
				sum += p.Intn(n)
			}
			sinkInt = sum
		})
	}
}

// BenchmarkChoiceInterface: Intn through the Choice interface, as the
// scheduler and the layers above call it.
func BenchmarkChoiceInterface(b *testing.B) {
	var c Choice = NewPRNG(1)
	b.ReportAllocs()
	sum := 0
	for i := 0; i < b.N; i++ {
		sum += c.Intn(1000)
	}
	sinkInt = sum
}

// BenchmarkCoroutineRoundTrip is the floor under every scheduling decision:
// a bare iter.Pull resume of a coroutine that yields straight back (two
// goroutine switches through the runtime's coroswitch), with no picking,
// hashing or state. BenchmarkSchedulingDecision minus this is what the
// kernel's own logic costs.
func BenchmarkCoroutineRoundTrip(b *testing.B) {
	var c coroutine
	c.start(func() {
		for {
			c.suspend()
		}
	}, nil)
	defer c.halt()
	b.ReportAllocs()
	for b.Loop() {
		c.resume()
	}
}
