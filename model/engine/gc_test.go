package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// removal returns the event that deleted p, failing if p still exists.
func removal(t *testing.T, fs *vfsmem.FS, p string) vfsmem.LifeEvent {
	t.Helper()
	ev, ok := fs.Deleted(p)
	require.True(t, ok, "%s was not deleted; history %v", p, fs.History(p))
	return ev
}

// The delayed GC (GCDelayed) deletes a compaction's inputs, GCInterval
// after the compaction made them obsolete, with the compaction as reason.
func TestGCDeletesObsoleteFilesWithReason(t *testing.T) {
	r := newRig(t, delayedOpts(), vfsmem.DefaultOptions()).withGC()
	e := r.e
	var inputs []*FileMeta
	var compactedAt sim.Micros
	r.run(t, func(a *sim.Actor) {
		e.Put("a", "1")
		assert.NoError(t, e.Flush())
		e.Put("b", "2")
		assert.NoError(t, e.Flush())
		inputs = e.Current().Files()
		assert.NoError(t, e.Compact())
		compactedAt = r.s.Now()
		assert.Len(t, e.Obsolete(), 2)
		a.Sleep(10 * e.opts.GCInterval)
	})
	require.Len(t, inputs, 2)
	for _, f := range inputs {
		ev := removal(t, r.fs, f.Path)
		assert.Equal(t, "gc", ev.Actor)
		assert.Equal(t, "obsolete after compaction 1", ev.Why)
		assert.GreaterOrEqual(t, ev.Time, compactedAt+e.opts.GCInterval, "GC waits its interval")
		assert.True(t, f.Deleted())
	}
	assert.Empty(t, e.Obsolete())
	live := e.Current().Files()
	require.Len(t, live, 1)
	assert.True(t, exists(r.fs, live[0].Path), "the compaction output is live")
	assert.Contains(t, eventDetails(r.s.Result().Events, "delete"), "/db/000001.sst (obsolete after compaction 1)")
	assert.Empty(t, r.s.Observations())
}

// The prompt deleter (GCPrompt, the default) is the compaction itself:
// the actor that ran it deletes the inputs right after installing the
// version that made them obsolete, before Compact returns, with no
// interval and without the gc actor; the trace shows the compaction, then
// the deletions.
func TestPromptGCDeletesInTheCompactingActor(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions()).withGC()
	e := r.e
	var inputs []*FileMeta
	var before, after sim.Micros
	r.run(t, func(a *sim.Actor) {
		e.Put("a", "1")
		assert.NoError(t, e.Flush())
		e.Put("b", "2")
		assert.NoError(t, e.Flush())
		inputs = e.Current().Files()
		before = r.s.Now()
		assert.NoError(t, e.Compact())
		after = r.s.Now()
		assert.Empty(t, e.Obsolete(), "deleted before Compact returned")
		for _, f := range inputs {
			assert.False(t, exists(r.fs, f.Path), f.Name())
			assert.True(t, f.Deleted())
		}
	})
	require.Len(t, inputs, 2)
	for _, f := range inputs {
		ev := removal(t, r.fs, f.Path)
		assert.Equal(t, "script", ev.Actor, "the compacting actor deletes")
		assert.Equal(t, "obsolete after compaction 1", ev.Why)
		assert.True(t, ev.Time > before && ev.Time <= after)
	}
	var ops []string
	for _, ev := range r.s.Result().Events {
		if ev.Class == sim.ClassAction && ev.Actor == "script" && (ev.Op == "compact" || ev.Op == "delete") {
			ops = append(ops, ev.Op)
		}
		assert.False(t, ev.Actor == "gc" && ev.Op == "delete", "the gc actor deletes nothing")
	}
	assert.Equal(t, []string{"compact", "delete", "delete"}, ops)
	assert.Empty(t, r.s.Observations())
}

// A lease keeps obsolete files until expiry + grace; GC then deletes them
// without being woken (it polls every GCInterval while a lease pins an
// obsolete file), with either deleter.
func TestGCHonoursLeaseUntilExpiryPlusGrace(t *testing.T) {
	for _, mode := range gcModes {
		for _, grace := range []sim.Micros{0, 300 * sim.Microsecond, 5 * sim.Millisecond} {
			o := testOpts()
			o.GCMode, o.GCGrace = mode, grace
			r := newRig(t, o, vfsmem.DefaultOptions()).withGC()
			e := r.e
			const ttl = 5 * sim.Millisecond // longer than a compaction with its manifest syncs
			var in []*FileMeta
			var lease *Lease
			r.run(t, func(a *sim.Actor) {
				in = flushOverlapping(t, e, "a", 2)
				lease = e.AcquireLease("reader", in, ttl)
				assert.Equal(t, []uint64{in[0].Num, in[1].Num}, lease.Files)
				assert.NoError(t, e.Compact())
				assert.Equal(t, in, e.Obsolete())
				assert.Contains(t, e.pinnedBy(in[0]), "leased by reader until")
				// Watch the files until well past the end of their protection.
				end := lease.Expiry + grace
				for r.s.Now() < end+10*o.GCInterval {
					if r.s.Now() < end {
						for _, f := range in {
							assert.True(t, exists(r.fs, f.Path), "%s deleted at %s, protected until %s", mode, r.s.Now(), end)
						}
					}
					a.Sleep(50 * sim.Microsecond)
				}
			})
			for _, f := range in {
				ev := removal(t, r.fs, f.Path)
				assert.Equal(t, "gc", ev.Actor)
				assert.GreaterOrEqual(t, ev.Time, lease.Expiry+grace, "%s grace %s", mode, grace)
				assert.Less(t, ev.Time, lease.Expiry+grace+3*o.GCInterval, "GC wakes by itself at the lease's end")
				assert.Equal(t, "obsolete after compaction 1", ev.Why)
			}
			assert.Empty(t, r.s.Observations(), "%s grace %s", mode, grace)
		}
	}
}

// A renewed lease moves the deletion with it.
func TestGCFollowsRenewedLease(t *testing.T) {
	for _, mode := range gcModes {
		o := testOpts()
		o.GCMode = mode
		r := newRig(t, o, vfsmem.DefaultOptions()).withGC()
		e := r.e
		var in []*FileMeta
		var lease *Lease
		var start sim.Micros
		r.run(t, func(a *sim.Actor) {
			in = flushOverlapping(t, e, "a", 2)
			lease = e.AcquireLease("reader", in, 5*sim.Millisecond)
			assert.NoError(t, e.Compact())
			start = r.s.Now()
			assert.True(t, e.RenewLease(lease, sim.Millisecond))
			for i := 0; i < 5; i++ {
				a.Sleep(800 * sim.Microsecond)
				assert.True(t, e.RenewLease(lease, sim.Millisecond))
				assert.True(t, exists(r.fs, in[0].Path), mode)
			}
			a.Sleep(2 * sim.Millisecond)
		})
		ev := removal(t, r.fs, in[0].Path)
		assert.GreaterOrEqual(t, ev.Time, lease.Expiry, mode)
		assert.GreaterOrEqual(t, ev.Time, start+5*800*sim.Microsecond+sim.Millisecond, mode)
	}
}

// gcPass deletes what is deletable and keeps what a lease holds (the
// delayed deleter, so that the compactions leave their inputs to it).
func TestGCPassSkipsPinnedFiles(t *testing.T) {
	r := newRig(t, delayedOpts(), vfsmem.DefaultOptions())
	e := r.e
	var leased, free []*FileMeta
	r.run(t, func(a *sim.Actor) {
		leased = flushOverlapping(t, e, "a", 2)
		e.AcquireLease("reader", leased, sim.Second)
		assert.NoError(t, e.Compact()) // both leased obsolete
		e.Put("a", "2")                // overlaps the first output: it is an input too
		assert.NoError(t, e.Flush())
		assert.NoError(t, e.Compact()) // the first output and the new L0 file obsolete
		assert.Len(t, e.Obsolete(), 4)
		free = append(free, e.Obsolete()[2:]...)
		e.gcPass()
		assert.Equal(t, leased, e.Obsolete())
		wait, ok := e.nextLeaseEnd()
		assert.True(t, ok)
		assert.Equal(t, e.leases[0].Expiry-r.s.Now(), wait)
	})
	for _, f := range leased {
		assert.True(t, exists(r.fs, f.Path))
	}
	for _, f := range free {
		assert.False(t, exists(r.fs, f.Path))
	}
	assert.Empty(t, r.s.Observations())
}

func TestDeleteFileOfPinnedFileIsObserved(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	e := r.e
	var live, leased *FileMeta
	r.run(t, func(a *sim.Actor) {
		e.Put("a", "1")
		assert.NoError(t, e.Flush())
		live = e.Current().Files()[0]
		e.deleteFile(live) // in the current version: must never happen
		e.Put("b", "2")
		assert.NoError(t, e.Flush())
		leased = e.Current().Levels[0][1]
		e.AcquireLease("reader", []*FileMeta{leased}, sim.Second)
		e.Current().Levels[0] = e.Current().Levels[0][:1] // white-box: drop it from the version
		e.deleteFile(leased)
	})
	got := ofKind(r.s.Observations(), sim.KindGCDeletedPinnedFile)
	require.Len(t, got, 2)
	assert.Equal(t, "script", got[0].Actor)
	assert.Contains(t, got[0].Detail, live.Path+" deleted while referenced by live version 2 (refs 1)")
	assert.Contains(t, got[1].Detail, leased.Path+" deleted while leased by reader until")
	assert.False(t, exists(r.fs, live.Path), "the forced deletion still happened")
	assert.False(t, exists(r.fs, leased.Path))
}

// A file someone else removed leaves the obsolete list (retrying could
// never succeed).
func TestDeleteFileAlreadyGone(t *testing.T) {
	r := newRig(t, delayedOpts(), vfsmem.DefaultOptions())
	e := r.e
	r.run(t, func(a *sim.Actor) {
		flushOverlapping(t, e, "a", 2)
		assert.NoError(t, e.Compact())
		f := e.Obsolete()[0]
		assert.NoError(t, r.fs.RemoveBecause(f.Path, "someone else"))
		e.deleteFile(f)
		assert.True(t, f.Deleted())
		assert.Len(t, e.Obsolete(), 1)
	})
	assert.Contains(t, eventDetails(r.s.Result().Events, "delete"), "(obsolete after compaction 1)")
	assert.Equal(t, "someone else", removal(t, r.fs, "/db/000001.sst").Why)
}

func TestRenewLease(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	e := r.e
	r.run(t, func(a *sim.Actor) {
		l := e.AcquireLease("x", nil, 100)
		assert.Equal(t, r.s.Now()+100, l.Expiry)
		assert.Equal(t, "x", l.Holder)
		a.Sleep(60)
		assert.True(t, e.RenewLease(l, 100), "valid: renewed")
		assert.Equal(t, r.s.Now()+100, l.Expiry)
		before := l.Expiry
		a.Sleep(100) // exactly at expiry: no longer valid
		assert.False(t, l.Valid(r.s.Now()))
		assert.False(t, e.RenewLease(l, 100), "an expired lease cannot be renewed")
		assert.Equal(t, before, l.Expiry, "a refused renewal changes nothing")

		l2 := e.AcquireLease("y", nil, sim.Second)
		assert.Greater(t, l2.ID, l.ID)
		e.ReleaseLease(l2)
		assert.False(t, e.RenewLease(l2, sim.Second), "a released lease cannot be renewed")
		assert.NotContains(t, e.leases, l2)
		e.ReleaseLease(l2) // twice: harmless
		assert.Equal(t, []*Lease{l}, e.leases)
	})
}

// GC parked with work it cannot see (no Unref woke it) is woken by a lease
// release. Without the wake the file would stay forever.
func TestReleaseLeaseWakesGC(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions()).withGC()
	e := r.e
	const p = "/db/000099.sst"
	r.run(t, func(a *sim.Actor) {
		a.Sleep(sim.Millisecond) // GC finds nothing to do and parks
		assert.NoError(t, e.WriteFile(p, EncodeSST(nil)))
		e.obsolete = append(e.obsolete, &FileMeta{Num: 99, Path: p, fate: &fileFate{replacedBy: "test"}})
		l := e.AcquireLease("x", nil, sim.Second)
		a.Sleep(100 * e.opts.GCInterval)
		assert.True(t, exists(r.fs, p), "GC is parked: nobody woke it")
		e.ReleaseLease(l)
		a.Sleep(2 * e.opts.GCInterval)
		assert.False(t, exists(r.fs, p), "the release woke GC")
	})
	assert.Equal(t, "obsolete after test", removal(t, r.fs, p).Why)
}

func TestSnapshotsRegistry(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	e := r.e
	id1, s1 := e.TakeSnapshot()
	id2, s2 := e.TakeSnapshot()
	assert.Equal(t, [2]uint64{1, 2}, [2]uint64{id1, id2})
	assert.Equal(t, [2]uint64{0, 0}, [2]uint64{s1, s2})
	e.ReleaseSnapshot(id1)
	assert.Equal(t, []engineSnapshot{{id: 2, seq: 0}}, e.snapshots)
	assert.True(t, e.snapshotBetween(0, 1))
	assert.False(t, e.snapshotBetween(1, 5))
}

// A lease released early lets GC delete its files within a GC interval,
// long before the lease would have expired (with the prompt deleter, at
// once).
func TestGCDeletesSoonAfterEarlyLeaseRelease(t *testing.T) {
	for _, mode := range gcModes {
		o := testOpts()
		o.GCMode = mode
		r := newRig(t, o, vfsmem.DefaultOptions()).withGC()
		e := r.e
		var in []*FileMeta
		var lease *Lease
		var released sim.Micros
		r.run(t, func(a *sim.Actor) {
			in = flushOverlapping(t, e, "a", 2)
			lease = e.AcquireLease("reader", in, sim.Second)
			assert.NoError(t, e.Compact())
			a.Sleep(10 * e.opts.GCInterval)
			assert.True(t, exists(r.fs, in[0].Path), "leased")
			e.ReleaseLease(lease)
			released = r.s.Now()
			a.Sleep(10 * e.opts.GCInterval)
		})
		ev := removal(t, r.fs, in[0].Path)
		assert.Less(t, ev.Time, released+2*e.opts.GCInterval, "%s: GC noticed the release (the lease ran until %s)", mode, lease.Expiry)
		assert.Empty(t, r.s.Observations())
	}
}

// DisableDeletions holds GC off (nested: a counter); the last
// EnableDeletions lets it proceed. The prompt deleter keeps the files too
// while deletions are disabled and leaves them to GC.
func TestGCHeldOffByDisableDeletions(t *testing.T) {
	for _, mode := range gcModes {
		o := testOpts()
		o.GCMode = mode
		r := newRig(t, o, vfsmem.DefaultOptions()).withGC()
		e := r.e
		var inputs []*FileMeta
		var enabled sim.Micros
		r.run(t, func(a *sim.Actor) {
			inputs = flushOverlapping(t, e, "a", 2)
			e.DisableDeletions()
			e.DisableDeletions()
			assert.True(t, e.DeletionsDisabled())
			assert.NoError(t, e.Compact())
			assert.Len(t, e.Obsolete(), 2)
			a.Sleep(20 * e.opts.GCInterval)
			assert.True(t, exists(r.fs, inputs[0].Path), "deletions disabled")
			e.EnableDeletions()
			assert.True(t, e.DeletionsDisabled(), "one Disable still holds")
			a.Sleep(20 * e.opts.GCInterval)
			assert.True(t, exists(r.fs, inputs[0].Path), "deletions still disabled")
			e.EnableDeletions()
			enabled = r.s.Now()
			assert.False(t, e.DeletionsDisabled())
			a.Sleep(20 * e.opts.GCInterval)
		})
		ev := removal(t, r.fs, inputs[0].Path)
		assert.Equal(t, "gc", ev.Actor)
		assert.GreaterOrEqual(t, ev.Time, enabled)
		assert.Less(t, ev.Time, enabled+2*e.opts.GCInterval, "%s: EnableDeletions woke GC", mode)
		assert.Empty(t, e.Obsolete())
		assert.Empty(t, r.s.Observations())
		assert.PanicsWithValue(t, "model: EnableDeletions without DisableDeletions", func() { e.EnableDeletions() })
	}
}

// Disabling deletions in the middle of a GC pass stops the pass.
func TestGCPassStopsWhenDeletionsDisabled(t *testing.T) {
	r := newRig(t, delayedOpts(), vfsmem.DefaultOptions())
	e := r.e
	r.run(t, func(a *sim.Actor) {
		flushOverlapping(t, e, "a", 3)
		assert.NoError(t, e.Compact())
		assert.Len(t, e.Obsolete(), 3)
		r.s.Spawn("checkpoint", sim.ActorOptions{}, func(*sim.Actor) { e.DisableDeletions() })
		e.gcPass()
		assert.NotEmpty(t, e.Obsolete(), "the pass stopped (a removal under way may finish)")
		assert.Less(t, len(e.Obsolete()), 3)
		e.EnableDeletions()
		e.gcPass()
		assert.Empty(t, e.Obsolete())
	})
}

// The unsafe eager deleter deletes a file the moment it leaves the current
// version, although a reader's version still references it: the deletion
// is reported as gc-deleted-pinned-file, and the reader's open fails. The
// delayed deleter is the gc actor; the prompt one is the compacting actor.
func TestEagerGCDeletesPinnedFile(t *testing.T) {
	for _, mode := range gcModes {
		o := testOpts()
		o.GCMode, o.EagerGC = mode, true
		r := newRig(t, o, vfsmem.DefaultOptions()).withGC()
		e := r.e
		var in []*FileMeta
		var openErr error
		r.run(t, func(a *sim.Actor) {
			in = flushOverlapping(t, e, "a", 2)
			reader := e.Current()
			e.Ref(reader)
			assert.NoError(t, e.Compact())
			if mode == GCDelayed {
				assert.Equal(t, in, e.Obsolete(), "eager: obsolete while still referenced")
			}
			a.Sleep(10 * e.opts.GCInterval)
			_, openErr = r.fs.Open(in[0].Path)
			e.Unref(reader)
			assert.Empty(t, e.Obsolete(), "already deleted: not obsolete twice")
		})
		require.Error(t, openErr)
		got := ofKind(r.s.Observations(), sim.KindGCDeletedPinnedFile)
		require.Len(t, got, 2, mode)
		want := map[GCMode]string{GCDelayed: "gc", GCPrompt: "script"}[mode]
		assert.Equal(t, want, got[0].Actor)
		assert.Contains(t, got[0].Detail, in[0].Path+" deleted while referenced by live version 3 (refs 1)")
		assert.Equal(t, "obsolete after compaction 1", removal(t, r.fs, in[0].Path).Why)

		// The safe deleter, same script: no deletion while referenced.
		o.EagerGC = false
		r2 := newRig(t, o, vfsmem.DefaultOptions()).withGC()
		r2.run(t, func(a *sim.Actor) {
			in := flushOverlapping(t, r2.e, "a", 2)
			reader := r2.e.Current()
			r2.e.Ref(reader)
			assert.NoError(t, r2.e.Compact())
			assert.Empty(t, r2.e.Obsolete())
			a.Sleep(10 * r2.e.opts.GCInterval)
			assert.True(t, exists(r2.fs, in[0].Path))
			r2.e.Unref(reader)
			a.Sleep(10 * r2.e.opts.GCInterval)
			assert.False(t, exists(r2.fs, in[0].Path))
		})
		assert.Empty(t, r2.s.Observations())
	}
}

// The eager deleter also ignores leases.
func TestEagerGCIgnoresLeases(t *testing.T) {
	for _, mode := range gcModes {
		o := testOpts()
		o.GCMode, o.EagerGC = mode, true
		r := newRig(t, o, vfsmem.DefaultOptions()).withGC()
		e := r.e
		r.run(t, func(a *sim.Actor) {
			in := flushOverlapping(t, e, "a", 2)
			e.AcquireLease("reader", in[:1], sim.Second)
			assert.NoError(t, e.Compact())
			a.Sleep(10 * e.opts.GCInterval)
		})
		got := ofKind(r.s.Observations(), sim.KindGCDeletedPinnedFile)
		require.Len(t, got, 1, mode)
		assert.Contains(t, got[0].Detail, "deleted while leased by reader until")
	}
}

// A file that becomes obsolete while GC is busy with a pass (its wake-up
// is lost: GC is not parked) is still deleted: GC parks only when every
// obsolete file waits for a version reference.
func TestGCDoesNotLoseFilesObsoletedDuringAPass(t *testing.T) {
	late := 0
	for seed := uint64(1); seed <= 40; seed++ {
		o := testOpts()
		o.GCInterval = 10 * sim.Microsecond
		r := newRigSeed(t, seed, o, vfsmem.DefaultOptions()).withGC()
		e := r.e
		r.run(t, func(a *sim.Actor) {
			for i := 0; i < 4; i++ {
				e.Put("a", "1")
				assert.NoError(t, e.Flush())
			}
			v := e.Current()
			e.Ref(v)
			assert.NoError(t, e.Compact()) // four L0 files obsolete, pinned by v
			e.Put("a", "2")
			assert.NoError(t, e.Flush())
			e.Unref(v)
			// GC now deletes four files, one step each; meanwhile the
			// next compaction makes two more obsolete.
			r.s.Spawn("compact", sim.ActorOptions{}, func(*sim.Actor) { assert.NoError(t, e.Compact()) })
			a.Sleep(50 * sim.Millisecond)
			for _, ev := range r.s.Result().Events {
				if ev.Op == "compact" && strings.Contains(ev.Detail, "compaction 2") && ev.Actor == "compact" {
					late++
					break
				}
			}
		})
		require.Empty(t, e.Obsolete(), "seed %d: obsolete files left: %s", seed, Names(e.Obsolete()))
	}
	require.Positive(t, late)
}
