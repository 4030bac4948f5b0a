package seeds

import (
	"errors"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
)

func TestParseScenario(t *testing.T) {
	src := `# a comment
collector naive   # trailing comment
profile split-merge
variant eager-gc
variant non-atomic-check
set lease_ttl_us 0x7d0
set max_steps 9000
seed 0x10
strategy pct:3

run writer steps 12
run flusher until flush
run snap-gen until open 2
crash n1
restart n1
split 1 at k004
merge 2 into 1
conf-change 1
stop
expect open-deleted-file
expect-not liveness
`
	f, err := Parse("x.scenario", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	sc := f.Scenario
	c := sc.Config.(tikv.Config)
	if c.Collector != "naive" || c.Profile != "split-merge" || !c.Variants.EagerGC || !c.NonAtomicCheck || c.LeaseTTL != 2000 || c.KeySpace != 16 {
		t.Errorf("config not applied: %+v", c)
	}
	if sc.Seed != 16 || f.Strategy != "pct:3" || f.MaxSteps != 9000 || f.IsSeed {
		t.Errorf("seed %d strategy %s max_steps %d seed-file %v", sc.Seed, f.Strategy, f.MaxSteps, f.IsSeed)
	}
	want := []model.ScenarioStep{
		{Kind: model.StepRunSteps, Actor: "writer", N: 12},
		{Kind: model.StepRunUntil, Actor: "flusher", Op: "flush", N: 1},
		{Kind: model.StepRunUntil, Actor: "snap-gen", Op: "open", N: 2},
		{Kind: tikv.StepCrash, Node: "n1"},
		{Kind: tikv.StepRestart, Node: "n1"},
		{Kind: tikv.StepSplit, Region: 1, Key: "k004"},
		{Kind: tikv.StepMerge, Region: 2, Target: 1},
		{Kind: tikv.StepConfChange, Region: 1},
		{Kind: model.StepStop},
	}
	if len(sc.Steps) != len(want) {
		t.Fatalf("got %d steps, want %d", len(sc.Steps), len(want))
	}
	for i, w := range want {
		g := sc.Steps[i]
		w.Source, w.Text = g.Source, g.Text
		if g != w {
			t.Errorf("step %d: got %+v, want %+v", i, g, w)
		}
	}
	if sc.Steps[0].Source != "x.scenario:11" || sc.Steps[0].Text != "run writer steps 12" {
		t.Errorf("step source %q text %q", sc.Steps[0].Source, sc.Steps[0].Text)
	}
	if len(sc.Expect) != 1 || sc.Expect[0] != (model.Expectation{Kind: sim.KindOpenDeletedFile}) || len(sc.ExpectNot) != 1 || sc.ExpectNone {
		t.Errorf("expectations: %+v %+v %v", sc.Expect, sc.ExpectNot, sc.ExpectNone)
	}
}

func TestParseDefaults(t *testing.T) {
	f, err := Parse("d.scenario", []byte("expect none\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Scenario.Config.DesignName() != "lease-retry" || f.Profile != "default" || f.Strategy != "random" || f.MaxSteps != sim.DefaultMaxSteps || f.Scenario.Seed != 0 || !f.Scenario.ExpectNone {
		t.Errorf("defaults: %+v", f)
	}
}

func TestParseSeedFile(t *testing.T) {
	f, err := Parse("s.seed", []byte("collector naive\nseed 2\nstrategy pct\nexpect open-deleted-file\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !f.IsSeed || f.Scenario.Seed != 2 || len(f.Scenario.Steps) != 0 {
		t.Errorf("seed file: %+v", f)
	}
}

// TestParseErrors: every error names file:line and the expected form.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, file, src, want string
	}{
		{"unknown line", "a.scenario", "expect none\nfrobnicate\n", `a.scenario:2: unknown line "frobnicate"; want a configuration line`},
		{"no such actor", "e.scenario", "collector naive\nseed 2\nrun nobody steps 1\nexpect none\n", `e.scenario:3: no actor named "nobody" in this configuration; want one of writer, snap-gen, coordinator, flusher`},
		{"actor of another configuration", "e.scenario", "collector naive\nrun pd until split\nexpect none\n", `e.scenario:2: no actor named "pd" in this configuration`},
		{"second generator", "e.scenario", "set snap_generators 2\nrun snap-gen-2 until list\nrun snap-gen-3 until list\nexpect none\n", `e.scenario:3: no actor named "snap-gen-3"`},
		{"no such op", "e.scenario", "collector naive\nseed 2\nrun threads until nothing\nexpect none\n", `e.scenario:3: actor threads records no op "nothing"; want one of its ops (thread-start, thread-exit, thread-churn), a filesystem op (close,`},
		{"op of another design", "e.scenario", "collector naive\nrun snap-gen until pin\nexpect none\n", `e.scenario:2: actor snap-gen records no op "pin"; want one of its ops (generate, io-stats, io-limit, throttle, list, open)`},
		{"director", "e.scenario", "run director steps 1\nexpect none\n", `e.scenario:1: director is the scenario's own actor`},
		{"hang director", "e.scenario", "hang director for 1ms\nexpect none\n", `e.scenario:1: director is the scenario's own actor`},
		{"system unknown", "a.scenario", "system nope\nexpect none\n", `a.scenario:1: unknown system "nope"; want "system NAME" with NAME one of tikv`},
		{"system twice", "a.scenario", "system tikv\nsystem tikv\nexpect none\n", `a.scenario:2: system given twice (first at line 1)`},
		{"collector arity", "a.scenario", "collector\n", `a.scenario:1: want "collector NAME"`},
		{"collector unknown", "a.scenario", "collector nope\n", `a.scenario:1: unknown collector "nope"; want "collector NAME" with NAME one of`},
		{"collector twice", "a.scenario", "collector naive\ncollector pin\n", `a.scenario:2: collector given twice (first at line 1)`},
		{"profile unknown", "a.scenario", "profile nope\n", `a.scenario:1: unknown profile "nope"; want "profile NAME"`},
		{"variant unknown", "a.scenario", "variant nope\n", `a.scenario:1: unknown variant "nope"; want "variant NAME" with NAME one of non-atomic-check`},
		{"variant arity", "a.scenario", "variant\n", `a.scenario:1: want "variant NAME"`},
		{"set arity", "a.scenario", "set lease_ttl_us\n", `a.scenario:1: want "set FIELD VALUE"`},
		{"set field", "a.scenario", "set nope 1\n", `a.scenario:1: unknown field "nope"; want "set FIELD VALUE" with FIELD one of lease_ttl_us`},
		{"set value", "a.scenario", "set lease_ttl_us -5\n", `a.scenario:1: bad value "-5"; want "set lease_ttl_us VALUE"`},
		{"set range", "a.scenario", "set lease_ttl_us 99999999999999\nexpect none\n", `a.scenario:1: value 99999999999999 out of range`},
		{"seed bad", "a.scenario", "seed 12x\n", `a.scenario:1: bad seed "12x"; want "seed N"`},
		{"seed octal-looking is decimal", "a.scenario", "seed 0x\n", `a.scenario:1: bad seed "0x"`},
		{"strategy bad", "a.scenario", "strategy replay\n", `a.scenario:1: bad strategy "replay"; want "strategy random|pct|pct:DEPTH"`},
		{"expect arity", "a.scenario", "expect\n", `a.scenario:1: want "expect KIND [by ACTOR] [on PATH] [during script|after script|anytime]" or "expect none"`},
		{"expect kind", "a.scenario", "expect nope\n", `a.scenario:1: unknown kind "nope"; want "expect KIND"`},
		{"expect twice", "a.scenario", "expect panic\nexpect panic\n", `a.scenario:2: panic given twice`},
		{"expect none and kind", "a.scenario", "expect none\nexpect panic\n", `a.scenario:2: "expect none" was given`},
		{"kind then none", "a.scenario", "expect panic\nexpect none\n", `a.scenario:2: "expect none" excludes every other expect line`},
		{"no expectation", "a.scenario", "collector naive\n", `a.scenario:2: no expectation; want at least one "expect KIND" or "expect none" line`},
		{"run form", "a.scenario", "run snap-gen\n", `a.scenario:1: malformed run line; want "run ACTOR until OP [N]" or "run ACTOR steps N", or "run ACTOR until idle"`},
		{"run until N", "a.scenario", "run snap-gen until open 0\n", `a.scenario:1: malformed run line; want "run ACTOR until OP [N]" with N in 1..1000000`},
		{"run steps N", "a.scenario", "run snap-gen steps x\n", `a.scenario:1: malformed run line; want "run ACTOR steps N" with N in 1..1000000`},
		{"crash node", "a.scenario", "crash n3\n", `a.scenario:1: malformed crash line; want "crash NODE" with NODE n1 (leader) or n2 (learner)`},
		{"restart node", "a.scenario", "restart\n", `a.scenario:1: malformed restart line; want "restart NODE"`},
		{"split form", "a.scenario", "split 1 k004\n", `a.scenario:1: malformed split line; want "split REGION at KEY"`},
		{"split key", "a.scenario", "split 1 at x\n", `a.scenario:1: malformed split line; want "split REGION at KEY"`},
		{"merge form", "a.scenario", "merge 1 into 1\n", `a.scenario:1: malformed merge line; want "merge SOURCE into TARGET"`},
		{"conf-change form", "a.scenario", "conf-change\n", `a.scenario:1: malformed conf-change line; want "conf-change REGION"`},
		{"stop form", "a.scenario", "stop now\n", `a.scenario:1: malformed stop line; want "stop" alone`},
		{"config after step", "a.scenario", "run writer steps 1\nseed 3\n", `a.scenario:2: configuration line "seed" after a step`},
		{"seed file step", "b.seed", "seed 1\nrun writer steps 1\n", `b.seed:2: seed files take no steps`},
		{"seed file no seed", "b.seed", "expect none\n", `b.seed:2: missing "seed N" line`},
		{"seed file expect-not", "b.seed", "seed 1\nexpect-not panic\n", `b.seed:2: seed files take "expect KIND" or "expect none", not expect-not`},
		{"invalid config names its set line", "a.scenario", "collector naive\nset key_space 0\nexpect none\n", `a.scenario:2: config: key_space must be in 1..1000`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.file, []byte(c.src))
			if err == nil {
				t.Fatalf("no error; want %q", c.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got  %q\nwant %q...", err, c.want)
			}
		})
	}
}

// TestScenarioStepErrors: a step that cannot make progress ends the run
// with an error naming the step and its line.
func TestScenarioStepErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"budget", "collector naive\nseed 2\nrun threads until thread-churn\nexpect none\n", `e.scenario:3: "run threads until thread-churn": no progress within the step budget of 5000 decisions`},
		{"finished", "collector naive\nseed 2\nrun writer steps 1000\nexpect none\n", `e.scenario:3: "run writer steps 1000": actor writer has finished`},
		{"restart up node", "collector naive\nseed 2\nrestart n2\nexpect none\n", `e.scenario:3: "restart n2": node n2 is not down`},
		{"split outside", "collector naive\nseed 2\nsplit 1 at k004\nsplit 1 at k005\nexpect none\n", `e.scenario:4: "split 1 at k005": key k005 is not strictly inside region 1 [, k004)`},
		{"merge missing", "collector naive\nseed 2\nmerge 2 into 1\nexpect none\n", `e.scenario:3: "merge 2 into 1": merge needs live regions 2 and 1`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse("e.scenario", []byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.Replay()
			var se *model.ScenarioError
			if !errors.As(err, &se) {
				t.Fatalf("want a *model.ScenarioError, got %v", err)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got  %q\nwant %q...", err, c.want)
			}
		})
	}
}

// TestScenarioCommands: split, merge and conf-change change the region
// table as scripted, and stop ends the run.
func TestScenarioCommands(t *testing.T) {
	f, err := Parse("c.scenario", []byte("collector lease-retry\nseed 2\nsplit 1 at k004\nconf-change 2\nsplit 2 at k006\nmerge 3 into 2\nstop\nexpect none\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := f.Replay()
	if err != nil {
		t.Fatal(err)
	}
	if out.Result.End != sim.EndStopped {
		t.Errorf("end %s, want stopped", out.Result.End)
	}
	var got []string
	for _, r := range out.Detail.(tikv.Outcome).Regions {
		got = append(got, r.String())
	}
	want := "region 1 [, k004) v2/c1|region 2 [k004, +inf) v4/c2"
	if strings.Join(got, "|") != want {
		t.Errorf("regions %q, want %q", strings.Join(got, "|"), want)
	}
}

// defaultSpec is the spec of the default system (tikv).
func defaultSpec() model.Spec {
	sys, err := DefaultSystems().Lookup(DefaultSystem)
	if err != nil {
		panic(err)
	}
	return sys.Spec()
}
