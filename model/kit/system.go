package kit

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// Definition describes a kit system; NewSystem checks it and makes it a
// model.System.
type Definition struct {
	// Name, Summary: as model.Spec's (Name is --system's and a corpus
	// file's "system" line's).
	Name, Summary string
	// Designs are the versions of the system a configuration may run
	// (--collector, "collector NAME": the buggy protocol and the fixed
	// one), DefaultDesign the one run when none is named.
	Designs       []model.Info
	DefaultDesign string
	// Profiles are named sets of setting values, applied over the
	// settings' defaults; "default" (no changes) is added if missing.
	Profiles []Profile
	// Variants are switches a configuration may turn on ("variant NAME"),
	// each naming the mechanism it changes.
	Variants []model.Info
	// Settings are the numeric fields a configuration carries ("set FIELD
	// VALUE"), with defaults and bounds.
	Settings []Setting
	// Actors lists the actors a run of cfg has (every actor Setup spawns
	// must be listed).
	Actors func(cfg Config) []Actor
	// FS configures the run's filesystem (nil: vfsmem.DefaultOptions).
	FS func(cfg Config) vfsmem.Options
	// Setup builds one run in w (directories, initial files, primitives)
	// and spawns its actors; it runs before the kernel, outside any actor.
	Setup func(w *World, cfg Config) error
	// Finish runs after the kernel (post-run checks, summary lines); nil
	// for none.
	Finish func(w *World)
	// Groups and GroupWord are model.Spec's: what "hang GROUP" accepts.
	Groups    []string
	GroupWord string
	// Commands are scenario steps the system performs itself, and Perform
	// performs one on the director's actor.
	Commands []model.Command
	Perform  func(w *World, a *sim.Actor, st model.ScenarioStep) error
}

// Profile is a named set of setting values.
type Profile struct {
	Name, Summary string
	Values        []Value
}

// Setting is a numeric field of a configuration: its name ("lease_ttl_us":
// name times with their unit), what it sets, its default and its bounds.
type Setting struct {
	Name, Summary string
	Default       int64
	Min, Max      int64
}

// Value is one setting's value in a configuration.
type Value struct {
	Name  string `json:"name"`
	Value int64  `json:"value"`
}

// System is a model.System made from a Definition.
type System struct {
	def  Definition
	spec model.Spec
}

var _ model.System = (*System)(nil)

// NewSystem checks def and returns its system: a name, a summary,
// designs with a default among them, Actors and Setup are required;
// settings need Min <= Default <= Max; names are unique.
func NewSystem(def Definition) (*System, error) {
	errf := func(format string, args ...any) error {
		return fmt.Errorf("kit: system %q: %s", def.Name, fmt.Sprintf(format, args...))
	}
	switch {
	case def.Name == "" || strings.Trim(def.Name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "":
		return nil, errf("want a name of lower-case letters, digits and '-'")
	case def.Summary == "":
		return nil, errf("no summary")
	case len(def.Designs) == 0 || !model.HasName(def.Designs, def.DefaultDesign):
		return nil, errf("default design %q is not one of its designs %v", def.DefaultDesign, model.Names(def.Designs))
	case def.Actors == nil || def.Setup == nil:
		return nil, errf("Actors and Setup are required")
	case len(def.Commands) > 0 && def.Perform == nil:
		return nil, errf("commands without Perform")
	}
	if !slices.ContainsFunc(def.Profiles, func(p Profile) bool { return p.Name == "default" }) {
		def.Profiles = append([]Profile{{Name: "default", Summary: "the settings' defaults"}}, def.Profiles...)
	}
	for _, st := range def.Settings {
		if st.Min > st.Default || st.Default > st.Max {
			return nil, errf("setting %s: default %d is outside %d..%d", st.Name, st.Default, st.Min, st.Max)
		}
	}
	spec := model.Spec{Name: def.Name, Summary: def.Summary, Designs: sortedInfos(def.Designs), DefaultDesign: def.DefaultDesign,
		DefaultProfile: "default", Variants: def.Variants, Commands: def.Commands, Groups: def.Groups, GroupWord: def.GroupWord}
	for _, p := range def.Profiles {
		spec.Profiles = append(spec.Profiles, model.Info{Name: p.Name, Summary: p.Summary})
		for _, v := range p.Values {
			if !slices.ContainsFunc(def.Settings, func(s Setting) bool { return s.Name == v.Name }) {
				return nil, errf("profile %s sets unknown setting %s", p.Name, v.Name)
			}
		}
	}
	for _, st := range def.Settings {
		spec.Settings = append(spec.Settings, model.Info{Name: st.Name, Summary: st.Summary})
	}
	for _, list := range [][]model.Info{def.Designs, def.Variants, spec.Settings, spec.Profiles} {
		if dup := duplicate(model.Names(list)); dup != "" {
			return nil, errf("%q given twice", dup)
		}
	}
	return &System{def: def, spec: spec}, nil
}

// MustNewSystem is NewSystem for a definition known to be valid; it
// panics on an error.
func MustNewSystem(def Definition) *System {
	sys, err := NewSystem(def)
	if err != nil {
		panic(err)
	}
	return sys
}

func sortedInfos(in []model.Info) []model.Info {
	out := slices.Clone(in)
	slices.SortFunc(out, func(a, b model.Info) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func duplicate(names []string) string {
	s := slices.Clone(names)
	slices.Sort(s)
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return s[i]
		}
	}
	return ""
}

// Spec implements model.System.
func (sys *System) Spec() model.Spec { return sys.spec }

// NewConfig implements model.System: the settings' defaults with
// profile's values over them.
func (sys *System) NewConfig(design, profile string) (model.Config, error) {
	if !model.HasName(sys.spec.Designs, design) {
		return nil, fmt.Errorf("unknown collector %q (want one of %v)", design, model.Names(sys.spec.Designs))
	}
	i := slices.IndexFunc(sys.def.Profiles, func(p Profile) bool { return p.Name == profile })
	if i < 0 {
		return nil, fmt.Errorf("unknown profile %q (want one of %v)", profile, model.Names(sys.spec.Profiles))
	}
	cfg := Config{System: sys.def.Name, Design: design, Profile: profile, sys: sys}
	for _, st := range sys.def.Settings {
		cfg.Values = append(cfg.Values, Value{Name: st.Name, Value: st.Default})
	}
	for _, v := range sys.def.Profiles[i].Values {
		cfg = cfg.with(v.Name, v.Value)
	}
	return cfg, nil
}

// DecodeConfig implements model.System.
func (sys *System) DecodeConfig(data []byte) (model.Config, error) {
	var cfg Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: decode config: %w", sys.def.Name, err)
	}
	if cfg.System != sys.def.Name {
		return nil, fmt.Errorf("%s: decode config: it is a configuration of system %q", sys.def.Name, cfg.System)
	}
	cfg.sys = sys
	return cfg, nil
}

// Actors implements model.System.
func (sys *System) Actors(mc model.Config) []model.ActorSpec {
	cfg, _ := mc.(Config)
	cfg.sys = sys
	var out []model.ActorSpec
	for _, a := range sys.def.Actors(cfg) {
		out = append(out, a.spec())
	}
	return out
}

// Run implements model.System: a World with the definition's actors,
// Setup, the hooks around the kernel's run, Finish, and the outcome.
func (sys *System) Run(mc model.Config, ch sim.Choice, sc sim.Config, h model.Hooks) (out model.Outcome, err error) {
	cfg, ok := mc.(Config)
	if !ok || cfg.System != sys.def.Name {
		return model.Outcome{}, fmt.Errorf("%s: configuration %T is not one of this system's", sys.def.Name, mc)
	}
	cfg.sys = sys
	if err := model.Validate(sys, cfg); err != nil {
		return model.Outcome{}, err
	}
	defer func() {
		if r := recover(); r != nil {
			if ab, ok := r.(sim.Abort); ok {
				panic(ab.Cause) // the Choice source's own control flow
			}
			err = fmt.Errorf("%s: the system failed outside any actor (a bug of the system): %v\n%s", sys.def.Name, r, debug.Stack())
		}
	}()
	opts := vfsmem.DefaultOptions()
	if sys.def.FS != nil {
		opts = sys.def.FS(cfg)
	}
	w := NewWorld(ch, sc, opts, sys.def.Actors(cfg))
	w.s.RecordAs("setup", sim.ClassInfo, "config", cfg.describe(), "")
	if err := sys.def.Setup(w, cfg); err != nil {
		return model.Outcome{}, fmt.Errorf("%s: setup: %w", sys.def.Name, err)
	}
	if h.Start != nil {
		h.Start(runtime{w: w, def: &sys.def})
	}
	w.s.Run()
	if h.End != nil {
		h.End()
	}
	if sys.def.Finish != nil {
		sys.def.Finish(w)
	}
	return model.Outcome{Config: cfg, Result: w.s.Result(), Summary: w.summary, Tasks: w.tasks}, nil
}

// runtime is the model.Runtime of a World.
type runtime struct {
	w   *World
	def *Definition
}

// Scheduler implements model.Runtime.
func (r runtime) Scheduler() *sim.Scheduler { return r.w.s }

// Group implements model.Runtime: the group's live actors, for "hang
// GROUP".
func (r runtime) Group(name string) (string, []*sim.Actor, error) {
	if !slices.Contains(r.def.Groups, name) {
		return "", nil, fmt.Errorf("no group %q (want one of %v)", name, r.def.Groups)
	}
	actors := r.w.Group(name)
	if len(actors) == 0 {
		return "", nil, fmt.Errorf("group %s has no live actor", name)
	}
	word := r.def.GroupWord
	if word == "" {
		word = "group"
	}
	return strings.ToLower(word) + " " + name, actors, nil
}

// Perform implements model.Runtime: the definition's Perform.
func (r runtime) Perform(a *sim.Actor, st model.ScenarioStep) error {
	if r.def.Perform == nil {
		return fmt.Errorf("system %s has no command %q", r.def.Name, st.Kind)
	}
	return r.def.Perform(r.w, a, st)
}

// Config is a kit system's configuration: design, profile, the variant
// switches turned on and every setting's value. Its JSON encoding is what
// DecodeConfig reads back.
type Config struct {
	System   string   `json:"system"`
	Design   string   `json:"design"`
	Profile  string   `json:"profile"`
	Variants []string `json:"variants,omitempty"`
	// Values holds every setting, in the definition's order.
	Values []Value `json:"settings"`
	sys    *System
}

var _ model.Config = Config{}

// SystemName implements model.Config.
func (c Config) SystemName() string { return c.System }

// DesignName implements model.Config.
func (c Config) DesignName() string { return c.Design }

// ProfileName implements model.Config.
func (c Config) ProfileName() string { return c.Profile }

// Variant reports whether variant switch name is on.
func (c Config) Variant(name string) bool { return slices.Contains(c.Variants, name) }

// Int returns setting name's value. A name the definition lacks is a bug
// of the system: Int panics.
func (c Config) Int(name string) int64 {
	for _, v := range c.Values {
		if v.Name == name {
			return v.Value
		}
	}
	panic(fmt.Sprintf("kit: Config.Int(%q): no such setting", name))
}

// Micros returns setting name's value as virtual time.
func (c Config) Micros(name string) sim.Micros { return sim.Micros(c.Int(name)) }

// Validate implements model.Config: every setting within its bounds
// ("config: NAME must be in MIN..MAX").
func (c Config) Validate() error {
	if c.sys == nil {
		return fmt.Errorf("config: not made by a kit system (NewConfig or DecodeConfig)")
	}
	for _, st := range c.sys.def.Settings {
		i := slices.IndexFunc(c.Values, func(v Value) bool { return v.Name == st.Name })
		if i < 0 {
			return fmt.Errorf("config: %s is missing", st.Name)
		}
		if v := c.Values[i].Value; v < st.Min || v > st.Max {
			return fmt.Errorf("config: %s must be in %d..%d (got %d)", st.Name, st.Min, st.Max, v)
		}
	}
	for _, v := range c.Variants {
		if !model.HasName(c.sys.spec.Variants, v) {
			return fmt.Errorf("config: unknown variant %q", v)
		}
	}
	return nil
}

// WithVariant implements model.Config.
func (c Config) WithVariant(name string) (model.Config, error) {
	if c.sys == nil || !model.HasName(c.sys.spec.Variants, name) {
		return c, fmt.Errorf("unknown variant %q (want one of %s)", name, strings.Join(c.variantNames(), ", "))
	}
	if !c.Variant(name) {
		c.Variants = append(slices.Clone(c.Variants), name)
	}
	return c, nil
}

func (c Config) variantNames() []string {
	if c.sys == nil {
		return nil
	}
	return model.Names(c.sys.spec.Variants)
}

// WithSetting implements model.Config.
func (c Config) WithSetting(name string, value int64) (model.Config, error) {
	if !slices.ContainsFunc(c.Values, func(v Value) bool { return v.Name == name }) {
		var names []string
		for _, v := range c.Values {
			names = append(names, v.Name)
		}
		return c, fmt.Errorf("unknown field %q (want one of %s)", name, strings.Join(names, ", "))
	}
	return c.with(name, value), nil
}

// with returns c with setting name at value (name is known).
func (c Config) with(name string, value int64) Config {
	c.Values = slices.Clone(c.Values)
	for i := range c.Values {
		if c.Values[i].Name == name {
			c.Values[i].Value = value
		}
	}
	return c
}

// describe renders the configuration for the trace's setup line.
func (c Config) describe() string {
	parts := []string{"design=" + c.Design, "profile=" + c.Profile}
	for _, v := range c.Variants {
		parts = append(parts, "variant="+v)
	}
	for _, v := range c.Values {
		parts = append(parts, fmt.Sprintf("%s=%d", v.Name, v.Value))
	}
	return strings.Join(parts, " ")
}
