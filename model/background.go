package model

import (
	"fmt"
	"sort"

	"github.com/snapsim/snapsim/sim"
)

// This file holds the engine's background work: flush, compaction and the
// obsolete-file deleter (GC). Each runs as a daemon actor.

// FlushLoop is the flusher actor: it flushes the memtable whenever it
// reaches the threshold.
func (e *Engine) FlushLoop(a *sim.Actor) {
	for {
		if len(e.mem) < e.opts.FlushThreshold {
			a.Park()
			continue
		}
		if err := e.Flush(); err != nil {
			e.s.Record(sim.ClassAction, "flush", "failed", err.Error())
			a.Sleep(e.opts.GCInterval)
		}
	}
}

// Flush writes the memtable to a new L0 file and installs a version with it.
// Writes that arrive meanwhile go to a fresh memtable.
func (e *Engine) Flush() error {
	if len(e.mem) == 0 {
		return nil
	}
	imm := e.mem
	e.mem = nil
	flushed := e.seq
	num := e.nextFile
	e.nextFile++
	p := e.filePath(num)
	data := EncodeSST(imm)
	if err := e.writeFile(p, data); err != nil {
		// Put the records back in front of anything written meanwhile.
		e.mem = append(imm, e.mem...)
		return err
	}
	f := &FileMeta{Num: num, Path: p, SizeBytes: int64(len(data)), MaxSeq: flushed, Level: 0}
	f.Smallest, f.Largest = keyRange(imm)
	v := e.clone()
	v.Levels[0] = append(v.Levels[0], f)
	v.FlushedSeq = flushed
	e.install(v, fmt.Sprintf("flush of %s", f.Name()))
	e.s.Record(sim.ClassAction, "flush", fmt.Sprintf("L0 %s: %d records, seq<=%d, version %d", f.Name(), len(imm), flushed, v.ID), "ok")
	if len(v.Levels[0]) >= e.opts.CompactTrigger {
		e.wake(e.compactor)
	}
	return nil
}

func keyRange(recs []Record) (string, string) {
	if len(recs) == 0 {
		return "", ""
	}
	lo, hi := recs[0].Key, recs[0].Key
	for _, r := range recs[1:] {
		lo, hi = min(lo, r.Key), max(hi, r.Key)
	}
	return lo, hi
}

// CompactLoop is the compactor actor: it compacts L0 into L1 whenever L0
// reaches the trigger.
func (e *Engine) CompactLoop(a *sim.Actor) {
	for {
		if len(e.current.Levels[0]) < e.opts.CompactTrigger {
			a.Park()
			continue
		}
		if err := e.Compact(); err != nil {
			e.s.Record(sim.ClassAction, "compact", "failed", err.Error())
			a.Sleep(e.opts.GCInterval)
		}
	}
}

// Compact merges every L0 file and every L1 file into one new L1 file,
// reading inputs and writing the output through the filesystem, then
// installs a version without the inputs. The inputs become obsolete once no
// version references them. Versions of a key that no engine snapshot can
// see are dropped.
func (e *Engine) Compact() error {
	base := e.current
	e.Ref(base) // our inputs must not be deleted under us
	defer e.Unref(base)
	inputs := append(append([]*FileMeta(nil), base.Levels[0]...), base.Levels[1]...)
	if len(inputs) == 0 {
		return nil
	}
	e.compactions++
	id := e.compactions
	var all []Record
	for _, f := range inputs {
		h, err := e.fs.Open(f.Path)
		if err != nil {
			return fmt.Errorf("compaction %d: %w", id, err)
		}
		recs, err := readSST(h, f)
		if err != nil {
			return fmt.Errorf("compaction %d: %w", id, err)
		}
		all = append(all, recs...)
	}
	merged := e.retain(all)
	num := e.nextFile
	e.nextFile++
	p := e.filePath(num)
	data := EncodeSST(merged)
	if err := e.writeFile(p, data); err != nil {
		return fmt.Errorf("compaction %d: %w", id, err)
	}
	out := &FileMeta{Num: num, Path: p, SizeBytes: int64(len(data)), Level: 1}
	out.Smallest, out.Largest = keyRange(merged)
	for _, f := range inputs {
		out.MaxSeq = max(out.MaxSeq, f.MaxSeq)
	}
	// The current version may have gained L0 files while we worked.
	v := e.clone()
	v.Levels[0] = without(v.Levels[0], inputs)
	v.Levels[1] = append(without(v.Levels[1], inputs), out)
	e.install(v, fmt.Sprintf("compaction %d", id))
	e.s.Record(sim.ClassAction, "compact", fmt.Sprintf("compaction %d: %s -> %s, version %d", id, names(inputs), out.Name(), v.ID), "ok")
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

// retain keeps, for each key, the newest version plus every older version
// some engine snapshot still sees.
func (e *Engine) retain(all []Record) []Record {
	sort.Slice(all, func(i, j int) bool { return less(all[i], all[j]) })
	var out []Record
	for i := 0; i < len(all); {
		j := i
		var prev *Record
		for ; j < len(all) && all[j].Key == all[i].Key; j++ {
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

// GCLoop is the obsolete-file deleter. Every GCInterval it deletes the
// obsolete files that no live version references and no lease covers.
// Files held only by leases are retried once the leases (plus grace) end.
func (e *Engine) GCLoop(a *sim.Actor) {
	for {
		if len(e.obsolete) == 0 {
			a.Park()
			continue
		}
		a.Sleep(e.opts.GCInterval)
		e.gcPass()
		if len(e.obsolete) == 0 {
			continue
		}
		if e.deletionsDisabled > 0 {
			a.Park() // EnableDeletions wakes us
			continue
		}
		// Whatever is left is pinned: by a lease (wait for its end) or by
		// a version reference (wait to be woken by Unref).
		if wait, ok := e.nextLeaseEnd(); ok {
			a.Sleep(wait)
		} else {
			a.Park()
		}
	}
}

// nextLeaseEnd returns how long until the earliest lease that covers an
// obsolete file stops protecting it.
func (e *Engine) nextLeaseEnd() (sim.Micros, bool) {
	now := e.s.Now()
	var best sim.Micros
	found := false
	for _, f := range e.obsolete {
		for _, l := range e.leases {
			if l.covers(f.Num, now, e.opts.GCGrace) {
				end := l.Expiry + e.opts.GCGrace - now
				if !found || end < best {
					best, found = end, true
				}
			}
		}
	}
	return best, found
}

// gcPass deletes every currently deletable obsolete file, oldest first.
// The eager variant ignores pins; nothing is deleted while deletions are
// disabled.
func (e *Engine) gcPass() {
	for _, f := range append([]*FileMeta(nil), e.obsolete...) {
		if e.deletionsDisabled > 0 {
			return
		}
		if !e.opts.EagerGC && e.pinnedBy(f) != "" {
			continue
		}
		e.deleteFile(f)
	}
}

// deleteFile removes an obsolete file. The pin is re-checked just before the
// removal: a deletion of a pinned file is a gc-deleted-pinned-file
// violation. (Between the check and the removal nothing can gain a pin on
// an obsolete file: versions never take it back, leases cover only files of
// the current version.)
func (e *Engine) deleteFile(f *FileMeta) {
	why := "obsolete after " + f.replacedBy
	if pin := e.pinnedBy(f); pin != "" {
		e.s.Observe(sim.KindGCDeletedPinnedFile, fmt.Sprintf("%s deleted while %s", f.Path, pin))
	}
	err := e.fs.RemoveBecause(f.Path, why)
	e.s.Record(sim.ClassAction, "delete", f.Path+" ("+why+")", result(err))
	if err != nil {
		return
	}
	f.deleted = true
	for i, o := range e.obsolete {
		if o == f {
			e.obsolete = append(e.obsolete[:i], e.obsolete[i+1:]...)
			break
		}
	}
}

// result renders an error for a trace's result column.
func result(err error) string {
	if err != nil {
		return err.Error()
	}
	return "ok"
}
