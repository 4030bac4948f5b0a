package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
	"github.com/spf13/cobra"
)

func newRunCmd() *cobra.Command {
	var sel selection
	var seeds int64
	var start string
	var keepGoing bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run a range of seeds; stop at the first violation and print its replay command",
		Example: `  simrun run --collector naive --seeds 2000
  simrun run --collector lease-retry --seeds 2000 --strategy pct
  simrun run --collector naive --seeds 100 --seed 0x1000 --json
  simrun run --collector lease --profile slow-disk --seeds 500 --keep-going`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, sc, err := sel.resolve()
			if err != nil {
				return err
			}
			first, err := parseSeed("--seed", start)
			if err != nil {
				return err
			}
			if seeds < 1 || seeds > 1e12 {
				return usagef("--seeds: %d is out of range (want 1..1000000000000)", seeds)
			}
			if first > math.MaxUint64-uint64(seeds-1) {
				return usagef("--seed %d plus --seeds %d overflows uint64", first, seeds)
			}
			return runSweep(cmd.OutOrStdout(), &sel, cfg, sc, first, uint64(seeds), keepGoing)
		},
	}
	sel.register(cmd)
	cmd.Flags().Var(newIntValue(&seeds, 100), "seeds", "number of seeds to run (decimal or 0x-hex)")
	cmd.Flags().StringVar(&start, "seed", "1", "first seed (decimal or 0x-hex)")
	cmd.Flags().BoolVar(&keepGoing, "keep-going", false, "run every seed and count violating seeds per kind instead of stopping at the first")
	return cmd
}

// sweepReport is run's JSON output.
type sweepReport struct {
	Outcome   string         `json:"outcome"`
	Collector string         `json:"collector"`
	Profile   string         `json:"profile"`
	Strategy  string         `json:"strategy"`
	FirstSeed uint64         `json:"first_seed"`
	SeedsRun  uint64         `json:"seeds_run"`
	Steps     int64          `json:"steps"`
	Elapsed   float64        `json:"elapsed_seconds"`
	Violation *seedViolation `json:"violation,omitempty"`
	// With --keep-going: how many seeds violated, and per kind how many
	// seeds showed it and the first of them.
	ViolatingSeeds uint64      `json:"violating_seeds"`
	Kinds          []kindCount `json:"kinds,omitempty"`
}

// kindCount is, for one violation kind, the seeds that showed it.
type kindCount struct {
	Kind      sim.Kind `json:"kind"`
	Seeds     uint64   `json:"seeds"`
	FirstSeed uint64   `json:"first_seed"`
	Replay    string   `json:"replay"`
}

// seedViolation is the first violating seed of a sweep.
type seedViolation struct {
	Seed         uint64            `json:"seed"`
	Kind         sim.Kind          `json:"kind"`
	Step         int64             `json:"step"`
	Detail       string            `json:"detail"`
	TraceHash    string            `json:"trace_hash"`
	Replay       string            `json:"replay"`
	Observations []sim.Observation `json:"violations"`
}

func runSweep(w io.Writer, sel *selection, cfg model.Config, sc sim.Config, first, n uint64, keepGoing bool) error {
	began := time.Now()
	rep := sweepReport{Outcome: "ok", Collector: cfg.Collector, Profile: sel.profile, Strategy: sc.Strategy.String(), FirstSeed: first}
	for i := uint64(0); i < n; i++ {
		seed := first + i
		out, err := runSeed(cfg, sc, seed)
		if err != nil {
			return err
		}
		rep.SeedsRun++
		rep.Steps += out.Result.Steps
		if out.Violated() {
			o := out.Result.Observations[0]
			rep.Outcome = "violation"
			rep.ViolatingSeeds++
			rep.count(out.Result.Observations, seed, sel)
			if rep.Violation == nil {
				rep.Violation = &seedViolation{
					Seed: seed, Kind: o.Kind, Step: o.Step, Detail: o.Detail,
					TraceHash: sim.FormatHash(out.Result.TraceHash), Replay: sel.replayLine(seed),
					Observations: stripStacks(out.Result.Observations),
				}
			}
			if !keepGoing {
				break
			}
		}
	}
	rep.Elapsed = time.Since(began).Seconds()
	if sel.asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write JSON: %w", err)
		}
	} else {
		printSweep(w, &rep)
	}
	if rep.Violation != nil {
		return errViolation
	}
	return nil
}

// count adds a violating seed's kinds (each once) to the per-kind tally,
// kept in the order of sim.Kinds.
func (rep *sweepReport) count(obs []sim.Observation, seed uint64, sel *selection) {
	for _, k := range sim.Kinds {
		seen := false
		for _, o := range obs {
			if o.Kind == k {
				seen = true
				break
			}
		}
		if !seen {
			continue
		}
		found := false
		for i := range rep.Kinds {
			if rep.Kinds[i].Kind == k {
				rep.Kinds[i].Seeds++
				found = true
			}
		}
		if !found {
			rep.Kinds = append(rep.Kinds, kindCount{Kind: k, Seeds: 1, FirstSeed: seed, Replay: sel.replayLine(seed)})
		}
	}
	// Keep the DESIGN.md order of kinds, whatever order they were found in.
	ordered := rep.Kinds[:0:0]
	for _, k := range sim.Kinds {
		for _, kc := range rep.Kinds {
			if kc.Kind == k {
				ordered = append(ordered, kc)
			}
		}
	}
	rep.Kinds = ordered
}

func printSweep(w io.Writer, rep *sweepReport) {
	if v := rep.Violation; v != nil {
		fmt.Fprintf(w, "VIOLATION %s at seed %d, step %d\n", v.Kind, v.Seed, v.Step)
		for _, o := range v.Observations {
			fmt.Fprintf(w, "  %-18s step %-5d t=%-9s %s: %s\n", o.Kind, o.Step, o.Time, o.Actor, o.Detail)
		}
		fmt.Fprintf(w, "  trace hash %s\n", v.TraceHash)
		fmt.Fprintf(w, "replay: %s\n\n", v.Replay)
	}
	rate := 0.0
	if rep.Elapsed > 0 {
		rate = float64(rep.Steps) / rep.Elapsed
	}
	if len(rep.Kinds) > 0 && rep.ViolatingSeeds > 1 {
		fmt.Fprintf(w, "%d violating seeds:\n", rep.ViolatingSeeds)
		for _, kc := range rep.Kinds {
			fmt.Fprintf(w, "  %-22s %6d seeds, first %d: %s\n", kc.Kind, kc.Seeds, kc.FirstSeed, kc.Replay)
		}
	}
	fmt.Fprintf(w, "%s: collector %s, profile %s, strategy %s, seeds %d..%d (%d run), %d steps in %.3fs (%.0f steps/s)\n",
		rep.Outcome, rep.Collector, rep.Profile, rep.Strategy, rep.FirstSeed, rep.FirstSeed+rep.SeedsRun-1, rep.SeedsRun,
		rep.Steps, rep.Elapsed, rate)
}

// stripStacks drops panic stacks (they hold addresses and goroutine ids)
// from observations meant for reports.
func stripStacks(obs []sim.Observation) []sim.Observation {
	out := make([]sim.Observation, len(obs))
	for i, o := range obs {
		o.Stack = ""
		out[i] = o
	}
	return out
}
