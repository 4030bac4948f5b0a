package model

import (
	"fmt"
	"sort"
)

// Systems is a set of systems by name: the CLI's (--system), a corpus
// file's ("system NAME"). It is a value, built by whoever composes the
// program (builtin.Systems, cli.WithSystems), not a global registry.
type Systems struct {
	// list is sorted by name.
	list []System
}

// NewSystems returns the set of systems ss; two with one name, or a
// system whose Spec lacks a name, designs or a default design, are an
// error.
func NewSystems(ss ...System) (*Systems, error) {
	r := &Systems{}
	for _, s := range ss {
		spec := s.Spec()
		switch {
		case spec.Name == "":
			return nil, fmt.Errorf("model: a system without a name (Spec.Name)")
		case len(spec.Designs) == 0:
			return nil, fmt.Errorf("model: system %s has no designs", spec.Name)
		case !HasName(spec.Designs, spec.DefaultDesign):
			return nil, fmt.Errorf("model: system %s: default design %q is not one of its designs %v", spec.Name, spec.DefaultDesign, Names(spec.Designs))
		case !HasName(spec.Profiles, spec.DefaultProfile):
			return nil, fmt.Errorf("model: system %s: default profile %q is not one of its profiles %v", spec.Name, spec.DefaultProfile, Names(spec.Profiles))
		}
		if _, dup := r.Lookup(spec.Name); dup == nil {
			return nil, fmt.Errorf("model: system %s given twice", spec.Name)
		}
		r.list = append(r.list, s)
	}
	sort.Slice(r.list, func(i, j int) bool { return r.list[i].Spec().Name < r.list[j].Spec().Name })
	return r, nil
}

// Lookup returns the system named name, or an error listing the known
// ones.
func (r *Systems) Lookup(name string) (System, error) {
	for _, s := range r.list {
		if s.Spec().Name == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("unknown system %q (want one of %v)", name, r.Names())
}

// Names lists the systems' names, sorted.
func (r *Systems) Names() []string {
	out := make([]string, len(r.list))
	for i, s := range r.list {
		out[i] = s.Spec().Name
	}
	return out
}

// All returns the systems, sorted by name.
func (r *Systems) All() []System { return append([]System(nil), r.list...) }
