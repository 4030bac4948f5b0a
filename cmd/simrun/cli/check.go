package cli

// simrun check: bounded exhaustive checking of a scope (sim.Explore).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/seeds"
	"github.com/snapsim/snapsim/sim"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// checkOptions are simrun check's settings.
type checkOptions struct {
	sel        selection
	scope      string
	delays     int64
	faults     int64
	maxSteps   int64
	width      int64
	preempt    bool
	workers    int64
	shard      string
	out        string
	drawsOut   string
	force      bool
	quiet      bool
	plain      bool
	compare    bool
	traces     bool
	budget     int64
	timeLimit  time.Duration
	frontier   int64
	changedSet map[string]bool
}

func newCheckCmd(e *env) *cobra.Command {
	o := checkOptions{sel: selection{env: e, generators: 1}} // check has no --snap-generators: the default
	cmd := &cobra.Command{
		Use:   "check --collector NAME --scope SCOPE",
		Short: "Explore every execution of a small scope within bounds: verified, or the counterexample with the fewest delays",
		Long: `Explore a scope (a small named configuration: simrun scopes lists them,
or a FILE.scope) exhaustively within bounds: every scheduling decision and
every data draw (workload variation, fault, thread id, timer) is a branch,
explored depth-first by re-running the model from the start with a prefix of
decisions. The bounds:

  --delays K     the default at each scheduling point is to go on with the
                 actor that ran the last step, or, if it cannot run, the next
                 actor after it in id order; choosing the j-th actor in that
                 round-robin order costs j delays. At most K per execution.
                 The exploration deepens K' = 0, 1, ..., K and stops at the
                 first level with a counterexample: it has the fewest delays.
                 --preemptions counts preemptions instead (a choice other
                 than the actor that ran, while it can still run).
  --faults F     a data draw's default is 0 (no fault, the smallest size, the
                 first thread); any other value counts one. At most F.
  --width W      a draw of n <= W values is explored at all of them, a wider
                 one at W values from 0 to n-1 (W = 2: no fault and fault).
  --max-steps N  an execution that reaches N steps is cut: never "verified".

Sleep sets over the steps' footprints (the filesystem records its own; the
model declares the rest) skip executions equivalent to one already explored;
the pruning is checked against the delay bound so that it is sound. --plain
explores without it, --compare runs both and reports the ratio.

"verified" means: within the scope and the bounds, every execution was run or
is equivalent to one that was, and none showed an observation. It says
nothing about executions beyond the bounds or about other configurations.

The exploration is split into subtrees run by --workers goroutines and, with
--shard I/N, across processes; the counts are the same for any split.
--out FILE.jsonl writes a shard's results, and simrun merge combines them.

A counterexample is written as a .draws file (-o, or a new file in the
temporary directory) that simrun replay and simrun timeline reproduce.

Exit codes: 0 verified; 1 a counterexample; 2 bad usage or input (a flag, a
scope file: FILE:LINE); 3 incomplete (an execution reached --max-steps, or
--budget or --time-limit stopped the exploration: the report says how far it
got, never "verified"); 130/143 interrupted (the report covers what
completed).`,
		Example: `  simrun check --collector lease-retry --scope report
  simrun check --collector naive --scope report -o naive-report.draws
  simrun check --collector lease-retry --scope recycled-tid --limiter-unwrap
  simrun check --collector lease-retry --scope lease-stall --non-atomic-check
  simrun check --collector lease-retry --scope report --shard 0/2 --out s0.jsonl`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.changedSet = map[string]bool{}
			cmd.Flags().Visit(func(f *pflag.Flag) { o.changedSet[f.Name] = true })
			return runCheck(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.sel.collector, "collector", "", "collector design (default: the system's, lease-retry for tikv): "+strings.Join(e.defaultDesigns(), ", "))
	f.StringVar(&o.sel.system, "system", "", "the system the scope is of (a scope file names its own; default tikv for the built-in scopes)")
	f.StringArrayVar(&o.sel.switches, "variant", nil, "turn on a variant switch of the system, by name (repeatable)")
	for _, v := range o.sel.variantFlags() {
		f.BoolVar(v.value, v.name, false, "tikv: "+v.usage)
	}
	f.Var(newIntValue(&o.sel.gcGraceUS, 0), "gc-grace-us", "tikv: GC keeps leased files this many virtual microseconds past the lease's expiry")
	f.StringVar(&o.scope, "scope", "", "the scope: a built-in name (simrun scopes) or a FILE.scope")
	f.Var(newIntValue(&o.delays, -1), "delays", fmt.Sprintf("K, the most delays per execution, 0..%d (default: the scope's)", sim.MaxBoundDelays))
	f.Var(newIntValue(&o.faults, -1), "faults", fmt.Sprintf("F, the most non-default data draws per execution, 0..%d (default: the scope's)", sim.MaxBoundFaults))
	f.Var(newIntValue(&o.maxSteps, -1), "max-steps", "N, the step bound of each execution (default: the scope's)")
	f.Var(newIntValue(&o.width, -1), "width", fmt.Sprintf("W, the values a data draw is explored at, 2..%d (default: the scope's)", sim.MaxWidth))
	f.BoolVar(&o.preempt, "preemptions", false, "bound preemptions instead of delays")
	f.Var(newIntValue(&o.workers, int64(runtime.NumCPU())), "workers", "subtrees explored in parallel on this many goroutines; the counts are the same for any number")
	f.StringVar(&o.shard, "shard", "", "explore only shard I of N, \"I/N\" with 0 <= I < N (combine the --out files with simrun merge)")
	f.StringVar(&o.out, "out", "", "write the shard's results to FILE.jsonl, atomically at the end")
	f.StringVarP(&o.drawsOut, "output", "o", "", "write the counterexample, if any, to FILE.draws (default: a new file in the temporary directory)")
	f.BoolVar(&o.force, "force", false, "overwrite the --out or -o file if it exists")
	f.BoolVar(&o.quiet, "quiet", false, "no progress bar on stderr (there is none when stderr is not a terminal)")
	f.BoolVar(&o.plain, "plain", false, "explore without reduction (plain DFS)")
	f.BoolVar(&o.compare, "compare", false, "explore with and without reduction and report both counts and their ratio")
	f.BoolVar(&o.traces, "traces", false, "also count the distinct traces (the fewest executions any sound reduction could run); needs --workers 1 and no --shard")
	f.Var(newIntValue(&o.budget, 0), "budget", "stop, incomplete, after this many runs (0: no limit)")
	f.DurationVar(&o.timeLimit, "time-limit", 0, "stop, incomplete, after this much wall time (0: no limit)")
	f.Var(newIntValue(&o.frontier, 0), "frontier", "cut each level into at least this many subtrees when it is split (0: 64 per shard); the counts do not depend on it")
	_ = f.MarkHidden("frontier")
	return cmd
}

// resolveScope finds --scope: a built-in name, or a file of any of e's
// systems.
func resolveScope(e *env, name string) (*seeds.Scope, error) {
	if name == "" {
		return nil, usagef("--scope is required: one of %s, or a FILE.scope", strings.Join(seeds.ScopeNames(), ", "))
	}
	if s, ok := seeds.BuiltinScope(name); ok {
		return s, nil
	}
	if strings.HasSuffix(name, ".scope") || strings.ContainsRune(name, os.PathSeparator) {
		s, err := seeds.LoadScopeIn(e.systems, name)
		if err != nil {
			var pe *seeds.ParseError
			if errors.As(err, &pe) {
				return nil, usagef("%v", err)
			}
			return nil, usagef("--scope: %v", err)
		}
		return s, nil
	}
	return nil, usagef("--scope: unknown scope %q (want one of %s, or a FILE.scope)", clip(name, 60), strings.Join(seeds.ScopeNames(), ", "))
}

// checkPlan is a resolved check: what to explore and how.
type checkPlan struct {
	scope     *seeds.Scope
	sys       model.System
	cfg       model.Config
	opt       sim.Options
	variants  []string
	shard     uint64
	shards    uint64
	reduction bool
}

func (o *checkOptions) resolve() (*checkPlan, error) {
	sc, err := resolveScope(o.sel.env, o.scope)
	if err != nil {
		return nil, err
	}
	spec := sc.System.Spec()
	if o.sel.system != "" && o.sel.system != spec.Name {
		return nil, usagef("--system %s: scope %s is of system %s", clip(o.sel.system, 60), sc.Name, spec.Name)
	}
	o.sel.system, o.sel.sys = spec.Name, sc.System
	if spec.Name != tikv.Name {
		if flags := o.sel.tikvFlags(); len(flags) > 0 {
			return nil, usagef("%s: a flag of the tikv system; scope %s is of system %s (use --variant NAME)", strings.Join(flags, ", "), sc.Name, spec.Name)
		}
	}
	if o.sel.collector == "" {
		o.sel.collector = spec.DefaultDesign
	}
	if !model.HasName(spec.Designs, o.sel.collector) {
		return nil, usagef("--collector: unknown collector %q (want one of %s)", clip(o.sel.collector, 60), strings.Join(model.Names(spec.Designs), ", "))
	}
	cfg, err := sc.Config(o.sel.collector, o.sel.variantNames())
	if err != nil {
		return nil, usagef("%v", err)
	}
	if o.sel.gcGraceUS < 0 || o.sel.gcGraceUS > 1e12 {
		return nil, usagef("--gc-grace-us: %d is out of range (want 0..1000000000000)", o.sel.gcGraceUS)
	}
	if o.changedSet["gc-grace-us"] {
		if cfg, err = cfg.WithSetting("gc_grace_us", o.sel.gcGraceUS); err != nil {
			return nil, usagef("--gc-grace-us: %v", err)
		}
	}
	b := sc.Bounds
	pick := func(flag string, v int64, lo, hi int64, dst *int64) error {
		if !o.changedSet[flag] {
			return nil
		}
		if v < lo || v > hi {
			return usagef("--%s: %d is out of range (want %d..%d)", flag, v, lo, hi)
		}
		*dst = v
		return nil
	}
	k, f, n, w := int64(b.Delays), int64(b.Faults), b.MaxSteps, int64(b.Width)
	for _, e := range []error{
		pick("delays", o.delays, 0, sim.MaxBoundDelays, &k),
		pick("faults", o.faults, 0, sim.MaxBoundFaults, &f),
		pick("max-steps", o.maxSteps, 1, 1e9, &n),
		pick("width", o.width, 2, sim.MaxWidth, &w),
	} {
		if e != nil {
			return nil, e
		}
	}
	b.Delays, b.Faults, b.MaxSteps, b.Width = int(k), int(f), n, int(w)
	if o.changedSet["preemptions"] {
		b.Preemptions = o.preempt
	}
	if o.workers < 1 || o.workers > 4096 {
		return nil, usagef("--workers: %d is out of range (want 1..4096)", o.workers)
	}
	if o.budget < 0 {
		return nil, usagef("--budget: %d is out of range (want 0 for no limit, or a number of runs)", o.budget)
	}
	if o.timeLimit < 0 {
		return nil, usagef("--time-limit: %s is negative (want 0 for no limit, or a duration such as 60s)", o.timeLimit)
	}
	if o.frontier < 0 || o.frontier > 1e6 {
		return nil, usagef("--frontier: %d is out of range (want 0..1000000)", o.frontier)
	}
	p := &checkPlan{scope: sc, sys: sc.System, cfg: cfg, shards: 1, reduction: !o.plain}
	p.shard, p.shards, err = resolveShard(o.shard, false, 0, func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	if o.plain && o.compare {
		return nil, usagef("--plain and --compare cannot be combined (--compare runs both)")
	}
	if o.compare && p.shards > 1 {
		return nil, usagef("--compare needs the whole exploration (no --shard)")
	}
	if o.traces && (p.shards > 1 || o.workers != 1) {
		return nil, usagef("--traces needs an unsplit exploration: --workers 1 and no --shard")
	}
	if o.out != "" {
		if err := checkOutput("--out", o.out, o.force); err != nil {
			return nil, err
		}
	}
	if o.drawsOut != "" {
		if !strings.HasSuffix(o.drawsOut, ".draws") {
			return nil, usagef("-o %s: want a name ending in .draws", clip(o.drawsOut, 60))
		}
		if err := checkOutput("-o", o.drawsOut, o.force); err != nil {
			return nil, err
		}
	}
	p.variants = o.sel.variantNames()
	p.opt = sim.Options{Bounds: b, NoReduction: o.plain, MaxExecutions: o.budget,
		Shard: int(p.shard), Shards: int(p.shards), Frontier: int(o.frontier), Traces: o.traces}
	return p, nil
}

// program is the scope's model as an explorer's Program.
func (p *checkPlan) program() sim.Program {
	sys, cfg := p.sys, p.cfg
	return func(ch sim.Choice, sc sim.Config) (sim.Result, error) {
		out, err := modelRun(sys, cfg, ch, sc)
		return out.Result, err
	}
}

// boundsText renders the bounds as the verdict says them.
func boundsText(b sim.Bounds) string {
	unit := "delays"
	if b.Preemptions {
		unit = "preemptions"
	}
	return fmt.Sprintf("≤ %d %s and ≤ %d faults (width %d, ≤ %d steps)", b.Delays, unit, b.Faults, b.Width, b.MaxSteps)
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func runCheck(ctx context.Context, w, stderr io.Writer, o *checkOptions) error {
	p, err := o.resolve()
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	var runs atomic.Int64
	bar := newCheckProgress(stderr, o.quiet)
	stopBar := bar.watch(&runs)
	deadline := time.Time{}
	if o.timeLimit > 0 {
		deadline = time.Now().Add(o.timeLimit)
	}
	var timedOut atomic.Bool
	p.opt.Tick = func() { runs.Add(1) }
	p.opt.Stop = func() bool {
		if ctx.Err() != nil {
			return true
		}
		if !deadline.IsZero() && runs.Load()%64 == 0 && time.Now().After(deadline) {
			timedOut.Store(true)
			return true
		}
		return false
	}
	if o.workers > 1 {
		p.opt.ForEach = parallelFor(int(o.workers))
	}
	start := time.Now()
	ex, err := sim.Explore(p.program(), p.opt)
	if err != nil {
		stopBar()
		return fmt.Errorf("check %s: %w", p.scope.Name, err)
	}
	var plain *sim.Exploration
	if o.compare && ex.Stopped == "" {
		po := p.opt
		po.NoReduction = true
		plain, err = sim.Explore(p.program(), po)
		if err != nil {
			stopBar()
			return fmt.Errorf("check %s (plain): %w", p.scope.Name, err)
		}
	}
	elapsed := time.Since(start)
	stopBar()
	if o.out != "" {
		if err := writeCheckOut(o.out, o.force, p, ex, elapsed); err != nil {
			return err
		}
	}
	if p.shards > 1 {
		return reportShard(w, o, p, ex, elapsed)
	}
	v, err := sim.Conclude([]*sim.Exploration{ex})
	if err != nil {
		return fmt.Errorf("check %s: %w", p.scope.Name, err)
	}
	if timedOut.Load() && ex.Stopped == "interrupted" {
		ex.Stopped = "time limit"
	}
	var pv *sim.Verdict
	if plain != nil {
		x, err := sim.Conclude([]*sim.Exploration{plain})
		if err != nil {
			return fmt.Errorf("check %s (plain): %w", p.scope.Name, err)
		}
		pv = &x
	}
	return reportVerdict(ctx, w, o, p, &v, pv, ex.Stopped, elapsed, runs.Load())
}

// parallelFor runs do(i) for i in [0, n) on workers goroutines.
func parallelFor(workers int) func(n int, do func(i int)) {
	return func(n int, do func(i int)) {
		var next atomic.Int64
		var wg sync.WaitGroup
		for g := 0; g < min(workers, n); g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= n {
						return
					}
					do(i)
				}
			}()
		}
		wg.Wait()
	}
}

// reportVerdict prints the verdict and returns the exit status.
func reportVerdict(ctx context.Context, w io.Writer, o *checkOptions, p *checkPlan, v, plain *sim.Verdict, stopped string, elapsed time.Duration, runs int64) error {
	b := p.opt.Bounds
	design := p.cfg.DesignName()
	if len(p.variants) > 0 {
		design += " --" + strings.Join(p.variants, " --")
	}
	work := fmt.Sprintf("%d runs in %.2fs (%.0f runs/s, %d workers; levels:", runs, elapsed.Seconds(), float64(runs)/max(elapsed.Seconds(), 1e-9), o.workers)
	for k, c := range v.PerLevel {
		work += fmt.Sprintf(" K=%d %d", k, c.Executions)
	}
	work += ")"
	c := v.Counts
	reduced := fmt.Sprintf("%s after reduction (%s pruned, %s cut by the sleep sets)",
		plural(c.Executions, "execution", "executions"), plural(c.Pruned, "subtree", "subtrees"), plural(c.Blocked, "run", "runs"))
	if !p.reduction {
		reduced = plural(c.Executions, "execution", "executions") + " (plain DFS, no reduction)"
	} else if plain != nil {
		reduced = fmt.Sprintf("%s (%d after reduction; %.2f× fewer, %d pruned)", plural(plain.Counts.Executions, "execution", "executions"),
			c.Executions, float64(plain.Counts.Executions)/float64(max(c.Executions, 1)), c.Pruned)
	}
	if c.Traces > 0 {
		reduced += fmt.Sprintf(", %d distinct traces", c.Traces)
	}
	kinds := make([]string, 0)
	for _, k := range p.scope.Kinds() {
		kinds = append(kinds, string(k))
	}
	switch v.Outcome {
	case sim.OutcomeVerified:
		fmt.Fprintf(w, "verified: %s of scope %s with %s; %s never showed any of %s\n",
			reduced, p.scope.Name, boundsText(b), design, strings.Join(kinds, ", "))
		fmt.Fprintln(w, "  "+work)
		fmt.Fprintf(w, "  (within the scope and these bounds only: %s)\n", p.scope.Summary)
		return nil
	case sim.OutcomeCounterexample:
		return reportCounterexample(w, o, p, v, work)
	}
	// Incomplete.
	why := v.Reason
	switch stopped {
	case "interrupted":
		why = "interrupted: " + why
	case "budget":
		why = fmt.Sprintf("the budget of %d runs ran out: %s", o.budget, why)
	case "time limit":
		why = fmt.Sprintf("the time limit of %s ran out: %s", o.timeLimit, why)
	}
	fmt.Fprintf(w, "INCOMPLETE: scope %s with %s, %s: not verified (%s)\n", p.scope.Name, boundsText(b), design, why)
	fmt.Fprintf(w, "  got to level K=%d: %s so far, every level below it complete; %s\n", v.Level,
		plural(c.Executions, "execution", "executions"), work)
	if ei, ok := interrupted(ctx); ok && stopped == "interrupted" {
		return ei
	}
	return errIncomplete
}

// reportCounterexample prints the minimal counterexample, writes its
// .draws file and returns errViolation.
func reportCounterexample(w io.Writer, o *checkOptions, p *checkPlan, v *sim.Verdict, work string) error {
	ce := v.Counterexample
	b := p.opt.Bounds
	unit := "delays"
	if b.Preemptions {
		unit = "preemptions"
	}
	first := ce.Result.Observations[0]
	// Re-run the draws with the trace kept: the picture and the file come
	// from the same run the explorer saw.
	sc := sim.Config{MaxSteps: b.MaxSteps, StopOnViolation: true, KeepTrace: true}
	out, err := modelRun(p.sys, p.cfg, sim.NewLog(ce.Draws), sc)
	if err != nil {
		return fmt.Errorf("replay the counterexample: %w", err)
	}
	if out.Result.TraceHash != ce.Result.TraceHash {
		return fmt.Errorf("the counterexample does not replay: trace hash %s, the explorer saw %s (a snapsim bug)",
			sim.FormatHash(out.Result.TraceHash), sim.FormatHash(ce.Result.TraceHash))
	}
	fmt.Fprintf(w, "COUNTEREXAMPLE %s at step %d by %s: scope %s, %s, with %s and %s (no execution with fewer %s shows any observation)\n",
		first.Kind, first.Step, first.Actor, p.scope.Name, p.cfg.DesignName(), plural(int64(ce.Delays), strings.TrimSuffix(unit, "s"), unit),
		plural(int64(ce.Faults), "fault", "faults"), unit)
	if err := writeActionsText(w, out.Result.Events); err != nil {
		return err
	}
	for _, ob := range out.Result.Observations {
		fmt.Fprintf(w, "VIOLATION %s at step %d (t=%s) by %s: %s\n", ob.Kind, ob.Step, ob.Time, ob.Actor, ob.Detail)
	}
	fmt.Fprintf(w, "found after %s of level K=%d; %s\n", plural(v.Counts.Executions, "execution", "executions"), ce.Level, work)
	path, err := writeCheckDraws(o, p, ce, &out)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s\nreplay:   %s replay %s --actions-only\ntimeline: %s timeline %s -o %s.svg\n",
		path, o.sel.env.invocation(), shellQuote(path), o.sel.env.invocation(), shellQuote(path), shellQuote(strings.TrimSuffix(filepath.Base(path), ".draws")))
	return errViolation
}

// writeCheckDraws writes the counterexample as a .draws file that replay
// and timeline read: the draws under the random strategy, the scope's whole
// configuration, the first kind and the trace hash.
func writeCheckDraws(o *checkOptions, p *checkPlan, ce *sim.Counterexample, out *model.Outcome) (string, error) {
	cfg := p.cfg
	raw, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("encode the counterexample's configuration: %w", err)
	}
	df := drawsFile{Format: drawsFormat, System: cfg.SystemName(), Collector: cfg.DesignName(), Profile: p.scope.Profile, Strategy: "random",
		Variants: append([]string{}, p.variants...), SnapGenerators: 1,
		MaxSteps: p.opt.MaxSteps, Expect: out.Result.Observations[0].Kind, TraceHash: sim.FormatHash(out.Result.TraceHash),
		Draws: ce.Draws, Scope: p.scope.Name, Config: raw}
	if tc, ok := cfg.(tikv.Config); ok {
		df.SnapGenerators, df.GCGraceUS = int64(tc.SnapGenerators), int64(tc.GCGrace)
	}
	if df.Draws == nil {
		df.Draws = []sim.Draw{}
	}
	data, err := json.MarshalIndent(df, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode the counterexample: %w", err)
	}
	data = append(data, '\n')
	if o.drawsOut != "" {
		return o.drawsOut, writeFileAtomic("-o", o.drawsOut, data, o.force)
	}
	// No -o: a new file in the temporary directory, never an existing one.
	path := filepath.Join(os.TempDir(), fmt.Sprintf("simrun-check-%s-%s-%d-%d.draws", p.scope.Name, cfg.DesignName(), os.Getpid(), time.Now().UnixNano()))
	return path, writeFileAtomic("-o", path, data, false)
}

// reportShard prints what one shard did; the verdict needs every shard
// (simrun merge).
func reportShard(w io.Writer, o *checkOptions, p *checkPlan, ex *sim.Exploration, elapsed time.Duration) error {
	var c sim.Counts
	found := false
	for _, lr := range ex.Levels {
		for _, e := range lr.Done {
			c.Executions += e.Counts.Executions
			found = found || e.Found != nil
		}
	}
	fmt.Fprintf(w, "shard %d/%d of scope %s, %s, %s: %s in %.2fs, levels 0..%d",
		p.shard, p.shards, p.scope.Name, p.cfg.DesignName(), boundsText(p.opt.Bounds), plural(c.Executions, "execution", "executions"), elapsed.Seconds(), len(ex.Levels)-1)
	if found {
		fmt.Fprint(w, ", a counterexample in this shard")
	}
	if ex.Stopped != "" {
		fmt.Fprintf(w, ", stopped (%s)", ex.Stopped)
	}
	fmt.Fprintln(w)
	if o.out == "" {
		fmt.Fprintln(w, "  no --out: this shard's results are not kept; the verdict needs every shard's --out file (simrun merge)")
	} else {
		fmt.Fprintf(w, "  wrote %s; the verdict: %s merge FILE.jsonl... (every shard's --out)\n", o.out, o.sel.env.invocation())
	}
	return nil
}

// checkProgress is the progress of an exploration on a terminal: the runs
// so far and their rate (the total is not known in advance), on one line
// of stderr that is cleared when the exploration ends.
type checkProgress struct {
	w io.Writer
}

func newCheckProgress(w io.Writer, quiet bool) *checkProgress {
	if quiet || !isTerminal(w) {
		return &checkProgress{}
	}
	return &checkProgress{w: w}
}

// watch redraws the line from runs until the returned function is called.
func (p *checkProgress) watch(runs *atomic.Int64) (stop func()) {
	if p.w == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	start := time.Now()
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprintf(p.w, "\r%-60s\r", "")
				return
			case <-t.C:
				n := runs.Load()
				fmt.Fprintf(p.w, "\rexploring: %d runs, %.0f runs/s, %s", n, float64(n)/time.Since(start).Seconds(), time.Since(start).Round(time.Second))
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkOutFormat names the --out file format of simrun check.
const checkOutFormat = "simrun-check/1"

// checkHeader is what a check shard file needs to be merged: what was
// explored (the scope's configuration, by digest, and the bounds) and the
// shard.
type checkHeader struct {
	Format string `json:"format"`
	// System names the scope's system (absent in files from before
	// systems: tikv).
	System       string     `json:"system,omitempty"`
	Scope        string     `json:"scope"`
	Collector    string     `json:"collector"`
	Variants     []string   `json:"variants"`
	ConfigDigest string     `json:"config_digest"`
	Bounds       sim.Bounds `json:"bounds"`
	Reduced      bool       `json:"reduced"`
	Shard        uint64     `json:"shard"`
	Shards       uint64     `json:"shards"`
}

// checkFooter closes a check shard file.
type checkFooter struct {
	Stopped string  `json:"stopped,omitempty"`
	Elapsed float64 `json:"elapsed_seconds"`
	Digest  string  `json:"digest"`
}

// checkLine is any line of a check shard file.
type checkLine struct {
	Header *checkHeader     `json:"header,omitempty"`
	Level  *sim.LevelResult `json:"level,omitempty"`
	Footer *checkFooter     `json:"footer,omitempty"`
	Config json.RawMessage  `json:"config,omitempty"`
	Sum    string           `json:"sum,omitempty"`
}

// configJSON is a configuration's JSON encoding, as shard files carry it.
func configJSON(cfg model.Config) json.RawMessage {
	b, _ := json.Marshal(cfg)
	return b
}

// configDigest is the digest of a configuration's JSON encoding.
func configDigest(raw json.RawMessage) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8])
}

func checkHeaderOf(p *checkPlan) checkHeader {
	return checkHeader{Format: checkOutFormat, System: p.cfg.SystemName(), Scope: p.scope.Name, Collector: p.cfg.DesignName(), Variants: append([]string{}, p.variants...),
		ConfigDigest: configDigest(configJSON(p.cfg)), Bounds: p.opt.Bounds, Reduced: p.reduction, Shard: p.shard, Shards: p.shards}
}

// writeCheckOut writes a shard's exploration: the header, the
// configuration, one line per level, the footer (sealed lines, as run's
// --out files).
func writeCheckOut(path string, force bool, p *checkPlan, ex *sim.Exploration, elapsed time.Duration) error {
	var buf bytes.Buffer
	digest := sha256.New()
	put := func(v any) error {
		obj, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("--out %s: %w", path, err)
		}
		line := sealLine(obj)
		digest.Write(line)
		buf.Write(line)
		return nil
	}
	h := checkHeaderOf(p)
	if err := put(checkLine{Header: &h}); err != nil {
		return err
	}
	if err := put(checkLine{Config: configJSON(p.cfg)}); err != nil {
		return err
	}
	for i := range ex.Levels {
		if err := put(checkLine{Level: &ex.Levels[i]}); err != nil {
			return err
		}
	}
	f := checkFooter{Stopped: ex.Stopped, Elapsed: elapsed.Seconds(), Digest: hex.EncodeToString(digest.Sum(nil))}
	if err := put(checkLine{Footer: &f}); err != nil {
		return err
	}
	return writeFileAtomic("--out", path, buf.Bytes(), force)
}

// isCheckOut reports whether the file at path is a check shard file (its
// first line says so).
func isCheckOut(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	r := bufio.NewReader(f)
	line, _ := r.ReadBytes('\n')
	return bytes.Contains(line, []byte(`"format":"`+checkOutFormat+`"`))
}

// mergeChecks combines the --out files of every shard of one check into its
// verdict, printed (and its exit status) as one unsplit check would.
func mergeChecks(ctx context.Context, e *env, w io.Writer, paths []string) error {
	var parts []*sim.Exploration
	var h0 *checkHeader
	var cfg json.RawMessage
	var stopped string
	var elapsed float64
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return usagef("merge: %v", err)
		}
		digest := sha256.New()
		ex := &sim.Exploration{}
		var h *checkHeader
		var footer *checkFooter
		lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
		for i, raw := range lines {
			ln := i + 1
			if footer != nil {
				return usagef("%s:%d: a line after the footer", path, ln)
			}
			if err := checkSeal(raw); err != nil {
				return usagef("%s:%d: %v", path, ln, err)
			}
			var l checkLine
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&l); err != nil {
				return usagef("%s:%d: %v", path, ln, err)
			}
			switch {
			case ln == 1 && l.Header == nil:
				return usagef("%s:1: want a header line (is this a file written by simrun check --out?)", path)
			case l.Header != nil:
				if ln != 1 {
					return usagef("%s:%d: a second header", path, ln)
				}
				if l.Header.Format != checkOutFormat {
					return usagef("%s:1: format %q, want %q", path, clip(l.Header.Format, 40), checkOutFormat)
				}
				h = l.Header
			case l.Config != nil:
				if cfg != nil && configDigest(l.Config) != configDigest(cfg) {
					return usagef("%s:%d: another configuration than %s's", path, ln, paths[0])
				}
				if configDigest(l.Config) != h.ConfigDigest {
					return usagef("%s:%d: the configuration does not match the header's digest", path, ln)
				}
				cfg = l.Config
			case l.Level != nil:
				ex.Levels = append(ex.Levels, *l.Level)
			case l.Footer != nil:
				if got := hex.EncodeToString(digest.Sum(nil)); got != l.Footer.Digest {
					return usagef("%s:%d: digest mismatch (the footer says %s, the lines before it give %s): a line was removed, duplicated or reordered", path, ln, clip(l.Footer.Digest, 64), got)
				}
				footer = l.Footer
			}
			digest.Write(append(append([]byte(nil), raw...), '\n'))
		}
		if footer == nil {
			return usagef("%s: no footer line: the file is not whole", path)
		}
		if h0 != nil {
			var diffs []string
			if h.Scope != h0.Scope || h.ConfigDigest != h0.ConfigDigest {
				diffs = append(diffs, fmt.Sprintf("scope %s (config %s) vs %s (config %s)", h.Scope, h.ConfigDigest, h0.Scope, h0.ConfigDigest))
			}
			if h.Collector != h0.Collector || strings.Join(h.Variants, ",") != strings.Join(h0.Variants, ",") {
				diffs = append(diffs, fmt.Sprintf("collector %s %v vs %s %v", h.Collector, h.Variants, h0.Collector, h0.Variants))
			}
			if h.Bounds != h0.Bounds || h.Reduced != h0.Reduced || h.Shards != h0.Shards {
				diffs = append(diffs, "bounds, reduction or number of shards")
			}
			if len(diffs) > 0 {
				return usagef("%s:1 is from another check than %s:1: %s", path, paths[0], strings.Join(diffs, "; "))
			}
		}
		h0 = h
		ex.Bounds, ex.Reduced, ex.Shard, ex.Shards, ex.Stopped = h.Bounds, h.Reduced, int(h.Shard), int(h.Shards), footer.Stopped
		if footer.Stopped != "" {
			stopped = footer.Stopped
		}
		elapsed = max(elapsed, footer.Elapsed)
		parts = append(parts, ex)
	}
	v, err := sim.Conclude(parts)
	if err != nil {
		return usagef("merge: %v", err)
	}
	system := h0.System
	if system == "" {
		system = tikv.Name // files from before systems
	}
	sys, err := e.systems.Lookup(system)
	if err != nil {
		return usagef("%s:1: %v", paths[0], err)
	}
	mc, err := sys.DecodeConfig(cfg)
	if err != nil {
		return usagef("%s: %v", paths[0], err)
	}
	sc, ok := seeds.BuiltinScope(h0.Scope)
	if !ok || system != tikv.Name {
		// A scope file: its name and configuration are in the shards; its
		// summary is not.
		sc = &seeds.Scope{Name: h0.Scope, Summary: "scope file " + h0.Scope, System: sys}
	}
	p := &checkPlan{scope: sc, sys: sys, cfg: mc, variants: h0.Variants, shards: 1, reduction: h0.Reduced,
		opt: sim.Options{Bounds: h0.Bounds}}
	o := &checkOptions{workers: int64(len(parts)), sel: selection{env: e, generators: 1}}
	runs := v.Total.Runs()
	return reportVerdict(ctx, w, o, p, &v, nil, stopped, time.Duration(elapsed*float64(time.Second)), runs)
}
