package seeds

import (
	"embed"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// This file is the scope files of `simrun check`: small named
// configurations that the exhaustive explorer (sim.Explore) explores
// within bounds. The format is documented in README.md ("Scope files");
// the built-in scopes are the files in scopes/.

// Scope is a parsed scope file: everything a bounded exhaustive check
// explores besides the collector (and its variant switches).
type Scope struct {
	// Name and Summary identify and describe the scope.
	Name, Summary string
	// Path is the file's name as given to ParseScope.
	Path string
	// Profile is the workload profile the configuration starts from.
	Profile string
	// Bounds are the scope's default bounds (a command line may change
	// them).
	Bounds sim.Bounds

	settings []scopeSetting
	workload *model.Workload
	endAfter string
	instant  bool
	// lines of the once-only keywords, for configuration errors.
	seen map[string]int
}

type scopeSetting struct {
	line        int
	key         string
	value       int64
	variantName string
}

// Scope defaults.
const (
	DefaultScopeMaxSteps = 5000
)

//go:embed scopes/*.scope
var builtinScopes embed.FS

// Scopes returns the built-in scopes, sorted by name.
func Scopes() []*Scope {
	entries, err := builtinScopes.ReadDir("scopes")
	if err != nil {
		panic("seeds: built-in scopes: " + err.Error())
	}
	var out []*Scope
	for _, e := range entries {
		p := path.Join("scopes", e.Name())
		data, err := builtinScopes.ReadFile(p)
		if err != nil {
			panic("seeds: built-in scope " + p + ": " + err.Error())
		}
		s, err := ParseScope(p, data)
		if err != nil {
			panic("seeds: built-in scope: " + err.Error())
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ScopeNames lists the built-in scopes' names, sorted.
func ScopeNames() []string {
	var out []string
	for _, s := range Scopes() {
		out = append(out, s.Name)
	}
	return out
}

// BuiltinScope returns the built-in scope named name.
func BuiltinScope(name string) (*Scope, bool) {
	for _, s := range Scopes() {
		if s.Name == name {
			return s, true
		}
	}
	return nil, false
}

// LoadScope reads and parses a scope file.
func LoadScope(p string) (*Scope, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return ParseScope(p, data)
}

// ParseScope parses a scope file. Every error is a *ParseError naming
// name:line and the expected form; user input echoed in it is clipped.
func ParseScope(name string, data []byte) (*Scope, error) {
	s := &Scope{Path: name, Profile: "default", seen: map[string]int{},
		Bounds: sim.Bounds{Delays: 2, MaxSteps: DefaultScopeMaxSteps, Width: sim.DefaultWidth}}
	errf := func(line int, format string, args ...any) error {
		return &ParseError{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	for i, raw := range strings.Split(string(data), "\n") {
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
		once := func(form string, ok bool) error {
			if !ok {
				return errf(ln, "want %q", form)
			}
			if prev, dup := s.seen[kw]; dup {
				return errf(ln, "%s given twice (first at line %d); want one %q line", kw, prev, form)
			}
			s.seen[kw] = ln
			return nil
		}
		bound := func(form string, lo, hi int) (int, error) {
			if err := once(form, len(w) == 2); err != nil {
				return 0, err
			}
			v, ok := parseUint(w[1])
			if !ok || v < uint64(lo) || v > uint64(hi) {
				return 0, errf(ln, "bad value %q; want %q with N in %d..%d", clip(w[1]), form, lo, hi)
			}
			return int(v), nil
		}
		switch kw {
		case "scope":
			if err := once("scope NAME", len(w) == 2); err != nil {
				return nil, err
			}
			if !validName(w[1]) {
				return nil, errf(ln, "bad name %q; want \"scope NAME\" with NAME of lower-case letters, digits and -", clip(w[1]))
			}
			s.Name = w[1]
		case "summary":
			if err := once("summary TEXT", len(w) >= 2); err != nil {
				return nil, err
			}
			s.Summary = strings.Join(w[1:], " ")
		case "profile":
			if err := once("profile NAME", len(w) == 2); err != nil {
				return nil, err
			}
			if !contains(model.ProfileNames(), w[1]) || w[1] == "swarm" {
				return nil, errf(ln, "unknown profile %q; want \"profile NAME\" with NAME one of %s (not swarm: a scope fixes its mechanisms)",
					clip(w[1]), strings.Join(withoutSwarm(model.ProfileNames()), ", "))
			}
			s.Profile = w[1]
		case "variant":
			if len(w) != 2 || !contains(variantNames, w[1]) {
				got := ""
				if len(w) > 1 {
					got = fmt.Sprintf("unknown variant %q; ", clip(w[1]))
				}
				return nil, errf(ln, "%swant \"variant NAME\" with NAME one of %s", got, strings.Join(variantNames, ", "))
			}
			s.settings = append(s.settings, scopeSetting{line: ln, variantName: w[1]})
		case "set":
			if len(w) != 3 || !contains(setFields, w[1]) || w[1] == "max_steps" {
				got := ""
				if len(w) == 3 {
					got = fmt.Sprintf("unknown field %q; ", clip(w[1]))
				}
				return nil, errf(ln, "%swant \"set FIELD VALUE\" with FIELD one of %s (the step bound is \"max-steps N\")", got, strings.Join(scopeSetFields(), ", "))
			}
			v, ok := parseUint(w[2])
			if !ok || v > 1e12 {
				return nil, errf(ln, "bad value %q; want \"set %s VALUE\" with VALUE a decimal or 0x-hex integer in 0..1000000000000", clip(w[2]), w[1])
			}
			s.settings = append(s.settings, scopeSetting{line: ln, key: w[1], value: int64(v)})
		case "workload":
			wl, err := parseWorkload(w[1:])
			if err == nil {
				err = once(workloadForm, true)
			}
			if err != nil {
				return nil, errf(ln, "%v", err)
			}
			s.workload = wl
		case "end-after":
			if err := once("end-after workload|liveness", len(w) == 2 && (w[1] == model.EndAfterWorkload || w[1] == model.EndAfterLiveness)); err != nil {
				return nil, err
			}
			s.endAfter = w[1]
		case "instant-ops":
			if err := once("instant-ops", len(w) == 1); err != nil {
				return nil, err
			}
			s.instant = true
		case "bound":
			if err := once("bound delays|preemptions", len(w) == 2 && (w[1] == "delays" || w[1] == "preemptions")); err != nil {
				return nil, err
			}
			s.Bounds.Preemptions = w[1] == "preemptions"
		case "delays":
			v, err := bound("delays K", 0, sim.MaxBoundDelays)
			if err != nil {
				return nil, err
			}
			s.Bounds.Delays = v
		case "faults":
			v, err := bound("faults F", 0, sim.MaxBoundFaults)
			if err != nil {
				return nil, err
			}
			s.Bounds.Faults = v
		case "width":
			v, err := bound("width W", 2, sim.MaxWidth)
			if err != nil {
				return nil, err
			}
			s.Bounds.Width = v
		case "max-steps":
			v, err := bound("max-steps N", 1, 1e9)
			if err != nil {
				return nil, err
			}
			s.Bounds.MaxSteps = int64(v)
		default:
			return nil, errf(ln, "unknown keyword %q; want one of scope, summary, profile, variant, set, workload, end-after, instant-ops, bound, delays, faults, width, max-steps", clip(kw))
		}
	}
	if s.Name == "" {
		return nil, errf(1, "no scope line; want \"scope NAME\"")
	}
	if s.Summary == "" {
		return nil, errf(s.seen["scope"], "no summary line; want \"summary TEXT\" (what the scope stages)")
	}
	// The configuration must be valid for every collector; the collector
	// itself does not change what is valid.
	if _, err := s.Config("lease-retry", model.Variants{}, false); err != nil {
		return nil, err
	}
	return s, nil
}

const workloadForm = "workload puts N flush-threshold N compact-trigger N snapshots US[,US...]"

// parseWorkload reads the words after "workload": each of the four keys
// once, in any order; snapshots lists each snapshot's delay in virtual
// microseconds.
func parseWorkload(w []string) (*model.Workload, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf(format+"; want %q", append(args, workloadForm)...)
	}
	if len(w) != 8 {
		return nil, bad("%d words after workload", len(w))
	}
	wl := &model.Workload{}
	got := map[string]bool{}
	for i := 0; i < len(w); i += 2 {
		key, val := w[i], w[i+1]
		if got[key] {
			return nil, bad("%s given twice", clip(key))
		}
		got[key] = true
		if key == "snapshots" {
			for _, d := range strings.Split(val, ",") {
				v, ok := parseUint(strings.TrimSuffix(d, "us"))
				if !ok || v > 1e12 {
					return nil, bad("bad snapshot delay %q", clip(d))
				}
				wl.SnapshotDelays = append(wl.SnapshotDelays, sim.Micros(v))
			}
			wl.Snapshots = len(wl.SnapshotDelays)
			continue
		}
		v, ok := parseUint(val)
		if !ok || v > 100000 {
			return nil, bad("bad value %q for %s", clip(val), clip(key))
		}
		switch key {
		case "puts":
			wl.Puts = int(v)
		case "flush-threshold":
			wl.FlushThreshold = int(v)
		case "compact-trigger":
			wl.CompactTrigger = int(v)
		default:
			return nil, bad("unknown key %q", clip(key))
		}
	}
	return wl, nil
}

func withoutSwarm(names []string) []string {
	var out []string
	for _, n := range names {
		if n != "swarm" {
			out = append(out, n)
		}
	}
	return out
}

func scopeSetFields() []string {
	var out []string
	for _, f := range setFields {
		if f != "max_steps" {
			out = append(out, f)
		}
	}
	return out
}

// Config returns the scope's configuration for collector with the given
// variant switches (and lease-retry's non-atomic check) on top of the
// scope's own. Its errors are *ParseError naming the line that set the
// offending field.
func (s *Scope) Config(collector string, v model.Variants, nonAtomic bool) (model.Config, error) {
	cfg, err := model.ProfileConfig(collector, s.Profile)
	if err != nil {
		return model.Config{}, err
	}
	cfg.Variants, cfg.NonAtomicCheck = v, nonAtomic
	// A scope runs without thread churn unless it sets it: churn is a
	// mechanism a scope stages, not background noise.
	cfg.ThreadChurnInterval = 0
	setLine := map[string]int{}
	var f File
	for _, st := range s.settings {
		if st.variantName != "" {
			setVariant(&cfg, st.variantName)
			setLine["variant "+st.variantName] = st.line
			continue
		}
		setField(&f, &cfg, st.key, st.value)
		setLine[st.key] = st.line
	}
	if s.workload != nil {
		w := *s.workload
		w.SnapshotDelays = append([]sim.Micros(nil), w.SnapshotDelays...)
		cfg.Workload = &w
		// A fixed workload must fit the bounds it would be drawn in.
		cfg.MaxPuts = max(cfg.MaxPuts, w.Puts)
	}
	cfg.EndAfter, cfg.InstantOps = s.endAfter, s.instant
	if err := cfg.Validate(); err != nil {
		line := configLine(setLine, s.seen, validateField(err.Error()))
		if strings.Contains(err.Error(), "workload") {
			line = s.seen["workload"]
		}
		if line == 0 {
			line = max(s.seen["scope"], 1)
		}
		return model.Config{}, &ParseError{File: s.Path, Line: line, Msg: err.Error()}
	}
	return cfg, nil
}

// Kinds lists the observation kinds the scope can show: every kind but
// those of the phases it leaves out (liveness and file-leak after
// "end-after workload", file-leak after "end-after liveness") and
// nondeterminism, which no single run shows.
func (s *Scope) Kinds() []sim.Kind {
	var out []sim.Kind
	for _, k := range sim.Kinds {
		switch {
		case k == sim.KindNondeterminism:
		case k == sim.KindFileLeak && s.endAfter != "":
		case k == sim.KindLiveness && s.endAfter == model.EndAfterWorkload:
		default:
			out = append(out, k)
		}
	}
	return out
}

// Describe renders the scope's settings in one line, for listings.
func (s *Scope) Describe() string {
	var parts []string
	if s.Profile != "default" {
		parts = append(parts, "profile "+s.Profile)
	}
	for _, st := range s.settings {
		if st.variantName != "" {
			parts = append(parts, "variant "+st.variantName)
		} else {
			parts = append(parts, st.key+"="+strconv.FormatInt(st.value, 10))
		}
	}
	if w := s.workload; w != nil {
		var ds []string
		for _, d := range w.SnapshotDelays {
			ds = append(ds, d.String())
		}
		parts = append(parts, fmt.Sprintf("puts %d, flush at %d, compact at %d, snapshots at %s", w.Puts, w.FlushThreshold, w.CompactTrigger, strings.Join(ds, ",")))
	}
	if s.endAfter != "" {
		parts = append(parts, "ends after the "+s.endAfter)
	}
	if s.instant {
		parts = append(parts, "instant operations")
	}
	return strings.Join(parts, "; ")
}
