package kit

import (
	"fmt"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// Actor declares one actor of a system: how traces name it, what it does,
// the ops it records, and how the kernel and the oracle treat it. The same
// declaration lists the actor (model.System.Actors) and spawns it
// (World.Spawn), so the two cannot disagree.
type Actor struct {
	// Name is the actor's name in traces and scenario steps; Summary says
	// what it does.
	Name, Summary string
	// Ops are the ops it records itself (World.Record, and a Deleter's
	// DeleterOps), which "run ACTOR until OP" may name.
	Ops []model.Info
	// FS reports whether it calls the filesystem (its ops then include
	// vfsmem.Ops).
	FS bool
	// Watched makes it a reader the oracle watches: its open or stat of a
	// path another step deleted is an open-deleted-file observation.
	Watched bool
	// Daemon marks an actor that serves others (a compactor, a purger): the
	// run ends when every non-daemon actor has finished.
	Daemon bool
	// Group is the group "hang GROUP for DURATION" stalls it with ("" for
	// none): the node or process it belongs to.
	Group string
	// Footprint is its declaration for the exhaustive explorer: nil
	// (undeclared: each step conflicts with every other, which is sound),
	// or Declared() for an actor whose shared state is only kit primitives
	// and the filesystem.
	Footprint *sim.Footprint
}

// spec is the actor as model.System.Actors lists it.
func (a Actor) spec() model.ActorSpec {
	return model.ActorSpec{Name: a.Name, Summary: a.Summary, Ops: a.Ops, FS: a.FS}
}

// declared is the empty declaration Declared returns.
var declared = sim.NewFootprint()

// Declared returns the declaration of an actor that shares state with
// others only through kit primitives (which declare their own accesses)
// and the filesystem (which records its own).
func Declared() *sim.Footprint { return declared }

// World is one run of a kit system: the kernel, the filesystem, the
// actors spawned so far, and the summary lines and tasks the run reports.
type World struct {
	s     *sim.Scheduler
	fs    *vfsmem.FS
	space sim.Object
	// decls are the system's actor declarations, by position.
	decls []Actor
	// spawned are the actors spawned so far with their declarations'
	// groups, in spawn order.
	spawned []spawned
	summary []string
	tasks   []model.Task
}

// spawned is one spawned actor and its group.
type spawned struct {
	a     *sim.Actor
	group string
}

// NewWorld returns a world whose kernel draws every decision from ch
// under sc, with a filesystem configured by opts, for actors declared by
// decls (a test may pass its own; System.Run passes the definition's).
func NewWorld(ch sim.Choice, sc sim.Config, opts vfsmem.Options, decls []Actor) *World {
	s := sim.New(ch, sc)
	w := &World{s: s, decls: decls}
	w.fs = vfsmem.New(s, opts)
	w.space = s.NewSpace("kit")
	return w
}

// Scheduler returns the run's kernel.
func (w *World) Scheduler() *sim.Scheduler { return w.s }

// FS returns the run's filesystem.
func (w *World) FS() *vfsmem.FS { return w.fs }

// Now returns the virtual time (reading the clock, for the explorer).
func (w *World) Now() sim.Micros { return w.s.Now() }

// Object returns the explorer's object named name in the world's space:
// the state a primitive or a user's own shared variable stands for.
func (w *World) Object(name string) sim.Object { return w.space.Child(name) }

// Record appends an event to the trace, by the running actor (an action is
// part of the run's story, an info is plumbing).
func (w *World) Record(class sim.Class, op, detail, result string) {
	w.s.Record(class, op, detail, result)
}

// Observe raises an observation of kind by the running actor.
func (w *World) Observe(kind sim.Kind, detail string) { w.s.Observe(kind, detail) }

// Summarize adds a line that replay prints after the trace hash.
func (w *World) Summarize(format string, args ...any) {
	w.summary = append(w.summary, fmt.Sprintf(format, args...))
}

// AddTask reports a unit of work the run requested and how it ended (the
// validation matrix's retries and latencies).
func (w *World) AddTask(t model.Task) { w.tasks = append(w.tasks, t) }

// Decl returns the declaration of the actor named name.
func (w *World) Decl(name string) (Actor, bool) {
	for _, d := range w.decls {
		if d.Name == name {
			return d, true
		}
	}
	return Actor{}, false
}

// Spawn starts the declared actor named name running body. An actor the
// declarations do not list is a bug of the system: Spawn panics, and
// System.Run reports it as an error.
func (w *World) Spawn(name string, body func(a *sim.Actor)) *sim.Actor {
	d, ok := w.Decl(name)
	if !ok {
		panic(fmt.Sprintf("kit: Spawn(%q): no such actor declared (declare it in Definition.Actors)", name))
	}
	a := w.s.Spawn(name, sim.ActorOptions{Daemon: d.Daemon, Watched: d.Watched, Footprint: d.Footprint}, body)
	w.spawned = append(w.spawned, spawned{a: a, group: d.Group})
	return a
}

// Group returns the live actors of group name, in spawn order.
func (w *World) Group(name string) []*sim.Actor {
	var out []*sim.Actor
	for _, sp := range w.spawned {
		if sp.group == name && !sp.a.Done() {
			out = append(out, sp.a)
		}
	}
	return out
}
