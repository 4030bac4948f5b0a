// Package seeds is the regression corpus: scenario files (scripted
// interleavings) and seed files (a PRNG seed plus configuration), each with
// its expected observations, and the loader and runner that replay them.
// The format is documented in README.md.
package seeds

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/builtin"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// File is a parsed corpus file.
type File struct {
	// Path is the file's name as given to Parse.
	Path string
	// IsSeed is true for a seed file (no steps; replayed with the
	// system's Run).
	IsSeed bool
	// System is the system the file's "system" line names (default tikv).
	System model.System
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

// clip bounds user input echoed in an error (model.Clip).
func clip(s string) string { return model.Clip(s) }

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

// DefaultSystem is the system a file without a "system" line is of.
const DefaultSystem = "tikv"

// defaultSystems are the systems a corpus file may name when the caller
// gives none: the built-in ones.
var defaultSystems = builtin.Systems()

// DefaultSystems returns the systems Load and Parse resolve a file's
// "system" line in: the built-in ones.
func DefaultSystems() *model.Systems { return defaultSystems }

// maxStepsField is the kernel's step budget, which "set" takes beside the
// system's settings.
const maxStepsField = "max_steps"

// setFields are the numeric fields "set" accepts for spec, in documented
// order: the system's, then max_steps.
func setFields(spec model.Spec) []string {
	return append(model.Names(spec.Settings), maxStepsField)
}

// Load reads and parses a corpus file; a name ending in .seed is a seed
// file, anything else a scenario file. Its "system" line is resolved in
// the built-in systems.
func Load(path string) (*File, error) { return LoadIn(defaultSystems, path) }

// LoadIn is Load with the systems a "system" line may name.
func LoadIn(systems *model.Systems, path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseIn(systems, path, data)
}

// Parse parses a scenario file (or, if name ends in .seed, a seed file)
// of a built-in system. Every error is a *ParseError naming name:line and
// the expected form; user input echoed in it is clipped (see clip).
func Parse(name string, data []byte) (*File, error) { return ParseIn(defaultSystems, name, data) }

// systemLine finds the file's "system NAME" line, if any, and resolves it
// in systems; it is read before every other line, since the system
// decides which designs, profiles, variants, settings, actors and
// commands the rest may name.
func systemLine(systems *model.Systems, name string, lines []string) (model.System, error) {
	errf := func(line int, format string, args ...any) error {
		return &ParseError{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	sysName, at := DefaultSystem, 0
	for i, raw := range lines {
		text := raw
		if j := strings.IndexByte(text, '#'); j >= 0 {
			text = text[:j]
		}
		w := strings.Fields(text)
		if len(w) == 0 || w[0] != "system" {
			continue
		}
		if at > 0 {
			return nil, errf(i+1, "system given twice (first at line %d); want one \"system NAME\" line", at)
		}
		if len(w) != 2 {
			return nil, errf(i+1, "want \"system NAME\" with NAME one of %s", strings.Join(systems.Names(), ", "))
		}
		sysName, at = w[1], i+1
	}
	sys, err := systems.Lookup(sysName)
	if err != nil {
		return nil, errf(max(at, 1), "unknown system %q; want \"system NAME\" with NAME one of %s", clip(sysName), strings.Join(systems.Names(), ", "))
	}
	return sys, nil
}

// ParseIn is Parse with the systems a "system" line may name.
func ParseIn(systems *model.Systems, name string, data []byte) (*File, error) {
	lines := strings.Split(string(data), "\n")
	sys, err := systemLine(systems, name, lines)
	if err != nil {
		return nil, err
	}
	spec := sys.Spec()
	f := &File{Path: name, IsSeed: strings.HasSuffix(name, ".seed"), System: sys, Strategy: "random", MaxSteps: sim.DefaultMaxSteps, Profile: spec.DefaultProfile}
	sc := &f.Scenario
	sc.Name = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	collector := spec.DefaultDesign
	errf := func(line int, format string, args ...any) error {
		return &ParseError{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	variantNames, fields := model.Names(spec.Variants), setFields(spec)
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
	var stepLines []int
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
		case "system":
			// Read first (systemLine).
		case "collector":
			if err := once("collector NAME", 2); err != nil {
				return nil, err
			}
			if !model.HasName(spec.Designs, w[1]) {
				return nil, errf(ln, "unknown collector %q; want \"collector NAME\" with NAME one of %s", clip(w[1]), strings.Join(model.Names(spec.Designs), ", "))
			}
			collector = w[1]
		case "profile":
			if err := once("profile NAME", 2); err != nil {
				return nil, err
			}
			if !model.HasName(spec.Profiles, w[1]) {
				return nil, errf(ln, "unknown profile %q; want \"profile NAME\" with NAME one of %s", clip(w[1]), strings.Join(sortedNames(spec.Profiles), ", "))
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
			v, ok := model.ParseUint(w[1])
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
				return nil, errf(ln, "want \"set FIELD VALUE\" with FIELD one of %s", strings.Join(fields, ", "))
			}
			if !contains(fields, w[1]) {
				return nil, errf(ln, "unknown field %q; want \"set FIELD VALUE\" with FIELD one of %s", clip(w[1]), strings.Join(fields, ", "))
			}
			if _, ok := model.ParseUint(w[2]); !ok {
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
			st, err := parseStep(w, spec)
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
			stepLines = append(stepLines, ln)
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
	cfg, err := sys.NewConfig(collector, f.Profile)
	if err != nil {
		return nil, errf(max(seen["profile"], seen["collector"], 1), "%v", err)
	}
	setLine := map[string]int{} // field -> the line whose value took effect
	for _, s := range settings {
		if s.variantName != "" {
			if cfg, err = cfg.WithVariant(s.variantName); err != nil {
				return nil, errf(s.line, "%v", err)
			}
			setLine["variant "+s.variantName] = s.line
			continue
		}
		v, _ := model.ParseUint(s.value)
		if v > 1e12 {
			return nil, errf(s.line, "value %s out of range; want \"set %s VALUE\" with VALUE in 0..1000000000000", clip(s.value), s.key)
		}
		if s.key == maxStepsField {
			f.MaxSteps = int64(v)
		} else if cfg, err = cfg.WithSetting(s.key, int64(v)); err != nil {
			return nil, errf(s.line, "%v", err)
		}
		setLine[s.key] = s.line
	}
	if f.MaxSteps < 1 || f.MaxSteps > 1e9 {
		return nil, errf(configLine(setLine, seen, maxStepsField), "max_steps %d out of range; want \"set max_steps N\" with N in 1..1000000000", f.MaxSteps)
	}
	if err := model.Validate(sys, cfg); err != nil {
		return nil, errf(configLine(setLine, seen, validateField(err.Error(), fields)), "%v", err)
	}
	sc.Config = cfg
	if err := checkActors(sys, cfg, sc.Steps, stepLines, errf); err != nil {
		return nil, err
	}
	return f, nil
}

// checkActors validates the steps' actors and ops against the actors a run
// of cfg has (System.Actors): an unknown actor, or an op the actor never
// records, is an error at the step's line listing what is there.
func checkActors(sys model.System, cfg model.Config, steps []model.ScenarioStep, lines []int, errf func(int, string, ...any) error) error {
	actors := sys.Actors(cfg)
	find := func(name string) (model.ActorSpec, bool) {
		for _, a := range actors {
			if a.Name == name {
				return a, true
			}
		}
		return model.ActorSpec{}, false
	}
	names := make([]string, len(actors))
	for i, a := range actors {
		names[i] = a.Name
	}
	for i, st := range steps {
		if st.Actor == "" {
			continue
		}
		if st.Actor == model.DirectorActor {
			return errf(lines[i], "%s is the scenario's own actor; want one of %s", model.DirectorActor, strings.Join(names, ", "))
		}
		a, ok := find(st.Actor)
		if !ok {
			return errf(lines[i], "no actor named %q in this configuration; want one of %s", clip(st.Actor), strings.Join(names, ", "))
		}
		if st.Kind == model.StepRunUntil && !a.HasOp(st.Op) {
			return errf(lines[i], "actor %s records no op %q; want one of its ops (%s)%s, or an observation kind", a.Name, clip(st.Op), strings.Join(model.Names(a.Ops), ", "), fsOpsWords(a))
		}
	}
	return nil
}

// fsOpsWords names the filesystem's ops for an actor that calls it.
func fsOpsWords(a model.ActorSpec) string {
	if !a.FS {
		return ""
	}
	return ", a filesystem op (" + strings.Join(vfsmemOps(), ", ") + ")"
}

// sortedNames lists the names of infos, sorted.
func sortedNames(infos []model.Info) []string {
	out := model.Names(infos)
	sort.Strings(out)
	return out
}

// vfsmemOps are the filesystem's ops (vfsmem.Ops).
func vfsmemOps() []string { return vfsmem.Ops }

// validateField returns the field a model.Config.Validate message is about
// (fields are the settable ones):
// its messages read "config: FIELD must ...". For a field no set line can
// name (initial_regions must be in 0..key_space) it returns the first
// settable field the message mentions, or "".
func validateField(msg string, fields []string) string {
	rest := strings.TrimPrefix(msg, "config: ")
	if first, _, _ := strings.Cut(rest, " "); contains(fields, first) {
		return first
	}
	for _, w := range strings.FieldsFunc(rest, func(r rune) bool { return !(r == '_' || r >= 'a' && r <= 'z') }) {
		if contains(fields, w) {
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

// stepForms lists the step lines of spec's scenarios, for error messages.
func stepForms(spec model.Spec) string {
	forms := []string{`"run ACTOR until OP [N]"`, `"run ACTOR until idle"`, `"run ACTOR steps N"`}
	if len(spec.Groups) > 0 {
		forms = append(forms, fmt.Sprintf(`"hang ACTOR|%s for DURATION"`, groupWord(spec)))
	} else {
		forms = append(forms, `"hang ACTOR for DURATION"`)
	}
	for _, c := range spec.Commands {
		forms = append(forms, `"`+c.Form+`"`)
	}
	return strings.Join(forms, ", ") + ` or "stop"`
}

// groupWord is how a hang's group is written in forms: NODE for a system
// whose groups are nodes (Spec.GroupWord), GROUP otherwise.
func groupWord(spec model.Spec) string {
	if spec.GroupWord != "" {
		return spec.GroupWord
	}
	return "GROUP"
}

// runForms is the documented form of a run line.
const runForms = `"run ACTOR until OP [N]" or "run ACTOR steps N", or "run ACTOR until idle"`

// parseStep parses a step line of spec's scenarios: run, hang, stop, or
// one of the system's commands.
func parseStep(w []string, spec model.Spec) (model.ScenarioStep, error) {
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
				v, ok := model.ParseUint(w[4])
				if !ok || v < 1 || v > 1e6 {
					return bad(`"run ACTOR until OP [N]" with N in 1..1000000`)
				}
				n = int(v)
			}
			return model.ScenarioStep{Kind: model.StepRunUntil, Actor: w[1], Op: w[3], N: n}, nil
		}
		if len(w) == 4 && w[2] == "steps" {
			v, ok := model.ParseUint(w[3])
			if !ok || v < 1 || v > 1e6 {
				return bad(`"run ACTOR steps N" with N in 1..1000000`)
			}
			return model.ScenarioStep{Kind: model.StepRunSteps, Actor: w[1], N: int(v)}, nil
		}
		return bad(runForms)
	case "hang":
		form := `"hang ACTOR for DURATION" with DURATION like 300us, 5ms or 1s (at most 1000000s)`
		if len(spec.Groups) > 0 {
			g := groupWord(spec)
			form = fmt.Sprintf(`"hang ACTOR for DURATION" or "hang %s for DURATION" with %s %s and DURATION like 300us, 5ms or 1s (at most 1000000s)`, g, g, orList(spec.Groups))
		}
		if len(w) != 4 || w[2] != "for" {
			return bad(form)
		}
		d, ok := parseDuration(w[3])
		if !ok {
			return model.ScenarioStep{}, fmt.Errorf("bad duration %q; want %s", clip(w[3]), form)
		}
		st := model.ScenarioStep{Kind: model.StepHang, Duration: d}
		switch {
		case contains(spec.Groups, w[1]):
			st.Node = w[1]
		case validName(w[1]):
			st.Actor = w[1]
		default:
			return model.ScenarioStep{}, fmt.Errorf("bad actor %q in hang line; want %s", clip(w[1]), form)
		}
		return st, nil
	case "stop":
		if len(w) != 1 {
			return bad(`"stop" alone`)
		}
		return model.ScenarioStep{Kind: model.StepStop}, nil
	}
	for _, c := range spec.Commands {
		if c.Name == w[0] {
			st, err := c.Parse(w)
			if err != nil {
				return model.ScenarioStep{}, err
			}
			st.Kind = c.Name
			return st, nil
		}
	}
	return model.ScenarioStep{}, fmt.Errorf("unknown line %q; want a configuration line (system, collector, profile, variant, set, seed, strategy, keep-going), an expectation (expect, expect-not) or a step: %s", clip(w[0]), stepForms(spec))
}

// orList renders names as "a or b", "a, b or c".
func orList(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
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
