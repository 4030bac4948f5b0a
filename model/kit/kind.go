package kit

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Kind is a kind of file a system keeps: the directory its files live in
// and how a file's name carries its generation (Prefix, a zero-padded
// number, Ext): "/hbase/cf/hfile-000007.hf". Naming files by kind lets a
// lister, a deleter and a test agree on which files are which without
// parsing paths by hand.
type Kind struct {
	// Name names the kind in messages ("hfile", "snap-db").
	Name string
	// Dir is the directory the kind's files live in (absolute, cleaned).
	Dir string
	// Prefix and Ext surround the generation in a file's base name.
	Prefix, Ext string
}

// genDigits is how many digits a generation is padded to.
const genDigits = 6

// Path returns the path of the kind's file of generation gen.
func (k Kind) Path(gen uint64) string {
	return path.Join(k.Dir, fmt.Sprintf("%s%0*d%s", k.Prefix, genDigits, gen, k.Ext))
}

// Gen returns the generation of p if p is a file of the kind.
func (k Kind) Gen(p string) (uint64, bool) {
	if path.Dir(p) != path.Clean(k.Dir) {
		return 0, false
	}
	base := path.Base(p)
	if !strings.HasPrefix(base, k.Prefix) || !strings.HasSuffix(base, k.Ext) || len(base) < len(k.Prefix)+len(k.Ext)+1 {
		return 0, false
	}
	digits := base[len(k.Prefix) : len(base)-len(k.Ext)]
	if strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	gen, err := strconv.ParseUint(digits, 10, 64)
	return gen, err == nil
}

// Match reports whether p is a file of the kind.
func (k Kind) Match(p string) bool {
	_, ok := k.Gen(p)
	return ok
}

// Sibling returns the file of kind other with the generation of p, a file
// of k (a pack's index: Pack.Sibling(p, Index)).
func (k Kind) Sibling(p string, other Kind) (string, bool) {
	gen, ok := k.Gen(p)
	if !ok {
		return "", false
	}
	return other.Path(gen), true
}

// The conventional kinds, in dir. A system may use them or make its own.

// Log is a write-ahead or commit log: dir/log-000001.log.
func Log(dir string) Kind { return Kind{Name: "log", Dir: dir, Prefix: "log-", Ext: ".log"} }

// Manifest is a metadata file listing the live files of one generation
// (RocksDB's MANIFEST, Lucene's segments_N, a remote store's metadata
// file): dir/manifest-000001.
func Manifest(dir string) Kind { return Kind{Name: "manifest", Dir: dir, Prefix: "manifest-"} }

// Snapshot is a snapshot file (etcd's .snap.db, a TiKV snapshot):
// dir/snap-000001.snap.
func Snapshot(dir string) Kind {
	return Kind{Name: "snapshot", Dir: dir, Prefix: "snap-", Ext: ".snap"}
}

// Pack is a Git pack: dir/pack-000001.pack (its index is Index's file of
// the same generation).
func Pack(dir string) Kind { return Kind{Name: "pack", Dir: dir, Prefix: "pack-", Ext: ".pack"} }

// Index is a Git pack's index: dir/pack-000001.idx.
func Index(dir string) Kind { return Kind{Name: "index", Dir: dir, Prefix: "pack-", Ext: ".idx"} }

// Segment is a log or index segment (Kafka, Lucene): dir/seg-000001.seg.
func Segment(dir string) Kind { return Kind{Name: "segment", Dir: dir, Prefix: "seg-", Ext: ".seg"} }

// SST is an immutable sorted table (an HBase HFile, an LSM's SST):
// dir/sst-000001.sst.
func SST(dir string) Kind { return Kind{Name: "sst", Dir: dir, Prefix: "sst-", Ext: ".sst"} }

// Kinds is a system's set of file kinds.
type Kinds []Kind

// Classify returns the kind of p and its generation.
func (ks Kinds) Classify(p string) (Kind, uint64, bool) {
	for _, k := range ks {
		if gen, ok := k.Gen(p); ok {
			return k, gen, true
		}
	}
	return Kind{}, 0, false
}
