package tikv

import (
	"fmt"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// levelSetup fills the engine with 30 default keys compacted into L1 (two
// files: 30 records of ~119 bytes split at 2048), then a flush of two keys
// at both ends of the range into L0, so the default iterator has an L0
// input and an L1 input of two files, and a compaction of L0 into L1 makes
// both L1 files obsolete.
func levelSetup(t *testing.T, cfg Config) func(w *collectRun) {
	return func(w *collectRun) {
		e := w.n.Engine
		put := func(i int) {
			rec := Record{CF: CFDefault, Key: KeyName(i), Kind: KindPut}
			rec.Seq = e.Put(rec.Key, value(uint64(i+1), cfg.ValueBytes))
			rec.Value = value(uint64(i+1), cfg.ValueBytes)
			w.c.Ref.Append(rec)
		}
		for i := 0; i < cfg.KeySpace; i++ {
			put(i)
		}
		require.NoError(t, e.Flush())
		require.NoError(t, e.Compact())
		put(0)
		put(cfg.KeySpace - 1)
		require.NoError(t, e.Flush())
		v := e.Current()
		require.Len(t, v.LevelFiles(CFDefault, 0), 1)
		require.Len(t, v.LevelFiles(CFDefault, 1), 2, "two L1 files: %s", names(v.Files()))
	}
}

// openSteps returns the step of the "open" action of each path.
func openSteps(events []sim.Event) map[string]int64 {
	out := map[string]int64{}
	for _, ev := range eventsOf(events, "open") {
		if _, seen := out[ev.Detail]; !seen {
			out[ev.Detail] = ev.Step
		}
	}
	return out
}

// scan writes the snapshot's column-family files itself, while it scans:
// their bytes are exactly what the pipeline would have encoded from the
// records, the sizes and checksums it reports are those of the files, and
// the records are the region's at the snapshot's sequence number.
func TestScanWritesSnapshotFiles(t *testing.T) {
	cfg := DefaultConfig("scan")
	w := runCollect(t, cfg, sim.Config{}, 5, nil)
	require.NoError(t, w.err)
	require.True(t, w.done)
	assert.Empty(t, w.res.Observations)
	assert.Equal(t, 1, w.g.attempts)
	require.NotNil(t, w.got.Built)
	assert.Equal(t, w.c.Ref.At(w.region, w.got.Seq), w.got.Data[CFDefault])
	assert.Len(t, w.got.Data[CFDefault], cfg.KeySpace)
	for _, cf := range CFs {
		p := snapFile(prefixGen, w.g.key, cf)
		b := readFile(t, w.n.FS, p)
		assert.Equal(t, encodeCF(cf, w.got.Data[cf]), b, "%s file", cf)
		assert.Equal(t, model.BuiltFile{Size: int64(len(b)), CRC: crcOf(b)}, w.got.Built[cf], "%s size and crc32", cf)
		assert.False(t, exists(w.n.FS, p+".tmp"), "%s: the temporary file was renamed", cf)
	}
	// Four L0 files: the iterator's seek opens every one of them.
	assert.ElementsMatch(t, strings.Fields(names(w.listed)), w.got.Files)
	assert.Empty(t, eventsOf(w.res.Events, "list"), "scan lists nothing")
	pins, unpins := eventsOf(w.res.Events, "pin"), eventsOf(w.res.Events, "unpin")
	assert.Len(t, pins, NumCFs, "one iterator per column family")
	assert.Len(t, unpins, NumCFs)
	checkReleased(t, w)
}

// The streaming writer's bytes are encodeCF's, for SSTs and the plain lock
// format, empty or not, across chunk boundaries.
func TestSnapCFWriterMatchesEncodeCF(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 40} {
		for _, cf := range CFs {
			var recs []Record
			for i := 0; i < n; i++ {
				recs = append(recs, Record{CF: cf, Key: KeyName(i), Seq: uint64(i + 1), Kind: KindPut, Value: value(uint64(i+1), 37)})
			}
			r := newRig(t, testOpts(), vfsmem.DefaultOptions())
			p := path.Join(SnapDir, fmt.Sprintf("gen_1_1_%d_%s", n, cf))
			require.NoError(t, r.fs.MkdirAll(SnapDir, 0o755))
			var built model.BuiltFile
			r.run(t, func(a *sim.Actor) {
				node := &Node{FS: r.fs, s: r.s}
				wr, err := createSnapCFWriter(node, cf, p)
				if !assert.NoError(t, err) {
					return
				}
				for _, rec := range recs {
					assert.NoError(t, wr.Add(rec))
				}
				built, err = wr.Finish()
				assert.NoError(t, err)
			})
			b := readFile(t, r.fs, p)
			assert.Equal(t, encodeCF(cf, recs), b, "%s, %d records", cf, n)
			assert.Equal(t, model.BuiltFile{Size: int64(len(b)), CRC: crcOf(b)}, built)
		}
	}
}

// The iterator references its version for its whole scan: a compaction
// during the scan makes the L1 files it has not opened yet obsolete, and
// GC deletes them only after the iterator let go. The second L1 file is
// opened after the compaction (the level iterator opens a file when the
// one before is used up), from the pinned version, and the data is the
// snapshot's.
func TestScanIteratorPinsItsVersionForTheWholeScan(t *testing.T) {
	cfg := DefaultConfig("scan")
	cfg.KeySpace = 30
	var compactStep int64
	var l1 []*FileMeta
	w := runCollectSetup(t, cfg, sim.Config{}, levelSetup(t, cfg), func(a *sim.Actor, w *collectRun) {
		l1 = w.n.Engine.Current().LevelFiles(CFDefault, 1)
		a.Sleep(sim.Millisecond) // the generator is waiting on the limiter
		assert.NoError(t, w.n.Engine.Compact())
		compactStep = w.s.Step()
		for _, f := range l1 {
			assert.False(t, w.n.Engine.Current().Contains(f.Num), "%s left the current version", f.Name())
		}
	})
	require.NoError(t, w.err)
	require.True(t, w.done)
	assert.Empty(t, w.res.Observations)
	assert.Equal(t, 1, w.g.attempts)
	assert.Equal(t, w.c.Ref.At(w.region, w.got.Seq), w.got.Data[CFDefault])

	opens := openSteps(w.res.Events)
	require.Contains(t, opens, l1[1].Path)
	assert.Greater(t, opens[l1[1].Path], compactStep, "the second L1 file was opened after the compaction made it obsolete")
	assert.Less(t, opens[l1[0].Path], compactStep, "the first was opened at the seek")
	var unpinDefault int64
	for _, ev := range eventsOf(w.res.Events, "unpin") {
		if strings.Contains(ev.Detail, "default iterator") {
			unpinDefault = ev.Step
		}
	}
	require.Positive(t, unpinDefault)
	for _, f := range l1 {
		ev, ok := w.n.FS.Deleted(f.Path)
		require.True(t, ok, "%s deleted in the end", f.Name())
		assert.Equal(t, "gc", ev.Actor)
		assert.GreaterOrEqual(t, ev.Step, unpinDefault, "%s deleted only once the iterator let go", f.Name())
	}
	checkReleased(t, w)
}

// With the unsafe eager GC a reference protects nothing: the same
// compaction lets GC delete the L1 file the iterator has not opened yet,
// its open fails (open-deleted-file, gc-deleted-pinned-file), and scan
// starts over from a fresh engine snapshot instead of panicking.
func TestScanUnderEagerGC(t *testing.T) {
	cfg := DefaultConfig("scan")
	cfg.KeySpace = 30
	cfg.Variants.EagerGC = true
	w := runCollectSetup(t, cfg, sim.Config{}, levelSetup(t, cfg), func(a *sim.Actor, w *collectRun) {
		a.Sleep(sim.Millisecond)
		assert.NoError(t, w.n.Engine.Compact())
	})
	require.NoError(t, w.err)
	assert.Equal(t, 2, w.g.attempts)
	k := kinds(w.res.Observations)
	assert.Positive(t, k[sim.KindGCDeletedPinnedFile])
	assert.Equal(t, 1, k[sim.KindOpenDeletedFile])
	retries := actionLines(w.res.Events, "retry")
	require.Len(t, retries, 1)
	assert.Regexp(t, `^attempt 1 aborted \(1 of 5 failures\): open /db/\d{6}\.sst: file does not exist$`, retries[0])
	assert.Equal(t, w.c.Ref.At(w.region, w.got.Seq), w.got.Data[CFDefault])
	for _, cf := range CFs {
		assert.Equal(t, encodeCF(cf, w.got.Data[cf]), readFile(t, w.n.FS, snapFile(prefixGen, w.g.key, cf)))
	}
	checkReleased(t, w)
}

// The rate limiter sits inside the scan: for default and write, key+value
// bytes are taken from it in chunks of scanChunk as records come
// (after the iterator opened its files, before the records are written);
// the lock column family's plain file is not limited, as in TiKV.
func TestScanLimiterInsideTheScan(t *testing.T) {
	cfg := DefaultConfig("scan")
	w := runCollectSetup(t, cfg, sim.Config{}, func(w *collectRun) {
		e := w.n.Engine
		for i := 0; i < cfg.KeySpace; i++ {
			for _, cf := range CFs {
				rec := Record{CF: cf, Key: KeyName(i), Kind: KindPut, Value: value(uint64(i+1), cfg.ValueBytes)}
				rec.Seq = e.PutCF(cf, rec.Key, rec.Value)
				w.c.Ref.Append(rec)
			}
		}
		require.NoError(t, e.Flush())
	}, nil)
	require.NoError(t, w.err)
	var want int
	for _, cf := range []CF{CFDefault, CFWrite} {
		var bytes int
		for _, r := range w.got.Data[cf] {
			bytes += len(r.Key) + len(r.Value)
		}
		require.Positive(t, bytes)
		want += (bytes + scanChunk - 1) / scanChunk
	}
	require.Len(t, w.got.Data[CFLock], cfg.KeySpace)
	var limits []sim.Event
	for _, ev := range w.res.Events {
		if ev.Op == "io-limit" {
			limits = append(limits, ev)
			assert.True(t, strings.HasPrefix(ev.Detail, fmt.Sprintf("%d bytes at ", scanChunk)), ev.Detail)
		}
	}
	assert.Len(t, limits, want, "one request per chunk of key+value bytes of default and write")
	// No limiter wait between the lock iterator's pin and its unpin.
	var inLock bool
	for _, ev := range w.res.Events {
		switch {
		case ev.Op == "pin" && strings.Contains(ev.Detail, "lock iterator"):
			inLock = true
		case ev.Op == "unpin" && strings.Contains(ev.Detail, "lock iterator"):
			inLock = false
		case ev.Op == "io-limit":
			assert.False(t, inLock, "the lock scan is not rate-limited")
		}
	}
}

// A region mid-split is re-issued, not counted; a merged-away region ends
// the build; a normal region is scanned with the epoch it had when the
// engine snapshot was taken.
func TestScanChecksRegionState(t *testing.T) {
	w := runGenerate(t, DefaultConfig("scan"), func(a *sim.Actor, w *genRun) {
		w.region.State = RegionSplitting
		a.Sleep(sim.Millisecond)
		w.region.State = RegionNormal
	})
	require.Empty(t, w.res.Observations)
	assert.Greater(t, w.rep.Attempts, 1)
	assert.Contains(t, w.retryLines(), "attempt 1 aborted (0 of 5 failures): "+model.ErrRegionBusy.Error())
	assert.Equal(t, SnapApplied, w.rep.Status, w.rep.Error)
	assert.Equal(t, 8, w.rep.Keys)
	w.released(t)

	w = runGenerate(t, DefaultConfig("scan"), func(a *sim.Actor, w *genRun) { w.region.State = RegionTombstone })
	require.Empty(t, w.res.Observations)
	assert.Equal(t, SnapSkipped, w.rep.Status)
	assert.Equal(t, model.ErrRegionGone.Error()+": region 1", w.rep.Error)
	w.released(t)
}

// The whole pipeline with scan: the snapshot is applied, the learner's
// data verified, and the meta file carries the sizes and checksums of the
// files scan wrote.
func TestScanThroughThePipeline(t *testing.T) {
	w := runGenerate(t, DefaultConfig("scan"), nil)
	require.Empty(t, w.res.Observations)
	assert.Equal(t, SnapApplied, w.rep.Status, w.rep.Error)
	assert.Equal(t, 1, w.rep.Attempts)
	assert.Equal(t, uint64(20), w.rep.Seq)
	assert.Equal(t, 8, w.rep.Keys)
	var size int64
	for _, cf := range CFs {
		size += w.rep.meta.Size[cf]
	}
	assert.Equal(t, size, w.rep.SizeBytes)
	assert.ElementsMatch(t, strings.Fields(names(w.listed)), w.rep.Files)
	w.released(t)
}

// A read error that persists costs every attempt; each aborted attempt
// removes what it wrote (no temporary and no finished column-family file
// stays behind) and releases its engine snapshot and references.
func TestScanCleansUpAfterReadErrors(t *testing.T) {
	cfg := DefaultConfig("scan")
	cfg.MaxAttempts = 3
	cfg.FS.Faults.ReadEIOPermille = 1000
	w := runCollectSetup(t, cfg, sim.Config{}, func(w *collectRun) {
		// lock and write hold data in L0; default has none, so the
		// default file is finished before the lock scan fails.
		e := w.n.Engine
		for i := 0; i < 4; i++ {
			for _, cf := range []CF{CFLock, CFWrite} {
				rec := Record{CF: cf, Key: KeyName(i), Kind: KindPut, Value: value(uint64(i+1), cfg.ValueBytes)}
				rec.Seq = e.PutCF(cf, rec.Key, rec.Value)
				w.c.Ref.Append(rec)
			}
		}
		require.NoError(t, e.Flush())
	}, nil)
	require.True(t, w.done)
	require.ErrorIs(t, w.err, model.ErrAttemptsSpent)
	assert.Equal(t, 3, w.g.attempts)
	assert.Contains(t, w.err.Error(), "snapshot attempts exhausted after 3 attempts (3 failures): read /db/")
	for _, ev := range eventsOf(w.res.Events, "scan") {
		assert.True(t, strings.HasPrefix(ev.Detail, "default: 0 keys"), "only the empty default file was finished: %s", ev.Detail)
	}
	names, err := w.n.FS.List(SnapDir)
	require.NoError(t, err)
	assert.Empty(t, names, "nothing of an aborted build stays in the snap dir")
	checkReleased(t, w)
}

// A failed write of the snapshot's own files fails the snapshot at once,
// as a failed write by the pipeline does for every other design: no
// retry, no liveness violation, nothing left behind.
func TestScanWriteErrorFailsTheSnapshot(t *testing.T) {
	cfg := DefaultConfig("scan")
	cfg.FS.Faults.WriteEIOPermille = 1000
	w := runGenerate(t, cfg, nil)
	assert.Empty(t, w.res.Observations)
	assert.Equal(t, SnapFailed, w.rep.Status)
	assert.Equal(t, 1, w.rep.Attempts)
	assert.Contains(t, w.rep.Error, model.ErrSnapWrite.Error()+": write /snap/gen_1_1_20_default.sst.tmp: ")
	assert.Contains(t, w.rep.Error, "input/output error")
	assert.Empty(t, w.retryLines())
	names, err := w.c.Leader.FS.List(SnapDir)
	require.NoError(t, err)
	assert.Empty(t, names)
	w.released(t)
}

// scan over the default profile: it never opens a deleted file, never
// panics, ships no wrong data, needs one attempt; and in some seeds its
// protection is what kept a file alive: an iterator opened a file that
// compaction had already taken out of the current version.
func TestScanSweep(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig("scan")
	ta := newTally()
	protected, newerVersion := 0, 0
	for seed := uint64(1); seed <= sweepSeeds; seed++ {
		out, err := Run(cfg, sim.NewPRNG(seed), sim.Config{KeepTrace: true})
		require.NoError(t, err)
		ta.add(out)
		obs := out.Result.Observations
		require.Empty(t, genObs(obs, sim.KindOpenDeletedFile), "seed %d", seed)
		require.Empty(t, ofKind(obs, sim.KindPanic), "seed %d", seed)
		require.Empty(t, ofKind(obs, sim.KindInconsistentSnapshot), "seed %d", seed)
		require.Empty(t, ofKind(obs, sim.KindGCDeletedPinnedFile), "seed %d", seed)
		for _, s := range out.Snapshots {
			require.LessOrEqual(t, s.Attempts, 1, "seed %d", seed)
			require.NotEqual(t, SnapAborted, s.Status, "seed %d: %s", seed, s.Error)
		}
		// Which files left the current version (compaction), and when; was
		// one of them opened by the generator afterwards?
		replacedAt := map[string]int64{}
		pinnedVersions := map[string]bool{}
		sawProtected := false
		for _, ev := range out.Result.Events {
			switch {
			case ev.Class == sim.ClassAction && ev.Op == "list" && ev.Actor == "snap-gen":
				t.Fatalf("seed %d: scan listed files: %s", seed, ev.Detail)
			case ev.Class == sim.ClassAction && ev.Op == "compact" && ev.Result == "ok":
				in, _, _ := strings.Cut(ev.Detail[strings.Index(ev.Detail, "): ")+3:], " -> ")
				for _, name := range strings.Fields(in) {
					replacedAt[DBDir+"/"+name] = ev.Step
				}
			case ev.Class == sim.ClassAction && ev.Op == "open" && ev.Actor == "snap-gen":
				if at, ok := replacedAt[ev.Detail]; ok && at < ev.Step {
					sawProtected = true
				}
			case ev.Class == sim.ClassAction && ev.Op == "pin" && ev.Actor == "snap-gen":
				pinnedVersions[strings.Fields(ev.Detail)[1]] = true
			case ev.Class == sim.ClassAction && ev.Op == "generate" && ev.Result == "done":
				if len(pinnedVersions) > 1 {
					newerVersion++
				}
				pinnedVersions = map[string]bool{}
			}
		}
		if sawProtected {
			protected++
		}
	}
	t.Logf("scan, seeds 1..%d: %s; %d seeds opened a file compaction had replaced; %d builds pinned more than one version (one iterator per column family)", sweepSeeds, ta, protected, newerVersion)
	require.Positive(t, protected, "the sweep exercises the iterator's protection")
	require.Positive(t, newerVersion, "later column families are scanned on newer versions")
}

// With the unsafe eager GC an iterator's reference protects nothing: GC
// deletes files the iterator still references (gc-deleted-pinned-file).
// scan never panics and never ships wrong data. It rarely opens a deleted
// file: the iterator opens its L0 files and the first file of each level
// at its seek, in the steps right after it took its reference, and the
// limiter's waits come after that (they are inside the scan). Only a
// level's later files, opened mid-scan, are exposed (TestScanUnderEagerGC
// makes one). pin, whose limiter wait comes before each open, is exposed
// for the whole build (TestPinSweepEagerGC).
func TestScanSweepEagerGC(t *testing.T) {
	t.Parallel()
	for _, profile := range []string{"default", "heavy-compaction"} {
		cfg, err := ProfileConfig("scan", profile)
		require.NoError(t, err)
		cfg.Variants.EagerGC = true
		ta := newTally()
		for seed := uint64(1); seed <= sweepSeeds; seed++ {
			out := mustRun(t, cfg, seed)
			ta.add(out)
			require.Empty(t, ofKind(out.Result.Observations, sim.KindPanic), "%s seed %d", profile, seed)
			require.Empty(t, ofKind(out.Result.Observations, sim.KindInconsistentSnapshot), "%s seed %d", profile, seed)
		}
		t.Logf("scan with eager GC, %s, seeds 1..%d: %s", profile, sweepSeeds, ta)
		require.Positive(t, ta.seeds[sim.KindGCDeletedPinnedFile], profile)
	}
}

// scanChunk is how many bytes scan takes from the I/O limiter at a time
// (model/designs: scanLimiterChunk, the model's I/O unit).
const scanChunk = ioChunkBytes
