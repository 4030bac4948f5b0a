package fidelity

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"text/tabwriter"

	"github.com/snapsim/snapsim/model/engine"
)

// Config is one measurement: which sequences, and how each system runs.
type Config struct {
	// Seqs sequences are generated from seeds Seed..Seed+Seqs-1.
	Seqs int
	Seed uint64
	// Params shape each sequence.
	Params Params
	// Model configures the model's side; TargetFileBytes is Pebble's
	// output file size target at every level.
	Model           ModelOptions
	TargetFileBytes int64
	// KeepSequences keeps every sequence's traces in the report (for
	// --seqs 1, which prints them).
	KeepSequences bool
	// Stop, if set, is asked before each sequence; true ends the
	// measurement there (an interrupt), and the report says it is partial.
	Stop func() bool
	// Control names the deliberately wrong model the report is about ("":
	// the model as it is; see Controls).
	Control string
}

// Controls are the negative controls: the model deliberately made wrong in
// one of the ways the fidelity work fixed, which the suite must detect.
// Each maps to the model options it changes.
var Controls = map[string]func(*ModelOptions){
	// no-trivial-moves rewrites every compaction's inputs.
	"no-trivial-moves": func(o *ModelOptions) { o.Engine.NoTrivialMoves = true },
	// one-pick runs Engine.Compact (the most urgent pick, no flush, the
	// range ignored) for OpCompact.
	"one-pick": func(o *ModelOptions) { o.Compact = CompactPick },
	// delayed-gc is the interval GC (GCDelayed): settled outcomes must not
	// change, only the unsettled distribution.
	"delayed-gc": func(o *ModelOptions) { o.Engine.GCMode = engine.GCDelayed },
}

// ControlNames lists the negative controls, sorted.
func ControlNames() []string {
	var out []string
	for n := range Controls {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// WithControl returns c with the named negative control applied ("" or
// "none": c unchanged).
func (c Config) WithControl(name string) (Config, error) {
	if name == "" || name == "none" {
		c.Control = ""
		return c, nil
	}
	apply, ok := Controls[name]
	if !ok {
		return c, fmt.Errorf("unknown control %q (want none or one of %v)", name, ControlNames())
	}
	apply(&c.Model)
	c.Control = name
	return c, nil
}

// DefaultConfig is the measurement the README reports: 1000 sequences of
// 50 ops from seed 1, the model as it is configured by default.
func DefaultConfig() Config {
	return Config{Seqs: 1000, Seed: 1, Params: DefaultParams(), Model: DefaultModelOptions(CompactRange),
		TargetFileBytes: DefaultModelOptions(CompactRange).Engine.TargetFileBytes}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Seqs < 1:
		return fmt.Errorf("seqs must be at least 1")
	case c.Params.Ops < 1:
		return fmt.Errorf("ops must be at least 1")
	case c.Params.Keys != 0 && c.Params.Keys < 2, c.Params.Keys > 1000:
		return fmt.Errorf("keys must be 0 (drawn per sequence) or in 2..1000")
	case c.Params.MaxValueBytes != 0 && c.Params.MaxValueBytes < 8, c.Params.MaxValueBytes > 1<<16:
		return fmt.Errorf("max value bytes must be 0 (drawn per sequence) or in 8..65536")
	case c.TargetFileBytes < 1:
		return fmt.Errorf("target file bytes must be positive")
	}
	return nil
}

// KindRow is the agreement on one observation kind.
type KindRow struct {
	Kind string `json:"kind"`
	Tally
	Pct float64 `json:"pct"`
}

// TruthRow is one ground-truth semantics.
type TruthRow struct {
	Truth string `json:"truth"`
	TruthTally
	PebblePct float64 `json:"pebble_pct"`
	ModelPct  float64 `json:"model_pct"`
}

// ClassRow is one class of disagreement.
type ClassRow struct {
	Class       string `json:"class"`
	Explanation string `json:"explanation"`
	Count       int    `json:"count"`
	// Sequences is how many sequences it occurred in.
	Sequences int          `json:"sequences"`
	Example   Disagreement `json:"example"`
}

// Pending is the distribution, over the ops that can delete files, of how
// many obsolete SST files were still on disk when the op returned (before
// deletions settled): Counts[k] ops had k of them (the last bucket is
// "that many or more").
type Pending struct {
	Ops    int   `json:"ops"`
	Counts []int `json:"counts"`
}

// Report is the result of a measurement.
type Report struct {
	Seqs    int    `json:"seqs"`
	Ops     int    `json:"ops_per_seq"`
	Seed    uint64 `json:"seed"`
	Compact string `json:"model_compact"`
	// Keys and MaxValueBytes are the fixed sequence shape (0: drawn per
	// sequence).
	Keys          int `json:"keys,omitempty"`
	MaxValueBytes int `json:"max_value_bytes,omitempty"`
	// Control is the negative control measured ("" for none).
	Control string `json:"control,omitempty"`
	// Partial is set when Stop ended the measurement early; Seqs then
	// counts the sequences that completed.
	Partial       bool           `json:"partial,omitempty"`
	Kinds         []KindRow      `json:"kinds"`
	Overall       KindRow        `json:"overall"`
	Truths        []TruthRow     `json:"truths"`
	Classes       []ClassRow     `json:"classes"`
	Disagreements []Disagreement `json:"disagreements"`
	// PendingPebble and PendingModel are the unsettled distributions.
	PendingPebble Pending `json:"pending_pebble"`
	PendingModel  Pending `json:"pending_model"`
	// Sequences holds every sequence's comparison when KeepSequences.
	Sequences []SeqResult `json:"-"`
}

// pendingBuckets is the number of buckets of the unsettled distribution.
const pendingBuckets = 4

// Measure runs the configured sequences on both systems and compares them.
// An error is a failure of the harness or of a system (an API call that
// failed), not a disagreement.
func Measure(c Config) (Report, error) {
	if err := c.Validate(); err != nil {
		return Report{}, err
	}
	rep := Report{Seqs: c.Seqs, Ops: c.Params.Ops, Seed: c.Seed, Compact: string(c.Model.Compact), Control: c.Control,
		Keys: c.Params.Keys, MaxValueBytes: c.Params.MaxValueBytes,
		PendingPebble: Pending{Counts: make([]int, pendingBuckets)}, PendingModel: Pending{Counts: make([]int, pendingBuckets)}}
	var byKind [numObsKinds]Tally
	var truth [numTruths]TruthTally
	classes := map[string]*ClassRow{}
	classSeqs := map[string]map[uint64]bool{}
	for k := 0; k < c.Seqs; k++ {
		if c.Stop != nil && c.Stop() {
			rep.Seqs, rep.Partial = k, true
			break
		}
		seed := c.Seed + uint64(k)
		r, err := RunSequence(c, seed)
		if err != nil {
			return rep, err
		}
		for i := range byKind {
			byKind[i].Agree += r.ByKind[i].Agree
			byKind[i].Total += r.ByKind[i].Total
		}
		for i := range truth {
			truth[i].Total += r.Truth[i].Total
			truth[i].Pebble += r.Truth[i].Pebble
			truth[i].Model += r.Truth[i].Model
		}
		for _, d := range r.Disagreements {
			cr, ok := classes[d.Class]
			if !ok {
				cr = &ClassRow{Class: d.Class, Explanation: Classes[d.Class], Example: d}
				classes[d.Class] = cr
				classSeqs[d.Class] = map[uint64]bool{}
			}
			cr.Count++
			classSeqs[d.Class][seed] = true
		}
		rep.Disagreements = append(rep.Disagreements, r.Disagreements...)
		tallyPending(&rep.PendingPebble, r.Pebble.Pending)
		tallyPending(&rep.PendingModel, r.Model.Pending)
		if c.KeepSequences {
			rep.Sequences = append(rep.Sequences, r)
		}
	}
	var all Tally
	for k := ObsKind(0); k < numObsKinds; k++ {
		t := byKind[k]
		rep.Kinds = append(rep.Kinds, KindRow{Kind: k.String(), Tally: t, Pct: t.Pct()})
		all.Agree += t.Agree
		all.Total += t.Total
	}
	rep.Overall = KindRow{Kind: "overall", Tally: all, Pct: all.Pct()}
	for t := TruthStale; t < numTruths; t++ {
		tt := truth[t]
		row := TruthRow{Truth: t.String(), TruthTally: tt, PebblePct: 100, ModelPct: 100}
		if tt.Total > 0 {
			row.PebblePct = 100 * float64(tt.Pebble) / float64(tt.Total)
			row.ModelPct = 100 * float64(tt.Model) / float64(tt.Total)
		}
		rep.Truths = append(rep.Truths, row)
	}
	for _, name := range classOrder {
		if cr, ok := classes[name]; ok {
			cr.Sequences = len(classSeqs[name])
			rep.Classes = append(rep.Classes, *cr)
		}
	}
	return rep, nil
}

// RunSequence generates the sequence of seed, runs it on both systems and
// compares them.
func RunSequence(c Config, seed uint64) (SeqResult, error) {
	ops := Generate(seed, c.Params)
	pt, err := RunPebble(ops, c.TargetFileBytes)
	if err != nil {
		return SeqResult{}, fmt.Errorf("seed %d: pebble: %w", seed, err)
	}
	mt, err := RunModel(ops, c.Model, seed)
	if err != nil {
		return SeqResult{}, fmt.Errorf("seed %d: model: %w", seed, err)
	}
	return Compare(seed, ops, pt, mt)
}

func tallyPending(p *Pending, pending []int) {
	for _, n := range pending {
		if n < 0 {
			continue
		}
		p.Ops++
		p.Counts[min(n, pendingBuckets-1)]++
	}
}

// Row returns the agreement on one observation kind.
func (r Report) Row(k ObsKind) KindRow {
	for _, row := range r.Kinds {
		if row.Kind == k.String() {
			return row
		}
	}
	return KindRow{Kind: k.String(), Pct: 100}
}

// WriteJSON writes the report as one JSON object.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report for a terminal: agreement per observation
// kind and overall, the ground-truth semantics, the unsettled distribution,
// each disagreement class with an example, and up to maxListed
// disagreements (all of them when maxListed < 0).
func (r Report) WriteTable(w io.Writer, maxListed int) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	what := "the model"
	if r.Control != "" {
		what = "the model with negative control " + r.Control
	}
	partial := ""
	if r.Partial {
		partial = " (PARTIAL: interrupted)"
	}
	fmt.Fprintf(tw, "fidelity: %d sequences of %d ops from seed %d%s, real Pebble v1.1.5 vs %s (compact: %s)\n\n",
		r.Seqs, r.Ops, r.Seed, partial, what, r.Compact)
	fmt.Fprintf(tw, "OBSERVATION\tAGREE\tCOMPARED\tAGREEMENT\n")
	for _, k := range r.Kinds {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", k.Kind, k.Agree, k.Total, pctString(k.Agree, k.Total))
	}
	fmt.Fprintf(tw, "overall\t%d\t%d\t%s\n\n", r.Overall.Agree, r.Overall.Total, pctString(r.Overall.Agree, r.Overall.Total))
	fmt.Fprintf(tw, "GROUND TRUTH\tCASES\tPEBBLE MEETS\tMODEL MEETS\n")
	for _, t := range r.Truths {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", t.Truth, t.Total, pctString(t.Pebble, t.Total), pctString(t.Model, t.Total))
	}
	fmt.Fprintf(tw, "\nOBSOLETE FILES LEFT WHEN THE OP RETURNED\tOPS\t0\t1\t2\t3+\n")
	for _, row := range []struct {
		name string
		p    Pending
	}{{"pebble", r.PendingPebble}, {"model", r.PendingModel}} {
		fmt.Fprintf(tw, "%s\t%d", row.name, row.p.Ops)
		for _, n := range row.p.Counts {
			pct := 0.0
			if row.p.Ops > 0 {
				pct = 100 * float64(n) / float64(row.p.Ops)
			}
			fmt.Fprintf(tw, "\t%.1f%%", pct)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Classes) == 0 {
		_, err := fmt.Fprintf(w, "\nno disagreements\n")
		return err
	}
	fmt.Fprintf(w, "\nDISAGREEMENT CLASSES\n")
	for _, c := range r.Classes {
		fmt.Fprintf(w, "  %s: %d observations in %d sequences\n    %s\n    e.g. seed %d op %d (%s): %s: pebble %q, model %q\n",
			c.Class, c.Count, c.Sequences, c.Explanation, c.Example.Seed, c.Example.Op, c.Example.OpText,
			c.Example.Kind, c.Example.Pebble, c.Example.Model)
		if c.Example.RootText != "" {
			fmt.Fprintf(w, "    states diverged at %s\n", c.Example.RootText)
		}
	}
	ds := append([]Disagreement(nil), r.Disagreements...)
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Seed < ds[j].Seed })
	shown := len(ds)
	if maxListed >= 0 {
		shown = min(shown, maxListed)
	}
	fmt.Fprintf(w, "\nDISAGREEMENTS (%d", len(ds))
	if shown < len(ds) {
		fmt.Fprintf(w, ", first %d shown", shown)
	}
	fmt.Fprintf(w, "; replay one with: %s)\n", r.ReplayCommand("SEED"))
	for _, d := range ds[:shown] {
		fmt.Fprintf(w, "  seed %d op %d %s [%s]: %s: pebble %s | model %s\n", d.Seed, d.Op, d.OpText, d.Class, d.Kind, d.Pebble, d.Model)
	}
	return nil
}

// ReplayCommand is the simrun command that replays the sequence of seed
// (a number, or a placeholder) with this report's settings and prints it.
func (r Report) ReplayCommand(seed string) string {
	cmd := fmt.Sprintf("simrun fidelity --seed %s --seqs 1 --ops %d", seed, r.Ops)
	if r.Keys != 0 {
		cmd += fmt.Sprintf(" --keys %d", r.Keys)
	}
	if r.MaxValueBytes != 0 {
		cmd += fmt.Sprintf(" --max-value-bytes %d", r.MaxValueBytes)
	}
	if r.Control != "" {
		cmd += " --control " + r.Control
	}
	return cmd
}

// Percent is pctString for callers outside the package.
func Percent(n, total int) string { return pctString(n, total) }

// pctString renders n of total as a percentage that never rounds up to
// 100: "100%" only when n == total, else truncated to two decimals
// ("99.96%"); "-" when nothing was counted.
func pctString(n, total int) string {
	switch {
	case total == 0:
		return "-"
	case n == total:
		return "100%"
	}
	return fmt.Sprintf("%.2f%%", math.Floor(10000*float64(n)/float64(total))/100)
}

// WriteSequences writes, for each kept sequence, its ops and what each
// system showed after each one: the replay of --seqs 1.
func (r Report) WriteSequences(w io.Writer) error {
	for _, s := range r.Sequences {
		fmt.Fprintf(w, "\nsequence of seed %d (%s; * marks an op after which the versions differ):\n",
			s.Seed, ShapeOf(s.Seed, Params{Ops: r.Ops, Keys: r.Keys, MaxValueBytes: r.MaxValueBytes}))
		obs := map[int][]int{}
		for j, o := range s.Pebble.Obs {
			obs[o.Op] = append(obs[o.Op], j)
		}
		for i, op := range s.Ops {
			mark := " "
			if s.Pebble.State[i] != s.Model.State[i] {
				mark = "*"
			}
			fmt.Fprintf(w, "%s%3d  %s\n", mark, i, op)
			fmt.Fprintf(w, "       pebble: %s; version %s; disk %s\n", s.Pebble.Change[i], s.Pebble.State[i], s.Pebble.Disk[i])
			fmt.Fprintf(w, "       model:  %s; version %s; disk %s\n", s.Model.Change[i], s.Model.State[i], s.Model.Disk[i])
			for _, j := range obs[i] {
				p, m := s.Pebble.Obs[j], s.Model.Obs[j]
				same := "=="
				if p.Value != m.Value {
					same = "!="
				}
				fmt.Fprintf(w, "       %s: pebble %s %s model %s\n", p.Kind, p.Value, same, m.Value)
			}
		}
		if len(s.Disagreements) == 0 {
			fmt.Fprintf(w, "no disagreements\n")
		}
		for _, d := range s.Disagreements {
			fmt.Fprintf(w, "DISAGREE op %d %s [%s]: pebble %s | model %s\n", d.Op, d.Kind, d.Class, d.Pebble, d.Model)
		}
	}
	return nil
}
