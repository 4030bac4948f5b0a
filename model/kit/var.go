package kit

import "github.com/snapsim/snapsim/sim"

// Var is a value actors share (a store's current file set, the newest
// commit generation), declaring its reads and writes to the explorer: an
// actor whose shared state is only Vars, the other primitives and the
// filesystem may run under Declared().
type Var[T any] struct {
	w   *World
	obj sim.Object
	v   T
}

// NewVar returns a shared value named name in w, holding v.
func NewVar[T any](w *World, name string, v T) *Var[T] {
	return &Var[T]{w: w, obj: w.Object("var:" + name), v: v}
}

// Get returns the value. A slice or map it holds is shared: change it only
// through Set, with a copy.
func (x *Var[T]) Get() T {
	x.w.s.Touch(x.obj, false)
	return x.v
}

// Set replaces the value.
func (x *Var[T]) Set(v T) {
	x.w.s.Touch(x.obj, true)
	x.v = v
}
