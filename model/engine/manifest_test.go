package engine

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

func sampleManifest() Manifest {
	return Manifest{NextFile: 42, FlushedSeq: 99, Files: []ManifestFile{
		{Num: 7, CF: CFDefault, Level: 0, SizeBytes: 120, MaxSeq: 99, Smallest: "k001", Largest: "k007"},
		{Num: 3, CF: CFWrite, Level: 2, SizeBytes: 4000, MaxSeq: 12, Smallest: "a b", Largest: "z\"\x00\xff"},
		{Num: 41, CF: CFLock, Level: 3, SizeBytes: 12, MaxSeq: 0, Smallest: "", Largest: ""},
	}}
}

func TestManifestRoundTrip(t *testing.T) {
	m := sampleManifest()
	b := EncodeManifest(m)
	got, err := DecodeManifest(b)
	require.NoError(t, err)
	assert.Equal(t, m, got)
	assert.True(t, strings.HasPrefix(string(b), "snapsim-manifest 1\nnext-file 42\nflushed-seq 99\n"), "%s", b)
	assert.Contains(t, string(b), `file num=3 cf=write level=2 size=4000 maxseq=12 smallest="a b" largest="z\"\x00\xff"`)

	empty, err := DecodeManifest(EncodeManifest(Manifest{NextFile: 1}))
	require.NoError(t, err)
	assert.Equal(t, Manifest{NextFile: 1}, empty)
}

func requireCorruptManifest(t *testing.T, b []byte, what string) {
	t.Helper()
	_, err := DecodeManifest(b)
	require.Error(t, err, what)
	require.True(t, errors.Is(err, ErrCorruptManifest), "%s: %v does not wrap ErrCorruptManifest", what, err)
}

// A torn write (any prefix), a cut front or any flipped byte is detected.
func TestManifestTornOrCorruptIsDetected(t *testing.T) {
	b := EncodeManifest(sampleManifest())
	for n := 0; n < len(b); n++ {
		requireCorruptManifest(t, b[:n], fmt.Sprintf("truncated to %d", n))
	}
	for n := 1; n < len(b); n++ {
		requireCorruptManifest(t, b[n:], fmt.Sprintf("first %d bytes cut", n))
	}
	for i := range b {
		for _, mask := range []byte{0x01, 0x20, 0x80} {
			c := slices.Clone(b)
			c[i] ^= mask
			requireCorruptManifest(t, c, fmt.Sprintf("byte %d ^ %#x", i, mask))
		}
	}
	requireCorruptManifest(t, append(slices.Clone(b), b...), "written twice")
}

// reseal recomputes the checksum line so that only the structural checks
// can reject the text.
func reseal(text string) []byte {
	body := text[:strings.LastIndex(strings.TrimSuffix(text, "\n"), "\n")+1]
	return fmt.Appendf(nil, "%scrc32 %08x\n", body, crcOf([]byte(body)))
}

func TestManifestStructuralChecks(t *testing.T) {
	good := string(EncodeManifest(sampleManifest()))
	require.Equal(t, []byte(good), reseal(good))
	cases := map[string]func(string) string{
		"header":            func(s string) string { return strings.Replace(s, "snapsim-manifest 1", "snapsim-manifest 2", 1) },
		"want next-file":    func(s string) string { return strings.Replace(s, "next-file 42", "next-file x", 1) },
		"want flushed-seq":  func(s string) string { return strings.Replace(s, "flushed-seq", "flushed", 1) },
		"want files 3":      func(s string) string { return strings.Replace(s, "files 3", "files 2", 1) },
		"listed twice":      func(s string) string { return strings.Replace(s, "num=41", "num=7", 1) },
		"outside 1..":       func(s string) string { return strings.Replace(s, "num=41", "num=42", 1) },
		"above the flushed": func(s string) string { return strings.Replace(s, "maxseq=12", "maxseq=100", 1) },
		"unknown column":    func(s string) string { return strings.Replace(s, "cf=lock", "cf=raft", 1) },
		"level":             func(s string) string { return strings.Replace(s, "level=3", "level=4", 1) },
		"size":              func(s string) string { return strings.Replace(s, "size=12 ", "size=11 ", 1) },
		"smallest":          func(s string) string { return strings.Replace(s, `smallest="k001"`, `smallest="k009"`, 1) },
		"missing field":     func(s string) string { return strings.Replace(s, "maxseq=99 ", "maxsq=99 ", 1) },
		"fields, want":      func(s string) string { return strings.Replace(s, "maxseq=99 ", "", 1) },
		"twice":             func(s string) string { return strings.Replace(s, "maxseq=99 ", "num=8 ", 1) },
		"bad quoted":        func(s string) string { return strings.Replace(s, `largest="k007"`, `largest="k007`, 1) },
		"not a file line":   func(s string) string { return strings.Replace(s, "file num=7", "fil num=7", 1) },
	}
	for want, mut := range cases {
		bad := mut(good)
		require.NotEqual(t, good, bad, want)
		b := reseal(bad)
		requireCorruptManifest(t, b, want)
		_, err := DecodeManifest(b)
		assert.Contains(t, err.Error(), want)
	}
}

// Every install writes the version to MANIFEST through a synced temp file
// and a rename, then syncs the directory.
func TestInstallWritesManifest(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	e := r.e
	var manifests []Manifest
	snap := func() {
		manifests = append(manifests, mustDecodeManifest(t, readFile(t, r.fs, e.ManifestPath())))
	}
	r.run(t, func(a *sim.Actor) {
		e.Put("a", "1")
		e.PutCF(CFWrite, "b", "2")
		assert.NoError(t, e.Flush())
		snap()
		e.Put("a", "3")
		assert.NoError(t, e.Flush())
		snap()
		assert.NoError(t, e.Compact())
		snap()
	})
	assert.Equal(t, Manifest{NextFile: 3, FlushedSeq: 2, Files: []ManifestFile{
		{Num: 1, CF: CFDefault, Level: 0, SizeBytes: e.current.Levels[0][0].SizeBytes, MaxSeq: 1, Smallest: "a", Largest: "a"},
		{Num: 2, CF: CFWrite, Level: 0, SizeBytes: e.current.Levels[0][0].SizeBytes, MaxSeq: 2, Smallest: "b", Largest: "b"},
	}}, manifests[0])
	assert.Len(t, manifests[1].Files, 3)
	assert.Equal(t, uint64(3), manifests[1].FlushedSeq)
	assert.Equal(t, manifestOf(e.Current(), e.nextFile), manifests[2])
	assert.Equal(t, []uint64{2, 4}, fileNums(e.Current().Files()), "write's L0 file stays; default went to L1")

	// Temp file, data sync, rename, directory sync, in that order.
	var ops []string
	for _, ev := range r.s.Result().Events {
		if ev.Class == sim.ClassIO && ev.Actor == "script" && ev.Op != "stat" && (strings.Contains(ev.Detail, ManifestName) || ev.Detail == DBDir) {
			ops = append(ops, ev.Op+" "+path.Base(strings.Fields(ev.Detail)[0]))
		}
	}
	require.GreaterOrEqual(t, len(ops), 3)
	assert.Equal(t, "create MANIFEST.000001.tmp", ops[0])
	i := slices.Index(ops, "rename MANIFEST.000001.tmp")
	require.Positive(t, i, "%v", ops)
	assert.Equal(t, "sync MANIFEST.000001.tmp", ops[i-2])
	assert.Equal(t, "close MANIFEST.000001.tmp", ops[i-1])
	assert.Equal(t, []string{"open-dir db", "sync db", "close db"}, ops[i+1:i+4])
	names, err := r.fs.List(DBDir)
	require.NoError(t, err)
	assert.Contains(t, names, ManifestName)
	for _, n := range names {
		assert.False(t, isManifestTemp(n), "temp file %s left behind", n)
	}
}

func mustDecodeManifest(t *testing.T, b []byte) Manifest {
	t.Helper()
	m, err := DecodeManifest(b)
	require.NoError(t, err)
	return m
}

// A failed manifest write installs nothing, and the flush gives its records
// back.
func TestManifestWriteFailureInstallsNothing(t *testing.T) {
	fo := vfsmem.DefaultOptions()
	fo.QuotaBytes = 100 // room for the SST, not for the manifest
	r := newRig(t, testOpts(), fo)
	e := r.e
	var err error
	r.run(t, func(a *sim.Actor) {
		e.Put("a", "1")
		err = e.Flush()
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "write manifest: write /db/MANIFEST.000001.tmp")
	assert.Equal(t, "partial write", removal(t, r.fs, "/db/MANIFEST.000001.tmp").Why)
	assert.False(t, exists(r.fs, "/db/MANIFEST"))
	assert.Equal(t, uint64(1), e.Current().ID)
	assert.Equal(t, 1, e.MemLen(), "the records are back in the memtable")
	assert.False(t, exists(r.fs, "/db/000001.sst"), "the flushed file was removed")
	assert.Equal(t, "flush failed", removal(t, r.fs, "/db/000001.sst").Why)
}

// crashRig is an engine with every daemon, a writer and a crasher: the
// crasher crashes the filesystem at a drawn time (mid flush, mid
// compaction, mid GC, or idle), optionally waits while the daemons run
// into the crashed filesystem, then recovers and checks the engine.
type crashOutcome struct {
	log         []Record
	recoverErr  error
	flushedSeq  uint64
	orphans     int
	crashedAt   sim.Micros
	checkFailed bool
}

func runCrash(t *testing.T, seed uint64) (*rig, crashOutcome) {
	t.Helper()
	o := smallLevels()
	o.FlushThreshold = 5
	r := newBigRig(t, seed, o, vfsmem.DefaultOptions()).withDaemons()
	e := r.e
	var out crashOutcome
	draw := sim.NewPRNG(seed ^ 0xc0ffee)
	crashAt := sim.Micros(draw.Intn(int(40 * sim.Millisecond)))
	gap := sim.Micros(draw.Intn(3)) * sim.Millisecond
	crashed, written := false, false
	r.s.Spawn("writer", sim.ActorOptions{}, func(a *sim.Actor) {
		out.log = workload(a, e, 400, 60, func() bool { return crashed })
		written = true
	})
	r.run(t, func(a *sim.Actor) {
		a.Sleep(crashAt)
		r.fs.Crash()
		crashed = true
		out.crashedAt = r.s.Now()
		assert.True(t, e.Down())
		a.Sleep(gap) // the daemons meet the crashed filesystem
		out.recoverErr = e.Recover()
		if out.recoverErr != nil {
			return
		}
		assert.False(t, e.Down())
		// In the same step (raw MemFS, no scheduling point): the directory
		// holds exactly the recovered version's SSTs and its MANIFEST.
		names, err := r.fs.Mem().List(DBDir)
		assert.NoError(t, err)
		want := []string{}
		for _, f := range e.Current().Files() {
			want = append(want, f.Name())
		}
		if len(want) > 0 || slices.Contains(names, ManifestName) {
			want = append(want, ManifestName)
		}
		slices.Sort(want)
		slices.Sort(names)
		assert.Equal(t, want, append([]string{}, names...), "seed %d: orphans left after recovery", seed)
		out.flushedSeq = e.Current().FlushedSeq
		for !written {
			a.Sleep(10 * sim.Microsecond) // the writer notices the crash
		}
		// Re-apply the log above FlushedSeq, as the node does with its
		// raft log, then let the daemons settle.
		for _, rec := range out.log[out.flushedSeq:] {
			e.ApplyAt(rec)
		}
		a.Sleep(sim.Second)
	})
	return r, out
}

// checkRecovered verifies an engine right after recovery and settling: its
// version is well formed, every file exists and decodes with its metadata,
// the directory holds no SST outside the version and no manifest temp file,
// and the engine reads exactly the log.
func checkRecovered(t *testing.T, r *rig, out crashOutcome, seed uint64) {
	t.Helper()
	e := r.e
	v := e.Current()
	require.NoError(t, v.Check(), "seed %d", seed)
	for _, f := range v.Files() {
		require.True(t, exists(r.fs, f.Path), "seed %d: %s in the version but missing", seed, f.Name())
		data := readFile(t, r.fs, f.Path)
		require.Equal(t, f.SizeBytes, int64(len(data)), "seed %d %s", seed, f.Name())
		recs, err := DecodeSST(data)
		require.NoError(t, err, "seed %d %s", seed, f.Name())
		require.NotEmpty(t, recs)
		require.Equal(t, f.Smallest, recs[0].Key, "seed %d %s", seed, f.Name())
		require.Equal(t, f.Largest, recs[len(recs)-1].Key, "seed %d %s", seed, f.Name())
		require.Less(t, f.Num, e.nextFile)
	}
	names, err := r.fs.List(DBDir)
	require.NoError(t, err)
	var ssts []string
	for _, n := range names {
		require.False(t, isManifestTemp(n), "seed %d: temp file %s left", seed, n)
		if _, ok := parseSSTName(n); ok {
			ssts = append(ssts, n)
		}
	}
	var want []string
	for _, f := range v.Files() {
		want = append(want, f.Name())
	}
	for _, f := range e.Obsolete() {
		want = append(want, f.Name())
	}
	slices.Sort(want)
	require.Equal(t, want, ssts, "seed %d: the directory holds exactly the version's files (and obsolete ones GC has yet to delete)", seed)
	require.Equal(t, visible(out.log, whole(), e.Seq()), engineView(t, r, e.Seq()), "seed %d", seed)
	require.Equal(t, uint64(len(out.log)), e.Seq(), "seed %d", seed)
}

// Crash at a random point of a flush/compaction/GC workload, then
// Recover: the recovered version's files all exist and decode, no orphan is
// left, and the data up to FlushedSeq is exactly the log's; after the log
// above FlushedSeq is re-applied, everything is.
func TestCrashAnywhereThenRecover(t *testing.T) {
	var withData, withOrphans, partial int
	for seed := uint64(1); seed <= 150; seed++ {
		r, out := runCrash(t, seed)
		require.NoError(t, out.recoverErr, "seed %d", seed)
		// Right after recovery: data up to FlushedSeq is readable.
		ev := eventDetails(r.s.Result().Events, "recover")
		require.NotEmpty(t, ev, "seed %d", seed)
		if !strings.Contains(ev, " 0 orphans removed") {
			withOrphans++
		}
		if out.flushedSeq > 0 {
			withData++
		}
		if out.flushedSeq < uint64(len(out.log)) {
			partial++
		}
		checkRecovered(t, r, out, seed)
		assert.Empty(t, ofKind(r.s.Observations(), sim.KindGCDeletedPinnedFile), "seed %d", seed)
	}
	t.Logf("150 crashes: %d recovered data, %d removed orphans, %d lost unflushed writes (re-applied)", withData, withOrphans, partial)
	assert.Greater(t, withData, 100)
	assert.Greater(t, withOrphans, 10, "crashes must hit half-written flush or compaction outputs")
	assert.Greater(t, partial, 100)
}

// Right after Recover (before anything is re-applied) the engine reads
// exactly the log up to FlushedSeq.
func TestRecoverReadsFlushedData(t *testing.T) {
	for seed := uint64(1); seed <= 60; seed++ {
		o := smallLevels()
		r := newBigRig(t, seed, o, vfsmem.DefaultOptions()).withDaemons()
		e := r.e
		draw := sim.NewPRNG(seed)
		var log []Record
		var got, want []Record
		var flushed uint64
		crashed := false
		r.s.Spawn("writer", sim.ActorOptions{}, func(a *sim.Actor) {
			log = workload(a, e, 300, 40, func() bool { return crashed })
		})
		r.run(t, func(a *sim.Actor) {
			a.Sleep(sim.Micros(draw.Intn(int(30 * sim.Millisecond))))
			r.fs.Crash()
			crashed = true
			if !assert.NoError(t, e.Recover()) {
				return
			}
			flushed = e.Current().FlushedSeq
			assert.Equal(t, flushed, e.Seq())
			assert.Zero(t, e.MemLen())
			v := e.Current()
			e.Ref(v) // the daemons go on compacting and deleting
			defer e.Unref(v)
			for _, f := range v.Files() {
				h, err := r.fs.Open(f.Path)
				if !assert.NoError(t, err, "seed %d: %v", seed, r.fs.History(f.Path)) {
					return
				}
				recs, err := ReadSST(h, f)
				if !assert.NoError(t, err) {
					return
				}
				got = append(got, recs...)
			}
		})
		want = visible(log, whole(), flushed)
		require.Equal(t, want, visible(got, whole(), flushed), "seed %d", seed)
		for _, rec := range got {
			require.LessOrEqual(t, rec.Seq, flushed, "seed %d: %s above the flushed seq", seed, rec)
		}
	}
}

func TestRecoverWithoutManifestIsEmpty(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions()).withDaemons()
	e := r.e
	var err error
	r.run(t, func(a *sim.Actor) {
		e.Put("a", "1")
		// A durable file no manifest lists (a flush output whose manifest
		// write never happened).
		assert.NoError(t, e.WriteFile(e.filePath(7), EncodeSST([]Record{put("x", 1, "y")})))
		assert.NoError(t, e.syncDir())
		r.fs.Crash()
		err = e.Recover()
	})
	require.NoError(t, err)
	assert.Empty(t, e.Current().Files())
	assert.Zero(t, e.Seq())
	assert.Zero(t, e.MemLen())
	assert.Equal(t, uint64(8), e.nextFile, "numbers stay monotonic across the crash")
	assert.Contains(t, eventDetails(r.s.Result().Events, "recover"), "MANIFEST: 0 files, flushed seq 0, next file 8, 1 orphans removed")
	assert.Equal(t, "orphan after crash", removal(t, r.fs, "/db/000007.sst").Why)
}

func TestRecoverRejectsCorruptManifest(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	e := r.e
	var err error
	r.run(t, func(a *sim.Actor) {
		e.Put("a", "1")
		assert.NoError(t, e.Flush())
		// Tear the manifest: rewrite it durably with its last bytes gone.
		b := readFile(t, r.fs, e.ManifestPath())
		assert.NoError(t, r.fs.Remove(e.ManifestPath()))
		assert.NoError(t, e.WriteFile(e.ManifestPath(), b[:len(b)-5]))
		assert.NoError(t, e.syncDir())
		r.fs.Crash()
		err = e.Recover()
	})
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrCorruptManifest), "%v", err)
	assert.Contains(t, err.Error(), "recover /db: /db/MANIFEST: corrupt manifest")
	assert.Contains(t, eventDetails(r.s.Result().Events, "recover"), "/db")
}

func TestRecoverRejectsManifestNamingMissingFile(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	e := r.e
	var err error
	r.run(t, func(a *sim.Actor) {
		e.Put("a", "1")
		assert.NoError(t, e.Flush())
		assert.NoError(t, r.fs.Remove(e.filePath(1)))
		assert.NoError(t, e.syncDir())
		r.fs.Crash()
		err = e.Recover()
	})
	require.ErrorIs(t, err, ErrCorruptManifest)
	assert.Contains(t, err.Error(), "it lists 000001.sst, which does not exist")
}

// Recover drops every piece of in-memory state; holders of pre-crash
// handles (versions, leases, snapshots, DisableDeletions) do no harm.
func TestRecoverDropsInMemoryState(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions()).withGC()
	e := r.e
	var lease *Lease
	var old *Version
	var snapID uint64
	r.run(t, func(a *sim.Actor) {
		e.Put("a", "1")
		assert.NoError(t, e.Flush())
		e.Put("a", "2")
		assert.NoError(t, e.Flush())
		old = e.Current()
		e.Ref(old)
		lease = e.AcquireLease("reader", old.Files(), sim.Second)
		snapID, _ = e.TakeSnapshot()
		e.DisableDeletions()
		assert.NoError(t, e.Compact())
		e.Put("b", "3")
		r.fs.Crash()
		assert.NoError(t, e.Recover())

		assert.Zero(t, e.MemLen())
		assert.Empty(t, e.leases)
		assert.False(t, lease.Valid(r.s.Now()), "a pre-crash lease is released")
		assert.False(t, e.RenewLease(lease, sim.Second))
		assert.Empty(t, e.snapshots)
		assert.Empty(t, e.Obsolete())
		assert.False(t, e.DeletionsDisabled())
		assert.Equal(t, []*Version{e.Current()}, e.live)
		assert.Equal(t, uint64(2), e.Seq())
		assert.Equal(t, []uint64{3}, fileNums(e.Current().Files()))

		// Pre-crash holders let go: nothing breaks, nothing is freed twice.
		e.Unref(old)
		assert.Empty(t, e.Obsolete(), "a dead version's files are not the engine's business")
		e.ReleaseLease(lease)
		e.ReleaseSnapshot(snapID)
		e.EnableDeletions() // absorbed: it matches a pre-crash Disable
		assert.False(t, e.DeletionsDisabled())
		assert.Panics(t, func() { e.EnableDeletions() }, "the next one has no match")

		e.DisableDeletions()
		assert.True(t, e.DeletionsDisabled())
		e.EnableDeletions()
	})
	for _, n := range []uint64{1, 2} {
		assert.False(t, exists(r.fs, e.filePath(n)), "compaction input %d: deleted, or an orphan removed", n)
	}
}

func TestApplyAt(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	e := r.e
	e.ApplyAt(Record{CF: CFWrite, Key: "a", Seq: 5, Kind: KindPut, Value: "x"})
	assert.Equal(t, uint64(5), e.Seq())
	assert.Equal(t, uint64(6), e.Put("b", "y"))
	assert.PanicsWithValue(t, "model: write a@6=z at seq 6, not above the engine's seq 6",
		func() { e.ApplyAt(Record{Key: "a", Seq: 6, Kind: KindPut, Value: "z"}) })
	assert.Panics(t, func() { e.ApplyAt(Record{CF: 7, Key: "a", Seq: 9, Kind: KindPut}) })
	assert.Panics(t, func() { e.ApplyAt(Record{Key: "a", Seq: 9, Kind: 9}) })
	assert.Equal(t, []Record{{CF: CFWrite, Key: "a", Seq: 5, Kind: KindPut, Value: "x"}}, e.mem[CFWrite])
	e.recovering = true
	assert.Panics(t, func() { e.Put("c", "1") }, "no writes while recovering")
}

// A flush or compaction in flight when the filesystem crashes is
// abandoned (ErrCrashed): it installs nothing, in the old life or the new.
func TestInFlightWorkIsAbandonedByCrash(t *testing.T) {
	abandoned := map[string]int{}
	for seed := uint64(1); seed <= 40; seed++ {
		r := newRigSeed(t, seed, testOpts(), vfsmem.DefaultOptions())
		e := r.e
		var flushErr, compactErr error
		r.run(t, func(a *sim.Actor) {
			for i := 0; i < 30; i++ {
				e.Put(KeyName(i), strings.Repeat("v", 40))
			}
			assert.NoError(t, e.Flush())
			for i := 0; i < 30; i++ {
				e.PutCF(CFLock, KeyName(i), strings.Repeat("v", 40))
			}
			done := 0
			r.s.Spawn("flush", sim.ActorOptions{}, func(*sim.Actor) { flushErr = e.Flush(); done++ })
			r.s.Spawn("compact", sim.ActorOptions{}, func(*sim.Actor) { compactErr = e.Compact(); done++ })
			a.Sleep(sim.Micros(1 + seed*100))
			r.fs.Crash()
			assert.NoError(t, e.Recover())
			for done < 2 {
				a.Sleep(10 * sim.Microsecond)
			}
			versions := e.Current().ID
			a.Sleep(10 * sim.Millisecond)
			assert.Equal(t, versions, e.Current().ID, "seed %d: nothing of the old life installed", seed)
		})
		for name, err := range map[string]error{"flush": flushErr, "compact": compactErr} { //detguard:order-independent counts per name
			if errors.Is(err, ErrCrashed) {
				abandoned[name]++
			} else {
				require.NoError(t, err, "seed %d %s", seed, name)
			}
		}
		names, err := r.fs.List(DBDir)
		require.NoError(t, err)
		for _, n := range names {
			if num, ok := parseSSTName(n); ok {
				require.True(t, e.Current().Contains(num), "seed %d: %s left behind", seed, n)
			}
		}
	}
	t.Logf("abandoned: %v", abandoned)
	assert.Positive(t, abandoned["flush"])
	assert.Positive(t, abandoned["compact"])
}

// Transient read errors during recovery are retried; the engine comes back.
func TestRecoverRetriesTransientErrors(t *testing.T) {
	retried := 0
	for seed := uint64(1); seed <= 20; seed++ {
		r := newRigSeed(t, seed, testOpts(), vfsmem.DefaultOptions())
		e := r.e
		var err error
		r.run(t, func(a *sim.Actor) {
			for i := 0; i < 20; i++ {
				e.Put(KeyName(i), "v")
			}
			assert.NoError(t, e.Flush())
			r.fs.Crash()
			r.fs.SetFaults(vfsmem.Faults{OpenEIOPermille: 150, ReadEIOPermille: 150})
			err = e.Recover()
		})
		require.NoError(t, err, "seed %d", seed)
		assert.Equal(t, uint64(20), e.Current().FlushedSeq)
		if strings.Contains(eventResults(r.s.Result().Events, "recover"), "input/output error") {
			retried++
		}
	}
	assert.Positive(t, retried)
}

// A corrupt manifest is not retried.
func TestRecoverDoesNotRetryCorruption(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	e := r.e
	r.run(t, func(a *sim.Actor) {
		assert.NoError(t, e.WriteFile(e.ManifestPath(), []byte("snapsim-manifest 1\n")))
		assert.NoError(t, e.syncDir())
		r.fs.Crash()
		assert.ErrorIs(t, e.Recover(), ErrCorruptManifest)
	})
	assert.Equal(t, 1, strings.Count(eventResults(r.s.Result().Events, "recover"), "failed"))
}

func eventResults(evs []sim.Event, op string) string {
	var b strings.Builder
	for _, ev := range evs {
		if ev.Op == op {
			b.WriteString(ev.Result + "\n")
		}
	}
	return b.String()
}
