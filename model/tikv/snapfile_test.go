package tikv

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/model/engine"
)

func sampleMeta() SnapMeta {
	return SnapMeta{
		Key: SnapKey{Region: 2, Term: 3, Index: 17}, Seq: 42, Epoch: Epoch{Version: 4, ConfVer: 2},
		Start: "k003", End: "k008",
		Size: [NumCFs]int64{120, 36, 0}, CRC: [NumCFs]uint32{0xdeadbeef, 0x01, 0},
	}
}

func TestSnapMetaRoundTrip(t *testing.T) {
	for _, m := range []SnapMeta{
		sampleMeta(),
		{}, // everything zero: an empty snapshot of an unbounded region
		{Key: SnapKey{1, 1, 0}, Start: "", End: "", Size: [NumCFs]int64{1 << 40, 7, 9}, CRC: [NumCFs]uint32{^uint32(0), 0, 1}},
		{Key: SnapKey{Region: 1<<63 + 5, Term: 1, Index: 1}, Start: `a "quoted" key`, End: "with\ttab and space"},
	} {
		b := m.Encode()
		got, err := DecodeSnapMeta(b)
		require.NoError(t, err, "%s", b)
		assert.Equal(t, m, got)
		assert.Equal(t, b, got.Encode(), "encoding is canonical")
		r := got.region()
		assert.Equal(t, &Region{ID: m.Key.Region, Start: m.Start, End: m.End, Epoch: m.Epoch}, r)
	}
	sm := sampleMeta()
	assert.Equal(t, "key=2_3_17 seq=42 epoch=4/2 start=\"k003\" end=\"k008\"\n"+
		"cf=default size=120 crc32=deadbeef\n"+
		"cf=lock size=36 crc32=00000001\n"+
		"cf=write size=0 crc32=00000000\n", string(sm.Encode()))
}

func TestSnapMetaCorruption(t *testing.T) {
	sm := sampleMeta()
	good := string(sm.Encode())
	lines := strings.Split(strings.TrimSuffix(good, "\n"), "\n")
	cases := map[string]string{
		"empty":             "",
		"header only":       lines[0] + "\n",
		"a cf line missing": strings.Join(lines[:3], "\n") + "\n",
		"an extra line":     good + "cf=default size=1 crc32=00000000\n",
		"bad header":        strings.Replace(good, "seq=42", "seq=x", 1),
		"bad key":           strings.Replace(good, "key=2_3_17", "key=2_3", 1),
		"non-numeric key":   strings.Replace(good, "key=2_3_17", "key=2_x_17", 1),
		"cf out of order":   strings.Replace(strings.Replace(good, "cf=lock", "cf=LOCK", 1), "cf=default", "cf=lock", 1),
		"unknown cf":        strings.Replace(good, "cf=write", "cf=raft", 1),
		"bad size":          strings.Replace(good, "size=120", "size=abc", 1),
		"bad crc":           strings.Replace(good, "crc32=deadbeef", "crc32=zz", 1),
		"unquoted start":    strings.Replace(good, `start="k003"`, `start=k003`, 1),
	}
	for name, data := range cases {
		_, err := DecodeSnapMeta([]byte(data))
		require.Error(t, err, name)
		assert.True(t, errors.Is(err, engine.ErrCorrupt), "%s: %v", name, err)
	}

	// One byte flipped as the wire does it (XOR 0x5a): most flips do not
	// decode. The meta has no checksum of its own, and the parser ignores
	// what follows the last number of a line, so some do: either to the
	// same value (a digit after the end of a checksum: harmless) or to a
	// different range, checksum or size, which the learner catches (it
	// compares the range with the region's at the same epoch, the
	// checksums and sizes with the data). Key, sequence number and epoch
	// never decode to another value.
	same, changed := 0, 0
	for i := range good {
		b := []byte(good)
		b[i] ^= 0x5a
		m, err := DecodeSnapMeta(b)
		if err != nil {
			require.True(t, errors.Is(err, engine.ErrCorrupt), "flip %d: %v", i, err)
			continue
		}
		if m == sm {
			same++
			continue
		}
		changed++
		assert.Equal(t, sm.Key, m.Key, "flip %d", i)
		assert.Equal(t, sm.Seq, m.Seq, "flip %d", i)
		assert.Equal(t, sm.Epoch, m.Epoch, "flip %d", i)
		assert.True(t, m.Start != sm.Start || m.End != sm.End || m.CRC != sm.CRC || m.Size != sm.Size, "flip %d: %+v", i, m)
	}
	t.Logf("of %d single-byte flips, %d decode to the same meta and %d to a different range, checksum or size", len(good), same, changed)
}

func sampleLocks() []Record {
	return []Record{
		{CF: CFLock, Key: "k001", Seq: 9, Kind: KindPut, Value: "lock k001 primary=k001 ttl=3000"},
		{CF: CFLock, Key: "k001", Seq: 4, Kind: KindDelete},
		{CF: CFLock, Key: "k007", Seq: 5, Kind: KindPut, Value: "tab\tinside"},
		{CF: CFLock, Key: "k009", Seq: 6, Kind: KindPut, Value: ""},
	}
}

func TestLockFileRoundTrip(t *testing.T) {
	for _, recs := range [][]Record{nil, sampleLocks(), sampleLocks()[:1]} {
		b := EncodeLockFile(recs)
		got, err := DecodeLockFile(b)
		require.NoError(t, err, "%q", b)
		assert.Equal(t, recs, got)
		via, err := decodeCF(CFLock, encodeCF(CFLock, recs))
		require.NoError(t, err)
		assert.Equal(t, recs, via)
	}
	empty := string(EncodeLockFile(nil))
	assert.Equal(t, fmt.Sprintf("#crc32=%08x count=0\n", crcOf(nil)), empty)
}

func TestLockFileCorruption(t *testing.T) {
	good := EncodeLockFile(sampleLocks())
	// Every single flipped byte is caught.
	for i := range good {
		for _, mask := range []byte{0x01, 0x5a, 0x80} {
			b := append([]byte(nil), good...)
			b[i] ^= mask
			_, err := DecodeLockFile(b)
			require.Error(t, err, "byte %d ^ %#x", i, mask)
			require.True(t, errors.Is(err, engine.ErrCorrupt), "byte %d: %v", i, err)
		}
	}
	// Every truncation is caught.
	for n := 0; n < len(good); n++ {
		_, err := DecodeLockFile(good[:n])
		require.True(t, errors.Is(err, engine.ErrCorrupt), "truncated to %d: %v", n, err)
	}
	// A body that checks out but does not parse, or whose count is wrong.
	reseal := func(body string, count int) []byte {
		return []byte(fmt.Sprintf("%s#crc32=%08x count=%d\n", body, crcOf([]byte(body)), count))
	}
	for name, b := range map[string][]byte{
		"wrong count":            reseal("k001\t1\t1\tv\n", 2),
		"three fields":           reseal("k001\t1\t1\n", 1),
		"bad seq":                reseal("k001\tx\t1\tv\n", 1),
		"unknown kind":           reseal("k001\t1\t3\tv\n", 1),
		"bad footer":             []byte("k001\t1\t1\tv\n#crc32=zz count=1\n"),
		"no footer":              []byte("k001\t1\t1\tv\n"),
		"no final nl":            []byte(strings.TrimSuffix(string(good), "\n")),
		"two files concatenated": append(append([]byte(nil), good...), good...),
	} {
		_, err := DecodeLockFile(b)
		require.Error(t, err, name)
		assert.True(t, errors.Is(err, engine.ErrCorrupt), "%s: %v", name, err)
	}
}

func TestDecodeCFTagsColumnFamily(t *testing.T) {
	recs := []Record{{Key: "k001", Seq: 2, Kind: KindPut, Value: "v"}, {Key: "k002", Seq: 1, Kind: KindDelete}}
	for _, cf := range []CF{CFDefault, CFWrite} {
		got, err := decodeCF(cf, encodeCF(cf, recs))
		require.NoError(t, err)
		for _, r := range got {
			assert.Equal(t, cf, r.CF)
		}
		assert.Len(t, got, 2)
	}
	_, err := decodeCF(CFDefault, []byte("not an sst"))
	assert.True(t, errors.Is(err, engine.ErrCorrupt))
	_, err = decodeCF(CFLock, engine.EncodeSST(recs))
	assert.True(t, errors.Is(err, engine.ErrCorrupt), "an SST is not a lock file")
}

func TestSnapKeyAndNames(t *testing.T) {
	k := SnapKey{Region: 12, Term: 3, Index: 456}
	assert.Equal(t, "12_3_456", k.String())
	got, ok := parseSnapKey(k.String())
	require.True(t, ok)
	assert.Equal(t, k, got)
	for _, bad := range []string{"", "1_2", "1_2_3_4", "a_2_3", "1__3", "1_2_-3", "1_2_3 ", "18446744073709551616_1_1"} {
		_, ok := parseSnapKey(bad)
		assert.False(t, ok, "%q", bad)
	}
	max, ok := parseSnapKey("18446744073709551615_0_0")
	require.True(t, ok)
	assert.Equal(t, SnapKey{Region: ^uint64(0)}, max)

	assert.Equal(t, "/snap/gen_12_3_456_default.sst", snapFile(prefixGen, k, CFDefault))
	assert.Equal(t, "/snap/rev_12_3_456_lock.dat", snapFile(prefixRev, k, CFLock))
	assert.Equal(t, "/snap/gen_12_3_456_write.sst", snapFile(prefixGen, k, CFWrite))
	assert.Equal(t, "/snap/rev_12_3_456.meta", snapMeta(prefixRev, k))
}

func TestParseSnapPath(t *testing.T) {
	k := SnapKey{Region: 7, Term: 2, Index: 31}
	// Every name the pipeline makes parses back to its prefix and key.
	for _, prefix := range []string{prefixGen, prefixRev} {
		var names []string
		for _, cf := range CFs {
			names = append(names, snapFile(prefix, k, cf))
		}
		names = append(names, snapMeta(prefix, k))
		for _, p := range names {
			for _, tmp := range []bool{false, true} {
				name := p
				if tmp {
					name += ".tmp"
				}
				for _, form := range []string{name, strings.TrimPrefix(name, SnapDir+"/")} {
					gotPrefix, gotKey, gotTmp, ok := parseSnapPath(form)
					require.True(t, ok, form)
					assert.Equal(t, prefix, gotPrefix, form)
					assert.Equal(t, k, gotKey, form)
					assert.Equal(t, tmp, gotTmp, form)
				}
			}
		}
	}
	for _, bad := range []string{
		"MANIFEST", "000001.sst", "ckpt_snap-gen_1_1_000001.sst", "gen", "gen_", "gen_7_2", "gen_7_2.meta",
		"snd_7_2_31.meta", "GEN_7_2_31.meta", "gen_x_2_31_default.sst", "rev_7_2_y.meta.tmp",
	} {
		_, _, _, ok := parseSnapPath(bad)
		assert.False(t, ok, bad)
	}
	// Only a ".tmp" suffix marks a temporary file.
	_, _, tmp, ok := parseSnapPath("gen_7_2_31_default.sst.tmp.old")
	assert.True(t, ok)
	assert.False(t, tmp)
}
