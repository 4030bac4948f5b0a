package realpebble

import (
	"fmt"
	"sort"

	"github.com/cockroachdb/pebble"

	"github.com/snapsim/snapsim/model"
)

// flushSnapshot is a pebble.Snapshot taken right after a flush, so that
// it sees exactly the writes up to the flushed sequence number; refs
// counts the engine snapshots handed out on it.
type flushSnapshot struct {
	s    *pebble.Snapshot
	seq  uint64
	refs int
}

func sortedIDs(m map[uint64]*flushSnapshot) []uint64 {
	ids := make([]uint64, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// TakeSnapshot implements model.Engine: a pebble.Snapshot
// (DB.NewSnapshot) at the flushed sequence number. A design reads engine
// files, never the memtable, so the sequence number it reduces records at
// is the newest one every record of which is in a file: the newest write
// when the memtable was last flushed (the model's engine does the same:
// engine.TakeSnapshot, "at the flushed sequence of the current version").
// For Pebble to keep what is visible at that number the snapshot must be
// taken at it (compaction keeps, per key, only the newest version below
// each snapshot, and zeroes the sequence numbers of the bottom stripe:
// compaction_iter.go maybeZeroSeqnum), so the Engine takes one right
// after every flush and hands that one out, shared: the engine snapshot
// of a design is the snapshot of the last flush. Its sequence number is
// unexported (snapshot.go); the Engine knows it from Batch.SeqNum.
//
// It also reads, once per flush snapshot handed out, every key and value
// through that snapshot with Pebble's own iterator (Snapshot.NewIter,
// closed in the same step), for the report's check of what the design
// collected (view, dropViews).
func (e *Engine) TakeSnapshot() (id, seq uint64) {
	e.nextID++
	if _, ok := e.views[e.flushSnap.seq]; !ok {
		kv, err := readAll(e.flushSnap.s, e.flushSnap.seq)
		if err != nil {
			panic(fmt.Sprintf("realpebble: read through the snapshot of seq %d: %v", e.flushSnap.seq, err))
		}
		e.views[e.flushSnap.seq] = kv
	}
	if e.snapshotAtNewestWrite {
		// The negative control: a fresh snapshot, which protects what is
		// visible at the newest write, not at the flushed seq returned.
		e.snaps[e.nextID] = &flushSnapshot{s: e.db.NewSnapshot(), seq: e.flushedSeq, refs: 1}
		return e.nextID, e.flushedSeq
	}
	e.flushSnap.refs++
	e.snaps[e.nextID] = e.flushSnap
	return e.nextID, e.flushSnap.seq
}

// view returns what Pebble's iterator read through the engine snapshot at
// seq, sorted by key.
func (e *Engine) view(seq uint64) ([]model.Record, bool) {
	kv, ok := e.views[seq]
	return kv, ok
}

// dropViews forgets the views once a build is over, checked or not (a
// later TakeSnapshot reads its view again), so that they stay as few as
// the snapshots of the build in progress.
func (e *Engine) dropViews() { clear(e.views) }

// readAll reads every live key of s, in key order, as records at seq.
func readAll(s *pebble.Snapshot, seq uint64) ([]model.Record, error) {
	it, err := s.NewIter(nil)
	if err != nil {
		return nil, err
	}
	var kv []model.Record
	for ok := it.First(); ok; ok = it.Next() {
		kv = append(kv, model.Record{CF: model.CFDefault, Key: string(it.Key()), Seq: seq, Kind: model.KindPut, Value: string(it.Value())})
	}
	return kv, it.Close()
}

// flushed records that the memtable was flushed: every write up to
// lastSeq is in a file. It takes the flush's snapshot (at flushedSeq+1,
// no write in between) and closes the previous one if no design holds
// it.
func (e *Engine) flushed() error {
	e.flushedSeq = e.lastSeq
	if e.flushSnap.seq == e.flushedSeq {
		return nil
	}
	old := e.flushSnap
	e.flushSnap = &flushSnapshot{s: e.db.NewSnapshot(), seq: e.flushedSeq}
	if old.refs == 0 {
		if err := old.s.Close(); err != nil {
			return fmt.Errorf("close the snapshot of seq %d: %w", old.seq, err)
		}
	}
	return nil
}

// ReleaseSnapshot implements model.Engine: the snapshot's Snapshot.Close
// once no design holds it and a later flush has replaced it. An unknown id
// panics (a design's bug).
func (e *Engine) ReleaseSnapshot(id uint64) {
	fs, ok := e.snaps[id]
	if !ok {
		panic(fmt.Sprintf("realpebble: ReleaseSnapshot(%d): no such snapshot open", id))
	}
	delete(e.snaps, id)
	fs.refs--
	if fs.refs == 0 && fs != e.flushSnap {
		if err := fs.s.Close(); err != nil {
			panic(fmt.Sprintf("realpebble: close snapshot of seq %d: %v", fs.seq, err))
		}
	}
}
