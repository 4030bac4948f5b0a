package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/seeds"
	"github.com/snapsim/snapsim/sim"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func newReplayCmd(e *env) *cobra.Command {
	sel := selection{env: e}
	var seedS string
	var actionsOnly, stacks bool
	cmd := &cobra.Command{
		Use:   "replay [FILE.scenario|FILE.seed]",
		Short: "Replay one seed, or a corpus file, exactly and print its trace and outcome",
		Long: `Replay one seed exactly and print its trace and outcome.

Exit codes for a seed: 0 nothing observed, 1 a violation was observed, 3
the run ran out of its step budget (--max-steps) before it finished.

Given a corpus file (FILE.scenario: a scripted interleaving; FILE.seed: a
seed with its configuration; see seeds/README.md) or a FILE.draws written
by shrink, replay runs it instead, with the configuration the file carries,
prints the same trace and checks the file's expectation. The exit code is
the expectation's: 0 met (a buggy file that shows its failure passes), 1
not met (a mismatch, including seed drift, or a scenario step that could
not make progress), 2 the file is malformed (the message names FILE:LINE
and the expected form). With --json the expectation's result is the
"expectation" member.`,
		Example: `  simrun replay --collector naive --seed 137
  simrun replay --collector naive --seed 0x89 --actions-only
  simrun replay --collector lease-retry --seed 7 --strategy pct --json
  simrun replay seeds/report.buggy.scenario --actions-only
  simrun replay seeds/naive-default.seed --json`,
		Args: replayPositional,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && strings.HasSuffix(args[0], ".draws") {
				return replayDrawsFile(cmd, e, args[0], sel.asJSON, actionsOnly, stacks)
			}
			if len(args) == 1 {
				return replayFile(cmd, e, args[0], sel.asJSON, actionsOnly, stacks)
			}
			if !cmd.Flags().Changed("seed") {
				return usagef("--seed is required (a decimal or 0x-hex unsigned 64-bit integer)")
			}
			seed, err := parseSeed("--seed", seedS)
			if err != nil {
				return err
			}
			cfg, sc, err := sel.resolve()
			if err != nil {
				return err
			}
			sc.KeepTrace = true
			out, err := runSeed(sel.sys, cfg, sc, seed)
			if err != nil {
				return err
			}
			if sel.asJSON {
				err = writeReplayJSON(cmd.OutOrStdout(), sel.strategy, seed, &out, sel.replayLine(seed), nil)
			} else {
				err = writeReplayText(cmd.OutOrStdout(), e, sel.strategy, seed, &out, actionsOnly, stacks)
			}
			if err != nil {
				return err
			}
			return outcomeError(&out)
		},
	}
	sel.register(cmd)
	cmd.Flags().StringVar(&seedS, "seed", "", "seed to replay (decimal or 0x-hex)")
	cmd.Flags().BoolVar(&actionsOnly, "actions-only", false, "print only high-level actions and violations, not each filesystem call")
	cmd.Flags().BoolVar(&stacks, "stacks", false, "print the goroutine stack of each panic")
	return cmd
}

// outcomeError is the error whose exit code means a single run's outcome:
// errViolation, errIncomplete or nil.
func outcomeError(out *model.Outcome) error {
	switch outcomeWord(out) {
	case outcomeViolation:
		return errViolation
	case outcomeIncomplete:
		return errIncomplete
	}
	return nil
}

// expectationReport is the result of checking a file's expectation.
type expectationReport struct {
	// Met is whether the run did what the file expects.
	Met bool `json:"met"`
	// Expect restates the expectation ("expect open-deleted-file, expect
	// panic"); Detail says how it was met or why not.
	Expect string `json:"expect"`
	Detail string `json:"detail"`
}

// err is the error whose exit code means the expectation: errNotMet or nil.
func (e *expectationReport) err() error {
	if e.Met {
		return nil
	}
	return errNotMet
}

// print writes the expectation line of the text output.
func (e *expectationReport) print(w io.Writer) {
	if e.Met {
		fmt.Fprintf(w, "expectation: met (%s)\n", e.Detail)
	} else {
		fmt.Fprintf(w, "expectation: NOT MET: %s\n", e.Detail)
	}
}

// replayReport is replay's JSON output.
type replayReport struct {
	Outcome    string            `json:"outcome"`
	System     string            `json:"system"`
	Collector  string            `json:"collector"`
	Strategy   string            `json:"strategy"`
	Seed       uint64            `json:"seed"`
	TraceHash  string            `json:"trace_hash"`
	Steps      int64             `json:"steps"`
	TimeUS     sim.Micros        `json:"time_us"`
	End        string            `json:"end"`
	Violations []sim.Observation `json:"violations"`
	Events     []sim.Event       `json:"events"`
	Replay     string            `json:"replay"`
	// Expectation is the file's expectation and its result (replay FILE
	// only).
	Expectation *expectationReport `json:"expectation,omitempty"`
	// Script says how far a scenario's script got: the steps completed,
	// the steps not run and why, a refused step (scenario files only).
	Script *model.ScriptReport `json:"script,omitempty"`
}

// outcomeWord is a run's outcome: "violation" when anything was observed,
// "incomplete" when nothing was but the step budget ran out before the run
// finished (an unfinished run is not a clean one), else "ok".
func outcomeWord(out *model.Outcome) string {
	switch {
	case out.Violated():
		return outcomeViolation
	case out.Result.End == sim.EndBudget:
		return outcomeIncomplete
	}
	return outcomeOK
}

func writeReplayJSON(w io.Writer, strategy string, seed uint64, out *model.Outcome, replay string, exp *expectationReport) error {
	rep := replayReport{
		Outcome: outcomeWord(out), Strategy: strategy, Seed: seed,
		TraceHash: sim.FormatHash(out.Result.TraceHash), Steps: out.Result.Steps, TimeUS: out.Result.Time,
		End: out.Result.End, Violations: stripStacks(out.Result.Observations),
		Events: out.Result.Events, Replay: replay, Expectation: exp,
		Script: out.Script,
	}
	if out.Config != nil {
		rep.System, rep.Collector = out.Config.SystemName(), out.Config.DesignName()
	}
	if rep.Violations == nil {
		rep.Violations = []sim.Observation{}
	}
	data, err := withMembers(rep, out.Members)
	if err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	var b bytes.Buffer
	if err := json.Indent(&b, data, "", "  "); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	b.WriteByte('\n')
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// withMembers encodes v (a struct) with members added as further
// top-level members, in sorted order: the system's own parts of a report
// (tikv: workload, snapshots).
func withMembers(v any, members map[string]any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(members))
	for k := range members {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	data = data[:len(data)-1] // the closing brace
	for _, k := range keys {
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(members[k])
		if err != nil {
			return nil, fmt.Errorf("member %s: %w", k, err)
		}
		data = append(append(append(append(data, ','), kb...), ':'), vb...)
	}
	return append(data, '}'), nil
}

func writeReplayText(w io.Writer, e *env, strategy string, seed uint64, out *model.Outcome, actionsOnly, stacks bool) error {
	events := out.Result.Events
	if actionsOnly {
		var kept []sim.Event
		for _, e := range events {
			if e.Class != sim.ClassIO {
				kept = append(kept, e)
			}
		}
		events = kept
	}
	if err := sim.WriteText(w, events); err != nil {
		return fmt.Errorf("write trace: %w", err)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "outcome:    %s (run ended: %s after %d steps, t=%s)\n", outcomeWord(out), out.Result.End, out.Result.Steps, out.Result.Time)
	if out.Config != nil && out.Config.SystemName() != e.defaultSystem {
		fmt.Fprintf(w, "system:     %s\n", out.Config.SystemName())
	}
	design := ""
	if out.Config != nil {
		design = out.Config.DesignName()
	}
	fmt.Fprintf(w, "collector:  %s, strategy %s, seed %d\n", design, strategy, seed)
	fmt.Fprintf(w, "trace hash: %s (%d events)\n", sim.FormatHash(out.Result.TraceHash), out.Result.EventCount)
	for _, line := range out.Summary {
		fmt.Fprintln(w, line)
	}
	for _, o := range out.Result.Observations {
		fmt.Fprintf(w, "VIOLATION %s at step %d (t=%s) by %s: %s\n", o.Kind, o.Step, o.Time, o.Actor, o.Detail)
		if stacks && o.Stack != "" {
			fmt.Fprintf(w, "%s\n", o.Stack)
		}
	}
	writeScriptReport(w, out.Script)
	return nil
}

// writeScriptReport says how far a scenario's script got: a script whose
// later steps did not run (the run stopped at a violation, or a step was
// refused) says which and why, never silently.
func writeScriptReport(w io.Writer, r *model.ScriptReport) {
	if r == nil {
		return
	}
	switch {
	case r.Ended:
		fmt.Fprintf(w, "script:     all %d steps completed by step %d (t=%s); the strategy ran the rest\n", r.Steps, r.EndStep, r.EndTime)
	default:
		fmt.Fprintf(w, "script:     %d of %d steps completed\n", r.Completed, r.Steps)
	}
	for _, n := range r.NotRun {
		state := "not run"
		if n.Started {
			state = "not completed"
		}
		fmt.Fprintf(w, "  step %d %s (%s): %s\n", n.Number, state, n.Step, n.Reason)
	}
	if r.Refusal != nil {
		fmt.Fprintf(w, "  REFUSED step %d: %s\n", r.Refusal.Number, r.Refusal)
	}
}

// replayPositional accepts no positional argument (a seed replay) or one corpus
// file ending in .scenario or .seed.
func replayPositional(cmd *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return nil
	case len(args) > 1:
		return usagef("replay takes no positional arguments but one corpus file (FILE.scenario, FILE.seed or FILE.draws), got %d arguments", len(args))
	case !strings.HasSuffix(args[0], ".scenario") && !strings.HasSuffix(args[0], ".seed") && !strings.HasSuffix(args[0], ".draws"):
		return usagef("replay takes no positional arguments but a corpus file: %q is not one (want FILE.scenario, FILE.seed or FILE.draws)", clip(args[0], 60))
	}
	return nil
}

// fileFlags are the replay flags that combine with a FILE; every other
// flag selects a run, which the file does itself.
var fileFlags = map[string]bool{"json": true, "actions-only": true, "stacks": true}

// replayFile loads a .scenario or .seed file, replays it and prints the
// trace and outcome as a seed replay does, then checks the file's
// expectations.
func replayFile(cmd *cobra.Command, e *env, path string, asJSON, actionsOnly, stacks bool) error {
	var clash []string
	system := ""
	cmd.Flags().Visit(func(f *pflag.Flag) {
		switch {
		case f.Name == "system":
			// --system may restate the file's own "system" line (a
			// user's program documents replays that way); it is checked
			// against the file below.
			system = f.Value.String()
		case !fileFlags[f.Name]:
			clash = append(clash, "--"+f.Name)
		}
	})
	if len(clash) > 0 {
		return usagef("replay %s: the file carries its own configuration; %s cannot be combined with it (only --json, --actions-only, --stacks, and --system naming the file's own system)", path, strings.Join(clash, ", "))
	}
	f, err := seeds.LoadIn(e.systems, path)
	if err != nil {
		return usageError{err}
	}
	if name := f.System.Spec().Name; system != "" && system != name {
		return usagef("replay %s: --system %s, but the file is of system %s (its \"system\" line, or the default)", path, system, name)
	}
	out, err := f.Replay()
	var refusal *model.ScenarioError
	if err != nil && !errors.As(err, &refusal) {
		return err
	}
	if refusal != nil && refusal.NoSuchActor {
		// A misspelt actor is a mistake in the file: bad input.
		return usageError{err}
	}
	exp := &expectationReport{Expect: expectWords(f)}
	switch cerr := f.Check(&out); {
	case refusal != nil:
		// The script cannot be executed as written (a code change moved
		// what it relies on): the expectation is not met; the trace up to
		// the refusal is printed.
		exp.Detail = "a scenario step was refused: " + refusal.Error()
	case cerr != nil:
		exp.Detail = cerr.Error()
	default:
		exp.Met, exp.Detail = true, exp.Expect
	}
	w := cmd.OutOrStdout()
	if asJSON {
		err = writeReplayJSON(w, f.Strategy, f.Scenario.Seed, &out, e.invocation()+" replay "+shellQuote(path), exp)
	} else {
		err = writeReplayText(w, e, f.Strategy, f.Scenario.Seed, &out, actionsOnly, stacks)
	}
	if err != nil {
		return err
	}
	if !asJSON {
		exp.print(w)
	}
	return exp.err()
}

func expectWords(f *seeds.File) string {
	sc := &f.Scenario
	var parts []string
	if sc.ExpectNone {
		parts = append(parts, "expect none")
	}
	for _, k := range sc.Expect {
		parts = append(parts, "expect "+k.String())
	}
	for _, k := range sc.ExpectNot {
		parts = append(parts, "expect-not "+k.String())
	}
	return strings.Join(parts, ", ")
}
