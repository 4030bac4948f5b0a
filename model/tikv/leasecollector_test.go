package tikv

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
)

// The file's read waits about 36ms on the limiter (2.4 KB at 64 KiB/s);
// a 2ms lease expires long before. GC deletes the compacted-away file as
// soon as the lease ends (not before: no gc-deleted-pinned-file), the open
// fails and the generator panics as TiKV did. The lease and the engine
// snapshot are released on the way out of the panic.
func TestLeaseCollectorExpiredLeasePanics(t *testing.T) {
	cfg := DefaultConfig("lease")
	cfg.LeaseTTL = 2 * sim.Millisecond
	var alive bool
	w := runCollect(t, cfg, sim.Config{}, 20, compactAfter(t, 100*sim.Microsecond, &alive))
	assert.False(t, w.done, "the generator died")
	assert.Equal(t, 1, w.g.attempts)

	leases := eventsOf(w.res.Events, "lease")
	require.Len(t, leases, 1)
	var id int
	var expiry string
	_, err := fmt.Sscanf(leases[0].Detail, "lease %d on 1 files until %s", &id, &expiry)
	require.NoError(t, err, leases[0].Detail)
	assert.Equal(t, (leases[0].Time + cfg.LeaseTTL).String(), expiry)

	ev, ok := w.n.FS.Deleted(w.listed[0].Path)
	require.True(t, ok)
	assert.Equal(t, "disturb", ev.Actor, "the compacting actor deletes (the prompt deleter)")
	assert.GreaterOrEqual(t, ev.Time, leases[0].Time+cfg.LeaseTTL, "the deletion waited for the lease to end")

	k := kinds(w.res.Observations)
	require.Equal(t, map[sim.Kind]int{sim.KindOpenDeletedFile: 1, sim.KindPanic: 1}, k)
	odf := ofKind(w.res.Observations, sim.KindOpenDeletedFile)[0]
	pan := ofKind(w.res.Observations, sim.KindPanic)[0]
	assert.Equal(t, "snap-gen", pan.Actor)
	assert.Equal(t, odf.Step, pan.Step)
	assert.Greater(t, pan.Time, ev.Time)
	assert.Equal(t, "called `Result::unwrap()` on an `Err` value: \"open: No such file or directory (os error 2)\" [open "+w.listed[0].Path+": file does not exist]", pan.Detail)
	assert.Contains(t, pan.Stack, "designs.leaseOnly.Collect")
	checkReleased(t, w)
}

// A lease longer than the build protects the file as a pin does; GC
// deletes nothing listed until it is released.
func TestLeaseCollectorLongLeaseHolds(t *testing.T) {
	cfg := DefaultConfig("lease")
	cfg.LeaseTTL = sim.Second
	var alive bool
	w := runCollect(t, cfg, sim.Config{}, 20, compactAfter(t, 100*sim.Microsecond, &alive))
	require.NoError(t, w.err)
	assert.True(t, alive)
	assert.Empty(t, w.res.Observations)
	assert.Equal(t, []string{w.listed[0].Name()}, w.got.Files)
	assert.Equal(t, w.c.Ref.At(w.region, w.got.Seq), w.got.Data[CFDefault])
	checkReleased(t, w)
}

// No renewal: a lease shorter than the limiter's wait expires even if
// nothing else happens, and nothing re-checks it before the open; with no
// compaction the file stays live, so the open still succeeds.
func TestLeaseCollectorNeverRenewsOrRechecks(t *testing.T) {
	cfg := DefaultConfig("lease")
	cfg.LeaseTTL = sim.Millisecond
	w := runCollect(t, cfg, sim.Config{}, 20, nil)
	require.NoError(t, w.err)
	assert.Empty(t, w.res.Observations)
	assert.Empty(t, eventsOf(w.res.Events, "renew"))
	leases := eventsOf(w.res.Events, "lease")
	opens := eventsOf(w.res.Events, "open")
	require.Len(t, leases, 1)
	require.Len(t, opens, 1)
	assert.Greater(t, opens[0].Time, leases[0].Time+cfg.LeaseTTL, "opened after expiry, unchecked")
	checkReleased(t, w)
}
