package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/snapsim/snapsim/baseline/realpebble"
	"github.com/snapsim/snapsim/model"
)

// pebbleOptions are the pebble command's flags.
type pebbleOptions struct {
	collector, seed string
	rounds, keys    int64
}

func newPebbleCmd(e *env) *cobra.Command {
	var o pebbleOptions
	cmd := &cobra.Command{
		Use:   "pebble",
		Short: "Run a design, unchanged, over a real Pebble v1.1.5 database and report its ENOENTs",
		Long: `pebble runs one file-collection design, the same code the simulator runs,
over a real *pebble.DB (v1.1.5) on vfs.NewMem() through the adapter in
baseline/realpebble (docs/realpebble.md). A kernel actor per round runs the
design's Collect (one build of the whole key space) while a workload actor
puts, flushes and compacts the database; the kernel draws the interleaving
and the workload from --seed, and every compaction waits for Pebble's
deletions to settle, so a seed gives the same run again.

It prints each round's outcome (ok, error or panic; the engine files read;
whether the data collected is what Pebble's own iterator reads) and every
open that failed with ENOENT.

A design that needs what Pebble v1.1.5 does not have (file leases:
lease, lease-retry; a disable-deletions counter: checkpoint) is refused
before anything runs, with the reason; pebble-checkpoint is the checkpoint
design written with DB.Checkpoint instead.

Exit codes: 0 every round collected Pebble's data and no open failed; 1 an
open failed with ENOENT, a round panicked or failed, or collected other
data; 2 bad usage or input, or a design Pebble cannot run; 3 nothing was
observed but a round did not finish within the step budget (5000 steps a
round); 4 the adapter or Pebble failed.`,
		Example: `  simrun pebble --collector naive
  simrun pebble --collector pin --rounds 20 --seed 7
  simrun pebble --collector pebble-checkpoint`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPebble(cmd, e, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.collector, "collector", "naive", "design to run (simrun collectors lists them; also pebble-checkpoint)")
	f.StringVar(&o.seed, "seed", "1", "the kernel's seed (decimal or 0x-hex)")
	f.Var(newIntValue(&o.rounds, int64(realpebble.DefaultConfig().Rounds)), "rounds", "builds, one after another, 1..10000")
	f.Var(newIntValue(&o.keys, int64(realpebble.DefaultConfig().Keys)), "keys", "the workload's key space, 1..1000")
	return cmd
}

// pebbleDesign finds the design --collector names: one of e's, or
// realpebble's own.
func pebbleDesign(e *env, name string) (model.Design, error) {
	all := append(append([]model.Design(nil), e.designs...), realpebble.CheckpointDesign())
	names := make([]string, len(all))
	for i, d := range all {
		if d.Name == name {
			return d, nil
		}
		names[i] = d.Name
	}
	return model.Design{}, usagef("--collector: %q is not a design (want one of %v)", clip(name, 60), names)
}

// runPebble runs the design and prints the report.
func runPebble(cmd *cobra.Command, e *env, o pebbleOptions) error {
	d, err := pebbleDesign(e, o.collector)
	if err != nil {
		return err
	}
	cfg := realpebble.DefaultConfig()
	switch {
	case o.rounds < 1 || o.rounds > 10_000:
		return usagef("--rounds: %d is out of range (want 1..10000)", o.rounds)
	case o.keys < 1 || o.keys > 1000:
		return usagef("--keys: %d is out of range (want 1..1000)", o.keys)
	}
	if cfg.Seed, err = parseSeed("--seed", o.seed); err != nil {
		return err
	}
	cfg.Rounds, cfg.Keys = int(o.rounds), int(o.keys)
	// A round takes a few hundred steps (pin: about 500): the budget only
	// stops a run that cannot finish.
	cfg.MaxSteps = max(cfg.MaxSteps, pebbleStepsPerRound*int64(cfg.Rounds))
	rep, err := realpebble.Run(d, cfg)
	var refused *realpebble.RefusedError
	if errors.As(err, &refused) {
		return usageError{fmt.Errorf("--collector %s: %w", d.Name, err)}
	}
	if err != nil {
		return fmt.Errorf("pebble: %w", err)
	}
	if _, err := fmt.Fprint(cmd.OutOrStdout(), rep.String()); err != nil {
		return err
	}
	clean, complete := len(rep.ENOENTs) == 0, true
	for _, x := range rep.Rounds {
		switch x.Outcome {
		case "ok":
			clean = clean && x.Matches
		case "unfinished", "not started":
			complete = false
		default:
			clean = false
		}
	}
	switch {
	case !clean:
		return errViolation
	case !complete:
		return errIncomplete
	}
	return nil
}

// pebbleStepsPerRound is the step budget per round of simrun pebble.
const pebbleStepsPerRound = 5000
