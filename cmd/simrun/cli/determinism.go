package cli

// --check-determinism: re-run seeds in a fresh scheduler and compare trace
// hashes, as FoundationDB re-runs seeds and madsim's
// MADSIM_TEST_CHECK_DETERMINISTIC does. It checks the whole stack in the
// user's process (Go version, GOMAXPROCS, environment) rather than only the
// code paths the determinism guard (internal/detguard) reads.

import (
	"fmt"
	"unicode/utf8"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// modelRun runs cfg on sys; a variable so the tests can inject a
// nondeterministic run and see the check catch it.
var modelRun = func(sys model.System, cfg model.Config, ch sim.Choice, sc sim.Config) (model.Outcome, error) {
	return sys.Run(cfg, ch, sc, model.Hooks{})
}

// determinismCheck says which seeds are re-run: every is 0 (off), 1 (every
// seed) or N (every Nth seed of a sweep, counted from its first).
type determinismCheck struct{ every uint64 }

// due reports whether the j-th seed of a sweep (0-based) is re-run.
func (d determinismCheck) due(j uint64) bool { return d.every > 0 && j%d.every == 0 }

// recheck runs seed again in a fresh scheduler and compares its trace hash
// with first's. On a mismatch it returns a nondeterminism observation with
// both hashes and the first diverging event, found by running the seed twice
// more with the trace kept (the first run kept only its hash).
func recheck(sys model.System, cfg model.Config, sc sim.Config, seed uint64, first *model.Outcome) (*sim.Observation, error) {
	again, err := modelRun(sys, cfg, sim.NewPRNG(seed), sc)
	if err != nil {
		return nil, fmt.Errorf("seed %d (determinism re-run): %w", seed, err)
	}
	h1, h2 := first.Result.TraceHash, again.Result.TraceHash
	if h1 == h2 {
		return nil, nil
	}
	detail := fmt.Sprintf("seed %d gave trace hash %s, then %s in a fresh scheduler", seed, sim.FormatHash(h1), sim.FormatHash(h2))
	step := min(first.Result.Steps, again.Result.Steps)
	kept := sc
	kept.KeepTrace = true
	a, errA := modelRun(sys, cfg, sim.NewPRNG(seed), kept)
	b, errB := modelRun(sys, cfg, sim.NewPRNG(seed), kept)
	switch {
	case errA != nil || errB != nil:
		detail += fmt.Sprintf("; the traced re-runs failed (%v, %v)", errA, errB)
	default:
		ea, eb := a.Result.Events, b.Result.Events
		if i := sim.FirstDifference(ea, eb); i >= 0 {
			detail += fmt.Sprintf("; first diverging event #%d: %s | %s", i+1, eventText(ea, i), eventText(eb, i))
			if i < len(ea) {
				step = ea[i].Step
			}
		} else {
			detail += fmt.Sprintf("; two traced re-runs printed the same %d events (hashes %s, %s): the runs differ in scheduling decisions only, or only some runs diverge",
				len(ea), sim.FormatHash(a.Result.TraceHash), sim.FormatHash(b.Result.TraceHash))
		}
	}
	return &sim.Observation{Kind: sim.KindNondeterminism, Step: step, Actor: "determinism-check", Detail: detail}, nil
}

// eventText renders events[i] on one line, or says the trace ended.
func eventText(events []sim.Event, i int) string {
	if i >= len(events) {
		return fmt.Sprintf("(trace ended after %d events)", len(events))
	}
	e := events[i]
	return fmt.Sprintf("step %d t=%s %s %s %s %q -> %q", e.Step, e.Time, e.Actor, e.Class, e.Op, clip(e.Detail, 120), clip(e.Result, 60))
}

// addObservation folds an extra observation (nondeterminism) into a seed's
// result: the seed becomes violating, the kind is added in sim.Kinds order.
func (r *seedResult) addObservation(o sim.Observation) {
	if !r.violated() {
		r.Outcome = outcomeViolation
		r.Kind, r.Step, r.Detail = o.Kind, o.Step, o.Detail
	}
	r.Violations = append(r.Violations, o)
	var kinds []sim.Kind
	for _, k := range sim.Kinds {
		if k == o.Kind || containsKind(r.Kinds, k) {
			kinds = append(kinds, k)
		}
	}
	r.Kinds = kinds
}

func containsKind(ks []sim.Kind, k sim.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// clip bounds user-visible echoes of long input: at most n bytes of s, with
// the total length named when cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:cut], len(s))
}
