package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sort"
)

// SST file format (all integers little endian):
//
//	entry*  : u16 key_len, key, u64 seq, u8 kind, u32 value_len, value
//	footer  : u32 entry_count, u32 crc32(IEEE) of every entry byte, u32 magic
//
// A torn, truncated or stale read fails the footer checks: it is detected,
// never silently accepted.
const (
	sstMagic       = 0x53535431 // "SST1"
	sstFooterBytes = 12
	maxKeyBytes    = 1 << 15
	maxValueBytes  = 1 << 20
	// minEntryBytes is the size of an entry with an empty key and value.
	minEntryBytes = 2 + 8 + 1 + 4
)

// ErrCorrupt is wrapped by every decoding failure.
var ErrCorrupt = errors.New("corrupt sst")

// EncodeSST sorts records (key ascending, seq descending) and encodes them.
func EncodeSST(records []Record) []byte {
	sorted := append([]Record(nil), records...)
	sort.Slice(sorted, func(i, j int) bool { return Less(sorted[i], sorted[j]) })
	var buf []byte
	for _, r := range sorted {
		if len(r.Key) > maxKeyBytes || len(r.Value) > maxValueBytes {
			panic(fmt.Sprintf("model: record %s too large", r.Key))
		}
		buf = binary.LittleEndian.AppendUint16(buf, uint16(len(r.Key)))
		buf = append(buf, r.Key...)
		buf = binary.LittleEndian.AppendUint64(buf, r.Seq)
		buf = append(buf, byte(r.Kind))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(r.Value)))
		buf = append(buf, r.Value...)
	}
	sum := crc32.ChecksumIEEE(buf)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(sorted)))
	buf = binary.LittleEndian.AppendUint32(buf, sum)
	buf = binary.LittleEndian.AppendUint32(buf, sstMagic)
	return buf
}

// DecodeSST checks the footer and checksum and decodes the records.
func DecodeSST(b []byte) ([]Record, error) {
	if len(b) < sstFooterBytes {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the footer", ErrCorrupt, len(b))
	}
	body, foot := b[:len(b)-sstFooterBytes], b[len(b)-sstFooterBytes:]
	count := binary.LittleEndian.Uint32(foot[0:4])
	sum := binary.LittleEndian.Uint32(foot[4:8])
	if m := binary.LittleEndian.Uint32(foot[8:12]); m != sstMagic {
		return nil, fmt.Errorf("%w: bad magic %08x", ErrCorrupt, m)
	}
	if got := crc32.ChecksumIEEE(body); got != sum {
		return nil, fmt.Errorf("%w: crc32 %08x, footer says %08x", ErrCorrupt, got, sum)
	}
	// The count is not covered by the checksum: never size an allocation
	// by it before the entries are decoded (a flipped high bit would ask
	// for ~200 GB and kill the process).
	out := make([]Record, 0, min(int(count), len(body)/minEntryBytes))
	for len(body) > 0 {
		if len(body) < 2 {
			return nil, fmt.Errorf("%w: truncated key length", ErrCorrupt)
		}
		kl := int(binary.LittleEndian.Uint16(body))
		body = body[2:]
		if len(body) < kl+8+1+4 {
			return nil, fmt.Errorf("%w: truncated entry", ErrCorrupt)
		}
		r := Record{Key: string(body[:kl])}
		body = body[kl:]
		r.Seq = binary.LittleEndian.Uint64(body)
		r.Kind = Kind(body[8])
		vl := int(binary.LittleEndian.Uint32(body[9:]))
		body = body[13:]
		if len(body) < vl {
			return nil, fmt.Errorf("%w: truncated value", ErrCorrupt)
		}
		r.Value = string(body[:vl])
		body = body[vl:]
		if r.Kind != KindPut && r.Kind != KindDelete {
			return nil, fmt.Errorf("%w: record %q has kind %d", ErrCorrupt, r.Key, r.Kind)
		}
		out = append(out, r)
	}
	if uint32(len(out)) != count {
		return nil, fmt.Errorf("%w: %d entries, footer says %d", ErrCorrupt, len(out), count)
	}
	return out, nil
}

// AppendSSTEntry appends one record in the SST entry format of sst.go: a
// writer that streams records into a file (the TiKV system's snapshot
// files) produces exactly EncodeSST's bytes for the same sorted records.
func AppendSSTEntry(buf []byte, r Record) []byte {
	if len(r.Key) > maxKeyBytes || len(r.Value) > maxValueBytes {
		panic(fmt.Sprintf("model: record %s too large", r.Key))
	}
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(r.Key)))
	buf = append(buf, r.Key...)
	buf = binary.LittleEndian.AppendUint64(buf, r.Seq)
	buf = append(buf, byte(r.Kind))
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(r.Value)))
	return append(buf, r.Value...)
}

// AppendSSTFooter appends the SST footer of sst.go: entry count, crc32 of
// the entries, magic.
func AppendSSTFooter(buf []byte, count int, sum uint32) []byte {
	buf = binary.LittleEndian.AppendUint32(buf, uint32(count))
	buf = binary.LittleEndian.AppendUint32(buf, sum)
	return binary.LittleEndian.AppendUint32(buf, sstMagic)
}
