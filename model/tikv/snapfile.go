package tikv

import (
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"

	"github.com/snapsim/snapsim/model/engine"
)

// The lock column family travels as a plain file, as in TiKV: one record
// per line ("key<TAB>seq<TAB>kind<TAB>value") and a footer line
// "#crc32=XXXXXXXX count=N" over everything before it.

// EncodeLockFile encodes records (already sorted) as a plain lock file.
func EncodeLockFile(records []Record) []byte {
	var b strings.Builder
	for _, r := range records {
		fmt.Fprintf(&b, "%s\t%d\t%d\t%s\n", r.Key, r.Seq, r.Kind, r.Value)
	}
	body := b.String()
	return []byte(fmt.Sprintf("%s#crc32=%08x count=%d\n", body, crc32.ChecksumIEEE([]byte(body)), len(records)))
}

// DecodeLockFile checks and decodes a plain lock file.
func DecodeLockFile(data []byte) ([]Record, error) {
	s := string(data)
	i := strings.LastIndex(s, "#crc32=")
	if i < 0 || !strings.HasSuffix(s, "\n") {
		return nil, fmt.Errorf("%w: lock file without footer", engine.ErrCorrupt)
	}
	body, foot := s[:i], strings.TrimSpace(s[i:])
	var sum uint32
	var count int
	if _, err := fmt.Sscanf(foot, "#crc32=%08x count=%d", &sum, &count); err != nil {
		return nil, fmt.Errorf("%w: lock footer %q", engine.ErrCorrupt, foot)
	}
	if crc32.ChecksumIEEE([]byte(body)) != sum {
		return nil, fmt.Errorf("%w: lock file crc32 mismatch", engine.ErrCorrupt)
	}
	var out []Record
	for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.SplitN(line, "\t", 4)
		if len(f) != 4 {
			return nil, fmt.Errorf("%w: lock line %q", engine.ErrCorrupt, line)
		}
		seq, err1 := strconv.ParseUint(f[1], 10, 64)
		kind, err2 := strconv.ParseUint(f[2], 10, 8)
		if err1 != nil || err2 != nil || (Kind(kind) != KindPut && Kind(kind) != KindDelete) {
			return nil, fmt.Errorf("%w: lock line %q", engine.ErrCorrupt, line)
		}
		out = append(out, Record{CF: CFLock, Key: f[0], Seq: seq, Kind: Kind(kind), Value: f[3]})
	}
	if len(out) != count {
		return nil, fmt.Errorf("%w: lock file has %d records, footer says %d", engine.ErrCorrupt, len(out), count)
	}
	return out, nil
}

// encodeCF encodes one column family's snapshot file.
func encodeCF(cf CF, records []Record) []byte {
	if cf == CFLock {
		return EncodeLockFile(records)
	}
	return engine.EncodeSST(records)
}

// decodeCF decodes one column family's snapshot file, tagging records.
func decodeCF(cf CF, data []byte) ([]Record, error) {
	if cf == CFLock {
		return DecodeLockFile(data)
	}
	recs, err := engine.DecodeSST(data)
	for i := range recs {
		recs[i].CF = cf
	}
	return recs, err
}

// SnapMeta is a snapshot's meta file: what it covers and, per column
// family, the size and crc32 of its file. It is written last (synced, then
// renamed into place), so a snapshot without a meta file is half-built.
type SnapMeta struct {
	Key        SnapKey
	Seq        uint64
	Epoch      Epoch
	Start, End string
	Size       [NumCFs]int64
	CRC        [NumCFs]uint32
}

// Encode renders the meta file.
func (m *SnapMeta) Encode() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "key=%s seq=%d epoch=%d/%d start=%q end=%q\n", m.Key, m.Seq, m.Epoch.Version, m.Epoch.ConfVer, m.Start, m.End)
	for _, cf := range CFs {
		fmt.Fprintf(&b, "cf=%s size=%d crc32=%08x\n", cf, m.Size[cf], m.CRC[cf])
	}
	return []byte(b.String())
}

// DecodeSnapMeta parses a meta file.
func DecodeSnapMeta(data []byte) (SnapMeta, error) {
	var m SnapMeta
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 1+NumCFs {
		return m, fmt.Errorf("%w: meta has %d lines, want %d", engine.ErrCorrupt, len(lines), 1+NumCFs)
	}
	var key string
	if _, err := fmt.Sscanf(lines[0], "key=%s seq=%d epoch=%d/%d start=%q end=%q",
		&key, &m.Seq, &m.Epoch.Version, &m.Epoch.ConfVer, &m.Start, &m.End); err != nil {
		return m, fmt.Errorf("%w: meta header %q: %v", engine.ErrCorrupt, lines[0], err)
	}
	k, ok := parseSnapKey(key)
	if !ok {
		return m, fmt.Errorf("%w: meta key %q", engine.ErrCorrupt, key)
	}
	m.Key = k
	for i, cf := range CFs {
		var name string
		if _, err := fmt.Sscanf(lines[1+i], "cf=%s size=%d crc32=%08x", &name, &m.Size[cf], &m.CRC[cf]); err != nil || name != cf.String() {
			return m, fmt.Errorf("%w: meta line %q", engine.ErrCorrupt, lines[1+i])
		}
	}
	return m, nil
}

// region returns the key range the snapshot covers, as a Region value.
func (m *SnapMeta) region() *Region {
	return &Region{ID: m.Key.Region, Start: m.Start, End: m.End, Epoch: m.Epoch}
}
