package engine

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"

	"github.com/snapsim/snapsim/sim"
)

// ManifestName is the name of the engine's manifest file in its directory.
const ManifestName = "MANIFEST"

// manifestHeader is the first line of every manifest.
const manifestHeader = "snapsim-manifest 1"

// ErrCorruptManifest is wrapped by every manifest decoding failure.
var ErrCorruptManifest = errors.New("corrupt manifest")

// Manifest is the durable description of a version: its files, the
// sequence number its data covers and the next file number to allocate.
// The engine writes it whole (to a temp file, synced, renamed over
// MANIFEST, directory synced) before installing each version, and Recover
// rebuilds the engine from it.
//
// Encoding: text lines, then a checksum line over every byte before it:
//
//	snapsim-manifest 1
//	next-file 12
//	flushed-seq 40
//	file num=5 cf=default level=0 size=1234 maxseq=33 smallest="k001" largest="k007"
//	...
//	files 3
//	crc32 1a2b3c4d
//
// A torn or truncated manifest fails the checksum (or lacks it) and is
// reported, never half-read.
type Manifest struct {
	NextFile   uint64
	FlushedSeq uint64
	Files      []ManifestFile
}

// ManifestFile is one file of a manifest.
type ManifestFile struct {
	Num       uint64
	CF        CF
	Level     int
	SizeBytes int64
	MaxSeq    uint64
	Smallest  string
	Largest   string
}

// manifestOf describes version v with next file number next.
func manifestOf(v *Version, next uint64) Manifest {
	m := Manifest{NextFile: next, FlushedSeq: v.FlushedSeq}
	for _, f := range v.Files() {
		m.Files = append(m.Files, ManifestFile{Num: f.Num, CF: f.CF, Level: f.Level, SizeBytes: f.SizeBytes,
			MaxSeq: f.MaxSeq, Smallest: f.Smallest, Largest: f.Largest})
	}
	return m
}

// EncodeManifest renders m with its checksum line.
func EncodeManifest(m Manifest) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nnext-file %d\nflushed-seq %d\n", manifestHeader, m.NextFile, m.FlushedSeq)
	for _, f := range m.Files {
		fmt.Fprintf(&b, "file num=%d cf=%s level=%d size=%d maxseq=%d smallest=%s largest=%s\n",
			f.Num, f.CF, f.Level, f.SizeBytes, f.MaxSeq, strconv.QuoteToASCII(f.Smallest), strconv.QuoteToASCII(f.Largest))
	}
	fmt.Fprintf(&b, "files %d\n", len(m.Files))
	fmt.Fprintf(&b, "crc32 %08x\n", crc32.ChecksumIEEE(b.Bytes()))
	return b.Bytes()
}

// DecodeManifest checks the checksum and decodes a manifest; every
// failure wraps ErrCorruptManifest.
func DecodeManifest(b []byte) (Manifest, error) {
	bad := func(format string, args ...any) (Manifest, error) {
		return Manifest{}, fmt.Errorf("%w: %s", ErrCorruptManifest, fmt.Sprintf(format, args...))
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return bad("%d bytes, not ending in a complete line (torn write?)", len(b))
	}
	i := bytes.LastIndexByte(b[:len(b)-1], '\n')
	body, last := b[:i+1], string(b[i+1:len(b)-1])
	sumText, ok := strings.CutPrefix(last, "crc32 ")
	if i < 0 || !ok {
		return bad("no checksum line at the end (torn write?)")
	}
	if got := fmt.Sprintf("%08x", crc32.ChecksumIEEE(body)); sumText != got {
		return bad("crc32 %s, the manifest says %q", got, sumText)
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	if len(lines) < 4 || lines[0] != manifestHeader {
		return bad("header %q, want %q", lines[0], manifestHeader)
	}
	var m Manifest
	if _, err := fmt.Sscanf(lines[1], "next-file %d", &m.NextFile); err != nil {
		return bad("line 2 %q: want next-file N", lines[1])
	}
	if _, err := fmt.Sscanf(lines[2], "flushed-seq %d", &m.FlushedSeq); err != nil {
		return bad("line 3 %q: want flushed-seq N", lines[2])
	}
	var count int
	if _, err := fmt.Sscanf(lines[len(lines)-1], "files %d", &count); err != nil || count != len(lines)-4 {
		return bad("last line %q: want files %d", lines[len(lines)-1], len(lines)-4)
	}
	seen := map[uint64]bool{}
	for n, line := range lines[3 : len(lines)-1] {
		f, err := decodeManifestFile(line)
		if err != nil {
			return bad("line %d: %v", n+4, err)
		}
		switch {
		case seen[f.Num]:
			return bad("file %d listed twice", f.Num)
		case f.Num == 0 || f.Num >= m.NextFile:
			return bad("file %d outside 1..next-file %d", f.Num, m.NextFile)
		case f.MaxSeq > m.FlushedSeq:
			return bad("file %d has max seq %d above the flushed seq %d", f.Num, f.MaxSeq, m.FlushedSeq)
		}
		seen[f.Num] = true
		m.Files = append(m.Files, f)
	}
	return m, nil
}

// decodeManifestFile parses one "file k=v ..." line.
func decodeManifestFile(line string) (ManifestFile, error) {
	rest, ok := strings.CutPrefix(line, "file ")
	if !ok {
		return ManifestFile{}, fmt.Errorf("%q is not a file line", line)
	}
	fields := map[string]string{}
	for rest != "" {
		name, after, ok := strings.Cut(rest, "=")
		if !ok || name == "" {
			return ManifestFile{}, fmt.Errorf("malformed field at %q", rest)
		}
		var val string
		if strings.HasPrefix(after, `"`) {
			q, err := strconv.QuotedPrefix(after)
			if err != nil {
				return ManifestFile{}, fmt.Errorf("field %s: bad quoted string", name)
			}
			if val, err = strconv.Unquote(q); err != nil {
				return ManifestFile{}, fmt.Errorf("field %s: %v", name, err)
			}
			after = after[len(q):]
		} else {
			val, after, _ = strings.Cut(after, " ")
			after = " " + after
			if after == " " {
				after = ""
			}
		}
		if _, dup := fields[name]; dup {
			return ManifestFile{}, fmt.Errorf("field %s twice", name)
		}
		fields[name] = val
		if after != "" && !strings.HasPrefix(after, " ") {
			return ManifestFile{}, fmt.Errorf("field %s: junk after the value", name)
		}
		rest = strings.TrimPrefix(after, " ")
	}
	want := []string{"num", "cf", "level", "size", "maxseq", "smallest", "largest"}
	if len(fields) != len(want) {
		return ManifestFile{}, fmt.Errorf("%d fields, want %v", len(fields), want)
	}
	for _, w := range want {
		if _, ok := fields[w]; !ok {
			return ManifestFile{}, fmt.Errorf("missing field %s", w)
		}
	}
	var f ManifestFile
	var err error
	if f.Num, err = strconv.ParseUint(fields["num"], 10, 64); err != nil {
		return f, fmt.Errorf("num: %v", err)
	}
	if f.CF, err = ParseCF(fields["cf"]); err != nil {
		return f, err
	}
	if f.Level, err = strconv.Atoi(fields["level"]); err != nil || f.Level < 0 || f.Level >= NumLevels {
		return f, fmt.Errorf("level %q outside 0..%d", fields["level"], NumLevels-1)
	}
	if f.SizeBytes, err = strconv.ParseInt(fields["size"], 10, 64); err != nil || f.SizeBytes < sstFooterBytes {
		return f, fmt.Errorf("size %q: want at least %d", fields["size"], sstFooterBytes)
	}
	if f.MaxSeq, err = strconv.ParseUint(fields["maxseq"], 10, 64); err != nil {
		return f, fmt.Errorf("maxseq: %v", err)
	}
	f.Smallest, f.Largest = fields["smallest"], fields["largest"]
	if f.Smallest > f.Largest {
		return f, fmt.Errorf("smallest %q > largest %q", f.Smallest, f.Largest)
	}
	return f, nil
}

// ManifestPath returns the path of the engine's manifest.
func (e *Engine) ManifestPath() string { return path.Join(e.dir, ManifestName) }

// writeManifest makes v (with the engine's next file number) durable:
// write a temp file, sync it, rename it over MANIFEST, sync the directory.
// The rename is the commit point; the directory sync also makes every file
// created in the directory so far (the version's new SSTs among them)
// survive a crash. gen is the generation of the caller's work: a crash
// abandons the write.
func (e *Engine) writeManifest(v *Version, gen uint64) error {
	check := func() error { return e.checkGen(gen) }
	if err := check(); err != nil {
		return err
	}
	e.manifestWrites++
	tmp := path.Join(e.dir, ManifestName+"."+string(appendPadded(nil, e.manifestWrites, 6))+".tmp")
	if err := e.writeFileChecked(tmp, EncodeManifest(manifestOf(v, e.nextFile)), check); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	err := e.fs.Rename(tmp, e.ManifestPath())
	if cerr := check(); cerr != nil {
		return cerr
	}
	if err != nil {
		_ = e.fs.RemoveBecause(tmp, "manifest rename failed")
		return fmt.Errorf("write manifest: %w", err)
	}
	// Committed: the new manifest replaced the old one. A failed directory
	// sync only leaves durability to the next manifest write.
	err = e.syncDir()
	if cerr := check(); cerr != nil {
		return cerr
	}
	if err != nil {
		e.s.Record(sim.ClassAction, "manifest", "directory sync after "+ManifestName, err.Error())
	}
	return nil
}

// isManifestTemp reports whether name is a manifest temp file.
func isManifestTemp(name string) bool {
	return strings.HasPrefix(name, ManifestName+".") && strings.HasSuffix(name, ".tmp")
}

// parseSSTName returns the number of an SST file name ("000012.sst").
func parseSSTName(name string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, ".sst")
	if !ok || base == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(base, 10, 64)
	return n, err == nil
}

// Recover rebuilds the engine after its filesystem crashed
// (vfsmem.FS.Crash). It runs inside an actor (every filesystem operation
// is a scheduling point). It drops every piece of in-memory state
// (memtables, versions, leases, engine snapshots, the obsolete list, the
// deletions-disabled counter), reads the MANIFEST (missing: an empty
// engine; corrupt: an error), rebuilds the current version from it,
// removes every SST of the directory the manifest does not list ("orphan
// after crash": half-written flush and compaction outputs) and stray
// manifest temp files, and sets the next file number past every number
// seen. The sequence number becomes the manifest's FlushedSeq; recovery
// does not replay data: the caller re-applies its raft log above
// FlushedSeq with ApplyAt (or PutCF/DeleteCF) once Recover returns, and
// must not write while it runs.
//
// A transient I/O error (EIO) is retried, up to recoverAttempts attempts;
// a corrupt manifest is not. Work of the previous life (a flush, a
// compaction, a GC pass, a waiter on an engine lock) is abandoned at its
// next step with ErrCrashed. Leases
// taken before are released (their holders see them invalid); versions
// referenced before stay readable objects but pin nothing.
func (e *Engine) Recover() error {
	e.gen++
	gen := e.gen
	e.fsCrashes = e.fs.Faults().Crashes
	e.mem = [NumCFs][]Record{}
	for _, l := range e.leases {
		e.endLease(l, true)
		l.released = true
	}
	e.leases = nil
	e.endHold("", true)
	e.snapshots = nil
	e.obsolete = nil
	e.gcSkips = nil
	e.cleaners = nil // the cleaners of the previous life died with it
	e.staleEnables += e.deletionsDisabled
	e.deletionsDisabled = 0
	e.cursor = [NumCFs][NumLevels]string{}
	e.nextVersion++
	e.current = &Version{ID: e.nextVersion, refs: 1, gen: gen}
	e.live = []*Version{e.current}
	// Hold every engine lock of the new generation until recovery is done:
	// flushes and compactions of the new life wait for it.
	e.resetLocks()
	for _, l := range e.locks {
		l.held = true
	}
	e.recovering = true
	defer func() {
		if gen != e.gen {
			return // a later Recover took over
		}
		e.recovering = false
		for _, l := range e.locks {
			e.release(l)
		}
		e.wake(e.flusher)
		e.wake(e.compactor)
		e.wake(e.gc)
	}()
	for attempt := 1; ; attempt++ {
		err := e.recoverFromDisk(gen)
		if err == nil {
			return nil
		}
		e.s.Record(sim.ClassAction, "recover", e.dir, "failed: "+err.Error())
		if !errors.Is(err, syscall.EIO) || attempt == recoverAttempts || e.checkGen(gen) != nil {
			return fmt.Errorf("recover %s: %w", e.dir, err)
		}
		// A transient I/O error: try again, as a restarting process would.
		if a := e.s.Current(); a != nil {
			a.Sleep(e.opts.GCInterval)
		}
	}
}

// recoverAttempts bounds Recover's attempts when reads fail with transient
// I/O errors.
const recoverAttempts = 10

// recoverFromDisk is one attempt of Recover's I/O: read the manifest,
// remove orphans, install the recovered version.
func (e *Engine) recoverFromDisk(gen uint64) error {
	check := func() error { return e.checkGen(gen) }

	m, err := e.readManifest()
	if cerr := check(); cerr != nil {
		return cerr
	}
	if err != nil {
		return err
	}
	names, err := e.fs.List(e.dir)
	if cerr := check(); cerr != nil {
		return cerr
	}
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	listed := map[string]bool{}
	for _, n := range names {
		listed[n] = true
	}
	inManifest := map[uint64]bool{}
	v := &Version{FlushedSeq: m.FlushedSeq}
	for _, mf := range m.Files {
		if !listed[sstName(mf.Num)] {
			return fmt.Errorf("%w: it lists %s, which does not exist", ErrCorruptManifest, sstName(mf.Num))
		}
		inManifest[mf.Num] = true
		v.Levels[mf.Level] = append(v.Levels[mf.Level], &FileMeta{Num: mf.Num, CF: mf.CF, Path: e.filePath(mf.Num),
			SizeBytes: mf.SizeBytes, Smallest: mf.Smallest, Largest: mf.Largest, MaxSeq: mf.MaxSeq, Level: mf.Level})
	}
	for l := range v.Levels {
		sortLevel(l, v.Levels[l])
	}
	if err := v.Check(); err != nil {
		return fmt.Errorf("%w: %v", ErrCorruptManifest, err)
	}
	next := max(m.NextFile, e.nextFile)
	var orphans []string
	for _, n := range names {
		num, isSST := parseSSTName(n)
		if isSST {
			next = max(next, num+1)
		}
		if (isSST && !inManifest[num]) || isManifestTemp(n) {
			orphans = append(orphans, n)
		}
	}
	for _, n := range orphans {
		err := e.fs.RemoveBecause(path.Join(e.dir, n), "orphan after crash")
		if cerr := check(); cerr != nil {
			return cerr
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove orphan: %w", err)
		}
	}
	if len(orphans) > 0 {
		err := e.syncDir()
		if cerr := check(); cerr != nil {
			return cerr
		}
		if err != nil {
			return err
		}
	}
	e.nextFile = next
	e.seq = m.FlushedSeq
	e.install(v, "recovery")
	e.s.Record(sim.ClassAction, "recover", fmt.Sprintf("%s: %d files, flushed seq %d, next file %d, %d orphans removed, version %d",
		ManifestName, len(m.Files), m.FlushedSeq, next, len(orphans), v.ID), "ok")
	return nil
}

// readManifest reads and decodes the manifest; a missing one is an empty
// engine.
func (e *Engine) readManifest() (Manifest, error) {
	p := e.ManifestPath()
	h, err := e.fs.OpenExpectMissing(p)
	if errors.Is(err, os.ErrNotExist) {
		return Manifest{NextFile: 1}, nil
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("open %s: %w", p, err)
	}
	fi, err := h.Stat()
	if err != nil {
		_ = h.Close()
		return Manifest{}, fmt.Errorf("stat %s: %w", p, err)
	}
	b, err := ReadAll(h, p, fi.Size())
	if err != nil {
		return Manifest{}, err
	}
	m, err := DecodeManifest(b)
	if err != nil {
		return Manifest{}, fmt.Errorf("%s: %w", p, err)
	}
	return m, nil
}
