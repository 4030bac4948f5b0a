package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
	"github.com/spf13/cobra"
)

// selection is what picks a run besides the seed: the collector, the
// strategy and the step budget. run and replay share it, so a replay line
// printed by run carries exactly what is needed to reproduce.
type selection struct {
	collector string
	profile   string
	strategy  string
	maxSteps  int64
	asJSON    bool
	variants  tikv.Variants
	// nonAtomic and gcGraceUS are lease-retry's atomicity switches.
	nonAtomic bool
	gcGraceUS int64
	// generators is the number of concurrent snapshot generators.
	generators int64
	// snapGCTimeoutUS overrides the snapshot GC timeout (0: the profile's).
	snapGCTimeoutUS int64
	// threadChurnUS overrides the mean interval between worker-thread exits
	// (0: the profile's).
	threadChurnUS int64
}

// variantFlags names each variant switch and where it is stored, in the
// order the replay line prints them.
func (s *selection) variantFlags() []struct {
	name  string
	value *bool
	usage string
} {
	return []struct {
		name  string
		value *bool
		usage string
	}{
		{"non-atomic-check", &s.nonAtomic, "lease-retry: check the lease in one step and open in the next (a stall can fall in between)"},
		{"eager-gc", &s.variants.EagerGC, "unsafe GC: delete SSTs as soon as they leave the current version, ignoring references and leases"},
		{"unsafe-snap-gc", &s.variants.UnsafeSnapGC, "unsafe snapshot GC: ignore the registry of snapshots in use (TiKV #11746)"},
		{"skip-apply-verify", &s.variants.SkipApplyVerify, "the learner ingests snapshots without checking their checksums"},
		{"non-exclusive-build", &s.variants.NonExclusiveBuild, "allow two builds of one snapshot key at once (TiKV #2923)"},
		{"limiter-unwrap", &s.variants.LimiterUnwrap, "the snapshot I/O limiter unwraps its procfs stats read (TiKV #18030)"},
		{"no-snap-gc", &s.variants.NoSnapGC, "disable snapshot GC"},
	}
}

func (s *selection) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&s.collector, "collector", "lease-retry", "collector design: "+strings.Join(tikvSys.DesignNames(), ", "))
	f.StringVar(&s.profile, "profile", "default", "workload profile: "+strings.Join(tikv.ProfileNames(), ", "))
	f.StringVar(&s.strategy, "strategy", "random", "scheduling strategy: random, pct or pct:DEPTH")
	for _, v := range s.variantFlags() {
		f.BoolVar(v.value, v.name, false, v.usage)
	}
	f.Var(newIntValue(&s.generators, 1), "snap-generators", "concurrent snapshot generators, 1..8 (TiKV #2923 needs 2; decimal or 0x-hex)")
	f.Var(newIntValue(&s.snapGCTimeoutUS, 0), "snap-gc-timeout-us", "snapshot GC treats unapplied snapshots older than this as stale (0: the profile's 200000; decimal or 0x-hex)")
	f.Var(newIntValue(&s.gcGraceUS, 0), "gc-grace-us", "GC keeps leased files this many virtual microseconds past the lease's expiry (decimal or 0x-hex)")
	f.Var(newIntValue(&s.threadChurnUS, 0), "thread-churn-us", "mean interval between worker-thread exits in virtual microseconds (0: the profile's)")
	f.Var(newIntValue(&s.maxSteps, sim.DefaultMaxSteps), "max-steps", "step budget per seed (decimal or 0x-hex)")
	f.BoolVar(&s.asJSON, "json", false, "print JSON instead of text")
}

// resolve validates the selection and builds the model and kernel configs.
func (s *selection) resolve() (tikv.Config, sim.Config, error) {
	cfg, err := tikv.ProfileConfig(s.collector, s.profile)
	if err != nil {
		return tikv.Config{}, sim.Config{}, usagef("--profile: %v", err)
	}
	cfg.Variants = s.variants
	cfg.NonAtomicCheck = s.nonAtomic
	if s.gcGraceUS < 0 || s.gcGraceUS > 1e12 {
		return tikv.Config{}, sim.Config{}, usagef("--gc-grace-us: %d is out of range (want 0..1000000000000)", s.gcGraceUS)
	}
	cfg.GCGrace = sim.Micros(s.gcGraceUS)
	if s.generators < 1 || s.generators > 8 {
		return tikv.Config{}, sim.Config{}, usagef("--snap-generators: %d is out of range (want 1..8)", s.generators)
	}
	cfg.SnapGenerators = int(s.generators)
	if s.snapGCTimeoutUS < 0 || s.snapGCTimeoutUS > 1e12 {
		return tikv.Config{}, sim.Config{}, usagef("--snap-gc-timeout-us: %d is out of range (want 0..1000000000000)", s.snapGCTimeoutUS)
	}
	if s.snapGCTimeoutUS > 0 {
		cfg.SnapGCTimeout = sim.Micros(s.snapGCTimeoutUS)
	}
	if s.threadChurnUS < 0 || s.threadChurnUS > 1e12 {
		return tikv.Config{}, sim.Config{}, usagef("--thread-churn-us: %d is out of range (want 0..1000000000000)", s.threadChurnUS)
	}
	if s.threadChurnUS > 0 {
		cfg.ThreadChurnInterval = sim.Micros(s.threadChurnUS)
	}
	if err := tikvSys.Validate(cfg); err != nil {
		flag := "--collector"
		if !strings.Contains(err.Error(), "collector") {
			flag = "configuration"
		}
		return tikv.Config{}, sim.Config{}, usagef("%s: %v", flag, err)
	}
	st, err := sim.ParseStrategy(s.strategy)
	if err != nil || st.Name == "replay" {
		switch name, _, _ := strings.Cut(s.strategy, ":"); {
		case err == nil:
			err = fmt.Errorf("strategy %q needs a recorded schedule; use random, pct or pct:DEPTH", s.strategy)
		case name != "pct":
			// sim's message offers "replay", which the CLI refuses.
			err = fmt.Errorf("%q is not a strategy (want random, pct or pct:DEPTH with DEPTH in 1..64)", clip(s.strategy, 60))
		}
		return tikv.Config{}, sim.Config{}, usagef("--strategy: %v", err)
	}
	if s.maxSteps < 1 || s.maxSteps > 1e9 {
		return tikv.Config{}, sim.Config{}, usagef("--max-steps: %d is out of range (want 1..1000000000)", s.maxSteps)
	}
	return cfg, sim.Config{MaxSteps: s.maxSteps, Strategy: st, StopOnViolation: true}, nil
}

// replayLine is the shell command that replays seed with this selection;
// every word is shell-quoted where needed, so it can be pasted as is.
func (s *selection) replayLine(seed uint64) string {
	parts := []string{invocation(), "replay", "--collector", shellQuote(s.collector), "--seed", strconv.FormatUint(seed, 10)}
	if s.profile != "default" {
		parts = append(parts, "--profile", shellQuote(s.profile))
	}
	for _, v := range s.variantFlags() {
		if *v.value {
			parts = append(parts, "--"+v.name)
		}
	}
	if s.generators != 1 {
		parts = append(parts, "--snap-generators", strconv.FormatInt(s.generators, 10))
	}
	if s.snapGCTimeoutUS != 0 {
		parts = append(parts, "--snap-gc-timeout-us", strconv.FormatInt(s.snapGCTimeoutUS, 10))
	}
	if s.gcGraceUS != 0 {
		parts = append(parts, "--gc-grace-us", strconv.FormatInt(s.gcGraceUS, 10))
	}
	if s.threadChurnUS != 0 {
		parts = append(parts, "--thread-churn-us", strconv.FormatInt(s.threadChurnUS, 10))
	}
	if s.strategy != "random" {
		parts = append(parts, "--strategy", shellQuote(s.strategy))
	}
	if s.maxSteps != sim.DefaultMaxSteps {
		parts = append(parts, "--max-steps", strconv.FormatInt(s.maxSteps, 10))
	}
	return strings.Join(parts, " ")
}

// invocation is how the user ran this binary: "go run ./cmd/simrun" when it
// was built by go run into a temporary directory, else its path.
func invocation() string {
	arg0 := os.Args[0]
	if strings.Contains(arg0, "go-build") || strings.HasSuffix(arg0, ".test") {
		return "go run ./cmd/simrun"
	}
	return shellQuote(arg0)
}

// shellQuote returns s as one POSIX shell word: unchanged when it holds only
// characters no shell treats specially, else single-quoted.
func shellQuote(s string) string {
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:,+=@%", r)
	}
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !safe(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// parseSeed accepts a decimal or 0x-hexadecimal uint64.
func parseSeed(flag, s string) (uint64, error) {
	t := strings.TrimSpace(s)
	var v uint64
	var err error
	if rest, ok := strings.CutPrefix(strings.ToLower(t), "0x"); ok {
		v, err = strconv.ParseUint(rest, 16, 64)
	} else {
		v, err = strconv.ParseUint(t, 10, 64)
	}
	if err != nil || t == "" {
		return 0, usagef("%s: %q is not a seed (want a decimal or 0x-hex unsigned 64-bit integer, e.g. 42 or 0x2a)", flag, clip(s, 60))
	}
	return v, nil
}

// intValue is an int64 flag read in decimal or 0x-hex, like the seeds.
// pflag's own int flags parse with base 0, which reads "010" as octal 8 and
// accepts 0b and 0o forms the contract does not promise.
type intValue int64

func newIntValue(p *int64, def int64) *intValue {
	*p = def
	return (*intValue)(p)
}

func (v *intValue) String() string { return strconv.FormatInt(int64(*v), 10) }
func (v *intValue) Type() string   { return "int" }

func (v *intValue) Set(s string) error {
	t := strings.TrimSpace(s)
	digits, neg := strings.CutPrefix(t, "-")
	var u uint64
	var err error
	if rest, ok := strings.CutPrefix(strings.ToLower(digits), "0x"); ok {
		u, err = strconv.ParseUint(rest, 16, 63)
	} else {
		u, err = strconv.ParseUint(digits, 10, 63)
	}
	if err != nil {
		return errors.New("want a decimal or 0x-hex integer, e.g. 100 or 0x64")
	}
	n := int64(u)
	if neg {
		n = -n
	}
	*v = intValue(n)
	return nil
}

// runSeed runs one seed of the selection.
func runSeed(cfg tikv.Config, sc sim.Config, seed uint64) (tikv.Outcome, error) {
	out, err := modelRun(cfg, sim.NewPRNG(seed), sc)
	if err != nil {
		return out, fmt.Errorf("seed %d: %w", seed, err)
	}
	return out, nil
}
