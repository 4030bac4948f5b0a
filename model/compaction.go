package model

import (
	"errors"
	"fmt"
	"sort"

	"github.com/snapsim/snapsim/sim"
)

// Leveled compaction, per column family:
//
//   - L0→L1 when a column family has at least CompactTrigger L0 files: the
//     inputs are all of its L0 files plus its L1 files that overlap them;
//   - Ln→Ln+1 (n ≥ 1, n+1 < NumLevels) when a column family's Ln holds more
//     bytes than the level's target (LevelBaseBytes for L1, times
//     LevelMultiplier per level below): one Ln file, picked by a
//     round-robin cursor per (column family, level), plus the overlapping
//     Ln+1 files.
//
// When several are due the highest score wins (see pickCompaction). A compaction reads its inputs and writes
// its outputs through the filesystem step by step, splits the output into
// files of at most TargetFileBytes at key boundaries, keeps every version
// an engine snapshot still sees, and installs one version replacing the
// inputs by the outputs (files flushed meanwhile stay). Compactions run one
// at a time.

// compactionPick is one compaction to run.
type compactionPick struct {
	cf     CF
	level  int // the input level; outputs go to level+1
	inputs []*FileMeta
	// lower are the inputs from level+1.
	lower []*FileMeta
	// reason says why it was picked, for the trace.
	reason string
}

// LevelTarget returns the size target of level (≥ 1) per column family;
// the last level has none (0).
func (e *Engine) LevelTarget(level int) int64 {
	if level < 1 || level >= NumLevels-1 {
		return 0
	}
	t := e.opts.LevelBaseBytes
	for l := 1; l < level; l++ {
		t *= e.opts.LevelMultiplier
	}
	return t
}

// CompactionDue reports whether some compaction is due in the current
// version.
func (e *Engine) CompactionDue() bool { return e.pickCompaction(e.current, false) != nil }

// pickCompaction returns the most urgent due compaction of v, or nil. With
// commit, a size-triggered pick advances its round-robin cursor.
//
// Urgency is RocksDB's score: an L0 holding count files scores
// count/CompactTrigger, an Ln holding size bytes scores size/target. A
// compaction is due at a score of at least 1 for L0, above 1 for Ln; the
// highest score wins, ties going to the lower level, then the lower column
// family. (A fixed order would starve the last column family under a
// steady load.)
func (e *Engine) pickCompaction(v *Version, commit bool) *compactionPick {
	best, bestLevel := 0.0, -1
	var bestCF CF
	var reason string
	for level := 0; level < NumLevels-1; level++ {
		for _, cf := range CFs {
			var score float64
			var why string
			if level == 0 {
				n := len(v.LevelFiles(cf, 0))
				if n < e.opts.CompactTrigger {
					continue
				}
				score = float64(n) / float64(e.opts.CompactTrigger)
				why = fmt.Sprintf("%d L0 files >= trigger %d", n, e.opts.CompactTrigger)
			} else {
				size, target := v.LevelBytes(cf, level), e.LevelTarget(level)
				if size <= target {
					continue
				}
				score = float64(size) / float64(target)
				why = fmt.Sprintf("L%d %d bytes > target %d", level, size, target)
			}
			if bestLevel < 0 || score > best {
				best, bestLevel, bestCF, reason = score, level, cf, why
			}
		}
	}
	switch {
	case bestLevel < 0:
		return nil
	case bestLevel == 0:
		return e.pickL0(v, bestCF, reason)
	}
	p := e.pickFile(v, bestCF, bestLevel, commit)
	p.reason = reason
	return p
}

// pickFile picks the next file of cf's level (≥ 1) after the round-robin
// cursor (wrapping), plus the files of the level below it overlaps. With
// commit the cursor moves to the file's largest key.
func (e *Engine) pickFile(v *Version, cf CF, level int, commit bool) *compactionPick {
	files := v.LevelFiles(cf, level)
	if len(files) == 0 {
		return nil
	}
	in := files[0]
	for _, f := range files {
		if f.Smallest > e.cursor[cf][level] {
			in = f
			break
		}
	}
	if commit {
		e.cursor[cf][level] = in.Largest
	}
	return &compactionPick{cf: cf, level: level, inputs: []*FileMeta{in},
		lower: overlapping(v.LevelFiles(cf, level+1), in.Smallest, in.Largest)}
}

// pickL0 picks all of cf's L0 files and the L1 files they overlap.
func (e *Engine) pickL0(v *Version, cf CF, reason string) *compactionPick {
	in := v.LevelFiles(cf, 0)
	if len(in) == 0 {
		return nil
	}
	lo, hi := in[0].Smallest, in[0].Largest
	for _, f := range in[1:] {
		lo, hi = min(lo, f.Smallest), max(hi, f.Largest)
	}
	return &compactionPick{cf: cf, level: 0, inputs: in, lower: overlapping(v.LevelFiles(cf, 1), lo, hi), reason: reason}
}

func overlapping(files []*FileMeta, lo, hi string) []*FileMeta {
	var out []*FileMeta
	for _, f := range files {
		if f.overlapsRange(lo, hi) {
			out = append(out, f)
		}
	}
	return out
}

// CompactLoop is the compactor actor: it runs compactions while any is
// due, and parks otherwise (a flush wakes it).
func (e *Engine) CompactLoop(a *sim.Actor) {
	for {
		if e.Down() || e.recovering || !e.CompactionDue() {
			a.Park()
			continue
		}
		if _, err := e.CompactOnce(); err != nil {
			e.s.Record(sim.ClassAction, "compact", "failed", err.Error())
			a.Sleep(e.opts.GCInterval)
		}
	}
}

// CompactOnce runs the most urgent due compaction, if any, and reports
// whether it ran one.
func (e *Engine) CompactOnce() (bool, error) {
	return e.compactWith(func(v *Version) *compactionPick { return e.pickCompaction(v, true) })
}

// Compact runs the most urgent due compaction or, if none is due, a manual
// L0→L1 compaction of the lowest column family that has L0 files (what
// RocksDB's CompactRange does to L0). Nothing to do is not an error.
func (e *Engine) Compact() error {
	_, err := e.compactWith(func(v *Version) *compactionPick {
		if p := e.pickCompaction(v, true); p != nil {
			return p
		}
		for _, cf := range CFs {
			if p := e.pickL0(v, cf, "manual"); p != nil {
				return p
			}
		}
		return nil
	})
	return err
}

// CompactLevel runs a manual compaction of column family cf from level
// into level+1: all its L0 files for level 0, otherwise the level's next
// file by the round-robin cursor. Nothing to compact is not an error.
func (e *Engine) CompactLevel(cf CF, level int) error {
	if level < 0 || level >= NumLevels-1 {
		return fmt.Errorf("compact L%d: level outside 0..%d", level, NumLevels-2)
	}
	_, err := e.compactWith(func(v *Version) *compactionPick {
		if level == 0 {
			return e.pickL0(v, cf, "manual")
		}
		p := e.pickFile(v, cf, level, true)
		if p != nil {
			p.reason = "manual"
		}
		return p
	})
	return err
}

// compactWith takes the compaction lock, picks with pick from the current
// version and runs the pick.
func (e *Engine) compactWith(pick func(v *Version) *compactionPick) (bool, error) {
	gen := e.gen
	unlock, err := e.acquire(lockCompact, gen)
	if err != nil {
		return false, err
	}
	defer unlock()
	p := pick(e.current)
	if p == nil {
		return false, nil
	}
	return true, e.runCompaction(p, gen)
}

// runCompaction reads the pick's inputs, merges them, writes the outputs
// and installs a version without the inputs. The inputs become obsolete
// once no version references them.
func (e *Engine) runCompaction(p *compactionPick, gen uint64) error {
	base := e.current
	e.Ref(base) // our inputs must not be deleted under us
	defer e.Unref(base)
	e.compactions++
	id := e.compactions
	check := func() error { return e.checkGen(gen) }
	inputs := append(append([]*FileMeta(nil), p.inputs...), p.lower...)
	out := p.level + 1
	var outputs []*FileMeta
	fail := func(err error) error {
		if !errors.Is(err, ErrCrashed) {
			for _, f := range outputs {
				_ = e.fs.RemoveBecause(f.Path, fmt.Sprintf("compaction %d failed", id))
			}
		}
		return fmt.Errorf("compaction %d: %w", id, err)
	}
	var all []Record
	lo, hi := inputs[0].Smallest, inputs[0].Largest
	for _, f := range inputs {
		lo, hi = min(lo, f.Smallest), max(hi, f.Largest)
		h, err := e.fs.Open(f.Path)
		if cerr := check(); cerr != nil {
			if err == nil {
				_ = h.Close()
			}
			return fail(cerr)
		}
		if err != nil {
			return fail(err)
		}
		recs, err := readSST(h, f)
		if cerr := check(); cerr != nil {
			return fail(cerr)
		}
		if err != nil {
			return fail(err)
		}
		all = append(all, recs...)
	}
	merged := e.retain(all)
	if e.bottommost(base, p.cf, out, lo, hi) {
		merged = dropBottomTombstones(merged)
	}
	for _, chunk := range splitOutputs(merged, e.opts.TargetFileBytes) {
		num := e.newFileNum()
		f := &FileMeta{Num: num, CF: p.cf, Path: e.filePath(num), Level: out}
		data := EncodeSST(chunk)
		outputs = append(outputs, f)
		if err := e.writeFileChecked(f.Path, data, check); err != nil {
			return fail(err)
		}
		f.SizeBytes = int64(len(data))
		f.Smallest, f.Largest = keyRange(chunk)
		for _, r := range chunk {
			f.MaxSeq = max(f.MaxSeq, r.Seq)
		}
	}
	reason := fmt.Sprintf("compaction %d", id)
	v, err := e.logAndApply(gen, reason, func(v *Version) {
		// The current version may have gained L0 files while we worked;
		// only compactions remove files, and they run one at a time, so
		// the inputs are all still there.
		v.Levels[p.level] = without(v.Levels[p.level], inputs)
		v.Levels[out] = append(without(v.Levels[out], inputs), outputs...)
	})
	if err != nil {
		return fail(err)
	}
	e.s.Record(sim.ClassAction, "compact", fmt.Sprintf("compaction %d (%s L%d->L%d, %s): %s -> %s, version %d",
		id, p.cf, p.level, out, p.reason, names(inputs), names(outputs), v.ID), "ok")
	return nil
}

func without(files, drop []*FileMeta) []*FileMeta {
	var out []*FileMeta
	for _, f := range files {
		keep := true
		for _, d := range drop {
			if d.Num == f.Num {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, f)
		}
	}
	return out
}

// bottommost reports whether no level below out holds data of cf in
// [lo, hi]: a tombstone written there hides nothing older.
func (e *Engine) bottommost(v *Version, cf CF, out int, lo, hi string) bool {
	for l := out + 1; l < NumLevels; l++ {
		if len(overlapping(v.LevelFiles(cf, l), lo, hi)) > 0 {
			return false
		}
	}
	return true
}

// retain keeps, for each key, the newest version plus every older version
// some engine snapshot still sees. It sorts all in place.
func (e *Engine) retain(all []Record) []Record {
	sort.Slice(all, func(i, j int) bool { return less(all[i], all[j]) })
	var out []Record
	for i := 0; i < len(all); {
		j := i
		var prev *Record
		for ; j < len(all) && all[j].Key == all[i].Key && all[j].CF == all[i].CF; j++ {
			r := all[j]
			if prev == nil || e.snapshotBetween(r.Seq, prev.Seq) {
				out = append(out, r)
				prev = &out[len(out)-1]
			}
		}
		i = j
	}
	return out
}

// dropBottomTombstones drops, at the bottom of the tree, a tombstone that
// is the oldest kept version of its key: it hides nothing, and a reader at
// any sequence number sees the same (absent) key without it. Records are
// sorted as retain leaves them.
func dropBottomTombstones(recs []Record) []Record {
	var out []Record
	for i, r := range recs {
		oldest := i+1 == len(recs) || recs[i+1].Key != r.Key || recs[i+1].CF != r.CF
		if r.Kind == KindDelete && oldest {
			continue
		}
		out = append(out, r)
	}
	return out
}

// snapshotBetween reports whether some engine snapshot s has lo ≤ s < hi:
// it sees the version at lo, which the newer one at hi would hide.
func (e *Engine) snapshotBetween(lo, hi uint64) bool {
	for _, s := range e.snapshots {
		if lo <= s.seq && s.seq < hi {
			return true
		}
	}
	return false
}

// sstEntryBytes is the encoded size of one record in an SST.
func sstEntryBytes(r Record) int64 { return int64(minEntryBytes + len(r.Key) + len(r.Value)) }

// splitOutputs cuts sorted records into chunks whose encoded SST is at
// most target bytes, cutting only between keys (all versions of a key stay
// in one file, so files of a level never overlap); a single key larger
// than target gets a file of its own.
func splitOutputs(recs []Record, target int64) [][]Record {
	var out [][]Record
	start := 0
	size := int64(sstFooterBytes)
	for i := 0; i < len(recs); {
		j := i
		group := int64(0)
		for ; j < len(recs) && recs[j].Key == recs[i].Key && recs[j].CF == recs[i].CF; j++ {
			group += sstEntryBytes(recs[j])
		}
		if i > start && size+group > target {
			out = append(out, recs[start:i])
			start, size = i, int64(sstFooterBytes)
		}
		size += group
		i = j
	}
	if start < len(recs) {
		out = append(out, recs[start:])
	}
	return out
}
