package kit

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/snapsim/snapsim/sim"
)

// Protection is anything a deleter honours: a reference count, a
// reservation, a registry, a disable-deletions counter. Protects reports
// whether path may not be deleted now and, if so, who holds it ("scanner
// scan-1"). It reads the protection's state (and the clock, for a
// reservation by time), and declares what it reads to the explorer.
type Protection interface {
	// Name names the protection in traces and observations ("refcount",
	// "commit reservation").
	Name() string
	// Protects reports whether path is protected now, and by whom.
	Protects(path string) (holder string, ok bool)
}

// ErrProtected is wrapped by a Deleter's error for a file a protection it
// honours holds.
var ErrProtected = errors.New("protected")

// Protected returns the first of ps that protects path now, with its
// holder.
func Protected(ps []Protection, path string) (Protection, string, bool) {
	for _, p := range ps {
		if holder, ok := p.Protects(path); ok {
			return p, holder, true
		}
	}
	return nil, "", false
}

// RefCounts are per-file reference counts (HBase's store-file refcount, a
// Lucene IndexFileDeleter's incref, Cassandra's tryRef): a file with a
// reference may not be deleted. A reference taken after the file was
// listed and before it was opened is the "taken too late" bug: nothing
// protects the file in between.
type RefCounts struct {
	w    *World
	name string
	obj  sim.Object
	// holders are each path's reference holders, one entry per
	// reference, in the order taken.
	holders map[string][]string
}

// NewRefCounts returns empty reference counts named name in w.
func NewRefCounts(w *World, name string) *RefCounts {
	return &RefCounts{w: w, name: name, obj: w.Object("refcounts:" + name), holders: map[string][]string{}}
}

// Name implements Protection.
func (r *RefCounts) Name() string { return r.name }

// Ref takes a reference on path for holder.
func (r *RefCounts) Ref(path, holder string) {
	r.w.s.Touch(r.obj.Child(path), true)
	r.holders[path] = append(r.holders[path], holder)
}

// Unref drops one of holder's references on path. Dropping a reference
// that is not held is a bug of the system: Unref panics.
func (r *RefCounts) Unref(path, holder string) {
	r.w.s.Touch(r.obj.Child(path), true)
	hs := r.holders[path]
	i := slices.Index(hs, holder)
	if i < 0 {
		panic(fmt.Sprintf("kit: %s: Unref(%s) by %s, which holds no reference on it", r.name, path, holder))
	}
	hs = slices.Delete(hs, i, i+1)
	if len(hs) == 0 {
		delete(r.holders, path)
		return
	}
	r.holders[path] = hs
}

// Count returns how many references path has.
func (r *RefCounts) Count(path string) int {
	r.w.s.Touch(r.obj.Child(path), false)
	return len(r.holders[path])
}

// Protects implements Protection: a file with a reference.
func (r *RefCounts) Protects(path string) (string, bool) {
	r.w.s.Touch(r.obj.Child(path), false)
	hs := r.holders[path]
	if len(hs) == 0 {
		return "", false
	}
	return fmt.Sprintf("%d reference(s): %s", len(hs), strings.Join(hs, ", ")), true
}

// Registry is a set of files pending some step, each with the holder that
// registered it (etcd's snapshot DB files waiting to be applied, TiKV's
// snapshots being sent or applied): a registered file may not be deleted.
type Registry struct {
	w       *World
	name    string
	obj     sim.Object
	entries map[string]string
}

// NewRegistry returns an empty registry named name in w.
func NewRegistry(w *World, name string) *Registry {
	return &Registry{w: w, name: name, obj: w.Object("registry:" + name), entries: map[string]string{}}
}

// Name implements Protection.
func (r *Registry) Name() string { return r.name }

// Register registers path for holder (replacing an earlier holder).
func (r *Registry) Register(path, holder string) {
	r.w.s.Touch(r.obj.Child(path), true)
	r.entries[path] = holder
}

// Deregister removes path's entry (a path not registered is no error).
func (r *Registry) Deregister(path string) {
	r.w.s.Touch(r.obj.Child(path), true)
	delete(r.entries, path)
}

// Protects implements Protection: a registered file.
func (r *Registry) Protects(path string) (string, bool) {
	r.w.s.Touch(r.obj.Child(path), false)
	holder, ok := r.entries[path]
	return holder, ok
}

// DisableCounter is a nested disable-deletions counter (RocksDB's
// DisableFileDeletions, Pebble's disableFileDeletions): while it is above
// zero no file may be deleted; a deleter that honours it skips, and
// WaitEnabled waits for zero.
type DisableCounter struct {
	w       *World
	name    string
	obj     sim.Object
	holders []string
	waiters waitQueue
}

// NewDisableCounter returns a counter at zero named name in w.
func NewDisableCounter(w *World, name string) *DisableCounter {
	return &DisableCounter{w: w, name: name, obj: w.Object("disable:" + name)}
}

// Name implements Protection.
func (d *DisableCounter) Name() string { return d.name }

// Disable raises the counter for holder.
func (d *DisableCounter) Disable(holder string) {
	d.w.s.Touch(d.obj, true)
	d.holders = append(d.holders, holder)
}

// Enable lowers the counter for holder, waking WaitEnabled's waiters when
// it reaches zero. Enabling without a matching Disable is a bug of the
// system: Enable panics.
func (d *DisableCounter) Enable(holder string) {
	d.w.s.Touch(d.obj, true)
	i := slices.Index(d.holders, holder)
	if i < 0 {
		panic(fmt.Sprintf("kit: %s: Enable by %s without a Disable", d.name, holder))
	}
	d.holders = slices.Delete(d.holders, i, i+1)
	if len(d.holders) == 0 {
		d.waiters.wakeAll(d.w.s)
	}
}

// Count returns the counter.
func (d *DisableCounter) Count() int {
	d.w.s.Touch(d.obj, false)
	return len(d.holders)
}

// WaitEnabled parks actor a until the counter is zero.
func (d *DisableCounter) WaitEnabled(a *sim.Actor) {
	for i := 0; d.Count() > 0; i++ {
		if i >= maxWaits {
			panic(fmt.Sprintf("kit: %s: %s waited %d times for deletions to be enabled", d.name, a.Name(), i))
		}
		d.waiters.wait(a)
	}
}

// Protects implements Protection: every file, while the counter is above
// zero.
func (d *DisableCounter) Protects(string) (string, bool) {
	d.w.s.Touch(d.obj, false)
	if len(d.holders) == 0 {
		return "", false
	}
	return fmt.Sprintf("deletions disabled %d time(s): %s", len(d.holders), strings.Join(d.holders, ", ")), true
}

// waitQueue is a queue of parked actors.
type waitQueue struct {
	parked []*sim.Actor
}

// wait parks a until a wakeAll; the caller re-checks its condition.
func (q *waitQueue) wait(a *sim.Actor) {
	q.parked = append(q.parked, a)
	a.Park()
}

// wakeAll makes every waiter runnable, in the order they waited.
func (q *waitQueue) wakeAll(s *sim.Scheduler) {
	ws := q.parked
	q.parked = nil
	for _, a := range ws {
		s.Wake(a)
	}
}
