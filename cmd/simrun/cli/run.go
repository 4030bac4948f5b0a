package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
	"github.com/spf13/cobra"
)

func newRunCmd(e *env) *cobra.Command {
	sel := selection{env: e}
	var seeds int64
	var start string
	var keepGoing bool
	var opts sweepOptions
	var shard string
	var shards, checkEvery int64
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run a range of seeds; stop at the first violation and print its replay command",
		Long: `Run seeds START..START+N-1 and report what they observed: stop at the
first violation (print its kind, seed, step, trace hash and replay command),
or with --keep-going run every seed and count violating seeds per kind.

A seed that runs out of its step budget (--max-steps) before it finishes is
"incomplete": counted apart from ok and violating seeds, never clean.

Exit codes: 0 every seed finished clean; 1 a violation was observed; 2 bad
usage; 3 nothing was observed but some seed was incomplete; 130/143 the
sweep was interrupted (SIGINT/SIGTERM): the seeds already running finish,
the report covers the seeds completed, --out is written with a footer that
marks it partial; a second signal aborts without waiting.`,
		Example: `  simrun run --collector naive --seeds 2000
  simrun run --collector lease-retry --seeds 2000 --strategy pct
  simrun run --collector naive --seeds 100 --seed 0x1000 --json
  simrun run --collector lease --profile slow-disk --seeds 500 --keep-going
  simrun run --collector lease-retry --seeds 1000000 --shard 3/100 --keep-going --out shard-3.jsonl`,
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
			if opts.workers < 1 || opts.workers > 4096 {
				return usagef("--workers: %d is out of range (want 1..4096)", opts.workers)
			}
			plan := seedPlan{first: first, n: uint64(seeds), shards: 1}
			plan.shard, plan.shards, err = resolveShard(shard, cmd.Flags().Changed("shards"), shards, os.Getenv)
			if err != nil {
				return err
			}
			if checkEvery < 0 || checkEvery > 1e12 {
				return usagef("--check-determinism: %d is out of range (want 1 for every seed, N for every Nth, 0 for off)", checkEvery)
			}
			opts.check = determinismCheck{every: uint64(checkEvery)}
			opts.keepGoing = keepGoing
			opts.progress = cmd.ErrOrStderr()
			return runSweep(cmd.Context(), cmd.OutOrStdout(), &sel, cfg, sc, plan, opts)
		},
	}
	sel.register(cmd)
	cmd.Flags().Var(newIntValue(&seeds, 100), "seeds", "number of seeds to run (decimal or 0x-hex)")
	cmd.Flags().StringVar(&start, "seed", "1", "first seed (decimal or 0x-hex)")
	cmd.Flags().StringVar(&opts.saveDir, "save-dir", "", "write each distinct violation (by kind and trace hash) as a seed file in this directory")
	cmd.Flags().BoolVar(&keepGoing, "keep-going", false, "run every seed and count violating seeds per kind instead of stopping at the first")
	cmd.Flags().Var(newIntValue(&opts.workers, int64(runtime.NumCPU())), "workers", "seeds run in parallel on this many goroutines; the report is the same for any number")
	cmd.Flags().BoolVar(&opts.quiet, "quiet", false, "no progress bar on stderr (there is none when stderr is not a terminal)")
	cmd.Flags().StringVar(&shard, "shard", "", "run only shard I of N, \"I/N\" with 0 <= I < N: the seeds k with (k-START) mod N = I")
	cmd.Flags().Var(newIntValue(&shards, 0), "shards", "number of shards N; the shard index I comes from $JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs)")
	cmd.Flags().StringVar(&opts.out, "out", "", "write one JSON line per seed to FILE (.jsonl), atomically at the end; combine shards with simrun merge")
	cmd.Flags().BoolVar(&opts.force, "force", false, "overwrite the --out file if it exists")
	addCheckDeterminismFlag(cmd, &checkEvery)
	return cmd
}

// addCheckDeterminismFlag registers --check-determinism[=N] (bare: every
// seed).
func addCheckDeterminismFlag(cmd *cobra.Command, every *int64) {
	cmd.Flags().Var(newIntValue(every, 0), "check-determinism", "re-run every seed (or, =N, every Nth) in a fresh scheduler and compare trace hashes; a mismatch is a nondeterminism violation")
	cmd.Flags().Lookup("check-determinism").NoOptDefVal = "1"
}

// resolveShard reads --shard I/N, or I from $JOB_COMPLETION_INDEX with
// --shards N; with neither, the one shard 0/1.
func resolveShard(shard string, shardsSet bool, shards int64, getenv func(string) string) (i, n uint64, err error) {
	const maxShards = 1 << 20
	if shard != "" {
		is, ns, ok := strings.Cut(shard, "/")
		i, err1 := strconv.ParseUint(is, 10, 64)
		n, err2 := strconv.ParseUint(ns, 10, 64)
		if !ok || err1 != nil || err2 != nil || n < 1 || n > maxShards || i >= n {
			return 0, 0, usagef("--shard: %q is not a shard (want I/N with 0 <= I < N <= %d, e.g. 3/100)", clip(shard, 40), maxShards)
		}
		if shardsSet && uint64(shards) != n {
			return 0, 0, usagef("--shards %d disagrees with --shard %s", shards, shard)
		}
		return i, n, nil
	}
	if shardsSet && (shards < 1 || shards > maxShards) {
		return 0, 0, usagef("--shards: %d is out of range (want 1..%d)", shards, maxShards)
	}
	env, inJob := getenv("JOB_COMPLETION_INDEX"), getenv("JOB_COMPLETION_INDEX") != ""
	switch {
	case inJob && !shardsSet:
		return 0, 0, usagef("JOB_COMPLETION_INDEX is set (%q) but --shards is not: pass --shards N, the Job's completions, or --shard I/N", clip(env, 40))
	case !inJob && shardsSet:
		return 0, 0, usagef("--shards %d needs the shard index: set JOB_COMPLETION_INDEX or pass --shard I/%d", shards, shards)
	case !inJob:
		return 0, 1, nil
	}
	i, err = strconv.ParseUint(strings.TrimSpace(env), 10, 64)
	if err != nil || i >= uint64(shards) {
		return 0, 0, usagef("JOB_COMPLETION_INDEX: %q is not a shard index for --shards %d (want 0..%d)", clip(env, 40), shards, shards-1)
	}
	return i, uint64(shards), nil
}

// sweepReport is run's JSON output.
type sweepReport struct {
	Outcome   string         `json:"outcome"`
	System    string         `json:"system"`
	Collector string         `json:"collector"`
	Profile   string         `json:"profile"`
	Strategy  string         `json:"strategy"`
	FirstSeed uint64         `json:"first_seed"`
	SeedsRun  uint64         `json:"seeds_run"`
	Steps     int64          `json:"steps"`
	Elapsed   float64        `json:"elapsed_seconds"`
	Shard     string         `json:"shard,omitempty"`
	Violation *seedViolation `json:"violation,omitempty"`
	// With --keep-going: how many seeds violated, and per kind how many
	// seeds showed it and the first of them.
	ViolatingSeeds uint64      `json:"violating_seeds"`
	Kinds          []kindCount `json:"kinds,omitempty"`
	// IncompleteSeeds ran out of their step budget with nothing observed;
	// FirstIncomplete is the lowest of them (with its replay line).
	IncompleteSeeds uint64          `json:"incomplete_seeds"`
	FirstIncomplete *incompleteSeed `json:"first_incomplete,omitempty"`
	// OKSeeds finished with nothing observed.
	OKSeeds uint64 `json:"ok_seeds"`
	// DeterminismChecked counts the seeds re-run by --check-determinism.
	DeterminismChecked uint64 `json:"determinism_checked,omitempty"`
	// Interrupted names the signal that stopped the sweep early
	// ("SIGINT", "SIGTERM"); SeedsPlanned is how many it was to run.
	Interrupted  string `json:"interrupted,omitempty"`
	SeedsPlanned uint64 `json:"seeds_planned"`

	lastSeed uint64 // the highest seed run
	// otherSystem is set when the system is not the default one (the text
	// report names it then).
	otherSystem bool
}

// incompleteSeed is the first seed of a sweep that ran out of its budget.
type incompleteSeed struct {
	Seed   uint64 `json:"seed"`
	Steps  int64  `json:"steps"`
	Replay string `json:"replay"`
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

// sweepOptions are run's execution options: none of them changes the
// report.
type sweepOptions struct {
	workers   int64
	keepGoing bool
	quiet     bool
	out       string    // --out FILE.jsonl, "" for none
	force     bool      // --force: overwrite --out
	saveDir   string    // --save-dir DIR, "" for none
	progress  io.Writer // where the progress bar goes, if a terminal
	check     determinismCheck
}

// add folds one seed's result into the report; seeds must come in
// ascending order.
func (rep *sweepReport) add(r *seedResult, sel *selection) {
	rep.SeedsRun++
	rep.Steps += r.Steps
	rep.lastSeed = r.Seed
	switch {
	case r.incomplete():
		rep.IncompleteSeeds++
		if rep.FirstIncomplete == nil {
			rep.FirstIncomplete = &incompleteSeed{Seed: r.Seed, Steps: r.Steps, Replay: sel.replayLine(r.Seed)}
		}
		if rep.Outcome == outcomeOK {
			rep.Outcome = outcomeIncomplete
		}
		return
	case !r.violated():
		rep.OKSeeds++
		return
	}
	rep.Outcome = outcomeViolation
	rep.ViolatingSeeds++
	rep.count(r.Kinds, r.Seed, sel)
	if rep.Violation == nil {
		rep.Violation = &seedViolation{
			Seed: r.Seed, Kind: r.Kind, Step: r.Step, Detail: r.Detail,
			TraceHash: r.TraceHash, Replay: sel.replayLine(r.Seed),
			Observations: r.Violations,
		}
	}
}

func runSweep(ctx context.Context, w io.Writer, sel *selection, cfg model.Config, sc sim.Config, plan seedPlan, opts sweepOptions) error {
	began := time.Now()
	rep := sweepReport{Outcome: outcomeOK, System: sel.system, Collector: cfg.DesignName(), Profile: sel.profile, otherSystem: sel.system != sel.env.defaultSystem, Strategy: sc.Strategy.String(),
		FirstSeed: plan.first, SeedsPlanned: plan.count()}
	if plan.shards > 1 {
		rep.Shard = fmt.Sprintf("%d/%d", plan.shard, plan.shards)
	}
	// Every output is checked before the first seed runs, so a bad path
	// cannot lose the work.
	var out *outWriter
	if opts.out != "" {
		var err error
		if out, err = createOut(opts.out, sel, plan, opts.keepGoing, opts.force); err != nil {
			return err
		}
		defer out.abort()
	}
	var saver *seedSaver
	if opts.saveDir != "" {
		var err error
		if saver, err = newSeedSaver(opts.saveDir, sel); err != nil {
			return err
		}
	}
	bar := newProgress(opts.progress, plan.count(), opts.quiet || opts.progress == nil)
	var writeErr error
	var checked atomic.Uint64
	err := sweepSeeds(ctx, plan, int(opts.workers), !opts.keepGoing, func(seed uint64) (seedResult, error) {
		o, err := runSeed(sel.sys, cfg, sc, seed)
		if err != nil {
			return seedResult{}, err
		}
		r := newSeedResult(seed, &o)
		if opts.check.due((seed - plan.first - plan.shard) / plan.shards) {
			checked.Add(1)
			obs, err := recheck(sel.sys, cfg, sc, seed, &o)
			if err != nil {
				return seedResult{}, err
			}
			if obs != nil {
				r.addObservation(*obs)
			}
		}
		return r, nil
	}, func(r seedResult) bool {
		rep.add(&r, sel)
		if out != nil && writeErr == nil {
			writeErr = out.write(&r)
		}
		if saver != nil && writeErr == nil {
			writeErr = saver.save(&r)
		}
		bar.update(rep.SeedsRun, rep.ViolatingSeeds)
		return writeErr == nil && (opts.keepGoing || !r.violated())
	})
	bar.finish()
	if err != nil {
		return err
	}
	if writeErr != nil {
		return writeErr
	}
	rep.DeterminismChecked = checked.Load()
	rep.Elapsed = time.Since(began).Seconds()
	ei, stopped := interrupted(ctx)
	if stopped && rep.SeedsRun < plan.count() && (opts.keepGoing || rep.Violation == nil) {
		rep.Interrupted = signalName(ei.sig)
	} else {
		stopped = false
	}
	if out != nil {
		if err := out.commit(&rep, plan); err != nil {
			return err
		}
	}
	if err := printReport(w, sel, &rep); err != nil && !stopped {
		return err
	}
	if stopped {
		return ei
	}
	return nil
}

// printReport prints a sweep's report as text or JSON and returns the
// error whose exit code it means: errViolation, errIncomplete or nil.
func printReport(w io.Writer, sel *selection, rep *sweepReport) error {
	if sel.asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("write JSON: %w", err)
		}
	} else {
		printSweep(w, rep)
	}
	switch {
	case rep.Violation != nil:
		return errViolation
	case rep.IncompleteSeeds > 0:
		return errIncomplete
	}
	return nil
}

// count adds a violating seed's kinds (each once) to the per-kind tally,
// kept in the order of sim.Kinds.
func (rep *sweepReport) count(kinds []sim.Kind, seed uint64, sel *selection) {
	for _, k := range kinds {
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
	// Keep the order of sim.Kinds (docs/observations.md), whatever order they
	// were found in.
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
	if fi := rep.FirstIncomplete; fi != nil {
		fmt.Fprintf(w, "WARNING: %d seeds incomplete: they ran out of the step budget (--max-steps) before finishing, so they are not clean; first: seed %d after %d steps: %s\n",
			rep.IncompleteSeeds, fi.Seed, fi.Steps, fi.Replay)
	}
	if rep.Interrupted != "" {
		fmt.Fprintf(w, "INTERRUPTED by %s after %d of %d seeds: the report covers only the seeds completed\n", rep.Interrupted, rep.SeedsRun, rep.SeedsPlanned)
	}
	seeds := fmt.Sprintf("seeds %d..%d", rep.FirstSeed, rep.lastSeed)
	if rep.SeedsRun == 0 {
		seeds = "no seeds"
	}
	if rep.Shard != "" {
		seeds += " shard " + rep.Shard
	}
	tally := fmt.Sprintf("%d run", rep.SeedsRun)
	if rep.IncompleteSeeds > 0 || rep.ViolatingSeeds > 0 {
		tally = fmt.Sprintf("%d run: %d ok, %d violating, %d incomplete", rep.SeedsRun, rep.OKSeeds, rep.ViolatingSeeds, rep.IncompleteSeeds)
	}
	if rep.DeterminismChecked > 0 {
		tally += fmt.Sprintf(", %d re-run for determinism", rep.DeterminismChecked)
	}
	system := ""
	if rep.otherSystem {
		system = "system " + rep.System + ", "
	}
	fmt.Fprintf(w, "%s: %scollector %s, profile %s, strategy %s, %s (%s), %d steps in %.3fs (%.0f steps/s)\n",
		rep.Outcome, system, rep.Collector, rep.Profile, rep.Strategy, seeds, tally,
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
