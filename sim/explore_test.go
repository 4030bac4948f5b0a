package sim

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// yielders is a program of actors that each yield steps[i] times.
func yielders(steps ...int) Program {
	return func(ch Choice, cfg Config) (Result, error) {
		s := New(ch, cfg)
		for i, n := range steps {
			n := n
			s.Spawn(fmt.Sprintf("y%d", i), ActorOptions{Footprint: NewFootprint()}, func(a *Actor) {
				for k := 0; k < n; k++ {
					a.Yield()
				}
			})
		}
		return s.Run(), nil
	}
}

// countDelayBounded counts the schedules of actors with rem[i] steps left
// that use at most k delays (round-robin from prev), by brute force.
func countDelayBounded(rem []int, prev, k int) int64 {
	var runnable []int
	for i, r := range rem {
		if r > 0 {
			runnable = append(runnable, i)
		}
	}
	if len(runnable) == 0 {
		return 1
	}
	start := 0
	for start < len(runnable) && runnable[start] < prev {
		start++
	}
	var total int64
	for j := 0; j < len(runnable) && j <= k; j++ {
		id := runnable[(start+j)%len(runnable)]
		rem[id]--
		total += countDelayBounded(rem, id, k-j)
		rem[id]++
	}
	return total
}

func mustExplore(t *testing.T, prog Program, opt Options) Verdict {
	t.Helper()
	ex, err := Explore(prog, opt)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Conclude([]*Exploration{ex})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func bounds(k, f int) Bounds {
	return Bounds{Delays: k, Faults: f, MaxSteps: 1000, Width: DefaultWidth}
}

// countPreemptionBounded counts the schedules with at most k preemptions
// (choosing another actor while prev is still runnable), by brute force.
func countPreemptionBounded(rem []int, prev, k int) int64 {
	total := int64(0)
	any := false
	for id, r := range rem {
		if r == 0 {
			continue
		}
		any = true
		cost := 0
		if prev >= 0 && rem[prev] > 0 && id != prev {
			cost = 1
		}
		if cost > k {
			continue
		}
		rem[id]--
		total += countPreemptionBounded(rem, id, k-cost)
		rem[id]++
	}
	if !any {
		return 1
	}
	return total
}

// TestPlainDFSCountsBoundedSchedules checks the explorer against a
// brute-force count of the schedules with at most K delays, and with at
// most K preemptions. A yielding actor's steps: n yields are n+1 steps (the
// last one returns).
func TestPlainDFSCountsBoundedSchedules(t *testing.T) {
	for _, steps := range [][]int{{1, 1}, {2, 1}, {2, 2, 1}, {3, 2, 2}} {
		for k := 0; k <= 3; k++ {
			rem := make([]int, len(steps))
			for i, n := range steps {
				rem[i] = n + 1
			}
			want := countDelayBounded(rem, -1, k)
			v := mustExplore(t, yielders(steps...), Options{Bounds: bounds(k, 0), NoReduction: true})
			if v.Outcome != OutcomeVerified || v.Counts.Executions != want {
				t.Errorf("steps %v, K=%d delays: %s with %d executions; want verified with %d", steps, k, v.Outcome, v.Counts.Executions, want)
			}
			want = countPreemptionBounded(rem, -1, k)
			b := bounds(k, 0)
			b.Preemptions = true
			v = mustExplore(t, yielders(steps...), Options{Bounds: b, NoReduction: true})
			if v.Outcome != OutcomeVerified || v.Counts.Executions != want {
				t.Errorf("steps %v, K=%d preemptions: %s with %d executions; want verified with %d", steps, k, v.Outcome, v.Counts.Executions, want)
			}
		}
	}
}

// A random program: actors of a few operations on shared variables and the
// clock, each declared exactly, for the reduction's soundness test.
type rop struct {
	kind byte // r(ead) w(rite) a(dd) s(leep) c(lock read) t(ime advance) d(raw) y(ield only) p(ark) k (wake v)
	v    int
	d    Micros
}

func randomProgram(seed uint64) [][]rop {
	p := NewPRNG(seed)
	actors := 2 + p.Intn(3)
	prog := make([][]rop, actors)
	for i := range prog {
		n := 2 + p.Intn(4)
		for k := 0; k < n; k++ {
			kinds := "rwwaassctdypppkkk"
			prog[i] = append(prog[i], rop{kind: kinds[p.Intn(len(kinds))], v: p.Intn(actors), d: Micros(1 + p.Intn(6))})
		}
	}
	return prog
}

// access is one step's use of an object in a random program, for the
// trace signature.
type access struct {
	obj  int // 0..2 the variables, 3 the clock
	who  int
	step int
	mode AccessMode
}

// signature renders a run's Mazurkiewicz trace canonically: for each
// object, its accesses in order, with every maximal run of commuting
// accesses (reads, or additions) sorted. Two runs have the same signature
// exactly when they are equivalent up to swapping independent neighbours.
func signature(log []access, draws string) string {
	var b strings.Builder
	for obj := 0; obj < 10; obj++ {
		var seq []access
		for _, a := range log {
			if a.obj == obj {
				seq = append(seq, a)
			}
		}
		for i := 0; i < len(seq); {
			j := i + 1
			for j < len(seq) && seq[j].mode == seq[i].mode && seq[i].mode != Write {
				j++
			}
			group := seq[i:j]
			sort.Slice(group, func(x, y int) bool {
				if group[x].who != group[y].who {
					return group[x].who < group[y].who
				}
				return group[x].step < group[y].step
			})
			for _, a := range group {
				fmt.Fprintf(&b, "%d:%d.%d%d ", obj, a.who, a.step, a.mode)
			}
			b.WriteString("| ")
			i = j
		}
	}
	return b.String() + draws
}

// runRandom makes a Program of ops that adds each complete execution's
// trace signature to outcomes.
func runRandom(ops [][]rop, outcomes map[string]int) Program {
	vars := []Object{ObjectNamed("v0"), ObjectNamed("v1"), ObjectNamed("v2")}
	return func(ch Choice, cfg Config) (Result, error) {
		s := New(ch, cfg)
		var log []access
		draws := make([]string, len(ops))
		for i, list := range ops {
			i, list := i, list
			s.Spawn(fmt.Sprintf("a%d", i), ActorOptions{Footprint: NewFootprint(), Daemon: i > 0}, func(a *Actor) {
				for k, op := range list {
					note := func(obj int, m AccessMode) { log = append(log, access{obj, i, k, m}) }
					switch op.kind {
					case 'p':
						if i == 0 {
							break // the only worker never parks: no deadlock
						}
						note(4+i, Write)
						a.Park()
						continue
					case 'k':
						note(4+op.v, Write)
						s.Wake(s.actors[op.v])
					case 'r':
						s.Touch(vars[op.v%3], false)
						note(op.v%3, Read)
					case 'w':
						s.Touch(vars[op.v%3], true)
						note(op.v%3, Write)
					case 'a':
						s.TouchAdd(vars[op.v%3])
						note(op.v%3, Add)
					case 's':
						note(3, Read)
						a.Sleep(op.d)
						continue
					case 'c':
						note(3, Read)
						_ = s.Now()
					case 't':
						note(3, Add)
						s.Advance(op.d)
					case 'd':
						draws[i] += fmt.Sprint(s.Intn(3))
					}
					a.Yield()
				}
			})
		}
		res := s.Run()
		if outcomes != nil && res.End != EndStopped {
			outcomes[signature(log, fmt.Sprint(draws))]++
		}
		return res, nil
	}
}

func outcomeKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// parseProgram reads a random program written as "op op ... | op ...",
// one group per actor, each op KIND V:D (say "k3:3": wake actor 3).
func parseProgram(src string) [][]rop {
	var prog [][]rop
	for _, actor := range strings.Split(src, "|") {
		var list []rop
		for _, tok := range strings.Fields(actor) {
			var op rop
			var d int
			if _, err := fmt.Sscanf(tok[1:], "%d:%d", &op.v, &d); err != nil {
				panic(fmt.Sprintf("bad op %q: %v", tok, err))
			}
			op.kind, op.d = tok[0], Micros(d)
			list = append(list, op)
		}
		prog = append(prog, list)
	}
	return prog
}

// lossyPrograms are random programs (seeds 56 and 349 of randomProgram)
// on which each part of the pruning check is needed: without the time
// window, or without the wake-ups, the reduced exploration loses a trace.
var lossyPrograms = []string{
	"y3:5 k3:3 p1:6 a3:4 w2:4 | s0:4 p1:5 | a3:1 t3:4 d2:3 r3:2 | p3:2 c2:3 k2:3 a0:6",
	"a2:6 d3:6 d2:2 k1:2 | r3:1 p1:5 p0:4 t2:5 | k1:1 t3:4 | d2:5 s1:4 p3:5 y1:3",
}

// missedTrace compares plain DFS and the reduced exploration of ops at
// K = 0..3 (F = 1): it returns the first bound and trace where the reduced
// exploration missed one plain DFS reached, and how much it pruned.
func missedTrace(t *testing.T, ops [][]rop, ab ablation, preempt bool) (string, int64) {
	pruned := int64(0)
	maxK := 3
	if preempt {
		maxK = 2 // preemption bounding explores far more executions per K
	}
	for k := 0; k <= maxK; k++ {
		plain, reduced := map[string]int{}, map[string]int{}
		b := bounds(k, 1)
		b.Preemptions = preempt
		vp := mustExplore(t, runRandom(ops, plain), Options{Bounds: b, NoReduction: true, Traces: true})
		vr := mustExplore(t, runRandom(ops, reduced), Options{Bounds: b, ablate: ab, Traces: true})
		if vp.Outcome != OutcomeVerified || vr.Outcome != OutcomeVerified {
			t.Fatalf("%v K=%d: %s / %s", ops, k, vp.Outcome, vr.Outcome)
		}
		for sig := range plain {
			if reduced[sig] == 0 {
				return fmt.Sprintf("K=%d: the reduced exploration (%d executions) missed the trace %s of plain DFS (%d executions)",
					k, vr.Counts.Executions, sig, vp.Counts.Executions), pruned
			}
		}
		if len(reduced) != len(plain) || vr.Counts.Executions > vp.Counts.Executions {
			t.Fatalf("%v K=%d: reduced reached %d traces in %d executions, plain %d in %d",
				ops, k, len(reduced), vr.Counts.Executions, len(plain), vp.Counts.Executions)
		}
		// The explorer's own count of traces (under the kernel's relation,
		// which also orders wake-ups against every step of the woken
		// actor, so it may tell apart runs the test's signature merges)
		// is the same, and no reduction runs fewer executions.
		if vr.Counts.Traces != vp.Counts.Traces || vp.Counts.Traces < int64(len(plain)) || vr.Counts.Executions < vr.Counts.Traces {
			t.Fatalf("%v K=%d: %d traces counted by the reduced exploration (%d executions), %d by plain DFS; %d signatures",
				ops, k, vr.Counts.Traces, vr.Counts.Executions, vp.Counts.Traces, len(plain))
		}
		pruned += vr.Counts.Pruned
	}
	return "", pruned
}

// TestReductionKeepsEveryTrace is the soundness check of the sleep sets
// under the delay bound: on random programs of reads, writes, additions,
// clock reads, sleeps, time advances, data draws, parks and wake-ups, the
// reduced exploration reaches every trace (Mazurkiewicz class) plain DFS
// reaches, at every bound.
func TestReductionKeepsEveryTrace(t *testing.T) {
	pruned := int64(0)
	progs := lossyPrograms
	for _, preempt := range []bool{false, true} {
		seeds := uint64(120)
		if preempt {
			seeds = 40
		}
		for seed := uint64(1); seed <= seeds; seed++ {
			ops := randomProgram(seed)
			miss, p := missedTrace(t, ops, ablateNone, preempt)
			if miss != "" {
				t.Fatalf("preemptions=%v seed %d (%v): %s", preempt, seed, ops, miss)
			}
			pruned += p
		}
		for _, src := range progs {
			if miss, _ := missedTrace(t, parseProgram(src), ablateNone, preempt); miss != "" {
				t.Fatalf("preemptions=%v %s: %s", preempt, src, miss)
			}
		}
	}
	if pruned == 0 {
		t.Fatal("the sleep sets never pruned anything: the test tests nothing")
	}
}

// TestReductionNegativeControls: the same check catches each part of the
// pruning condition switched off. Plain sleep sets, sound without a
// bound, lose traces under a delay bound.
func TestReductionNegativeControls(t *testing.T) {
	for _, c := range []struct {
		name    string
		ab      ablation
		ops     [][]rop
		preempt bool
	}{
		{"plain sleep sets", ablateCheck, parseProgram(lossyPrograms[0]), false},
		{"no time window", ablateTime, parseProgram(lossyPrograms[0]), false},
		{"no wake-ups", ablateWakeup, parseProgram(lossyPrograms[1]), false},
		{"plain sleep sets, preemption bounding", ablateCheck, randomProgram(1), true},
	} {
		if miss, _ := missedTrace(t, c.ops, c.ab, c.preempt); miss == "" {
			t.Errorf("%s: no trace lost on %v; the soundness test cannot see this part of the check", c.name, c.ops)
		}
	}
}

// lostUpdate is two actors incrementing a counter non-atomically (read,
// yield, write), with extra independent work around it; the run is
// checked afterwards. With the default schedule each actor's increment
// runs without interruption; one delay at a yield loses an update.
func lostUpdate(extra int) Program {
	x := ObjectNamed("x")
	return func(ch Choice, cfg Config) (Result, error) {
		s := New(ch, cfg)
		counter := 0
		for i := 0; i < 2; i++ {
			mine := ObjectNamed(fmt.Sprint("local", i))
			s.Spawn(fmt.Sprint("inc", i), ActorOptions{Footprint: NewFootprint()}, func(a *Actor) {
				for k := 0; k < extra; k++ {
					s.Touch(mine, true)
					s.Advance(1)
					a.Yield()
				}
				s.Touch(x, false)
				r := counter
				a.Yield()
				s.Touch(x, true)
				counter = r + 1
				a.Yield()
			})
		}
		s.Run()
		if counter != 2 {
			s.ObserveAs("check", KindInconsistentSnapshot, fmt.Sprintf("counter is %d, want 2", counter))
		}
		return s.Result(), nil
	}
}

// TestCounterexampleHasFewestDelaysAndReplays: the lost update needs one
// delay; the explorer reports it at level 1, and its draws replay it under
// the random strategy with the same trace hash.
func TestCounterexampleHasFewestDelaysAndReplays(t *testing.T) {
	for _, reduce := range []bool{false, true} {
		v := mustExplore(t, lostUpdate(3), Options{Bounds: bounds(3, 0), NoReduction: !reduce})
		if v.Outcome != OutcomeCounterexample || v.Counterexample == nil {
			t.Fatalf("reduce=%v: %s, want a counterexample", reduce, v.Outcome)
		}
		ce := v.Counterexample
		if ce.Level != 1 || ce.Delays != 1 || v.Level != 1 {
			t.Fatalf("reduce=%v: counterexample at level %d with %d delays; want level 1, 1 delay", reduce, ce.Level, ce.Delays)
		}
		res, _ := lostUpdate(3)(NewLog(ce.Draws), Config{MaxSteps: 1000})
		if len(res.Observations) != 1 || res.Observations[0].Kind != KindInconsistentSnapshot || res.TraceHash != ce.Result.TraceHash {
			t.Fatalf("reduce=%v: replay gave %v (hash %x); want the counterexample (hash %x)", reduce, res.Observations, res.TraceHash, ce.Result.TraceHash)
		}
	}
}

// countsOnly drops the work figure, which depends on the split.
func countsOnly(c Counts) Counts {
	c.Steps = 0
	return c
}

// TestSplitGivesTheSameCounts: cut into frontier items, run by "workers"
// (here in order) and by shards, an exploration gives the counts and the
// counterexample of the whole one.
func TestSplitGivesTheSameCounts(t *testing.T) {
	progs := map[string]Program{
		"lost-update": lostUpdate(4),
		"random-7":    runRandom(randomProgram(7), nil),
		"random-56":   runRandom(parseProgram(lossyPrograms[0]), nil),
	}
	for name, prog := range progs {
		for _, reduce := range []bool{false, true} {
			opt := Options{Bounds: bounds(3, 1), NoReduction: !reduce}
			whole := mustExplore(t, prog, opt)
			for _, frontier := range []int{1, 5, 40} {
				for _, shards := range []int{1, 2, 3} {
					var parts []*Exploration
					for sh := 0; sh < shards; sh++ {
						o := opt
						o.Shard, o.Shards, o.Frontier = sh, shards, frontier
						o.ForEach = func(n int, do func(i int)) {
							for i := n - 1; i >= 0; i-- { // any order
								do(i)
							}
						}
						ex, err := Explore(prog, o)
						if err != nil {
							t.Fatal(err)
						}
						parts = append(parts, ex)
					}
					v, err := Conclude(parts)
					if err != nil {
						t.Fatalf("%s frontier %d shards %d: %v", name, frontier, shards, err)
					}
					if v.Outcome != whole.Outcome || countsOnly(v.Counts) != countsOnly(whole.Counts) || v.Level != whole.Level {
						t.Fatalf("%s reduce=%v frontier %d shards %d: %s %+v at level %d; whole: %s %+v at level %d",
							name, reduce, frontier, shards, v.Outcome, v.Counts, v.Level, whole.Outcome, whole.Counts, whole.Level)
					}
					if (v.Counterexample == nil) != (whole.Counterexample == nil) ||
						(v.Counterexample != nil && v.Counterexample.Result.TraceHash != whole.Counterexample.Result.TraceHash) {
						t.Fatalf("%s frontier %d shards %d: another counterexample than the whole exploration's", name, frontier, shards)
					}
				}
			}
		}
	}
}

// TestIncompleteIsNeverVerified: a run cut by the step budget, an
// exhausted execution budget, or a stop make the exploration incomplete.
func TestIncompleteIsNeverVerified(t *testing.T) {
	b := bounds(2, 0)
	b.MaxSteps = 4
	if v := mustExplore(t, yielders(3, 3), Options{Bounds: b}); v.Outcome != OutcomeIncomplete || v.Counts.Truncated == 0 {
		t.Errorf("step budget: %s (%+v); want incomplete with truncated executions", v.Outcome, v.Counts)
	}
	if v := mustExplore(t, yielders(3, 3), Options{Bounds: bounds(2, 0), MaxExecutions: 3}); v.Outcome != OutcomeIncomplete {
		t.Errorf("execution budget: %s; want incomplete", v.Outcome)
	}
	stops := 0
	stop := func() bool { stops++; return stops > 2 }
	if v := mustExplore(t, yielders(3, 3), Options{Bounds: bounds(2, 0), Stop: stop}); v.Outcome != OutcomeIncomplete || v.Reason == "" {
		t.Errorf("stopped: %s %q; want incomplete with a reason", v.Outcome, v.Reason)
	}
}

// TestNondeterministicProgramIsAnError: a program that decides differently
// when a prefix is replayed is reported, not explored.
func TestNondeterministicProgramIsAnError(t *testing.T) {
	runs := 0
	prog := func(ch Choice, cfg Config) (Result, error) {
		runs++
		s := New(ch, cfg)
		n := 2 + runs%2 // a different draw bound on every other run
		s.Spawn("a", ActorOptions{}, func(a *Actor) { s.Intn(n); a.Yield() })
		s.Spawn("b", ActorOptions{}, func(a *Actor) { a.Yield() })
		return s.Run(), nil
	}
	_, err := Explore(prog, Options{Bounds: bounds(1, 1)})
	if err == nil || !errors.Is(err, ErrNondeterministic) {
		t.Fatalf("err = %v; want ErrNondeterministic", err)
	}
}

// TestUndeclaredStepsAreNotReduced: actors with no declaration conflict
// with everything, so the reduction prunes nothing.
func TestUndeclaredStepsAreNotReduced(t *testing.T) {
	prog := func(ch Choice, cfg Config) (Result, error) {
		s := New(ch, cfg)
		for i := 0; i < 3; i++ {
			s.Spawn(fmt.Sprint("u", i), ActorOptions{}, func(a *Actor) { a.Yield(); a.Yield() })
		}
		return s.Run(), nil
	}
	plain := mustExplore(t, prog, Options{Bounds: bounds(2, 0), NoReduction: true})
	red := mustExplore(t, prog, Options{Bounds: bounds(2, 0)})
	if red.Counts.Pruned != 0 || red.Counts.Executions != plain.Counts.Executions {
		t.Fatalf("undeclared: reduced %+v, plain %+v; want no pruning", red.Counts, plain.Counts)
	}
	decl := mustExplore(t, yielders(2, 2, 2), Options{Bounds: bounds(2, 0)})
	if decl.Counts.Executions >= plain.Counts.Executions {
		t.Fatalf("declared independent actors: %d executions, undeclared %d; want fewer", decl.Counts.Executions, plain.Counts.Executions)
	}
}
