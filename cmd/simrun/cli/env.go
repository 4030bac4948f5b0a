package cli

import (
	"fmt"
	"sort"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/designs"
	"github.com/snapsim/snapsim/model/tikv"
)

// env is what a command line runs over: the systems it can select, the
// one it selects by default, and how replay lines name the program.
type env struct {
	systems       *model.Systems
	defaultSystem string
	// goRun is the main package a replay line names when the binary was
	// built by go run ("./cmd/simrun").
	goRun string
	// designs are the built-in designs and the options' (WithDesigns), as
	// values: what simrun pebble runs over real Pebble.
	designs []model.Design
}

// Option configures the CLI a program gets from Main or Command.
type Option func(*options) error

type options struct {
	systems       []model.System
	designs       []model.Design
	defaultSystem string
	goRun         string
}

// WithSystems adds systems beside the built-in TiKV-like one: every
// command takes --system NAME to select one. A system named tikv replaces
// the built-in one.
func WithSystems(ss ...model.System) Option {
	return func(o *options) error {
		o.systems = append(o.systems, ss...)
		return nil
	}
}

// WithDesigns adds file-collection designs to the built-in TiKV-like
// system, beside model/designs' (--collector NAME selects one).
func WithDesigns(ds ...model.Design) Option {
	return func(o *options) error {
		o.designs = append(o.designs, ds...)
		return nil
	}
}

// WithDefaultSystem makes name the system a command runs without --system
// (default tikv).
func WithDefaultSystem(name string) Option {
	return func(o *options) error {
		o.defaultSystem = name
		return nil
	}
}

// WithGoRun names the main package of the program, as the replay lines it
// prints say it under go run ("go run ./cmd/mysim replay ..."; default
// ./cmd/simrun).
func WithGoRun(path string) Option {
	return func(o *options) error {
		o.goRun = path
		return nil
	}
}

// newEnv builds the environment of opts: the built-in TiKV-like system
// (with the built-in designs and opts' designs) and opts' systems.
func newEnv(opts ...Option) (*env, error) {
	o := options{defaultSystem: tikv.Name, goRun: "./cmd/simrun"}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	all := append(designs.All(), o.designs...)
	flagship, err := tikv.New(all...)
	if err != nil {
		return nil, fmt.Errorf("simrun: %w", err)
	}
	list := []model.System{flagship}
	for _, s := range o.systems {
		if s.Spec().Name == tikv.Name {
			list[0] = s
			continue
		}
		list = append(list, s)
	}
	systems, err := model.NewSystems(list...)
	if err != nil {
		return nil, fmt.Errorf("simrun: %w", err)
	}
	if _, err := systems.Lookup(o.defaultSystem); err != nil {
		return nil, fmt.Errorf("simrun: default system: %w", err)
	}
	return &env{systems: systems, defaultSystem: o.defaultSystem, goRun: o.goRun, designs: all}, nil
}

// defaultEnv is simrun's own: the built-in system and designs.
func defaultEnv() *env {
	e, err := newEnv()
	if err != nil {
		panic(err)
	}
	return e
}

// defaultSpec is the spec of the default system.
func (e *env) defaultSpec() model.Spec {
	sys, err := e.systems.Lookup(e.defaultSystem)
	if err != nil {
		panic(err)
	}
	return sys.Spec()
}

// defaultDesigns lists the default system's designs, for help texts.
func (e *env) defaultDesigns() []string { return model.Names(e.defaultSpec().Designs) }

// defaultProfiles lists the default system's profiles, sorted, for help
// texts.
func (e *env) defaultProfiles() []string { return sortedNames(e.defaultSpec().Profiles) }

// sortedNames lists the names of infos, sorted.
func sortedNames(infos []model.Info) []string {
	out := model.Names(infos)
	sort.Strings(out)
	return out
}
