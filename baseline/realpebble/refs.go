package realpebble

import (
	"fmt"

	"github.com/cockroachdb/pebble"

	"github.com/snapsim/snapsim/model"
)

// heldRef is one reference: an open iterator on a version.
type heldRef struct {
	v  *version
	it *pebble.Iterator
}

// Current implements model.Engine: DB.SSTables, which references Pebble's
// read state only while it copies the file list, so the version returned
// pins nothing. A file list unchanged since the last call is the same
// version (same ID); Pebble exposes no version numbers, so IDs are the
// adapter's.
func (e *Engine) Current() model.Version {
	v, err := e.list()
	if err != nil {
		panic(fmt.Sprintf("realpebble: SSTables: %v", err))
	}
	if e.cur != nil && e.cur.key == v.key {
		return e.cur
	}
	e.versions++
	v.id = e.versions
	e.cur = v
	return v
}

// list reads the current version's files from DB.SSTables.
func (e *Engine) list() (*version, error) {
	levels, err := e.db.SSTables()
	if err != nil {
		return nil, err
	}
	return newVersion(levels)
}

// Ref implements model.Pinner: it opens a pebble.Iterator (DB.NewIter),
// which references the current read state, and so its version, until
// Unref closes it (db.go newIter, read_state.go). v must be the version
// Current returned in this step: Ref asserts that Pebble's current
// version is still v once the iterator is open.
func (e *Engine) Ref(x model.Version) {
	v := mustVersion(x)
	if v != e.cur {
		panic(fmt.Sprintf("realpebble: Ref of version %d, which is not the version Current returned last: Ref must be called in the step that obtained v from Current", v.id))
	}
	it, err := e.db.NewIter(nil)
	if err != nil {
		panic(fmt.Sprintf("realpebble: NewIter: %v", err))
	}
	now, err := e.list()
	if err != nil {
		panic(fmt.Sprintf("realpebble: SSTables: %v", err))
	}
	if now.key != v.key {
		_ = it.Close()
		panic(fmt.Sprintf("realpebble: Pebble's version changed between Current and Ref (version %d: %s; now: %s): something outside the kernel's steps changed it", v.id, v.key, now.key))
	}
	v.refs++
	e.refs = append(e.refs, heldRef{v: v, it: it})
}

// Unref implements model.Pinner: it closes the oldest iterator Ref opened
// on v, then waits for Pebble to delete the files that leaves obsolete.
func (e *Engine) Unref(x model.Version) {
	v := mustVersion(x)
	for i, r := range e.refs {
		if r.v != v {
			continue
		}
		e.refs = append(e.refs[:i], e.refs[i+1:]...)
		v.refs--
		if err := r.it.Close(); err != nil {
			panic(fmt.Sprintf("realpebble: close iterator of version %d: %v", v.id, err))
		}
		if err := e.settle(); err != nil {
			panic(fmt.Sprintf("realpebble: after closing the iterator of version %d: %v", v.id, err))
		}
		return
	}
	panic(fmt.Sprintf("realpebble: Unref of version %d, which holds no reference", v.id))
}

func mustVersion(x model.Version) *version {
	v, ok := x.(*version)
	if !ok {
		panic(fmt.Sprintf("realpebble: a version of another engine (%T)", x))
	}
	return v
}
