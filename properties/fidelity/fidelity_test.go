package fidelity

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// ciSlice is the CI-sized measurement: 120 sequences of 40 ops from seed 1
// (a few seconds), every shape the generator draws.
func ciSlice() Config {
	c := DefaultConfig()
	c.Seqs = 120
	c.Params.Ops = 40
	return c
}

// TestTargetsOnCISlice asserts the targets on a fixed slice: at least
// 99.5% overall agreement, and the three ground-truth semantics met by
// both systems in every case (Pebble's meeting them is a check of the
// suite itself).
func TestTargetsOnCISlice(t *testing.T) {
	rep, err := Measure(ciSlice())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Overall.Pct < 99.5 {
		var b bytes.Buffer
		_ = rep.WriteTable(&b, 40)
		t.Fatalf("overall agreement %.2f%% < 99.5%%\n%s", rep.Overall.Pct, b.String())
	}
	for _, k := range []ObsKind{ObsList, ObsOpen, ObsIterator, ObsCheckpoint, ObsOpenCheckpoint, ObsDisk} {
		if rep.Row(k).Total == 0 {
			t.Errorf("%s: nothing compared", k)
		}
	}
	if rep.Row(ObsOpen).Total < 200 {
		t.Errorf("only %d opens compared", rep.Row(ObsOpen).Total)
	}
	for _, tr := range rep.Truths {
		if tr.Total < 20 {
			t.Errorf("%s: only %d cases", tr.Truth, tr.Total)
		}
		if tr.Pebble != tr.Total {
			t.Errorf("%s: Pebble meets it in %d of %d cases: the suite is wrong", tr.Truth, tr.Pebble, tr.Total)
		}
		if tr.Model != tr.Total {
			t.Errorf("%s: the model meets it in %d of %d cases", tr.Truth, tr.Model, tr.Total)
		}
	}
	for _, c := range rep.Classes {
		if c.Explanation == "" {
			t.Errorf("class %s has no explanation", c.Class)
		}
	}
}

// The suite detects a deliberately wrong model: each negative control
// brings the agreement below the target and shows its own class.
func TestNegativeControls(t *testing.T) {
	for _, tc := range []struct {
		control, class string
		maxOverall     float64
	}{
		{"no-trivial-moves", "no-trivial-move", 99},
		{"one-pick", "compact-no-flush", 80},
	} {
		c, err := ciSlice().WithControl(tc.control)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Measure(c)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Overall.Pct > tc.maxOverall {
			t.Errorf("%s: overall agreement %.2f%%, want at most %.0f%%", tc.control, rep.Overall.Pct, tc.maxOverall)
		}
		if rep.Row(ObsOpen).Pct >= 99.5 {
			t.Errorf("%s: opens agree %.2f%%: the control is not detected where it matters", tc.control, rep.Row(ObsOpen).Pct)
		}
		found := false
		for _, cl := range rep.Classes {
			found = found || cl.Class == tc.class
		}
		if !found {
			t.Errorf("%s: no %s class in %+v", tc.control, tc.class, rep.Classes)
		}
		if rep.Control != tc.control {
			t.Errorf("report names control %q", rep.Control)
		}
	}
}

// The interval GC changes when files go, not which: settled outcomes
// agree as well as with the prompt deleter, and the model then leaves
// obsolete files behind when an op returns far more often.
func TestDelayedGCChangesOnlyTheUnsettledDistribution(t *testing.T) {
	c := ciSlice()
	c.Seqs = 40
	prompt, err := Measure(c)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.WithControl("delayed-gc")
	if err != nil {
		t.Fatal(err)
	}
	delayed, err := Measure(d)
	if err != nil {
		t.Fatal(err)
	}
	if delayed.Overall != prompt.Overall {
		t.Errorf("settled agreement moved: %+v vs %+v", delayed.Overall, prompt.Overall)
	}
	p0 := float64(prompt.PendingModel.Counts[0]) / float64(prompt.PendingModel.Ops)
	d0 := float64(delayed.PendingModel.Counts[0]) / float64(delayed.PendingModel.Ops)
	if d0 >= p0 {
		t.Errorf("ops leaving nothing behind: delayed %.2f, prompt %.2f; want fewer with the delayed GC", d0, p0)
	}
}

// Generate is a function of the seed and parameters; references point at
// earlier ops of the right kind; an iterator is closed at most once.
func TestGenerateIsDeterministicAndWellFormed(t *testing.T) {
	p := DefaultParams()
	for seed := uint64(1); seed <= 200; seed++ {
		ops := Generate(seed, p)
		if !reflect.DeepEqual(ops, Generate(seed, p)) {
			t.Fatalf("seed %d: two generations differ", seed)
		}
		if len(ops) != p.Ops {
			t.Fatalf("seed %d: %d ops", seed, len(ops))
		}
		sh := ShapeOf(seed, p)
		closed := map[int]bool{}
		for i, op := range ops {
			switch op.Kind {
			case OpOpen:
				if op.Ref >= i || ops[op.Ref].Kind != OpList {
					t.Fatalf("seed %d op %d: open refers to op %d (%s)", seed, i, op.Ref, ops[op.Ref].Kind)
				}
			case OpIterClose:
				if op.Ref >= i || ops[op.Ref].Kind != OpIterOpen || closed[op.Ref] {
					t.Fatalf("seed %d op %d: iter-close of op %d", seed, i, op.Ref)
				}
				closed[op.Ref] = true
			case OpOpenCheckpoint:
				if op.Ref >= i || ops[op.Ref].Kind != OpCheckpoint {
					t.Fatalf("seed %d op %d: open-checkpoint of op %d", seed, i, op.Ref)
				}
			case OpCompact:
				if op.Start >= op.End {
					t.Fatalf("seed %d op %d: compact [%s, %s]", seed, i, op.Start, op.End)
				}
			case OpPut:
				if op.ValueBytes < 8 || op.ValueBytes > sh.MaxValueBytes {
					t.Fatalf("seed %d op %d: value of %d bytes for %s", seed, i, op.ValueBytes, sh)
				}
			}
		}
	}
	fixed := Params{Ops: 10, Keys: 5, MaxValueBytes: 20}
	if sh := ShapeOf(3, fixed); sh.Keys != 5 || sh.MaxValueBytes != 20 {
		t.Errorf("fixed shape ignored: %s", sh)
	}
	if !strings.Contains(FormatSequence(Generate(1, fixed)), "  0  ") {
		t.Error("FormatSequence does not number the ops")
	}
}

// The model's side is deterministic (same seed, same trace); Pebble's
// settled outcomes are too, whatever its goroutines do.
func TestBothSidesRepeat(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		ops := Generate(seed, DefaultParams())
		m1, err := RunModel(ops, DefaultModelOptions(CompactRange), seed)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := RunModel(ops, DefaultModelOptions(CompactRange), seed)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(m1, m2) {
			t.Fatalf("seed %d: two model runs differ", seed)
		}
		p1, err := RunPebble(ops, 2048)
		if err != nil {
			t.Fatal(err)
		}
		p2, err := RunPebble(ops, 2048)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p1.Obs, p2.Obs) || !reflect.DeepEqual(p1.State, p2.State) || !reflect.DeepEqual(p1.Disk, p2.Disk) {
			t.Fatalf("seed %d: two Pebble runs differ in their settled outcomes", seed)
		}
	}
}

// Compare finds the first divergence and names its class; observations
// after it carry the class, earlier ones are unrooted.
func TestCompareClassifies(t *testing.T) {
	ops := []Op{{Kind: OpPut, Key: "k001", ValueBytes: 8}, {Kind: OpCompact, Start: "k000", End: "k002"}, {Kind: OpList}}
	same := Trace{
		State:   []string{"(none)", "Ln[k001..k001]/1#0001", "Ln[k001..k001]/1#0001"},
		Disk:    []string{"(none)", "[k001..k001]/1#0001", "[k001..k001]/1#0001"},
		Change:  []Change{{}, {Written: []string{"Ln[k001..k001]/1#0001"}, Absorbed: 1}, {}},
		Pending: []int{-1, 0, -1},
		Obs:     []Obs{{Op: 2, Kind: ObsList, Value: "Ln[k001..k001]/1#0001"}},
	}
	r, err := Compare(1, ops, same, same)
	if err != nil || len(r.Disagreements) != 0 || r.Root != -1 {
		t.Fatalf("identical traces: %v %+v", err, r)
	}
	noFlush := Trace{
		State:   []string{"(none)", "(none)", "(none)"},
		Disk:    []string{"(none)", "(none)", "(none)"},
		Change:  []Change{{}, {}, {}},
		Pending: []int{-1, 0, -1},
		Obs:     []Obs{{Op: 2, Kind: ObsList, Value: "(none)"}},
	}
	r, err = Compare(7, ops, same, noFlush)
	if err != nil {
		t.Fatal(err)
	}
	if r.Root != 1 || len(r.Disagreements) != 2 {
		t.Fatalf("root %d, %d disagreements: %+v", r.Root, len(r.Disagreements), r.Disagreements)
	}
	for _, d := range r.Disagreements {
		if d.Class != "compact-no-flush" || d.Seed != 7 || d.Root != 1 {
			t.Errorf("disagreement %+v", d)
		}
	}
	moved := same
	moved.Change = []Change{{}, {Moved: []string{"L0[k001..k001]/1#0001 down"}}, {}}
	rewritten := same
	rewritten.Change = []Change{{}, {Removed: []string{"L0[k001..k001]/1#0001"}, Written: []string{"Ln[k001..k001]/1#0001"}}, {}}
	if got := classifyRoot(ops[1], moved, rewritten, 1); got != "no-trivial-move" {
		t.Errorf("move vs rewrite classified %q", got)
	}
	bad := same
	bad.Obs = nil
	if _, err := Compare(1, ops, same, bad); err == nil {
		t.Error("traces with different observations compared")
	}
}

// The report prints every kind, the truths and the replay command, and its
// JSON decodes.
func TestReportOutput(t *testing.T) {
	c := ciSlice()
	c.Seqs, c.KeepSequences = 2, true
	rep, err := Measure(c)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.WriteTable(&b, -1); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"list", "open", "iterator", "checkpoint", "open-checkpoint", "disk (settled)", "overall",
		"unpinned listing goes stale after a compaction", "OBSOLETE FILES LEFT WHEN THE OP RETURNED"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	if err := rep.WriteSequences(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "sequence of seed 1 (") || !strings.Contains(b.String(), "pebble: ") {
		t.Errorf("sequences:\n%s", b.String())
	}
	b.Reset()
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Overall != rep.Overall || len(back.Kinds) != int(numObsKinds) {
		t.Errorf("JSON: %v %+v", err, back)
	}
	if got := rep.ReplayCommand("9"); got != "simrun fidelity --seed 9 --seqs 1 --ops 40" {
		t.Errorf("replay command %q", got)
	}
	stopped := ciSlice()
	stopped.Stop = func() bool { return true }
	if rep, err := Measure(stopped); err != nil || !rep.Partial || rep.Seqs != 0 {
		t.Errorf("a stopped measurement: %v %+v", err, rep)
	}
	if _, err := ciSlice().WithControl("nope"); err == nil {
		t.Error("an unknown control accepted")
	}
}
