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
// explores besides the design (and the variant switches of the command
// line).
type Scope struct {
	// Name and Summary identify and describe the scope.
	Name, Summary string
	// Path is the file's name as given to ParseScope.
	Path string
	// System is the system the scope's "system" line names (default tikv).
	System model.System
	// Profile is the workload profile the configuration starts from.
	Profile string
	// Bounds are the scope's default bounds (a command line may change
	// them).
	Bounds sim.Bounds

	settings []scopeSetting
	// options are the system's own lines (model.Optioner: tikv's
	// workload, end-after, instant-ops), in file order.
	options []scopeOption
	// lines of the once-only keywords, for configuration errors.
	seen map[string]int
}

type scopeSetting struct {
	line        int
	key         string
	value       int64
	variantName string
}

type scopeOption struct {
	line  int
	words []string
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

// LoadScope reads and parses a scope file of a built-in system.
func LoadScope(p string) (*Scope, error) { return LoadScopeIn(defaultSystems, p) }

// LoadScopeIn is LoadScope with the systems a "system" line may name.
func LoadScopeIn(systems *model.Systems, p string) (*Scope, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return ParseScopeIn(systems, p, data)
}

// ParseScope parses a scope file of a built-in system. Every error is a
// *ParseError naming name:line and the expected form; user input echoed
// in it is clipped.
func ParseScope(name string, data []byte) (*Scope, error) {
	return ParseScopeIn(defaultSystems, name, data)
}

// ParseScopeIn is ParseScope with the systems a "system" line may name.
func ParseScopeIn(systems *model.Systems, name string, data []byte) (*Scope, error) {
	lines := strings.Split(string(data), "\n")
	sys, err := systemLine(systems, name, lines)
	if err != nil {
		return nil, err
	}
	spec := sys.Spec()
	s := &Scope{Path: name, System: sys, Profile: spec.DefaultProfile, seen: map[string]int{},
		Bounds: sim.Bounds{Delays: 2, MaxSteps: DefaultScopeMaxSteps, Width: sim.DefaultWidth}}
	errf := func(line int, format string, args ...any) error {
		return &ParseError{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	base, err := sys.NewConfig(spec.DefaultDesign, spec.DefaultProfile)
	if err != nil {
		return nil, errf(1, "%v", err)
	}
	var optionWords []string
	if o, ok := base.(model.Optioner); ok {
		optionWords = model.Names(o.Options())
	}
	variantNames, fields := model.Names(spec.Variants), model.Names(spec.Settings)
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
			v, ok := model.ParseUint(w[1])
			if !ok || v < uint64(lo) || v > uint64(hi) {
				return 0, errf(ln, "bad value %q; want %q with N in %d..%d", clip(w[1]), form, lo, hi)
			}
			return int(v), nil
		}
		switch kw {
		case "system":
			// Read first (systemLine).
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
			if !model.HasName(spec.Profiles, w[1]) || w[1] == "swarm" {
				return nil, errf(ln, "unknown profile %q; want \"profile NAME\" with NAME one of %s (not swarm: a scope fixes its mechanisms)",
					clip(w[1]), strings.Join(withoutSwarm(sortedNames(spec.Profiles)), ", "))
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
			if len(w) != 3 || !contains(fields, w[1]) {
				got := ""
				if len(w) == 3 {
					got = fmt.Sprintf("unknown field %q; ", clip(w[1]))
				}
				return nil, errf(ln, "%swant \"set FIELD VALUE\" with FIELD one of %s (the step bound is \"max-steps N\")", got, strings.Join(fields, ", "))
			}
			v, ok := model.ParseUint(w[2])
			if !ok || v > 1e12 {
				return nil, errf(ln, "bad value %q; want \"set %s VALUE\" with VALUE a decimal or 0x-hex integer in 0..1000000000000", clip(w[2]), w[1])
			}
			s.settings = append(s.settings, scopeSetting{line: ln, key: w[1], value: int64(v)})
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
			if !contains(optionWords, kw) {
				return nil, errf(ln, "unknown keyword %q; want one of %s", clip(kw), strings.Join(append(append([]string{"system", "scope", "summary", "profile", "variant", "set"}, optionWords...), "bound", "delays", "faults", "width", "max-steps"), ", "))
			}
			if prev, dup := s.seen[kw]; dup {
				return nil, errf(ln, "%s given twice (first at line %d); want one %s line", kw, prev, kw)
			}
			// Each option line is checked on its own now, and again with
			// the rest of the configuration in Config.
			if _, err := base.(model.Optioner).WithOption(w); err != nil {
				return nil, errf(ln, "%v", err)
			}
			s.seen[kw] = ln
			s.options = append(s.options, scopeOption{line: ln, words: w})
		}
	}
	if s.Name == "" {
		return nil, errf(1, "no scope line; want \"scope NAME\"")
	}
	if s.Summary == "" {
		return nil, errf(s.seen["scope"], "no summary line; want \"summary TEXT\" (what the scope stages)")
	}
	// The configuration must be valid for every design; the design itself
	// does not change what is valid.
	if _, err := s.Config(spec.DefaultDesign, nil); err != nil {
		return nil, err
	}
	return s, nil
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

// Config returns the scope's configuration for design with the given
// variant switches (the command line's) on top of the scope's own. Its
// errors are *ParseError naming the line that set the offending field.
func (s *Scope) Config(design string, variants []string) (model.Config, error) {
	spec := s.System.Spec()
	cfg, err := s.System.NewConfig(design, s.Profile)
	if err != nil {
		return nil, err
	}
	for _, v := range variants {
		if cfg, err = cfg.WithVariant(v); err != nil {
			return nil, err
		}
	}
	// A scope starts from the system's scope base (tikv: no thread churn
	// unless the scope sets it: churn is a mechanism a scope stages, not
	// background noise).
	if sb, ok := cfg.(model.ScopeBase); ok {
		cfg = sb.ScopeBase()
	}
	setLine := map[string]int{}
	for _, st := range s.settings {
		if st.variantName != "" {
			if cfg, err = cfg.WithVariant(st.variantName); err != nil {
				return nil, &ParseError{File: s.Path, Line: st.line, Msg: err.Error()}
			}
			setLine["variant "+st.variantName] = st.line
			continue
		}
		if cfg, err = cfg.WithSetting(st.key, st.value); err != nil {
			return nil, &ParseError{File: s.Path, Line: st.line, Msg: err.Error()}
		}
		setLine[st.key] = st.line
	}
	for _, o := range s.options {
		if cfg, err = cfg.(model.Optioner).WithOption(o.words); err != nil {
			return nil, &ParseError{File: s.Path, Line: o.line, Msg: err.Error()}
		}
	}
	if err := model.Validate(s.System, cfg); err != nil {
		line := configLine(setLine, s.seen, validateField(err.Error(), model.Names(spec.Settings)))
		for _, o := range s.options {
			if strings.Contains(err.Error(), o.words[0]) {
				line = o.line
			}
		}
		if line == 0 {
			line = max(s.seen["scope"], 1)
		}
		return nil, &ParseError{File: s.Path, Line: line, Msg: err.Error()}
	}
	return cfg, nil
}

// Kinds lists the observation kinds the scope can show (model.Kinds of
// its configuration: tikv leaves out the kinds of the phases a scope ends
// before, and every system nondeterminism, which no single run shows).
func (s *Scope) Kinds() []sim.Kind {
	cfg, err := s.Config(s.System.Spec().DefaultDesign, nil)
	if err != nil {
		return nil
	}
	return model.Kinds(cfg)
}

// Describe renders the scope's settings in one line, for listings.
func (s *Scope) Describe() string {
	var parts []string
	if s.Profile != s.System.Spec().DefaultProfile {
		parts = append(parts, "profile "+s.Profile)
	}
	for _, st := range s.settings {
		if st.variantName != "" {
			parts = append(parts, "variant "+st.variantName)
		} else {
			parts = append(parts, st.key+"="+strconv.FormatInt(st.value, 10))
		}
	}
	cfg, err := s.Config(s.System.Spec().DefaultDesign, nil)
	if d, ok := cfg.(interface{ DescribeOptions() []string }); ok && err == nil {
		parts = append(parts, d.DescribeOptions()...)
	} else {
		for _, o := range s.options {
			parts = append(parts, strings.Join(o.words, " "))
		}
	}
	return strings.Join(parts, "; ")
}
