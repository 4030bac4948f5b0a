package realpebble

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cockroachdb/pebble"

	"github.com/snapsim/snapsim/model"
)

// version is a model.Version over the file list DB.SSTables returned.
//
// Pebble has seven levels, the model four (model.NumLevels), and a design
// walks the model's (scan's LevelFiles loop). Pebble's non-empty levels
// below L0 are numbered, in order, 1, 2, 3: with the small data and
// manual compactions of these runs Pebble fills L0 and its bottom levels
// (L6, sometimes L5), so the renumbering keeps every level's order and
// its files' disjointness. A fourth non-empty level below L0 cannot be
// represented and is an error. Every file is in column family default:
// Pebble has no column families.
type version struct {
	id    uint64
	files []*model.FileMeta
	// byLevel holds the files per model level, in level order.
	byLevel [model.NumLevels][]*model.FileMeta
	// key renders the file list (number and Pebble level of each file):
	// two listings with one key are one version.
	key  string
	refs int
}

var _ model.Version = (*version)(nil)

// newVersion builds a version from DB.SSTables' levels.
func newVersion(levels [][]pebble.SSTableInfo) (*version, error) {
	v := &version{}
	var key strings.Builder
	next := 0
	for pl, files := range levels {
		if len(files) == 0 {
			continue
		}
		ml := 0
		if pl > 0 {
			next++
			ml = next
		}
		if ml >= model.NumLevels {
			return nil, fmt.Errorf("realpebble: Pebble level L%d is the %dth non-empty level below L0; the model has %d levels (model.NumLevels)", pl, ml, model.NumLevels)
		}
		in := make([]*model.FileMeta, 0, len(files))
		for _, t := range files {
			if t.Virtual {
				return nil, fmt.Errorf("realpebble: table %s is virtual (a shared or external ingestion): not supported", t.FileNum)
			}
			num := uint64(t.FileNum)
			in = append(in, &model.FileMeta{
				Num:       num,
				CF:        model.CFDefault,
				Path:      sstPath(num),
				SizeBytes: int64(t.Size),
				Smallest:  string(t.Smallest.UserKey),
				Largest:   string(t.Largest.UserKey),
				MaxSeq:    t.LargestSeqNum,
				Level:     ml,
			})
		}
		if ml == 0 {
			// L0 oldest first, as the model lists it (Pebble's L0 order
			// is by sequence number too; this makes it explicit).
			sort.SliceStable(in, func(i, j int) bool { return in[i].MaxSeq < in[j].MaxSeq })
		} else {
			sort.SliceStable(in, func(i, j int) bool { return in[i].Smallest < in[j].Smallest })
		}
		v.byLevel[ml] = in
		v.files = append(v.files, in...)
		for _, f := range in {
			fmt.Fprintf(&key, "%d@L%d ", f.Num, pl)
		}
	}
	v.key = strings.TrimSpace(key.String())
	return v, nil
}

// ID implements model.Version: the adapter's number for this file list.
func (v *version) ID() uint64 { return v.id }

// Files implements model.Version: L0 first (oldest first), then each
// level by smallest key.
func (v *version) Files() []*model.FileMeta { return v.files }

// LevelFiles implements model.Version; every file is in CFDefault.
func (v *version) LevelFiles(cf model.CF, level int) []*model.FileMeta {
	if cf != model.CFDefault || level < 0 || level >= model.NumLevels {
		return nil
	}
	return v.byLevel[level]
}

// Contains implements model.Version.
func (v *version) Contains(num uint64) bool {
	for _, f := range v.files {
		if f.Num == num {
			return true
		}
	}
	return false
}

// Refs implements model.Version: the references the adapter holds on the
// version (open iterators it made); Pebble's own reference count on the
// version (internal/manifest Version.refs) is unexported.
func (v *version) Refs() int { return v.refs }
