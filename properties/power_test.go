package properties

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
	"pgregory.net/rapid"
)

// Property power: how many rapid checks each way of checking needs to
// catch a weakened design (README "Property power"). It is a measurement,
// not a test, and runs only when asked:
//
//	go test ./properties -run TestChecksToFailure -power -timeout 0 -v
//
// For each weakening and each way of checking it runs rapid with fixed
// seeds 1..-power-seeds, up to -power-max checks each, and prints the
// median number of tests to the first failure ("-" for a seed that found
// none within the bound; the median is then a lower bound, marked ">=").

var (
	power        = flag.Bool("power", false, "measure checks-to-failure of the weakened designs (TestChecksToFailure)")
	powerSeeds   = flag.Int("power-seeds", 5, "rapid seeds per measurement (1..N)")
	powerMax     = flag.Int("power-max", 2000, "checks per seed before giving up")
	powerFilters = flag.String("power-only", "", "comma-separated weakening names to measure (default all)")
)

// runWith is Run with a kernel strategy.
func runWith(t *rapid.T, cfg tikv.Config, st sim.Strategy) tikv.Outcome {
	out, err := tikvSys.Simulate(cfg, NewChoice(t), sim.Config{KeepTrace: true, StopOnViolation: true, Strategy: st})
	if err != nil {
		t.Fatalf("tikv.Simulate: %v", err)
	}
	return out
}

// powerCheck is one way of checking: what rapid runs against cfg.
type powerCheck struct {
	name string
	// profile: "" draws it as the strong cells do; else fixed.
	profile  string
	strategy string
	// judge: "" is the strong cell (the violation kinds lease-retry may
	// never show); else that outcome property.
	judge string
}

// powerProp is the property a powerCheck runs.
func powerProp(cfg tikv.Config, pc powerCheck) func(*rapid.T) {
	st, err := sim.ParseStrategy(pc.strategy)
	if err != nil {
		panic(err)
	}
	never := expectation{collector: cfg.Collector}.neverKinds()
	var judge Judge
	if pc.judge != "" {
		judge, _ = JudgeNamed(pc.judge)
	}
	return func(t *rapid.T) {
		profile := pc.profile
		if profile == "" {
			profile = rapid.SampledFrom(tikv.ProfileNames()).Draw(t, "profile")
		}
		c, err := tikv.ProfileConfig(cfg.Collector, profile)
		if err != nil {
			t.Fatalf("profile: %v", err)
		}
		c.Weaken, c.NonAtomicCheck = cfg.Weaken, cfg.NonAtomicCheck
		out := runWith(t, c, st)
		if pc.judge != "" {
			if err := judge.Check(&out); err != nil {
				t.Fatalf("%s: %v", pc.judge, err)
			}
			return
		}
		for _, k := range never {
			if Has(&out, k) {
				t.Fatalf("showed %s", k)
			}
		}
	}
}

// TestChecksToFailure measures, for each weakening, the checks each way of
// checking needs (median over fixed rapid seeds).
func TestChecksToFailure(t *testing.T) {
	if !*power {
		t.Skip("a measurement: run with -power (README \"Property power\")")
	}
	weakenings := []struct {
		name   string
		weaken func(c *tikv.Config)
		// judge is the outcome property aimed at it ("" for none).
		judge    string
		profiles []string
	}{
		{"broken-recheck", func(c *tikv.Config) { c.Weaken.LeaseRecheck = true }, "lease-covers-opens", []string{"", "slow-disk", "swarm", "pipeline"}},
		{"non-atomic-check", func(c *tikv.Config) { c.NonAtomicCheck = true }, "lease-covers-opens", []string{"", "slow-disk", "swarm"}},
		{"stale-epoch-ship", func(c *tikv.Config) { c.Weaken.EpochRecheck = true }, "no-stale-epoch-ship", []string{"", "split-merge", "swarm"}},
		{"lease-boundary", func(c *tikv.Config) { c.Weaken.LeaseBoundary = c.GCInterval }, "gc-outside-lease-windows", []string{"", "slow-disk", "swarm"}},
		{"lease-boundary-1us", func(c *tikv.Config) { c.Weaken.LeaseBoundary = 1 }, "gc-outside-lease-windows", []string{"", "slow-disk", "pipeline"}},
		{"lease-loss-uncounted", func(c *tikv.Config) { c.Weaken.LeaseLossReissued = true }, "retries-bounded", []string{"", "slow-disk", "swarm"}},
		{"snapgc-forgets-applying", func(c *tikv.Config) { c.Weaken.SnapGCApplying = true }, "", []string{"", "swarm", "pipeline"}},
	}
	only := map[string]bool{}
	for _, n := range strings.Split(*powerFilters, ",") {
		if n = strings.TrimSpace(n); n != "" {
			only[n] = true
		}
	}
	setFlag(t, "rapid.nofailfile", "true")
	setFlag(t, "rapid.checks", strconv.Itoa(*powerMax))
	setFlag(t, "rapid.shrinktime", "1ms")
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WEAKENING\tCHECK\tPROFILE\tSTRATEGY\tMEDIAN\tPER SEED")
	for _, w := range weakenings {
		if len(only) > 0 && !only[w.name] {
			continue
		}
		cfg := tikv.DefaultConfig("lease-retry")
		w.weaken(&cfg)
		var checks []powerCheck
		for _, judge := range []string{"", w.judge} {
			for _, pr := range w.profiles {
				for _, st := range []string{"random", "pct"} {
					checks = append(checks, powerCheck{profile: pr, strategy: st, judge: judge})
				}
			}
			if w.judge == "" {
				break
			}
		}
		for _, pc := range checks {
			var per []string
			var counts []int
			for seed := 1; seed <= *powerSeeds; seed++ {
				setFlag(t, "rapid.seed", strconv.Itoa(seed))
				rec := &recordingTB{name: t.Name()}
				func() {
					defer func() {
						if r := recover(); r != nil {
							if _, ok := r.(failNow); !ok {
								panic(r)
							}
						}
					}()
					rapid.Check(rec, powerProp(cfg, pc))
				}()
				n := 0
				if rec.failed {
					n = testsToFailure(rec.log.String())
				}
				if n == 0 {
					per = append(per, "-")
					counts = append(counts, *powerMax+1)
				} else {
					per = append(per, strconv.Itoa(n))
					counts = append(counts, n)
				}
			}
			slices.Sort(counts)
			med := counts[len(counts)/2]
			medText := strconv.Itoa(med)
			if med > *powerMax {
				medText = fmt.Sprintf(">%d", *powerMax)
			}
			check := "strong cell"
			if pc.judge != "" {
				check = pc.judge
			}
			profile := pc.profile
			if profile == "" {
				profile = "drawn"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", w.name, check, profile, pc.strategy, medText, strings.Join(per, " "))
			tw.Flush()
		}
	}
}
