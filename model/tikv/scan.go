package tikv

import (
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/snapsim/snapsim/sim"
)

func init() {
	registerCollector("scan",
		"TiKV raftstore v1: an engine snapshot, then per column family an iterator over the region (it pins its version for the whole scan) with the rate limiter inside the scan; writes new snapshot files (default and write as SSTs, lock plain) as it scans; never opens a listed file; errors go to the shared retry policy; never panics",
		func(c Config) Collector { return scan{cfg: c} })
}

// scanLimiterChunk is how many bytes the scan takes from the I/O limiter
// at a time. TiKV takes IO_LIMITER_CHUNK_SIZE (4 KiB) per
// blocking_consume. The model's I/O unit is ioChunkBytes (256 B), and its
// files are a few hundred bytes to a few KiB, so a chunk of 4 KiB would be
// a single wait per column family.
const scanLimiterChunk = ioChunkBytes

// scan is TiKV raftstore v1's snapshot generation (snap.rs do_build,
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
//  4. write the records, as they come, into a new file in SnapDir: an SST
//     for default and write, the plain format for lock, each
//     "gen_<key>_<cf>.<ext>.tmp"; finish, sync, close and rename it before
//     the next column family starts. The pipeline then writes the meta
//     file, as for every design.
//
// Errors go to the shared retryPolicy like every retrying design's: a
// transient EIO on an engine file is retried in place, a failed read
// aborts the attempt (its files are removed, its references dropped), and
// the build starts over from a fresh engine snapshot. A failed write of
// the snapshot's own files wraps ErrSnapWrite and fails the snapshot, as
// a failed write by the pipeline does for every other design. It never
// panics.
//
// What the model leaves out: TiKV rolls over to a new SST past
// raw_size_per_file (max-snapshot-file-raw-size, 100 MB by default) and
// checks each finished SST by reading it back (verify_checksum). The
// model's regions are far below any such size, so there is one file per
// column family, as in the pipeline's format. The crc32 in the meta file
// is computed as the bytes are written, not by reading them back.
type scan struct{ cfg Config }

// Collect implements Collector.
func (c scan) Collect(g *Gen) (Collected, error) {
	p := policyFor(c.cfg)
	return p.run(g, func(int) (Collected, error) { return c.attempt(g, p) })
}

func (c scan) attempt(g *Gen, p retryPolicy) (Collected, error) {
	n := g.Node
	e := n.Engine
	switch g.Region.State {
	case RegionNormal:
	case RegionTombstone:
		return Collected{}, fmt.Errorf("%w: region %d", ErrRegionGone, g.Region.ID)
	default:
		return Collected{}, ErrRegionBusy
	}
	snapID, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(snapID)
	// The region as of the engine snapshot: its range and epoch are the
	// snapshot's (TiKV reads both from the snapshot's RegionLocalState).
	g.span = *g.Region
	n.s.Record(sim.ClassAction, "snapshot", fmt.Sprintf("engine snapshot %d at seq %d of %s", snapID, seq, &g.span), "ok")
	// The generation task runs after the snapshot was taken (TiKV takes it
	// on the apply thread and hands it to the region worker).
	g.Actor.Yield()

	got := Collected{Seq: seq, Epoch: g.span.Epoch, Span: g.span}
	var built [NumCFs]builtCF
	var written []string
	for _, cf := range CFs {
		b, recs, files, err := c.scanCF(g, p, cf, seq)
		if err != nil {
			// An aborted build leaves nothing behind: the files of the
			// column families already done go too.
			for _, w := range written {
				_ = n.FS.RemoveBecause(w, "snapshot build aborted")
			}
			return Collected{}, err
		}
		built[cf] = b
		got.Data[cf] = recs
		got.Files = append(got.Files, files...)
		written = append(written, snapFile(prefixGen, g.Key, cf))
	}
	got.built = &built
	return got, nil
}

// scanCF scans one column family of the region into its snapshot file and
// returns the file's size and crc32, the records written, and the names of
// the engine files the iterator read.
func (c scan) scanCF(g *Gen, p retryPolicy, cf CF, seq uint64) (builtCF, []Record, []string, error) {
	n := g.Node
	it := newScanIter(g, p, cf, &g.span, seq)
	defer it.close()
	w, err := createSnapCFWriter(n, cf, snapFile(prefixGen, g.Key, cf))
	if err != nil {
		return builtCF{}, nil, nil, err
	}
	var recs []Record
	var quota int64
	for {
		r, ok, err := it.next()
		if err != nil {
			w.abort("snapshot build aborted")
			return builtCF{}, nil, nil, err
		}
		if !ok {
			break
		}
		if cf != CFLock {
			// snap/io.rs: while entry_len > remained_quota {
			// io_limiter.blocking_consume(IO_LIMITER_CHUNK_SIZE); ... }
			entry := int64(len(r.Key) + len(r.Value))
			for entry > quota {
				g.throttle(scanLimiterChunk)
				quota += scanLimiterChunk
			}
			quota -= entry
		}
		if err := w.add(r); err != nil {
			return builtCF{}, nil, nil, err
		}
		recs = append(recs, r)
	}
	b, err := w.finish()
	if err != nil {
		return builtCF{}, nil, nil, err
	}
	n.s.Record(sim.ClassAction, "scan", fmt.Sprintf("%s: %d keys into %s (%d bytes)", cf, len(recs), w.final, b.size), "ok")
	return b, recs, it.opened, nil
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
	g    *Gen
	p    retryPolicy
	v    *Version
	cf   CF
	span *Region
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
	files []*FileMeta
	recs  []Record
}

// newScanIter creates an iterator over cf's records in span at seq on the
// current version, and references that version in the same step as it
// picks the version's files.
func newScanIter(g *Gen, p retryPolicy, cf CF, span *Region, seq uint64) *scanIter {
	e := g.Node.Engine
	v := e.Current()
	e.Ref(v)
	it := &scanIter{g: g, p: p, v: v, cf: cf, span: span, seq: seq}
	files := 0
	for l := 0; l < NumLevels; l++ {
		var in []*FileMeta
		for _, f := range v.LevelFiles(cf, l) {
			if overlaps(f, span) {
				in = append(in, f)
			}
		}
		files += len(in)
		if l == 0 {
			// L0 files overlap one another: each is its own input.
			for _, f := range in {
				it.srcs = append(it.srcs, &scanSource{files: []*FileMeta{f}})
			}
		} else if len(in) > 0 {
			it.srcs = append(it.srcs, &scanSource{files: in})
		}
	}
	g.Node.s.Record(sim.ClassAction, "pin", fmt.Sprintf("version %d for the %s iterator (%d files in range)", v.ID, cf, files), fmt.Sprintf("refs %d", v.Refs()))
	return it
}

// head returns the source's next record, reading its next file first if
// the one before is used up (nil when the source is exhausted).
func (it *scanIter) head(s *scanSource) (*Record, error) {
	for len(s.recs) == 0 && len(s.files) > 0 {
		f := s.files[0]
		s.files = s.files[1:]
		fs := it.g.Node.FS
		recs, err := it.p.openSST(it.g, f, func() (vfs.File, error) { return fs.Open(f.Path) })
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
func (it *scanIter) next() (r Record, ok bool, err error) {
	for {
		var key string
		found := false
		for _, s := range it.srcs {
			h, err := it.head(s)
			if err != nil {
				return Record{}, false, err
			}
			if h != nil && (!found || h.Key < key) {
				key, found = h.Key, true
			}
		}
		if !found || (it.span.End != "" && key >= it.span.End) {
			return Record{}, false, nil
		}
		var newest *Record
		for _, s := range it.srcs {
			for {
				h, err := it.head(s)
				if err != nil {
					return Record{}, false, err
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
		if newest != nil && newest.Kind == KindPut && it.span.Contains(key) {
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
	it.g.Node.Engine.Unref(it.v)
	it.g.Node.s.Record(sim.ClassAction, "unpin", fmt.Sprintf("version %d (%s iterator closed)", it.v.ID, it.cf), fmt.Sprintf("refs %d", it.v.Refs()))
}

// builtCF is one column family's snapshot file as written: its size and
// crc32, for the meta file.
type builtCF struct {
	size int64
	crc  uint32
}

// snapCFWriter writes one column family's snapshot file as records come
// (TiKV's SstWriter, or the plain writer of build_plain_cf_file): to
// final+".tmp" in chunks of ioChunkBytes, then the footer, sync, close and
// rename to final. The bytes are exactly encodeCF's for the same records.
type snapCFWriter struct {
	n          *Node
	cf         CF
	tmp, final string
	f          vfs.File
	// pending holds encoded bytes not yet written.
	pending []byte
	// body is the crc32 of the entries (the footer's checksum), file the
	// crc32 of every byte written (the meta file's).
	body, file uint32
	count      int
	size       int64
}

// createSnapCFWriter creates the temporary file of cf's snapshot file.
func createSnapCFWriter(n *Node, cf CF, final string) (*snapCFWriter, error) {
	w := &snapCFWriter{n: n, cf: cf, tmp: final + ".tmp", final: final}
	f, err := n.FS.Create(w.tmp)
	if err != nil {
		return nil, fmt.Errorf("%w: create %s: %w", ErrSnapWrite, w.tmp, err)
	}
	w.f = f
	return w, nil
}

// add appends one record (records come in key order).
func (w *snapCFWriter) add(r Record) error {
	var b []byte
	if w.cf == CFLock {
		b = []byte(lockLine(r))
	} else {
		b = appendSSTEntry(nil, r)
	}
	w.body = crc32.Update(w.body, crc32.IEEETable, b)
	w.count++
	w.pending = append(w.pending, b...)
	return w.flush(false)
}

// flush writes the pending bytes in chunks of ioChunkBytes; all writes
// the last, short chunk too.
func (w *snapCFWriter) flush(all bool) error {
	for len(w.pending) >= ioChunkBytes || (all && len(w.pending) > 0) {
		chunk := w.pending[:min(ioChunkBytes, len(w.pending))]
		if _, err := w.f.Write(chunk); err != nil {
			w.abort("partial write")
			return fmt.Errorf("%w: write %s: %w", ErrSnapWrite, w.tmp, err)
		}
		w.file = crc32.Update(w.file, crc32.IEEETable, chunk)
		w.size += int64(len(chunk))
		w.pending = w.pending[len(chunk):]
	}
	return nil
}

// finish writes the footer, syncs, closes and renames the file into place.
func (w *snapCFWriter) finish() (builtCF, error) {
	if w.cf == CFLock {
		w.pending = append(w.pending, lockFooter(w.body, w.count)...)
	} else {
		w.pending = appendSSTFooter(w.pending, w.count, w.body)
	}
	if err := w.flush(true); err != nil {
		return builtCF{}, err
	}
	if err := w.f.Sync(); err != nil {
		w.abort("sync failed")
		return builtCF{}, fmt.Errorf("%w: sync %s: %w", ErrSnapWrite, w.tmp, err)
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		w.abort("close failed")
		return builtCF{}, fmt.Errorf("%w: close %s: %w", ErrSnapWrite, w.tmp, err)
	}
	if err := w.n.FS.Rename(w.tmp, w.final); err != nil {
		w.abort("rename failed")
		return builtCF{}, fmt.Errorf("%w: rename %s: %w", ErrSnapWrite, w.final, err)
	}
	return builtCF{size: w.size, crc: w.file}, nil
}

// abort closes and removes the temporary file.
func (w *snapCFWriter) abort(why string) {
	if w.f != nil {
		_ = w.f.Close()
		w.f = nil
	}
	_ = w.n.FS.RemoveBecause(w.tmp, why)
}

// lockLine is one record of the plain lock file format (snapfile.go).
func lockLine(r Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\t%d\t%d\t%s\n", r.Key, r.Seq, r.Kind, r.Value)
	return b.String()
}

// lockFooter is the plain lock file's footer over a body with crc32 sum.
func lockFooter(sum uint32, count int) string {
	return fmt.Sprintf("#crc32=%08x count=%d\n", sum, count)
}
