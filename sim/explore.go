package sim

import (
	"errors"
	"fmt"
	"math/bits"
	"sync/atomic"
)

// This file is bounded exhaustive checking: a deterministic, stateless
// depth-first exploration of the Choice tree of a program.
//
// Every call to Intn is a branch. Scheduling decisions (which runnable
// actor runs the next step) are asked of the explorer by the "exhaustive"
// strategy with the actor that ran the previous step as the default; plain
// Intn calls from the model and the filesystem (workload sizes, fault
// draws, thread ids, timer jitter) are data branches whose default is 0.
// The explorer re-executes the program from the root for every execution,
// replaying a prefix of decisions (as a Log replays a draw log), and
// backtracks depth-first.
//
// Bounds (Bounds):
//
//   - Delays (K). The default at a scheduling point is to continue the
//     actor that ran the previous step if it is still runnable, else the
//     next runnable actor after it in id order (round robin). Choosing the
//     j-th runnable actor in that round-robin order costs j delays (delay
//     bounding, Emmi, Qadeer and Rakamarić, POPL 2011). An execution uses
//     at most K delays. The exploration deepens iteratively, K' = 0, 1, ...,
//     K, and stops at the first level with a counterexample, so the
//     counterexample it reports has the fewest delays.
//   - Faults (F). A data draw's default is 0; any other value counts as one
//     fault (a fault that fires, a workload variation, a different thread
//     id, a longer timer). An execution uses at most F.
//   - MaxSteps (N): a run that reaches it is cut there and reported as
//     truncated; an exploration with truncated executions is never
//     "verified".
//   - Width (W): a data draw of bound n ≤ W is explored at every value; a
//     wider draw at W values spread evenly from 0 to n-1 (W = 2: 0 and
//     n-1, which is "no fault" and "fault" for a fault draw, the smallest
//     and the largest size for a workload draw). Values in between are not
//     explored.
//
// Reduction (unless Options.NoReduction): sleep sets (Godefroid 1996) over
// the dependency relation of footprint.go. After the alternatives a_1 ...
// a_i-1 at a node have been explored, the branch a_i starts with those of
// them that are independent of a_i's step asleep, and a sleeping actor
// stays asleep until a step dependent on its pending step runs. An
// execution that runs a sleeping actor is equivalent (the same steps with
// independent neighbours swapped) to one already explored with that actor
// first.
//
// Under a delay bound that argument needs care: the equivalent execution
// may need more delays than the pruned one, and is then outside the bound
// and was never explored (Coons, Musuvathi and McKinley, OOPSLA 2013). So
// the explorer prunes a sleeping actor only after checking that the
// execution with it moved back to where it was put to sleep needs no more
// delays than the pruned one, for every way the pruned one may continue:
// the check recomputes the delays of the moved execution from the
// runnable sets recorded along the path, including the sleepers the moved
// step's virtual time wakes earlier. When the check fails the actor is
// explored as if awake. Everything else an execution is bounded by (its
// faults, its steps) is the same for equivalent executions.
//
// What "verified" means: within the scope (the program and its
// configuration), every execution with at most K delays, at most F faults
// (over the values Width explores) and at most N steps, was run or is
// equivalent to one that was run, and none showed an observation. It says
// nothing about executions beyond those bounds.

// Bounds bound an exhaustive exploration (see the top of explore.go).
type Bounds struct {
	// Delays is K, the most delays per execution.
	Delays int `json:"delays"`
	// Faults is F, the most non-default data draws per execution.
	Faults int `json:"faults"`
	// MaxSteps is N, the step budget of each execution (Config.MaxSteps).
	MaxSteps int64 `json:"max_steps"`
	// Width is W, how many values a data draw is explored at.
	Width int `json:"width"`
	// Preemptions counts preemptions instead of delays: choosing another
	// actor than the one that ran the previous step costs 1 when that
	// actor is still runnable, and nothing when it is not (preemption
	// bounding, Musuvathi and Qadeer, PLDI 2007). Delays also count the
	// choices at the points where the previous actor blocked, so the same
	// K explores far fewer executions.
	Preemptions bool `json:"preemptions,omitempty"`
}

// Exploration limits and defaults.
const (
	MaxBoundDelays = 8
	MaxBoundFaults = 8
	DefaultWidth   = 2
	MaxWidth       = 64
	// DefaultFrontier is how many subtrees (frontier items) a level is cut
	// into per shard when it is explored by more than one worker or shard.
	DefaultFrontier = 64
	// minSplitRuns is the size of a level below which workers (not
	// shards) walk the next level whole.
	minSplitRuns = 32
)

// Validate reports the first bound out of range.
func (b Bounds) Validate() error {
	switch {
	case b.Delays < 0 || b.Delays > MaxBoundDelays:
		return fmt.Errorf("delays must be in 0..%d", MaxBoundDelays)
	case b.Faults < 0 || b.Faults > MaxBoundFaults:
		return fmt.Errorf("faults must be in 0..%d", MaxBoundFaults)
	case b.MaxSteps < 1:
		return fmt.Errorf("max steps must be >= 1")
	case b.Width < 2 || b.Width > MaxWidth:
		return fmt.Errorf("width must be in 2..%d", MaxWidth)
	}
	return nil
}

// Program runs one execution of the system under test. It must create its
// Scheduler with New(ch, cfg), passing ch and cfg as given (it may set
// KeepTrace), run it once, and return its Result. An error aborts the
// exploration (a configuration that cannot run, a bug in the program).
type Program func(ch Choice, cfg Config) (Result, error)

// Options configure an exhaustive exploration.
type Options struct {
	Bounds
	// NoReduction explores every execution within the bounds (plain DFS),
	// for comparison.
	NoReduction bool `json:"no_reduction,omitempty"`
	// MaxExecutions stops the exploration, incomplete, once this many runs
	// have been made (0: no limit).
	MaxExecutions int64 `json:"-"`
	// Shard and Shards split every level's frontier items: this
	// exploration runs the items whose index mod Shards is Shard (Shards 0
	// or 1: all of them). Merged with Conclude, the shards give the same
	// counts and counterexample as one exploration.
	Shard  int `json:"shard"`
	Shards int `json:"shards"`
	// Frontier is how many frontier items a level is cut into, at least,
	// when it is split (0: DefaultFrontier per shard). The counts do not
	// depend on it; the balance between workers does.
	Frontier int `json:"frontier,omitempty"`
	// ForEach runs do(i) for every i in [0, n), in any order, possibly
	// concurrently (workers live with the caller: this package starts no
	// goroutine). Nil runs them in order. With ForEach set, or Shards > 1,
	// each level is cut into frontier items.
	ForEach func(n int, do func(i int)) `json:"-"`
	// Tick is called after every run (possibly concurrently), for progress.
	Tick func() `json:"-"`
	// Stop is polled after every run; true stops the exploration,
	// incomplete (an interrupt, a time limit).
	Stop func() bool `json:"-"`
	// Traces counts the distinct traces among the executions
	// (Counts.Traces); it records footprints even without reduction, and
	// is ignored when the exploration is split.
	Traces bool `json:"-"`
	// ablate switches off part of the pruning check, for the negative
	// controls of the soundness test.
	ablate ablation
}

// ablation names a part of the pruning check a test switches off.
type ablation uint8

const (
	ablateNone   ablation = iota
	ablateCheck           // prune every sleeping actor (plain sleep sets)
	ablateTime            // ignore sleepers woken earlier by the moved step's time
	ablateWakeup          // ignore actors the moved step woke
)

// Counts are what an exploration (or a part of one) did.
type Counts struct {
	// Executions are runs that reached their end (every worker finished,
	// a violation, a deadlock or the step budget).
	Executions int64 `json:"executions"`
	// Blocked are runs the explorer cut because every choice left at a
	// point was asleep: everything beyond was equivalent to executions
	// already explored.
	Blocked int64 `json:"blocked"`
	// Pruned counts the alternatives (subtrees) the sleep sets skipped.
	Pruned int64 `json:"pruned"`
	// Truncated are the executions that reached the step budget.
	Truncated int64 `json:"truncated"`
	// Steps is the number of steps run (work; it depends on how the
	// exploration was split, the other counts do not).
	Steps int64 `json:"steps"`
	// Traces is the number of distinct traces (Mazurkiewicz classes under
	// the dependency relation) among the executions, with Options.Traces
	// on an exploration that is not split (0 otherwise). A sound
	// reduction runs at least one execution per class, so Executions over
	// Traces of a plain exploration bounds the ratio any reduction can
	// reach on it.
	Traces int64 `json:"traces,omitempty"`
}

func (c *Counts) add(d Counts) {
	c.Executions += d.Executions
	c.Blocked += d.Blocked
	c.Pruned += d.Pruned
	c.Truncated += d.Truncated
	c.Steps += d.Steps
	c.Traces += d.Traces
}

// Runs is Executions plus Blocked: every run the exploration made.
func (c Counts) Runs() int64 { return c.Executions + c.Blocked }

// Counterexample is an execution that showed an observation, with the
// draw log that replays it under the "random" strategy (NewLog).
type Counterexample struct {
	// Level is the delay bound of the level that found it; Delays and
	// Faults are what the execution used.
	Level  int `json:"level"`
	Delays int `json:"delays"`
	Faults int `json:"faults"`
	// Seq is its frontier event at the level; Before is how many
	// executions of that event's subtree ran before it.
	Seq    int   `json:"seq"`
	Before int64 `json:"before"`
	// Draws replays it: scheduling decisions are recorded as the draw the
	// random strategy makes for that actor (n = actors, v = actor id).
	Draws []Draw `json:"draws"`
	// Result is the run's result (without events), with the trace hash
	// of its replay under the random strategy (exploration runs do not
	// hash their traces).
	Result Result `json:"result"`
}

// EventResult is what one frontier event of a level produced: a frontier
// item's subtree, or one execution the plan ran to its end.
type EventResult struct {
	Seq    int             `json:"seq"`
	Counts Counts          `json:"counts"`
	Found  *Counterexample `json:"found,omitempty"`
	// Complete is false when the subtree was not finished (interrupted,
	// out of budget, or skipped because an earlier event had a
	// counterexample).
	Complete bool `json:"complete"`
}

// LevelResult is one level (delay bound) of one exploration or shard.
type LevelResult struct {
	// Level is the delay bound.
	Level int `json:"level"`
	// Events is the number of frontier events (items and plan executions)
	// of the level; Items how many of them are items.
	Events int `json:"events"`
	Items  int `json:"items"`
	// Plan counts the plan's own blocked runs and pruned alternatives (in
	// shard 0 only; its executions are events).
	Plan Counts `json:"plan"`
	// Done holds the events this exploration is responsible for, by Seq.
	Done []EventResult `json:"done"`
}

// Exploration is the result of Explore: one shard's levels.
type Exploration struct {
	Bounds  Bounds        `json:"bounds"`
	Reduced bool          `json:"reduced"`
	Shard   int           `json:"shard"`
	Shards  int           `json:"shards"`
	Levels  []LevelResult `json:"levels"`
	// Stopped says why the exploration stopped early ("" if it did not):
	// "interrupted" (Options.Stop) or "budget" (MaxExecutions).
	Stopped string `json:"stopped,omitempty"`
}

// walker is the depth-first explorer of one subtree. It is the Choice of
// the executions it runs (data draws), and the exhaustive strategy asks it
// for every scheduling decision.
type walker struct {
	prog   Program
	b      Bounds
	reduce bool
	ablate ablation
	k      int // the delay bound of this level

	path   []node
	root   int // nodes below root are fixed (a frontier item's prefix)
	replay int // nodes [0, replay) are replayed in the current run
	d      int // the next node of the current run
	cut    int // plan mode: stop a run at its cut-th scheduling node (0: never)
	nsched int

	delays, faults int
	stepNode       int // the scheduling node whose step is running, or -1
	pending        []sleepEntry
	scratch        []sleepEntry
	draws          []Draw
	stopRun        uint8

	counts Counts
	found  *Counterexample
	// pool keeps the actors' carriers from one run to the next (closed
	// when the walk ends).
	pool  Pool
	onCut func(w *walker)

	// traces, when not nil, collects the canonical hash of every complete
	// execution's trace (Options.Traces); tr builds the current one.
	traces    map[uint64]struct{}
	tr        traceHasher
	stepDraws uint64
}

// Why the explorer stopped a run.
const (
	runNotStopped uint8 = iota
	runBlocked
	runCut
)

type nodeKind uint8

const (
	kindSched nodeKind = iota + 1
	kindData
)

// sleeper is an actor sleeping at a node, and when it wakes.
type sleeper struct {
	id   int
	wake Micros
}

// variant is what one way of running a step did to the schedule: how much
// virtual time it took, whether its actor was still runnable after it, and
// which parked actors it woke.
type variant struct {
	adv      Micros
	runAfter bool
	woken    uint64
}

// doneEntry is an alternative explored at a node: the actor, the union of
// its step's footprints over every way it ran there, and those ways.
type doneEntry struct {
	actor int
	fp    footprint
	vars  []variant
}

// sleepEntry is a sleeping actor: the done entry of node origin whose
// pending step it is.
type sleepEntry struct {
	actor, origin, done int
}

// node is one decision of the current path.
type node struct {
	kind nodeKind
	pos  int // the alternative explored now
	// data nodes
	n    int
	vals []int
	// scheduling nodes: alternatives in round-robin order from prev
	alts      []int
	prev      int
	numActors int
	mask      uint64 // the runnable set by id (numActors <= 64)
	preempt   bool   // costs count preemptions, not delays
	clock     Micros
	sleepers  []sleeper
	sleep     []sleepEntry
	done      []doneEntry
	cur       doneEntry
	// budget used before this node
	delays, faults int
}

// recording reports whether the runs must record footprints.
func (w *walker) recording() bool { return w.reduce || w.traces != nil }

// newNode returns the node at w.d, reset, keeping its storage.
func (w *walker) newNode(kind nodeKind) *node {
	if w.d < len(w.path) {
		panic("sim: explorer: new node inside the path")
	}
	if w.d < cap(w.path) {
		w.path = w.path[:w.d+1]
	} else {
		w.path = append(w.path, node{})
	}
	nd := &w.path[w.d]
	nd.kind, nd.pos, nd.n = kind, 0, 0
	nd.vals, nd.alts = nd.vals[:0], nd.alts[:0]
	nd.sleepers, nd.sleep, nd.done = nd.sleepers[:0], nd.sleep[:0], nd.done[:0]
	nd.cur.actor = -1
	nd.cur.fp.reset()
	nd.cur.vars = nd.cur.vars[:0]
	nd.delays, nd.faults = w.delays, w.faults
	return nd
}

// divergence aborts the run: the program made a different decision while a
// prefix was replayed, so it is not deterministic.
func divergence(format string, args ...any) {
	panic(Abort{Cause: fmt.Errorf("%w: "+format, append([]any{ErrNondeterministic}, args...)...)})
}

// ErrNondeterministic is wrapped by the error of an exploration whose
// program did not repeat itself when a prefix of decisions was replayed.
var ErrNondeterministic = errors.New("the program is not deterministic under replay")

// Intn implements Choice: a data draw.
func (w *walker) Intn(n int) int {
	if n <= 0 {
		panic(fmt.Sprintf("sim: Intn(%d): n must be > 0", n))
	}
	if n == 1 {
		w.draws = append(w.draws, Draw{N: 1})
		return 0
	}
	var nd *node
	if w.d < w.replay {
		nd = &w.path[w.d]
		if nd.kind != kindData || nd.n != n {
			divergence("decision %d was a draw of %d when replayed, recorded as %s", w.d, n, nd.describe())
		}
	} else {
		nd = w.newNode(kindData)
		nd.n = n
		nd.vals = dataValues(nd.vals, n, w.b.Width)
	}
	w.d++
	v := nd.vals[nd.pos]
	if v != 0 {
		w.faults++
	}
	w.draws = append(w.draws, Draw{N: n, Value: v})
	w.stepDraws = hashUint(hashUint(w.stepDraws, uint64(n)), uint64(v))
	return v
}

// dataValues appends the values a draw of bound n is explored at.
func dataValues(dst []int, n, width int) []int {
	if n <= width {
		for v := 0; v < n; v++ {
			dst = append(dst, v)
		}
		return dst
	}
	for i := 0; i < width; i++ {
		v := int(int64(i) * int64(n-1) / int64(width-1))
		if len(dst) == 0 || dst[len(dst)-1] != v {
			dst = append(dst, v)
		}
	}
	return dst
}

func (nd *node) describe() string {
	if nd.kind == kindData {
		return fmt.Sprintf("a draw of %d", nd.n)
	}
	return fmt.Sprintf("a scheduling decision among %d actors (previous %d)", len(nd.alts), nd.prev)
}

// cost is the delay (preemption) or fault cost of alternative j.
func (nd *node) cost(j int) int {
	if nd.kind == kindSched {
		if !nd.preempt {
			return j
		}
		if j > 0 && nd.alts[0] == nd.prev {
			return 1
		}
		return 0
	}
	if nd.vals[j] == 0 {
		return 0
	}
	return 1
}

// schedule is the exhaustive strategy's decision: the index in runnable of
// the actor to run, or -1 to end the run.
func (w *walker) schedule(s *Scheduler, runnable []*Actor) int {
	if len(runnable) == 1 {
		return 0 // no choice, and no draw (as the random strategy)
	}
	prev := -1
	if s.last != nil {
		prev = s.last.id
	}
	var nd *node
	if w.d < w.replay {
		nd = &w.path[w.d]
		if nd.kind != kindSched || nd.prev != prev || nd.numActors != len(s.actors) || !sameOrder(nd.alts, runnable, prev) {
			divergence("decision %d was a scheduling decision among %d actors (previous %d) when replayed, recorded as %s", w.d, len(runnable), prev, nd.describe())
		}
	} else {
		if w.cut > 0 && w.nsched == w.cut {
			w.stopRun = runCut
			w.onCut(w)
			return -1
		}
		nd = w.newNode(kindSched)
		nd.prev, nd.numActors, nd.clock = prev, len(s.actors), s.clock.Now()
		nd.preempt = w.b.Preemptions
		nd.alts = roundRobin(nd.alts, runnable, prev)
		nd.mask = 0
		if nd.numActors <= 64 {
			for _, id := range nd.alts {
				nd.mask |= 1 << uint(id)
			}
			for _, a := range s.actors {
				switch {
				case a.state == stateSleeping:
					nd.sleepers = append(nd.sleepers, sleeper{a.id, max(a.wake, a.hold)})
				case a.state == stateRunnable && a.hold > nd.clock:
					nd.sleepers = append(nd.sleepers, sleeper{a.id, a.hold})
				}
			}
			nd.sleep = append(nd.sleep, w.pending...)
		}
		j := w.firstAllowed(w.d, 0)
		if j < 0 {
			nd.pos = len(nd.alts)
			w.d++
			w.stopRun = runBlocked
			return -1
		}
		nd.pos = j
	}
	id := nd.alts[nd.pos]
	w.delays += nd.cost(nd.pos)
	w.stepNode = w.d
	w.d++
	w.nsched++
	w.draws = append(w.draws, Draw{N: len(s.actors), Value: id})
	for i, a := range runnable {
		if a.id == id {
			return i
		}
	}
	panic("sim: explorer: chosen actor not runnable")
}

// roundRobin appends the ids of runnable (in id order) in cyclic order
// starting at prev (prev first if it is runnable).
func roundRobin(dst []int, runnable []*Actor, prev int) []int {
	start := 0
	for start < len(runnable) && runnable[start].id < prev {
		start++
	}
	for i := range runnable {
		dst = append(dst, runnable[(start+i)%len(runnable)].id)
	}
	return dst
}

func sameOrder(alts []int, runnable []*Actor, prev int) bool {
	if len(alts) != len(runnable) {
		return false
	}
	start := 0
	for start < len(runnable) && runnable[start].id < prev {
		start++
	}
	for i := range runnable {
		if alts[i] != runnable[(start+i)%len(runnable)].id {
			return false
		}
	}
	return true
}

// firstAllowed returns the first alternative from j on of node i that fits
// the budget and is not pruned, counting the pruned ones; -1 if none.
func (w *walker) firstAllowed(i, j int) int {
	nd := &w.path[i]
	if nd.kind == kindData {
		for ; j < len(nd.vals); j++ {
			if nd.faults+nd.cost(j) <= w.b.Faults {
				return j
			}
		}
		return -1
	}
	for ; j < len(nd.alts); j++ {
		if nd.delays+nd.cost(j) > w.k { // costs never decrease with j
			return -1
		}
		if e, ok := nd.asleep(nd.alts[j]); ok && w.prunable(i, e) {
			w.counts.Pruned++
			continue
		}
		return j
	}
	return -1
}

func (nd *node) asleep(id int) (sleepEntry, bool) {
	for _, e := range nd.sleep {
		if e.actor == id {
			return e, true
		}
	}
	return sleepEntry{}, false
}

// schedCost is the cost of choosing actor x at a point where prev ran last
// and mask is runnable: its delays, or whether it is a preemption.
func schedCost(preempt bool, prev, x int, mask uint64, n int) int {
	if !preempt {
		return rrDist(prev, x, mask, n)
	}
	if prev >= 0 && prev != x && mask&(1<<uint(prev)) != 0 {
		return 1
	}
	return 0
}

// junctionCost bounds, over every actor v that may run next, how much more
// choosing v after prev costs than choosing it after j, where mask is
// runnable (the point of a pruned execution where the sleeping actor j
// ran, against the moved execution, where it ran earlier).
func junctionCost(preempt bool, prev, j int, mask uint64, n int) int {
	if !preempt {
		return rrDist(prev, j, mask, n)
	}
	if prev >= 0 && mask&(1<<uint(prev)) != 0 {
		return 1
	}
	return 0
}

// rrDist is the delay cost of choosing actor x at a point where prev ran
// last and mask is runnable: the runnable actors in [prev, x) in cyclic id
// order.
func rrDist(prev, x int, mask uint64, n int) int {
	if prev < 0 {
		prev = 0
	}
	var between uint64
	switch {
	case prev == x:
		return 0
	case prev < x:
		between = lowBits(x) &^ lowBits(prev)
	default:
		between = (lowBits(n) &^ lowBits(prev)) | lowBits(x)
	}
	return bits.OnesCount64(mask & between)
}

// lowBits is the mask of ids below n.
func lowBits(n int) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<uint(n) - 1
}

// adjusted is the runnable set at node nd in the execution where the
// sleeping step of actor j (variant v) ran first: j as it is after that
// step, the actors it woke, and the sleepers its virtual time woke earlier.
func adjusted(nd *node, j int, v variant, ab ablation) uint64 {
	m := nd.mask
	if !v.runAfter {
		m &^= 1 << uint(j)
	}
	if ab != ablateWakeup {
		m |= v.woken
	}
	if v.adv > 0 && ab != ablateTime {
		until := nd.clock + v.adv
		for _, s := range nd.sleepers {
			if s.wake <= until {
				m |= 1 << uint(s.id)
			}
		}
	}
	return m
}

// prunable reports whether the sleeping entry e may be pruned at node i:
// for every way its pending step ran where it was put to sleep, moving the
// step back there (and the executions beyond this point, whatever they
// do) costs no more delays than running it here.
func (w *walker) prunable(i int, e sleepEntry) bool {
	if w.ablate == ablateCheck {
		return true
	}
	m := &w.path[i]
	o := &w.path[e.origin]
	de := &o.done[e.done]
	n := m.numActors
	j := e.actor
	pre := m.preempt
	costE := 0
	for p := e.origin; p < i; p++ {
		if q := &w.path[p]; q.kind == kindSched {
			costE += q.cost(q.pos)
		}
	}
	costE += schedCost(pre, m.prev, j, m.mask, n)
	if len(de.vars) == 0 {
		return false
	}
	for _, v := range de.vars {
		c := schedCost(pre, o.prev, j, o.mask, n)
		c += schedCost(pre, j, o.alts[o.pos], adjusted(o, j, v, w.ablate), n)
		for p := e.origin + 1; p < i; p++ {
			if q := &w.path[p]; q.kind == kindSched {
				c += schedCost(pre, q.prev, q.alts[q.pos], adjusted(q, j, v, w.ablate), n)
			}
		}
		c += junctionCost(pre, m.prev, j, adjusted(m, j, v, w.ablate), n)
		if c > costE {
			return false
		}
	}
	return true
}

// stepDone records the step a just ran (under reduction) and computes the
// sleep set of the next decision point.
func (w *walker) stepDone(s *Scheduler, a *Actor, before Micros) {
	sn := w.stepNode
	w.stepNode = -1
	if !w.recording() {
		return
	}
	fp := &s.rec.fp
	if a.state == stateDone && !a.opts.Daemon {
		s.finishFootprint(a)
	}
	if w.traces != nil {
		w.tr.step(a.id, w.stepDraws, fp)
	}
	w.stepDraws = 0
	if !w.reduce {
		return
	}
	w.scratch = w.scratch[:0]
	if sn >= 0 {
		nd := &w.path[sn]
		if nd.numActors > 64 {
			w.pending = w.pending[:0]
			return
		}
		nd.cur.actor = a.id
		nd.cur.fp.union(fp)
		now := s.clock.Now()
		v := variant{adv: now - before, woken: s.rec.woken,
			runAfter: a.state == stateRunnable || (a.state == stateSleeping && a.wake <= now)}
		nd.cur.addVariant(v)
		for _, e := range nd.sleep {
			if e.actor != a.id && !w.path[e.origin].done[e.done].fp.dependent(fp) {
				w.scratch = append(w.scratch, e)
			}
		}
		for k := range nd.done {
			if de := &nd.done[k]; de.actor != a.id && !de.fp.dependent(fp) {
				w.scratch = append(w.scratch, sleepEntry{actor: de.actor, origin: sn, done: k})
			}
		}
	} else {
		for _, e := range w.pending {
			if e.actor != a.id && !w.path[e.origin].done[e.done].fp.dependent(fp) {
				w.scratch = append(w.scratch, e)
			}
		}
	}
	w.pending, w.scratch = w.scratch, w.pending
}

func (d *doneEntry) addVariant(v variant) {
	for _, x := range d.vars {
		if x == v {
			return
		}
	}
	d.vars = append(d.vars, v)
}

// copyFrom makes d a deep copy of e, reusing d's storage.
func (d *doneEntry) copyFrom(e *doneEntry) {
	d.actor = e.actor
	d.fp.copyFrom(&e.fp)
	d.vars = append(d.vars[:0], e.vars...)
}

// pushDone appends node nd's current alternative to its done list.
func (nd *node) pushDone() {
	if nd.cur.actor < 0 {
		return
	}
	if len(nd.done) < cap(nd.done) {
		nd.done = nd.done[:len(nd.done)+1]
	} else {
		nd.done = append(nd.done, doneEntry{})
	}
	nd.done[len(nd.done)-1].copyFrom(&nd.cur)
	nd.cur.actor = -1
	nd.cur.fp.reset()
	nd.cur.vars = nd.cur.vars[:0]
}

// backtrack moves to the next path to explore; false when the subtree is
// done.
func (w *walker) backtrack() bool {
	for i := len(w.path) - 1; i >= w.root; i-- {
		nd := &w.path[i]
		if nd.kind == kindSched && nd.pos < len(nd.alts) && w.reduce {
			nd.pushDone()
		}
		if j := w.firstAllowed(i, nd.pos+1); j >= 0 {
			nd.pos = j
			w.path = w.path[:i+1]
			w.replay = i + 1
			return true
		}
	}
	w.path = w.path[:w.root]
	return false
}

// runOnce runs one execution along the current path.
func (w *walker) runOnce() (res Result, err error) {
	w.d, w.nsched, w.delays, w.faults = 0, 0, 0, 0
	w.stepNode, w.stopRun = -1, runNotStopped
	w.pending = w.pending[:0]
	w.draws = w.draws[:0]
	w.stepDraws = 0
	if w.traces != nil {
		w.tr.reset()
	}
	defer func() {
		if r := recover(); r != nil {
			if ab, ok := r.(Abort); ok {
				r = ab.Cause
			}
			if e, ok := r.(error); ok && errors.Is(e, ErrNondeterministic) {
				err = e
				return
			}
			panic(r)
		}
	}()
	cfg := Config{MaxSteps: w.b.MaxSteps, Strategy: Strategy{Name: StrategyExhaustive}, StopOnViolation: true}
	res, err = w.prog(w, cfg)
	if err != nil {
		return res, fmt.Errorf("exhaustive exploration: %w", err)
	}
	if w.d < w.replay {
		return res, fmt.Errorf("%w: the run ended after %d of the %d replayed decisions", ErrNondeterministic, w.d, w.replay)
	}
	return res, nil
}

// account counts the run just made; it returns a counterexample if the run
// showed an observation.
func (w *walker) account(res Result) *Counterexample {
	w.counts.Steps += res.Steps
	switch w.stopRun {
	case runCut:
		return nil
	case runBlocked:
		w.counts.Blocked++
		return nil
	}
	w.counts.Executions++
	if res.End == EndBudget {
		w.counts.Truncated++
	}
	if w.traces != nil {
		h := w.tr.sum()
		if _, seen := w.traces[h]; !seen {
			w.traces[h] = struct{}{}
			w.counts.Traces++
		}
	}
	if len(res.Observations) == 0 {
		return nil
	}
	res.Events = nil
	ce := &Counterexample{Level: w.k, Delays: w.delays, Faults: w.faults,
		Before: w.counts.Executions - 1, Draws: append([]Draw(nil), w.draws...), Result: res}
	// Exploration runs do not hash their traces: replay the draws once,
	// as anyone replaying the counterexample will, for its hash.
	if again, err := w.prog(NewLog(ce.Draws), Config{MaxSteps: w.b.MaxSteps, StopOnViolation: true}); err == nil && len(again.Observations) > 0 {
		ce.Result.TraceHash = again.TraceHash
	}
	return ce
}

// explorer drives the levels of one exploration.
type explorer struct {
	prog Program
	opt  Options
	runs atomic.Int64
	halt atomic.Int32 // 1: interrupted, 2: budget
}

// stopped reports whether the exploration must stop, after one more run.
func (x *explorer) afterRun() bool {
	if x.opt.Tick != nil {
		x.opt.Tick()
	}
	n := x.runs.Add(1)
	if x.opt.Stop != nil && x.opt.Stop() {
		x.halt.CompareAndSwap(0, 1)
	}
	if x.opt.MaxExecutions > 0 && n >= x.opt.MaxExecutions {
		x.halt.CompareAndSwap(0, 2)
	}
	return x.halt.Load() != 0
}

// walk explores w's subtree to its end, its first counterexample, or a
// stop; it reports whether it finished.
func (x *explorer) walk(w *walker) (bool, error) {
	defer w.pool.Close()
	for {
		res, err := w.runOnce()
		if err != nil {
			return false, err
		}
		ce := w.account(res)
		halt := x.afterRun()
		if ce != nil {
			w.found = ce
			return true, nil
		}
		if !w.backtrack() {
			return true, nil
		}
		if halt {
			return false, nil
		}
	}
}

func (x *explorer) newWalker(k int) *walker {
	return &walker{prog: x.prog, b: x.opt.Bounds, reduce: !x.opt.NoReduction, ablate: x.opt.ablate, k: k, stepNode: -1}
}

// frontierItem is a subtree of a level: the path prefix down to it, with
// the sleep and done sets the sequential exploration has there.
type frontierItem struct {
	seq  int
	path []node
}

// planEvent is one event of a level's plan, in depth-first order.
type planEvent struct {
	item *frontierItem
	exec *EventResult
}

// plan cuts level k at depth cut scheduling nodes: it returns the events
// in depth-first order, the plan's own counts, and whether any run was cut
// (a deeper cut would give more items).
func (x *explorer) plan(k, cut int) ([]planEvent, Counts, bool, error) {
	w := x.newWalker(k)
	defer w.pool.Close()
	w.cut = cut
	var events []planEvent
	cutAny := false
	w.onCut = func(w *walker) {
		cutAny = true
		events = append(events, planEvent{item: &frontierItem{seq: len(events), path: clonePath(w.path[:w.d])}})
	}
	for {
		res, err := w.runOnce()
		if err != nil {
			return nil, Counts{}, false, err
		}
		ce := w.account(res)
		x.afterRun()
		if w.stopRun == runNotStopped {
			// A run that ended before the cut is an event of its own, not
			// part of the plan's counts.
			ev := &EventResult{Seq: len(events), Complete: true, Found: ce,
				Counts: Counts{Executions: 1, Steps: res.Steps}}
			w.counts.Executions--
			w.counts.Steps -= res.Steps
			if res.End == EndBudget {
				ev.Counts.Truncated = 1
				w.counts.Truncated--
			}
			if ce != nil {
				ce.Seq, ce.Before = ev.Seq, 0
			}
			events = append(events, planEvent{exec: ev})
			if ce != nil {
				break
			}
		}
		if !w.backtrack() {
			break
		}
	}
	return events, w.counts, cutAny, nil
}

// clonePath deep-copies a path prefix.
func clonePath(src []node) []node {
	out := make([]node, len(src))
	for i := range src {
		s, d := &src[i], &out[i]
		*d = node{kind: s.kind, pos: s.pos, n: s.n, prev: s.prev, numActors: s.numActors,
			mask: s.mask, clock: s.clock, delays: s.delays, faults: s.faults}
		d.vals = append([]int(nil), s.vals...)
		d.alts = append([]int(nil), s.alts...)
		d.sleepers = append([]sleeper(nil), s.sleepers...)
		d.sleep = append([]sleepEntry(nil), s.sleep...)
		d.done = make([]doneEntry, len(s.done))
		for k := range s.done {
			d.done[k].copyFrom(&s.done[k])
		}
		d.cur.actor = -1
	}
	return out
}

// Explore runs an exhaustive exploration of prog (or the shard of it that
// opt selects), level by level, until a level shows a counterexample, the
// last level (opt.Delays) is done, or it is stopped. Conclude turns one or
// more shards' explorations into a verdict.
func Explore(prog Program, opt Options) (*Exploration, error) {
	if err := opt.Bounds.Validate(); err != nil {
		return nil, err
	}
	if opt.Shards <= 0 {
		opt.Shards = 1
	}
	if opt.Shard < 0 || opt.Shard >= opt.Shards {
		return nil, fmt.Errorf("shard %d out of range 0..%d", opt.Shard, opt.Shards-1)
	}
	x := &explorer{prog: prog, opt: opt}
	ex := &Exploration{Bounds: opt.Bounds, Reduced: !opt.NoReduction, Shard: opt.Shard, Shards: opt.Shards}
	prevRuns := int64(0)
	for k := 0; k <= opt.Delays; k++ {
		var lr LevelResult
		var err error
		// Shards must cut every level the same way; workers in one process
		// need not: a level after a small one is walked whole (cutting it
		// would cost more runs than it saves). The counts are the same
		// either way.
		if opt.Shards > 1 || opt.ForEach != nil && prevRuns >= minSplitRuns {
			lr, err = x.levelSplit(k)
		} else {
			lr, err = x.levelWhole(k)
		}
		if err != nil {
			return nil, err
		}
		ex.Levels = append(ex.Levels, lr)
		prevRuns = 0
		for i := range lr.Done {
			prevRuns += lr.Done[i].Counts.Runs()
		}
		if h := x.halt.Load(); h != 0 {
			ex.Stopped = "interrupted"
			if h == 2 {
				ex.Stopped = "budget"
			}
			break
		}
		if levelFound(&lr) {
			break
		}
	}
	return ex, nil
}

func levelFound(lr *LevelResult) bool {
	for i := range lr.Done {
		if lr.Done[i].Found != nil {
			return true
		}
	}
	return false
}

// levelWhole explores level k in one walk (one event, one item).
func (x *explorer) levelWhole(k int) (LevelResult, error) {
	w := x.newWalker(k)
	if x.opt.Traces {
		w.traces = map[uint64]struct{}{}
	}
	complete, err := x.walk(w)
	if err != nil {
		return LevelResult{}, err
	}
	ev := EventResult{Seq: 0, Counts: w.counts, Found: w.found, Complete: complete}
	if ev.Found != nil {
		ev.Found.Seq = 0
	}
	return LevelResult{Level: k, Events: 1, Items: 1, Done: []EventResult{ev}}, nil
}

// levelSplit cuts level k into frontier items and explores this shard's.
func (x *explorer) levelSplit(k int) (LevelResult, error) {
	target := x.opt.Frontier
	if target <= 0 {
		target = DefaultFrontier * x.opt.Shards
	}
	var events []planEvent
	var planCounts Counts
	for cut := 16; ; cut *= 4 {
		evs, pc, cutAny, err := x.plan(k, cut)
		if err != nil {
			return LevelResult{}, err
		}
		events, planCounts = evs, pc
		items := 0
		for _, e := range evs {
			if e.item != nil {
				items++
			}
		}
		if items >= target || !cutAny || cut >= 1<<14 {
			break
		}
	}
	lr := LevelResult{Level: k, Events: len(events)}
	if x.opt.Shard == 0 {
		lr.Plan = planCounts
	}
	// A plan execution with a counterexample ends the plan: later events
	// do not exist, and no item after it matters.
	var best atomic.Int64
	best.Store(int64(len(events)))
	var mine []*frontierItem
	for _, e := range events {
		if e.item != nil {
			if lr.Items%x.opt.Shards == x.opt.Shard {
				mine = append(mine, e.item)
			}
			lr.Items++
			continue
		}
		if e.exec.Found != nil {
			best.Store(int64(e.exec.Seq))
		}
		if x.opt.Shard == 0 {
			lr.Done = append(lr.Done, *e.exec)
		}
	}
	results := make([]EventResult, len(mine))
	var firstErr atomic.Pointer[error]
	do := func(i int) {
		it := mine[i]
		results[i] = EventResult{Seq: it.seq}
		if int64(it.seq) > best.Load() || x.halt.Load() != 0 || firstErr.Load() != nil {
			return
		}
		w := x.newWalker(k)
		w.path = clonePath(it.path)
		w.root, w.replay = len(it.path), len(it.path)
		complete, err := x.walk(w)
		if err != nil {
			firstErr.CompareAndSwap(nil, &err)
			return
		}
		results[i] = EventResult{Seq: it.seq, Counts: w.counts, Found: w.found, Complete: complete}
		if w.found != nil {
			w.found.Seq = it.seq
			for {
				b := best.Load()
				if int64(it.seq) >= b || best.CompareAndSwap(b, int64(it.seq)) {
					break
				}
			}
		}
	}
	if x.opt.ForEach != nil {
		x.opt.ForEach(len(mine), do)
	} else {
		for i := range mine {
			do(i)
		}
	}
	if p := firstErr.Load(); p != nil {
		return LevelResult{}, *p
	}
	lr.Done = append(lr.Done, results...)
	sortEvents(lr.Done)
	return lr, nil
}

func sortEvents(evs []EventResult) {
	// insertion sort: the plan's executions and the items arrive nearly in
	// order
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].Seq < evs[j-1].Seq; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
}

// Verdict is the conclusion of an exploration (one or every shard of it).
type Verdict struct {
	// Outcome is "verified", "counterexample" or "incomplete".
	Outcome string `json:"outcome"`
	// Level is the last level completed (verified), the level of the
	// counterexample, or the level that could not be completed.
	Level int `json:"level"`
	// Counts are the final level's (verified), the counterexample level's
	// up to and including it, or the incomplete level's so far.
	Counts Counts `json:"counts"`
	// Total is the work over every level explored.
	Total Counts `json:"total"`
	// PerLevel are the counts of each level, as Counts.
	PerLevel       []Counts        `json:"per_level"`
	Counterexample *Counterexample `json:"counterexample,omitempty"`
	// Reason says why an incomplete exploration is incomplete.
	Reason string `json:"reason,omitempty"`
}

// Verdict outcomes.
const (
	OutcomeVerified       = "verified"
	OutcomeCounterexample = "counterexample"
	OutcomeIncomplete     = "incomplete"
)

// Conclude combines the explorations of every shard of one exploration (or
// the single one) into its verdict. The counts depend only on the program
// and the bounds, not on how the exploration was split.
func Conclude(parts []*Exploration) (Verdict, error) {
	if len(parts) == 0 {
		return Verdict{}, errors.New("no exploration to conclude")
	}
	p0 := parts[0]
	shards := p0.Shards
	if len(parts) != shards {
		return Verdict{}, fmt.Errorf("have %d shards of an exploration split into %d", len(parts), shards)
	}
	seen := make([]bool, shards)
	for _, p := range parts {
		if p.Bounds != p0.Bounds || p.Reduced != p0.Reduced || p.Shards != shards {
			return Verdict{}, fmt.Errorf("shard %d explored other bounds or another split than shard %d", p.Shard, p0.Shard)
		}
		if p.Shard < 0 || p.Shard >= shards || seen[p.Shard] {
			return Verdict{}, fmt.Errorf("shard %d twice or out of range 0..%d", p.Shard, shards-1)
		}
		seen[p.Shard] = true
	}
	var v Verdict
	incomplete := func(lc Counts, format string, args ...any) (Verdict, error) {
		v.PerLevel = append(v.PerLevel, lc)
		v.Total.add(lc)
		v.Counts = lc
		v.Outcome, v.Reason = OutcomeIncomplete, fmt.Sprintf(format, args...)
		return v, nil
	}
	for k := 0; k <= p0.Bounds.Delays; k++ {
		v.Level = k
		var evs []EventResult
		var lc Counts
		events := -1
		for _, p := range parts {
			if k >= len(p.Levels) {
				return incomplete(lc, "shard %d stopped before level %d (%s)", p.Shard, k, orUnknown(p.Stopped))
			}
			lr := &p.Levels[k]
			if events >= 0 && lr.Events != events {
				return Verdict{}, fmt.Errorf("level %d: shards disagree on the plan (%d vs %d events)", k, lr.Events, events)
			}
			events = lr.Events
			lc.add(lr.Plan)
			evs = append(evs, lr.Done...)
		}
		sortEvents(evs)
		for i := 1; i < len(evs); i++ {
			if evs[i].Seq == evs[i-1].Seq {
				return Verdict{}, fmt.Errorf("level %d: event %d explored twice", k, evs[i].Seq)
			}
		}
		// The first counterexample in depth-first order wins; every event
		// before it must be there and complete.
		limit, win := events, -1
		for i := range evs {
			if evs[i].Found != nil {
				limit, win = evs[i].Seq, i
				break
			}
		}
		have := 0
		for i := range evs {
			e := &evs[i]
			if e.Seq > limit || (e.Seq == limit && i != win) {
				continue
			}
			lc.add(e.Counts)
			if e.Seq < limit {
				have++
				if !e.Complete {
					return incomplete(lc, "level %d: event %d of %d was not finished", k, e.Seq, events)
				}
			}
		}
		if have != limit {
			return incomplete(lc, "level %d: %d of the %d events are missing", k, limit-have, events)
		}
		if win >= 0 {
			v.PerLevel = append(v.PerLevel, lc)
			v.Total.add(lc)
			v.Counts = lc
			v.Outcome, v.Counterexample = OutcomeCounterexample, evs[win].Found
			return v, nil
		}
		if lc.Truncated > 0 {
			return incomplete(lc, "level %d: %d executions reached the step budget of %d and were cut there", k, lc.Truncated, p0.Bounds.MaxSteps)
		}
		v.PerLevel = append(v.PerLevel, lc)
		v.Total.add(lc)
		v.Counts = lc
	}
	v.Outcome = OutcomeVerified
	return v, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "a counterexample at a lower level"
	}
	return s
}
