package realpebble

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// Config configures one Run: the kernel, the workload and the design's
// settings.
type Config struct {
	// Seed seeds the kernel's Choice: the interleaving and the workload's
	// operations.
	Seed uint64
	// Strategy picks the next actor (random by default).
	Strategy sim.Strategy
	// MaxSteps is the kernel's step budget (sim.Config.MaxSteps).
	MaxSteps int64
	// Rounds is how many builds the design makes, one after another.
	Rounds int
	// Keys is the workload's key space ("k000".."k<Keys-1>"), ValueBytes
	// the size of a value.
	Keys, ValueBytes int
	// TargetFileBytes is Pebble's output file size target at every level.
	TargetFileBytes int64
	// OpIntervalUs is the virtual time between two workload operations.
	OpIntervalUs sim.Micros
	// SnapIOBytesPerSec is the rate Build.Throttle reads at: the window
	// between a design's listing and its opens.
	SnapIOBytesPerSec int64
	// Start and End bound the region the design collects ("" and "": all).
	Start, End string
	// Design are the design's settings (MaxAttempts, Backoff...).
	Design model.DesignConfig
	// KeepTrace keeps every kernel event in the report.
	KeepTrace bool
	// snapshotAtNewestWrite is the tests' negative control of the engine
	// snapshot (Engine.snapshotAtNewestWrite).
	snapshotAtNewestWrite bool
}

// DefaultConfig is a compaction-heavy workload: 32 keys of 100 bytes, an
// operation every 500 µs (six in ten a put, two a flush, two a compaction
// of the whole key space), files of 1 KiB, reads at 64 KiB/s (a 1 KiB
// file waits about 16 ms, some thirty operations), 8 rounds.
func DefaultConfig() Config {
	return Config{
		Seed:              1,
		Strategy:          sim.Strategy{Name: "random"},
		MaxSteps:          200_000,
		Rounds:            8,
		Keys:              32,
		ValueBytes:        100,
		TargetFileBytes:   1 << 10,
		OpIntervalUs:      500 * sim.Microsecond,
		SnapIOBytesPerSec: 64 << 10,
		Design:            model.DesignConfig{LeaseTTL: 50 * sim.Millisecond, MaxAttempts: 3, Backoff: sim.Millisecond},
	}
}

// Validate reports the first field that cannot work, naming it.
func (c Config) Validate() error {
	switch {
	case c.Rounds < 1 || c.Rounds > 10_000:
		return fmt.Errorf("Rounds %d: want 1..10000", c.Rounds)
	case c.Keys < 1 || c.Keys > 1000:
		return fmt.Errorf("Keys %d: want 1..1000", c.Keys)
	case c.ValueBytes < 1 || c.ValueBytes > 1<<20:
		return fmt.Errorf("ValueBytes %d: want 1..1048576", c.ValueBytes)
	case c.TargetFileBytes < 1:
		return fmt.Errorf("TargetFileBytes %d: want > 0", c.TargetFileBytes)
	case c.OpIntervalUs < 1:
		return fmt.Errorf("OpIntervalUs %d: want > 0", c.OpIntervalUs)
	case c.SnapIOBytesPerSec < 0:
		return fmt.Errorf("SnapIOBytesPerSec %d: want >= 0 (0: no throttle)", c.SnapIOBytesPerSec)
	case c.MaxSteps < 1:
		return fmt.Errorf("MaxSteps %d: want > 0", c.MaxSteps)
	case c.End != "" && c.End <= c.Start:
		return fmt.Errorf("region [%q, %q): End must be after Start, or empty", c.Start, c.End)
	case c.Design.MaxAttempts < 1:
		return fmt.Errorf("Design.MaxAttempts %d: want > 0", c.Design.MaxAttempts)
	}
	return nil
}

// Round is the outcome of one build.
type Round struct {
	// N numbers the round from 1; Actor is the kernel actor it ran on.
	N     int
	Actor string
	// Outcome is "ok" (Collect returned data), "error" (it returned an
	// error), "panic" (it panicked: naive's unwrap), "unfinished" (the
	// step budget ended the run while it ran) or "not started" (the
	// budget ended the run before).
	Outcome string
	// Detail is the error or the panic message.
	Detail   string
	Attempts int
	// Files are the engine files read, Keys the live keys collected.
	Files []string
	Keys  int
	// Matches reports, for an "ok" round, whether the collected keys and
	// values are exactly what Pebble's own iterator reads in the region
	// through the engine snapshot (Snapshot.NewIter).
	Matches bool
	// ENOENTs are the round's opens that failed with ENOENT.
	ENOENTs []OpenFailure
}

// Report is what a Run produced.
type Report struct {
	Design string
	Seed   uint64
	Rounds []Round
	// ENOENTs are every open that failed with ENOENT, in order.
	ENOENTs []OpenFailure
	// Workload counts the workload's operations on the database.
	Workload Stats
	// Scratch lists what is left in ScratchDir at the end, sorted (scan's
	// Output files stay; a design's own files should not).
	Scratch []string
	// Kernel is the kernel's result (steps, virtual time, how the run
	// ended, the trace's hash and, with KeepTrace, its events).
	Kernel sim.Result
}

// Count returns how many rounds ended with outcome.
func (r Report) Count(outcome string) int {
	n := 0
	for _, x := range r.Rounds {
		if x.Outcome == outcome {
			n++
		}
	}
	return n
}

// String renders the report: one line per round, then the totals.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "design %s over %s, seed %d: %d rounds\n", r.Design, EngineName, r.Seed, len(r.Rounds))
	for _, x := range r.Rounds {
		fmt.Fprintf(&b, "  round %d (%s): %s, %d attempts, %d files, %d keys", x.N, x.Actor, x.Outcome, x.Attempts, len(x.Files), x.Keys)
		if x.Outcome == "ok" {
			fmt.Fprintf(&b, ", matches Pebble's iterator: %v", x.Matches)
		}
		if x.Detail != "" {
			fmt.Fprintf(&b, ": %s", x.Detail)
		}
		b.WriteByte('\n')
		for _, o := range x.ENOENTs {
			fmt.Fprintf(&b, "    ENOENT %s\n", o)
		}
	}
	w := r.Workload
	fmt.Fprintf(&b, "ok %d, error %d, panic %d, unfinished %d, not started %d; ENOENT opens %d\n", r.Count("ok"), r.Count("error"), r.Count("panic"), r.Count("unfinished"), r.Count("not started"), len(r.ENOENTs))
	fmt.Fprintf(&b, "workload: %d puts, %d flushes, %d compactions; %d waits for Pebble's deletions (%d polls, %v in all, the longest %v, wall clock)\n", w.Puts, w.Flushes, w.Compactions, w.Settles, w.SettlePolls, w.SettleWait.Round(time.Microsecond), w.SettleWaitMax.Round(time.Microsecond))
	fmt.Fprintf(&b, "kernel: %d steps, %s virtual, end %s, trace %s\n", r.Kernel.Steps, r.Kernel.Time, r.Kernel.End, sim.FormatHash(r.Kernel.TraceHash))
	return b.String()
}

// runner is one Run in progress.
type runner struct {
	cfg Config
	d   model.Design
	e   *Engine
	fs  *FS
	s   *sim.Scheduler
	// rounds are filled as they finish; err is the workload's failure.
	rounds []Round
	err    error
	// builds are the rounds' builds, by number (a panicked round's
	// attempts are read from it).
	builds map[int]*build
}

// Run runs design d, unchanged, over a fresh real Pebble database: a
// kernel actor per round runs the design's Collect (one build of the
// region) while a workload actor puts, flushes and compacts. A design
// that needs what Pebble lacks is refused before anything runs (a
// *RefusedError). Any other error is a failure of the adapter or of
// Pebble, not an outcome; a design's panics and errors are outcomes, in
// the report.
func Run(d model.Design, cfg Config) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, fmt.Errorf("realpebble: config: %w", err)
	}
	if d.New == nil {
		return Report{}, fmt.Errorf("realpebble: design %q has no constructor (Design.New)", d.Name)
	}
	e, err := Open(cfg.TargetFileBytes)
	if err != nil {
		return Report{}, err
	}
	e.snapshotAtNewestWrite = cfg.snapshotAtNewestWrite
	s := sim.New(sim.NewPRNG(cfg.Seed), sim.Config{MaxSteps: cfg.MaxSteps, Strategy: cfg.Strategy, KeepTrace: cfg.KeepTrace})
	r := &runner{cfg: cfg, d: d, e: e, fs: NewFS(e.VFS(), s), s: s, builds: map[int]*build{}}
	if err := Check(d, e, r.fs); err != nil {
		return Report{}, errors.Join(err, e.Close())
	}
	rep, err := r.run()
	if cerr := e.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return rep, err
}

// key names workload key i.
func key(i int) string { return fmt.Sprintf("k%03d", i) }

// value is the value of the n-th write of the run: its number, padded.
func (r *runner) value(n int) string {
	v := fmt.Sprintf("v%06d-", n)
	for len(v) < r.cfg.ValueBytes {
		v += "."
	}
	return v[:r.cfg.ValueBytes]
}

// preload fills the database before the kernel starts: the whole key
// space, compacted into Pebble's bottom level, then twice more into two
// L0 files, so that the first listing has files to lose.
func (r *runner) preload() error {
	n := 0
	for pass := 0; pass < 3; pass++ {
		for i := 0; i < r.cfg.Keys; i++ {
			n++
			if err := r.e.Put(key(i), r.value(n)); err != nil {
				return err
			}
		}
		if err := r.e.Flush(); err != nil {
			return err
		}
		if pass == 0 {
			if err := r.e.Compact(key(0), key(r.cfg.Keys)); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxWorkloadOps bounds the workload's loop; the kernel's step budget
// ends it first.
const maxWorkloadOps = 1 << 30

// workload is the writer actor: every OpIntervalUs one operation drawn
// from the kernel's Choice, synchronous within its step (Compact also
// waits for Pebble's deletions). A failure stops the run.
func (r *runner) workload(a *sim.Actor) {
	for n := 1; n <= maxWorkloadOps; n++ {
		a.Sleep(r.cfg.OpIntervalUs)
		var err error
		switch op := r.s.Intn(10); {
		case op < 6:
			k := key(r.s.Intn(r.cfg.Keys))
			err = r.e.Put(k, r.value(3*r.cfg.Keys+n))
			r.s.Record(sim.ClassInfo, "put", k, result(err))
		case op < 8:
			err = r.e.Flush()
			r.s.Record(sim.ClassAction, "flush", "", result(err))
		default:
			err = r.e.Compact(key(0), key(r.cfg.Keys))
			r.s.Record(sim.ClassAction, "compact", fmt.Sprintf("[%s, %s]; version now %d", key(0), key(r.cfg.Keys), r.e.Current().ID()), result(err))
		}
		if err != nil {
			r.err = fmt.Errorf("workload op %d: %w", n, err)
			r.s.Stop(r.err.Error())
			return
		}
	}
}

// coordinate is the rounds actor: it starts each round's actor and waits
// for it to finish before the next (the wait is bounded by the kernel's
// step budget, which halts every actor).
func (r *runner) coordinate(a *sim.Actor) {
	for n := 1; n <= r.cfg.Rounds; n++ {
		name := fmt.Sprintf("gen-%d", n)
		g := r.s.Spawn(name, sim.ActorOptions{Watched: true}, func(g *sim.Actor) { r.round(g, n) })
		for !g.Done() {
			a.Sleep(r.cfg.OpIntervalUs)
		}
	}
}

// round is one build: the design's Collect over the adapter, its outcome
// appended to the report (a panic leaves none: run reads it from the
// kernel's observations).
func (r *runner) round(g *sim.Actor, n int) {
	region := &model.Region{ID: 1, Start: r.cfg.Start, End: r.cfg.End, Epoch: model.Epoch{Version: 1, ConfVer: 1}, State: model.RegionNormal}
	b := &build{r: r, actor: g, round: n, region: region}
	r.builds[n] = b
	// On every way out, a panic included: the next round takes its own.
	defer r.e.dropViews()
	got, err := r.d.New(r.cfg.Design).Collect(b)
	x := Round{N: n, Actor: g.Name(), Attempts: b.attempts}
	if err != nil {
		x.Outcome, x.Detail = "error", err.Error()
	} else {
		x.Outcome, x.Files, x.Keys = "ok", got.Files, len(got.Data[model.CFDefault])
		x.Matches, x.Detail = r.matches(got, region)
	}
	r.rounds = append(r.rounds, x)
}

// matches compares what the design collected with what Pebble's own
// iterator read through the engine snapshot (Engine.view): the same keys with
// the same values, in the region, and nothing in the other column
// families. It returns a description of the first difference.
func (r *runner) matches(got model.Collected, region *model.Region) (bool, string) {
	want, ok := r.e.view(got.Seq)
	if !ok {
		return false, fmt.Sprintf("no engine snapshot was taken at seq %d", got.Seq)
	}
	var in []model.Record
	for _, w := range want {
		if region.Contains(w.Key) {
			in = append(in, w)
		}
	}
	have := got.Data[model.CFDefault]
	for _, cf := range model.CFs {
		if cf != model.CFDefault && len(got.Data[cf]) > 0 {
			return false, fmt.Sprintf("%d records in column family %s, which Pebble does not have", len(got.Data[cf]), cf)
		}
	}
	for i := 0; i < len(have) || i < len(in); i++ {
		switch {
		case i >= len(have):
			return false, fmt.Sprintf("collected %d keys, Pebble's iterator has %d: missing %s", len(have), len(in), in[i].Key)
		case i >= len(in):
			return false, fmt.Sprintf("collected %d keys, Pebble's iterator has %d: extra %s", len(have), len(in), have[i].Key)
		case have[i].Key != in[i].Key || have[i].Value != in[i].Value:
			return false, fmt.Sprintf("key %d: collected %s=%.12q, Pebble's iterator %s=%.12q", i, have[i].Key, have[i].Value, in[i].Key, in[i].Value)
		}
	}
	return true, ""
}

// run preloads the database, runs the kernel and assembles the report.
func (r *runner) run() (Report, error) {
	if err := r.preload(); err != nil {
		return Report{}, fmt.Errorf("realpebble: preload: %w", err)
	}
	r.s.Spawn("writer", sim.ActorOptions{Daemon: true}, r.workload)
	r.s.Spawn("rounds", sim.ActorOptions{}, r.coordinate)
	res := r.s.Run()
	if r.err != nil {
		return Report{}, fmt.Errorf("realpebble: %w", r.err)
	}
	rep := Report{Design: r.d.Name, Seed: r.cfg.Seed, ENOENTs: r.fs.ENOENTs(), Workload: r.e.Stats(), Kernel: res}
	names, err := r.e.fs.List(ScratchDir)
	if err != nil && !isNotExist(err) {
		return Report{}, fmt.Errorf("realpebble: list %s: %w", ScratchDir, err)
	}
	sort.Strings(names)
	rep.Scratch = names
	done := map[string]Round{}
	for _, x := range r.rounds {
		done[x.Actor] = x
	}
	panics := map[string]string{}
	for _, o := range res.Observations {
		if o.Kind != sim.KindPanic {
			continue
		}
		if strings.HasPrefix(o.Detail, "realpebble:") || !strings.HasPrefix(o.Actor, "gen-") {
			return Report{}, fmt.Errorf("realpebble: %s panicked in the adapter: %s", o.Actor, o.Detail)
		}
		panics[o.Actor] = o.Detail
	}
	for n := 1; n <= r.cfg.Rounds; n++ {
		name := fmt.Sprintf("gen-%d", n)
		x, ok := done[name]
		switch {
		case ok:
		case panics[name] != "":
			x = Round{N: n, Actor: name, Outcome: "panic", Detail: panics[name], Attempts: r.builds[n].attempts}
		case r.builds[n] != nil:
			x = Round{N: n, Actor: name, Outcome: "unfinished", Attempts: r.builds[n].attempts}
		default:
			x = Round{N: n, Actor: name, Outcome: "not started"}
		}
		for _, o := range rep.ENOENTs {
			if o.Actor == name {
				x.ENOENTs = append(x.ENOENTs, o)
			}
		}
		rep.Rounds = append(rep.Rounds, x)
	}
	return rep, nil
}

// result renders an error for a trace's result column.
func result(err error) string {
	if err != nil {
		return err.Error()
	}
	return "ok"
}
