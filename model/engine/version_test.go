package engine

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLeaseCovers(t *testing.T) {
	l := &Lease{Files: []uint64{3, 5}, Expiry: 100}
	assert.True(t, l.Valid(99))
	assert.False(t, l.Valid(100))
	assert.True(t, l.covers(3, 99, 0))
	assert.False(t, l.covers(4, 99, 0), "not a leased file")
	assert.False(t, l.covers(3, 100, 0), "expired, no grace")
	assert.True(t, l.covers(5, 149, 50), "within grace")
	assert.False(t, l.covers(5, 150, 50), "grace over")
	l.released = true
	assert.False(t, l.Valid(0))
	assert.False(t, l.covers(3, 0, 1000), "a released lease protects nothing")
}

func TestVersionHelpers(t *testing.T) {
	a, b, c := &FileMeta{Num: 1}, &FileMeta{Num: 7}, &FileMeta{Num: 12}
	v := &Version{Levels: [NumLevels][]*FileMeta{{a, b}, {c}}}
	assert.Equal(t, []*FileMeta{a, b, c}, v.Files())
	assert.True(t, v.Contains(7))
	assert.False(t, v.Contains(8))
	assert.Equal(t, "000001.sst 000007.sst 000012.sst", Names(v.Files()))
	assert.Equal(t, "", Names(nil))
	assert.Equal(t, []*FileMeta{a, c}, without([]*FileMeta{a, b, c}, []*FileMeta{{Num: 7}}))
	put := func(k string, seq uint64) Record { return Record{Key: k, Seq: seq, Kind: KindPut} }
	lo, hi := KeyRange([]Record{put("k5", 1), put("k1", 2), put("k9", 3)})
	assert.Equal(t, [2]string{"k1", "k9"}, [2]string{lo, hi})
	lo, hi = KeyRange(nil)
	assert.Equal(t, [2]string{"", ""}, [2]string{lo, hi})
}

// TestPaddedNames: file names are fmt's zero-padded decimal, byte for byte
// (they are in trace hashes and on disk).
func TestPaddedNames(t *testing.T) {
	for _, n := range []uint64{0, 7, 123456, 1234567, 1<<64 - 1} {
		if got, want := sstName(n), fmt.Sprintf("%06d.sst", n); got != want {
			t.Fatalf("sstName(%d) = %q, want %q", n, got, want)
		}
	}
}
