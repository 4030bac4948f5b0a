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
	// KeepGoing is set by a "keep-going" line: the run (script included)
	// continues past violations instead of stopping at the end of the
	// first violating step, so a scenario can show a deletion, the open
	// that fails on it and the panic that follows.
	KeepGoing bool
}

// ParseError is a malformed line: it names file:line and the expected form.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// clipMax is how much of a piece of user input an error message echoes.
const clipMax = 60

// clip bounds user input echoed in an error: past clipMax bytes it is cut
// at a rune boundary and its length is given instead ("…(N bytes)"), so a
// 20 MB line does not come back whole in the message.
func clip(s string) string {
	if len(s) <= clipMax {
		return s
	}
	cut := clipMax
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:cut], len(s))
}

// maxNameLen bounds actor names and ops; maxPathLen bounds an "on PATH".
const (
	maxNameLen = 64
	maxPathLen = 1024
)

// validName reports whether s can be an actor name or an op: lower-case
// letters, digits and '-', starting with a letter or digit.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLen || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '-') {
			return false
		}
	}
	return true
}

// validPath reports whether s can follow "on": a path with a '/', made of
// the path characters of model.DetailNamesPath (and ':' for a node
// prefix such as n2:/snap/...).
func validPath(s string) bool {
	if len(s) > maxPathLen || !strings.Contains(s, "/") {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("/._-:", b) >= 0) {
			return false
		}
	}
	return true
}

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
	"crash_interval_us", "max_region_ops", "region_op_interval_us", "snap_io_bytes_per_sec", "stall_permille", "stall_us",
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
	case "region_op_interval_us":
		c.RegionOpInterval = us
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
// Every error is a *ParseError naming name:line and the expected form; user
// input echoed in it is clipped (see clip).
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
	type expectLine struct {
		x    model.Expectation
		line int
	}
	var expectLines, notLines []expectLine // in file order
	sawSteps, sawSeed, stopLine := false, false, 0
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
				return nil, errf(ln, "unknown collector %q; want \"collector NAME\" with NAME one of %s", clip(w[1]), strings.Join(model.CollectorNames(), ", "))
			}
			collector = w[1]
		case "profile":
			if err := once("profile NAME", 2); err != nil {
				return nil, err
			}
			if !contains(model.ProfileNames(), w[1]) {
				return nil, errf(ln, "unknown profile %q; want \"profile NAME\" with NAME one of %s", clip(w[1]), strings.Join(model.ProfileNames(), ", "))
			}
			f.Profile = w[1]
		case "strategy":
			if err := once("strategy random|pct|pct:DEPTH", 2); err != nil {
				return nil, err
			}
			st, err := sim.ParseStrategy(w[1])
			if err != nil || st.Name == "replay" {
				return nil, errf(ln, "bad strategy %q; want \"strategy random|pct|pct:DEPTH\"", clip(w[1]))
			}
			f.Strategy = w[1]
		case "seed":
			if err := once("seed N", 2); err != nil {
				return nil, err
			}
			v, ok := parseUint(w[1])
			if !ok {
				return nil, errf(ln, "bad seed %q; want \"seed N\" with N a decimal or 0x-hex unsigned 64-bit integer", clip(w[1]))
			}
			sc.Seed, sawSeed = v, true
		case "keep-going":
			if err := once("keep-going", 1); err != nil {
				return nil, err
			}
			f.KeepGoing = true
		case "variant":
			if len(w) != 2 {
				return nil, errf(ln, "want \"variant NAME\" with NAME one of %s", strings.Join(variantNames, ", "))
			}
			if !contains(variantNames, w[1]) {
				return nil, errf(ln, "unknown variant %q; want \"variant NAME\" with NAME one of %s", clip(w[1]), strings.Join(variantNames, ", "))
			}
			settings = append(settings, setting{line: ln, variantName: w[1]})
		case "set":
			if len(w) != 3 {
				return nil, errf(ln, "want \"set FIELD VALUE\" with FIELD one of %s", strings.Join(setFields, ", "))
			}
			if !contains(setFields, w[1]) {
				return nil, errf(ln, "unknown field %q; want \"set FIELD VALUE\" with FIELD one of %s", clip(w[1]), strings.Join(setFields, ", "))
			}
			if _, ok := parseUint(w[2]); !ok {
				return nil, errf(ln, "bad value %q; want \"set %s VALUE\" with VALUE a decimal or 0x-hex non-negative integer", clip(w[2]), w[1])
			}
			settings = append(settings, setting{line: ln, key: w[1], value: w[2]})
		case "expect", "expect-not":
			if kw == "expect" && len(w) == 2 && w[1] == "none" {
				if len(sc.Expect) > 0 || len(sc.ExpectNot) > 0 || sc.ExpectNone {
					return nil, errf(ln, "\"expect none\" excludes every other expect line; want it alone")
				}
				sc.ExpectNone = true
				continue
			}
			if kw == "expect" && len(w) > 2 && w[1] == "none" {
				return nil, errf(ln, "\"expect none\" takes nothing after it; want \"expect none\" alone")
			}
			x, err := parseExpectation(w, f.IsSeed)
			if err != nil {
				return nil, errf(ln, "%v", err)
			}
			if sc.ExpectNone {
				return nil, errf(ln, "\"expect none\" was given; want no other expect line")
			}
			if kw == "expect-not" && f.IsSeed {
				return nil, errf(ln, "seed files take \"expect KIND\" or \"expect none\", not expect-not")
			}
			mine, other := &expectLines, notLines
			if kw == "expect-not" {
				mine, other = &notLines, expectLines
			}
			for _, y := range *mine {
				if y.x == x {
					return nil, errf(ln, "%s given twice (first at line %d); want one %s line per expectation", x, y.line, kw)
				}
			}
			for _, y := range other {
				pos, neg := x, y.x
				if kw == "expect-not" {
					pos, neg = y.x, x
				}
				if contradicts(pos, neg) {
					return nil, errf(ln, "%s line contradicts line %d (expect %s, expect-not %s); want an expect-not that the expected observation cannot match", kw, y.line, pos, neg)
				}
			}
			*mine = append(*mine, expectLine{x, ln})
			if kw == "expect" {
				sc.Expect = append(sc.Expect, x)
			} else {
				sc.ExpectNot = append(sc.ExpectNot, x)
			}
		default:
			st, err := parseStep(w)
			if err != nil {
				return nil, errf(ln, "%v", err)
			}
			if f.IsSeed {
				return nil, errf(ln, "seed files take no steps; want collector, profile, variant, set, seed, strategy, keep-going and expect lines (use a .scenario file for steps)")
			}
			if stopLine > 0 {
				return nil, errf(ln, "a step after the stop at line %d; want stop as the last step", stopLine)
			}
			if st.Kind == model.StepStop {
				stopLine = ln
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
	}
	last := len(lines)
	if !sawSeed && f.IsSeed {
		return nil, errf(last, "missing \"seed N\" line; a seed file needs one")
	}
	if len(sc.Expect) == 0 && !sc.ExpectNone && len(sc.ExpectNot) == 0 {
		return nil, errf(last, "no expectation; want at least one \"expect KIND\" or \"expect none\" line")
	}
	cfg, err := model.ProfileConfig(collector, f.Profile)
	if err != nil {
		return nil, errf(seen["profile"], "%v", err)
	}
	setLine := map[string]int{} // field -> the line whose value took effect
	for _, s := range settings {
		if s.variantName != "" {
			setVariant(&cfg, s.variantName)
			setLine["variant "+s.variantName] = s.line
			continue
		}
		v, _ := parseUint(s.value)
		if v > 1e12 {
			return nil, errf(s.line, "value %s out of range; want \"set %s VALUE\" with VALUE in 0..1000000000000", clip(s.value), s.key)
		}
		setField(f, &cfg, s.key, int64(v))
		setLine[s.key] = s.line
	}
	if f.MaxSteps < 1 || f.MaxSteps > 1e9 {
		return nil, errf(configLine(setLine, seen, "max_steps"), "max_steps %d out of range; want \"set max_steps N\" with N in 1..1000000000", f.MaxSteps)
	}
	if err := cfg.Validate(); err != nil {
		return nil, errf(configLine(setLine, seen, validateField(err.Error())), "%v", err)
	}
	sc.Config = cfg
	return f, nil
}

// validateField returns the field a model.Config.Validate message is about:
// its messages read "config: FIELD must ...". For a field no set line can
// name (initial_regions must be in 0..key_space) it returns the first
// settable field the message mentions, or "".
func validateField(msg string) string {
	rest := strings.TrimPrefix(msg, "config: ")
	if first, _, _ := strings.Cut(rest, " "); contains(setFields, first) {
		return first
	}
	for _, w := range strings.FieldsFunc(rest, func(r rune) bool { return !(r == '_' || r >= 'a' && r <= 'z') }) {
		if contains(setFields, w) {
			return w
		}
	}
	return ""
}

// configLine is the line to blame for a configuration error about field:
// the set line that gave field its value, else the profile line, else the
// collector line, else line 1.
func configLine(setLine, seen map[string]int, field string) int {
	if ln, ok := setLine[field]; ok && field != "" {
		return ln
	}
	for _, kw := range []string{"profile", "collector"} {
		if ln, ok := seen[kw]; ok {
			return ln
		}
	}
	return 1
}

// contradicts reports whether an observation that meets expect pos would
// necessarily break expect-not neg (neg is at least as general).
func contradicts(pos, neg model.Expectation) bool {
	return pos.Kind == neg.Kind && (neg.Actor == "" || neg.Actor == pos.Actor) && (neg.Path == "" || neg.Path == pos.Path)
}

// expectForm is the documented form of an expectation line.
const expectForm = `"expect KIND [by ACTOR] [on PATH] [during script|after script|anytime]"`

// parseExpectation parses "expect KIND [by ACTOR] [on PATH] [SCOPE]" or
// "expect-not KIND [by ACTOR] [on PATH]"; the clauses after KIND may come
// in any order, each at most once. Seed files have no script, so they take
// no scope.
func parseExpectation(w []string, seedFile bool) (model.Expectation, error) {
	kw := w[0]
	form := expectForm + ` or "expect none"`
	if kw == "expect-not" {
		form = `"expect-not KIND [by ACTOR] [on PATH]"`
	}
	var x model.Expectation
	if len(w) < 2 {
		return x, fmt.Errorf("want %s with KIND one of %s", form, kindList())
	}
	x.Kind = sim.Kind(w[1])
	if !sim.ValidKind(x.Kind) {
		return x, fmt.Errorf("unknown kind %q; want \"%s KIND\" with KIND one of %s", clip(w[1]), kw, kindList())
	}
	sawBy, sawOn, sawScope := false, false, false
	for i := 2; i < len(w); {
		word := w[i]
		switch {
		case word == "by" || word == "on":
			if i+1 >= len(w) {
				return x, fmt.Errorf("%q without its argument; want %s", word, form)
			}
			arg := w[i+1]
			if word == "by" {
				if sawBy {
					return x, fmt.Errorf("\"by\" given twice; want %s", form)
				}
				if !validName(arg) {
					return x, fmt.Errorf("bad actor %q; want \"by ACTOR\" with ACTOR an actor name as traces spell it (snap-gen, gc, applier, ...)", clip(arg))
				}
				x.Actor, sawBy = arg, true
			} else {
				if sawOn {
					return x, fmt.Errorf("\"on\" given twice; want %s", form)
				}
				if !validPath(arg) {
					return x, fmt.Errorf("bad path %q; want \"on PATH\" with PATH a whole path as the trace spells it (/db/000001.sst, /snap/..., n2:/snap/...), at most %d bytes", clip(arg), maxPathLen)
				}
				x.Path, sawOn = arg, true
			}
			i += 2
		case word == "anytime" || ((word == "during" || word == "after") && i+1 < len(w) && w[i+1] == "script"):
			if kw == "expect-not" {
				return x, fmt.Errorf("%q: expect-not always covers the whole run, tail included; want %s", word, form)
			}
			if seedFile {
				return x, fmt.Errorf("%q: a seed file has no script; want \"expect KIND [by ACTOR] [on PATH]\"", word)
			}
			if sawScope {
				return x, fmt.Errorf("two scopes; want one of \"during script\", \"after script\" or \"anytime\"")
			}
			sawScope = true
			switch word {
			case "anytime":
				x.Scope = model.ScopeAnytime
				i++
			case "after":
				x.Scope = model.ScopeTail
				i += 2
			default:
				x.Scope = model.ScopeScript
				i += 2
			}
		default:
			return x, fmt.Errorf("unexpected %q; want %s", clip(word), form)
		}
		if sawScope && i < len(w) {
			return x, fmt.Errorf("%q after the scope; want the scope last: %s", clip(w[i]), form)
		}
	}
	return x, nil
}

// stepForms lists the step lines, for error messages.
const stepForms = `"run ACTOR until OP [N]", "run ACTOR until idle", "run ACTOR steps N", "hang ACTOR|NODE for DURATION", "crash n1|n2", "restart n1|n2", "split REGION at KEY", "merge SOURCE into TARGET", "conf-change REGION" or "stop"`

// runForms is the documented form of a run line.
const runForms = `"run ACTOR until OP [N]" or "run ACTOR steps N", or "run ACTOR until idle"`

func parseStep(w []string) (model.ScenarioStep, error) {
	bad := func(form string) (model.ScenarioStep, error) {
		return model.ScenarioStep{}, fmt.Errorf("malformed %s line; want %s", w[0], form)
	}
	switch w[0] {
	case "run":
		if len(w) < 4 || (w[2] != "until" && w[2] != "steps") {
			return bad(runForms)
		}
		if !validName(w[1]) {
			return model.ScenarioStep{}, fmt.Errorf("bad actor %q in run line; want %s with ACTOR an actor name as traces spell it (writer, snap-gen, gc, ...)", clip(w[1]), runForms)
		}
		if w[2] == "until" && w[3] == "idle" {
			if len(w) != 4 {
				return bad(`"run ACTOR until idle" with no count`)
			}
			return model.ScenarioStep{Kind: model.StepRunIdle, Actor: w[1]}, nil
		}
		if w[2] == "until" && len(w) <= 5 {
			if !validName(w[3]) {
				return model.ScenarioStep{}, fmt.Errorf("bad op %q in run line; want \"run ACTOR until OP [N]\" with OP a trace op (list, open, delete, gc-skip, ...)", clip(w[3]))
			}
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
		return bad(runForms)
	case "hang":
		form := `"hang ACTOR for DURATION" or "hang NODE for DURATION" with NODE n1 or n2 and DURATION like 300us, 5ms or 1s (at most 1000000s)`
		if len(w) != 4 || w[2] != "for" {
			return bad(form)
		}
		d, ok := parseDuration(w[3])
		if !ok {
			return model.ScenarioStep{}, fmt.Errorf("bad duration %q; want %s", clip(w[3]), form)
		}
		st := model.ScenarioStep{Kind: model.StepHang, Duration: d}
		switch {
		case w[1] == "n1" || w[1] == "n2":
			st.Node = w[1]
		case validName(w[1]):
			st.Actor = w[1]
		default:
			return model.ScenarioStep{}, fmt.Errorf("bad actor %q in hang line; want %s", clip(w[1]), form)
		}
		return st, nil
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
	return model.ScenarioStep{}, fmt.Errorf("unknown line %q; want a configuration line (collector, profile, variant, set, seed, strategy, keep-going), an expectation (expect, expect-not) or a step: %s", clip(w[0]), stepForms)
}

// maxHang bounds a hang's duration: 10^6 s of virtual time.
const maxHang = 1e6 * sim.Second

// parseDuration accepts a positive decimal count of us, ms or s ("300us",
// "5ms", "1s").
func parseDuration(s string) (sim.Micros, bool) {
	units := []struct {
		suffix string
		unit   sim.Micros
	}{{"us", sim.Microsecond}, {"ms", sim.Millisecond}, {"s", sim.Second}}
	for _, u := range units {
		digits, ok := strings.CutSuffix(s, u.suffix)
		if !ok {
			continue
		}
		if digits == "" || strings.ContainsAny(digits, "+-_") || len(digits) > 13 {
			return 0, false
		}
		v, err := strconv.ParseUint(digits, 10, 64)
		if err != nil || v == 0 || sim.Micros(v) > maxHang/u.unit {
			return 0, false
		}
		return sim.Micros(v) * u.unit, true
	}
	return 0, false
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
