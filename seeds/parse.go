// Package seeds is the regression corpus: scenario files (scripted
// interleavings) and seed files (a PRNG seed plus configuration), each with
// its expected observations, and the loader and runner that replay them.
// The format is documented in README.md.
package seeds

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// File is a parsed corpus file.
type File struct {
	// Path is the file's name as given to Parse.
	Path string
	// IsSeed is true for a seed file (no steps; replayed with model.Run).
	IsSeed bool
	// Scenario holds the configuration, seed, steps and expectations.
	Scenario model.Scenario
	// Strategy is the scheduling strategy (default "random"); MaxSteps the
	// step budget of the run (default sim.DefaultMaxSteps).
	Strategy string
	MaxSteps int64
	// Profile is the workload profile named (default "default").
	Profile string
}

// ParseError is a malformed line: it names file:line and the expected form.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Variant names, as the CLI spells them.
var variantNames = []string{"non-atomic-check", "eager-gc", "unsafe-snap-gc", "skip-apply-verify", "non-exclusive-build", "limiter-unwrap", "no-snap-gc"}

func setVariant(c *model.Config, name string) bool {
	v := &c.Variants
	switch name {
	case "non-atomic-check":
		c.NonAtomicCheck = true
	case "eager-gc":
		v.EagerGC = true
	case "unsafe-snap-gc":
		v.UnsafeSnapGC = true
	case "skip-apply-verify":
		v.SkipApplyVerify = true
	case "non-exclusive-build":
		v.NonExclusiveBuild = true
	case "limiter-unwrap":
		v.LimiterUnwrap = true
	case "no-snap-gc":
		v.NoSnapGC = true
	default:
		return false
	}
	return true
}

// setFields are the numeric fields `set` accepts, in documented order.
var setFields = []string{
	"lease_ttl_us", "gc_grace_us", "gc_interval_us", "snap_gc_timeout_us", "snap_gc_interval_us",
	"snap_generators", "max_puts", "max_snapshots", "key_space", "max_flush_threshold",
	"max_compact_trigger", "snapshot_delay_steps", "thread_churn_interval_us", "max_crashes",
	"crash_interval_us", "max_region_ops", "snap_io_bytes_per_sec", "stall_permille", "stall_us",
	"max_steps",
}

// setField applies one `set` line; max_steps is the kernel's, returned
// through f.
func setField(f *File, c *model.Config, name string, v int64) bool {
	us := sim.Micros(v)
	switch name {
	case "lease_ttl_us":
		c.LeaseTTL = us
	case "gc_grace_us":
		c.GCGrace = us
	case "gc_interval_us":
		c.GCInterval = us
	case "snap_gc_timeout_us":
		c.SnapGCTimeout = us
	case "snap_gc_interval_us":
		c.SnapGCInterval = us
	case "snap_generators":
		c.SnapGenerators = int(v)
	case "max_puts":
		c.MaxPuts = int(v)
	case "max_snapshots":
		c.MaxSnapshots = int(v)
	case "key_space":
		c.KeySpace = int(v)
	case "max_flush_threshold":
		c.MaxFlushThreshold = int(v)
	case "max_compact_trigger":
		c.MaxCompactTrigger = int(v)
	case "snapshot_delay_steps":
		c.SnapshotDelaySteps = int(v)
	case "thread_churn_interval_us":
		c.ThreadChurnInterval = us
	case "max_crashes":
		c.MaxCrashes = int(v)
	case "crash_interval_us":
		c.CrashInterval = us
	case "max_region_ops":
		c.MaxRegionOps = int(v)
	case "snap_io_bytes_per_sec":
		c.SnapIOBytesPerSec = v
	case "stall_permille":
		c.FS.Faults.StallPermille = int(v)
	case "stall_us":
		c.FS.Faults.StallMicros = us
	case "max_steps":
		f.MaxSteps = v
	default:
		return false
	}
	return true
}

// Load reads and parses a corpus file; a name ending in .seed is a seed
// file, anything else a scenario file.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses a scenario file (or, if name ends in .seed, a seed file).
// Every error is a *ParseError naming name:line and the expected form.
func Parse(name string, data []byte) (*File, error) {
	f := &File{Path: name, IsSeed: strings.HasSuffix(name, ".seed"), Strategy: "random", MaxSteps: sim.DefaultMaxSteps, Profile: "default"}
	sc := &f.Scenario
	sc.Name = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	collector := "lease-retry"
	errf := func(line int, format string, args ...any) error {
		return &ParseError{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	type setting struct {
		line        int
		key, value  string
		variantName string
	}
	var settings []setting
	seen := map[string]int{} // once-only keywords -> line
	expectKinds := map[sim.Kind]bool{}
	sawSteps, sawSeed := false, false
	lines := strings.Split(string(data), "\n")
	for i, raw := range lines {
		ln := i + 1
		text := raw
		if j := strings.IndexByte(text, '#'); j >= 0 {
			text = text[:j]
		}
		w := strings.Fields(text)
		if len(w) == 0 {
			continue
		}
		kw := w[0]
		once := func(form string, n int) error {
			if len(w) != n {
				return errf(ln, "want %q", form)
			}
			if prev, dup := seen[kw]; dup {
				return errf(ln, "%s given twice (first at line %d); want one %q line", kw, prev, form)
			}
			seen[kw] = ln
			return nil
		}
		isStep := false
		switch kw {
		case "collector":
			if err := once("collector NAME", 2); err != nil {
				return nil, err
			}
			if !contains(model.CollectorNames(), w[1]) {
				return nil, errf(ln, "unknown collector %q; want \"collector NAME\" with NAME one of %s", w[1], strings.Join(model.CollectorNames(), ", "))
			}
			collector = w[1]
		case "profile":
			if err := once("profile NAME", 2); err != nil {
				return nil, err
			}
			if !contains(model.ProfileNames(), w[1]) {
				return nil, errf(ln, "unknown profile %q; want \"profile NAME\" with NAME one of %s", w[1], strings.Join(model.ProfileNames(), ", "))
			}
			f.Profile = w[1]
		case "strategy":
			if err := once("strategy random|pct|pct:DEPTH", 2); err != nil {
				return nil, err
			}
			st, err := sim.ParseStrategy(w[1])
			if err != nil || st.Name == "replay" {
				return nil, errf(ln, "bad strategy %q; want \"strategy random|pct|pct:DEPTH\"", w[1])
			}
			f.Strategy = w[1]
		case "seed":
			if err := once("seed N", 2); err != nil {
				return nil, err
			}
			v, ok := parseUint(w[1])
			if !ok {
				return nil, errf(ln, "bad seed %q; want \"seed N\" with N a decimal or 0x-hex unsigned 64-bit integer", w[1])
			}
			sc.Seed, sawSeed = v, true
		case "variant":
			if len(w) != 2 {
				return nil, errf(ln, "want \"variant NAME\" with NAME one of %s", strings.Join(variantNames, ", "))
			}
			if !contains(variantNames, w[1]) {
				return nil, errf(ln, "unknown variant %q; want \"variant NAME\" with NAME one of %s", w[1], strings.Join(variantNames, ", "))
			}
			settings = append(settings, setting{line: ln, variantName: w[1]})
		case "set":
			if len(w) != 3 {
				return nil, errf(ln, "want \"set FIELD VALUE\" with FIELD one of %s", strings.Join(setFields, ", "))
			}
			if !contains(setFields, w[1]) {
				return nil, errf(ln, "unknown field %q; want \"set FIELD VALUE\" with FIELD one of %s", w[1], strings.Join(setFields, ", "))
			}
			if _, ok := parseUint(w[2]); !ok {
				return nil, errf(ln, "bad value %q; want \"set %s VALUE\" with VALUE a decimal or 0x-hex non-negative integer", w[2], w[1])
			}
			settings = append(settings, setting{line: ln, key: w[1], value: w[2]})
		case "expect", "expect-not":
			if len(w) != 2 {
				return nil, errf(ln, "want \"%s KIND\"%s with KIND one of %s", kw, map[bool]string{true: " or \"expect none\"", false: ""}[kw == "expect"], kindList())
			}
			if kw == "expect" && w[1] == "none" {
				if len(sc.Expect) > 0 || len(sc.ExpectNot) > 0 || sc.ExpectNone {
					return nil, errf(ln, "\"expect none\" excludes every other expect line; want it alone")
				}
				sc.ExpectNone = true
				continue
			}
			k := sim.Kind(w[1])
			if !sim.ValidKind(k) {
				return nil, errf(ln, "unknown kind %q; want \"%s KIND\" with KIND one of %s", w[1], kw, kindList())
			}
			if sc.ExpectNone {
				return nil, errf(ln, "\"expect none\" was given; want no other expect line")
			}
			if expectKinds[k] {
				return nil, errf(ln, "%s given twice; want one expect line per kind", k)
			}
			expectKinds[k] = true
			if kw == "expect" {
				sc.Expect = append(sc.Expect, k)
			} else {
				if f.IsSeed {
					return nil, errf(ln, "seed files take \"expect KIND\" or \"expect none\", not expect-not")
				}
				sc.ExpectNot = append(sc.ExpectNot, k)
			}
		default:
			st, err := parseStep(w)
			if err != nil {
				return nil, errf(ln, "%v", err)
			}
			isStep = true
			st.Source = fmt.Sprintf("%s:%d", name, ln)
			st.Text = strings.Join(w, " ")
			sc.Steps = append(sc.Steps, st)
			sawSteps = true
		}
		if !isStep && sawSteps && kw != "expect" && kw != "expect-not" {
			return nil, errf(ln, "configuration line %q after a step; want every configuration line before the first step", kw)
		}
		if isStep && f.IsSeed {
			return nil, errf(ln, "seed files take no steps; want collector, profile, variant, set, seed, strategy and expect lines (use a .scenario file for steps)")
		}
	}
	last := len(lines)
	if !sawSeed && f.IsSeed {
		return nil, errf(last, "missing \"seed N\" line; a seed file needs one")
	}
	if len(sc.Expect) == 0 && !sc.ExpectNone && len(sc.ExpectNot) == 0 {
		return nil, errf(last, "no expectation; want at least one \"expect KIND\" or \"expect none\" line")
	}
	if f.IsSeed && len(sc.ExpectNot) > 0 {
		return nil, errf(last, "seed files take \"expect KIND\" or \"expect none\"")
	}
	cfg, err := model.ProfileConfig(collector, f.Profile)
	if err != nil {
		return nil, errf(seen["profile"], "%v", err)
	}
	for _, s := range settings {
		if s.variantName != "" {
			setVariant(&cfg, s.variantName)
			continue
		}
		v, _ := parseUint(s.value)
		if v > 1e12 {
			return nil, errf(s.line, "value %s out of range; want \"set %s VALUE\" with VALUE in 0..1000000000000", s.value, s.key)
		}
		setField(f, &cfg, s.key, int64(v))
	}
	if f.MaxSteps < 1 || f.MaxSteps > 1e9 {
		return nil, errf(last, "max_steps %d out of range; want 1..1000000000", f.MaxSteps)
	}
	if err := cfg.Validate(); err != nil {
		return nil, errf(last, "%v", err)
	}
	sc.Config = cfg
	return f, nil
}

// stepForms lists the step lines, for error messages.
const stepForms = `"run ACTOR until OP [N]", "run ACTOR steps N", "crash n1|n2", "restart n1|n2", "split REGION at KEY", "merge SOURCE into TARGET", "conf-change REGION" or "stop"`

func parseStep(w []string) (model.ScenarioStep, error) {
	bad := func(form string) (model.ScenarioStep, error) {
		return model.ScenarioStep{}, fmt.Errorf("malformed %s line; want %s", w[0], form)
	}
	switch w[0] {
	case "run":
		if len(w) >= 4 && w[2] == "until" && len(w) <= 5 {
			n := 1
			if len(w) == 5 {
				v, ok := parseUint(w[4])
				if !ok || v < 1 || v > 1e6 {
					return bad(`"run ACTOR until OP [N]" with N in 1..1000000`)
				}
				n = int(v)
			}
			return model.ScenarioStep{Kind: model.StepRunUntil, Actor: w[1], Op: w[3], N: n}, nil
		}
		if len(w) == 4 && w[2] == "steps" {
			v, ok := parseUint(w[3])
			if !ok || v < 1 || v > 1e6 {
				return bad(`"run ACTOR steps N" with N in 1..1000000`)
			}
			return model.ScenarioStep{Kind: model.StepRunSteps, Actor: w[1], N: int(v)}, nil
		}
		return bad(`"run ACTOR until OP [N]" or "run ACTOR steps N"`)
	case "crash", "restart":
		if len(w) != 2 || (w[1] != "n1" && w[1] != "n2") {
			return bad(fmt.Sprintf(`"%s NODE" with NODE n1 (leader) or n2 (learner)`, w[0]))
		}
		kind := model.StepCrash
		if w[0] == "restart" {
			kind = model.StepRestart
		}
		return model.ScenarioStep{Kind: kind, Node: w[1]}, nil
	case "split":
		form := `"split REGION at KEY" with REGION a region id >= 1 and KEY like k004 (or a key index)`
		if len(w) != 4 || w[2] != "at" {
			return bad(form)
		}
		r, ok := parseUint(w[1])
		key, kok := parseKey(w[3])
		if !ok || r < 1 || !kok {
			return bad(form)
		}
		return model.ScenarioStep{Kind: model.StepSplit, Region: r, Key: key}, nil
	case "merge":
		form := `"merge SOURCE into TARGET" with two different region ids >= 1`
		if len(w) != 4 || w[2] != "into" {
			return bad(form)
		}
		s, ok1 := parseUint(w[1])
		t, ok2 := parseUint(w[3])
		if !ok1 || !ok2 || s < 1 || t < 1 || s == t {
			return bad(form)
		}
		return model.ScenarioStep{Kind: model.StepMerge, Region: s, Target: t}, nil
	case "conf-change":
		r, ok := uint64(0), false
		if len(w) == 2 {
			r, ok = parseUint(w[1])
		}
		if !ok || r < 1 {
			return bad(`"conf-change REGION" with REGION a region id >= 1`)
		}
		return model.ScenarioStep{Kind: model.StepConfChange, Region: r}, nil
	case "stop":
		if len(w) != 1 {
			return bad(`"stop" alone`)
		}
		return model.ScenarioStep{Kind: model.StepStop}, nil
	}
	return model.ScenarioStep{}, fmt.Errorf("unknown line %q; want a configuration line (collector, profile, variant, set, seed, strategy), an expectation (expect, expect-not) or a step: %s", w[0], stepForms)
}

// parseKey accepts k004 or 4 and returns KeyName form.
func parseKey(s string) (string, bool) {
	digits := strings.TrimPrefix(s, "k")
	if digits == "" || len(digits) > 6 {
		return "", false
	}
	v, err := strconv.ParseUint(digits, 10, 32)
	if err != nil {
		return "", false
	}
	return model.KeyName(int(v)), true
}

// parseUint accepts a decimal or 0x-hex uint64 (no sign, no octal).
func parseUint(s string) (uint64, bool) {
	var v uint64
	var err error
	if rest, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		if rest == "" || strings.ContainsAny(rest, "+-_") {
			return 0, false
		}
		v, err = strconv.ParseUint(rest, 16, 64)
	} else {
		if strings.ContainsAny(s, "+-_") {
			return 0, false
		}
		v, err = strconv.ParseUint(s, 10, 64)
	}
	return v, err == nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func kindList() string {
	var out []string
	for _, k := range sim.Kinds {
		out = append(out, string(k))
	}
	return strings.Join(out, ", ")
}
