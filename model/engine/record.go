package engine

import (
	"fmt"
	"strings"
)

// Kind is the kind of a record: a value or a deletion tombstone.
type Kind uint8

// Record kinds.
const (
	KindPut    Kind = 1
	KindDelete Kind = 2
)

// Record is one versioned write: column family, key, sequence number, kind
// and value. Inside an SST file every record has the file's column family;
// the CF is not encoded per record.
type Record struct {
	CF    CF
	Key   string
	Seq   uint64
	Kind  Kind
	Value string
}

// String renders a record compactly: "k03@7=v7" or "k03@9 del".
func (r Record) String() string {
	if r.Kind == KindDelete {
		return fmt.Sprintf("%s@%d del", r.Key, r.Seq)
	}
	v := r.Value
	if i := strings.IndexByte(v, '.'); i > 0 {
		v = v[:i]
	}
	return fmt.Sprintf("%s@%d=%s", r.Key, r.Seq, v)
}

// less orders records by column family, then key ascending, then sequence
// descending (newest first), as an LSM iterator sees them.
func Less(a, b Record) bool {
	if a.CF != b.CF {
		return a.CF < b.CF
	}
	if a.Key != b.Key {
		return a.Key < b.Key
	}
	return a.Seq > b.Seq
}
