package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// Strategy names how the scheduler picks the next actor among the runnable
// ones. It is plain data, so it can travel in seed files and JSON.
type Strategy struct {
	// Name is "random" (uniform random walk), "pct" (probabilistic
	// concurrency testing with Depth-1 priority change points) or "replay"
	// (follow Schedule, a recorded list of actor names per step).
	Name string `json:"name"`
	// Depth is PCT's bug depth d (default 3).
	Depth int `json:"depth,omitempty"`
	// Horizon is PCT's expected run length k in steps; change points are
	// drawn in [1, Horizon] (default 2000).
	Horizon int64 `json:"horizon,omitempty"`
	// Schedule is the actor name to run at each step, for "replay".
	Schedule []string `json:"schedule,omitempty"`
}

// Strategy defaults.
const (
	DefaultPCTDepth   = 3
	DefaultPCTHorizon = 2000
)

// StrategyExhaustive is the strategy of an exhaustive exploration
// (explore.go): the Explorer decides every step. It is not a sampling
// strategy, so ParseStrategy does not accept it; Explore sets it in the
// Config it passes to its Program.
const StrategyExhaustive = "exhaustive"

// StrategyNames lists the strategies ParseStrategy accepts.
var StrategyNames = []string{"random", "pct", "replay"}

// ParseStrategy parses "random", "pct", "pct:D" (depth D) or "replay".
func ParseStrategy(s string) (Strategy, error) {
	name, arg, hasArg := strings.Cut(s, ":")
	switch name {
	case "random", "replay":
		if hasArg {
			return Strategy{}, fmt.Errorf("strategy %q takes no argument (want random, pct, pct:DEPTH or replay)", s)
		}
		return Strategy{Name: name}, nil
	case "pct":
		st := Strategy{Name: "pct", Depth: DefaultPCTDepth, Horizon: DefaultPCTHorizon}
		if hasArg {
			d, err := strconv.Atoi(arg)
			if err != nil || d < 1 || d > 64 {
				return Strategy{}, fmt.Errorf("strategy %q: depth must be an integer in 1..64 (want pct:DEPTH)", s)
			}
			st.Depth = d
		}
		return st, nil
	}
	return Strategy{}, fmt.Errorf("unknown strategy %q (want random, pct, pct:DEPTH or replay)", s)
}

// String renders the strategy in the form ParseStrategy accepts.
func (st Strategy) String() string {
	if st.Name == "pct" && st.Depth != 0 && st.Depth != DefaultPCTDepth {
		return fmt.Sprintf("pct:%d", st.Depth)
	}
	if st.Name == "" {
		return "random"
	}
	return st.Name
}

// picker is a strategy's run-time state.
type picker interface {
	// spawned is called once per actor, in spawn order.
	spawned(a *Actor)
	// pick returns the index in runnable of the actor to run at step, or
	// -1 to end the run (a replay that diverged).
	pick(runnable []*Actor, step int64) int
}

func newPicker(st Strategy, s *Scheduler) picker {
	switch st.Name {
	case "", "random":
		return &randomPicker{c: s.choice, s: s}
	case "pct":
		return newPCT(st, s)
	case "replay":
		return &replayPicker{s: s, schedule: st.Schedule}
	case StrategyExhaustive:
		return explorePicker{s: s}
	}
	panic(fmt.Sprintf("sim: unknown strategy %q", st.Name))
}

// randomPicker is the uniform random walk over runnable actors, by
// rejection sampling: it draws an actor id among all actors and redraws
// while that actor cannot run. Drawing identities, not positions in the
// runnable list, keeps every choice's meaning stable when a shrinker removes
// work elsewhere ("run the compactor" stays "run the compactor"), and a
// draw for an actor that is not runnable is simply skipped. After
// maxRejections draws it falls back to the first runnable actor at or after
// the last draw.
type randomPicker struct {
	c Choice
	s *Scheduler
}

// maxRejections bounds the redraws of one decision (TigerStyle: every loop
// has a bound). With n actors and at least one runnable, falling back has
// probability at most ((n-1)/n)^64.
const maxRejections = 64

func (*randomPicker) spawned(*Actor) {}

func (p *randomPicker) pick(runnable []*Actor, _ int64) int {
	if len(runnable) == 1 {
		return 0
	}
	n := len(p.s.actors)
	id := 0
	for try := 0; try < maxRejections; try++ {
		id = p.c.Intn(n)
		if a := p.s.actors[id]; a.state == stateRunnable {
			for i, r := range runnable {
				if r == a {
					return i
				}
			}
		}
	}
	for i, a := range runnable {
		if a.id >= id {
			return i
		}
	}
	return 0
}

// pctPicker implements PCT (Burckhardt et al., ASPLOS 2010): every actor gets
// a random initial priority above Depth; the highest-priority runnable actor
// runs; at each of Depth-1 random change points the running actor drops to a
// low priority. A bug of depth d is found with probability at least
// 1/(n·k^(d-1)) per run.
type pctPicker struct {
	c        Choice
	depth    int
	priority []int   // by actor id
	change   []int64 // change-point steps, one per low priority level
}

func newPCT(st Strategy, s *Scheduler) *pctPicker {
	depth := st.Depth
	if depth <= 0 {
		depth = DefaultPCTDepth
	}
	horizon := st.Horizon
	if horizon <= 0 {
		horizon = DefaultPCTHorizon
	}
	p := &pctPicker{c: s.choice, depth: depth}
	p.change = make([]int64, depth-1)
	for i := range p.change {
		p.change[i] = 1 + int64(s.choice.Intn(int(horizon)))
	}
	return p
}

// pctPriorityRange spreads initial priorities so ties are rare; a tie goes
// to the lower actor id.
const pctPriorityRange = 1 << 20

func (p *pctPicker) spawned(a *Actor) {
	for len(p.priority) <= a.id {
		p.priority = append(p.priority, 0)
	}
	p.priority[a.id] = p.depth + p.c.Intn(pctPriorityRange)
}

func (p *pctPicker) highest(runnable []*Actor) int {
	best := 0
	for i := 1; i < len(runnable); i++ {
		if p.priority[runnable[i].id] > p.priority[runnable[best].id] {
			best = i
		}
	}
	return best
}

func (p *pctPicker) pick(runnable []*Actor, step int64) int {
	best := p.highest(runnable)
	for i, cp := range p.change {
		if cp == step {
			// Change point i: the actor about to run drops below every
			// initial priority (levels depth-1 .. 1).
			p.priority[runnable[best].id] = p.depth - 1 - i
			best = p.highest(runnable)
		}
	}
	return best
}

// replayPicker follows a recorded schedule of actor names. If the named
// actor is not runnable the replay has diverged: that is reported as a
// nondeterminism observation and the run ends. Past the end of the
// schedule it falls back to the first runnable actor.
type replayPicker struct {
	s        *Scheduler
	schedule []string
}

func (*replayPicker) spawned(*Actor) {}

func (p *replayPicker) pick(runnable []*Actor, step int64) int {
	i := int(step - 1)
	if i >= len(p.schedule) {
		return 0
	}
	want := p.schedule[i]
	for j, a := range runnable {
		if a.name == want {
			return j
		}
	}
	p.s.observeAs(nil, KindNondeterminism,
		fmt.Sprintf("replay diverged at step %d: recorded actor %q is not runnable", step, want), "")
	return -1
}

// explorePicker hands every scheduling decision to the explorer driving
// the run, with the actor that ran the previous step as the default.
type explorePicker struct{ s *Scheduler }

func (explorePicker) spawned(*Actor) {}

func (p explorePicker) pick(runnable []*Actor, _ int64) int {
	return p.s.xs.schedule(p.s, runnable)
}
