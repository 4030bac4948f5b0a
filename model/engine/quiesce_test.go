package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// TestSettledEngine: an engine with a flush or a compaction due, or one
// whose lock is held, is not settled; an idle one is.
func TestSettledEngine(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	r.run(t, func(a *sim.Actor) {
		e := r.e
		assert.True(t, e.Settled(), "a fresh engine is settled")
		e.flusher = a // stands in for a flusher actor
		for i := 0; i < e.opts.FlushThreshold; i++ {
			e.Put(KeyName(i), "v")
		}
		assert.False(t, e.Settled(), "a memtable at the flush threshold is work due")
		assert.NoError(t, e.Flush())
		assert.True(t, e.Settled())
		unlock, err := e.acquire(lockManifest, e.gen)
		assert.NoError(t, err)
		assert.False(t, e.Settled(), "a held engine lock is work in progress")
		unlock()
		assert.True(t, e.Settled())
	})
}

// TestDisableDeletionsWaitsForRemovalInFlight: a deleter checks the
// counter and then removes the file after a scheduling point. A
// DisableDeletions that lands in between returns only after that removal,
// as Pebble's disableFileDeletions waits for the cleanup manager: no
// removal happens after it has returned.
func TestDisableDeletionsWaitsForRemovalInFlight(t *testing.T) {
	order := []string{"setup", "deleter", "holder", "holder", "deleter", "holder"}
	next := 0
	s := sim.New(sim.NewPRNG(1), sim.Config{KeepTrace: true, Director: func(runnable []*sim.Actor, step int64) int {
		for next < len(order) {
			want := order[next]
			next++
			for i, a := range runnable {
				if a.Name() == want {
					return i
				}
			}
		}
		return sim.Fallback
	}})
	fs := vfsmem.New(s, vfsmem.DefaultOptions())
	// The delayed deleter: the compaction leaves its inputs to GC, here
	// the deleter actor.
	e, err := NewEngine(s, fs, DBDir, delayedOpts())
	require.NoError(t, err)
	var victim *FileMeta
	s.Spawn("setup", sim.ActorOptions{}, func(a *sim.Actor) {
		flushOverlapping(t, e, "k", 2)
		assert.NoError(t, e.CompactLevel(CFDefault, 0))
		for _, f := range e.Obsolete() {
			if victim == nil && !e.inLiveVersion(f.Num) {
				victim = f
			}
		}
	})
	var held int64
	s.Spawn("deleter", sim.ActorOptions{}, func(a *sim.Actor) {
		for victim == nil || len(e.Obsolete()) == 0 {
			a.Yield()
		}
		e.deleteFile(victim) // yields inside RemoveBecause, before the removal
	})
	s.Spawn("holder", sim.ActorOptions{}, func(a *sim.Actor) {
		for e.deletesInFlight == 0 {
			a.Yield()
		}
		e.DisableDeletions()
		held = s.Step()
	})
	res := s.Run()
	require.Equal(t, sim.EndDone, res.End, "%v", res.Observations)
	require.NotNil(t, victim)
	dels := e.Deletions()
	require.Len(t, dels, 1, "the removal under way completes")
	require.Len(t, e.DeletionHolds(), 1)
	require.Less(t, dels[0].Step, held, "DisableDeletions returned only after the removal in flight")
	require.Equal(t, held, e.DeletionHolds()[0].Step, "the hold starts when DisableDeletions returns")
}
