package engine

import "fmt"

// CF is a column family. TiKV keeps transaction data in three: `default`
// (large values), `lock` (in-flight locks) and `write` (commit records).
// Snapshots carry `default` and `write` as SST files and `lock` as a plain
// file, as TiKV does.
type CF uint8

// The column families.
const (
	CFDefault CF = iota
	CFLock
	CFWrite
	// NumCFs is the number of column families.
	NumCFs = 3
)

// CFs lists the column families in order.
var CFs = [NumCFs]CF{CFDefault, CFLock, CFWrite}

// String returns the column family's name.
func (c CF) String() string {
	switch c {
	case CFDefault:
		return "default"
	case CFLock:
		return "lock"
	case CFWrite:
		return "write"
	}
	return fmt.Sprintf("cf(%d)", uint8(c))
}

// ParseCF parses a column family name.
func ParseCF(s string) (CF, error) {
	for _, c := range CFs {
		if c.String() == s {
			return c, nil
		}
	}
	return 0, fmt.Errorf("unknown column family %q (want default, lock or write)", s)
}
