package vfsmem_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each TestTrapN_ shows that the wrapper neutralises trap N of pebble v1.1.5
// MemFS (docs/memfs-traps.md). Where it is cheap and safe, the test first shows the
// trap is real on a bare MemFS, so the test would notice if the wrapper
// stopped going through its guard.

// Trap 1: MemFS List order comes from map iteration.
func TestTrap1_ListIsSorted(t *testing.T) {
	const n = 300
	names := make([]string, n)
	for i := range names {
		// Not created in sorted order, and not all the same length.
		names[i] = fmt.Sprintf("%06d.sst", (i*7919)%100003)
	}
	want := slices.Clone(names)
	sort.Strings(want)

	// The trap is real: bare MemFS lists in map order.
	raw := vfs.NewStrictMem()
	require.NoError(t, raw.MkdirAll("/d", 0o755))
	for _, nm := range names {
		f, err := raw.Create("/d/" + nm)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	unsorted := false
	for i := 0; i < 20 && !unsorted; i++ {
		got, err := raw.List("/d")
		require.NoError(t, err)
		unsorted = !sort.StringsAreSorted(got)
	}
	require.True(t, unsorted, "bare MemFS.List was sorted 20 times in a row: the trap test is vacuous")

	// Set-up mode and inside actors, List is sorted every time.
	s, fs := newFS(1, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/d", 0o755))
	for _, nm := range names {
		writeFile(t, fs, "/d/"+nm, []byte(nm), false)
	}
	for i := 0; i < 10; i++ {
		got, err := fs.List("/d")
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	var inActor [][]string
	for _, name := range []string{"a", "b"} {
		s.Spawn(name, sim.ActorOptions{}, func(a *sim.Actor) {
			for i := 0; i < 5; i++ {
				got, err := fs.List("/d/")
				if assert.NoError(t, err) {
					inActor = append(inActor, got)
				}
			}
		})
	}
	runDone(t, s)
	require.Len(t, inActor, 10)
	for _, got := range inActor {
		require.Equal(t, want, got)
	}

	// A listing of a missing directory is an error, not a panic.
	_, err := fs.List("/nope")
	require.ErrorIs(t, err, os.ErrNotExist)
}

// Trap 2: MemFS Rename removes the source before resolving the destination's
// parent, so a missing parent loses the file.
func TestTrap2_RenameToMissingParentKeepsSource(t *testing.T) {
	data := []byte("precious sst contents")

	// The trap is real on bare MemFS.
	raw := vfs.NewStrictMem()
	rf, err := raw.Create("/x.sst")
	require.NoError(t, err)
	_, err = rf.Write(slices.Clone(data))
	require.NoError(t, err)
	require.NoError(t, rf.Close())
	require.Error(t, raw.Rename("/x.sst", "/missing/y.sst"))
	_, err = raw.Stat("/x.sst")
	require.ErrorIs(t, err, os.ErrNotExist, "bare MemFS should have lost the source")

	s, fs := newFS(1, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/db", 0o755))
	writeFile(t, fs, "/db/x.sst", data, true)

	// Set-up mode.
	err = fs.Rename("/db/x.sst", "/missing/y.sst")
	require.Error(t, err)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Equal(t, data, readFile(t, fs, "/db/x.sst"))

	// Destination parent is a file, not a directory.
	err = fs.Rename("/db/x.sst", "/db/x.sst/y")
	require.ErrorIs(t, err, os.ErrNotExist)
	require.Equal(t, data, readFile(t, fs, "/db/x.sst"))

	// From an actor, with deeper missing parents.
	var actorErr error
	var got []byte
	s.Spawn("mover", sim.ActorOptions{}, func(a *sim.Actor) {
		actorErr = fs.Rename("/db/x.sst", "/snap/1/2/y.sst")
		got = readFile(t, fs, "/db/x.sst")
	})
	runDone(t, s)
	require.ErrorIs(t, actorErr, os.ErrNotExist)
	require.Equal(t, data, got)
	_, ok := fs.Deleted("/db/x.sst")
	require.False(t, ok, "a failed rename must not be recorded as a deletion")
	names, err := fs.List("/db")
	require.NoError(t, err)
	require.Equal(t, []string{"x.sst"}, names)

	// A rename of a missing source is ErrNotExist too, and a rename whose
	// parent exists works.
	require.ErrorIs(t, fs.Rename("/db/none", "/db/other"), os.ErrNotExist)
	require.NoError(t, fs.Rename("/db/x.sst", "/db/y.sst"))
	require.Equal(t, data, readFile(t, fs, "/db/y.sst"))
	_, err = fs.Stat("/db/x.sst")
	require.ErrorIs(t, err, os.ErrNotExist)
}

// Trap 3: handles opened before ResetToSyncedState alias the reset nodes; a
// write past the restored length panics.
func TestTrap3_CrashInvalidatesHandles(t *testing.T) {
	synced := bytes.Repeat([]byte("s"), 100)
	unsynced := bytes.Repeat([]byte("u"), 1000)

	// The trap is real on bare MemFS.
	raw := vfs.NewStrictMem()
	rd, err := raw.OpenDir("/")
	require.NoError(t, err)
	rf, err := raw.Create("/f")
	require.NoError(t, err)
	require.NoError(t, rd.Sync())
	_, err = rf.Write(slices.Clone(synced))
	require.NoError(t, err)
	require.NoError(t, rf.Sync())
	_, err = rf.Write(slices.Clone(unsynced))
	require.NoError(t, err)
	raw.ResetToSyncedState()
	require.Panics(t, func() { _, _ = rf.Write([]byte("boom")) }, "bare MemFS should panic writing past the restored length")

	check := func(t *testing.T, fromActor bool) {
		s, fs := newFS(3, vfsmem.DefaultOptions())
		require.NoError(t, fs.MkdirAll("/db", 0o755))
		w, err := fs.Create("/db/f")
		require.NoError(t, err)
		syncDir(t, fs, "/db")
		_, err = w.Write(synced)
		require.NoError(t, err)
		require.NoError(t, w.Sync())
		_, err = w.Write(unsynced)
		require.NoError(t, err)
		r, err := fs.Open("/db/f")
		require.NoError(t, err)
		d, err := fs.OpenDir("/db")
		require.NoError(t, err)

		type outcome struct {
			write, writeAt, read, readAt, stat, sync, dsync, closeW, closeW2, closeR error
			syncToErr                                                                error
		}
		var o outcome
		use := func() {
			fs.Crash()
			_, o.write = w.Write([]byte("past the restored length"))
			_, o.writeAt = w.WriteAt([]byte("far"), 5000)
			_, o.read = r.Read(make([]byte, 10))
			_, o.readAt = r.ReadAt(make([]byte, 10), 0)
			_, o.stat = w.Stat()
			o.sync = w.Sync()
			o.dsync = d.Sync()
			_, o.syncToErr = w.SyncTo(10)
			o.closeW = w.Close()
			o.closeW2 = w.Close()
			o.closeR = r.Close()
		}
		if fromActor {
			s.Spawn("crasher", sim.ActorOptions{}, func(a *sim.Actor) { use() })
			runDone(t, s)
		} else {
			require.NotPanics(t, use)
		}
		for name, err := range map[string]error{
			"write": o.write, "write-at": o.writeAt, "read": o.read, "read-at": o.readAt,
			"stat": o.stat, "sync": o.sync, "dir sync": o.dsync, "sync-to": o.syncToErr,
		} {
			require.ErrorIs(t, err, vfsmem.ErrStaleHandle, name)
		}
		assert.NoError(t, o.closeW, "closing a stale handle releases it")
		assert.ErrorIs(t, o.closeW2, os.ErrClosed)
		assert.NoError(t, o.closeR)
		require.Equal(t, 1, fs.Faults().Crashes)

		// The file is back to its synced state, and new handles work.
		require.Equal(t, synced, readFile(t, fs, "/db/f"))
		f2, err := fs.OpenReadWrite("/db/f")
		require.NoError(t, err)
		_, err = f2.WriteAt([]byte("new"), 200)
		require.NoError(t, err)
		require.NoError(t, f2.Close())
		fi, err := fs.Stat("/db/f")
		require.NoError(t, err)
		require.EqualValues(t, 203, fi.Size())
	}
	t.Run("setup", func(t *testing.T) { check(t, false) })
	t.Run("actor", func(t *testing.T) { check(t, true) })
}

// Trap 4: SetIgnoreSyncs on a non-strict MemFS returns with its mutex held.
// The wrapper uses strict MemFS only: a crash discards what was not synced,
// and SetIgnoreSyncs (which the wrapper never calls) does not deadlock.
func TestTrap4_StrictMemFS(t *testing.T) {
	s, fs := newFS(4, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/db", 0o755))

	// Synced data in a synced directory entry.
	writeFile(t, fs, "/db/synced", []byte("durable"), true)
	// Entry synced, data not.
	f, err := fs.Create("/db/entry-only")
	require.NoError(t, err)
	syncDir(t, fs, "/db")
	_, err = f.Write([]byte("volatile"))
	require.NoError(t, err)
	require.NoError(t, f.Close())

	// Neither entry nor data synced (created by an actor).
	s.Spawn("writer", sim.ActorOptions{}, func(a *sim.Actor) {
		writeFile(t, fs, "/db/unsynced", []byte("gone"), false)
		g, err := fs.Create("/db/data-synced-entry-not")
		if assert.NoError(t, err) {
			_, err = g.Write([]byte("also gone"))
			assert.NoError(t, err)
			assert.NoError(t, g.Sync())
			assert.NoError(t, g.Close())
		}
		// Visible before the crash.
		_, err = fs.Stat("/db/unsynced")
		assert.NoError(t, err)
		fs.Crash()
	})
	runDone(t, s)

	require.Equal(t, []byte("durable"), readFile(t, fs, "/db/synced"))
	require.Empty(t, readFile(t, fs, "/db/entry-only"))
	for _, p := range []string{"/db/unsynced", "/db/data-synced-entry-not"} {
		_, err = fs.Stat(p)
		require.ErrorIs(t, err, os.ErrNotExist, p)
	}
	names, err := fs.List("/db")
	require.NoError(t, err)
	require.Equal(t, []string{"entry-only", "synced"}, names)

	// The underlying MemFS is strict: SetIgnoreSyncs returns unlocked (on
	// a non-strict MemFS the next operation would block forever).
	done := make(chan error, 1)
	go func() {
		fs.Mem().SetIgnoreSyncs(true)
		fs.Mem().SetIgnoreSyncs(false)
		_, err := fs.Mem().Stat("/db/synced")
		done <- err
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("SetIgnoreSyncs deadlocked: the wrapper is not over a strict MemFS")
	}
}

// Trap 5: an unsynced root directory makes a reset empty the whole FS.
func TestTrap5_DirectoriesSurviveCrash(t *testing.T) {
	// The trap is real on bare MemFS.
	raw := vfs.NewStrictMem()
	require.NoError(t, raw.MkdirAll("/a/b/c", 0o755))
	raw.ResetToSyncedState()
	_, err := raw.Stat("/a")
	require.ErrorIs(t, err, os.ErrNotExist, "bare MemFS should have lost the tree")

	s, fs := newFS(5, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/a/b/c", 0o755))
	fs.Crash()
	for _, d := range []string{"/", "/a", "/a/b", "/a/b/c"} {
		fi, err := fs.Stat(d)
		require.NoError(t, err, d)
		require.True(t, fi.IsDir(), d)
	}

	// Directories made by an actor (extending an existing tree, and a new
	// one) survive a crash made by an actor too.
	s.Spawn("mk", sim.ActorOptions{}, func(a *sim.Actor) {
		assert.NoError(t, fs.MkdirAll("/a/b/c/d/e", 0o755))
		assert.NoError(t, fs.MkdirAll("/snap/1", 0o755))
		fs.Crash()
	})
	runDone(t, s)
	for _, d := range []string{"/a/b/c/d/e", "/snap/1"} {
		fi, err := fs.Stat(d)
		require.NoError(t, err, d)
		require.True(t, fi.IsDir(), d)
	}
	names, err := fs.List("/")
	require.NoError(t, err)
	require.Equal(t, []string{"a", "snap"}, names)

	// Files can be created in the restored directories.
	writeFile(t, fs, "/a/b/c/d/e/f", []byte("x"), true)
	fs.Crash()
	require.Equal(t, []byte("x"), readFile(t, fs, "/a/b/c/d/e/f"))
}

// Trap 5, the other side: MkdirAll makes only the directories it creates
// durable. Calling it on an existing directory must not sync that directory
// or its ancestors, which would make unsynced entries in them crash-proof and
// hide exactly the bugs a crash test is for.
func TestTrap5_MkdirAllExistingDoesNotSyncSiblings(t *testing.T) {
	_, fs := newFS(5, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/db", 0o755))
	writeFile(t, fs, "/db/unsynced-entry", []byte("x"), false) // entry not synced
	writeFile(t, fs, "/unsynced-root-entry", []byte("y"), false)
	require.NoError(t, fs.MkdirAll("/db", 0o755))
	require.NoError(t, fs.MkdirAll("/", 0o755))
	fs.Crash()
	for _, p := range []string{"/db/unsynced-entry", "/unsynced-root-entry"} {
		_, err := fs.Stat(p)
		require.ErrorIs(t, err, os.ErrNotExist, "%s survived a crash: MkdirAll of an existing directory synced it", p)
	}
	fi, err := fs.Stat("/db")
	require.NoError(t, err)
	require.True(t, fi.IsDir())

	// A directory removed and re-created is durable again.
	require.NoError(t, fs.Remove("/db"))
	require.NoError(t, fs.MkdirAll("/db", 0o755))
	fs.Crash()
	fi, err = fs.Stat("/db")
	require.NoError(t, err)
	require.True(t, fi.IsDir())
}

// Trap 6: MemFS ModTime is wall-clock time.Now. The wrapper's ModTime is the
// Unix epoch plus the virtual time of the last write.
func TestTrap6_ModTimeIsVirtual(t *testing.T) {
	epoch := time.Unix(0, 0).UTC()
	type result struct {
		writeAt, createAt, rwAt      sim.Micros
		mod, fmod, createdMod, rwMod time.Time
		dirMod                       time.Time
	}
	run := func() result {
		s, fs := newFS(6, vfsmem.DefaultOptions())
		require.NoError(t, fs.MkdirAll("/db", 0o755))
		var r result
		s.Spawn("w", sim.ActorOptions{}, func(a *sim.Actor) {
			a.Sleep(12345)
			f, err := fs.Create("/db/f")
			if !assert.NoError(t, err) {
				return
			}
			a.Sleep(10)
			r.createAt = s.Now()
			g, err := fs.Create("/db/never-written")
			assert.NoError(t, err)
			assert.NoError(t, g.Close())
			a.Sleep(3 * sim.Second)
			_, err = f.Write([]byte("one"))
			assert.NoError(t, err)
			a.Sleep(777)
			r.writeAt = s.Now()
			_, err = f.WriteAt([]byte("two"), 3)
			assert.NoError(t, err)
			a.Sleep(sim.Second)
			fi, err := f.Stat()
			if assert.NoError(t, err) {
				r.fmod = fi.ModTime()
			}
			assert.NoError(t, f.Close())
			fi, err = fs.Stat("/db/f")
			if assert.NoError(t, err) {
				r.mod = fi.ModTime()
			}
			fi, err = fs.Stat("/db/never-written")
			if assert.NoError(t, err) {
				r.createdMod = fi.ModTime()
			}
			a.Sleep(500)
			r.rwAt = s.Now()
			h, err := fs.OpenReadWrite("/db/rw")
			if assert.NoError(t, err) {
				assert.NoError(t, h.Close())
			}
			fi, err = fs.Stat("/db/rw")
			if assert.NoError(t, err) {
				r.rwMod = fi.ModTime()
			}
			fi, err = fs.Stat("/db")
			if assert.NoError(t, err) {
				r.dirMod = fi.ModTime()
			}
		})
		runDone(t, s)
		return r
	}
	r1, r2 := run(), run()
	require.Equal(t, r1, r2, "two identical runs must give identical ModTimes")

	want := epoch.Add(time.Duration(r1.writeAt) * time.Microsecond)
	require.True(t, want.Equal(r1.mod), "ModTime %v, want epoch+%s = %v", r1.mod, r1.writeAt, want)
	require.True(t, want.Equal(r1.fmod), "File.Stat ModTime %v, want %v", r1.fmod, want)
	require.Greater(t, r1.writeAt, 3*sim.Second)
	require.True(t, epoch.Add(time.Duration(r1.createAt)*time.Microsecond).Equal(r1.createdMod),
		"a never-written file's ModTime is its creation time")
	require.True(t, epoch.Add(time.Duration(r1.rwAt)*time.Microsecond).Equal(r1.rwMod),
		"a file created by OpenReadWrite has its creation time")
	// Nowhere near the wall clock.
	for _, m := range []time.Time{r1.mod, r1.fmod, r1.createdMod, r1.rwMod, r1.dirMod} {
		require.True(t, m.Before(epoch.Add(time.Hour)), "ModTime %v looks like wall-clock time", m)
	}

	// The trap is real: bare MemFS reports wall-clock time.
	raw := vfs.NewStrictMem()
	f, err := raw.Create("/f")
	require.NoError(t, err)
	_, err = f.Write([]byte("x"))
	require.NoError(t, err)
	fi, err := raw.Stat("/f")
	require.NoError(t, err)
	require.True(t, fi.ModTime().After(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)))
}

// Trap 7: under -race (or -tags invariants) MemFS Write scrambles the
// caller's buffer after writing. The wrapper hands MemFS a private copy.
func TestTrap7_WriteLeavesCallerBufferAlone(t *testing.T) {
	// Under -race the trap is real on bare MemFS (invariants are on).
	if raceEnabled {
		raw := vfs.NewStrictMem()
		f, err := raw.Create("/f")
		require.NoError(t, err)
		buf := []byte("scramble me")
		_, err = f.Write(buf)
		require.NoError(t, err)
		require.NotEqual(t, []byte("scramble me"), buf, "under -race bare MemFS should scramble the buffer")
	}

	s, fs := newFS(7, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/db", 0o755))

	// Set-up mode: one buffer reused for several writes.
	buf := []byte("0123456789abcdef")
	orig := slices.Clone(buf)
	f, err := fs.Create("/db/setup")
	require.NoError(t, err)
	var want []byte
	for i := 0; i < 4; i++ {
		n, err := f.Write(buf)
		require.NoError(t, err)
		require.Equal(t, len(buf), n)
		require.Equal(t, orig, buf, "Write changed the caller's buffer")
		want = append(want, buf...)
		buf[0]++ // reuse the buffer with new contents
		orig = slices.Clone(buf)
	}
	n, err := f.WriteAt(buf, 2)
	require.NoError(t, err)
	require.Equal(t, len(buf), n)
	require.Equal(t, orig, buf)
	copy(want[2:], buf)
	require.NoError(t, f.Close())
	require.Equal(t, want, readFile(t, fs, "/db/setup"))

	// From actors, large buffers, interleaved writers.
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = byte(i * 31)
	}
	bigOrig := slices.Clone(big)
	for _, name := range []string{"w1", "w2"} {
		s.Spawn(name, sim.ActorOptions{}, func(a *sim.Actor) {
			p := "/db/" + name
			g, err := fs.Create(p)
			if !assert.NoError(t, err) {
				return
			}
			for i := 0; i < 3; i++ {
				_, err := g.Write(big)
				assert.NoError(t, err)
				assert.Equal(t, bigOrig, big, "Write changed the caller's buffer")
			}
			assert.NoError(t, g.Sync())
			assert.NoError(t, g.Close())
		})
	}
	runDone(t, s)
	wantBig := bytes.Repeat(bigOrig, 3)
	require.Equal(t, wantBig, readFile(t, fs, "/db/w1"))
	require.Equal(t, wantBig, readFile(t, fs, "/db/w2"))
}

// Trap 8: errorfs.WithProbability seeds from wall time. The wrapper's faults
// are drawn from the kernel's Choice: the same seed gives the same faults.
func TestTrap8_FaultsAreDeterministic(t *testing.T) {
	opts := vfsmem.DefaultOptions()
	opts.Faults = vfsmem.Faults{
		OpenEIOPermille: 200, ReadEIOPermille: 200, WriteEIOPermille: 200,
		SpikePermille: 100, SpikeMicros: 900, StallPermille: 100, StallMicros: 2000,
	}
	type outcome struct {
		pattern string
		stats   vfsmem.FaultStats
		hash    uint64
		time    sim.Micros
	}
	run := func(c sim.Choice) outcome {
		s := sim.New(c, sim.Config{KeepTrace: true})
		fs := vfsmem.New(s, opts)
		require.NoError(t, fs.MkdirAll("/db", 0o755))
		writeFile(t, fs, "/db/base", []byte("base data"), true)
		var pattern []byte
		mark := func(err error) {
			switch {
			case err == nil:
				pattern = append(pattern, '.')
			case errors.Is(err, syscall.EIO):
				pattern = append(pattern, 'E')
			default:
				pattern = append(pattern, '?')
			}
		}
		for _, name := range []string{"a", "b", "c"} {
			s.Spawn(name, sim.ActorOptions{}, func(a *sim.Actor) {
				for i := 0; i < 15; i++ {
					f, err := fs.Open("/db/base")
					mark(err)
					if err == nil {
						_, err = f.ReadAt(make([]byte, 4), 0)
						mark(err)
						mark(f.Close())
					}
					g, err := fs.Create(fmt.Sprintf("/db/%s-%d", name, i))
					mark(err)
					if err == nil {
						_, err = g.Write([]byte("payload"))
						mark(err)
						mark(g.Close())
					}
				}
			})
		}
		res := runDone(t, s)
		return outcome{pattern: string(pattern), stats: fs.Faults(), hash: res.TraceHash, time: res.Time}
	}

	a, b := run(sim.NewPRNG(8)), run(sim.NewPRNG(8))
	require.Equal(t, a, b, "same seed, different faults")
	require.Positive(t, a.stats.EIO)
	require.Positive(t, a.stats.Spikes)
	require.Positive(t, a.stats.Stalls)
	require.Contains(t, a.pattern, "E")
	require.Equal(t, a.stats.EIO, bytes.Count([]byte(a.pattern), []byte("E")))

	for seed := uint64(9); seed < 14; seed++ {
		c := run(sim.NewPRNG(seed))
		require.NotEqual(t, a.pattern, c.pattern, "seed %d gave seed 8's fault pattern", seed)
		require.NotEqual(t, a.hash, c.hash, "seed %d gave seed 8's trace", seed)
	}

	// Faults are part of the recorded choice stream: replaying the log
	// reproduces them exactly.
	rec := sim.NewRecorder(sim.NewPRNG(8))
	r := run(rec)
	require.Equal(t, a, r)
	log := sim.NewLog(rec.Draws())
	require.Equal(t, a, run(log))
	require.Zero(t, log.Divergences)
}

// Trap 8, the other side: a zero rate draws nothing, and set-up code (outside
// any actor) never gets faults and never consumes choices.
func TestTrap8_NoDrawsWithoutFaultsOrOutsideActors(t *testing.T) {
	workload := func(fs *vfsmem.FS) {
		require.NoError(t, fs.MkdirAll("/db", 0o755))
		writeFile(t, fs, "/db/f", []byte("data"), true)
		require.Equal(t, []byte("data"), readFile(t, fs, "/db/f"))
		_, err := fs.Stat("/db/f")
		require.NoError(t, err)
	}

	// Fault-free: an actor's operations draw nothing but the scheduling
	// choice (Intn(1) for a single actor).
	rec := sim.NewRecorder(sim.NewPRNG(1))
	s := sim.New(rec, sim.Config{})
	fs := vfsmem.New(s, vfsmem.DefaultOptions())
	s.Spawn("a", sim.ActorOptions{}, func(a *sim.Actor) { workload(fs) })
	runDone(t, s)
	for _, d := range rec.Draws() {
		require.Equal(t, 1, d.N, "a fault-free configuration drew a fault choice")
	}

	// Every fault certain, but set-up mode: no fault, no draw.
	all := vfsmem.DefaultOptions()
	all.Faults = vfsmem.Faults{OpenEIOPermille: 1000, ReadEIOPermille: 1000, WriteEIOPermille: 1000,
		SpikePermille: 1000, SpikeMicros: 1, StallPermille: 1000, StallMicros: 1}
	rec = sim.NewRecorder(sim.NewPRNG(1))
	s = sim.New(rec, sim.Config{})
	fs = vfsmem.New(s, all)
	workload(fs)
	fs.Crash()
	require.Empty(t, rec.Draws(), "set-up operations consumed choices")
	require.Equal(t, vfsmem.FaultStats{Crashes: 1}, fs.Faults())
}

// Trap 9: double Close and read-after-close panic on bare MemFS.
func TestTrap9_CloseTwiceAndUseAfterClose(t *testing.T) {
	// The trap is real on bare MemFS.
	raw := vfs.NewStrictMem()
	rf, err := raw.Create("/f")
	require.NoError(t, err)
	require.NoError(t, rf.Close())
	require.Panics(t, func() { _ = rf.Close() })
	rf, err = raw.Open("/f")
	require.NoError(t, err)
	require.NoError(t, rf.Close())
	require.Panics(t, func() { _, _ = rf.Read(make([]byte, 1)) })

	check := func(t *testing.T, fs *vfsmem.FS) {
		writeFile(t, fs, "/f", []byte("hello"), false)
		f, err := fs.Open("/f")
		require.NoError(t, err)
		require.NoError(t, f.Close())
		err = f.Close()
		require.Error(t, err)
		require.ErrorIs(t, err, os.ErrClosed)
		_, err = f.Read(make([]byte, 1))
		require.ErrorIs(t, err, os.ErrClosed)
		_, err = f.ReadAt(make([]byte, 1), 0)
		require.ErrorIs(t, err, os.ErrClosed)
		_, err = f.Stat()
		require.ErrorIs(t, err, os.ErrClosed)
		require.ErrorIs(t, f.Sync(), os.ErrClosed)
		require.ErrorIs(t, f.SyncData(), os.ErrClosed)
		_, err = f.SyncTo(1)
		require.ErrorIs(t, err, os.ErrClosed)

		w, err := fs.Create("/g")
		require.NoError(t, err)
		require.NoError(t, w.Close())
		_, err = w.Write([]byte("x"))
		require.ErrorIs(t, err, os.ErrClosed)
		_, err = w.WriteAt([]byte("x"), 0)
		require.ErrorIs(t, err, os.ErrClosed)
		require.ErrorIs(t, w.Close(), os.ErrClosed)

		d, err := fs.OpenDir("/")
		require.NoError(t, err)
		require.NoError(t, d.Close())
		require.ErrorIs(t, d.Close(), os.ErrClosed)
		require.ErrorIs(t, d.Sync(), os.ErrClosed)

		// The space accounting is not disturbed by the extra Closes.
		require.NoError(t, fs.Remove("/f"))
		require.Zero(t, fs.Usage(nil).OrphanBytes)
		du, err := fs.GetDiskUsage("/")
		require.NoError(t, err)
		require.Zero(t, du.UsedBytes)
	}
	t.Run("setup", func(t *testing.T) {
		_, fs := newFS(9, vfsmem.DefaultOptions())
		require.NotPanics(t, func() { check(t, fs) })
	})
	t.Run("actor", func(t *testing.T) {
		s, fs := newFS(9, vfsmem.DefaultOptions())
		s.Spawn("a", sim.ActorOptions{}, func(a *sim.Actor) { check(t, fs) })
		runDone(t, s)
	})
}

// Trap 10: MemFS GetDiskUsage is unsupported. The wrapper answers from its
// own accounting and enforces a quota with ENOSPC.
func TestTrap10_DiskUsageAndQuota(t *testing.T) {
	_, err := vfs.NewStrictMem().GetDiskUsage("/")
	require.Error(t, err, "bare MemFS GetDiskUsage should be unsupported")

	s, fs := newFS(10, vfsmem.DefaultOptions())
	du, err := fs.GetDiskUsage("/")
	require.NoError(t, err)
	require.Zero(t, du.UsedBytes)
	require.Equal(t, du.TotalBytes, du.AvailBytes)
	require.Positive(t, du.TotalBytes)

	require.NoError(t, fs.MkdirAll("/db", 0o755))
	writeFile(t, fs, "/db/a", make([]byte, 1000), false)
	writeFile(t, fs, "/db/b", make([]byte, 2000), true)
	du, err = fs.GetDiskUsage("/db")
	require.NoError(t, err)
	require.EqualValues(t, 3000, du.UsedBytes)
	require.Equal(t, du.TotalBytes-3000, du.AvailBytes)

	s.Spawn("gc", sim.ActorOptions{}, func(a *sim.Actor) {
		assert.NoError(t, fs.Remove("/db/a"))
		du, err := fs.GetDiskUsage("/")
		assert.NoError(t, err)
		assert.EqualValues(t, 2000, du.UsedBytes)
		// Overwriting in place does not grow; extending does.
		f, err := fs.OpenReadWrite("/db/b")
		if assert.NoError(t, err) {
			_, err = f.WriteAt(make([]byte, 500), 0)
			assert.NoError(t, err)
			_, err = f.WriteAt(make([]byte, 500), 1800)
			assert.NoError(t, err)
			assert.NoError(t, f.Close())
		}
	})
	runDone(t, s)
	du, err = fs.GetDiskUsage("/")
	require.NoError(t, err)
	require.EqualValues(t, 2300, du.UsedBytes)

	// A quota.
	opts := vfsmem.DefaultOptions()
	opts.QuotaBytes = 4096
	s, fs = newFS(10, opts)
	du, err = fs.GetDiskUsage("/")
	require.NoError(t, err)
	require.EqualValues(t, 4096, du.TotalBytes)
	require.EqualValues(t, 4096, du.AvailBytes)
	writeFile(t, fs, "/a", make([]byte, 4000), false)

	var errPast, errAtPast, errInPlace, errFits error
	var n int
	s.Spawn("w", sim.ActorOptions{}, func(a *sim.Actor) {
		f, err := fs.Create("/b")
		if !assert.NoError(t, err) {
			return
		}
		n, errPast = f.Write(make([]byte, 200))
		_, errAtPast = f.WriteAt(make([]byte, 1), 100)
		_, errFits = f.Write(make([]byte, 96))
		assert.NoError(t, f.Close())
		g, err := fs.OpenReadWrite("/a")
		if assert.NoError(t, err) {
			_, errInPlace = g.WriteAt(make([]byte, 4000), 0)
			assert.NoError(t, g.Close())
		}
	})
	runDone(t, s)
	require.Error(t, errPast)
	require.ErrorIs(t, errPast, syscall.ENOSPC)
	require.Zero(t, n)
	require.ErrorIs(t, errAtPast, syscall.ENOSPC)
	require.NoError(t, errFits, "a write that exactly reaches the quota fits")
	require.NoError(t, errInPlace, "an in-place overwrite does not need space")
	require.Equal(t, 2, fs.Faults().ENOSPC)
	du, err = fs.GetDiskUsage("/")
	require.NoError(t, err)
	require.EqualValues(t, 4096, du.UsedBytes)
	require.Zero(t, du.AvailBytes)
	fi, err := fs.Stat("/b")
	require.NoError(t, err)
	require.EqualValues(t, 96, fi.Size(), "failed writes must not change the file")

	// Freeing space makes room again.
	require.NoError(t, fs.Remove("/a"))
	f, err := fs.OpenReadWrite("/b")
	require.NoError(t, err)
	_, err = f.WriteAt(make([]byte, 1000), 96)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Equal(t, 2, fs.Faults().ENOSPC)
}
