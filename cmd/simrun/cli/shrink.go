package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/snapsim/snapsim/internal/drawsfile"
	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// drawsFormat names the .draws file format written by shrink and read by
// replay FILE.draws (internal/drawsfile).
const drawsFormat = drawsfile.Format

// drawsFile is a shrunk run (internal/drawsfile.File).
type drawsFile = drawsfile.File

// drawsConfig returns the model and kernel configuration a .draws file
// replays under: its own configuration when it carries one (simrun check),
// else the selection's.
func drawsConfig(df *drawsFile, sel *selection) (model.Config, sim.Config, error) {
	if df.Config == nil {
		return sel.resolve()
	}
	if err := sel.lookup(); err != nil {
		return nil, sim.Config{}, err
	}
	cfg, err := sel.sys.DecodeConfig(df.Config)
	if err != nil {
		return nil, sim.Config{}, usagef("member \"config\": %v", err)
	}
	if err := model.Validate(sel.sys, cfg); err != nil {
		return nil, sim.Config{}, usagef("member \"config\": %v", err)
	}
	if df.MaxSteps < 1 || df.MaxSteps > 1e9 {
		return nil, sim.Config{}, usagef("max_steps %d is out of range (want 1..1000000000)", df.MaxSteps)
	}
	return cfg, sim.Config{MaxSteps: df.MaxSteps, StopOnViolation: true}, nil
}

func newShrinkCmd(e *env) *cobra.Command {
	sel := selection{env: e}
	var seedS, outPath string
	var budget int64
	var force bool
	cmd := &cobra.Command{
		Use:   "shrink",
		Short: "Minimise a violating seed's choice stream and write a .draws file that replays it",
		Long: `Run one seed recording its choice stream; if it violates, shrink the
stream (delete chunks of draws, lower values, as rapid and Hypothesis do)
while the run still shows the same first violation kind, print the minimal
trace's high-level actions and the sizes before and after, and write a
.draws file that 'simrun replay FILE.draws' replays with the same trace.

Exit codes (the rule of the artifact commands, shrink and timeline): 0 the
file was written; 1 there was nothing to write (the seed shows no
violation, or did not finish within --max-steps); 2 bad usage, or the
output path is unusable (checked before shrinking: an existing file without
--force, a directory, a missing or read-only directory); 130/143
interrupted: the simplest failing log found so far is written, then simrun
exits. Shrinking is deterministic: the same seed, selection and budget
always give the same result.`,
		Example: `  simrun shrink --collector naive --seed 2
  simrun shrink --collector naive --seed 2 -o report.draws --force
  simrun replay report.draws --actions-only`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("seed") {
				return usagef("--seed is required (a decimal or 0x-hex unsigned 64-bit integer)")
			}
			seed, err := parseSeed("--seed", seedS)
			if err != nil {
				return err
			}
			if budget < 1 || budget > 1e7 {
				return usagef("--budget: %d is out of range (want 1..10000000)", budget)
			}
			cfg, sc, err := sel.resolve()
			if err != nil {
				return err
			}
			if outPath == "" {
				outPath = fmt.Sprintf("shrunk-%s-%d.draws", sel.collector, seed)
			}
			if !strings.HasSuffix(outPath, ".draws") {
				return usagef("-o/--out: %q must end in .draws (replay recognises the file by its extension)", clip(outPath, 200))
			}
			if err := checkOutput("-o/--out", outPath, force); err != nil {
				return err
			}
			return shrinkSeed(cmd.Context(), cmd.OutOrStdout(), &sel, cfg, sc, seed, int(budget), outPath, force)
		},
	}
	sel.register(cmd)
	cmd.Flags().StringVar(&seedS, "seed", "", "seed to shrink (decimal or 0x-hex)")
	cmd.Flags().StringVarP(&outPath, "out", "o", "", "write the shrunk run here (default ./shrunk-COLLECTOR-SEED.draws)")
	cmd.Flags().Var(newIntValue(&budget, 5000), "budget", "maximum number of candidate runs (decimal or 0x-hex)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite the output file if it exists")
	return cmd
}

// firstKind is the kind of a run's first violation, "" if none.
func firstKind(out *model.Outcome) sim.Kind {
	if len(out.Result.Observations) == 0 {
		return ""
	}
	return out.Result.Observations[0].Kind
}

// countActions counts the high-level actions (sim.ClassAction) of a trace.
func countActions(events []sim.Event) int {
	n := 0
	for _, e := range events {
		if e.Class == sim.ClassAction {
			n++
		}
	}
	return n
}

func shrinkSeed(ctx context.Context, w io.Writer, sel *selection, cfg model.Config, sc sim.Config, seed uint64, budget int, outPath string, force bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	sc.KeepTrace = true
	rec := sim.NewRecorder(sim.NewPRNG(seed))
	orig, err := sel.sys.Run(cfg, rec, sc, model.Hooks{})
	if err != nil {
		return fmt.Errorf("seed %d: %w", seed, err)
	}
	kind := firstKind(&orig)
	if kind == "" {
		fmt.Fprintf(w, "seed %d: no violation (%s: %d steps, run ended: %s); nothing to shrink, no file written\n", seed, outcomeWord(&orig), orig.Result.Steps, orig.Result.End)
		return errNothingToDo
	}
	origDraws := rec.Draws()
	fmt.Fprintf(w, "seed %d: %s at step %d; shrinking %d draws (budget %d runs)\n", seed, kind, orig.Result.Observations[0].Step, len(origDraws), budget)

	quiet := sc
	quiet.KeepTrace = false
	var runErr error
	test := func(cand []sim.Draw) (bool, []sim.Draw) {
		r := sim.NewRecorder(sim.NewLog(cand))
		out, err := sel.sys.Run(cfg, r, quiet, model.Hooks{})
		if err != nil {
			runErr = err
			return false, nil
		}
		if firstKind(&out) != kind {
			return false, nil
		}
		return true, sim.Canonical(r.Draws(), len(cand))
	}
	// Start from the canonical form of the recorded stream.
	start := sim.Canonical(origDraws, len(origDraws))
	shrunk, st := sim.ShrinkWith(start, sim.ShrinkOptions{Budget: budget, Stop: func() bool { return ctx.Err() != nil }}, test)
	if len(shrunk) == 0 {
		// Every draw shrank to 0, which a log supplies past its end anyway;
		// keep one explicit zero so the file is never empty.
		shrunk = []sim.Draw{{N: origDraws[0].N, Value: 0}}
	}
	if runErr != nil {
		// A candidate made the model fail outside any actor: a snapsim bug
		// worth knowing about, but the shrink itself stays valid.
		fmt.Fprintf(w, "note: a candidate run failed: %v\n", runErr)
	}

	final, err := sel.sys.Run(cfg, sim.NewLog(shrunk), sc, model.Hooks{})
	if err != nil {
		return fmt.Errorf("replay of the shrunk log: %w", err)
	}
	if firstKind(&final) != kind {
		return fmt.Errorf("replay of the shrunk log shows %q, not %q (nondeterminism?)", firstKind(&final), kind)
	}

	if err := writeActionsText(w, final.Result.Events); err != nil {
		return err
	}
	fmt.Fprintln(w)
	stop := ""
	switch {
	case st.Stopped:
		stop = ", interrupted: the simplest failing log found so far"
	case st.Budget:
		stop = ", budget exhausted"
	}
	fmt.Fprintf(w, "shrunk %s: %d candidate runs, %d accepted, %d rounds%s\n", kind, st.Runs, st.Accepted, st.Passes, stop)
	fmt.Fprintf(w, "  draws:   %d -> %d\n", len(origDraws), len(shrunk))
	fmt.Fprintf(w, "  actions: %d -> %d\n", countActions(orig.Result.Events), countActions(final.Result.Events))
	fmt.Fprintf(w, "  steps:   %d -> %d\n", orig.Result.Steps, final.Result.Steps)
	hash := sim.FormatHash(final.Result.TraceHash)
	fmt.Fprintf(w, "trace hash %s\n", hash)

	df := drawsFile{
		Format: drawsFormat, System: sel.system, Collector: sel.collector, Profile: sel.profile, Strategy: sel.strategy,
		Variants: sel.variantNames(), Sets: sel.sets, SnapGenerators: sel.generators, SnapGCTimeoutUS: sel.snapGCTimeoutUS,
		GCGraceUS: sel.gcGraceUS, ThreadChurnUS: sel.threadChurnUS, MaxSteps: sel.maxSteps, FromSeed: seed, Expect: kind,
		TraceHash: hash, Draws: shrunk,
	}
	if df.Variants == nil {
		df.Variants = []string{}
	}
	if df.Draws == nil {
		df.Draws = []sim.Draw{}
	}
	data, err := json.MarshalIndent(df, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", outPath, err)
	}
	if err := writeFileAtomic("-o/--out", outPath, append(data, '\n'), force); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s\nreplay: %s replay %s --actions-only\n", outPath, sel.env.invocation(), shellQuote(outPath))
	if ei, ok := interrupted(ctx); ok && st.Stopped {
		return ei
	}
	return nil
}

// writeActionsText prints a trace without its filesystem calls, as replay
// --actions-only does.
func writeActionsText(w io.Writer, events []sim.Event) error {
	var kept []sim.Event
	for _, e := range events {
		if e.Class != sim.ClassIO {
			kept = append(kept, e)
		}
	}
	if err := sim.WriteText(w, kept); err != nil {
		return fmt.Errorf("write trace: %w", err)
	}
	return nil
}

// drawsRequired are the members every .draws file has (shrink writes them
// all).
var drawsRequired = []string{"format", "collector", "profile", "strategy", "variants", "snap_generators", "max_steps", "from_seed", "expect", "trace_hash", "draws"}

// loadDrawsFile reads and validates a .draws file fully (its format, every
// member, the expected kind, the trace hash, each draw's bound and value,
// nothing after the object) and returns the selection it describes. Every
// error is a usage error naming the file and where in it.
func loadDrawsFile(e *env, path string) (*drawsFile, *selection, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, usagef("%v", err)
	}
	bad := func(format string, args ...any) error {
		return usagef("%s: %s (want a .draws file written by simrun shrink)", path, fmt.Sprintf(format, args...))
	}
	at := func(off int64) string {
		return fmt.Sprintf("line %d", 1+bytes.Count(data[:min(int(off), len(data))], []byte("\n")))
	}
	var members map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&members); err != nil {
		off := dec.InputOffset()
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = se.Offset
		}
		return nil, nil, bad("%s: not JSON: %v", at(off), err)
	}
	if dec.More() || !onlySpace(data[dec.InputOffset():]) {
		return nil, nil, bad("%s: trailing data after the JSON object", at(dec.InputOffset()))
	}
	for _, k := range drawsRequired {
		if _, ok := members[k]; !ok {
			return nil, nil, bad("missing member %q", k)
		}
	}
	var df drawsFile
	strict := json.NewDecoder(bytes.NewReader(data))
	strict.DisallowUnknownFields()
	if err := strict.Decode(&df); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, nil, bad("%s: member %q: %v", at(te.Offset), te.Field, err)
		}
		return nil, nil, bad("%v", err)
	}
	if df.Format != drawsFormat {
		return nil, nil, bad("format %q; want %q", clip(df.Format, 40), drawsFormat)
	}
	if !sim.ValidKind(df.Expect) {
		return nil, nil, bad("expect %q is not a violation kind (want one of %s)", clip(string(df.Expect), 40), kindNames())
	}
	if len(df.TraceHash) != 16 || strings.Trim(df.TraceHash, "0123456789abcdef") != "" {
		return nil, nil, bad("trace_hash %q is not 16 lowercase hex digits", clip(df.TraceHash, 40))
	}
	if len(df.Draws) == 0 {
		return nil, nil, bad("draws is empty; a shrunk log holds at least one draw")
	}
	for i, d := range df.Draws {
		if d.N < 1 || d.Value < 0 || d.Value >= d.N {
			return nil, nil, bad("draws[%d] = {n: %d, v: %d}: want n >= 1 and 0 <= v < n", i, d.N, d.Value)
		}
	}
	system := df.System
	if system == "" {
		system = tikv.Name // files from before systems
	}
	sel := &selection{env: e, system: system, collector: df.Collector, profile: df.Profile, strategy: df.Strategy,
		generators: df.SnapGenerators, snapGCTimeoutUS: df.SnapGCTimeoutUS, gcGraceUS: df.GCGraceUS, threadChurnUS: df.ThreadChurnUS, maxSteps: df.MaxSteps,
		sets: df.Sets}
	if _, err := e.systems.Lookup(system); err != nil {
		return nil, nil, bad("system: %v", err)
	}
	if err := sel.setVariants(df.Variants); err != nil {
		return nil, nil, bad("%v", err)
	}
	return &df, sel, nil
}

// onlySpace reports whether b holds nothing but JSON whitespace.
func onlySpace(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }

// kindNames lists the violation kinds, for error messages.
func kindNames() string {
	var out []string
	for _, k := range sim.Kinds {
		out = append(out, string(k))
	}
	return strings.Join(out, ", ")
}

// replayDrawsFile replays a .draws file written by shrink, prints the trace
// as replay does, and checks the recorded violation kind and trace hash.
func replayDrawsFile(cmd *cobra.Command, e *env, path string, asJSON, actionsOnly, stacks bool) error {
	var clash []string
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if !fileFlags[f.Name] {
			clash = append(clash, "--"+f.Name)
		}
	})
	if len(clash) > 0 {
		return usagef("replay %s: the file carries its own configuration; %s cannot be combined with it (only --json, --actions-only, --stacks)", path, strings.Join(clash, ", "))
	}
	df, sel, err := loadDrawsFile(e, path)
	if err != nil {
		return err
	}
	cfg, sc, err := drawsConfig(df, sel)
	if err != nil {
		return usagef("%s: %v", path, err)
	}
	sc.KeepTrace = true
	out, err := sel.sys.Run(cfg, sim.NewLog(df.Draws), sc, model.Hooks{})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	hash := sim.FormatHash(out.Result.TraceHash)
	exp := &expectationReport{Expect: fmt.Sprintf("first violation %s, trace hash %s", df.Expect, df.TraceHash)}
	switch {
	case firstKind(&out) != df.Expect:
		got := string(firstKind(&out))
		if got == "" {
			got = "none (" + outcomeWord(&out) + ")"
		}
		exp.Detail = fmt.Sprintf("first violation %s, want %s", got, df.Expect)
	case hash != df.TraceHash:
		exp.Detail = fmt.Sprintf("trace hash %s, recorded %s (the model changed since the shrink)", hash, df.TraceHash)
	default:
		exp.Met = true
		exp.Detail = fmt.Sprintf("expect %s, trace hash %s; shrunk from seed %d, %d draws", df.Expect, hash, df.FromSeed, len(df.Draws))
		if df.Scope != "" {
			exp.Detail = fmt.Sprintf("expect %s, trace hash %s; found by simrun check in scope %s, %d draws", df.Expect, hash, df.Scope, len(df.Draws))
		}
		if df.Origin != "" {
			exp.Detail = fmt.Sprintf("expect %s, trace hash %s; found by %s, %d draws", df.Expect, hash, df.Origin, len(df.Draws))
		}
	}
	w := cmd.OutOrStdout()
	if asJSON {
		err = writeReplayJSON(w, sel.strategy, df.FromSeed, &out, e.invocation()+" replay "+shellQuote(path), exp)
	} else {
		err = writeReplayText(w, e, sel.strategy, df.FromSeed, &out, actionsOnly, stacks)
	}
	if err != nil {
		return err
	}
	if !asJSON {
		exp.print(w)
	}
	return exp.err()
}
