package kit

import (
	"fmt"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// maxWaits bounds the times one Acquire or WaitEnabled parks: more is a
// livelock of the system, reported as a panic of the waiting actor.
const maxWaits = 1 << 16

// Lock is a kernel-level mutex two actors can share (HBase's store-engine
// lock, which compaction selection and a scanner's file pick both hold;
// Kafka's log lock): while one actor holds it, another's Acquire parks.
// Acquire is not a scheduling point when the lock is free, so what the
// holder does between Acquire and Release without a scheduling point is
// atomic anyway; the lock matters across scheduling points (a filesystem
// call, a sleep).
type Lock struct {
	w       *World
	name    string
	obj     sim.Object
	holder  *sim.Actor
	waiters waitQueue
}

// NewLock returns a free lock named name in w.
func NewLock(w *World, name string) *Lock {
	return &Lock{w: w, name: name, obj: w.Object("lock:" + name)}
}

// Acquire takes the lock for actor a, parking while another actor holds
// it. Acquiring a lock a already holds is a bug of the system: Acquire
// panics (the lock is not reentrant).
func (l *Lock) Acquire(a *sim.Actor) {
	for i := 0; ; i++ {
		l.w.s.Touch(l.obj, true)
		switch {
		case l.holder == nil:
			l.holder = a
			l.w.Record(sim.ClassInfo, "lock", l.name, "acquired")
			return
		case l.holder == a:
			panic(fmt.Sprintf("kit: lock %s: %s acquires it twice", l.name, a.Name()))
		case i >= maxWaits:
			panic(fmt.Sprintf("kit: lock %s: %s waited %d times", l.name, a.Name(), i))
		}
		l.w.Record(sim.ClassInfo, "lock", l.name, "held by "+l.holder.Name()+": wait")
		l.waiters.wait(a)
	}
}

// Release gives the lock back and wakes its waiters (they compete for it
// again). Releasing a lock a does not hold is a bug of the system:
// Release panics.
func (l *Lock) Release(a *sim.Actor) {
	l.w.s.Touch(l.obj, true)
	if l.holder != a {
		panic(fmt.Sprintf("kit: lock %s: %s releases it without holding it", l.name, a.Name()))
	}
	l.holder = nil
	l.w.Record(sim.ClassInfo, "unlock", l.name, "released")
	l.waiters.wakeAll(l.w.s)
}

// Holder returns the name of the actor holding the lock ("" if free).
func (l *Lock) Holder() string {
	l.w.s.Touch(l.obj, false)
	if l.holder == nil {
		return ""
	}
	return l.holder.Name()
}

// LockOps are the ops a Lock records (info events), for the Ops of the
// actors that take it.
var LockOps = []model.Info{
	{Name: "lock", Summary: "a lock acquired, or a wait for it"},
	{Name: "unlock", Summary: "a lock released"},
}
