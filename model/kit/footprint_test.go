package kit

import (
	"testing"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// explore runs prog exhaustively within 3 delays and returns whether a
// counterexample was found and how many executions were run.
func explore(t *testing.T, prog sim.Program, reduce bool) (bool, int64) {
	t.Helper()
	x, err := sim.Explore(prog, sim.Options{Bounds: sim.Bounds{Delays: 3, Width: 2, MaxSteps: 2000}, NoReduction: !reduce})
	if err != nil {
		t.Fatal(err)
	}
	found, execs := false, int64(0)
	for _, lv := range x.Levels {
		for _, d := range lv.Done {
			execs += d.Counts.Executions
			found = found || d.Found != nil
		}
	}
	return found, execs
}

// counters is a program of two actors, each bumping its own Var with
// scheduling points between, declared with fp.
func counters(fp *sim.Footprint) sim.Program {
	return func(ch sim.Choice, cfg sim.Config) (sim.Result, error) {
		decls := []Actor{{Name: "a", Footprint: fp}, {Name: "b", Footprint: fp}}
		w := NewWorld(ch, cfg, vfsmem.DefaultOptions(), decls)
		for _, name := range []string{"a", "b"} {
			v := NewVar(w, "count-"+name, 0)
			w.Spawn(name, func(a *sim.Actor) {
				for i := 0; i < 3; i++ {
					v.Set(v.Get() + 1)
					a.Yield()
				}
			})
		}
		return w.Scheduler().Run(), nil
	}
}

// TestDeclaredPrimitivesCommute: two declared actors on separate Vars are
// independent, so the reduction explores fewer executions; undeclared,
// they conflict with everything and it explores as many as plain search.
func TestDeclaredPrimitivesCommute(t *testing.T) {
	_, plain := explore(t, counters(Declared()), false)
	_, reduced := explore(t, counters(Declared()), true)
	if reduced >= plain {
		t.Errorf("declared: %d executions reduced, %d plain; want fewer", reduced, plain)
	}
	t.Logf("declared: %d executions reduced, %d plain", reduced, plain)
	_, undeclared := explore(t, counters(nil), true)
	if undeclared != plain {
		t.Errorf("undeclared: %d executions reduced, %d plain; want the same", undeclared, plain)
	}
}

// lateRef is TestRefTakenTooLate as a program for the explorer: the reader
// lists, references the second file late and reads; the discharger
// deletes what is unreferenced.
func lateRef(ch sim.Choice, cfg sim.Config) (sim.Result, error) {
	decls := []Actor{{Name: "reader", Watched: true, FS: true, Footprint: Declared()}, {Name: "deleter", FS: true, Daemon: true, Footprint: Declared()}}
	w := NewWorld(ch, cfg, vfsmem.DefaultOptions(), decls)
	k := Kind{Name: "f", Dir: "/d", Prefix: "f-", Ext: ".f"}
	if err := w.MkdirAll(k.Dir); err != nil {
		return sim.Result{}, err
	}
	for g := uint64(1); g <= 2; g++ {
		if err := WriteFile(w.FS(), k.Path(g), []byte("x")); err != nil {
			return sim.Result{}, err
		}
	}
	refs := NewRefCounts(w, "refs")
	d := NewDeleter(w, "discharger", []Protection{refs}, nil)
	w.Spawn("reader", func(*sim.Actor) {
		files, _ := List(w.FS(), k)
		for _, f := range files {
			refs.Ref(f, "reader")
			_, _ = ReadFile(w.FS(), f)
		}
		for _, f := range files {
			refs.Unref(f, "reader")
		}
	})
	w.Spawn("deleter", func(*sim.Actor) {
		for g := uint64(1); g <= 2; g++ {
			_, _ = d.Delete(k.Path(g), "compacted")
		}
	})
	return w.Scheduler().Run(), nil
}

// TestReductionStillFindsTheLateReference: the primitives' declarations
// are sound — the reduced exploration finds the late reference as the
// plain one does.
func TestReductionStillFindsTheLateReference(t *testing.T) {
	for _, reduce := range []bool{false, true} {
		if found, execs := explore(t, lateRef, reduce); !found {
			t.Errorf("reduce %v: no counterexample in %d executions", reduce, execs)
		}
	}
}
