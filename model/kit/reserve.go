package kit

import (
	"fmt"
	"slices"

	"github.com/snapsim/snapsim/sim"
)

// TimeReservation reserves sets of files for a span of virtual time (Solr's
// commitReserveDuration, a lease): a reserved file may not be deleted
// until its reservation expires, renewed or not. A holder slower than the
// reservation outlives it: the bug class of a lease that lapses.
type TimeReservation struct {
	w    *World
	name string
	obj  sim.Object
	// res are the reservations, by holder, in the order first made.
	res []reservation
}

// reservation is one holder's reserved files and their expiry.
type reservation struct {
	holder string
	paths  []string
	until  sim.Micros
}

// NewTimeReservation returns a reservation table named name in w.
func NewTimeReservation(w *World, name string) *TimeReservation {
	return &TimeReservation{w: w, name: name, obj: w.Object("time-reservation:" + name)}
}

// Name implements Protection.
func (t *TimeReservation) Name() string { return t.name }

// Reserve reserves paths for holder for ttlUs from now, replacing
// holder's earlier reservation (a renewal).
func (t *TimeReservation) Reserve(holder string, paths []string, ttlUs sim.Micros) {
	t.w.s.Touch(t.obj, true)
	r := reservation{holder: holder, paths: slices.Clone(paths), until: t.w.Now() + ttlUs}
	if i := t.index(holder); i >= 0 {
		t.res[i] = r
		return
	}
	t.res = append(t.res, r)
}

// Release drops holder's reservation (none is no error).
func (t *TimeReservation) Release(holder string) {
	t.w.s.Touch(t.obj, true)
	if i := t.index(holder); i >= 0 {
		t.res = slices.Delete(t.res, i, i+1)
	}
}

// Expiry returns when holder's reservation ends, if it has one.
func (t *TimeReservation) Expiry(holder string) (sim.Micros, bool) {
	t.w.s.Touch(t.obj, false)
	if i := t.index(holder); i >= 0 {
		return t.res[i].until, true
	}
	return 0, false
}

func (t *TimeReservation) index(holder string) int {
	return slices.IndexFunc(t.res, func(r reservation) bool { return r.holder == holder })
}

// Protects implements Protection: a file in a reservation that has not
// expired at the virtual time now.
func (t *TimeReservation) Protects(path string) (string, bool) {
	t.w.s.Touch(t.obj, false)
	now := t.w.Now()
	for _, r := range t.res {
		if now < r.until && slices.Contains(r.paths, path) {
			return fmt.Sprintf("reserved by %s until %s", r.holder, r.until), true
		}
	}
	return "", false
}

// CountReservation keeps the files referenced by the newest Keep
// generations (OpenSearch's remote store keeps the segments of the last 10
// metadata files; a reservation by count): a file only older generations
// reference may be deleted. A reader that started from a generation that
// has since fallen out of the newest Keep outlasts the reservation.
type CountReservation struct {
	w    *World
	name string
	obj  sim.Object
	keep int
	// gens are the generations added, oldest first.
	gens []generation
}

// generation is one generation's number and the files it references.
type generation struct {
	gen   uint64
	paths []string
}

// NewCountReservation returns a reservation of the newest keep
// generations named name in w; keep must be at least 1.
func NewCountReservation(w *World, name string, keep int) *CountReservation {
	if keep < 1 {
		panic(fmt.Sprintf("kit: NewCountReservation(%s, %d): keep must be at least 1", name, keep))
	}
	return &CountReservation{w: w, name: name, obj: w.Object("count-reservation:" + name), keep: keep}
}

// Name implements Protection.
func (c *CountReservation) Name() string { return c.name }

// Add records generation gen, referencing paths; generations must be
// added in increasing order (a bug of the system otherwise: Add panics).
func (c *CountReservation) Add(gen uint64, paths []string) {
	c.w.s.Touch(c.obj, true)
	if n := len(c.gens); n > 0 && c.gens[n-1].gen >= gen {
		panic(fmt.Sprintf("kit: %s: Add(%d) after generation %d", c.name, gen, c.gens[n-1].gen))
	}
	c.gens = append(c.gens, generation{gen: gen, paths: slices.Clone(paths)})
}

// Newest returns the generations the reservation keeps, oldest first.
func (c *CountReservation) Newest() []uint64 {
	c.w.s.Touch(c.obj, false)
	var out []uint64
	for _, g := range c.kept() {
		out = append(out, g.gen)
	}
	return out
}

// Kept reports whether generation gen is one of the newest Keep.
func (c *CountReservation) Kept(gen uint64) bool { return slices.Contains(c.Newest(), gen) }

func (c *CountReservation) kept() []generation {
	return c.gens[max(0, len(c.gens)-c.keep):]
}

// Protects implements Protection: a file one of the newest Keep
// generations references.
func (c *CountReservation) Protects(path string) (string, bool) {
	c.w.s.Touch(c.obj, false)
	for _, g := range c.kept() {
		if slices.Contains(g.paths, path) {
			return fmt.Sprintf("generation %d (one of the newest %d)", g.gen, c.keep), true
		}
	}
	return "", false
}
