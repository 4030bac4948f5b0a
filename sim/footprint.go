package sim

// This file is the dependency relation of the exhaustive explorer
// (explore.go): what each step of an actor read or wrote. Two steps of
// different actors are independent, and may be commuted without changing
// anything an actor can observe, when their footprints do not conflict.
//
// Footprints come from three places:
//
//   - the kernel itself: every step writes its own actor's scheduling state;
//     Wake, Kill and Hang write the target's; Sleep and Now read the virtual
//     clock and Advance adds to it (additions commute with each other, not
//     with reads); Spawn, Stop and every observation conflict with
//     everything, and so does the last step of a non-daemon actor (it can
//     end the run);
//   - the filesystem (vfsmem) records the paths, directories and files each
//     operation reads or writes;
//   - the model declares the rest: an actor's code runs under a Footprint
//     (ActorOptions.Footprint, Actor.Declare) that lists the shared objects
//     its steps may touch, and Scheduler.Touch adds one for the running step.
//
// Sound by default: a step during which its actor had no declaration in
// force conflicts with every other step. Recording costs nothing unless an
// Explorer drives the run.

// Object names one piece of shared state for the dependency relation: a
// path of a filesystem, the version set of an engine, the region table.
// Objects are compared by value across executions, so they must be derived
// from stable names (ObjectNamed, Object.Child), never from addresses or
// creation counters, which change when independent steps are reordered.
type Object uint64

// ObjectNamed returns the object named name (an FNV-1a hash of it).
func ObjectNamed(name string) Object { return Object(hashString(fnvOffset64, name)) }

// Child returns the object named name inside o (a path inside a
// filesystem), without building the joined string.
func (o Object) Child(name string) Object {
	return Object(hashString(hashUint(uint64(o), 0x2f), name))
}

// AccessMode is how a step uses an object.
type AccessMode uint8

// Access modes. Two accesses to the same object conflict unless both are
// reads or both are additions (a counter's increments commute).
const (
	Read  AccessMode = 1
	Write AccessMode = 2
	Add   AccessMode = 4
)

// Access is one object and how a step uses it.
type Access struct {
	Obj  Object
	Mode AccessMode
}

// Reads is a read of o, for a Footprint.
func Reads(o Object) Access { return Access{o, Read} }

// Writes is a write of o, for a Footprint.
func Writes(o Object) Access { return Access{o, Write} }

// Adds is a commutative update of the counter o, for a Footprint.
func Adds(o Object) Access { return Access{o, Add} }

// Footprint is a declaration: the objects an actor's steps may touch while
// it is in force, besides what the kernel and the filesystem record
// themselves. An empty Footprint declares "nothing else". It is immutable
// once built.
type Footprint struct {
	acc []Access
}

// NewFootprint returns a declaration of accs.
func NewFootprint(accs ...Access) *Footprint {
	return &Footprint{acc: append([]Access(nil), accs...)}
}

// Accesses returns the declared accesses (the caller must not modify them).
func (f *Footprint) Accesses() []Access { return f.acc }

// conflicts reports whether two modes of the same object conflict.
func conflicts(a, b AccessMode) bool {
	m := a | b
	return m&Write != 0 || (m&Read != 0 && m&Add != 0)
}

// footprint is a recorded step's accesses: the ones recorded one by one,
// and the declarations in force during the step (kept by reference, not
// expanded: a declaration is immutable); all means "conflicts with
// everything".
type footprint struct {
	all   bool
	acc   []Access
	decls []*Footprint
}

func (f *footprint) reset() {
	f.all = false
	f.acc = f.acc[:0]
	f.decls = f.decls[:0]
}

// addDecl adds declaration d's accesses.
func (f *footprint) addDecl(d *Footprint) {
	if f.all || len(d.acc) == 0 {
		return
	}
	for _, x := range f.decls {
		if x == d {
			return
		}
	}
	f.decls = append(f.decls, d)
}

// each calls fn with every access of f, declarations included.
func (f *footprint) each(fn func(Access)) {
	for _, a := range f.acc {
		fn(a)
	}
	for _, d := range f.decls {
		for _, a := range d.acc {
			fn(a)
		}
	}
}

func (f *footprint) add(o Object, m AccessMode) {
	if f.all {
		return
	}
	for i := range f.acc {
		if f.acc[i].Obj == o {
			f.acc[i].Mode |= m
			return
		}
	}
	f.acc = append(f.acc, Access{o, m})
}

// union adds g's accesses to f.
func (f *footprint) union(g *footprint) {
	if g.all {
		f.all = true
	}
	if f.all {
		return
	}
	for _, a := range g.acc {
		f.add(a.Obj, a.Mode)
	}
	for _, d := range g.decls {
		f.addDecl(d)
	}
}

// copyFrom makes f equal to g, reusing f's storage.
func (f *footprint) copyFrom(g *footprint) {
	f.all = g.all
	f.acc = append(f.acc[:0], g.acc...)
	f.decls = append(f.decls[:0], g.decls...)
}

// dependent reports whether steps with footprints f and g conflict.
func (f *footprint) dependent(g *footprint) bool {
	if f.all || g.all {
		return true
	}
	if accConflict(f.acc, g.acc) {
		return true
	}
	for _, d := range g.decls {
		if accConflict(f.acc, d.acc) {
			return true
		}
	}
	for _, d := range f.decls {
		if accConflict(d.acc, g.acc) {
			return true
		}
		for _, e := range g.decls {
			if accConflict(d.acc, e.acc) {
				return true
			}
		}
	}
	return false
}

func accConflict(as, bs []Access) bool {
	for _, a := range as {
		for _, b := range bs {
			if a.Obj == b.Obj && conflicts(a.Mode, b.Mode) {
				return true
			}
		}
	}
	return false
}

// Kernel objects.
var (
	clockObject = ObjectNamed("sim:clock")
	actorObject = ObjectNamed("sim:actor")
)

// actorObj is the scheduling state of actor id.
func actorObj(id int) Object { return Object(hashUint(uint64(actorObject), uint64(id))) }

// stepRecorder accumulates the running step's footprint. It is on only when
// an Explorer drives the run.
type stepRecorder struct {
	on bool
	fp footprint
	// woken is the set (by actor id, ids < 64) of parked actors the step
	// made runnable with Wake.
	woken uint64
}

// Touch declares that the running step reads (write false) or writes obj,
// on top of its actor's declaration. Outside an actor, or when no Explorer
// drives the run, it does nothing.
func (s *Scheduler) Touch(obj Object, write bool) {
	if s.rec.on && s.current != nil {
		m := Read
		if write {
			m = Write
		}
		s.rec.fp.add(obj, m)
	}
}

// TouchAdd declares that the running step adds to the counter obj: such
// additions commute with each other, not with reads or writes of obj.
func (s *Scheduler) TouchAdd(obj Object) {
	if s.rec.on && s.current != nil {
		s.rec.fp.add(obj, Add)
	}
}

// TouchAll declares that the running step may depend on, or affect,
// anything: it conflicts with every other step (a crash, a scan of the
// whole filesystem).
func (s *Scheduler) TouchAll() {
	if s.rec.on && s.current != nil {
		s.rec.fp.all = true
	}
}

// NewSpace returns a fresh object for a component with objects of its own
// (a filesystem: its paths are Children of the space). Spaces are numbered
// in creation order, which is the same in every execution for components
// created in set-up, before Run; every space created while running is one
// shared space (two such filesystems then look alike to the dependency
// relation, which is conservative).
func (s *Scheduler) NewSpace(kind string) Object {
	base := ObjectNamed("sim:space:" + kind)
	if s.running {
		return base.Child("late")
	}
	s.spaces++
	return Object(hashUint(uint64(base), uint64(s.spaces)))
}

// Recording reports whether footprints are being recorded (an Explorer
// drives the run), so code can skip building objects otherwise.
func (s *Scheduler) Recording() bool { return s.rec.on }

// Declare puts f in force for the actor's code from now on and returns the
// declaration it replaces, so a region can restore it:
//
//	defer a.Declare(a.Declare(narrow))
//
// Every step of the actor includes the accesses of each declaration in
// force at any moment of it; a step during which no declaration was in
// force (f nil) conflicts with every other step.
func (a *Actor) Declare(f *Footprint) (prev *Footprint) {
	prev = a.decl
	a.decl = f
	if s := a.sched; s.rec.on && s.current == a {
		s.declareInto(f)
	}
	return prev
}

// declareInto adds declaration f to the running step.
func (s *Scheduler) declareInto(f *Footprint) {
	if f == nil {
		s.rec.fp.all = true
		return
	}
	s.rec.fp.addDecl(f)
}

// beginStep starts recording a's step.
func (s *Scheduler) beginStep(a *Actor) {
	s.rec.fp.reset()
	s.rec.woken = 0
	s.rec.fp.add(actorObj(a.id), Write)
	s.declareInto(a.decl)
}

// finishFootprint completes the footprint of the step in which worker a
// (a non-daemon) finished: the run ends when the last worker does, so the
// step reads whether every other worker is still alive, and if none is, it
// ended the run and conflicts with every other step.
func (s *Scheduler) finishFootprint(a *Actor) {
	last := true
	for _, b := range s.actors {
		if b != a && !b.opts.Daemon {
			s.rec.fp.add(actorObj(b.id), Read)
			if b.state != stateDone {
				last = false
			}
		}
	}
	if last {
		s.rec.fp.all = true
	}
}

// touchActor records an access to another actor's scheduling state.
func (s *Scheduler) touchActor(a *Actor, m AccessMode) {
	if s.rec.on && s.current != nil && s.current != a {
		s.rec.fp.add(actorObj(a.id), m)
	}
}

// traceHasher builds a canonical hash of an execution's trace: two
// executions get the same hash exactly when one is the other with
// independent neighbouring steps swapped (up to hash collisions). For each
// object it folds the steps that touch it in order, each maximal run of
// commuting accesses (reads, or additions) as an unordered set; a step that
// conflicts with everything writes every object and a barrier that every
// other step reads. A step is named by its actor, its index among that
// actor's steps and the data it drew.
type traceHasher struct {
	objs  []objTrace
	steps []int // per actor id: steps so far
}

type objTrace struct {
	obj  Object
	h    uint64
	run  AccessMode // the kind of the open run of commuting accesses, 0 if none
	runH uint64     // the sum of the run's step names
}

var traceBarrier = ObjectNamed("sim:trace-barrier")

func (t *traceHasher) reset() {
	t.objs = t.objs[:0]
	t.steps = t.steps[:0]
}

func (t *traceHasher) step(actor int, draws uint64, fp *footprint) {
	for len(t.steps) <= actor {
		t.steps = append(t.steps, 0)
	}
	t.steps[actor]++
	name := hashUint(hashUint(hashUint(fnvOffset64, uint64(actor)), uint64(t.steps[actor])), draws)
	if fp.all {
		t.access(traceBarrier, Write, name)
		for i := range t.objs {
			t.objs[i].fold(Write, name)
		}
		return
	}
	t.access(traceBarrier, Read, name)
	// An object in both a declaration and the recorded accesses is one
	// access of the combined mode.
	var merged footprint
	fp.each(func(a Access) { merged.add(a.Obj, a.Mode) })
	for _, a := range merged.acc {
		t.access(a.Obj, a.Mode, name)
	}
}

func (t *traceHasher) access(o Object, m AccessMode, name uint64) {
	for i := range t.objs {
		if t.objs[i].obj == o {
			t.objs[i].fold(m, name)
			return
		}
	}
	t.objs = append(t.objs, objTrace{obj: o, h: fnvOffset64})
	t.objs[len(t.objs)-1].fold(m, name)
}

// fold adds one access: a read or an addition joins (or starts) a run of
// its kind; anything else closes the run and is folded in order.
func (o *objTrace) fold(m AccessMode, name uint64) {
	kind := m
	if m&Write != 0 || m == Read|Add {
		kind = Write
	}
	if kind != Write && kind == o.run {
		o.runH += mixName(name)
		return
	}
	o.close()
	if kind == Write {
		o.h = hashUint(hashUint(o.h, uint64(Write)), name)
		return
	}
	o.run, o.runH = kind, mixName(name)
}

func (o *objTrace) close() {
	if o.run != 0 {
		o.h = hashUint(hashUint(o.h, uint64(o.run)), o.runH)
		o.run, o.runH = 0, 0
	}
}

// mixName spreads a step name before it is summed into a run.
func mixName(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	return x ^ x>>33
}

// sum is the trace's hash: every object's sequence, in any order.
func (t *traceHasher) sum() uint64 {
	var total uint64
	for i := range t.objs {
		o := &t.objs[i]
		o.close()
		total += mixName(hashUint(uint64(o.obj), o.h))
	}
	return total
}
