package kit

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// testWorld is a world with a reader (watched), a deleter (daemon) and a
// helper actor, and a directory /d with files f-000001.f .. f-000003.f.
func testWorld(t *testing.T) (*World, Kind) {
	t.Helper()
	decls := []Actor{
		{Name: "reader", Watched: true, FS: true, Group: "g"},
		{Name: "deleter", FS: true, Group: "g"},
		{Name: "helper", FS: true},
	}
	w := NewWorld(sim.NewPRNG(1), sim.Config{KeepTrace: true}, vfsmem.DefaultOptions(), decls)
	k := Kind{Name: "f", Dir: "/d", Prefix: "f-", Ext: ".f"}
	if err := w.MkdirAll(k.Dir); err != nil {
		t.Fatal(err)
	}
	for g := uint64(1); g <= 3; g++ {
		if err := WriteFile(w.FS(), k.Path(g), []byte("data")); err != nil {
			t.Fatal(err)
		}
	}
	return w, k
}

func kinds(obs []sim.Observation) []sim.Kind {
	var out []sim.Kind
	for _, o := range obs {
		out = append(out, o.Kind)
	}
	return out
}

func TestKindNamesGenerations(t *testing.T) {
	k := Kind{Name: "f", Dir: "/d", Prefix: "f-", Ext: ".f"}
	if got := k.Path(7); got != "/d/f-000007.f" {
		t.Errorf("Path(7) = %q", got)
	}
	for p, want := range map[string]bool{"/d/f-000007.f": true, "/d/f-7.f": true, "/d/f-.f": false, "/e/f-000007.f": false,
		"/d/f-00x007.f": false, "/d/g-000007.f": false, "/d/f-000007.f.tmp": false} {
		if got := k.Match(p); got != want {
			t.Errorf("Match(%q) = %v, want %v", p, got, want)
		}
	}
	idx, ok := Pack("/objects/pack").Sibling("/objects/pack/pack-000003.pack", Index("/objects/pack"))
	if !ok || idx != "/objects/pack/pack-000003.idx" {
		t.Errorf("Sibling = %q, %v", idx, ok)
	}
	ks := Kinds{Pack("/p"), Index("/p"), Log("/l")}
	if kd, gen, ok := ks.Classify("/p/pack-000009.idx"); !ok || kd.Name != "index" || gen != 9 {
		t.Errorf("Classify = %v %d %v", kd, gen, ok)
	}
	if _, _, ok := ks.Classify("/p/other"); ok {
		t.Error("Classify of an unknown file succeeded")
	}
}

// TestListPinsNothing is the bug class itself: a file listed, deleted,
// then opened by a watched reader is an open-deleted-file; the same
// interleaving with an unwatched actor is not observed.
func TestListPinsNothing(t *testing.T) {
	for _, watched := range []bool{true, false} {
		w, k := testWorld(t)
		name := "helper"
		if watched {
			name = "reader"
		}
		del := NewDeleter(w, "purger", nil, nil)
		var listed []string
		var openErr error
		w.Spawn(name, func(a *sim.Actor) {
			var err error
			if listed, err = List(w.FS(), k); err != nil {
				t.Error(err)
			}
			w.Spawn("deleter", func(*sim.Actor) {
				if _, err := del.Delete(listed[0], "obsolete"); err != nil {
					t.Error(err)
				}
			})
			a.Sleep(sim.Millisecond)
			_, openErr = ReadFile(w.FS(), listed[0])
		})
		res := w.Scheduler().Run()
		if want := []string{k.Path(1), k.Path(2), k.Path(3)}; !slices.Equal(listed, want) {
			t.Fatalf("List = %v, want %v", listed, want)
		}
		if !errors.Is(openErr, os.ErrNotExist) {
			t.Errorf("open after the deletion: %v, want ErrNotExist", openErr)
		}
		got := kinds(res.Observations)
		if watched && !slices.Equal(got, []sim.Kind{sim.KindOpenDeletedFile}) {
			t.Errorf("watched reader: observed %v, want open-deleted-file", got)
		}
		if !watched && len(got) != 0 {
			t.Errorf("unwatched actor: observed %v, want nothing", got)
		}
		if watched && !strings.Contains(res.Observations[0].Detail, "purger: obsolete") {
			t.Errorf("detail %q does not quote the deleter's reason", res.Observations[0].Detail)
		}
	}
}

// deleteOnce runs one deletion of path by a deleter honouring honours and
// ignoring ignores, after set-up prepare (run by the helper actor), and
// returns whether it deleted, its error and the observations.
func deleteOnce(t *testing.T, w *World, path string, honours, ignores []Protection) (bool, error, []sim.Observation) {
	t.Helper()
	d := NewDeleter(w, "gc", honours, ignores)
	var deleted bool
	var err error
	w.Spawn("deleter", func(*sim.Actor) { deleted, err = d.Delete(path, "obsolete") })
	res := w.Scheduler().Run()
	return deleted, err, res.Observations
}

func TestRefCountsProtectAndTheIgnoringDeleterIsCaught(t *testing.T) {
	// Honoured: the referenced file is kept, with an event.
	w, k := testWorld(t)
	refs := NewRefCounts(w, "refcount")
	refs.Ref(k.Path(1), "scan-1")
	refs.Ref(k.Path(1), "scan-2")
	refs.Unref(k.Path(1), "scan-1")
	if n := refs.Count(k.Path(1)); n != 1 {
		t.Fatalf("Count = %d, want 1", n)
	}
	deleted, err, obs := deleteOnce(t, w, k.Path(1), []Protection{refs}, nil)
	if deleted || !errors.Is(err, ErrProtected) || len(obs) != 0 {
		t.Fatalf("honoured: deleted %v, err %v, observed %v; want kept with ErrProtected, nothing observed", deleted, err, kinds(obs))
	}
	if !strings.Contains(err.Error(), "scan-2") {
		t.Errorf("error %q does not name the holder", err)
	}
	if !hasEvent(w, OpKeep, k.Path(1)) {
		t.Error("no keep event for the protected file")
	}
	// Negative control: a deleter that ignores the references deletes the
	// file and is caught.
	w, k = testWorld(t)
	refs = NewRefCounts(w, "refcount")
	refs.Ref(k.Path(1), "scan-1")
	deleted, err, obs = deleteOnce(t, w, k.Path(1), nil, []Protection{refs})
	if !deleted || err != nil {
		t.Fatalf("ignoring: deleted %v, err %v; want deleted", deleted, err)
	}
	if got := kinds(obs); !slices.Equal(got, []sim.Kind{sim.KindGCDeletedPinnedFile}) || !strings.Contains(obs[0].Detail, "refcount") {
		t.Errorf("ignoring deleter: observed %v, want gc-deleted-pinned-file naming the refcount", obs)
	}
	// Released: the file goes, nothing observed.
	w, k = testWorld(t)
	refs = NewRefCounts(w, "refcount")
	refs.Ref(k.Path(1), "scan-1")
	refs.Unref(k.Path(1), "scan-1")
	deleted, err, obs = deleteOnce(t, w, k.Path(1), nil, []Protection{refs})
	if !deleted || err != nil || len(obs) != 0 {
		t.Errorf("unreferenced: deleted %v, err %v, observed %v; want deleted, nothing observed", deleted, err, kinds(obs))
	}
}

func hasEvent(w *World, op, detail string) bool {
	for _, e := range w.Scheduler().Events() {
		if e.Op == op && e.Detail == detail {
			return true
		}
	}
	return false
}

// TestRefTakenTooLate is HBase's mechanism in miniature: the reader lists,
// the deleter runs before the reference is taken, the reference then
// protects nothing and the open fails; taken before the deleter runs, the
// same reference keeps the file.
func TestRefTakenTooLate(t *testing.T) {
	for _, late := range []bool{true, false} {
		w, k := testWorld(t)
		refs := NewRefCounts(w, "refcount")
		d := NewDeleter(w, "discharger", []Protection{refs}, nil)
		p := k.Path(2)
		w.Spawn("reader", func(a *sim.Actor) {
			if _, err := List(w.FS(), k); err != nil {
				t.Error(err)
			}
			if !late {
				refs.Ref(p, "scanner")
			}
			w.Spawn("deleter", func(*sim.Actor) { _, _ = d.Delete(p, "compacted") })
			a.Sleep(sim.Millisecond)
			if late {
				refs.Ref(p, "scanner")
			}
			_, _ = ReadFile(w.FS(), p)
			refs.Unref(p, "scanner")
		})
		res := w.Scheduler().Run()
		got := kinds(res.Observations)
		if late && !slices.Equal(got, []sim.Kind{sim.KindOpenDeletedFile}) {
			t.Errorf("late reference: observed %v, want open-deleted-file", got)
		}
		if !late && len(got) != 0 {
			t.Errorf("reference in time: observed %v, want nothing", got)
		}
	}
}

func TestTimeReservationLapses(t *testing.T) {
	w, k := testWorld(t)
	res := NewTimeReservation(w, "commit reservation")
	var before, after, released bool
	w.Spawn("helper", func(a *sim.Actor) {
		res.Reserve("follower", []string{k.Path(1)}, 10*sim.Millisecond)
		a.Sleep(9 * sim.Millisecond)
		_, before = res.Protects(k.Path(1))
		a.Sleep(2 * sim.Millisecond)
		_, after = res.Protects(k.Path(1))
		res.Reserve("follower", []string{k.Path(1)}, 10*sim.Millisecond) // a renewal
		res.Release("follower")
		_, released = res.Protects(k.Path(1))
	})
	w.Scheduler().Run()
	if !before || after || released {
		t.Errorf("protected at 9ms %v (want true), at 11ms %v (want false), after release %v (want false)", before, after, released)
	}
	if _, ok := res.Protects(k.Path(2)); ok {
		t.Error("an unreserved file is protected")
	}
}

func TestCountReservationKeepsTheNewest(t *testing.T) {
	w, _ := testWorld(t)
	c := NewCountReservation(w, "metadata", 2)
	c.Add(1, []string{"/s/a", "/s/b"})
	c.Add(2, []string{"/s/b", "/s/c"})
	c.Add(3, []string{"/s/c", "/s/d"})
	if got := c.Newest(); !slices.Equal(got, []uint64{2, 3}) {
		t.Errorf("Newest = %v, want [2 3]", got)
	}
	for p, want := range map[string]bool{"/s/a": false, "/s/b": true, "/s/c": true, "/s/d": true, "/s/e": false} {
		if _, got := c.Protects(p); got != want {
			t.Errorf("Protects(%s) = %v, want %v", p, got, want)
		}
	}
	if c.Kept(1) || !c.Kept(3) {
		t.Error("Kept: generation 1 kept or 3 not")
	}
	defer func() {
		if recover() == nil {
			t.Error("Add of an older generation did not panic")
		}
	}()
	c.Add(3, nil)
}

func TestRegistry(t *testing.T) {
	w, k := testWorld(t)
	r := NewRegistry(w, "pending apply")
	r.Register(k.Path(1), "snapshot 5")
	if h, ok := r.Protects(k.Path(1)); !ok || h != "snapshot 5" {
		t.Errorf("Protects = %q %v", h, ok)
	}
	deleted, err, _ := deleteOnce(t, w, k.Path(1), []Protection{r}, nil)
	if deleted || !errors.Is(err, ErrProtected) {
		t.Errorf("registered: deleted %v, err %v", deleted, err)
	}
	r.Deregister(k.Path(1))
	if _, ok := r.Protects(k.Path(1)); ok {
		t.Error("deregistered file still protected")
	}
}

// TestDisableCounterNestsAndWaits: two disables need two enables; a
// deleter honouring the counter keeps every file meanwhile, and
// WaitEnabled returns only at zero.
func TestDisableCounterNestsAndWaits(t *testing.T) {
	w, k := testWorld(t)
	dc := NewDisableCounter(w, "deletions")
	d := NewDeleter(w, "gc", []Protection{dc}, nil)
	var keptErr error
	var deletedAt, enabledAt sim.Micros
	dc.Disable("checkpoint-1")
	dc.Disable("checkpoint-2")
	w.Spawn("helper", func(a *sim.Actor) {
		a.Sleep(sim.Millisecond)
		dc.Enable("checkpoint-1")
		a.Sleep(sim.Millisecond)
		enabledAt = w.Now()
		dc.Enable("checkpoint-2")
	})
	w.Spawn("deleter", func(a *sim.Actor) {
		_, keptErr = d.Delete(k.Path(1), "obsolete")
		dc.WaitEnabled(a)
		deletedAt = w.Now()
		if _, err := d.Delete(k.Path(1), "obsolete"); err != nil {
			t.Error(err)
		}
	})
	res := w.Scheduler().Run()
	if !errors.Is(keptErr, ErrProtected) {
		t.Errorf("while disabled: %v, want ErrProtected", keptErr)
	}
	if deletedAt < enabledAt || dc.Count() != 0 {
		t.Errorf("deleted at %s, enabled at %s, count %d: WaitEnabled returned early", deletedAt, enabledAt, dc.Count())
	}
	if len(res.Observations) != 0 {
		t.Errorf("observed %v", kinds(res.Observations))
	}
}

// TestLockExcludesAcrossSchedulingPoints: the deleter cannot delete
// between the reader's list and open while the reader holds the lock they
// share; without the lock it can (the negative control).
func TestLockExcludesAcrossSchedulingPoints(t *testing.T) {
	for _, locked := range []bool{true, false} {
		w, k := testWorld(t)
		l := NewLock(w, "store")
		d := NewDeleter(w, "discharger", nil, nil)
		p := k.Path(1)
		w.Spawn("reader", func(a *sim.Actor) {
			if locked {
				l.Acquire(a)
			}
			if _, err := List(w.FS(), k); err != nil {
				t.Error(err)
			}
			w.Spawn("deleter", func(b *sim.Actor) {
				if locked {
					l.Acquire(b)
					defer l.Release(b)
				}
				_, _ = d.Delete(p, "compacted")
			})
			a.Sleep(sim.Millisecond)
			_, _ = ReadFile(w.FS(), p)
			if locked {
				if h := l.Holder(); h != "reader" {
					t.Errorf("Holder = %q", h)
				}
				l.Release(a)
			}
		})
		res := w.Scheduler().Run()
		if got := kinds(res.Observations); locked == (len(got) != 0) {
			t.Errorf("locked %v: observed %v", locked, got)
		}
		if _, gone := w.FS().Deleted(p); !gone {
			t.Errorf("locked %v: the deleter never deleted %s", locked, p)
		}
	}
}

func TestDeleteOfAGoneFileIsNoError(t *testing.T) {
	w, _ := testWorld(t)
	deleted, err, obs := deleteOnce(t, w, "/d/nothing", nil, nil)
	if deleted || err != nil || len(obs) != 0 {
		t.Errorf("deleted %v, err %v, observed %v", deleted, err, kinds(obs))
	}
}

func TestVarAndGroups(t *testing.T) {
	w, _ := testWorld(t)
	v := NewVar(w, "gen", 1)
	w.Spawn("reader", func(*sim.Actor) { v.Set(v.Get() + 1) })
	w.Spawn("helper", func(*sim.Actor) {})
	if g := w.Group("g"); len(g) != 1 || g[0].Name() != "reader" {
		t.Errorf("Group(g) = %v", g)
	}
	w.Scheduler().Run()
	if v.Get() != 2 {
		t.Errorf("Var = %d", v.Get())
	}
	defer func() {
		if recover() == nil {
			t.Error("Spawn of an undeclared actor did not panic")
		}
	}()
	w.Spawn("nobody", func(*sim.Actor) {})
}

// TestArchiveIsADeletionToTheReader: a file archived by a rename is gone
// for a reader of its old path, and the protections hold for Archive as
// for Delete.
func TestArchiveIsADeletionToTheReader(t *testing.T) {
	w, k := testWorld(t)
	if err := w.MkdirAll("/archive"); err != nil {
		t.Fatal(err)
	}
	refs := NewRefCounts(w, "refcount")
	refs.Ref(k.Path(2), "scan")
	d := NewDeleter(w, "discharger", []Protection{refs}, nil)
	var kept, archived bool
	var keptErr error
	w.Spawn("deleter", func(*sim.Actor) {
		kept, keptErr = d.Archive(k.Path(2), "/archive", "compacted")
		var err error
		if archived, err = d.Archive(k.Path(1), "/archive", "compacted"); err != nil {
			t.Error(err)
		}
		w.Spawn("reader", func(*sim.Actor) { _, _ = ReadFile(w.FS(), k.Path(1)) })
	})
	res := w.Scheduler().Run()
	if kept || !errors.Is(keptErr, ErrProtected) || !archived {
		t.Errorf("referenced: archived %v (%v); unreferenced: archived %v", kept, keptErr, archived)
	}
	if got := kinds(res.Observations); !slices.Equal(got, []sim.Kind{sim.KindOpenDeletedFile}) || !strings.Contains(res.Observations[0].Detail, "renamed-to") {
		t.Errorf("observed %v, want open-deleted-file naming the rename", res.Observations)
	}
	if _, err := w.FS().Stat("/archive/f-000001.f"); err != nil {
		t.Errorf("the archived file is not in the archive: %v", err)
	}
}

// TestReadFileCheckedRunsTheCheckInTheOpensStep: a check that fails
// returns its error without opening (nothing observed, though the file
// was deleted); one that passes opens.
func TestReadFileCheckedRunsTheCheckInTheOpensStep(t *testing.T) {
	w, k := testWorld(t)
	gone := errors.New("generation gone")
	var refused, opened error
	w.Spawn("reader", func(*sim.Actor) {
		if _, err := NewDeleter(w, "gc", nil, nil).Delete(k.Path(1), "obsolete"); err != nil {
			t.Error(err)
		}
		_, refused = ReadFileChecked(w.FS(), k.Path(1), func() error { return gone })
		_, opened = ReadFileChecked(w.FS(), k.Path(2), func() error { return nil })
	})
	res := w.Scheduler().Run()
	if refused != gone || opened != nil || len(res.Observations) != 0 {
		t.Errorf("refused %v, opened %v, observed %v", refused, opened, kinds(res.Observations))
	}
}
