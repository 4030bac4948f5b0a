package designs

import (
	"fmt"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// Scan is TiKV raftstore v1's snapshot generation (snap.rs do_build,
// snap/io.rs build_sst_cf_file_list and build_plain_cf_file):
//
//  1. check the region's state (TiKV reads RegionLocalState from the same
//     engine snapshot: not Normal is "snap job for N seems stale, skip")
//     and take an engine snapshot: a sequence number compaction must
//     respect, which pins data, not files;
//  2. for each column family in turn (default, lock, write), scan the
//     region with an iterator over the snapshot (snap.scan). The iterator
//     references the version current when it is created, in the same step
//     in which it picks its files, and holds it until the scan of that
//     column family ends, as a RocksDB or Pebble iterator holds its
//     version (Pebble's readState). It never lists files for a later
//     open: it opens the version's files itself, L0 files and the first
//     file of each level at its seek, a level's next file when the one
//     before is used up, as RocksDB's LevelIterator does;
//  3. inside the scan, per record, take key+value bytes from the snapshot
//     I/O limiter in chunks of scanLimiterChunk (blocking_consume inside
//     the scan callback; build_plain_cf_file, for lock, has no limiter);
//  4. write the records, as they come, into the build's file of the
//     column family (model.Output: TiKV's "gen_<key>_<cf>.<ext>.tmp",
//     finished, synced, closed and renamed before the next column family
//     starts). The system then writes the meta file, as for every design.
//
// Errors go to the shared retryPolicy like every retrying design's: a
// transient EIO on an engine file is retried in place, a failed read
// aborts the attempt (its files are removed, its references dropped), and
// the build starts over from a fresh engine snapshot. A failed write of
// the snapshot's own files wraps model.ErrSnapWrite and fails the
// snapshot, as a failed write by the system does for every other design.
// It never panics.
//
// What the model leaves out: TiKV rolls over to a new SST past
// raw_size_per_file (max-snapshot-file-raw-size, 100 MB by default) and
// checks each finished SST by reading it back (verify_checksum). The
// model's regions are far below any such size, so there is one file per
// column family, as in the pipeline's format. The crc32 in the meta file
// is computed as the bytes are written, not by reading them back.
//
// Its footprint is left undeclared (the explorer treats it as touching
// any of the engine's state).
func Scan() model.Design {
	return model.Design{
		Name:    "scan",
		Summary: "TiKV raftstore v1: an engine snapshot, then per column family an iterator over the region (it pins its version for the whole scan) with the rate limiter inside the scan; writes new snapshot files (default and write as SSTs, lock plain) as it scans; never opens a listed file; errors go to the shared retry policy; never panics",
		Needs:   model.NeedPins,
		Ops:     []model.Info{{Name: "snapshot", Summary: "the engine snapshot taken"}, {Name: "pin", Summary: "a column family's iterator referenced its version"}, {Name: "unpin", Summary: "the iterator closed"}, {Name: "open", Summary: "an engine file opened by the iterator"}, {Name: "scan", Summary: "a column family scanned into its snapshot file"}, {Name: "retry", Summary: "an attempt aborted"}},
		New:     func(c model.DesignConfig) model.Collector { return scan{cfg: c} },
	}
}

// scanLimiterChunk is how many bytes the scan takes from the I/O limiter
// at a time. TiKV takes IO_LIMITER_CHUNK_SIZE (4 KiB) per
// blocking_consume. The model's I/O unit is 256 B (engine.IOChunkBytes),
// and its files are a few hundred bytes to a few KiB, so a chunk of 4 KiB
// would be a single wait per column family.
const scanLimiterChunk = 256

type scan struct{ cfg model.DesignConfig }

// Collect implements model.Collector.
func (c scan) Collect(b model.Build) (model.Collected, error) {
	p := policyFor(c.cfg)
	return p.run(b, func(int) (model.Collected, error) { return c.attempt(b, p) })
}

func (c scan) attempt(b model.Build, p retryPolicy) (model.Collected, error) {
	e := b.Engine()
	if err := checkRegion(b.Region()); err != nil {
		return model.Collected{}, err
	}
	snapID, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(snapID)
	// The region as of the engine snapshot: its range and epoch are the
	// snapshot's (TiKV reads both from the snapshot's RegionLocalState).
	span := b.TakeSpan()
	b.Record(sim.ClassAction, "snapshot", fmt.Sprintf("engine snapshot %d at seq %d of %s", snapID, seq, &span), "ok")
	// The generation task runs after the snapshot was taken (TiKV takes it
	// on the apply thread and hands it to the region worker).
	b.Actor().Yield()

	got := model.Collected{Seq: seq, Epoch: span.Epoch, Span: span}
	var built [model.NumCFs]model.BuiltFile
	var written []string
	for _, cf := range model.CFs {
		bf, recs, files, err := c.scanCF(b, p, cf, &span, seq)
		if err != nil {
			// An aborted build leaves nothing behind: the files of the
			// column families already done go too.
			for _, w := range written {
				_ = b.FS().Remove(w, "snapshot build aborted")
			}
			return model.Collected{}, err
		}
		built[cf] = bf
		got.Data[cf] = recs
		got.Files = append(got.Files, files...)
		written = append(written, b.Output().Path(cf))
	}
	got.Built = &built
	return got, nil
}

// scanCF scans one column family of the region into its snapshot file and
// returns the file's size and crc32, the records written, and the names of
// the engine files the iterator read.
func (c scan) scanCF(b model.Build, p retryPolicy, cf model.CF, span *model.Region, seq uint64) (model.BuiltFile, []model.Record, []string, error) {
	it := newScanIter(b, p, cf, span, seq)
	defer it.close()
	w, err := b.Output().Create(cf)
	if err != nil {
		return model.BuiltFile{}, nil, nil, err
	}
	var recs []model.Record
	var quota int64
	for {
		r, ok, err := it.next()
		if err != nil {
			w.Abort("snapshot build aborted")
			return model.BuiltFile{}, nil, nil, err
		}
		if !ok {
			break
		}
		if cf != model.CFLock {
			// snap/io.rs: while entry_len > remained_quota {
			// io_limiter.blocking_consume(IO_LIMITER_CHUNK_SIZE); ... }
			entry := int64(len(r.Key) + len(r.Value))
			for entry > quota {
				b.Throttle(scanLimiterChunk)
				quota += scanLimiterChunk
			}
			quota -= entry
		}
		if err := w.Add(r); err != nil {
			return model.BuiltFile{}, nil, nil, err
		}
		recs = append(recs, r)
	}
	bf, err := w.Finish()
	if err != nil {
		return model.BuiltFile{}, nil, nil, err
	}
	b.Record(sim.ClassAction, "scan", fmt.Sprintf("%s: %d keys into %s (%d bytes)", cf, len(recs), w.Path(), bf.Size), "ok")
	return bf, recs, it.opened, nil
}

// scanIter is an engine iterator over one column family of a key range at
// an engine snapshot's sequence number, as RocksDB's DBIter over a
// snapshot or a Pebble Iterator with a snapshot: it merges the files of
// the version current at its creation, keeps for each key the newest
// record at or below the snapshot's sequence number, and skips deletions
// and keys outside the range. It holds a reference on its version from
// its creation to close: none of the version's files can become obsolete,
// so GC (the safe one) deletes none of them while it runs.
type scanIter struct {
	b    model.Build
	e    model.Pinner
	p    retryPolicy
	v    model.Version
	cf   model.CF
	span *model.Region
	seq  uint64
	srcs []*scanSource
	// opened are the names of the engine files read so far.
	opened []string
	closed bool
}

// scanSource is one sorted input of the merge: an L0 file, or the files
// of one deeper level in key order. Its records are loaded when the merge
// first needs them (open, read, decode: scheduling points).
type scanSource struct {
	files []*model.FileMeta
	recs  []model.Record
}

// newScanIter creates an iterator over cf's records in span at seq on the
// current version, and references that version in the same step as it
// picks the version's files.
func newScanIter(b model.Build, p retryPolicy, cf model.CF, span *model.Region, seq uint64) *scanIter {
	e := b.Engine().(model.Pinner)
	v := e.Current()
	e.Ref(v)
	it := &scanIter{b: b, e: e, p: p, v: v, cf: cf, span: span, seq: seq}
	files := 0
	for l := 0; l < model.NumLevels; l++ {
		var in []*model.FileMeta
		for _, f := range v.LevelFiles(cf, l) {
			if span.Overlaps(f) {
				in = append(in, f)
			}
		}
		files += len(in)
		if l == 0 {
			// L0 files overlap one another: each is its own input.
			for _, f := range in {
				it.srcs = append(it.srcs, &scanSource{files: []*model.FileMeta{f}})
			}
		} else if len(in) > 0 {
			it.srcs = append(it.srcs, &scanSource{files: in})
		}
	}
	b.Record(sim.ClassAction, "pin", fmt.Sprintf("version %d for the %s iterator (%d files in range)", v.ID(), cf, files), fmt.Sprintf("refs %d", v.Refs()))
	return it
}

// head returns the source's next record, reading its next file first if
// the one before is used up (nil when the source is exhausted).
func (it *scanIter) head(s *scanSource) (*model.Record, error) {
	for len(s.recs) == 0 && len(s.files) > 0 {
		f := s.files[0]
		s.files = s.files[1:]
		fs := it.b.FS()
		recs, err := it.p.openSST(it.b, f, func() (model.Handle, error) { return fs.Open(f.Path) })
		if err != nil {
			return nil, err
		}
		it.opened = append(it.opened, f.Name())
		s.recs = recs
	}
	if len(s.recs) == 0 {
		return nil, nil
	}
	return &s.recs[0], nil
}

// next returns the next live record of the range at the iterator's
// sequence number, in key order; ok is false at the end.
func (it *scanIter) next() (r model.Record, ok bool, err error) {
	for {
		var key string
		found := false
		for _, s := range it.srcs {
			h, err := it.head(s)
			if err != nil {
				return model.Record{}, false, err
			}
			if h != nil && (!found || h.Key < key) {
				key, found = h.Key, true
			}
		}
		if !found || (it.span.End != "" && key >= it.span.End) {
			return model.Record{}, false, nil
		}
		var newest *model.Record
		for _, s := range it.srcs {
			for {
				h, err := it.head(s)
				if err != nil {
					return model.Record{}, false, err
				}
				if h == nil || h.Key != key {
					break
				}
				if h.Seq <= it.seq && (newest == nil || h.Seq > newest.Seq) {
					rec := *h
					newest = &rec
				}
				s.recs = s.recs[1:]
			}
		}
		if newest != nil && newest.Kind == model.KindPut && it.span.Contains(key) {
			return *newest, true, nil
		}
	}
}

// close drops the iterator's version reference (once).
func (it *scanIter) close() {
	if it.closed {
		return
	}
	it.closed = true
	it.e.Unref(it.v)
	it.b.Record(sim.ClassAction, "unpin", fmt.Sprintf("version %d (%s iterator closed)", it.v.ID(), it.cf), fmt.Sprintf("refs %d", it.v.Refs()))
}
