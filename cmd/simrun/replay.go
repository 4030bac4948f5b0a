package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
	"github.com/spf13/cobra"
)

func newReplayCmd() *cobra.Command {
	var sel selection
	var seedS string
	var actionsOnly, stacks bool
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Replay one seed exactly and print its trace and outcome",
		Example: `  simrun replay --collector naive --seed 137
  simrun replay --collector naive --seed 0x89 --actions-only
  simrun replay --collector lease-retry --seed 7 --strategy pct --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
			out, err := runSeed(cfg, sc, seed)
			if err != nil {
				return err
			}
			if sel.asJSON {
				err = writeReplayJSON(cmd.OutOrStdout(), &sel, seed, &out)
			} else {
				err = writeReplayText(cmd.OutOrStdout(), &sel, seed, &out, actionsOnly, stacks)
			}
			if err != nil {
				return err
			}
			if out.Violated() {
				return errViolation
			}
			return nil
		},
	}
	sel.register(cmd)
	cmd.Flags().StringVar(&seedS, "seed", "", "seed to replay (decimal or 0x-hex)")
	cmd.Flags().BoolVar(&actionsOnly, "actions-only", false, "print only high-level actions and violations, not each filesystem call")
	cmd.Flags().BoolVar(&stacks, "stacks", false, "print the goroutine stack of each panic")
	return cmd
}

// replayReport is replay's JSON output.
type replayReport struct {
	Outcome    string                 `json:"outcome"`
	Collector  string                 `json:"collector"`
	Strategy   string                 `json:"strategy"`
	Seed       uint64                 `json:"seed"`
	TraceHash  string                 `json:"trace_hash"`
	Steps      int64                  `json:"steps"`
	TimeUS     sim.Micros             `json:"time_us"`
	End        string                 `json:"end"`
	Workload   model.Workload         `json:"workload"`
	Violations []sim.Observation      `json:"violations"`
	Snapshots  []model.SnapshotReport `json:"snapshots"`
	Events     []sim.Event            `json:"events"`
	Replay     string                 `json:"replay"`
}

func outcomeWord(out *model.Outcome) string {
	if out.Violated() {
		return "violation"
	}
	return "ok"
}

func writeReplayJSON(w io.Writer, sel *selection, seed uint64, out *model.Outcome) error {
	rep := replayReport{
		Outcome: outcomeWord(out), Collector: out.Config.Collector, Strategy: sel.strategy, Seed: seed,
		TraceHash: sim.FormatHash(out.Result.TraceHash), Steps: out.Result.Steps, TimeUS: out.Result.Time,
		End: out.Result.End, Workload: out.Workload, Violations: stripStacks(out.Result.Observations),
		Snapshots: out.Snapshots, Events: out.Result.Events, Replay: sel.replayLine(seed),
	}
	if rep.Violations == nil {
		rep.Violations = []sim.Observation{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

func writeReplayText(w io.Writer, sel *selection, seed uint64, out *model.Outcome, actionsOnly, stacks bool) error {
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
	fmt.Fprintf(w, "collector:  %s, strategy %s, seed %d\n", out.Config.Collector, sel.strategy, seed)
	fmt.Fprintf(w, "trace hash: %s (%d events)\n", sim.FormatHash(out.Result.TraceHash), out.Result.EventCount)
	for _, s := range out.Snapshots {
		fmt.Fprintf(w, "snapshot %d: %s, attempts %d", s.ID, s.Status, s.Attempts)
		if s.Status == model.SnapDone {
			fmt.Fprintf(w, ", %d keys at seq %d, latency %s", s.Keys, s.Seq, s.Latency())
		}
		if s.Error != "" {
			fmt.Fprintf(w, ", error: %s", s.Error)
		}
		fmt.Fprintln(w)
	}
	for _, o := range out.Result.Observations {
		fmt.Fprintf(w, "VIOLATION %s at step %d (t=%s) by %s: %s\n", o.Kind, o.Step, o.Time, o.Actor, o.Detail)
		if stacks && o.Stack != "" {
			fmt.Fprintf(w, "%s\n", o.Stack)
		}
	}
	return nil
}
