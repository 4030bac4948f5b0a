package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/snapsim/snapsim/baseline"
	"github.com/snapsim/snapsim/model/builtin"
	"github.com/snapsim/snapsim/sim"
	"github.com/spf13/cobra"
)

// benchOptions are simrun bench's flags.
type benchOptions struct {
	bugs     []string
	reps     int
	limit    time.Duration
	replays  int
	strategy sim.Strategy
	format   string
	progress io.Writer
}

// benchRow is one runner on one bug: the repetitions' times to the first
// failure, how many found it, and whether the first found failure
// reproduces.
type benchRow struct {
	Bug    string `json:"bug"`
	Runner string `json:"runner"`
	// Reps is the number of repetitions; Found how many showed the bug
	// within the limit. TimesMS holds each repetition's time to the first
	// failure (the limit for a repetition that found nothing).
	Reps    int       `json:"reps"`
	Found   int       `json:"found"`
	TimesMS []float64 `json:"times_ms"`
	// Seeds holds each repetition's seeds run (-1: not seed-based).
	Seeds []int `json:"seeds"`
	// Replays and Same: the first found failure re-run Replays times, Same
	// of them showed the same failure (the simulator: the same detail, step
	// and trace hash; a stress test: the same baseline.FailureKey, or for
	// real Pebble the same vanished file).
	Replays int    `json:"replays"`
	Same    int    `json:"same"`
	Failure string `json:"failure,omitempty"`
	Replay  string `json:"replay,omitempty"`
	// StepsPerSec and SeedsPerSec are over all repetitions' searches (0 when
	// the runner has no steps, like real Pebble).
	StepsPerSec float64 `json:"steps_per_sec"`
	SeedsPerSec float64 `json:"seeds_per_sec"`
	// Ratio is this row's median time over the simulator's on the same bug.
	Ratio float64 `json:"ratio"`
	// Interrupted is set when a signal cut the row short: Reps is then the
	// number of repetitions completed.
	Interrupted bool `json:"interrupted,omitempty"`
	// Censored is set when the median is at the limit (fewer than half the
	// repetitions found the bug): the true median is larger.
	Censored bool `json:"censored"`
}

func newBenchCmd() *cobra.Command {
	var o benchOptions
	var bugs, strategy string
	var reps, replays int64
	var quiet bool
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Simulator vs goroutine stress test: time to the first failure and reproduction, side by side",
		Long: `bench measures, for the report's bug and three deep bugs of the model, how
long the simulator needs to find it and how long the stress test a user would
otherwise write needs, in the same process run:

  simulator                 seeds 1, 2, ... (repetition r starts at seed
                            r*1000000+1) under the deterministic kernel and
                            the chosen strategy, until the bug shows;
  stress: real Pebble       (naive only) pebble.Open on a temp dir, Flush and
                            Compact goroutines, and a generator that lists
                            DB.SSTables() then opens each file (package
                            baseline, Run);
  stress: model goroutines  the model's own actors as free goroutines over
                            the OS filesystem in a temp dir: the same code,
                            interleaved by the Go scheduler and real time
                            instead of ours (sim free mode).

Each runner first makes one untimed warm-up run (so the first repetition
does not pay the process's one-off start-up costs), then repeats --reps
times, each stopping at the first failure or --limit.
The table gives the median time to the first failure (min … max), seeds run,
steps/s and seeds/s over all searches, and the ratio of each stress test's
median to the simulator's. The first failure found is then re-run --replays
times: a simulator replay must show the same failure at the same step with
the same trace hash; a stress re-run counts when it fails the same way (the
same kind, the same file deleted by the same cause, whatever the step or
time at which it happened). A median marked ">" is censored: fewer than
half of the repetitions found the bug within --limit.

Bugs: ` + benchBugList() + `.

Wall-clock figures depend on the machine; the simulator's seeds and replays
do not. Exit codes: 0 when the measurement completed, 2 bad usage,
130/143 interrupted by SIGINT/SIGTERM: the running search stops, the rows
of the repetitions completed are printed (marked partial), and every
temporary directory is removed.`,
		Example: `  simrun bench
  simrun bench --reps 3 --limit 10s
  simrun bench --bugs naive,lease-stall --format markdown
  simrun bench --strategy pct --format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.bugs, err = parseList("--bugs", bugs, benchBugNames()); err != nil {
				return err
			}
			if len(o.bugs) == 0 {
				o.bugs = benchBugNames()
			}
			if reps < 1 || reps > 1000 {
				return usagef("--reps: %d is out of range (want 1..1000)", reps)
			}
			if replays < 0 || replays > 1000 {
				return usagef("--replays: %d is out of range (want 0..1000)", replays)
			}
			if o.limit <= 0 || o.limit > 24*time.Hour {
				return usagef("--limit: %v is out of range (want a duration in (0, 24h], e.g. 60s)", o.limit)
			}
			st, serr := sim.ParseStrategy(strategy)
			if serr != nil || st.Name == "replay" {
				return usagef("--strategy: %q is not a search strategy (want random, pct or pct:DEPTH)", clip(strategy, 60))
			}
			switch o.format {
			case "table", "markdown", "json":
			default:
				return usagef("--format: %q is not a format (want table, markdown or json)", clip(o.format, 60))
			}
			o.reps, o.replays, o.strategy = int(reps), int(replays), st
			if !quiet {
				o.progress = cmd.ErrOrStderr()
			}
			rows, err := runBench(cmd.Context(), o)
			if err != nil {
				return err
			}
			if err := writeBench(cmd.OutOrStdout(), o, rows); err != nil {
				return err
			}
			if ei, ok := interrupted(cmd.Context()); ok {
				fmt.Fprintf(cmd.OutOrStdout(), "\nPARTIAL: interrupted by %s; each row's FOUND column counts the repetitions it completed\n", signalName(ei.sig))
				return ei
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&bugs, "bugs", "", "comma-separated bugs (default all: "+strings.Join(benchBugNames(), ",")+")")
	f.Var(newIntValue(&reps, 5), "reps", "repetitions per runner; medians, min and max are over these")
	f.DurationVar(&o.limit, "limit", 60*time.Second, "time limit of one repetition's search (Go duration)")
	f.Var(newIntValue(&replays, 10), "replays", "re-runs of the first failure found, to measure reproduction")
	f.StringVar(&strategy, "strategy", "random", "the simulator's strategy: random, pct or pct:DEPTH")
	f.StringVar(&o.format, "format", "table", "output format: table, markdown or json (one object per row)")
	f.BoolVar(&quiet, "quiet", false, "no progress lines (one per repetition) on stderr")
	return cmd
}

func benchBugNames() []string {
	var names []string
	for _, b := range baseline.Bugs() {
		names = append(names, b.Name)
	}
	return names
}

func benchBugList() string {
	var parts []string
	for _, b := range baseline.Bugs() {
		parts = append(parts, b.Name+" ("+b.Title+")")
	}
	return strings.Join(parts, "; ")
}

// runBench measures every selected bug with every runner.
func runBench(ctx context.Context, o benchOptions) ([]benchRow, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	var rows []benchRow
	for _, name := range o.bugs {
		bug, ok := baseline.BugByName(name)
		if !ok {
			return nil, usagef("--bugs: unknown bug %q", clip(name, 60))
		}
		simRow, err := benchSimulator(ctx, bug, o)
		if err != nil {
			return nil, err
		}
		rows = append(rows, simRow)
		if ctx.Err() != nil {
			return rows, nil
		}
		if bug.Name == "naive" {
			r, err := benchPebble(ctx, o)
			if err != nil {
				return nil, err
			}
			rows = append(rows, r)
			if ctx.Err() != nil {
				return rows, nil
			}
		}
		r, err := benchFree(ctx, bug, o)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
		for i := range rows {
			if rows[i].Bug == bug.Name {
				rows[i].Ratio = median(rows[i].TimesMS) / median(simRow.TimesMS)
			}
		}
	}
	return rows, nil
}

func (o benchOptions) note(format string, args ...any) {
	if o.progress != nil {
		fmt.Fprintf(o.progress, "bench: "+format+"\n", args...)
	}
}

// benchSimulator searches seeds with the deterministic kernel.
func benchSimulator(ctx context.Context, bug baseline.Bug, o benchOptions) (benchRow, error) {
	row := benchRow{Bug: bug.Name, Runner: "simulator (" + o.strategy.String() + ")", Reps: o.reps, Replays: o.replays}
	sc := sim.Config{Strategy: o.strategy, StopOnViolation: true, MaxSteps: sim.DefaultMaxSteps}
	// Warm-up, untimed: 200 seeds in a window no repetition uses, so the
	// first repetitions do not pay the process's start-up costs (heap
	// growth and GC pacing, page faults); measured, a cold process's first
	// searches run about 3× slower than the same searches repeated.
	for seed := uint64(warmupFirstSeed); seed < warmupFirstSeed+200 && ctx.Err() == nil; seed++ {
		if _, err := runSeed(benchSystem, bug.Config, sc, seed); err != nil {
			return row, fmt.Errorf("bench %s warm-up: %w", bug.Name, err)
		}
	}
	first, err := benchReps(ctx, &row, o, "simulator", func(firstSeed uint64) (baseline.SearchResult, error) {
		return baseline.SimSearch(ctx, bug, o.strategy, firstSeed, o.limit)
	})
	if err != nil {
		return row, err
	}
	row.Censored = censored(row)
	if !first.Found {
		return row, nil
	}
	row.Failure = string(first.Obs.Kind) + ": " + first.Obs.Detail
	row.Replay = fmt.Sprintf("simrun replay %s --seed %d", bug.Flags, first.Seed)
	if o.strategy.Name != "random" {
		row.Replay += " --strategy " + o.strategy.String()
	}
	for i := 0; i < o.replays && ctx.Err() == nil; i++ {
		out, err := runSeed(benchSystem, bug.Config, sc, first.Seed)
		if err != nil {
			return row, fmt.Errorf("bench %s replay: %w", bug.Name, err)
		}
		if obs, ok := bug.Hit(out.Result.Observations); ok && obs.Detail == first.Obs.Detail &&
			obs.Step == first.Obs.Step && out.Result.TraceHash == first.TraceHash {
			row.Same++
		}
	}
	return row, nil
}

// benchReps runs o.reps searches (repetition r from seed r*1000000+1),
// records each one's time to the first failure and seeds in row, the
// steps/s and seeds/s over all of them, and returns the first search that
// found the bug.
//
// A repetition cut short by ctx (a signal) without finding the bug is
// dropped, and no further one starts: row.Reps is then the number
// completed and row.Interrupted is set.
func benchReps(ctx context.Context, row *benchRow, o benchOptions, runner string, search func(firstSeed uint64) (baseline.SearchResult, error)) (baseline.SearchResult, error) {
	var first baseline.SearchResult
	var steps int64
	var seeds int
	var wall time.Duration
	for r := 0; r < o.reps; r++ {
		if ctx.Err() != nil {
			row.Reps, row.Interrupted = r, true
			break
		}
		res, err := search(uint64(r)*1_000_000 + 1)
		if err != nil {
			return first, fmt.Errorf("bench, %s: %w", row.Runner, err)
		}
		if ctx.Err() != nil && !res.Found {
			row.Reps, row.Interrupted = r, true
			break
		}
		steps += res.Steps
		seeds += res.Seeds
		wall += res.Elapsed
		row.Seeds = append(row.Seeds, res.Seeds)
		if res.Found {
			row.Found++
			row.TimesMS = append(row.TimesMS, ms(res.Elapsed))
			if !first.Found {
				first = res
			}
		} else {
			row.TimesMS = append(row.TimesMS, ms(o.limit))
		}
		o.note("%s %s rep %d: found=%v in %v after %d seeds", row.Bug, runner, r+1, res.Found, res.Elapsed.Round(time.Microsecond), res.Seeds)
	}
	if wall > 0 {
		row.StepsPerSec, row.SeedsPerSec = float64(steps)/wall.Seconds(), float64(seeds)/wall.Seconds()
	}
	return first, nil
}

// benchPebble runs the real-Pebble stress test for the shallow bug.
func benchPebble(ctx context.Context, o benchOptions) (benchRow, error) {
	row := benchRow{Bug: "naive", Runner: "stress: real Pebble", Reps: o.reps, Replays: o.replays}
	var first baseline.Result
	var firstSeed int64
	// Warm-up, untimed, as for the simulator.
	if _, err := baseline.Run(ctx, baseline.Options{TimeLimit: min(o.limit, 2*time.Second), Seed: 0}); err != nil {
		return row, fmt.Errorf("bench naive, real Pebble warm-up: %w", err)
	}
	for r := 0; r < o.reps; r++ {
		if ctx.Err() != nil {
			row.Reps, row.Interrupted = r, true
			break
		}
		seed := int64(r + 1)
		res, err := baseline.Run(ctx, baseline.Options{TimeLimit: o.limit, Seed: seed})
		if err != nil {
			return row, fmt.Errorf("bench naive, real Pebble: %w", err)
		}
		if ctx.Err() != nil && !res.Found {
			row.Reps, row.Interrupted = r, true
			break
		}
		row.Seeds = append(row.Seeds, -1)
		if res.Found {
			row.Found++
			row.TimesMS = append(row.TimesMS, ms(res.Elapsed))
			if first.File == "" {
				first, firstSeed = res, seed
			}
		} else {
			row.TimesMS = append(row.TimesMS, ms(o.limit))
		}
		o.note("naive real Pebble rep %d: found=%v in %v", r+1, res.Found, res.Elapsed.Round(time.Microsecond))
	}
	if row.Found > 0 {
		row.Failure = "ENOENT: open " + filepath.Base(first.File)
		row.Replay = fmt.Sprintf("baseline.Run(Options{Seed: %d}) (no replay: the interleaving is the OS scheduler's)", firstSeed)
		for i := 0; i < o.replays && ctx.Err() == nil; i++ {
			res, err := baseline.Run(ctx, baseline.Options{TimeLimit: o.limit, Seed: firstSeed})
			if err != nil {
				return row, fmt.Errorf("bench naive, real Pebble re-run: %w", err)
			}
			if res.Found && filepath.Base(res.File) == filepath.Base(first.File) {
				row.Same++
			}
		}
	}
	row.Censored = censored(row)
	return row, nil
}

// benchFree runs the model's own actors as free goroutines.
func benchFree(ctx context.Context, bug baseline.Bug, o benchOptions) (benchRow, error) {
	row := benchRow{Bug: bug.Name, Runner: "stress: model goroutines", Reps: o.reps, Replays: o.replays}
	// Warm-up, untimed: one free-mode seed.
	dir, err := os.MkdirTemp("", fmt.Sprintf("snapsim-bench-%d-", os.Getpid()))
	if err != nil {
		return row, fmt.Errorf("bench %s, free goroutines warm-up: %w", bug.Name, err)
	}
	_, err = baseline.FreeRun(bug.Config, warmupFirstSeed, dir, sim.DefaultMaxSteps)
	os.RemoveAll(dir)
	if err != nil {
		return row, fmt.Errorf("bench %s, free goroutines warm-up: %w", bug.Name, err)
	}
	first, err := benchReps(ctx, &row, o, "model goroutines", func(firstSeed uint64) (baseline.SearchResult, error) {
		return baseline.FreeSearch(ctx, bug, firstSeed, o.limit)
	})
	if err != nil {
		return row, err
	}
	if first.Found {
		row.Failure = string(first.Obs.Kind) + ": " + first.Obs.Detail
		row.Replay = fmt.Sprintf("workload seed %d in free mode (no replay: the interleaving is the Go scheduler's)", first.Seed)
		replays := o.replays
		if ctx.Err() != nil {
			replays = 0
		}
		same, err := baseline.FreeReproduce(bug, first.Seed, first.Obs, replays)
		if err != nil {
			return row, fmt.Errorf("bench %s, free goroutines re-run: %w", bug.Name, err)
		}
		row.Same = same
	}
	row.Censored = censored(row)
	return row, nil
}

// warmupFirstSeed starts the untimed warm-up window, far from the
// repetitions' windows (repetition r starts at r*1000000+1).
const warmupFirstSeed = 900_000_000_001

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// censored reports whether the median includes repetitions stopped by the
// limit (fewer than half found the bug).
func censored(r benchRow) bool { return 2*r.Found <= r.Reps && r.Found < r.Reps }

func fmtMS(x float64) string {
	switch {
	case x >= 10000:
		return fmt.Sprintf("%.0fs", x/1000)
	case x >= 1000:
		return fmt.Sprintf("%.2fs", x/1000)
	case x >= 100:
		return fmt.Sprintf("%.0fms", x)
	case x >= 10:
		return fmt.Sprintf("%.1fms", x)
	default:
		return fmt.Sprintf("%.2fms", x)
	}
}

func fmtRate(x float64) string {
	switch {
	case x == 0:
		return "-"
	case x >= 1e6:
		return fmt.Sprintf("%.2fM", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%.1fk", x/1e3)
	default:
		return fmt.Sprintf("%.1f", x)
	}
}

func (r benchRow) timeText() string {
	if len(r.TimesMS) == 0 {
		return "- (no repetition completed)"
	}
	lo, hi := slices.Min(r.TimesMS), slices.Max(r.TimesMS)
	m := fmtMS(median(r.TimesMS))
	if r.Censored {
		m = ">" + m
	}
	return fmt.Sprintf("%s (%s … %s)", m, fmtMS(lo), fmtMS(hi))
}

func (r benchRow) seedsText() string {
	if len(r.Seeds) == 0 {
		return "-"
	}
	var ns []float64
	for _, n := range r.Seeds {
		if n < 0 {
			return "-"
		}
		ns = append(ns, float64(n))
	}
	return fmt.Sprintf("%.0f", median(ns))
}

func (r benchRow) sameText() string {
	if r.Found == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", r.Same, r.Replays)
}

func (r benchRow) ratioText() string {
	if strings.HasPrefix(r.Runner, "simulator") {
		return "1×"
	}
	s := fmt.Sprintf("%.1f×", r.Ratio)
	if r.Ratio >= 100 {
		s = fmt.Sprintf("%.0f×", r.Ratio)
	}
	if r.Censored {
		s = ">" + s
	}
	return s
}

func machineLine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s/%s, %d CPUs (GOMAXPROCS %d), %s, %s", runtime.GOOS, runtime.GOARCH,
		runtime.NumCPU(), runtime.GOMAXPROCS(0), cpu, runtime.Version())
}

var benchHeader = []string{"BUG", "RUNNER", "FOUND", "TIME TO FIRST median (min … max)", "SEEDS (median)", "SAME ON RE-RUN", "STEPS/S", "SEEDS/S", "RATIO"}

func (r benchRow) cells() []string {
	return []string{r.Bug, r.Runner, fmt.Sprintf("%d/%d", r.Found, r.Reps), r.timeText(), r.seedsText(),
		r.sameText(), fmtRate(r.StepsPerSec), fmtRate(r.SeedsPerSec), r.ratioText()}
}

func writeBench(w io.Writer, o benchOptions, rows []benchRow) error {
	switch o.format {
	case "json":
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	case "markdown":
		fmt.Fprintf(w, "Machine: %s. %d repetitions per runner, limit %v, %d re-runs of the first failure.\n\n", machineLine(), o.reps, o.limit, o.replays)
		fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(benchHeader, " | "), strings.Repeat("---|", len(benchHeader)))
		for _, r := range rows {
			fmt.Fprintf(w, "| %s |\n", strings.Join(r.cells(), " | "))
		}
	default:
		fmt.Fprintf(w, "simrun bench: %d repetitions per runner, limit %v, %d re-runs of the first failure\n", o.reps, o.limit, o.replays)
		fmt.Fprintf(w, "machine: %s\n\n", machineLine())
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(benchHeader, "\t"))
		for _, r := range rows {
			fmt.Fprintln(tw, strings.Join(r.cells(), "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nFirst failure found by each runner:")
	for _, r := range rows {
		if r.Failure != "" {
			fmt.Fprintf(w, "  %-13s %-26s %s\n  %-13s %-26s %s\n", r.Bug, r.Runner, oneLine(r.Failure), "", "", r.Replay)
		}
	}
	return nil
}

// benchSystem is the system bench runs: the built-in TiKV-like cluster.
// bench is TiKV's: its yardsticks (package baseline) are stress tests of
// that cluster against real goroutines, so it takes no --system.
var benchSystem = builtin.TiKV()
