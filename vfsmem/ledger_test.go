package vfsmem_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lifeOps returns the ops of a history.
func lifeOps(h []vfsmem.LifeEvent) []vfsmem.LifeOp {
	out := make([]vfsmem.LifeOp, len(h))
	for i, e := range h {
		out[i] = e.Op
	}
	return out
}

func TestLedgerHistory(t *testing.T) {
	s, fs := newFS(1, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/db", 0o755))
	writeFile(t, fs, "/db/setup.sst", []byte("s"), true)

	steps := map[string]int64{}
	times := map[string]sim.Micros{}
	s.Spawn("compactor", sim.ActorOptions{}, func(a *sim.Actor) {
		f, err := fs.Create("db/b.sst") // relative: cleaned to /db/b.sst
		steps["create b"] = s.Step()
		if !assert.NoError(t, err) {
			return
		}
		_, err = f.Write([]byte("bbb"))
		assert.NoError(t, err)
		assert.NoError(t, f.Close())
		assert.NoError(t, fs.Link("/db/b.sst", "/db/c.sst"))
		steps["link"] = s.Step()
		assert.NoError(t, fs.Rename("/db/c.sst", "/db/e.sst"))
		steps["rename"] = s.Step()
		times["rename"] = s.Now()
	})
	s.Spawn("gc", sim.ActorOptions{Daemon: true}, func(a *sim.Actor) {
		a.Sleep(sim.Second) // after the compactor
		times["remove start"] = s.Now()
		assert.NoError(t, fs.RemoveBecause("/db/b.sst", "obsolete after compaction 3"))
		steps["remove"] = s.Step()
		assert.NoError(t, fs.RemoveBecause("/db/setup.sst", ""))
		steps["remove setup"] = s.Step()
	})
	s.Spawn("waiter", sim.ActorOptions{}, func(a *sim.Actor) { a.Sleep(2 * sim.Second) })
	runDone(t, s)

	hSetup := fs.History("/db/setup.sst")
	require.Equal(t, []vfsmem.LifeOp{vfsmem.LifeCreated, vfsmem.LifeRemoved}, lifeOps(hSetup))
	require.Equal(t, "setup", hSetup[0].Actor)
	require.Zero(t, hSetup[0].Step)
	require.Equal(t, "gc", hSetup[1].Actor)
	require.Equal(t, steps["remove setup"], hSetup[1].Step)
	require.Empty(t, hSetup[1].Why)

	hb := fs.History("/db/b.sst")
	require.Equal(t, []vfsmem.LifeOp{vfsmem.LifeCreated, vfsmem.LifeRemoved}, lifeOps(hb))
	require.Equal(t, "compactor", hb[0].Actor)
	require.Equal(t, steps["create b"], hb[0].Step)
	require.Equal(t, "gc", hb[1].Actor)
	require.Equal(t, steps["remove"], hb[1].Step)
	require.Equal(t, times["remove start"], hb[1].Time)
	require.Equal(t, "obsolete after compaction 3", hb[1].Why)
	require.Less(t, hb[0].Step, hb[1].Step)

	hc := fs.History("/db/c.sst")
	require.Equal(t, []vfsmem.LifeOp{vfsmem.LifeLinked, vfsmem.LifeRenamedTo}, lifeOps(hc))
	require.Equal(t, "/db/b.sst", hc[0].Other)
	require.Equal(t, steps["link"], hc[0].Step)
	require.Equal(t, "/db/e.sst", hc[1].Other)
	require.Equal(t, steps["rename"], hc[1].Step)
	require.Equal(t, "compactor", hc[1].Actor)

	he := fs.History("//db/./e.sst") // History cleans its argument
	require.Equal(t, []vfsmem.LifeOp{vfsmem.LifeRenamedIn}, lifeOps(he))
	require.Equal(t, "/db/c.sst", he[0].Other)
	require.Equal(t, steps["rename"], he[0].Step)

	// Deleted reports the deletion, for removals and renames alike.
	ev, ok := fs.Deleted("/db/b.sst")
	require.True(t, ok)
	require.Equal(t, hb[1], ev)
	require.Equal(t, fmt.Sprintf("removed at step %d (t=%s) by gc: obsolete after compaction 3", ev.Step, ev.Time), ev.String())
	ev, ok = fs.Deleted("/db/c.sst")
	require.True(t, ok)
	require.Equal(t, vfsmem.LifeRenamedTo, ev.Op)
	require.Contains(t, ev.String(), "(/db/e.sst)")
	_, ok = fs.Deleted("/db/e.sst")
	require.False(t, ok)
	_, ok = fs.Deleted("/never")
	require.False(t, ok)
	require.Nil(t, fs.History("/never"))

	require.Equal(t, []string{"/db/b.sst", "/db/c.sst", "/db/e.sst", "/db/setup.sst"}, fs.Paths())

	// The data followed the link and the rename.
	require.Equal(t, []byte("bbb"), readFile(t, fs, "/db/e.sst"))
}

func TestLedgerRemoveAllAndRecreate(t *testing.T) {
	_, fs := newFS(1, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/snap/1/sub", 0o755))
	writeFile(t, fs, "/snap/1/a", []byte("a"), false)
	writeFile(t, fs, "/snap/1/sub/b", []byte("b"), false)
	writeFile(t, fs, "/snap/10", []byte("not under /snap/1"), false)
	require.NoError(t, fs.RemoveAll("/snap/1"))
	for _, p := range []string{"/snap/1/a", "/snap/1/sub/b"} {
		ev, ok := fs.Deleted(p)
		require.True(t, ok, p)
		require.Equal(t, vfsmem.LifeRemoved, ev.Op)
		require.Equal(t, "remove-all /snap/1", ev.Why)
	}
	_, ok := fs.Deleted("/snap/10")
	require.False(t, ok)
	require.Equal(t, []byte("not under /snap/1"), readFile(t, fs, "/snap/10"))

	// Re-created: no longer deleted.
	require.NoError(t, fs.MkdirAll("/snap/1", 0o755))
	writeFile(t, fs, "/snap/1/a", []byte("again"), false)
	_, ok = fs.Deleted("/snap/1/a")
	require.False(t, ok)
	require.Equal(t, []vfsmem.LifeOp{vfsmem.LifeCreated, vfsmem.LifeRemoved, vfsmem.LifeCreated},
		lifeOps(fs.History("/snap/1/a")))

	// OpenReadWrite and Lock create too; RemoveAll of a missing path is fine.
	f, err := fs.OpenReadWrite("/snap/rw")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Equal(t, []vfsmem.LifeOp{vfsmem.LifeCreated}, lifeOps(fs.History("/snap/rw")))
	require.Equal(t, "open-rw", fs.History("/snap/rw")[0].Why)
	l, err := fs.Lock("/snap/LOCK")
	require.NoError(t, err)
	require.Equal(t, "lock", fs.History("/snap/LOCK")[0].Why)
	require.NoError(t, l.Close())
	require.NoError(t, fs.RemoveAll("/does/not/exist"))
}

func TestLedgerCrash(t *testing.T) {
	s, fs := newFS(1, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/db", 0o755))
	writeFile(t, fs, "/db/durable", []byte("d"), true)
	writeFile(t, fs, "/db/removed-unsynced", []byte("r"), true)
	var crashStep int64
	s.Spawn("node", sim.ActorOptions{}, func(a *sim.Actor) {
		writeFile(t, fs, "/db/volatile", []byte("v"), false)
		assert.NoError(t, fs.RemoveBecause("/db/removed-unsynced", "gc"))
		fs.Crash()
		crashStep = s.Step()
	})
	res := runDone(t, s)

	hv := fs.History("/db/volatile")
	require.Equal(t, []vfsmem.LifeOp{vfsmem.LifeCreated, vfsmem.LifeLostCrash}, lifeOps(hv))
	require.Equal(t, crashStep, hv[1].Step)
	require.Equal(t, "node", hv[1].Actor)
	ev, ok := fs.Deleted("/db/volatile")
	require.True(t, ok, "a file lost in a crash counts as deleted")
	require.Equal(t, vfsmem.LifeLostCrash, ev.Op)

	hr := fs.History("/db/removed-unsynced")
	require.Equal(t, []vfsmem.LifeOp{vfsmem.LifeCreated, vfsmem.LifeRemoved, vfsmem.LifeBackFromCr}, lifeOps(hr))
	require.Equal(t, crashStep, hr[2].Step)
	_, ok = fs.Deleted("/db/removed-unsynced")
	require.False(t, ok, "a removal undone by a crash is not a deletion")
	require.Equal(t, []byte("r"), readFile(t, fs, "/db/removed-unsynced"))

	require.Equal(t, []vfsmem.LifeOp{vfsmem.LifeCreated}, lifeOps(fs.History("/db/durable")))

	// The crash is in the trace: the IO event, then the action.
	var crashes []sim.Event
	for _, e := range res.Events {
		if e.Op == "crash" {
			crashes = append(crashes, e)
		}
	}
	require.Len(t, crashes, 2)
	require.Equal(t, sim.ClassIO, crashes[0].Class)
	require.Equal(t, sim.ClassAction, crashes[1].Class)
	require.Equal(t, crashStep, crashes[0].Step)
	require.Equal(t, "node", crashes[0].Actor)
}

// --- the open-deleted-file oracle ---

// oracleRun removes /db/x.sst in a "gc" actor and then lets accessor act
// (after a second of virtual time), from an actor with the given options.
func oracleRun(t *testing.T, opts sim.ActorOptions, accessor func(fs *vfsmem.FS) error) (sim.Result, int64, error) {
	t.Helper()
	s, fs := newFS(11, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/db", 0o755))
	writeFile(t, fs, "/db/x.sst", []byte("sst"), true)
	var removeStep int64
	s.Spawn("gc", sim.ActorOptions{Daemon: true}, func(a *sim.Actor) {
		assert.NoError(t, fs.RemoveBecause("/db/x.sst", "obsolete after compaction 7"))
		removeStep = s.Step()
	})
	var err error
	s.Spawn("snap", opts, func(a *sim.Actor) {
		a.Sleep(sim.Second)
		err = accessor(fs)
	})
	res := runDone(t, s)
	require.Positive(t, removeStep)
	return res, removeStep, err
}

func TestOracleWatchedAccessOfDeletedPath(t *testing.T) {
	cases := []struct {
		op     string
		access func(fs *vfsmem.FS) error
	}{
		{"open", func(fs *vfsmem.FS) error { _, err := fs.Open("/db/x.sst"); return err }},
		{"open", func(fs *vfsmem.FS) error {
			_, err := fs.OpenChecked("/db/x.sst", func() error { return nil })
			return err
		}},
		{"stat", func(fs *vfsmem.FS) error { _, err := fs.Stat("/db/x.sst"); return err }},
		{"link", func(fs *vfsmem.FS) error { return fs.Link("/db/x.sst", "/db/snap-link.sst") }},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%d-%s", i, c.op), func(t *testing.T) {
			res, removeStep, err := oracleRun(t, sim.ActorOptions{Watched: true}, c.access)
			require.Error(t, err)
			require.ErrorIs(t, err, os.ErrNotExist)
			require.Contains(t, err.Error(), "file does not exist")
			require.Contains(t, err.Error(), "/db/x.sst")

			obs := observationsOf(res.Observations, sim.KindOpenDeletedFile)
			require.Len(t, obs, 1, "observations: %+v", res.Observations)
			require.Len(t, res.Observations, 1)
			o := obs[0]
			require.Equal(t, "snap", o.Actor)
			require.GreaterOrEqual(t, o.Time, sim.Second)
			require.True(t, strings.HasPrefix(o.Detail, c.op+" /db/x.sst: "), o.Detail)
			require.Contains(t, o.Detail, "removed")
			require.Contains(t, o.Detail, "by gc")
			require.Contains(t, o.Detail, fmt.Sprintf("step %d", removeStep))
			require.Contains(t, o.Detail, "obsolete after compaction 7")

			// The observation is in the trace too.
			var found bool
			for _, e := range res.Events {
				if e.Class == sim.ClassViolation && e.Op == string(sim.KindOpenDeletedFile) {
					found = true
					require.Equal(t, o.Detail, e.Detail)
					require.Equal(t, o.Step, e.Step)
				}
			}
			require.True(t, found)
		})
	}
}

func TestOracleUnwatchedActorGetsErrorOnly(t *testing.T) {
	res, _, err := oracleRun(t, sim.ActorOptions{}, func(fs *vfsmem.FS) error {
		_, e1 := fs.Stat("/db/x.sst")
		if e1 == nil {
			return nil
		}
		_, err := fs.Open("/db/x.sst")
		return err
	})
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Contains(t, err.Error(), "file does not exist")
	require.Empty(t, res.Observations)
}

func TestOracleSetupAccessGetsErrorOnly(t *testing.T) {
	s, fs := newFS(1, vfsmem.DefaultOptions())
	writeFile(t, fs, "/x", []byte("x"), false)
	require.NoError(t, fs.Remove("/x"))
	_, err := fs.Open("/x")
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = fs.Stat("/x")
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Empty(t, s.Observations(), "set-up code is not on the snapshot path")
}

func TestOracleNeverExistedRaisesNothing(t *testing.T) {
	res, _, err := oracleRun(t, sim.ActorOptions{Watched: true}, func(fs *vfsmem.FS) error {
		_, err := fs.Open("/db/never.sst")
		if err == nil {
			return nil
		}
		_, err = fs.Stat("/nodir/never.sst")
		if err == nil {
			return nil
		}
		return fs.Link("/db/never.sst", "/db/l")
	})
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Empty(t, res.Observations)
}

func TestOracleRecreatedPathRaisesNothing(t *testing.T) {
	s, fs := newFS(12, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/db", 0o755))
	writeFile(t, fs, "/db/x.sst", []byte("old"), true)
	s.Spawn("gc", sim.ActorOptions{}, func(a *sim.Actor) {
		assert.NoError(t, fs.RemoveBecause("/db/x.sst", "obsolete"))
		writeFile(t, fs, "/db/x.sst", []byte("new"), false)
	})
	var got []byte
	var statErr error
	s.Spawn("snap", sim.ActorOptions{Watched: true}, func(a *sim.Actor) {
		a.Sleep(sim.Second)
		_, statErr = fs.Stat("/db/x.sst")
		got = readFile(t, fs, "/db/x.sst")
	})
	res := runDone(t, s)
	require.NoError(t, statErr)
	require.Equal(t, []byte("new"), got)
	require.Empty(t, res.Observations)
}

func TestOracleRenamedAwayAndLostInCrash(t *testing.T) {
	s, fs := newFS(13, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/snap", 0o755))
	writeFile(t, fs, "/snap/1.sst.tmp", []byte("t"), true)
	s.Spawn("gen", sim.ActorOptions{}, func(a *sim.Actor) {
		assert.NoError(t, fs.Rename("/snap/1.sst.tmp", "/snap/1.sst"))
		writeFile(t, fs, "/snap/2.sst", []byte("v"), false)
		fs.Crash()
	})
	var errs []error
	s.Spawn("snap", sim.ActorOptions{Watched: true}, func(a *sim.Actor) {
		a.Sleep(sim.Second)
		_, err := fs.Open("/snap/2.sst") // lost in the crash
		errs = append(errs, err)
		_, err = fs.Stat("/snap/1.sst") // the rename was not synced either
		errs = append(errs, err)
		_, err = fs.Stat("/snap/1.sst.tmp") // restored by the crash
		errs = append(errs, err)
	})
	res := runDone(t, s)
	require.ErrorIs(t, errs[0], os.ErrNotExist)
	require.ErrorIs(t, errs[1], os.ErrNotExist)
	require.NoError(t, errs[2])
	obs := observationsOf(res.Observations, sim.KindOpenDeletedFile)
	require.Len(t, obs, 2)
	require.Contains(t, obs[0].Detail, "open /snap/2.sst: lost-in-crash")
	require.Contains(t, obs[1].Detail, "stat /snap/1.sst: lost-in-crash")
}
