package engine

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
// When several are due the highest score wins (see pickCompaction). A
// compaction reads its inputs and writes its outputs through the
// filesystem step by step, splits the output into files of at most
// TargetFileBytes at key boundaries, keeps every version an engine
// snapshot still sees, and installs one version replacing the inputs by
// the outputs (files flushed meanwhile stay). Compactions run one at a
// time.
//
// A compaction of one input file with nothing overlapping it in the output
// level, and no more than maxGrandparentOverlap bytes overlapping it in
// the level below that, is a trivial move (Pebble v1.1.5 newCompaction,
// compactionKindMove): the file goes to the output level as it is, same
// number, same path; nothing is written, read or made obsolete; only the
// manifest changes.
//
// Engine.CompactRange is Pebble's DB.Compact(start, end) and is not what
// the compactor actor runs: it flushes a memtable overlapping the range
// first and compacts the range level by level down to the bottom.

// maxGrandparentOverlapFactor bounds a trivial move's overlap with the
// level below its output level, in TargetFileBytes (Pebble:
// maxGrandparentOverlapBytes is 10 × the target file size).
const maxGrandparentOverlapFactor = 10

// compactionPick is one compaction to run.
type compactionPick struct {
	cf    CF
	level int // the input level
	// out is the output level: level+1, or the base level for a range
	// compaction of L0 (pickRange).
	out    int
	inputs []*FileMeta
	// lower are the inputs from the output level.
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
	return &compactionPick{cf: cf, level: level, out: level + 1, inputs: []*FileMeta{in},
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
	return &compactionPick{cf: cf, level: 0, out: 1, inputs: in, lower: overlapping(v.LevelFiles(cf, 1), lo, hi), reason: reason}
}

// baseLevel is where a range compaction sends cf's L0 files: the first
// level below L0 that holds a file of cf, or the bottom level if none does
// (Pebble's dynamic base level, initLevelMaxBytes, for a database far
// below LBaseMaxBytes, which every model run is).
func baseLevel(v *Version, cf CF) int {
	for l := 1; l < NumLevels; l++ {
		if len(v.LevelFiles(cf, l)) > 0 {
			return l
		}
	}
	return NumLevels - 1
}

// l0Overlapping returns cf's L0 files that overlap [lo, hi], widening the
// range by each file taken until no other L0 file overlaps it (Pebble's
// Version.Overlaps for L0: an L0 file can only be compacted with the older
// L0 files it overlaps).
func l0Overlapping(v *Version, cf CF, lo, hi string) []*FileMeta {
	l0 := v.LevelFiles(cf, 0)
	taken := make([]bool, len(l0))
	for changed := true; changed; {
		changed = false
		for i, f := range l0 {
			if !taken[i] && f.overlapsRange(lo, hi) {
				taken[i], changed = true, true
				lo, hi = min(lo, f.Smallest), max(hi, f.Largest)
			}
		}
	}
	var out []*FileMeta
	for i, f := range l0 {
		if taken[i] {
			out = append(out, f)
		}
	}
	return out
}

// levelOverlapping returns cf's files at level that overlap [lo, hi].
func levelOverlapping(v *Version, cf CF, level int, lo, hi string) []*FileMeta {
	if level == 0 {
		return l0Overlapping(v, cf, lo, hi)
	}
	return overlapping(v.LevelFiles(cf, level), lo, hi)
}

// rangeOf returns the key range the files cover together.
func rangeOf(files ...[]*FileMeta) (string, string) {
	lo, hi, first := "", "", true
	for _, fs := range files {
		for _, f := range fs {
			if first {
				lo, hi, first = f.Smallest, f.Largest, false
				continue
			}
			lo, hi = min(lo, f.Smallest), max(hi, f.Largest)
		}
	}
	return lo, hi
}

// pickRange picks the compaction of cf's files at level that overlap
// [start, end], as Pebble's pickManualCompaction does: the inputs are
// those files (for L0, with every older L0 file they overlap); their
// output level is level+1, or for L0 the base level; a level between L0
// and the base level has nothing to compact. The overlapping files of the
// output level join, and the inputs grow to every file of their level
// within the combined range when that brings in no further output-level
// file (pickedCompaction.grow). Nil means nothing to compact.
func (e *Engine) pickRange(v *Version, cf CF, level int, start, end string) *compactionPick {
	base := baseLevel(v, cf)
	if level > 0 && level < base || level >= NumLevels-1 {
		return nil
	}
	out := level + 1
	if level == 0 {
		out = base
	}
	in := levelOverlapping(v, cf, level, start, end)
	if len(in) == 0 {
		return nil
	}
	lo, hi := rangeOf(in)
	lower := overlapping(v.LevelFiles(cf, out), lo, hi)
	if len(lower) > 0 {
		glo, ghi := rangeOf(in, lower)
		grown := levelOverlapping(v, cf, level, glo, ghi)
		if len(grown) > len(in) {
			g2lo, g2hi := rangeOf(grown, lower)
			if l2 := overlapping(v.LevelFiles(cf, out), g2lo, g2hi); len(l2) == len(lower) {
				in, lower = grown, l2
			}
		}
	}
	return &compactionPick{cf: cf, level: level, out: out, inputs: in, lower: lower,
		reason: fmt.Sprintf("range [%s, %s]", start, end)}
}

// isMove reports whether p is a trivial move: one input file, nothing of
// its column family overlapping it in the output level, and at most
// maxGrandparentOverlapFactor × TargetFileBytes overlapping it in the
// level below the output (a move that would leave a file overlapping much
// data below is worse than a rewrite; Pebble's condition).
func (e *Engine) isMove(v *Version, p *compactionPick) bool {
	if e.opts.NoTrivialMoves || len(p.inputs) != 1 || len(p.lower) > 0 {
		return false
	}
	if p.out+1 >= NumLevels {
		return true
	}
	f := p.inputs[0]
	var gp int64
	for _, g := range overlapping(v.LevelFiles(p.cf, p.out+1), f.Smallest, f.Largest) {
		gp += g.SizeBytes
	}
	return gp <= maxGrandparentOverlapFactor*e.opts.TargetFileBytes
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
// L0→L1 compaction of the lowest column family that has L0 files: one
// pick, whatever the key range, and no flush. Nothing to do is not an
// error. CompactRange is the counterpart of Pebble's DB.Compact.
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

// CompactRange compacts column family cf's keys in [start, end] (both
// inclusive) down to the bottom level, as Pebble v1.1.5's DB.Compact(start,
// end) does (db.go):
//
//  1. note the deepest level holding a file of cf that overlaps the range
//     (at least L1), before anything else;
//  2. if cf's memtable holds a key in the range, flush (the model's flush
//     is atomic: every column family's memtable goes);
//  3. for each level from L0 down to that deepest level (never the bottom
//     level itself), run one compaction of the files overlapping the
//     range at that level (pickRange): L0 into the base level, each
//     deeper level into the next; each may be a trivial move.
//
// It is a manual operation for callers (the fidelity suite, scenarios),
// not part of the compactor actor's automatic picks. Nothing to compact is
// not an error.
func (e *Engine) CompactRange(cf CF, start, end string) error {
	if start > end {
		return fmt.Errorf("compact range: start %q is after end %q", start, end)
	}
	if int(cf) >= NumCFs {
		return fmt.Errorf("compact range: unknown column family %d", cf)
	}
	deepest := 1
	for l := 0; l < NumLevels; l++ {
		if len(overlapping(e.current.LevelFiles(cf, l), start, end)) > 0 {
			deepest = l + 1
		}
	}
	if e.memOverlaps(cf, start, end) {
		if err := e.Flush(); err != nil {
			return fmt.Errorf("compact range: flush: %w", err)
		}
	}
	for level := 0; level < deepest && level < NumLevels-1; level++ {
		if _, err := e.compactWith(func(v *Version) *compactionPick { return e.pickRange(v, cf, level, start, end) }); err != nil {
			return err
		}
	}
	return nil
}

// memOverlaps reports whether cf's memtable holds a key in [start, end].
func (e *Engine) memOverlaps(cf CF, start, end string) bool {
	for _, r := range e.mem[cf] {
		if start <= r.Key && r.Key <= end {
			return true
		}
	}
	return false
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

// runCompaction runs the pick: a trivial move (runMove), or a rewrite that
// reads the inputs, merges them, writes the outputs and installs a version
// without the inputs. The inputs become obsolete once no version
// references them; in GCPrompt mode the compaction deletes them itself
// right after installing its version (cleanAfter).
func (e *Engine) runCompaction(p *compactionPick, gen uint64) error {
	if e.isMove(e.current, p) {
		return e.runMove(p, gen)
	}
	base := e.current
	e.Ref(base) // our inputs must not be deleted under us
	released := false
	release := func() {
		if !released {
			released = true
			e.Unref(base)
		}
	}
	defer release()
	e.compactions++
	id := e.compactions
	check := func() error { return e.checkGen(gen) }
	inputs := append(append([]*FileMeta(nil), p.inputs...), p.lower...)
	out := p.out
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
		recs, err := ReadSST(h, f)
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
	var gps []*FileMeta // the grandparents: the level below the output
	if out+1 < NumLevels {
		gps = overlapping(base.LevelFiles(p.cf, out+1), lo, hi)
	}
	for _, chunk := range splitOutputs(merged, e.opts.TargetFileBytes, gps) {
		num := e.newFileNum()
		f := &FileMeta{Num: num, CF: p.cf, Path: e.filePath(num), Level: out}
		data := EncodeSST(chunk)
		outputs = append(outputs, f)
		if err := e.writeFileChecked(f.Path, data, check); err != nil {
			return fail(err)
		}
		f.SizeBytes = int64(len(data))
		f.Smallest, f.Largest = KeyRange(chunk)
		for _, r := range chunk {
			f.MaxSeq = max(f.MaxSeq, r.Seq)
		}
	}
	reason := fmt.Sprintf("compaction %d", id)
	err := e.cleanAfter(func() error {
		v, err := e.logAndApply(gen, reason, func(v *Version) {
			// The current version may have gained L0 files while we
			// worked; only compactions remove files, and they run one at a
			// time, so the inputs are all still there.
			v.Levels[p.level] = without(v.Levels[p.level], inputs)
			v.Levels[out] = append(without(v.Levels[out], inputs), outputs...)
		})
		if err != nil {
			return err
		}
		detail := ""
		if e.s.Tracing() {
			detail = fmt.Sprintf("compaction %d (%s L%d->L%d, %s): %s -> %s, version %d",
				id, p.cf, p.level, out, p.reason, Names(inputs), Names(outputs), v.ID)
		}
		e.s.Record(sim.ClassAction, "compact", detail, "ok")
		release() // the inputs become obsolete unless a reader holds them
		return nil
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

// runMove installs a version in which the pick's one input file sits at
// the output level: same number, same path, nothing written, nothing made
// obsolete (Pebble: compactionKindMove). It is traced as a move:
// "compaction 3 (default L0->L1 move, ...): 000001.sst, version 4".
func (e *Engine) runMove(p *compactionPick, gen uint64) error {
	e.compactions++
	id := e.compactions
	f := p.inputs[0]
	v, err := e.logAndApply(gen, fmt.Sprintf("compaction %d", id), func(v *Version) {
		v.Levels[p.level] = without(v.Levels[p.level], p.inputs)
		v.Levels[p.out] = append(v.Levels[p.out], f.movedTo(p.out))
	})
	if err != nil {
		return fmt.Errorf("compaction %d: %w", id, err)
	}
	e.s.Recordf(sim.ClassAction, "compact", "ok", "compaction %d (%s L%d->L%d move, %s): %s, version %d",
		id, p.cf, p.level, p.out, p.reason, f.Name(), v.ID)
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
	sort.Slice(all, func(i, j int) bool { return Less(all[i], all[j]) })
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

// sstEntryBytes is the encoded size of one record in an SST of the
// model's format.
func sstEntryBytes(r Record) int64 { return int64(minEntryBytes + len(r.Key) + len(r.Value)) }

// splitOutputs cuts sorted records into output files where Pebble v1.1.5's
// compaction (and flush) would cut them (compaction.go, fileSizeSplitter
// under a userKeyChangeSplitter), so that the model's files have Pebble's
// sizes and counts:
//
//   - a file is cut only between keys: all versions of a key stay in one
//     file, so files of a level never overlap;
//   - before each new key, with est the size Pebble's sstable writer
//     estimates for what the file holds so far (pebbleEstimate), the file
//     is cut if est ≥ 2 × target; else, if est ≥ target/2 and the key is
//     the first at or past the smallest key of the next grandparent (a file
//     of the level below the output that overlaps the output, given in
//     gps, sorted), once est ≥ (50 + 5 × (boundaries seen in this file, at
//     most 8))% of target; else, when no grandparent is left ahead, once
//     est ≥ target.
//
// So a file can exceed the target by one key (Pebble's do too), and a key
// larger than the target gets a file of its own. Pebble's other limits
// (grandparent overlap bytes, L0 flush split keys) are not modelled: they
// only matter for data far larger than the model's.
func splitOutputs(recs []Record, target int64, gps []*FileMeta) [][]Record {
	var out [][]Record
	start := 0
	var est pebbleEstimate
	gp := 0
	seen := 0 // grandparent boundaries reached while building this file
	for i := 0; i < len(recs); {
		key := recs[i].Key
		atBoundary := false
		for gp < len(gps) && key >= gps[gp].Smallest {
			atBoundary = true
			seen++
			gp++
		}
		if i > start && splitBefore(est.size(), target, atBoundary, seen, gp == len(gps)) {
			out = append(out, recs[start:i])
			// A new output forgets the boundaries seen (onNewOutput),
			// the one it starts at included.
			start, est, seen = i, pebbleEstimate{}, 0
		}
		j := i
		for ; j < len(recs) && recs[j].Key == key && recs[j].CF == recs[i].CF; j++ {
			est.add(recs[j])
		}
		i = j
	}
	if start < len(recs) {
		out = append(out, recs[start:])
	}
	return out
}

// splitBefore is fileSizeSplitter.shouldSplitBefore: whether a file whose
// estimated size is est is cut before the next key, which is (atBoundary)
// or is not the first key past a grandparent's smallest key; seen counts
// the boundaries reached in this file including that one; noneAhead says
// no grandparent is left ahead.
func splitBefore(est, target int64, atBoundary bool, seen int, noneAhead bool) bool {
	switch {
	case est < target/2:
		return false
	case est >= 2*target:
		return true
	case !atBoundary:
		return noneAhead && est >= target
	}
	pct := int64(50 + 5*min(max(seen-1, 0), 8))
	return est >= pct*target/100
}

// pebbleEstimate is what Pebble v1.1.5's sstable writer reports as
// EstimatedSize for a table of the default format (RocksDBv2, 4 KiB data
// blocks) while its first data block is open, which is every output the
// model writes: the block's entries (varint shared, unshared and value
// lengths, the unshared part of the internal key, i.e. user key plus an
// 8-byte trailer, shared with the previous key except at a restart point
// every 16 keys, and the value), 4 bytes per restart point, 4 for their
// count, and 4 for the empty index block (sstable/block.go
// blockWriter.estimatedSize, writer.go EstimatedSize). A block past 4 KiB
// is not modelled (the estimate goes on growing the same way).
type pebbleEstimate struct {
	n    int
	buf  int64
	prev string
}

func uvarintLen(x int) int64 {
	n := int64(1)
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func (p *pebbleEstimate) add(r Record) {
	const trailer = 8
	shared := 0
	if p.n%16 != 0 {
		for shared < len(r.Key) && shared < len(p.prev) && r.Key[shared] == p.prev[shared] {
			shared++
		}
	}
	unshared := len(r.Key) + trailer - shared
	p.buf += uvarintLen(shared) + uvarintLen(unshared) + uvarintLen(len(r.Value)) + int64(unshared) + int64(len(r.Value))
	p.n++
	p.prev = r.Key
}

// PebbleEstimatedSize returns what Pebble's sstable writer would report
// as EstimatedSize after recs were added, sorted (see pebbleEstimate). It
// is exported for the fidelity suite, which checks it against Pebble's
// own writer.
func PebbleEstimatedSize(recs []Record) int64 {
	var p pebbleEstimate
	for _, r := range recs {
		p.add(r)
	}
	return p.size()
}

func (p *pebbleEstimate) size() int64 {
	if p.n == 0 {
		return 0
	}
	restarts := int64((p.n + 15) / 16)
	return p.buf + 4*restarts + 4 + 4
}
