package baseline

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// Bug is one failure the model can show, as the configuration that can show
// it and the observation that proves it. The simulator and the free-mode
// stress test run the same configuration; only the scheduler differs.
type Bug struct {
	// Name is the short name used by `simrun bench --bugs`.
	Name string
	// Title says what goes wrong, for tables.
	Title string
	// Config is the model configuration (collector, profile, variant).
	Config model.Config
	// Flags are the simrun run/replay flags that select Config.
	Flags string
	// Kind is the observation that shows the bug, and Match a substring its
	// detail must contain ("" for any).
	Kind  sim.Kind
	Match string
}

// Hit returns the first observation that shows the bug.
func (b Bug) Hit(obs []sim.Observation) (sim.Observation, bool) {
	for _, o := range obs {
		if o.Kind == b.Kind && strings.Contains(o.Detail, b.Match) {
			return o, true
		}
	}
	return sim.Observation{}, false
}

var (
	stepNumber = regexp.MustCompile(`\bstep [0-9]+`)
	duration   = regexp.MustCompile(`\b[0-9]+(\.[0-9]+)?(ns|µs|us|ms|s)\b`)
)

// FailureKey is what makes two failures "the same" across runs whose
// timing differs: the observation's kind and detail with step numbers and
// durations blanked out, so the same file deleted by the same cause
// matches whatever step or millisecond it happened at.
func FailureKey(o sim.Observation) string {
	d := stepNumber.ReplaceAllString(o.Detail, "step N")
	d = duration.ReplaceAllString(d, "T")
	return string(o.Kind) + ": " + d
}

// Bugs returns the model's bugs that the benchmark compares: the report's
// shallow bug (naive: list, then open) and three deep ones.
func Bugs() []Bug {
	mk := func(collector, profile string, edit func(*model.Config)) model.Config {
		c, err := model.ProfileConfig(collector, profile)
		if err != nil {
			panic(fmt.Sprintf("baseline: %v", err)) // the catalogue names built-in profiles only
		}
		if edit != nil {
			edit(&c)
		}
		return c
	}
	return []Bug{
		{
			Name:   "naive",
			Title:  "list, compaction+GC, open (the report; TiKV naive generator)",
			Config: mk("naive", "default", nil),
			Flags:  "--collector naive",
			Kind:   sim.KindOpenDeletedFile, Match: ".sst",
		},
		{
			Name:   "lease-stall",
			Title:  "lease expires during a stall between check and open (unsafe lease-retry)",
			Config: mk("lease-retry", "slow-disk", func(c *model.Config) { c.NonAtomicCheck = true }),
			Flags:  "--collector lease-retry --profile slow-disk --non-atomic-check",
			Kind:   sim.KindOpenDeletedFile, Match: ".sst",
		},
		{
			Name:  "snap-gc",
			Title: "snapshot GC deletes files of a snapshot being received/applied (TiKV #11746)",
			Config: mk("lease-retry", "default", func(c *model.Config) {
				c.Variants.UnsafeSnapGC = true
				c.SnapGCTimeout = 5 * sim.Millisecond
			}),
			Flags: "--collector lease-retry --unsafe-snap-gc --snap-gc-timeout-us 5000",
			Kind:  sim.KindSnapFileMissing,
		},
		{
			Name:  "recycled-tid",
			Title: "I/O limiter reads an exited thread's procfs stats (TiKV #18030)",
			// Short-lived worker threads (one exit every 5 ms instead of
			// the default 20 ms): with the default churn a thread rarely
			// exits during a limiter read (0 of 2000 seeds under random since the engine's trivial moves, 27 under pct).
			Config: mk("lease-retry", "default", func(c *model.Config) {
				c.Variants.LimiterUnwrap = true
				c.ThreadChurnInterval = 5 * sim.Millisecond
			}),
			Flags: "--collector lease-retry --limiter-unwrap --thread-churn-us 5000",
			Kind:  sim.KindPanic, Match: "/proc/",
		},
	}
}

// BugByName finds a bug of Bugs.
func BugByName(name string) (Bug, bool) {
	for _, b := range Bugs() {
		if b.Name == name {
			return b, true
		}
	}
	return Bug{}, false
}
