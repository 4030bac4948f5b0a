package tikv

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/model/designs"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

func TestSnapStateNames(t *testing.T) {
	want := map[SnapState]string{SnapGenerating: "Generating", SnapSending: "Sending", SnapReceiving: "Receiving",
		SnapApplying: "Applying", SnapPendingApply: "PendingApply", SnapPendingSend: "PendingSend", 0: "state(0)", 42: "state(42)"}
	for st, name := range want {
		assert.Equal(t, name, st.String())
	}
}

func TestSnapManagerRegistry(t *testing.T) {
	s := sim.New(sim.NewPRNG(1), sim.Config{})
	m := &SnapManager{s: s}
	k, k2 := SnapKey{1, 1, 5}, SnapKey{2, 1, 5}

	assert.Equal(t, "", m.InUse(k))
	require.True(t, m.Register(k, SnapGenerating))
	assert.False(t, m.Register(k, SnapGenerating), "builds of one key are exclusive")
	assert.True(t, m.Register(k2, SnapGenerating), "another key is not")
	assert.True(t, m.Register(k, SnapSending))
	assert.Equal(t, "Generating+Sending", m.InUse(k))
	assert.Equal(t, "Generating", m.InUse(k2))

	m.Deregister(k, SnapGenerating)
	assert.Equal(t, "Sending", m.InUse(k))
	assert.True(t, m.Register(k, SnapGenerating), "free again once deregistered")
	m.Deregister(k, SnapApplying) // not registered: nothing happens
	assert.Equal(t, "Sending+Generating", m.InUse(k))

	// Other states may be registered twice; Deregister removes one entry.
	assert.True(t, m.Register(k2, SnapReceiving))
	assert.True(t, m.Register(k2, SnapReceiving))
	m.Deregister(k2, SnapReceiving)
	assert.Equal(t, "Generating+Receiving", m.InUse(k2))

	// Applied.
	assert.False(t, m.Applied(k))
	m.MarkApplied(k)
	assert.True(t, m.Applied(k))
	assert.False(t, m.Applied(k2))

	// Age counts from the key's first registration; re-registering does
	// not reset it; a key never seen has age 0.
	s.Advance(700)
	assert.Equal(t, sim.Micros(700), m.age(k))
	m.Register(k, SnapApplying)
	s.Advance(300)
	assert.Equal(t, sim.Micros(1000), m.age(k))
	assert.Zero(t, m.age(SnapKey{9, 9, 9}))

	// A crash forgets the registry and the applied keys (in memory), not
	// the files' ages (as file times survive).
	m.reset()
	assert.Equal(t, "", m.InUse(k))
	assert.Equal(t, "", m.InUse(k2))
	assert.False(t, m.Applied(k))
	assert.Equal(t, sim.Micros(1000), m.age(k))
	assert.True(t, m.Register(k, SnapGenerating))
}

func TestSnapManagerNonExclusive(t *testing.T) {
	m := &SnapManager{s: sim.New(sim.NewPRNG(1), sim.Config{}), NonExclusive: true}
	k := SnapKey{1, 1, 5}
	assert.True(t, m.Register(k, SnapGenerating))
	assert.True(t, m.Register(k, SnapGenerating), "TiKV #2923: a second build of the key starts")
	assert.Equal(t, "Generating+Generating", m.InUse(k))
	m.Deregister(k, SnapGenerating)
	assert.Equal(t, "Generating", m.InUse(k))
}

// gcRig is a cluster whose snapshot dirs are filled by hand (set-up, no
// scheduling) for snapshot GC passes.
type gcRig struct {
	t *testing.T
	s *sim.Scheduler
	c *Cluster
}

func newGCRig(t *testing.T, cfg Config) *gcRig {
	t.Helper()
	s := sim.New(sim.NewPRNG(1), sim.Config{KeepTrace: true})
	c, err := newCluster(s, cfg, Workload{FlushThreshold: 1000, CompactTrigger: 1000})
	require.NoError(t, err)
	return &gcRig{t: t, s: s, c: c}
}

// files writes every file of a snapshot (data and meta) on n.
func (r *gcRig) files(n *Node, prefix string, k SnapKey, tmp bool) []string {
	var out []string
	for _, cf := range CFs {
		out = append(out, snapFile(prefix, k, cf))
	}
	out = append(out, snapMeta(prefix, k))
	for i := range out {
		if tmp {
			out[i] += ".tmp"
		}
		require.NoError(r.t, n.Engine.WriteFile(out[i], []byte("x")))
	}
	return out
}

// why returns the ledger's reason for the removal of p ("" if it exists).
func why(n *Node, p string) string {
	ev, gone := n.FS.Deleted(p)
	if !gone {
		return ""
	}
	return ev.Why
}

// Snapshot GC removes the files of stale, unregistered snapshots: applied
// (by this node, or by the peer for a generated one), of an older term,
// older than the timeout, or temporary files of a key this node never
// registered. It keeps registered ones, fresh ones and anything it cannot
// parse.
func TestSnapGCPass(t *testing.T) {
	cfg := DefaultConfig("lease-retry")
	r := newGCRig(t, cfg)
	c, L, F := r.c, r.c.Leader, r.c.Learner
	c.term = 2
	kApplied, kBusy, kOld, kFresh, kStray := SnapKey{1, 2, 10}, SnapKey{1, 2, 11}, SnapKey{1, 1, 12}, SnapKey{1, 2, 13}, SnapKey{1, 2, 14}

	applied := r.files(L, prefixGen, kApplied, false)
	F.Snap.MarkApplied(kApplied)
	busy := r.files(L, prefixGen, kBusy, false)
	F.Snap.MarkApplied(kBusy)
	L.Snap.Register(kBusy, SnapPendingSend)
	old := r.files(L, prefixGen, kOld, false)
	fresh := r.files(L, prefixGen, kFresh, false)
	L.Snap.Register(kFresh, SnapGenerating)
	L.Snap.Deregister(kFresh, SnapGenerating)
	stray := r.files(L, prefixGen, kStray, true)
	strayDone := r.files(L, prefixGen, SnapKey{1, 2, 15}, false) // not temporary, never registered: age unknown
	junk := []string{SnapDir + "/notes.txt", SnapDir + "/" + designs.CheckpointPrefix + "snap-gen_1_1_000007.sst"}
	for _, p := range junk {
		require.NoError(t, L.Engine.WriteFile(p, []byte("x")))
	}
	revApplied := r.files(F, prefixRev, kApplied, false)
	F.Snap.Register(kApplied, SnapApplying)
	F.Snap.Deregister(kApplied, SnapApplying)
	revBusy := r.files(F, prefixRev, kBusy, false)
	F.Snap.Register(kBusy, SnapApplying)

	L.snapGCPass()
	F.snapGCPass()
	for _, p := range applied {
		assert.Equal(t, "snapshot GC: applied by the peer", why(L, p), p)
	}
	for _, p := range old {
		assert.Equal(t, "snapshot GC: older term", why(L, p), p)
	}
	for _, p := range stray {
		assert.Equal(t, "snapshot GC: timeout (0us old)", why(L, p), p)
	}
	for _, p := range revApplied {
		assert.Equal(t, "snapshot GC: applied", why(F, p), p)
	}
	for _, p := range append(append(append(append([]string(nil), busy...), fresh...), strayDone...), junk...) {
		assert.True(t, exists(L.FS, p), p)
	}
	for _, p := range revBusy {
		assert.True(t, exists(F.FS, p), p)
	}
	assert.Empty(t, r.s.Observations())

	// Past the timeout, an unregistered snapshot goes, a registered one
	// stays, however old.
	r.s.Advance(cfg.SnapGCTimeout + 1)
	L.snapGCPass()
	F.snapGCPass()
	for _, p := range fresh {
		assert.True(t, strings.HasPrefix(why(L, p), "snapshot GC: timeout ("), p)
	}
	for _, p := range busy {
		assert.True(t, exists(L.FS, p), p)
	}
	for _, p := range revBusy {
		assert.True(t, exists(F.FS, p), p)
	}
	assert.Empty(t, r.s.Observations())
	// What is stale and unregistered at quiescence is a leftover (a
	// file-leak for the coordinator), and so is anything in the snapshot
	// dir snapshot GC cannot parse (a checkpoint link left behind).
	assert.ElementsMatch(t, junk, L.leftovers())
	L.Snap.Deregister(kBusy, SnapPendingSend)
	assert.ElementsMatch(t, append(append([]string(nil), junk...), busy...), L.leftovers())
	assert.Empty(t, F.leftovers())
}

// TiKV #11746: the unsafe snapshot GC ignores the registry. Deleting the
// files of a registered snapshot is a snap-file-missing observation.
func TestSnapGCUnsafeDeletesRegistered(t *testing.T) {
	cfg := DefaultConfig("lease-retry")
	cfg.Variants.UnsafeSnapGC = true
	r := newGCRig(t, cfg)
	F := r.c.Learner
	k := SnapKey{1, 1, 10}
	files := r.files(F, prefixRev, k, false)
	F.Snap.Register(k, SnapApplying)
	r.s.Advance(cfg.SnapGCTimeout + 1)
	F.snapGCPass()
	obs := r.s.Observations()
	require.Len(t, obs, len(files))
	var named []string
	for _, o := range obs {
		assert.Equal(t, sim.KindSnapFileMissing, o.Kind)
		m := reSnapMissing.FindStringSubmatch(o.Detail)
		require.NotNil(t, m, o.Detail)
		assert.Equal(t, "Applying", m[3])
		named = append(named, strings.TrimPrefix(strings.Fields(o.Detail)[0], "n2:"))
	}
	assert.ElementsMatch(t, files, named)
	for _, p := range files {
		assert.False(t, exists(F.FS, p), p)
	}
}

// Between listing the snapshot dir and removing a file, snapshot GC may
// wait (here every filesystem call stalls for 1ms); a snapshot registered
// meanwhile must survive: the check runs again in the step of the removal.
// The unsafe variant removes it.
func TestSnapGCRechecksAtRemoval(t *testing.T) {
	for _, unsafe := range []bool{false, true} {
		cfg := DefaultConfig("lease-retry")
		cfg.Variants.UnsafeSnapGC = unsafe
		r := newGCRig(t, cfg)
		F := r.c.Learner
		k := SnapKey{1, 1, 10}
		files := r.files(F, prefixRev, k, false)
		F.Snap.Register(k, SnapReceiving)
		F.Snap.Deregister(k, SnapReceiving)
		F.Snap.MarkApplied(k) // stale: applied
		F.FS.SetFaults(vfsmem.Faults{StallPermille: 1000, StallMicros: sim.Millisecond})
		r.s.Spawn("n2-snap-gc", sim.ActorOptions{}, func(a *sim.Actor) { F.snapGCPass() })
		r.s.Spawn("receiver", sim.ActorOptions{}, func(a *sim.Actor) {
			a.Sleep(1500 * sim.Microsecond) // after the listing, before the removal
			F.Snap.Register(k, SnapReceiving)
		})
		res := r.s.Run()
		if !unsafe {
			assert.Empty(t, res.Observations)
			for _, p := range files {
				assert.True(t, exists(F.FS, p), p)
			}
			refused := 0
			for _, ev := range res.Events {
				if ev.Op == "snap-gc" && strings.Contains(ev.Result, "is registered Receiving") {
					refused++
				}
			}
			// The first removal refuses; the later files are skipped at
			// the first check.
			assert.Equal(t, 1, refused)
			continue
		}
		require.NotEmpty(t, res.Observations)
		for _, o := range res.Observations {
			assert.Equal(t, sim.KindSnapFileMissing, o.Kind)
			assert.Contains(t, o.Detail, "(applied) while registered Receiving")
		}
	}
}

// Disabled snapshot GC does nothing; an enabled one stops when the run is
// over.
func TestSnapGCLoopStops(t *testing.T) {
	for _, off := range []bool{true, false} {
		cfg := DefaultConfig("lease-retry")
		cfg.Variants.NoSnapGC = off
		r := newGCRig(t, cfg)
		L := r.c.Leader
		stale := r.files(L, prefixGen, SnapKey{1, 1, 3}, true)
		r.s.Spawn("snap-gc", sim.ActorOptions{}, L.SnapGCLoop)
		r.s.Spawn("stop", sim.ActorOptions{}, func(a *sim.Actor) {
			a.Sleep(3 * cfg.SnapGCInterval)
			r.c.done = true
		})
		res := r.s.Run()
		require.Equal(t, sim.EndDone, res.End)
		for _, p := range stale {
			assert.Equal(t, off, exists(L.FS, p), "no-snap-gc %v: %s", off, p)
		}
	}
}
