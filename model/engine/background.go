package engine

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/snapsim/snapsim/sim"
)

// This file holds the engine's flush and the obsolete-file deleter (GC);
// compaction is in compaction.go. Each runs as a daemon actor.

// FlushLoop is the flusher actor: it flushes the memtables whenever they
// reach the threshold.
func (e *Engine) FlushLoop(a *sim.Actor) {
	for {
		if e.MemLen() < e.opts.FlushThreshold || e.Down() || e.recovering {
			a.Park()
			continue
		}
		if err := e.Flush(); err != nil {
			e.s.Record(sim.ClassAction, "flush", "failed", err.Error())
			a.Sleep(e.opts.GCInterval)
		}
	}
}

// Flush is an atomic flush: every non-empty column family's memtable is
// written to new L0 files (create, chunked writes, sync, close), then ONE
// version with all of them, and FlushedSeq the last sequence number they
// include, is made durable in the MANIFEST and installed. Writes that
// arrive meanwhile go to fresh memtables. Flushes run one at a time, in
// order. On failure nothing is installed, the new files are removed and
// the records go back in front of later writes.
//
// What a column family's files hold is what Pebble's flush writes (its
// flush runs the compaction iterator over the memtable and, with
// FlushSplitBytes > 0, the default, cuts the output at L0's target file
// size, aligned with the base level's files): each key's newest record,
// plus any older one an engine snapshot still sees, cut where Pebble would
// cut it (splitOutputs, with the base level's files as grandparents), so
// one flush may write several non-overlapping L0 files per column family.
func (e *Engine) Flush() error {
	if e.MemLen() == 0 {
		return nil
	}
	gen := e.gen
	unlock, err := e.acquire(lockFlush, gen)
	if err != nil {
		return err
	}
	defer unlock()
	if e.MemLen() == 0 {
		return nil // flushed by whoever held the lock
	}
	imm := e.mem
	e.mem = [NumCFs][]Record{}
	flushed := e.seq
	check := func() error { return e.checkGen(gen) }
	var files []*FileMeta
	var counts []int
	fail := func(err error) error {
		if errors.Is(err, ErrCrashed) {
			return err // the memtables died with the engine's previous life
		}
		for _, f := range files {
			_ = e.fs.RemoveBecause(f.Path, "flush failed")
		}
		for cf := range e.mem {
			e.mem[cf] = append(imm[cf], e.mem[cf]...)
		}
		return err
	}
	for _, cf := range CFs {
		if len(imm[cf]) == 0 {
			continue
		}
		kept := e.retain(append([]Record(nil), imm[cf]...))
		// Pebble's flush splits against the base level's files.
		lo, hi := KeyRange(kept)
		gps := overlapping(e.current.LevelFiles(cf, baseLevel(e.current, cf)), lo, hi)
		for _, recs := range splitOutputs(kept, e.opts.TargetFileBytes, gps) {
			num := e.newFileNum()
			f := &FileMeta{Num: num, CF: cf, Path: e.filePath(num), Level: 0}
			data := EncodeSST(recs)
			if err := e.writeFileChecked(f.Path, data, check); err != nil {
				return fail(err)
			}
			f.SizeBytes = int64(len(data))
			f.Smallest, f.Largest = KeyRange(recs)
			for _, r := range recs {
				f.MaxSeq = max(f.MaxSeq, r.Seq)
			}
			files = append(files, f)
			counts = append(counts, len(recs))
		}
	}
	reason := "flush of " + Names(files)
	v, err := e.logAndApply(gen, reason, func(v *Version) {
		v.Levels[0] = append(v.Levels[0], files...)
		v.FlushedSeq = flushed
	})
	if err != nil {
		return fail(err)
	}
	detail := ""
	if e.s.Tracing() {
		parts := make([]string, len(files))
		total := 0
		for i, f := range files {
			parts[i] = fmt.Sprintf("%s (%s, %d records)", f.Name(), f.CF, counts[i])
			total += counts[i]
		}
		detail = fmt.Sprintf("L0 %s: %d records, seq<=%d, version %d", strings.Join(parts, " "), total, flushed, v.ID)
	}
	e.s.Record(sim.ClassAction, "flush", detail, "ok")
	if e.CompactionDue() {
		e.wake(e.compactor)
	}
	return nil
}

func KeyRange(recs []Record) (string, string) {
	if len(recs) == 0 {
		return "", ""
	}
	lo, hi := recs[0].Key, recs[0].Key
	for _, r := range recs[1:] {
		lo, hi = min(lo, r.Key), max(hi, r.Key)
	}
	return lo, hi
}

// GCLoop is the obsolete-file deleter. It deletes the obsolete files that
// no live version references and no lease covers, and when it does depends
// on the engine's GCMode:
//
//   - GCPrompt (the default): a pass runs as soon as GC is woken (by Unref,
//     EnableDeletions, ReleaseLease or a file made obsolete by an actor
//     that does not delete it itself), with no interval. While some
//     obsolete file is held by a lease it re-checks every GCInterval, so a
//     lease expiring lets its files go within one interval (a lease ends
//     without anyone acting; Pebble has no leases).
//   - GCDelayed (the model's original deleter): every pass is preceded by
//     a GCInterval sleep, and GC keeps polling every GCInterval while a
//     lease holds a file (or a file became obsolete during the pass).
//
// When only version references hold files back, or deletions are
// disabled, it parks until one of the wake-ups above. A poll that follows
// a pass which tried to delete nothing is an idle wait
// (sim.Actor.SleepIdle): GC has done all it can until a lease ends, which
// is what a scenario's "run gc until idle" waits for.
func (e *Engine) GCLoop(a *sim.Actor) {
	idle := false // the last pass tried nothing and GC polls again
	for {
		if len(e.obsolete) == 0 || e.deletionsDisabled > 0 || e.Down() || e.recovering {
			idle = false
			a.Park()
			continue
		}
		switch {
		case idle:
			a.SleepIdle(e.opts.GCInterval)
		case e.opts.GCMode == GCDelayed:
			a.Sleep(e.opts.GCInterval)
		}
		tried := e.gcPass()
		idle = tried == 0
		if !e.gcMustPoll() {
			idle = false
			a.Park()
		}
	}
}

// gcMustPoll reports whether some obsolete file is not waiting for a
// version reference: it is deletable now (it may have become obsolete
// while the pass ran, when a wake-up finds GC busy and is lost) or held
// by a lease, which ends without waking anyone. A file another actor is
// deleting right now is not GC's to wait for.
func (e *Engine) gcMustPoll() bool {
	for _, f := range e.obsolete {
		if f.state().deleting {
			continue
		}
		if e.opts.EagerGC || !e.inLiveVersion(f.Num) {
			return true
		}
	}
	return false
}

// nextLeaseEnd returns how long until the earliest lease that covers an
// obsolete file stops protecting it.
func (e *Engine) nextLeaseEnd() (sim.Micros, bool) {
	now := e.s.Now()
	var best sim.Micros
	found := false
	for _, f := range e.obsolete {
		for _, l := range e.leases {
			if l.covers(f.Num, now, e.gcGrace()) {
				end := l.Expiry + e.gcGrace() - now
				if !found || end < best {
					best, found = end, true
				}
			}
		}
	}
	return best, found
}

// gcPass deletes every currently deletable obsolete file, oldest first,
// and returns how many deletions it attempted. The eager variant ignores
// pins; nothing is deleted while deletions are disabled, nor after a crash
// the engine has not recovered from. A file kept because a lease (or a
// live version) still protects it is recorded as a gc-skip event, once per
// file and reason (a renewal of the same lease is the same reason; a new
// lease, or the file becoming deletable in between, is a new one), so a
// safe GC's decision shows in the trace instead of as an absence.
func (e *Engine) gcPass() int {
	gen := e.gen
	tried := 0
	for _, f := range append([]*FileMeta(nil), e.obsolete...) {
		if e.deletionsDisabled > 0 || e.checkGen(gen) != nil {
			return tried
		}
		if f.state().deleting || f.Deleted() {
			continue // another actor is deleting it (cleanNow)
		}
		if !e.opts.EagerGC {
			if p := e.pinOf(f); !p.none() {
				e.noteSkip(f, p)
				continue
			}
		}
		tried++
		e.deleteFile(f)
	}
	return tried
}

// gcSkip remembers the reason GC last recorded for keeping file num.
type gcSkip struct {
	num uint64
	pin pinKey
}

// noteSkip records a gc-skip event for f unless the same reason was the
// last one recorded for it.
func (e *Engine) noteSkip(f *FileMeta, p filePin) {
	k := p.key()
	for i := range e.gcSkips {
		if e.gcSkips[i].num == f.Num {
			if e.gcSkips[i].pin == k {
				return
			}
			e.gcSkips[i].pin = k
			e.recordSkip(f, p)
			return
		}
	}
	e.gcSkips = append(e.gcSkips, gcSkip{num: f.Num, pin: k})
	e.recordSkip(f, p)
}

func (e *Engine) recordSkip(f *FileMeta, p filePin) {
	e.s.Record(sim.ClassInfo, "gc-skip", f.Path+" ("+e.describePin(p)+")", "kept")
}

// forgetSkip drops f's gc-skip mark: it was deleted or found deletable,
// so a later skip is a new reason.
func (e *Engine) forgetSkip(num uint64) {
	for i := range e.gcSkips {
		if e.gcSkips[i].num == num {
			last := len(e.gcSkips) - 1
			e.gcSkips[i] = e.gcSkips[last]
			e.gcSkips = e.gcSkips[:last]
			return
		}
	}
}

// cleanNow is the prompt deleter of GCPrompt mode, run by the actor whose
// version change made files obsolete, right after it installed the
// version (cleanAfter): it deletes every obsolete file that is deletable
// now, oldest first, with the same rules as gcPass (pins honoured unless
// EagerGC, nothing while deletions are disabled or after a crash). It
// records no gc-skip events: what it leaves is GC's, which is woken for
// it and records its own decisions.
func (e *Engine) cleanNow() {
	gen := e.gen
	for _, f := range append([]*FileMeta(nil), e.obsolete...) {
		if e.deletionsDisabled > 0 || e.checkGen(gen) != nil {
			return
		}
		if f.state().deleting || f.Deleted() || (!e.opts.EagerGC && !e.pinOf(f).none()) {
			continue
		}
		e.deleteFile(f)
	}
}

// deleteFile removes an obsolete file. Whether the file was pinned is
// judged right after the removal, in the same step (nothing runs between
// the removal and the check): a deletion of a file a live version or
// lease still protects is a gc-deleted-pinned-file violation. A file
// someone else already removed leaves the obsolete list; any other failed
// removal keeps it there for a later pass.
func (e *Engine) deleteFile(f *FileMeta) {
	e.forgetSkip(f.Num)
	why := "obsolete after " + f.replacedBy()
	fate := f.state()
	fate.deleting = true
	e.deletesInFlight++
	err := func() error {
		// A deleter killed in the removal's scheduling point (its node
		// crashed) unwinds through here.
		defer func() {
			if e.deletesInFlight--; e.deletesInFlight == 0 {
				for _, w := range e.deleteWaiters {
					e.s.Wake(w)
				}
				e.deleteWaiters = nil
			}
		}()
		return e.fs.RemoveBecause(f.Path, why)
	}()
	fate.deleting = false
	e.s.Record(sim.ClassAction, "delete", f.Path+" ("+why+")", result(err))
	switch {
	case errors.Is(err, os.ErrNotExist):
		// Gone already (removed by someone else): nothing left to delete.
	case err != nil:
		return // kept for a later pass
	default:
		e.deletions = append(e.deletions, Deletion{Path: f.Path, Actor: e.actorName(), Step: e.s.Step(), Time: e.s.Now()})
		if pin := e.pinnedBy(f); pin != "" {
			e.s.Observe(sim.KindGCDeletedPinnedFile, fmt.Sprintf("%s deleted while %s", f.Path, pin))
		}
	}
	fate.deleted = true
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
