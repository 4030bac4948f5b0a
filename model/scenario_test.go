package model

import (
	"errors"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/sim"
)

func TestRunScenarioScripted(t *testing.T) {
	sc := Scenario{Config: DefaultConfig("naive"), Seed: 2, Steps: []ScenarioStep{
		{Kind: StepRunSteps, Actor: "writer", N: 12, Source: "t:1", Text: "run writer steps 12"},
		{Kind: StepRunUntil, Actor: "flusher", Op: "flush", N: 1, Source: "t:2", Text: "run flusher until flush"},
		{Kind: StepRunUntil, Actor: "snap-gen", Op: "list", N: 1, Source: "t:3", Text: "run snap-gen until list"},
		{Kind: StepRunUntil, Actor: "compactor", Op: "compact", N: 1, Source: "t:4", Text: "run compactor until compact"},
		{Kind: StepRunUntil, Actor: "gc", Op: "delete", N: 1, Source: "t:5", Text: "run gc until delete"},
		{Kind: StepRunUntil, Actor: "snap-gen", Op: "open", N: 1, Source: "t:6", Text: "run snap-gen until open"},
	}, Expect: []sim.Kind{sim.KindOpenDeletedFile, sim.KindPanic}}
	out, err := RunScenario(sc, sim.Config{StopOnViolation: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := sc.Check(&out); err != nil {
		t.Fatal(err)
	}
	again, err := RunScenario(sc, sim.Config{StopOnViolation: true})
	if err != nil || again.Result.TraceHash != out.Result.TraceHash {
		t.Fatalf("not deterministic: %x vs %x (%v)", again.Result.TraceHash, out.Result.TraceHash, err)
	}
	// Between the scripted steps only the named actor ran.
	for _, e := range out.Result.Events {
		if e.Step > 0 && e.Step <= 12 && e.Actor != "writer" && e.Actor != DirectorActor {
			t.Errorf("step %d ran %s during \"run writer steps 12\"", e.Step, e.Actor)
		}
	}
}

func TestRunScenarioBadStep(t *testing.T) {
	sc := Scenario{Config: DefaultConfig("naive"), Steps: []ScenarioStep{{Kind: "dance", Source: "t:1", Text: "dance"}}}
	_, err := RunScenario(sc, sim.Config{})
	var se *ScenarioError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), `t:1: "dance": unknown step kind`) {
		t.Fatalf("got %v", err)
	}
}

func TestScenarioCheck(t *testing.T) {
	out := &Outcome{Result: sim.Result{Observations: []sim.Observation{{Kind: sim.KindPanic, Actor: "x"}}}}
	cases := []struct {
		sc   Scenario
		want string
	}{
		{Scenario{ExpectNone: true}, "expected no observation, got panic"},
		{Scenario{Expect: []sim.Kind{sim.KindLiveness}}, "expected liveness, observed panic"},
		{Scenario{ExpectNot: []sim.Kind{sim.KindPanic}}, "expected no panic"},
		{Scenario{Expect: []sim.Kind{sim.KindPanic}}, ""},
	}
	for _, c := range cases {
		err := c.sc.Check(out)
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: got %v, want %q", c.sc, err, c.want)
		}
	}
}
