package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// selection is what picks a run besides the seed: the system, the
// collector, the profile, the strategy, the step budget, the variant
// switches and settings. run and replay share it, so a replay line printed
// by run carries exactly what is needed to reproduce.
type selection struct {
	env *env
	// system names the system (--system); sys is it, once resolved.
	system    string
	sys       model.System
	collector string
	profile   string
	strategy  string
	maxSteps  int64
	asJSON    bool
	// variants and nonAtomic are the tikv system's variant switches, each
	// its own flag (--eager-gc, ...).
	variants tikv.Variants
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
	// switches (--variant NAME, repeatable) and sets (--set FIELD=VALUE,
	// repeatable) are any system's variants and settings, in the order
	// given.
	switches []string
	sets     []string
}

// variantFlags names each of the tikv system's variant switches and where
// it is stored, in the order the replay line prints them.
func (s *selection) variantFlags() []struct {
	name  string
	value *bool
	usage string
} {
	values := map[string]*bool{
		"non-atomic-check": &s.nonAtomic, "eager-gc": &s.variants.EagerGC, "unsafe-snap-gc": &s.variants.UnsafeSnapGC,
		"skip-apply-verify": &s.variants.SkipApplyVerify, "non-exclusive-build": &s.variants.NonExclusiveBuild,
		"limiter-unwrap": &s.variants.LimiterUnwrap, "no-snap-gc": &s.variants.NoSnapGC,
	}
	var out []struct {
		name  string
		value *bool
		usage string
	}
	for _, v := range tikv.VariantSwitches {
		out = append(out, struct {
			name  string
			value *bool
			usage string
		}{v.Name, values[v.Name], v.Summary})
	}
	return out
}

// tikvFlags reports the tikv system's own flags that are set away from
// their defaults (for a system that is not tikv: an error).
func (s *selection) tikvFlags() []string {
	var out []string
	for _, v := range s.variantFlags() {
		if *v.value {
			out = append(out, "--"+v.name)
		}
	}
	if s.generators != 1 {
		out = append(out, "--snap-generators")
	}
	if s.snapGCTimeoutUS != 0 {
		out = append(out, "--snap-gc-timeout-us")
	}
	if s.gcGraceUS != 0 {
		out = append(out, "--gc-grace-us")
	}
	if s.threadChurnUS != 0 {
		out = append(out, "--thread-churn-us")
	}
	return out
}

// registerSystem registers --system, --variant and --set, the flags that
// select any system's configuration.
func (s *selection) registerSystem(f *pflag.FlagSet) {
	f.StringVar(&s.system, "system", s.env.defaultSystem, "the simulated system: "+strings.Join(s.env.systems.Names(), ", ")+" (simrun systems lists them)")
	f.StringArrayVar(&s.switches, "variant", nil, "turn on a variant switch of the system, by name (repeatable; simrun ops --system S lists them)")
	f.StringArrayVar(&s.sets, "set", nil, "set a numeric setting of the system, FIELD=VALUE (repeatable; simrun ops --system S lists them)")
}

// registerTiKV registers the tikv system's own flags: its variant switches
// and the settings simrun has always had a flag for.
func (s *selection) registerTiKV(f *pflag.FlagSet) {
	for _, v := range s.variantFlags() {
		f.BoolVar(v.value, v.name, false, "tikv: "+v.usage)
	}
	f.Var(newIntValue(&s.generators, 1), "snap-generators", "tikv: concurrent snapshot generators, 1..8 (TiKV #2923 needs 2; decimal or 0x-hex)")
	f.Var(newIntValue(&s.snapGCTimeoutUS, 0), "snap-gc-timeout-us", "tikv: snapshot GC treats unapplied snapshots older than this as stale (0: the profile's 200000; decimal or 0x-hex)")
	f.Var(newIntValue(&s.gcGraceUS, 0), "gc-grace-us", "tikv: GC keeps leased files this many virtual microseconds past the lease's expiry (decimal or 0x-hex)")
	f.Var(newIntValue(&s.threadChurnUS, 0), "thread-churn-us", "tikv: mean interval between worker-thread exits in virtual microseconds (0: the profile's)")
}

func (s *selection) register(cmd *cobra.Command) {
	f := cmd.Flags()
	s.registerSystem(f)
	f.StringVar(&s.collector, "collector", "", "collector design (default: the system's, lease-retry for tikv): "+strings.Join(s.env.defaultDesigns(), ", "))
	f.StringVar(&s.profile, "profile", "", "workload profile (default: the system's, default for tikv): "+strings.Join(s.env.defaultProfiles(), ", "))
	f.StringVar(&s.strategy, "strategy", "random", "scheduling strategy: random, pct or pct:DEPTH")
	s.registerTiKV(f)
	f.Var(newIntValue(&s.maxSteps, sim.DefaultMaxSteps), "max-steps", "step budget per seed (decimal or 0x-hex)")
	f.BoolVar(&s.asJSON, "json", false, "print JSON instead of text")
}

// lookup resolves --system (s.sys), and fills the collector and profile
// with the system's defaults where they are not given.
func (s *selection) lookup() error {
	if s.sys != nil {
		return nil
	}
	sys, err := s.env.systems.Lookup(s.system)
	if err != nil {
		return usagef("--system: %v", err)
	}
	if s.system != tikv.Name {
		if flags := s.tikvFlags(); len(flags) > 0 {
			return usagef("%s: a flag of the tikv system; system %s takes --variant NAME and --set FIELD=VALUE (simrun ops --system %s lists them)", strings.Join(flags, ", "), s.system, s.system)
		}
	}
	spec := sys.Spec()
	if s.collector == "" {
		s.collector = spec.DefaultDesign
	}
	if s.profile == "" {
		s.profile = spec.DefaultProfile
	}
	s.sys = sys
	return nil
}

// resolve validates the selection and builds the system's and the
// kernel's configurations.
func (s *selection) resolve() (model.Config, sim.Config, error) {
	if err := s.lookup(); err != nil {
		return nil, sim.Config{}, err
	}
	spec := s.sys.Spec()
	if !model.HasName(spec.Profiles, s.profile) {
		return nil, sim.Config{}, usagef("--profile: unknown profile %q (want one of %v)", s.profile, sortedNames(spec.Profiles))
	}
	if !model.HasName(spec.Designs, s.collector) {
		return nil, sim.Config{}, usagef("--collector: unknown collector %q (want one of %v)", s.collector, model.Names(spec.Designs))
	}
	cfg, err := s.sys.NewConfig(s.collector, s.profile)
	if err != nil {
		return nil, sim.Config{}, usagef("--profile: %v", err)
	}
	if s.system == tikv.Name {
		if cfg, err = s.applyTiKV(cfg); err != nil {
			return nil, sim.Config{}, err
		}
	}
	for _, v := range s.switches {
		if cfg, err = cfg.WithVariant(v); err != nil {
			return nil, sim.Config{}, usagef("--variant: %v", err)
		}
	}
	for _, kv := range s.sets {
		field, value, ok := strings.Cut(kv, "=")
		v, perr := parseSeed("--set", value)
		if !ok || perr != nil || v > 1e12 {
			return nil, sim.Config{}, usagef("--set: %q is not FIELD=VALUE (want a field of the system and a decimal or 0x-hex integer in 0..1000000000000, e.g. lease_ttl_us=5000)", clip(kv, 60))
		}
		if cfg, err = cfg.WithSetting(field, int64(v)); err != nil {
			return nil, sim.Config{}, usagef("--set: %v", err)
		}
	}
	if err := model.Validate(s.sys, cfg); err != nil {
		flag := "--collector"
		if !strings.Contains(err.Error(), "collector") {
			flag = "configuration"
		}
		return nil, sim.Config{}, usagef("%s: %v", flag, err)
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
		return nil, sim.Config{}, usagef("--strategy: %v", err)
	}
	if s.maxSteps < 1 || s.maxSteps > 1e9 {
		return nil, sim.Config{}, usagef("--max-steps: %d is out of range (want 1..1000000000)", s.maxSteps)
	}
	return cfg, sim.Config{MaxSteps: s.maxSteps, Strategy: st, StopOnViolation: true}, nil
}

// applyTiKV applies the tikv system's own flags to cfg.
func (s *selection) applyTiKV(cfg model.Config) (model.Config, error) {
	var err error
	for _, v := range s.variantFlags() {
		if *v.value {
			if cfg, err = cfg.WithVariant(v.name); err != nil {
				return nil, usagef("--%s: %v", v.name, err)
			}
		}
	}
	if s.gcGraceUS < 0 || s.gcGraceUS > 1e12 {
		return nil, usagef("--gc-grace-us: %d is out of range (want 0..1000000000000)", s.gcGraceUS)
	}
	if cfg, err = cfg.WithSetting("gc_grace_us", s.gcGraceUS); err != nil {
		return nil, usagef("--gc-grace-us: %v", err)
	}
	if s.generators < 1 || s.generators > 8 {
		return nil, usagef("--snap-generators: %d is out of range (want 1..8)", s.generators)
	}
	if cfg, err = cfg.WithSetting("snap_generators", s.generators); err != nil {
		return nil, usagef("--snap-generators: %v", err)
	}
	if s.snapGCTimeoutUS < 0 || s.snapGCTimeoutUS > 1e12 {
		return nil, usagef("--snap-gc-timeout-us: %d is out of range (want 0..1000000000000)", s.snapGCTimeoutUS)
	}
	if s.snapGCTimeoutUS > 0 {
		if cfg, err = cfg.WithSetting("snap_gc_timeout_us", s.snapGCTimeoutUS); err != nil {
			return nil, usagef("--snap-gc-timeout-us: %v", err)
		}
	}
	if s.threadChurnUS < 0 || s.threadChurnUS > 1e12 {
		return nil, usagef("--thread-churn-us: %d is out of range (want 0..1000000000000)", s.threadChurnUS)
	}
	if s.threadChurnUS > 0 {
		if cfg, err = cfg.WithSetting("thread_churn_interval_us", s.threadChurnUS); err != nil {
			return nil, usagef("--thread-churn-us: %v", err)
		}
	}
	return cfg, nil
}

// variantNames are the variant switches the selection turns on: the tikv
// system's flags, then --variant, in order.
func (s *selection) variantNames() []string {
	var out []string
	for _, v := range s.variantFlags() {
		if *v.value {
			out = append(out, v.name)
		}
	}
	return append(out, s.switches...)
}

// setVariants turns on the variants names: the tikv system's by their
// flags, any other (or another system's) as --variant. It reports the
// first name the tikv system does not know, for a selection of tikv.
func (s *selection) setVariants(names []string) error {
	for _, name := range names {
		found := false
		if s.system == tikv.Name {
			for _, v := range s.variantFlags() {
				if v.name == name {
					*v.value, found = true, true
				}
			}
			if !found {
				return fmt.Errorf("unknown variant %q", name)
			}
			continue
		}
		s.switches = append(s.switches, name)
	}
	return nil
}

// replayLine is the shell command that replays seed with this selection;
// every word is shell-quoted where needed, so it can be pasted as is.
func (s *selection) replayLine(seed uint64) string {
	return strings.Join(append([]string{s.env.invocation(), "replay"}, s.words(seed)...), " ")
}

// words are the selection's flags as a command line repeats them (with
// the seed): the system unless it is the default, the collector, the seed,
// and every flag away from its default.
func (s *selection) words(seed uint64) []string {
	var parts []string
	if s.system != s.env.defaultSystem {
		parts = append(parts, "--system", shellQuote(s.system))
	}
	parts = append(parts, "--collector", shellQuote(s.collector), "--seed", strconv.FormatUint(seed, 10))
	defaultProfile := "default"
	if s.sys != nil {
		defaultProfile = s.sys.Spec().DefaultProfile
	}
	if s.profile != defaultProfile {
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
	for _, v := range s.switches {
		parts = append(parts, "--variant", shellQuote(v))
	}
	for _, kv := range s.sets {
		parts = append(parts, "--set", shellQuote(kv))
	}
	if s.strategy != "random" {
		parts = append(parts, "--strategy", shellQuote(s.strategy))
	}
	if s.maxSteps != sim.DefaultMaxSteps {
		parts = append(parts, "--max-steps", strconv.FormatInt(s.maxSteps, 10))
	}
	return parts
}

// invocation is how the user ran this binary: "go run PATH" when it was
// built by go run into a temporary directory (PATH is ./cmd/simrun, or
// the main package cli.WithGoRun names), else its path.
func (e *env) invocation() string {
	arg0 := os.Args[0]
	if strings.Contains(arg0, "go-build") || strings.HasSuffix(arg0, ".test") {
		return "go run " + e.goRun
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
func runSeed(sys model.System, cfg model.Config, sc sim.Config, seed uint64) (model.Outcome, error) {
	out, err := modelRun(sys, cfg, sim.NewPRNG(seed), sc)
	if err != nil {
		return out, fmt.Errorf("seed %d: %w", seed, err)
	}
	return out, nil
}
