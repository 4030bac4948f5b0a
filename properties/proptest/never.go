package proptest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snapsim/snapsim/internal/drawsfile"
	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
	"pgregory.net/rapid"
)

// Judge decides one run: nil when the property holds of out, else an
// error saying what is wrong (it heads the failure story).
type Judge func(out *model.Outcome) error

// NeverShows is the Judge "the run observed none of kinds".
func NeverShows(kinds ...sim.Kind) Judge {
	return func(out *model.Outcome) error {
		var seen []string
		for _, o := range out.Result.Observations {
			if slices.Contains(kinds, o.Kind) && !slices.Contains(seen, string(o.Kind)) {
				seen = append(seen, string(o.Kind))
			}
		}
		if len(seen) > 0 {
			return fmt.Errorf("showed %s, which it must never show", strings.Join(seen, ", "))
		}
		return nil
	}
}

// Option adjusts a property run.
type Option func(*options)

type options struct {
	maxSteps int64
	checks   int
	drawsDir string
	program  string
	pkg      string
	profiles []string
	shrink   time.Duration
	runs     int
	seed     uint64
}

// MaxSteps sets the kernel's step budget per run (default
// sim.DefaultMaxSteps); a run that exhausts it is judged as it stands.
func MaxSteps(n int64) Option { return func(o *options) { o.maxSteps = n } }

// Checks sets how many cases rapid runs (default: -rapid.checks, 100).
func Checks(n int) Option { return func(o *options) { o.checks = n } }

// DrawsDir is where a failure's .draws file goes (default the system's
// temporary directory, never the checkout).
func DrawsDir(dir string) Option { return func(o *options) { o.drawsDir = dir } }

// Program names the main package of the simrun the replay line runs
// (default ./cmd/simrun; a user's "./cmd/mysim", which registers their
// designs and systems).
func Program(path string) Option { return func(o *options) { o.program = path } }

// Package names the test's package in the go test replay line (default
// ".": run it from the package's directory).
func Package(path string) Option { return func(o *options) { o.pkg = path } }

// ShrinkTime bounds the time rapid spends shrinking a counterexample
// (default -rapid.shrinktime, 30s). Shrinking whole runs is slow (each
// candidate is a run), and a shrink cut short by the bound is smaller
// the more time it had, so the shrunk counterexample can differ between
// a loaded and an idle machine; the counterexample found, and the exact
// replay of whatever was shrunk to, do not.
func ShrinkTime(d time.Duration) Option { return func(o *options) { o.shrink = d } }

// ShrinkRuns sets the budget, in candidate runs, of the second shrink:
// after rapid's, the counterexample's draws are shrunk further by the
// simulator's own shrinker (sim.ShrinkWith, as simrun shrink does: delete
// chunks of draws, lower values), which is deterministic: the same draws
// and budget give the same result on any machine. Default
// DefaultShrinkRuns; 0 turns it off.
func ShrinkRuns(n int) Option { return func(o *options) { o.runs = n } }

// FixedSeed runs rapid with seed instead of Seed(t.Name()) (a
// -rapid.seed or -soak on the command line still wins).
func FixedSeed(seed uint64) Option { return func(o *options) { o.seed = seed } }

// DefaultShrinkRuns is the default budget of the second shrink.
const DefaultShrinkRuns = 1000

// DeterministicShrink skips rapid's time-bounded shrink, so the
// counterexample is the first one rapid found, shrunk only by the
// run-budgeted second shrink (ShrinkRuns): the same on a loaded machine
// as on an idle one. rapid still searches, and the search is the same.
func DeterministicShrink() Option { return func(o *options) { o.shrink = time.Nanosecond } }

// Profiles lets rapid draw the run's profile from names (the first is
// where it shrinks to) and builds each case's configuration as
// sys.NewConfig(cfg.DesignName(), profile): the property is then over
// profiles as well as schedules. cfg's own settings are not carried over.
func Profiles(names ...string) Option { return func(o *options) { o.profiles = names } }

// Failure is a shrunk counterexample.
type Failure struct {
	// Outcome is the shrunk run's outcome, with its trace.
	Outcome model.Outcome
	// Draws is its exact choice stream (sim.NewLog replays it), and Err
	// what the judge said of it.
	Draws []sim.Draw
	Err   error
	// Seed is the rapid seed the check ran with.
	Seed uint64
	// FoundActions is how many high-level actions the first violating run
	// rapid found had, before shrinking (the shrunk run's are in Outcome).
	FoundActions int
	// DrawsFile is the .draws file written for it ("" if it could not be
	// written: WriteErr says why), and Replay the simrun line that
	// replays it; GoTest the go test line that finds it again.
	DrawsFile string
	WriteErr  error
	Replay    string
	GoTest    string
}

// Story renders the failure: what the judge said, the configuration, the
// high-level actions and the violations, and the replay lines.
func (f *Failure) Story() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", f.Err)
	b.WriteString(Story(&f.Outcome))
	fmt.Fprintf(&b, "replay: %s\n", f.GoTest)
	if f.DrawsFile != "" {
		fmt.Fprintf(&b, "replay: %s\n", f.Replay)
	} else if f.WriteErr != nil {
		fmt.Fprintf(&b, "(no .draws file: %v)\n", f.WriteErr)
	}
	return b.String()
}

// Story renders an outcome's configuration, its high-level actions
// (sim.ClassAction; no filesystem calls) and its violations as aligned
// text, as snapsim's properties print a failure.
func Story(out *model.Outcome) string {
	var b strings.Builder
	if c := out.Config; c != nil {
		fmt.Fprintf(&b, "system %s, design %s, profile %s\n", c.SystemName(), c.DesignName(), c.ProfileName())
	}
	var kept []sim.Event
	for _, e := range out.Result.Events {
		if e.Class == sim.ClassAction || e.Class == sim.ClassViolation {
			kept = append(kept, e)
		}
	}
	_ = sim.WriteText(&b, kept)
	for _, o := range out.Result.Observations {
		fmt.Fprintf(&b, "VIOLATION %s at step %d by %s: %s\n", o.Kind, o.Step, o.Actor, o.Detail)
	}
	return b.String()
}

// Never checks that no run rapid draws of cfg on sys shows any of kinds
// (Always with NeverShows).
func Never(t *testing.T, sys model.System, cfg model.Config, kinds []sim.Kind, opts ...Option) {
	t.Helper()
	Always(t, sys, cfg, NeverShows(kinds...), opts...)
}

// Always checks that judge holds of every run rapid draws of cfg on sys:
// each case is one run with every decision a rapid draw. On a failure
// rapid shrinks the draws, and t fails with the shrunk run's story, a
// .draws file that replays it exactly and the lines that replay it.
func Always(t *testing.T, sys model.System, cfg model.Config, judge Judge, opts ...Option) {
	t.Helper()
	f, log := search(t, true, sys, cfg, judge, opts)
	if f != nil {
		t.Fatalf("counterexample, shrunk:\n%s", f.Story())
	}
	if strings.Contains(log, "[rapid] only generated") {
		t.Fatal("rapid generated too few valid cases")
	}
}

// Caught is a negative control: the property judge must fail within
// rapid's search over cfg on sys. It returns the shrunk counterexample
// (its .draws file written), and fails t if rapid found none: a property
// that cannot catch the design it exists for is a defect.
func Caught(t *testing.T, sys model.System, cfg model.Config, judge Judge, opts ...Option) *Failure {
	t.Helper()
	f, log := search(t, false, sys, cfg, judge, opts)
	if f == nil {
		t.Fatalf("the negative control found no counterexample of %s/%s within rapid's checks: the property cannot catch what it exists for\nrapid log:\n%s",
			cfg.SystemName(), cfg.DesignName(), log)
	}
	return f
}

// search runs the property and returns its shrunk counterexample (nil if
// none) and rapid's log. forward passes rapid's report on to t.
func search(t *testing.T, forward bool, sys model.System, cfg model.Config, judge Judge, opts []Option) (*Failure, string) {
	t.Helper()
	o := options{maxSteps: sim.DefaultMaxSteps, program: "./cmd/simrun", pkg: ".", runs: DefaultShrinkRuns}
	for _, opt := range opts {
		opt(&o)
	}
	if o.checks > 0 {
		SetFlag(t, "rapid.checks", fmt.Sprint(o.checks))
	}
	if o.shrink > 0 {
		SetFlag(t, "rapid.shrinktime", o.shrink.String())
	}
	if err := model.Validate(sys, cfg); err != nil {
		t.Fatalf("proptest: %s: %v", cfg.SystemName(), err)
	}
	var last *Failure
	found := -1
	prop := func(rt *rapid.T) {
		c := cfg
		if len(o.profiles) > 0 {
			p := rapid.SampledFrom(o.profiles).Draw(rt, "profile")
			var err error
			if c, err = sys.NewConfig(cfg.DesignName(), p); err != nil {
				rt.Fatalf("proptest: profile %s: %v", p, err)
			}
		}
		rec := sim.NewRecorder(NewChoice(rt))
		out, err := sys.Run(c, rec, sim.Config{MaxSteps: o.maxSteps, KeepTrace: true, StopOnViolation: true}, model.Hooks{})
		if err != nil {
			rt.Fatalf("proptest: %s/%s: the system failed: %v", c.SystemName(), c.DesignName(), err)
		}
		if jerr := judge(&out); jerr != nil {
			if found < 0 {
				found = sim.CountClass(out.Result.Events, sim.ClassAction)
			}
			last = &Failure{Outcome: out, Draws: slices.Clone(rec.Draws()), Err: fmt.Errorf("%s/%s on profile %s: %w", c.SystemName(), c.DesignName(), c.ProfileName(), jerr)}
			rt.Fatalf("%v\n%s", last.Err, Story(&out))
		}
	}
	tb := &captureTB{t: t, forward: forward}
	check(t, tb, o.seed, prop)
	if !tb.failed || last == nil {
		if tb.failed {
			t.Fatalf("proptest: rapid failed without a counterexample:\n%s", tb.log.String())
		}
		return nil, tb.log.String()
	}
	last.Seed, last.FoundActions = currentSeed(), found
	if o.runs > 0 {
		refine(t, sys, &o, judge, last)
	}
	last.GoTest = fmt.Sprintf("go test %s -run '^%s$' -rapid.seed=%d -rapid.checks=%s", o.pkg, regexp.QuoteMeta(t.Name()), last.Seed, rapidChecks())
	if last.Outcome.Violated() {
		last.DrawsFile, last.WriteErr = writeDraws(t, &o, last)
		if last.DrawsFile != "" {
			last.Replay = fmt.Sprintf("go run %s replay %s --actions-only", o.program, last.DrawsFile)
		}
	} else {
		last.WriteErr = fmt.Errorf("the run observed nothing (the judge failed it on its outcome), and a .draws file replays a violation")
	}
	return last, tb.log.String()
}

// refine shrinks f's draws further with the simulator's shrinker, a
// budget of o.runs candidate runs: a candidate is kept when the judge
// still fails it and it is simpler (sim.Simpler). f is updated in place
// with the shrunk run (its trace kept).
func refine(t *testing.T, sys model.System, o *options, judge Judge, f *Failure) {
	t.Helper()
	cfg := f.Outcome.Config
	sc := sim.Config{MaxSteps: o.maxSteps, KeepTrace: true, StopOnViolation: true}
	run := func(draws []sim.Draw) (model.Outcome, []sim.Draw, error) {
		rec := sim.NewRecorder(sim.NewLog(draws))
		out, err := sys.Run(cfg, rec, sc, model.Hooks{})
		return out, sim.Canonical(rec.Draws(), len(draws)), err
	}
	var runErr error
	test := func(cand []sim.Draw) (bool, []sim.Draw) {
		out, canon, err := run(cand)
		if err != nil {
			runErr = err
			return false, nil
		}
		return judge(&out) != nil, canon
	}
	_, start, err := run(f.Draws)
	if err != nil {
		t.Fatalf("proptest: replaying the counterexample: %v", err)
	}
	shrunk, _ := sim.ShrinkWith(start, sim.ShrinkOptions{Budget: o.runs}, test)
	if runErr != nil {
		t.Logf("proptest: a candidate of the second shrink made the system fail (not adopted): %v", runErr)
	}
	if len(shrunk) == 0 {
		// Every draw shrank to 0, which a log supplies past its end; keep
		// one explicit zero so the .draws file is never empty.
		n := 2
		if len(f.Draws) > 0 {
			n = f.Draws[0].N
		}
		shrunk = []sim.Draw{{N: n, Value: 0}}
	}
	out, _, err := run(shrunk)
	if err != nil {
		t.Fatalf("proptest: replaying the shrunk counterexample: %v", err)
	}
	jerr := judge(&out)
	if jerr == nil {
		t.Fatalf("proptest: the shrunk counterexample no longer fails the property (nondeterminism?)")
	}
	f.Outcome, f.Draws = out, shrunk
	f.Err = fmt.Errorf("%s/%s on profile %s: %w", cfg.SystemName(), cfg.DesignName(), cfg.ProfileName(), jerr)
}

// rapidChecks is the current -rapid.checks.
func rapidChecks() string {
	return flagValue("rapid.checks")
}

// writeDraws writes f's .draws file into the options' directory, named
// after the test and the seed, and returns its path.
func writeDraws(t *testing.T, o *options, f *Failure) (string, error) {
	data, err := drawsfile.Encode(&f.Outcome, f.Draws, o.maxSteps, f.GoTest)
	if err != nil {
		return "", err
	}
	dir := o.drawsDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "snapsim-proptest")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("draws directory: %w", err)
	}
	name := strings.Trim(regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(t.Name(), "_"), "_")
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.draws", name, f.Seed))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}
