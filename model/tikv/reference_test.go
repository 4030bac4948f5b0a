package tikv

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
)

func put(k string, seq uint64, v string) Record {
	return Record{Key: k, Seq: seq, Kind: KindPut, Value: v}
}
func del(k string, seq uint64) Record { return Record{Key: k, Seq: seq, Kind: KindDelete} }

func whole() *Region { return &Region{ID: 1} }

func refOf(recs ...Record) *Reference {
	r := &Reference{}
	for _, rec := range recs {
		r.Append(rec)
	}
	return r
}

func TestVisibleNewestVersionAtSeq(t *testing.T) {
	// Appended out of order on purpose: the reference must not depend on
	// log order.
	ref := refOf(put("b", 2, "b2"), put("a", 1, "a1"), put("a", 5, "a5"), put("a", 3, "a3"), put("c", 4, "c4"))
	cases := []struct {
		seq  uint64
		want []Record
	}{
		{0, nil},
		{1, []Record{put("a", 1, "a1")}},
		{2, []Record{put("a", 1, "a1"), put("b", 2, "b2")}},
		{3, []Record{put("a", 3, "a3"), put("b", 2, "b2")}},
		{4, []Record{put("a", 3, "a3"), put("b", 2, "b2"), put("c", 4, "c4")}},
		{5, []Record{put("a", 5, "a5"), put("b", 2, "b2"), put("c", 4, "c4")}},
		{1 << 62, []Record{put("a", 5, "a5"), put("b", 2, "b2"), put("c", 4, "c4")}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, ref.At(whole(), c.seq), "seq %d", c.seq)
	}
}

func TestVisibleTombstonesHide(t *testing.T) {
	ref := refOf(put("a", 1, "a1"), del("a", 2), put("a", 3, "a3"), del("b", 4), put("b", 5, "b5"), del("b", 6))
	assert.Equal(t, []Record{put("a", 1, "a1")}, ref.At(whole(), 1))
	assert.Empty(t, ref.At(whole(), 2), "a is deleted at 2")
	assert.Equal(t, []Record{put("a", 3, "a3")}, ref.At(whole(), 3))
	assert.Equal(t, []Record{put("a", 3, "a3")}, ref.At(whole(), 4), "a tombstone of a missing key hides nothing else")
	assert.Equal(t, []Record{put("a", 3, "a3"), put("b", 5, "b5")}, ref.At(whole(), 5))
	assert.Equal(t, []Record{put("a", 3, "a3")}, ref.At(whole(), 6))
	// A tombstone is never itself returned.
	for seq := uint64(0); seq <= 6; seq++ {
		for _, r := range ref.At(whole(), seq) {
			assert.Equal(t, KindPut, r.Kind)
		}
	}
}

func TestVisibleRegionRange(t *testing.T) {
	ref := refOf(put("a", 1, "a"), put("b", 2, "b"), put("c", 3, "c"), put("d", 4, "d"))
	r := &Region{Start: "b", End: "d"}
	assert.Equal(t, []Record{put("b", 2, "b"), put("c", 3, "c")}, ref.At(r, 10), "[b, d): start inclusive, end exclusive")
	assert.Equal(t, []Record{put("c", 3, "c"), put("d", 4, "d")}, ref.At(&Region{Start: "c"}, 10), "End \"\" is unbounded")
	assert.Equal(t, []Record{put("a", 1, "a")}, ref.At(&Region{End: "b"}, 10))
	assert.Empty(t, ref.At(&Region{Start: "x", End: "z"}, 10))
	// The newest version is picked before the range filter: a key outside the
	// region never leaks in through an older version.
	assert.Empty(t, refOf(put("z", 1, "z1"), put("z", 2, "z2")).At(&Region{End: "m"}, 5))
}

func TestVisibleSeqZeroAndEmpty(t *testing.T) {
	assert.Empty(t, refOf().At(whole(), 100))
	assert.Empty(t, refOf(put("a", 1, "a")).At(whole(), 0))
	// Records with seq 0 (never assigned by the engine) are visible at 0.
	assert.Equal(t, []Record{put("a", 0, "a0")}, refOf(put("a", 0, "a0")).At(whole(), 0))
}

func TestVisibleDoesNotModifyInput(t *testing.T) {
	in := []Record{put("b", 2, "b"), put("a", 1, "a"), put("a", 3, "a3")}
	cp := append([]Record(nil), in...)
	_ = visible(in, whole(), 10)
	assert.Equal(t, cp, in)
}

// The engine's read path (files → visible) and the reference (log →
// visible) agree on a random history at every sequence number.
func TestVisibleMatchesBruteForce(t *testing.T) {
	p := sim.NewPRNG(7)
	var log []Record
	for seq := uint64(1); seq <= 300; seq++ {
		k := KeyName(p.Intn(12))
		if p.Intn(5) == 0 {
			log = append(log, del(k, seq))
		} else {
			log = append(log, put(k, seq, value(seq, 4)))
		}
	}
	region := &Region{Start: KeyName(2), End: KeyName(9)}
	ref := refOf(log...)
	for seq := uint64(0); seq <= 300; seq += 7 {
		// Brute force: replay the log in order up to seq.
		state := map[string]Record{}
		for _, r := range log {
			if r.Seq > seq {
				break
			}
			if r.Kind == KindDelete {
				delete(state, r.Key)
			} else {
				state[r.Key] = r
			}
		}
		got := ref.At(region, seq)
		n := 0
		for k, r := range state {
			if region.Contains(k) {
				n++
				assert.Contains(t, got, r)
			}
		}
		require.Len(t, got, n, "seq %d", seq)
		for i := 1; i < len(got); i++ {
			require.Less(t, got[i-1].Key, got[i].Key)
		}
	}
}

func TestRegionEpochLease(t *testing.T) {
	r := &Region{Start: "k002", End: "k005"}
	assert.False(t, r.Contains("k001"))
	assert.True(t, r.Contains("k002"))
	assert.True(t, r.Contains("k004"))
	assert.False(t, r.Contains("k005"))
	assert.True(t, (&Region{Start: "k002"}).Contains("zzz"))
	assert.Equal(t, "v3/c2", Epoch{Version: 3, ConfVer: 2}.String())

	// overlaps: a file's [Smallest, Largest] against [Start, End).
	f := &FileMeta{Smallest: "k003", Largest: "k006"}
	assert.True(t, r.Overlaps(f))
	assert.True(t, whole().Overlaps(f))
	assert.False(t, r.Overlaps(&FileMeta{Smallest: "k005", Largest: "k009"}), "End is exclusive")
	assert.True(t, r.Overlaps(&FileMeta{Smallest: "k000", Largest: "k002"}), "Start is inclusive")
	assert.False(t, r.Overlaps(&FileMeta{Smallest: "k000", Largest: "k001"}))
}

func TestValueRendering(t *testing.T) {
	assert.Equal(t, "v12.....", value(12, 8))
	assert.Equal(t, "v12345", value(12345, 3), "never truncated")
}
