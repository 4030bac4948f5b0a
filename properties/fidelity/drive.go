package fidelity

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// system is one storage engine under the suite: real Pebble or the model.
// drive runs a sequence through it; every method is called from one
// goroutine (for the model: from inside its one actor).
type system interface {
	put(key, value string) error
	del(key string) error
	flush() error
	compact(start, end string) error
	// current lists the live files of the current version (without their
	// content).
	current() ([]fileDesc, error)
	// content returns what SST file p holds: the newest record of each key,
	// sorted, rendered "k003=v12" or "k005=del".
	content(p string) ([]string, error)
	// exists opens path and closes it again: false on ENOENT.
	exists(p string) (bool, error)
	// list returns the names in dir (nil if dir does not exist).
	list(dir string) ([]string, error)
	iterOpen() (iterator, error)
	checkpoint(dir string) error
	// readCheckpoint returns the keys and values a reader of the
	// checkpoint in dir sees.
	readCheckpoint(dir string) (map[string]string, error)
	// flushes returns how many memtable flushes the system has made.
	flushes() int64
	// settle waits until every obsolete file that may be deleted has been;
	// held are the files outside the current version that the open
	// iterators hold (they stay).
	settle(held map[uint64]bool) error
	// dbDir is the directory of the engine's SST files.
	dbDir() string
}

// iterator is an open iterator of a system.
type iterator interface{ close() error }

// ckptDir is the directory of the checkpoint made by op i.
func ckptDir(i int) string { return fmt.Sprintf("/ckpt/%03d", i) }

// sstNum parses "000012.sst".
func sstNum(name string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, ".sst")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(base, 10, 64)
	return n, err == nil
}

// sstName renders file number n the way both systems name SST files.
func sstName(n uint64) string { return fmt.Sprintf("%06d.sst", n) }

// driver runs one sequence through one system and records its trace.
type driver struct {
	sys system
	ops []Op
	tr  Trace
	// known maps every file number seen in a version to its descriptor, so
	// that files on disk but in no version (held by an iterator) and
	// checkpointed files can be identified.
	known map[uint64]fileDesc
	// listings holds, per op index, the canonical listing that op made (a
	// list or an iter-open).
	listings map[int][]fileDesc
	iters    map[int]iterator
	// ckpts holds, per checkpoint op, the canonical listing of its files
	// and the keys read right after it was made.
	ckpts    map[int][]fileDesc
	ckptKeys map[int]string
	prev     []fileDesc
	// unflushed counts the writes since the system last flushed, and
	// flushed is its flush count after the previous op.
	unflushed int
	flushed   int64
}

// drive runs ops through sys. An error is a failure of the harness or of
// the system itself (not an outcome): the sequence cannot be compared.
func drive(sys system, ops []Op) (Trace, error) {
	d := &driver{sys: sys, ops: ops, known: map[uint64]fileDesc{}, listings: map[int][]fileDesc{},
		iters: map[int]iterator{}, ckpts: map[int][]fileDesc{}, ckptKeys: map[int]string{}}
	for i, op := range ops {
		pending, err := d.step(i, op)
		if err != nil {
			return d.tr, fmt.Errorf("op %d (%s): %w", i, op, err)
		}
		cur, err := d.current()
		if err != nil {
			return d.tr, fmt.Errorf("op %d (%s): list: %w", i, op, err)
		}
		disk, err := d.disk()
		if err != nil {
			return d.tr, fmt.Errorf("op %d (%s): disk: %w", i, op, err)
		}
		if pending >= 0 {
			pending -= len(disk)
		}
		d.tr.State = append(d.tr.State, listingString(cur))
		d.tr.Disk = append(d.tr.Disk, diskString(disk))
		ch := diff(d.prev, cur)
		if n := d.sys.flushes(); n != d.flushed {
			ch.Absorbed, d.unflushed, d.flushed = d.unflushed, 0, n
		}
		d.tr.Change = append(d.tr.Change, ch)
		d.tr.Pending = append(d.tr.Pending, pending)
		d.prev = cur
	}
	// Every checkpoint is read again at the end: by then compactions may
	// have deleted its originals.
	for i, op := range ops {
		if op.Kind != OpCheckpoint {
			continue
		}
		kv, err := sys.readCheckpoint(ckptDir(i))
		if err != nil {
			return d.tr, fmt.Errorf("re-read checkpoint of op %d: %w", i, err)
		}
		o := Obs{Op: i, Kind: ObsCheckpoint, Value: "at end: " + kvString(kv), Expected: "at end: " + d.ckptKeys[i]}
		o.Tested = o.Value
		if d.originalsGone(i) {
			o.Truth = TruthCheckpoint
		}
		d.tr.Obs = append(d.tr.Obs, o)
	}
	// Iterators still open at the end are closed; nothing is observed.
	for i := range ops {
		if it, ok := d.iters[i]; ok {
			if err := it.close(); err != nil {
				return d.tr, fmt.Errorf("close iterator of op %d: %w", i, err)
			}
			delete(d.iters, i)
		}
	}
	return d.tr, nil
}

// current lists the current version canonically and remembers its files
// with their content (read once per file: files are immutable; a trivial
// move keeps the content and changes only the level).
func (d *driver) current() ([]fileDesc, error) {
	files, err := d.sys.current()
	if err != nil {
		return nil, err
	}
	for i, f := range files {
		if k, ok := d.known[f.num]; ok {
			files[i].content = k.content
		} else {
			c, err := d.sys.content(path.Join(d.sys.dbDir(), sstName(f.num)))
			if err != nil {
				return nil, err
			}
			files[i].content = c
		}
		d.known[f.num] = files[i]
	}
	return canonical(files), nil
}

// disk returns the SST files on disk, identified through known.
func (d *driver) disk() ([]fileDesc, error) {
	names, err := d.sys.list(d.sys.dbDir())
	if err != nil {
		return nil, err
	}
	var out []fileDesc
	for _, n := range names {
		num, ok := sstNum(n)
		if !ok {
			continue
		}
		f, ok := d.known[num]
		if !ok {
			f = fileDesc{num: num, smallest: "?", largest: "?"}
		}
		out = append(out, f)
	}
	return out, nil
}

// countSST counts the SST files on disk now.
func (d *driver) countSST() (int, error) {
	names, err := d.sys.list(d.sys.dbDir())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		if _, ok := sstNum(name); ok {
			n++
		}
	}
	return n, nil
}

// unsettled settles the system after an op that may delete files and
// returns how many SST files were on disk before settling.
func (d *driver) unsettled() (int, error) {
	n, err := d.countSST()
	if err != nil {
		return 0, err
	}
	return n, d.settle()
}

// settle settles the system, telling it how many zombie files the open
// iterators account for.
func (d *driver) settle() error {
	cur, err := d.sys.current()
	if err != nil {
		return err
	}
	in := map[uint64]bool{}
	for _, f := range cur {
		in[f.num] = true
	}
	held := map[uint64]bool{}
	for i := range d.iters {
		for _, f := range d.listings[i] {
			if !in[f.num] {
				held[f.num] = true
			}
		}
	}
	return d.sys.settle(held)
}

// pinned reports whether an open iterator's listing holds file num.
func (d *driver) pinned(num uint64) bool {
	for i := range d.iters {
		for _, f := range d.listings[i] {
			if f.num == num {
				return true
			}
		}
	}
	return false
}

// originalsGone reports whether some original of checkpoint i's files has
// left the engine's directory.
func (d *driver) originalsGone(i int) bool {
	for _, f := range d.ckpts[i] {
		ok, err := d.sys.exists(path.Join(d.sys.dbDir(), sstName(f.num)))
		if err == nil && !ok {
			return true
		}
	}
	return false
}

// step runs op i and records its observations. It returns the number of
// SST files on disk when an op that may delete files returned (before
// settling), or -1.
func (d *driver) step(i int, op Op) (int, error) {
	s := d.sys
	switch op.Kind {
	case OpPut:
		d.unflushed++
		return -1, s.put(op.Key, value(i, op.ValueBytes))
	case OpDelete:
		d.unflushed++
		return -1, s.del(op.Key)
	case OpFlush:
		return -1, s.flush()
	case OpCompact:
		if err := s.compact(op.Start, op.End); err != nil {
			return -1, err
		}
		return d.unsettled()
	case OpList, OpIterOpen:
		if op.Kind == OpIterOpen {
			it, err := s.iterOpen()
			if err != nil {
				return -1, err
			}
			d.iters[i] = it
		}
		files, err := d.current()
		if err != nil {
			return -1, err
		}
		d.listings[i] = files
		d.tr.Obs = append(d.tr.Obs, Obs{Op: i, Kind: ObsList, Value: listingString(files)})
		return -1, nil
	case OpOpen:
		files := d.listings[op.Ref]
		o := Obs{Op: i, Kind: ObsOpen, Value: outNone}
		if len(files) > 0 {
			f := files[op.Pick%len(files)]
			ok, err := s.exists(path.Join(s.dbDir(), sstName(f.num)))
			if err != nil {
				return -1, err
			}
			o.Value = outENOENT
			if ok {
				o.Value = outExists
			}
			cur, err := s.current()
			if err != nil {
				return -1, err
			}
			inCurrent := false
			for _, c := range cur {
				inCurrent = inCurrent || c.num == f.num
			}
			if !inCurrent && !d.pinned(f.num) {
				o.Truth, o.Expected = TruthStale, outENOENT
			}
		}
		o.Tested = o.Value
		d.tr.Obs = append(d.tr.Obs, o)
		return -1, nil
	case OpIterClose:
		it := d.iters[op.Ref]
		files := d.listings[op.Ref]
		before, err := d.alive(files)
		if err != nil {
			return -1, err
		}
		if err := it.close(); err != nil {
			return -1, err
		}
		delete(d.iters, op.Ref)
		n, err := d.unsettled()
		if err != nil {
			return -1, err
		}
		after, err := d.alive(files)
		if err != nil {
			return -1, err
		}
		all := make([]bool, len(files))
		for j := range all {
			all[j] = true
		}
		d.tr.Obs = append(d.tr.Obs, Obs{Op: i, Kind: ObsIterator,
			Value:    "before close " + aliveString(before) + ", after " + aliveString(after),
			Truth:    TruthIterator,
			Expected: "before close " + aliveString(all),
			Tested:   "before close " + aliveString(before)})
		return n, nil
	case OpCheckpoint:
		dir := ckptDir(i)
		if err := s.checkpoint(dir); err != nil {
			return -1, err
		}
		n, err := d.unsettled()
		if err != nil {
			return -1, err
		}
		names, err := s.list(dir)
		if err != nil {
			return -1, err
		}
		var files []fileDesc
		for _, name := range names {
			if num, ok := sstNum(name); ok {
				f, known := d.known[num]
				if !known {
					f = fileDesc{num: num, smallest: "?", largest: "?"}
				}
				files = append(files, f)
			}
		}
		files = canonical(files)
		d.ckpts[i] = files
		kv, err := s.readCheckpoint(dir)
		if err != nil {
			return -1, err
		}
		d.ckptKeys[i] = kvString(kv)
		d.tr.Obs = append(d.tr.Obs, Obs{Op: i, Kind: ObsCheckpoint, Value: listingString(files) + " keys " + kvString(kv)})
		return n, nil
	case OpOpenCheckpoint:
		files := d.ckpts[op.Ref]
		o := Obs{Op: i, Kind: ObsOpenCheckpoint, Value: outNone}
		if len(files) > 0 {
			f := files[op.Pick%len(files)]
			ok, err := s.exists(path.Join(ckptDir(op.Ref), sstName(f.num)))
			if err != nil {
				return -1, err
			}
			o.Value = outENOENT
			if ok {
				o.Value = outExists
			}
			orig, err := s.exists(path.Join(s.dbDir(), sstName(f.num)))
			if err != nil {
				return -1, err
			}
			if !orig {
				o.Truth, o.Expected = TruthCheckpoint, outExists
			}
		}
		o.Tested = o.Value
		d.tr.Obs = append(d.tr.Obs, o)
		return -1, nil
	}
	return -1, fmt.Errorf("unknown op kind %d", op.Kind)
}

// alive reports which files of a listing exist in the engine's directory,
// deletions settled.
func (d *driver) alive(files []fileDesc) ([]bool, error) {
	if err := d.settle(); err != nil {
		return nil, err
	}
	out := make([]bool, len(files))
	for j, f := range files {
		ok, err := d.sys.exists(path.Join(d.sys.dbDir(), sstName(f.num)))
		if err != nil {
			return nil, err
		}
		out[j] = ok
	}
	return out, nil
}
