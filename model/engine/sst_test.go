package engine

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
)

func sampleRecords() []Record {
	return []Record{
		{Key: "k02", Seq: 3, Kind: KindPut, Value: "v3"},
		{Key: "k01", Seq: 1, Kind: KindPut, Value: "v1"},
		{Key: "k02", Seq: 7, Kind: KindDelete},
		{Key: "k01", Seq: 9, Kind: KindPut, Value: "v9........"},
		{Key: "k00", Seq: 5, Kind: KindPut, Value: ""},
		{Key: "", Seq: 2, Kind: KindPut, Value: "empty key"},
		// A value holding the footer magic and binary bytes must not confuse
		// the decoder.
		{Key: "k03", Seq: 4, Kind: KindPut, Value: "1TSS\x00\xff\x01TSS1"},
	}
}

func TestSSTRoundTripSortsKeyAscSeqDesc(t *testing.T) {
	in := sampleRecords()
	orig := slices.Clone(in)
	b := EncodeSST(in)
	assert.Equal(t, orig, in, "EncodeSST must not reorder its argument")

	got, err := DecodeSST(b)
	require.NoError(t, err)
	want := []Record{
		{Key: "", Seq: 2, Kind: KindPut, Value: "empty key"},
		{Key: "k00", Seq: 5, Kind: KindPut, Value: ""},
		{Key: "k01", Seq: 9, Kind: KindPut, Value: "v9........"},
		{Key: "k01", Seq: 1, Kind: KindPut, Value: "v1"},
		{Key: "k02", Seq: 7, Kind: KindDelete},
		{Key: "k02", Seq: 3, Kind: KindPut, Value: "v3"},
		{Key: "k03", Seq: 4, Kind: KindPut, Value: "1TSS\x00\xff\x01TSS1"},
	}
	assert.Equal(t, want, got)

	// The footer says how many entries there are and carries the magic.
	foot := b[len(b)-sstFooterBytes:]
	assert.Equal(t, uint32(len(in)), binary.LittleEndian.Uint32(foot[0:]))
	assert.Equal(t, crc32.ChecksumIEEE(b[:len(b)-sstFooterBytes]), binary.LittleEndian.Uint32(foot[4:]))
	assert.Equal(t, uint32(sstMagic), binary.LittleEndian.Uint32(foot[8:]))
}

func TestSSTRoundTripRandom(t *testing.T) {
	p := sim.NewPRNG(42)
	for round := 0; round < 200; round++ {
		n := p.Intn(40)
		seen := map[[2]uint64]bool{}
		var in []Record
		for len(in) < n {
			k, seq := uint64(p.Intn(10)), uint64(1+p.Intn(100))
			if seen[[2]uint64{k, seq}] {
				continue // unique (key, seq): the order is then total
			}
			seen[[2]uint64{k, seq}] = true
			r := Record{Key: KeyName(int(k)), Seq: seq, Kind: KindPut, Value: strings.Repeat("x", p.Intn(300))}
			if p.Intn(4) == 0 {
				r.Kind, r.Value = KindDelete, ""
			}
			in = append(in, r)
		}
		got, err := DecodeSST(EncodeSST(in))
		require.NoError(t, err)
		want := slices.Clone(in)
		sort.Slice(want, func(i, j int) bool { return Less(want[i], want[j]) })
		if len(want) == 0 {
			want = []Record{}
		}
		require.Equal(t, want, got, "round %d", round)
		require.True(t, sort.SliceIsSorted(got, func(i, j int) bool {
			if got[i].Key != got[j].Key {
				return got[i].Key < got[j].Key
			}
			return got[i].Seq > got[j].Seq
		}))
	}
}

func TestSSTEmptyRecordSet(t *testing.T) {
	b := EncodeSST(nil)
	assert.Len(t, b, sstFooterBytes)
	got, err := DecodeSST(b)
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestSSTEncodeRejectsHugeRecords(t *testing.T) {
	assert.Panics(t, func() { EncodeSST([]Record{{Key: strings.Repeat("k", maxKeyBytes+1), Seq: 1, Kind: KindPut}}) })
	assert.Panics(t, func() {
		EncodeSST([]Record{{Key: "k", Seq: 1, Kind: KindPut, Value: strings.Repeat("v", maxValueBytes+1)}})
	})
	assert.NotPanics(t, func() { EncodeSST([]Record{{Key: strings.Repeat("k", maxKeyBytes), Seq: 1, Kind: KindPut}}) })
}

func requireCorrupt(t *testing.T, b []byte, what string) {
	t.Helper()
	recs, err := DecodeSST(b)
	require.Error(t, err, what)
	require.True(t, errors.Is(err, ErrCorrupt), "%s: %v does not wrap ErrCorrupt", what, err)
	require.Nil(t, recs, what)
}

func TestSSTTruncatedAtEveryLength(t *testing.T) {
	b := EncodeSST(sampleRecords())
	for n := 0; n < len(b); n++ {
		requireCorrupt(t, b[:n], "truncated to "+itoa(n))
	}
	// Cutting from the front is as bad as cutting from the back.
	for n := 1; n < len(b); n++ {
		requireCorrupt(t, b[n:], "first "+itoa(n)+" bytes cut")
	}
}

func TestSSTAnySingleFlippedByte(t *testing.T) {
	b := EncodeSST(sampleRecords())
	for i := range b {
		for _, mask := range []byte{0x01, 0x10, 0x80, 0xff} {
			c := slices.Clone(b)
			c[i] ^= mask
			requireCorrupt(t, c, "byte "+itoa(i)+" flipped")
		}
	}
}

func TestSSTEmptyFile(t *testing.T) {
	requireCorrupt(t, nil, "nil")
	requireCorrupt(t, []byte{}, "empty")
	_, err := DecodeSST(nil)
	assert.Contains(t, err.Error(), "shorter than the footer")
}

func TestSSTBadMagic(t *testing.T) {
	b := EncodeSST(sampleRecords())
	binary.LittleEndian.PutUint32(b[len(b)-4:], 0x53535432) // "SST2"
	requireCorrupt(t, b, "bad magic")
	_, err := DecodeSST(b)
	assert.Contains(t, err.Error(), "bad magic 53535432")
}

// seal appends a valid footer (checksum and magic) to body with the given
// count, so that only the structural checks can reject it.
func seal(body []byte, count uint32) []byte {
	b := slices.Clone(body)
	b = binary.LittleEndian.AppendUint32(b, count)
	b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(body))
	return binary.LittleEndian.AppendUint32(b, sstMagic)
}

func TestSSTWrongCount(t *testing.T) {
	recs := sampleRecords()
	b := EncodeSST(recs)
	body := b[:len(b)-sstFooterBytes]
	n := uint32(len(recs))
	for _, count := range []uint32{0, n - 1, n + 1, 1 << 16, 0xff000001, 0xffffffff} {
		requireCorrupt(t, seal(body, count), "count "+itoa(int(count)))
		_, err := DecodeSST(seal(body, count))
		assert.Contains(t, err.Error(), "footer says")
	}
	// An empty body claiming entries is caught too (and the bogus count
	// must not size an allocation: 0xffffffff records would be ~200 GB).
	requireCorrupt(t, seal(nil, 0xffffffff), "empty body, huge count")
	got, err := DecodeSST(seal(body, n))
	require.NoError(t, err)
	assert.Len(t, got, len(recs))
}

func TestSSTUnknownKind(t *testing.T) {
	for _, kind := range []byte{0, 3, 0x7f, 0xff} {
		b := EncodeSST([]Record{{Key: "k", Seq: 1, Kind: KindPut, Value: "v"}})
		body := slices.Clone(b[:len(b)-sstFooterBytes])
		body[2+1+8] = kind // u16 key_len, "k", u64 seq, then the kind byte
		requireCorrupt(t, seal(body, 1), "kind "+itoa(int(kind)))
		_, err := DecodeSST(seal(body, 1))
		assert.Contains(t, err.Error(), "has kind")
	}
}

func TestSSTStructuralTruncationWithValidChecksum(t *testing.T) {
	b := EncodeSST([]Record{{Key: "key", Seq: 1, Kind: KindPut, Value: "value"}})
	body := b[:len(b)-sstFooterBytes]
	cases := map[string][]byte{
		"truncated key length": append(slices.Clone(body), 0x01),
		"truncated entry":      body[:2+3+8],       // no kind, no value length
		"truncated value":      body[:len(body)-1], // value one byte short
	}
	for want, body := range cases {
		requireCorrupt(t, seal(body, 1), want)
		_, err := DecodeSST(seal(body, 1))
		assert.Contains(t, err.Error(), want)
	}
	// A key length pointing far past the end.
	huge := binary.LittleEndian.AppendUint16(nil, 0xffff)
	requireCorrupt(t, seal(append(huge, "k"...), 1), "huge key length")
}

func TestRecordString(t *testing.T) {
	assert.Equal(t, "k03@7=v7", Record{Key: "k03", Seq: 7, Kind: KindPut, Value: "v7......"}.String())
	assert.Equal(t, "k03@9 del", Record{Key: "k03", Seq: 9, Kind: KindDelete}.String())
	assert.Equal(t, "k01@1=abc", Record{Key: "k01", Seq: 1, Kind: KindPut, Value: "abc"}.String())
	// A leading dot is not treated as padding.
	assert.Equal(t, "k01@1=.x", Record{Key: "k01", Seq: 1, Kind: KindPut, Value: ".x"}.String())
	assert.Equal(t, "k007", KeyName(7))
	assert.Equal(t, "k123", KeyName(123))
}

func itoa(n int) string { return strconv.Itoa(n) }
