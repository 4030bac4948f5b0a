package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

func sizeOf(files []*FileMeta) int64 {
	var n int64
	for _, f := range files {
		n += f.SizeBytes
	}
	return n
}

// A version reference and a lease each keep compacted-away files pinned;
// the peak remembers them after they are released and deleted.
func TestPeakPinnedBytes(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions()).withGC()
	e := r.e
	var refInputs, leaseInputs []*FileMeta
	r.run(t, func(a *sim.Actor) {
		assert.Zero(t, e.PinnedBytes())
		e.Put("a", "1")
		assert.NoError(t, e.Flush())
		e.Put("b", "2")
		assert.NoError(t, e.Flush())
		v := e.Current()
		e.Ref(v)
		refInputs = v.Files()
		assert.NoError(t, e.Compact())
		assert.Equal(t, sizeOf(refInputs), e.PinnedBytes(), "held by a version reference")
		e.Unref(v)
		assert.Zero(t, e.PinnedBytes(), "obsolete and unpinned: garbage, not pinned")
		a.Sleep(10 * e.opts.GCInterval)
		assert.Equal(t, sizeOf(refInputs), e.PeakPinnedBytes())

		e.Put("a", "3") // overlaps the L1 file: the compaction rewrites both
		assert.NoError(t, e.Flush())
		listed := e.Current().Files()
		l := e.AcquireLease("reader", listed, sim.Second)
		assert.NoError(t, e.Compact())
		for _, f := range listed {
			if !e.Current().Contains(f.Num) {
				leaseInputs = append(leaseInputs, f)
			}
		}
		assert.Equal(t, sizeOf(leaseInputs), e.PinnedBytes(), "compacted-away files held by a lease")
		e.ReleaseLease(l)
		a.Sleep(10 * e.opts.GCInterval)
		assert.Zero(t, e.PinnedBytes())
	})
	require.NotEmpty(t, refInputs)
	require.NotEmpty(t, leaseInputs)
	assert.Equal(t, max(sizeOf(refInputs), sizeOf(leaseInputs)), e.PeakPinnedBytes())
}
