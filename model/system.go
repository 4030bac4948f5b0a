package model

import (
	"errors"
	"fmt"
	"slices"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// System is a simulated system the CLI, the corpus and the property
// helpers drive: the TiKV-like cluster (model/tikv) or a user's. It
// describes itself (Spec), makes and decodes configurations, says which
// actors a configuration has and what they do, and runs one configuration
// under the kernel. Everything else — sweeps, replays, shrinking,
// timelines, validation matrices, exhaustive checks, scenario files,
// property tests — is generic over it.
type System interface {
	// Spec describes the system: its name, designs, profiles, variant
	// switches, numeric settings and scenario commands.
	Spec() Spec
	// NewConfig returns the configuration of design under profile (an
	// error naming the unknown design or profile, with the known ones).
	NewConfig(design, profile string) (Config, error)
	// DecodeConfig decodes a configuration as its JSON encoding wrote it
	// (the "config" member of a .draws file).
	DecodeConfig(data []byte) (Config, error)
	// Actors lists the actors a run of cfg has, with the ops each records
	// in the trace: what scenario steps may name.
	Actors(cfg Config) []ActorSpec
	// Run runs cfg to completion under the kernel configured by sc,
	// drawing every decision from ch; h lets a scenario's director join
	// the run. An error means the configuration is unusable or the system
	// itself failed (a bug, reported, never a crash); actor panics are
	// observations, not errors.
	Run(cfg Config, ch sim.Choice, sc sim.Config, h Hooks) (Outcome, error)
}

// Spec is a system's description of itself.
type Spec struct {
	// Name is how --system and a corpus file's "system" line name it.
	Name string
	// Summary says in one line what the system models.
	Summary string
	// Designs are the designs a configuration may name (--collector),
	// sorted by name, and DefaultDesign the one used when none is named.
	Designs       []Info
	DefaultDesign string
	// Profiles are the workload profiles, in documented order;
	// DefaultProfile is the one used when none is named.
	Profiles       []Info
	DefaultProfile string
	// Variants are the switches a configuration may turn on (--variant,
	// "variant NAME"), each naming the mechanism it changes.
	Variants []Info
	// Settings are the numeric fields a configuration may set (--set,
	// "set FIELD VALUE").
	Settings []Info
	// Commands are the scenario steps the system performs itself (tikv:
	// crash, restart, split, merge, conf-change), beside the generic run,
	// hang and stop.
	Commands []Command
	// Groups are what "hang GROUP for DURATION" accepts (tikv: the nodes
	// n1 and n2): a hang of a group stalls each of its live actors.
	// GroupWord is how forms write a group ("NODE"; default "GROUP").
	Groups    []string
	GroupWord string
}

// Info is a named thing with a one-line description.
type Info struct {
	Name    string `json:"name"`
	Summary string `json:"summary"`
}

// Names lists the names of infos, in order.
func Names(infos []Info) []string {
	out := make([]string, len(infos))
	for i, x := range infos {
		out[i] = x.Name
	}
	return out
}

// HasName reports whether infos has one named name.
func HasName(infos []Info, name string) bool { return slices.Contains(Names(infos), name) }

// ActorSpec is one actor of a run: its name as traces spell it, what it
// does, and the ops it records (Event.Op), which "run ACTOR until OP"
// waits for: its own actions and infos, the filesystem's ops if FS
// (vfsmem.Ops: the actor calls the filesystem), and the observation kinds
// (any actor may make an observation).
type ActorSpec struct {
	Name    string `json:"name"`
	Summary string `json:"summary"`
	Ops     []Info `json:"ops"`
	FS      bool   `json:"fs"`
}

// HasOp reports whether actor a records op: one of its own, a filesystem
// op if it calls the filesystem, or an observation kind.
func (a ActorSpec) HasOp(op string) bool {
	return HasName(a.Ops, op) || (a.FS && slices.Contains(vfsmem.Ops, op)) || sim.ValidKind(sim.Kind(op))
}

// Command is a scenario step a system performs itself.
type Command struct {
	// Name is the step's first word; Form its documented form, for errors
	// ("split REGION at KEY"); Summary what it does.
	Name, Form, Summary string
	// Parse parses the step's words (words[0] == Name) into a step whose
	// Kind is Name; an error says what is wrong (the parser adds
	// FILE:LINE).
	Parse func(words []string) (ScenarioStep, error)
	// Check validates a hand-built step's fields (nil: none).
	Check func(st ScenarioStep) error
}

// Config is one run's configuration of a system: everything that selects
// the run besides the Choice stream. A system's own configuration type
// implements it (tikv.Config); its JSON encoding is what DecodeConfig
// reads back. The With methods return a changed copy and leave the
// receiver alone.
type Config interface {
	// SystemName, DesignName and ProfileName say which system, design and
	// profile the configuration is of.
	SystemName() string
	DesignName() string
	ProfileName() string
	// Validate reports the first setting that cannot work, naming it.
	Validate() error
	// WithVariant turns variant switch name on.
	WithVariant(name string) (Config, error)
	// WithSetting sets numeric field name.
	WithSetting(name string, value int64) (Config, error)
}

// Optioner is a Config that takes system-specific lines of a scope file
// (tikv: workload, end-after, instant-ops): WithOption applies one line's
// words, or returns an error wrapping ErrUnknownOption if words[0] is none
// of its keywords. Options lists the keywords with their forms.
type Optioner interface {
	WithOption(words []string) (Config, error)
	Options() []Info
}

// ErrUnknownOption is wrapped by Optioner.WithOption for a keyword it does
// not take.
var ErrUnknownOption = errors.New("unknown option")

// ScopeBase is a Config that starts a scope of the exhaustive explorer
// from something other than itself (tikv: thread churn off unless the
// scope sets it, since a scope stages its mechanisms).
type ScopeBase interface {
	ScopeBase() Config
}

// KindLister is a Config that knows which observation kinds a run of it
// can show (a run that ends early shows no liveness or leak kinds). A
// Config that is not one can show any kind but nondeterminism.
type KindLister interface {
	Kinds() []sim.Kind
}

// Kinds returns the observation kinds a run of cfg can show.
func Kinds(cfg Config) []sim.Kind {
	if kl, ok := cfg.(KindLister); ok {
		return kl.Kinds()
	}
	var out []sim.Kind
	for _, k := range sim.Kinds {
		if k != sim.KindNondeterminism {
			out = append(out, k)
		}
	}
	return out
}

// Validate checks cfg against the system: its design is one of sys's,
// then cfg's own checks.
func Validate(sys System, cfg Config) error {
	spec := sys.Spec()
	if !HasName(spec.Designs, cfg.DesignName()) {
		return fmt.Errorf("unknown collector %q (want one of %v)", cfg.DesignName(), Names(spec.Designs))
	}
	return cfg.Validate()
}

// Hooks let a caller join a run: the scenario director.
type Hooks struct {
	// Start is called once every actor of the system has been spawned and
	// before the kernel runs (the director spawns its own actor there).
	Start func(rt Runtime)
	// End is called after the kernel has run and before the outcome is
	// assembled.
	End func()
}

// Runtime is a running system as a scenario's director sees it.
type Runtime interface {
	// Scheduler is the run's kernel.
	Scheduler() *sim.Scheduler
	// Group returns the live actors of group name (a hang of the group
	// stalls them) and how the trace names the group ("node n1"); an
	// error says why it cannot be hung now.
	Group(name string) (label string, actors []*sim.Actor, err error)
	// Perform executes a system command of the scenario (a step whose Kind
	// is one of Spec.Commands) on the director's actor a.
	Perform(a *sim.Actor, st ScenarioStep) error
}

// Outcome is what a run produced, in the terms every command understands.
type Outcome struct {
	// Config is the run's configuration.
	Config Config `json:"config"`
	// Result is the kernel's: trace hash, events, observations.
	Result sim.Result `json:"result"`
	// Script says how far a scenario's script got (nil for a run that is
	// not a scenario).
	Script *ScriptReport `json:"script,omitempty"`
	// Tasks are the units of work the run requested (tikv: snapshots),
	// for the validation matrix's retries and latencies.
	Tasks []Task `json:"tasks,omitempty"`
	// PeakPinnedBytes is the peak of obsolete-but-protected bytes (space a
	// protection held), 0 if the system does not measure it.
	PeakPinnedBytes int64 `json:"peak_pinned_bytes"`
	// Summary are the lines a replay prints after the trace hash (tikv:
	// one per snapshot).
	Summary []string `json:"-"`
	// Members are extra top-level members of replay's JSON, by name (tikv:
	// "workload" and "snapshots").
	Members map[string]any `json:"-"`
	// Detail is the system's own outcome (tikv: a tikv.Outcome), for
	// callers that know the system.
	Detail any `json:"-"`
}

// Violated reports whether anything was observed.
func (o *Outcome) Violated() bool { return len(o.Result.Observations) > 0 }

// Task is one unit of work a run requested and how it ended.
type Task struct {
	// ID numbers the task; Status is its final state as the system names
	// it.
	ID     int    `json:"id"`
	Status string `json:"status"`
	// Attempts is how many attempts it took; Latency the virtual time from
	// request to its final state.
	Attempts int        `json:"attempts"`
	Latency  sim.Micros `json:"latency_us"`
	// Built reports whether it produced its output (the matrix's retries
	// are over built tasks); Settled whether it reached a final state that
	// is a verdict, not an abort or a skip (latencies are over settled
	// tasks).
	Built   bool `json:"built"`
	Settled bool `json:"settled"`
	// Succeeded reports whether it ended in the state the work was for
	// (tikv: applied by the learner), not merely a final one: the
	// validation matrix's applied share.
	Succeeded bool `json:"succeeded"`
}
