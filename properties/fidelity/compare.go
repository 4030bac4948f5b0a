package fidelity

import (
	"fmt"
)

// Disagreement is one observation on which the systems differ.
type Disagreement struct {
	// Seed and Op locate it: `simrun fidelity --seed Seed --seqs 1 --ops N`
	// replays the sequence and prints both traces.
	Seed uint64 `json:"seed"`
	Op   int    `json:"op"`
	// OpText is the op that made the observation.
	OpText string `json:"op_text"`
	Kind   string `json:"kind"`
	Pebble string `json:"pebble"`
	Model  string `json:"model"`
	// Class names the cause (see Classes); Root is the op where the
	// systems' states first diverged (-1: they never did before this
	// observation), RootText that op and what each system did there.
	Class    string `json:"class"`
	Root     int    `json:"root"`
	RootText string `json:"root_text,omitempty"`
}

// Tally counts compared observations and how many agreed.
type Tally struct {
	Agree int `json:"agree"`
	Total int `json:"total"`
}

// Pct returns the agreement as a percentage (100 when nothing was
// compared).
func (t Tally) Pct() float64 {
	if t.Total == 0 {
		return 100
	}
	return 100 * float64(t.Agree) / float64(t.Total)
}

func (t *Tally) add(ok bool) {
	t.Total++
	if ok {
		t.Agree++
	}
}

// TruthTally counts the observations of one ground-truth semantics: how
// many there were, how many of Pebble's met the expectation (a check of
// the suite itself: it must be all of them) and how many of the model's.
type TruthTally struct {
	Total  int `json:"total"`
	Pebble int `json:"pebble_meets"`
	Model  int `json:"model_meets"`
}

// SeqResult is the comparison of one sequence.
type SeqResult struct {
	Seed          uint64
	Ops           []Op
	Pebble, Model Trace
	ByKind        [numObsKinds]Tally
	Truth         [numTruths]TruthTally
	Disagreements []Disagreement
	// Root is the op where the states first diverged (-1: never).
	Root int
}

// Classes explains every disagreement class the comparison can assign.
var Classes = map[string]string{
	"no-trivial-move": "Pebble moved a lone input file with nothing overlapping below it to the next level " +
		"(same file number, nothing deleted, compactionKindMove); the model rewrote it into a new file and deleted the original",
	"compact-no-flush": "Pebble's DB.Compact(start, end) first flushed the memtable overlapping the range and compacted " +
		"the new file too; the model's compaction left those keys in the memtable",
	"compact-scope": "the compaction took different input files: Pebble compacts the files overlapping [start, end] " +
		"down to the bottom level; the model's compaction picked other files or stopped at another level",
	"output-split": "the compaction merged the same inputs but cut the output into a different number of files " +
		"(the systems estimate an output file's size differently)",
	"flush-split": "both flushed the same writes but Pebble cut them into other files: once L0 holds more than " +
		"FlushSplitBytes (2 × the L0 target) per sublevel, Pebble also cuts flushes at the key boundaries of L0's " +
		"intervals, weighted by its own on-disk file sizes (L0Sublevels.FlushSplitKeys, compaction.go findL0Limit); " +
		"the model cuts flushes by size and at the base level's files only (splitOutputs), and has no L0 sublevels",
	"zombie-set": "the current versions agree but a different set of obsolete files is still on disk after deletions settled",
	"unrooted":   "the systems disagree on an observation although their states had not diverged before it",
}

// classOrder is the order classes are reported in.
var classOrder = []string{"no-trivial-move", "compact-no-flush", "flush-split", "compact-scope", "output-split", "zombie-set", "unrooted"}

// Compare compares the traces of one sequence. It fails if the traces are
// not comparable (different observation kinds at some position: a bug in
// the suite).
func Compare(seed uint64, ops []Op, pt, mt Trace) (SeqResult, error) {
	r := SeqResult{Seed: seed, Ops: ops, Pebble: pt, Model: mt, Root: -1}
	if len(pt.Obs) != len(mt.Obs) || len(pt.State) != len(ops) || len(mt.State) != len(ops) {
		return r, fmt.Errorf("seed %d: traces not comparable: %d and %d observations, %d and %d states for %d ops",
			seed, len(pt.Obs), len(mt.Obs), len(pt.State), len(mt.State), len(ops))
	}
	// The root is the first op after which the versions or the disks
	// differ, or that changed the version differently: a move and a
	// rewrite into an identical file leave equal listings but not the
	// same files.
	for i := range ops {
		if pt.State[i] != mt.State[i] || pt.Disk[i] != mt.Disk[i] || pt.Change[i].String() != mt.Change[i].String() {
			r.Root = i
			break
		}
	}
	rootClass, rootText := "", ""
	if r.Root >= 0 {
		rootClass = classifyRoot(ops[r.Root], pt, mt, r.Root)
		rootText = fmt.Sprintf("op %d %s: pebble %s; model %s", r.Root, ops[r.Root], pt.Change[r.Root], mt.Change[r.Root])
	}
	disagree := func(op int, kind ObsKind, pv, mv string) {
		d := Disagreement{Seed: seed, Op: op, OpText: ops[op].String(), Kind: kind.String(), Pebble: pv, Model: mv, Root: -1, Class: "unrooted"}
		if r.Root >= 0 && op >= r.Root {
			d.Class, d.Root, d.RootText = rootClass, r.Root, rootText
		}
		r.Disagreements = append(r.Disagreements, d)
	}
	for j := range pt.Obs {
		p, m := pt.Obs[j], mt.Obs[j]
		if p.Op != m.Op || p.Kind != m.Kind {
			return r, fmt.Errorf("seed %d: observation %d is %s at op %d in pebble, %s at op %d in the model",
				seed, j, p.Kind, p.Op, m.Kind, m.Op)
		}
		ok := p.Value == m.Value
		r.ByKind[p.Kind].add(ok)
		if !ok {
			disagree(p.Op, p.Kind, p.Value, m.Value)
		}
		if p.Truth != TruthNone {
			t := &r.Truth[p.Truth]
			t.Total++
			if p.Tested == p.Expected {
				t.Pebble++
			}
			// Each system is held to the semantics on its own terms (an
			// iterator's files are its own listing's).
			want := m.Expected
			if want == "" {
				want = p.Expected
			}
			if m.Tested == want {
				t.Model++
			}
		}
	}
	// The settled disk is compared after every op that changed it in
	// either system.
	prevP, prevM := "(none)", "(none)"
	for i := range ops {
		if pt.Disk[i] != prevP || mt.Disk[i] != prevM {
			ok := pt.Disk[i] == mt.Disk[i]
			r.ByKind[ObsDisk].add(ok)
			if !ok {
				disagree(i, ObsDisk, pt.Disk[i], mt.Disk[i])
			}
		}
		prevP, prevM = pt.Disk[i], mt.Disk[i]
	}
	return r, nil
}

// classifyRoot names why the states diverged at op i.
func classifyRoot(op Op, pt, mt Trace, i int) string {
	pc, mc := pt.Change[i], mt.Change[i]
	switch {
	case op.Kind == OpFlush && pc.String() != mc.String():
		return "flush-split"
	case op.Kind == OpCompact && pc.Absorbed > 0 && mc.Absorbed == 0:
		return "compact-no-flush"
	case op.Kind == OpCompact && pc.Absorbed > 0 && !sameStrings(pc.Flushed, mc.Flushed):
		// Both flushed first; the flush's files differ (and so what the
		// range compaction took, or left in L0).
		return "flush-split"
	case op.Kind == OpCompact && len(pc.Moved) > len(mc.Moved):
		return "no-trivial-move"
	case op.Kind == OpCompact && sameStrings(pc.Removed, mc.Removed) && len(pc.Written) != len(mc.Written):
		return "output-split"
	case op.Kind == OpCompact && pc.String() != mc.String():
		return "compact-scope"
	case pt.State[i] == mt.State[i]:
		return "zombie-set"
	}
	return "unrooted"
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
