package tikv

import (
	"fmt"
	"sort"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// System is the TiKV-like cluster as a simulated system, with the designs
// it accepts: its snapshot generators run whichever of them a Config's
// Collector names. It is built from a list of designs (New), which is how
// the built-in ones (model/designs) and a user's are registered.
type System struct {
	// designs are sorted by name.
	designs []registered
}

// registered is one design with the generators' footprint it runs under.
type registered struct {
	design    model.Design
	footprint *sim.Footprint
}

// New returns the system with designs ds. A design needs a name of
// lower-case letters, digits and '-', a summary and a constructor; two
// with one name are an error.
func New(ds ...model.Design) (*System, error) {
	sys := &System{}
	for _, d := range ds {
		switch {
		case !validName(d.Name):
			return nil, fmt.Errorf("tikv: design %q: want a name of lower-case letters, digits and '-'", d.Name)
		case d.New == nil:
			return nil, fmt.Errorf("tikv: design %s has no constructor (Design.New)", d.Name)
		case d.Summary == "":
			return nil, fmt.Errorf("tikv: design %s has no summary", d.Name)
		}
		if _, dup := sys.design(d.Name); dup {
			return nil, fmt.Errorf("tikv: design %s registered twice", d.Name)
		}
		if err := model.CheckNeeds(d, "snapsim", engineView{}, fsView{}); err != nil {
			return nil, fmt.Errorf("tikv: %w", err)
		}
		sys.designs = append(sys.designs, registered{design: d, footprint: modelFootprints.genFor(d.Footprint)})
		sort.Slice(sys.designs, func(i, j int) bool { return sys.designs[i].design.Name < sys.designs[j].design.Name })
	}
	return sys, nil
}

// MustNew is New for a list known to be valid (the built-in designs); it
// panics on an error.
func MustNew(ds ...model.Design) *System {
	sys, err := New(ds...)
	if err != nil {
		panic(err)
	}
	return sys
}

// design returns the registered design named name.
func (sys *System) design(name string) (registered, bool) {
	for _, r := range sys.designs {
		if r.design.Name == name {
			return r, true
		}
	}
	return registered{}, false
}

// Designs returns the system's designs, sorted by name.
func (sys *System) Designs() []model.Design {
	out := make([]model.Design, len(sys.designs))
	for i, r := range sys.designs {
		out[i] = r.design
	}
	return out
}

// DesignNames returns the system's design names, sorted.
func (sys *System) DesignNames() []string {
	out := make([]string, len(sys.designs))
	for i, r := range sys.designs {
		out[i] = r.design.Name
	}
	return out
}

func (sys *System) unknownDesign(name string) error {
	return fmt.Errorf("unknown collector %q (want one of %v)", name, sys.DesignNames())
}

// Validate reports the first setting of cfg that cannot work, naming it:
// an unknown collector, then Config.Validate's checks.
func (sys *System) Validate(cfg Config) error {
	if _, ok := sys.design(cfg.Collector); !ok {
		return sys.unknownDesign(cfg.Collector)
	}
	return cfg.Validate()
}

// designConfig is what a design reads of cfg.
func designConfig(cfg Config) model.DesignConfig {
	return model.DesignConfig{LeaseTTL: cfg.LeaseTTL, NonAtomicCheck: cfg.NonAtomicCheck, MaxAttempts: cfg.MaxAttempts, Backoff: cfg.Backoff,
		Weaken: cfg.Weaken.DesignWeakenings}
}

// validName reports whether s is a name of lower-case letters, digits and
// '-', starting with a letter or digit.
func validName(s string) bool {
	if s == "" || len(s) > 64 || s[0] == '-' {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}
