package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
	"github.com/spf13/cobra"
)

// defaultValidateSeeds makes the default validation (36 cells) take about
// a minute on a 2-core machine.
const defaultValidateSeeds = 3000

func newValidateCmd(e *env) *cobra.Command {
	var workers, checkEvery int64
	var expectPath, recordPath string
	var force bool
	sel := selection{env: e}
	var seeds int64
	var start, collectors, profiles, format string
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Measure the design-validation matrix: every collector under every profile over N seeds",
		Long: `validate runs every selected collector under every selected workload
profile (a cell) over seeds START..START+N-1 and reports, per cell:

  - violating seeds, and the seeds that showed each violation kind;
  - seeds to the first violation: the index (from START, 0-based) of the
    first violating seed, or none;
  - retries p50/p99: attempts-1 over snapshots whose files were built
    (generated, sent, applied or rejected);
  - snapshot latency p50/p99 in virtual time, request to final state, over
    snapshots that ended applied, failed or rejected;
  - peak obsolete-but-pinned bytes on the leader (max over seeds): files
    out of the current version that a version reference, a lease or
    disabled deletions keep from GC;
  - applied: the share of requested snapshots that ended applied by the
    learner (not merely final: rejected, failed, skipped and aborted ones
    are not);
  - one replay command per violation kind (its first seed).

Each seed runs like 'simrun run': it stops at its first violating step, so
kinds are counted up to each seed's first violation. A seed that runs out
of its step budget (--max-steps) with nothing observed is counted as
incomplete, apart from the violating and clean seeds, with a warning.

Cells run in parallel (--workers, default one per CPU); the output is in cell order and is the
same for the same flags, except the timings.

Formats: table (aligned text, then the replay commands), markdown (a table
for the README, then the replay commands), json (one JSON object per cell,
JSON lines, every kind present with zeros), csv (a header, then one row per
cell, every kind as a column).

With --record FILE the matrix is also written as an expectation: for every
cell and kind, whether it is at zero or caught, and for every cell a floor
under its applied share (90% of the measured share). With --expect FILE
(flags as recorded) validate becomes a regression check: a cell that must
stay at zero and shows the kind (a protection weakened), a caught cell that
no longer shows it (a negative control went blind), or a cell whose applied
share fell under its floor (a design that ships less than it did) is a
REGRESSION line and exit 1. Counts may move; only zero against caught, and
the applied floors, are compared.

Exit codes: 0 when the validation completed, whatever it observed (it is a
measurement, not a test: 'simrun run' is the test), or with --expect when
every recorded cell held; 1 with --expect when a cell regressed; 2 bad
usage or input,
130/143 interrupted by SIGINT/SIGTERM: every cell stops after the seed it
is running, and the matrix of the seeds completed is printed, marked
partial (a second signal aborts).`,
		Example: `  simrun validate
  simrun validate --format markdown
  simrun validate --collectors naive,lease-retry --profiles default,slow-disk --seeds 100 --format json
  simrun validate --strategy pct:3 --seed 1000 --seeds 50`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if workers < 1 || workers > 4096 {
				return usagef("--workers: %d is out of range (want 1..4096)", workers)
			}
			if checkEvery < 0 || checkEvery > 1e12 {
				return usagef("--check-determinism: %d is out of range (want 1 for every seed, N for every Nth, 0 for off)", checkEvery)
			}
			return runValidate(cmd.Context(), cmd.OutOrStdout(), &sel, validateOptions{seeds: seeds, start: start, collectors: collectors,
				profiles: profiles, format: format, workers: int(workers), check: determinismCheck{every: uint64(checkEvery)},
				expect: expectPath, record: recordPath, force: force, notes: cmd.ErrOrStderr()})
		},
	}
	f := cmd.Flags()
	f.Var(newIntValue(&seeds, defaultValidateSeeds), "seeds", "seeds per cell (decimal or 0x-hex)")
	f.StringVar(&start, "seed", "1", "first seed of every cell (decimal or 0x-hex)")
	f.StringVar(&collectors, "collectors", "", "comma-separated collectors (default all of the system's; tikv: "+strings.Join(collectorOrder(e.defaultSpec()), ",")+")")
	f.StringVar(&profiles, "profiles", "", "comma-separated profiles (default all of the system's; tikv: "+strings.Join(profileOrder(e.defaultSpec()), ",")+")")
	sel.registerSystem(f)
	f.Var(newIntValue(&workers, int64(runtime.GOMAXPROCS(0))), "workers", "cells run in parallel on this many goroutines; the output is the same for any number")
	f.StringVar(&format, "format", "table", "output format: table, markdown, json or csv")
	f.StringVar(&sel.strategy, "strategy", "random", "scheduling strategy: random, pct or pct:DEPTH")
	sel.registerTiKV(f)
	f.Var(newIntValue(&sel.maxSteps, sim.DefaultMaxSteps), "max-steps", "step budget per seed (decimal or 0x-hex)")
	addCheckDeterminismFlag(cmd, &checkEvery)
	f.StringVar(&expectPath, "expect", "", "compare the matrix with a recorded one (FILE written by --record): exit 1 if a cell at zero shows a kind or a caught cell no longer does")
	f.StringVar(&recordPath, "record", "", "write the measured matrix as an expectation FILE for --expect (which cells are at zero, which caught)")
	f.BoolVar(&force, "force", false, "overwrite the --record file if it exists")
	return cmd
}

// validateOptions are validate's flags besides the variant selection.
type validateOptions struct {
	seeds                       int64
	start, collectors, profiles string
	format                      string
	workers                     int
	check                       determinismCheck
	// expect and record are the --expect and --record files ("" for
	// none); notes receives the comparison when stdout is JSON or CSV.
	expect, record string
	force          bool
	notes          io.Writer
}

// collectorOrder lists the system's collectors in docs/matrix.md's order
// (any other after them, sorted).
func collectorOrder(spec model.Spec) []string {
	out := []string{}
	names := model.Names(spec.Designs)
	for _, n := range []string{"naive", "retry", "pin", "lease", "lease-retry", "checkpoint", "scan"} {
		if slices.Contains(names, n) {
			out = append(out, n)
		}
	}
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// profileOrder lists the system's profiles in documented order.
func profileOrder(spec model.Spec) []string { return model.Names(spec.Profiles) }

// parseList splits a comma-separated list of names, checking each against
// valid; empty means all of valid.
func parseList(flag, s string, valid []string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return valid, nil
	}
	var out []string
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		if !slices.Contains(valid, n) {
			return nil, usagef("%s: %q is not one of %s", flag, clip(n, 60), strings.Join(valid, ", "))
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// validCell is one collector × profile measurement; its JSON is one line
// of validate's json output.
type validCell struct {
	Collector      string `json:"collector"`
	Profile        string `json:"profile"`
	Strategy       string `json:"strategy"`
	FirstSeed      uint64 `json:"first_seed"`
	Seeds          uint64 `json:"seeds"`
	ViolatingSeeds uint64 `json:"violating_seeds"`
	// Kinds holds, for every kind of sim.Kinds, the seeds that showed it.
	Kinds map[sim.Kind]uint64 `json:"kinds"`
	// FirstViolation is the 0-based index from FirstSeed of the first
	// violating seed; nil when none violated.
	FirstViolation *uint64 `json:"first_violation_index"`
	// IncompleteSeeds ran out of their step budget with nothing observed;
	// FirstIncomplete is the 0-based index of the first (nil: none).
	IncompleteSeeds uint64  `json:"incomplete_seeds"`
	FirstIncomplete *uint64 `json:"first_incomplete_index"`
	// DeterminismChecked counts the seeds re-run by --check-determinism.
	DeterminismChecked uint64 `json:"determinism_checked"`
	// Interrupted is set when a signal stopped the cell before its last
	// seed: Seeds is then the number that completed.
	Interrupted  bool  `json:"interrupted,omitempty"`
	RetriesP50   int   `json:"retries_p50"`
	RetriesP99   int   `json:"retries_p99"`
	LatencyP50US int64 `json:"latency_p50_us"`
	LatencyP99US int64 `json:"latency_p99_us"`
	PeakPinned   int64 `json:"peak_pinned_bytes"`
	// Requested and Applied count the snapshots requested over every seed
	// and those that ended applied by the learner (not merely final: a
	// rejected, failed, skipped or aborted snapshot is not applied). A
	// design that ships less than it claims (a build on a stale epoch,
	// rejected by the learner) shows here and in no violation kind.
	Requested uint64 `json:"snapshots_requested"`
	Applied   uint64 `json:"snapshots_applied"`
	// Replays holds one replay command per kind seen, for its first seed.
	Replays map[sim.Kind]string `json:"replays"`
	Steps   int64               `json:"steps"`
	Elapsed float64             `json:"elapsed_seconds"`
}

func runValidate(ctx context.Context, w io.Writer, base *selection, o validateOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	seeds, start, collectors, profiles, format, workers := o.seeds, o.start, o.collectors, o.profiles, o.format, o.workers
	if err := base.lookup(); err != nil {
		return err
	}
	spec := base.sys.Spec()
	cs, err := parseList("--collectors", collectors, collectorOrder(spec))
	if err != nil {
		return err
	}
	ps, err := parseList("--profiles", profiles, profileOrder(spec))
	if err != nil {
		return err
	}
	switch format {
	case "table", "markdown", "json", "csv":
	default:
		return usagef("--format: %q is not a format (want table, markdown, json or csv)", clip(format, 60))
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
	// The regression files are checked before any seed runs.
	settings := expectSettings(base, seeds, first)
	var exp *matrixExpectation
	if o.expect != "" {
		if exp, err = loadExpectation(o.expect); err != nil {
			return err
		}
		if err := exp.checkSettings(settings); err != nil {
			return err
		}
	}
	if o.record != "" {
		if err := checkOutput("--record", o.record, o.force); err != nil {
			return err
		}
	}
	type job struct {
		sel *selection
		cfg model.Config
		sc  sim.Config
	}
	var jobs []job
	for _, c := range cs {
		for _, p := range ps {
			s := *base
			s.collector, s.profile = c, p
			cfg, sc, err := s.resolve()
			if err != nil {
				return err
			}
			jobs = append(jobs, job{&s, cfg, sc})
		}
	}
	began := time.Now()
	cells := make([]validCell, len(jobs))
	errs := make([]error, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(jobs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				cells[i], errs[i] = measureCell(ctx, jobs[i].sel, jobs[i].cfg, jobs[i].sc, first, uint64(seeds), o.check)
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	elapsed := time.Since(began).Seconds()
	ei, stopped := interrupted(ctx)
	stopped = stopped && slices.ContainsFunc(cells, func(c validCell) bool { return c.Interrupted })
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		for i := range cells {
			if err := enc.Encode(&cells[i]); err != nil {
				return fmt.Errorf("write JSON: %w", err)
			}
		}
	case "csv":
		if err := writeValidateCSV(w, cells); err != nil {
			return err
		}
	case "markdown":
		writeValidateMarkdown(w, cells, elapsed)
	default:
		writeValidateTable(w, cells, elapsed)
	}
	if format == "table" || format == "markdown" {
		writeValidateWarnings(w, cells, stopped, ei)
	}
	if stopped {
		// A partial matrix is neither recorded nor compared.
		return ei
	}
	if o.record != "" {
		if err := writeFileAtomic("--record", o.record, renderExpectation(cells, settings), o.force); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nrecorded the matrix of %d cells in %s\n", len(cells), o.record)
	}
	if exp != nil {
		out := w
		if (format == "json" || format == "csv") && o.notes != nil {
			out = o.notes
		}
		regs, unrecorded := exp.compare(cells)
		return exp.writeComparison(out, regs, unrecorded, len(cells)*len(sim.Kinds)-countUnrecorded(exp, cells))
	}
	return nil
}

// countUnrecorded counts the measured cell kinds the expectation lacks.
func countUnrecorded(e *matrixExpectation, cells []validCell) int {
	n := 0
	for i := range cells {
		for _, k := range sim.Kinds {
			if _, ok := e.cells[cellKey(cells[i].Collector, cells[i].Profile, k)]; !ok {
				n++
			}
		}
	}
	return n
}

// writeValidateWarnings says which cells had incomplete seeds and whether
// the matrix is partial.
func writeValidateWarnings(w io.Writer, cells []validCell, stopped bool, ei errInterrupted) {
	for i := range cells {
		c := &cells[i]
		if c.IncompleteSeeds > 0 {
			fmt.Fprintf(w, "WARNING: %s × %s: %d seeds incomplete (ran out of --max-steps before finishing; counted neither clean nor violating), first at index %d\n",
				c.Collector, c.Profile, c.IncompleteSeeds, *c.FirstIncomplete)
		}
	}
	if stopped {
		fmt.Fprintf(w, "PARTIAL: interrupted by %s; each cell's SEEDS column is the number of seeds it completed\n", signalName(ei.sig))
	}
}

// measureCell runs seeds first..first+n-1 of one cell, stopping after the
// seed it is running when ctx is cancelled.
func measureCell(ctx context.Context, sel *selection, cfg model.Config, sc sim.Config, first, n uint64, check determinismCheck) (validCell, error) {
	began := time.Now()
	cell := validCell{Collector: sel.collector, Profile: sel.profile, Strategy: sc.Strategy.String(),
		FirstSeed: first, Kinds: map[sim.Kind]uint64{}, Replays: map[sim.Kind]string{}}
	for _, k := range sim.Kinds {
		cell.Kinds[k] = 0
	}
	var retries []int
	var latencies []int64
	for i := uint64(0); i < n; i++ {
		if ctx.Err() != nil {
			cell.Interrupted = true
			break
		}
		seed := first + i
		out, err := runSeed(sel.sys, cfg, sc, seed)
		if err != nil {
			return cell, err
		}
		if check.due(i) {
			cell.DeterminismChecked++
			obs, err := recheck(sel.sys, cfg, sc, seed, &out)
			if err != nil {
				return cell, err
			}
			if obs != nil {
				out.Result.Observations = append(out.Result.Observations, *obs)
			}
		}
		cell.Seeds++
		cell.Steps += out.Result.Steps
		cell.PeakPinned = max(cell.PeakPinned, out.PeakPinnedBytes)
		for _, t := range out.Tasks {
			cell.Requested++
			if t.Succeeded {
				cell.Applied++
			}
			if t.Built {
				retries = append(retries, t.Attempts-1)
			}
			if t.Settled {
				latencies = append(latencies, int64(t.Latency))
			}
		}
		if outcomeWord(&out) == outcomeIncomplete {
			cell.IncompleteSeeds++
			if cell.FirstIncomplete == nil {
				idx := i
				cell.FirstIncomplete = &idx
			}
		}
		if !out.Violated() {
			continue
		}
		cell.ViolatingSeeds++
		if cell.FirstViolation == nil {
			idx := i
			cell.FirstViolation = &idx
		}
		for _, k := range sim.Kinds {
			if !slices.ContainsFunc(out.Result.Observations, func(o sim.Observation) bool { return o.Kind == k }) {
				continue
			}
			if cell.Kinds[k] == 0 {
				cell.Replays[k] = sel.replayLine(seed)
			}
			cell.Kinds[k]++
		}
	}
	cell.RetriesP50, cell.RetriesP99 = percentile(retries, 50), percentile(retries, 99)
	cell.LatencyP50US, cell.LatencyP99US = percentile(latencies, 50), percentile(latencies, 99)
	cell.Elapsed = time.Since(began).Seconds()
	return cell, nil
}

// percentile is the nearest-rank p-th percentile of xs (0 when empty).
func percentile[T int | int64](xs []T, p int) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100
	return s[max(rank, 1)-1]
}

func (c *validCell) firstText() string {
	if c.FirstViolation == nil {
		return "none"
	}
	return strconv.FormatUint(*c.FirstViolation, 10)
}

// kindsText is "0" or "176 (open-deleted-file 176, panic 176)".
func (c *validCell) kindsText() string {
	var parts []string
	for _, k := range sim.Kinds {
		if n := c.Kinds[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", c.ViolatingSeeds, strings.Join(parts, ", "))
}

// appliedPermille is the share of requested snapshots that ended applied,
// in parts per thousand (1000 when none was requested).
func (c *validCell) appliedPermille() uint64 {
	if c.Requested == 0 {
		return 1000
	}
	return c.Applied * 1000 / c.Requested
}

// appliedText is "86.9%".
func (c *validCell) appliedText() string { return permilleText(c.appliedPermille()) }

// permilleText renders parts per thousand as a percentage, "86.9%".
func permilleText(p uint64) string { return fmt.Sprintf("%d.%d%%", p/10, p%10) }

func (c *validCell) latencyText() string {
	return sim.Micros(c.LatencyP50US).String() + " / " + sim.Micros(c.LatencyP99US).String()
}

func (c *validCell) replayLines() []string {
	var out []string
	for _, k := range sim.Kinds {
		if r, ok := c.Replays[k]; ok {
			out = append(out, fmt.Sprintf("%s × %s, %s: %s", c.Collector, c.Profile, k, r))
		}
	}
	return out
}

func validateSummary(cells []validCell, elapsed float64) string {
	if len(cells) == 0 {
		return ""
	}
	c := cells[0]
	return fmt.Sprintf("%d cells, %d seeds each (seeds %d..%d), strategy %s; elapsed %.1fs",
		len(cells), c.Seeds, c.FirstSeed, c.FirstSeed+c.Seeds-1, c.Strategy, elapsed)
}

func writeValidateTable(w io.Writer, cells []validCell, elapsed float64) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COLLECTOR\tPROFILE\tSEEDS\tVIOLATING\tINCOMPLETE\tFIRST\tKINDS\tRETRIES p50/p99\tLATENCY p50/p99\tPEAK PINNED\tAPPLIED")
	for i := range cells {
		c := &cells[i]
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%d / %d\t%s\t%d B\t%s\n", c.Collector, c.Profile, c.Seeds, c.ViolatingSeeds,
			c.IncompleteSeeds, c.firstText(), c.kindsText(), c.RetriesP50, c.RetriesP99, c.latencyText(), c.PeakPinned, c.appliedText())
	}
	tw.Flush()
	writeReplays(w, cells, "")
	fmt.Fprintln(w)
	fmt.Fprintln(w, validateSummary(cells, elapsed))
}

func writeReplays(w io.Writer, cells []validCell, bullet string) {
	var lines []string
	for i := range cells {
		lines = append(lines, cells[i].replayLines()...)
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "replay (first seed of each kind):")
	if bullet != "" {
		fmt.Fprintln(w)
	}
	for _, l := range lines {
		if bullet != "" {
			k, cmd, _ := strings.Cut(l, ": ")
			fmt.Fprintf(w, "%s%s: `%s`\n", bullet, k, cmd)
		} else {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
}

func writeValidateMarkdown(w io.Writer, cells []validCell, elapsed float64) {
	fmt.Fprintln(w, "| collector | profile | violating seeds (per kind) | incomplete | first | retries p50/p99 | latency p50/p99 | peak pinned | applied |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for i := range cells {
		c := &cells[i]
		fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %d / %d | %s | %d B | %s |\n", c.Collector, c.Profile, c.kindsText(),
			c.IncompleteSeeds, c.firstText(), c.RetriesP50, c.RetriesP99, c.latencyText(), c.PeakPinned, c.appliedText())
	}
	writeReplays(w, cells, "- ")
	fmt.Fprintln(w)
	fmt.Fprintln(w, validateSummary(cells, elapsed))
}

func writeValidateCSV(w io.Writer, cells []validCell) error {
	cw := csv.NewWriter(w)
	header := []string{"collector", "profile", "strategy", "first_seed", "seeds", "violating_seeds", "first_violation_index", "incomplete_seeds"}
	for _, k := range sim.Kinds {
		header = append(header, string(k))
	}
	header = append(header, "retries_p50", "retries_p99", "latency_p50_us", "latency_p99_us", "peak_pinned_bytes", "snapshots_requested", "snapshots_applied")
	for _, k := range sim.Kinds {
		header = append(header, "replay_"+string(k))
	}
	header = append(header, "steps", "elapsed_seconds")
	cw.Write(header)
	for i := range cells {
		c := &cells[i]
		first := ""
		if c.FirstViolation != nil {
			first = strconv.FormatUint(*c.FirstViolation, 10)
		}
		row := []string{c.Collector, c.Profile, c.Strategy, strconv.FormatUint(c.FirstSeed, 10), strconv.FormatUint(c.Seeds, 10),
			strconv.FormatUint(c.ViolatingSeeds, 10), first, strconv.FormatUint(c.IncompleteSeeds, 10)}
		for _, k := range sim.Kinds {
			row = append(row, strconv.FormatUint(c.Kinds[k], 10))
		}
		row = append(row, strconv.Itoa(c.RetriesP50), strconv.Itoa(c.RetriesP99), strconv.FormatInt(c.LatencyP50US, 10),
			strconv.FormatInt(c.LatencyP99US, 10), strconv.FormatInt(c.PeakPinned, 10),
			strconv.FormatUint(c.Requested, 10), strconv.FormatUint(c.Applied, 10))
		for _, k := range sim.Kinds {
			row = append(row, c.Replays[k])
		}
		row = append(row, strconv.FormatInt(c.Steps, 10), strconv.FormatFloat(c.Elapsed, 'f', 3, 64))
		cw.Write(row)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}
