package sim

import (
	"fmt"
	"strconv"
)

// workloadMaxSteps bounds the randomized workload; it normally ends "done"
// far earlier.
const workloadMaxSteps = 5000

// runWorkload runs the randomized workload with every decision (schedule and
// data) drawn from c.
func runWorkload(c Choice, cfg Config) Result {
	if cfg.MaxSteps == 0 {
		cfg.MaxSteps = workloadMaxSteps
	}
	s := New(c, cfg)
	buildWorkload(s, s, nil)
	return s.Run()
}

// buildWorkload spawns a small randomized workload: three writers that
// yield, sleep, charge virtual time, record I/O and produce items; a watched
// consumer that parks until woken; a GC daemon that sleeps on a timer and,
// once, spawns a helper actor from inside its step. data supplies the
// workload's own decisions (sizes, sleeps, panics); mark, if not nil, is
// called each time an actor resumes, i.e. once per step.
func buildWorkload(s *Scheduler, data Choice, mark func(a *Actor)) {
	if mark == nil {
		mark = func(*Actor) {}
	}
	yield := func(a *Actor) { a.Yield(); mark(a) }
	sleep := func(a *Actor, d Micros) { a.Sleep(d); mark(a) }
	park := func(a *Actor) { a.Park(); mark(a) }

	var queue []int
	live := 0
	var consumer *Actor
	consumer = s.Spawn("consumer", ActorOptions{Watched: true}, func(a *Actor) {
		mark(a)
		for {
			for len(queue) == 0 && live > 0 {
				s.Record(ClassAction, "park", "", "")
				park(a)
			}
			if len(queue) == 0 {
				s.Record(ClassAction, "exit", "", "")
				return
			}
			v := queue[0]
			queue = queue[1:]
			s.Record(ClassAction, "consume", strconv.Itoa(v), "ok")
			if data.Intn(4) == 0 {
				sleep(a, Micros(data.Intn(300)))
			} else {
				yield(a)
			}
		}
	})
	for w := 0; w < 3; w++ {
		live++
		s.Spawn(fmt.Sprintf("writer-%d", w), ActorOptions{}, func(a *Actor) {
			mark(a)
			defer func() {
				live--
				s.Wake(consumer)
			}()
			n := 3 + data.Intn(8)
			for i := 0; i < n; i++ {
				switch data.Intn(4) {
				case 0:
					yield(a)
				case 1:
					sleep(a, Micros(1+data.Intn(500)))
				case 2:
					s.Advance(Micros(data.Intn(100)))
					s.Record(ClassIO, "write", fmt.Sprintf("k%03d", data.Intn(1000)), "ok")
					yield(a)
				case 3:
					v := data.Intn(1000)
					queue = append(queue, v)
					s.Wake(consumer)
					s.Record(ClassAction, "produce", strconv.Itoa(v), "")
					yield(a)
				}
			}
			if data.Intn(25) == 0 {
				panic(fmt.Sprintf("%s: injected failure", a.Name()))
			}
		})
	}
	s.Spawn("gc", ActorOptions{Daemon: true}, func(a *Actor) {
		mark(a)
		for i := 0; ; i++ {
			sleep(a, Millisecond/4+Micros(data.Intn(100)))
			s.Record(ClassIO, "gc", strconv.Itoa(i), "")
			if i == 2 {
				s.Spawn("helper", ActorOptions{}, func(h *Actor) {
					mark(h)
					for j := data.Intn(4); j > 0; j-- {
						s.Record(ClassAction, "help", strconv.Itoa(j), "")
						yield(h)
					}
				})
			}
		}
	})
}

// withoutStacks drops the (address-bearing, never hashed) panic stacks so
// observations of two runs can be compared.
func withoutStacks(obs []Observation) []Observation {
	out := make([]Observation, len(obs))
	for i, o := range obs {
		o.Stack = ""
		out[i] = o
	}
	return out
}

// stepLog returns a mark function that appends each resumed actor's name,
// with the scheduler's step, to a schedule.
type stepLog struct {
	s     *Scheduler
	names []string
}

func (l *stepLog) mark(a *Actor) {
	step := int(l.s.Step())
	for len(l.names) < step {
		l.names = append(l.names, "")
	}
	l.names[step-1] = a.Name()
	if l.s.Current() != a {
		panic("stepLog: mark called for an actor that is not current")
	}
}
