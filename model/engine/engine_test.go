package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

func TestNewEngineRejectsBadOptions(t *testing.T) {
	s := sim.New(sim.NewPRNG(1), sim.Config{})
	fs := vfsmem.New(s, vfsmem.DefaultOptions())
	for _, mut := range []func(*EngineOptions){
		func(o *EngineOptions) { o.FlushThreshold = 0 },
		func(o *EngineOptions) { o.CompactTrigger = 0 },
		func(o *EngineOptions) { o.GCInterval = 0 },
		func(o *EngineOptions) { o.GCGrace = -1 },
		func(o *EngineOptions) { o.LevelBaseBytes = 0 },
		func(o *EngineOptions) { o.LevelMultiplier = 0 },
		func(o *EngineOptions) { o.TargetFileBytes = -1 },
	} {
		o := testOpts()
		mut(&o)
		_, err := NewEngine(s, fs, DBDir, o)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "engine options out of range")
	}
	e, err := NewEngine(s, fs, DBDir, testOpts())
	require.NoError(t, err)
	assert.Equal(t, uint64(1), e.Current().ID)
	assert.Equal(t, 1, e.Current().Refs())
	assert.Empty(t, e.Current().Files())
	fi, err := fs.Stat(DBDir)
	require.NoError(t, err)
	assert.True(t, fi.IsDir())
}

func TestEnginePutDeleteSequenceNumbers(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	e := r.e
	assert.Equal(t, uint64(0), e.Seq())
	assert.Equal(t, uint64(1), e.Put("a", "1"))
	assert.Equal(t, uint64(2), e.Delete("a"))
	assert.Equal(t, uint64(3), e.Put("b", "2"))
	assert.Equal(t, uint64(3), e.Seq())
	assert.Equal(t, uint64(4), e.PutCF(CFWrite, "a", "w"))
	assert.Equal(t, uint64(5), e.DeleteCF(CFLock, "b"))
	assert.Equal(t, uint64(5), e.Seq())
	assert.Equal(t, 5, e.MemLen())
	assert.Equal(t, 1, e.MemLenCF(CFLock))
	assert.Equal(t, []Record{put("a", 1, "1"), del("a", 2), put("b", 3, "2")}, e.mem[CFDefault])
	assert.Equal(t, []Record{{CF: CFWrite, Key: "a", Seq: 4, Kind: KindPut, Value: "w"}}, e.mem[CFWrite])
	assert.Equal(t, []Record{{CF: CFLock, Key: "b", Seq: 5, Kind: KindDelete}}, e.mem[CFLock])
	assert.Equal(t, uint64(0), e.Current().FlushedSeq, "nothing is flushed by a write")
}

// Reaching the threshold wakes the flusher daemon, which flushes.
func TestEngineFlushLoopWakesAtThreshold(t *testing.T) {
	o := testOpts()
	o.FlushThreshold = 3
	r := newRig(t, o, vfsmem.DefaultOptions())
	r.e.flusher = r.s.Spawn("flusher", sim.ActorOptions{Daemon: true}, r.e.FlushLoop)
	r.run(t, func(a *sim.Actor) {
		a.Sleep(sim.Millisecond) // the flusher parks
		r.e.Put("a", "1")
		r.e.Put("b", "2")
		a.Sleep(sim.Millisecond)
		assert.Empty(t, r.e.Current().Files(), "below the threshold nothing is flushed")
		r.e.PutCF(CFWrite, "c", "3") // the threshold counts every column family
		a.Sleep(10 * sim.Millisecond)
	})
	require.Len(t, r.e.Current().Levels[0], 2, "one L0 file per non-empty column family")
	assert.Equal(t, uint64(3), r.e.Current().FlushedSeq)
	assert.Zero(t, r.e.MemLen())
}

func TestEngineFlushWritesRealFileAndInstallsVersion(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	e := r.e
	var flushErr error
	r.run(t, func(a *sim.Actor) {
		assert.NoError(t, e.Flush(), "an empty memtable flushes to nothing")
		assert.Equal(t, uint64(1), e.Current().ID)
		e.Put("k2", "x")
		e.Put("k1", "y")
		e.Delete("k2")
		// A writer that runs while the flush does its I/O: its record must
		// land in the fresh memtable, not in the file.
		r.s.Spawn("late", sim.ActorOptions{}, func(*sim.Actor) { e.Put("k9", "late") })
		flushErr = e.Flush()
	})
	require.NoError(t, flushErr)

	v := e.Current()
	assert.Equal(t, uint64(2), v.ID)
	assert.Equal(t, 1, v.Refs())
	assert.Equal(t, uint64(3), v.FlushedSeq)
	assert.Empty(t, v.Levels[1])
	require.Len(t, v.Levels[0], 1)
	f := v.Levels[0][0]
	assert.Equal(t, uint64(1), f.Num)
	assert.Equal(t, "/db/000001.sst", f.Path)
	assert.Equal(t, "000001.sst", f.Name())
	assert.Equal(t, 0, f.Level)
	assert.Equal(t, "k1", f.Smallest)
	assert.Equal(t, "k2", f.Largest)
	assert.Equal(t, uint64(3), f.MaxSeq)

	data := readFile(t, r.fs, f.Path)
	assert.Equal(t, int64(len(data)), f.SizeBytes)
	recs, err := DecodeSST(data)
	require.NoError(t, err)
	// k2@1 is shadowed by the tombstone and no snapshot sees it: the flush
	// drops it, as Pebble's does.
	assert.Equal(t, []Record{put("k1", 2, "y"), del("k2", 3)}, recs)

	assert.Equal(t, []Record{put("k9", 4, "late")}, e.mem[CFDefault], "the concurrent write stays in the memtable")
	assert.Equal(t, []*Version{v}, e.live, "the empty initial version is dropped")
	assert.Empty(t, e.Obsolete())
	hist := r.fs.History(f.Path)
	require.NotEmpty(t, hist)
	assert.Equal(t, vfsmem.LifeCreated, hist[0].Op)
	assert.Equal(t, "script", hist[0].Actor)
	assert.Contains(t, eventDetails(r.s.Result().Events, "flush"), "L0 000001.sst (default, 2 records): 2 records, seq<=3, version 2")
}

func TestEngineFlushFailureKeepsRecords(t *testing.T) {
	fo := vfsmem.DefaultOptions()
	fo.Faults.WriteEIOPermille = 1000
	r := newRig(t, testOpts(), fo)
	e := r.e
	var flushErr error
	r.run(t, func(a *sim.Actor) {
		e.Put("a", "1")
		e.Put("b", "2")
		r.s.Spawn("late", sim.ActorOptions{}, func(*sim.Actor) { e.Put("c", "3") })
		flushErr = e.Flush()
	})
	require.Error(t, flushErr)
	assert.Contains(t, flushErr.Error(), "write /db/000001.sst")
	assert.Equal(t, []Record{put("a", 1, "1"), put("b", 2, "2"), put("c", 3, "3")}, e.mem[CFDefault],
		"failed records go back in front of later writes")
	assert.Equal(t, uint64(1), e.Current().ID, "no version installed")
	assert.False(t, exists(r.fs, "/db/000001.sst"))
	ev, ok := r.fs.Deleted("/db/000001.sst")
	require.True(t, ok)
	assert.Equal(t, "partial write", ev.Why)
}

func TestEngineRefUnref(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions()).withGC()
	e := r.e
	var in []*FileMeta
	var reader *Version
	r.run(t, func(a *sim.Actor) {
		in = flushOverlapping(t, e, "a", 2)
		reader = e.Current()
		e.Ref(reader) // an iterator pins its version
		assert.Equal(t, 2, reader.Refs())
		assert.NoError(t, e.Compact())
		assert.NotEqual(t, reader, e.Current())
		assert.Equal(t, 1, reader.Refs(), "the engine's reference moved to the new version")
		assert.Empty(t, e.Obsolete(), "the reader's version keeps its files live")
		a.Sleep(10 * e.opts.GCInterval)
		assert.True(t, exists(r.fs, in[0].Path), "GC must not delete a referenced file")

		e.Unref(reader) // the last reference goes
		assert.Equal(t, in, e.Obsolete())
		assert.Equal(t, []*Version{e.Current()}, e.live)
		a.Sleep(10 * e.opts.GCInterval)
		assert.False(t, exists(r.fs, in[0].Path), "woken by Unref, GC deleted the file")
	})
	for _, f := range in {
		assert.True(t, f.Deleted())
		assert.Equal(t, "gc", removal(t, r.fs, f.Path).Actor, "a file released by a reader is GC's to delete")
	}
	assert.Empty(t, e.Obsolete())
	assert.Empty(t, ofKind(r.s.Observations(), sim.KindGCDeletedPinnedFile))

	// Below zero: a programming error, caught loudly.
	assert.PanicsWithValue(t, "model: Unref of version 3 with 0 refs", func() { e.Unref(reader) })
	assert.Panics(t, func() { e.Ref(reader) }, "a dead version cannot be revived")
	assert.Panics(t, func() { e.Unref(&Version{ID: 99}) })
}

// Two readers on one version: the files become obsolete only when both go.
func TestEngineUnrefSharedFilesStayLive(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	e := r.e
	r.run(t, func(a *sim.Actor) {
		e.Put("a", "1")
		assert.NoError(t, e.Flush()) // v2: f1
		v2 := e.Current()
		e.Ref(v2)
		e.Put("b", "2")
		assert.NoError(t, e.Flush()) // v3: f1 f2
		v3 := e.Current()
		e.Ref(v3)
		assert.NoError(t, e.Compact()) // v4: f3
		e.Unref(v2)
		assert.Empty(t, e.Obsolete(), "f1 is still in v3")
		e.Unref(v3)
		assert.ElementsMatch(t, []uint64{1, 2}, fileNums(e.Obsolete()))
	})
}

func fileNums(fs []*FileMeta) []uint64 {
	var out []uint64
	for _, f := range fs {
		out = append(out, f.Num)
	}
	return out
}

// A lone L0 file with nothing below is moved to L1 (compaction 1); the
// next L0 file overlaps it and both are merged into one L1 file. The
// delayed deleter and no gc actor: the merged inputs stay on disk, for
// the test to read.
func TestEngineCompactionMergesIntoOneL1File(t *testing.T) {
	r := newRig(t, delayedOpts(), vfsmem.DefaultOptions())
	e := r.e
	r.run(t, func(a *sim.Actor) {
		assert.NoError(t, e.Compact(), "nothing to compact is not an error")
		assert.Equal(t, 0, e.compactions)
		e.Put("k1", "a")
		e.Put("k2", "b")
		assert.NoError(t, e.Flush()) // f1
		assert.NoError(t, e.Compact())
		e.Put("k1", "c")
		e.Delete("k2")
		e.Put("k3", "d")
		assert.NoError(t, e.Flush()) // f2
		assert.NoError(t, e.Compact())
	})
	v := e.Current()
	assert.Empty(t, v.Levels[0])
	require.Len(t, v.Levels[1], 1)
	out := v.Levels[1][0]
	assert.Equal(t, uint64(3), out.Num)
	assert.Equal(t, 1, out.Level)
	assert.Equal(t, uint64(5), out.MaxSeq)
	assert.Equal(t, uint64(5), v.FlushedSeq)
	assert.Equal(t, "k1", out.Smallest)
	assert.Equal(t, "k3", out.Largest)
	assert.Equal(t, 2, e.compactions)
	// No engine snapshot: only the newest version of each key survives,
	// and as no level below L1 holds k2, its tombstone hides nothing and
	// goes too.
	assert.Equal(t, []Record{put("k1", 3, "c"), put("k3", 5, "d")}, decodeFile(t, r.fs, out.Path))
	obs := e.Obsolete()
	assert.ElementsMatch(t, []uint64{1, 2}, fileNums(obs), "the moved file is not obsolete until merged")
	for _, f := range obs {
		assert.Equal(t, "compaction 2", f.replacedBy(), "file %d", f.Num)
		assert.True(t, exists(r.fs, f.Path), "without GC nothing is deleted")
	}
	ev := eventDetails(r.s.Result().Events, "compact")
	assert.Contains(t, ev, "compaction 1 (default L0->L1 move, manual): 000001.sst, version 3")
	assert.Contains(t, ev, "compaction 2 (default L0->L1, manual): 000002.sst 000001.sst -> 000003.sst, version 5")
}

func eventDetails(evs []sim.Event, op string) string {
	var b strings.Builder
	for _, ev := range evs {
		if ev.Op == op {
			b.WriteString(ev.Detail + "\n")
		}
	}
	return b.String()
}

// A flush that lands while a compaction works stays in L0.
func TestEngineCompactionKeepsConcurrentFlush(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	e := r.e
	r.run(t, func(a *sim.Actor) {
		e.Put("a", "1")
		assert.NoError(t, e.Flush())
		r.s.Spawn("w", sim.ActorOptions{}, func(*sim.Actor) {
			e.Put("b", "2")
			assert.NoError(t, e.Flush())
		})
		assert.NoError(t, e.Compact())
	})
	v := e.Current()
	require.Len(t, v.Levels[0], 1)
	require.Len(t, v.Levels[1], 1)
	assert.Equal(t, []Record{put("b", 2, "2")}, decodeFile(t, r.fs, v.Levels[0][0].Path))
	assert.Equal(t, []Record{put("a", 1, "1")}, decodeFile(t, r.fs, v.Levels[1][0].Path))
	assert.Equal(t, uint64(2), v.FlushedSeq)
}

// (The delayed deleter and no gc actor: the first output, merged away by
// the second compaction, stays on disk for the test to read.)
func TestEngineCompactionRetainsWhatSnapshotsSee(t *testing.T) {
	r := newRig(t, delayedOpts(), vfsmem.DefaultOptions())
	e := r.e
	var firstPath, secondPath string
	var snapSeq uint64
	r.run(t, func(a *sim.Actor) {
		e.Put("k1", "a") // 1
		e.Put("k2", "x") // 2
		assert.NoError(t, e.Flush())
		e.Put("k1", "unflushed") // 3: not in any file yet
		id, seq := e.TakeSnapshot()
		snapSeq = seq
		assert.Equal(t, uint64(2), seq, "a snapshot is taken at the flushed sequence, not the last write")
		e.Put("k1", "b") // 4
		e.Put("k1", "c") // 5
		e.Delete("k2")   // 6
		assert.NoError(t, e.Flush())
		assert.NoError(t, e.Compact())
		firstPath = e.Current().Levels[1][0].Path

		e.ReleaseSnapshot(id)
		e.ReleaseSnapshot(12345) // unknown: no-op
		e.Put("k1", "d")         // 7
		assert.NoError(t, e.Flush())
		assert.NoError(t, e.Compact())
		secondPath = e.Current().Levels[1][0].Path
	})
	first, second := decodeFile(t, r.fs, firstPath), decodeFile(t, r.fs, secondPath)
	// The snapshot at 2 needs k1@1 and k2@2; k1@3 and k1@4 lie between the
	// snapshot and the newest version, so nobody sees them.
	assert.Equal(t, []Record{
		put("k1", 5, "c"), put("k1", 1, "a"),
		del("k2", 6), put("k2", 2, "x"),
	}, first)
	assert.Equal(t, []Record{put("k1", 1, "a"), put("k2", 2, "x")}, visible(first, whole(), snapSeq),
		"the compacted file still shows the snapshot's view")
	assert.Equal(t, []Record{put("k1", 7, "d")}, second,
		"once the snapshot is released its versions are dropped (and the tombstone, with nothing left to hide)")
	assert.Empty(t, e.snapshots)
}

func TestEngineRetainTable(t *testing.T) {
	e := &Engine{}
	in := []Record{put("a", 10, "a10"), put("a", 7, "a7"), del("a", 5), put("a", 3, "a3"), put("a", 1, "a1"), put("b", 4, "b4")}
	cases := []struct {
		snaps []uint64
		want  []uint64 // seqs of a kept, then b
	}{
		{nil, []uint64{10, 4}},
		{[]uint64{9}, []uint64{10, 7, 4}},
		{[]uint64{7}, []uint64{10, 7, 4}}, // a snapshot at exactly 7 sees 7
		{[]uint64{10}, []uint64{10, 4}},   // ...and at 10 sees only 10
		{[]uint64{6}, []uint64{10, 5, 4}}, // sees the tombstone: it must stay
		{[]uint64{2, 4}, []uint64{10, 3, 1, 4}},
		{[]uint64{0}, []uint64{10, 4}},   // sees nothing of a: nothing extra kept
		{[]uint64{100}, []uint64{10, 4}}, // sees only the newest
		{[]uint64{1, 3, 5, 7, 9}, []uint64{10, 7, 5, 3, 1, 4}},
	}
	for _, c := range cases {
		e.snapshots = nil
		for i, s := range c.snaps {
			e.snapshots = append(e.snapshots, engineSnapshot{id: uint64(i + 1), seq: s})
		}
		var got []uint64
		for _, r := range e.retain(append([]Record(nil), in...)) {
			got = append(got, r.Seq)
		}
		assert.Equal(t, c.want, got, "snapshots %v", c.snaps)
		// Whatever was dropped, every snapshot reads the same data as
		// before the compaction.
		kept := e.retain(append([]Record(nil), in...))
		for _, s := range c.snaps {
			assert.Equal(t, visible(in, whole(), s), visible(kept, whole(), s), "snapshot %d", s)
		}
	}
}

// Compaction holds a reference on the version it reads: a flush installing
// a newer version mid-compaction must not make the inputs obsolete (GC
// would delete them under the compaction's feet) before the compaction's
// own version replaces them.
func TestCompactionPinsItsInputs(t *testing.T) {
	midway := 0
	for seed := uint64(1); seed <= 30; seed++ {
		o := testOpts()
		o.GCInterval = sim.Microsecond
		r := newRigSeed(t, seed, o, vfsmem.DefaultOptions()).withGC()
		e := r.e
		var compactErr error
		r.run(t, func(a *sim.Actor) {
			inputs := flushOverlapping(t, e, "a", 2) // a rewrite: a move would be over at once
			compacting := true
			base := e.Current().ID
			sawFlush := false
			r.s.Spawn("w", sim.ActorOptions{}, func(*sim.Actor) {
				e.Put("b", "2")
				assert.NoError(t, e.Flush())
			})
			r.s.Spawn("watch", sim.ActorOptions{}, func(w *sim.Actor) {
				// Until the compaction installs its version (after which it
				// deletes its inputs itself, with the prompt deleter).
				for compacting && e.Current().Contains(inputs[0].Num) {
					for _, f := range inputs {
						assert.False(t, e.isObsolete(f.Num), "seed %d: input %s obsolete mid-compaction", seed, f.Name())
						assert.False(t, f.Deleted(), "seed %d: input %s deleted mid-compaction", seed, f.Name())
					}
					if e.Current().ID != base {
						sawFlush = true
					}
					w.Yield()
				}
			})
			compactErr = e.Compact()
			compacting = false
			if sawFlush {
				midway++
			}
		})
		require.NoError(t, compactErr, "seed %d", seed)
	}
	require.Positive(t, midway, "some seed must install a flush during the compaction")
}

// An atomic flush writes one L0 file per non-empty column family, each
// with its column family and records, and installs them in ONE version.
func TestEngineFlushOneFilePerColumnFamily(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	e := r.e
	var got [][]Record
	r.run(t, func(a *sim.Actor) {
		e.PutCF(CFWrite, "k2", "w1") // 1
		e.Put("k1", "d1")            // 2
		e.DeleteCF(CFWrite, "k1")    // 3
		e.PutCF(CFWrite, "k0", "w2") // 4
		assert.NoError(t, e.Flush()) // lock is empty: two files
		e.PutCF(CFLock, "k5", "l1")  // 5
		assert.NoError(t, e.Flush()) // lock only
		for _, f := range e.Current().Files() {
			h, err := r.fs.Open(f.Path)
			if !assert.NoError(t, err) {
				return
			}
			recs, err := ReadSST(h, f)
			assert.NoError(t, err)
			got = append(got, recs)
		}
	})
	v := e.Current()
	assert.Equal(t, uint64(3), v.ID, "one version per flush")
	assert.Equal(t, uint64(5), v.FlushedSeq)
	require.Len(t, v.Levels[0], 3)
	type meta struct {
		Num           uint64
		CF            CF
		Smallest, Max string
		MaxSeq        uint64
	}
	var metas []meta
	for _, f := range v.Levels[0] {
		metas = append(metas, meta{f.Num, f.CF, f.Smallest, f.Largest, f.MaxSeq})
		assert.Equal(t, 0, f.Level)
	}
	assert.Equal(t, []meta{{1, CFDefault, "k1", "k1", 2}, {2, CFWrite, "k0", "k2", 4}, {3, CFLock, "k5", "k5", 5}}, metas)
	assert.Equal(t, [][]Record{
		{{CF: CFDefault, Key: "k1", Seq: 2, Kind: KindPut, Value: "d1"}},
		{{CF: CFWrite, Key: "k0", Seq: 4, Kind: KindPut, Value: "w2"}, {CF: CFWrite, Key: "k1", Seq: 3, Kind: KindDelete},
			{CF: CFWrite, Key: "k2", Seq: 1, Kind: KindPut, Value: "w1"}},
		{{CF: CFLock, Key: "k5", Seq: 5, Kind: KindPut, Value: "l1"}},
	}, got, "records read back carry their file's column family")
	assert.Contains(t, eventDetails(r.s.Result().Events, "flush"),
		"L0 000001.sst (default, 1 records) 000002.sst (write, 3 records): 4 records, seq<=4, version 2")
	assert.Zero(t, e.MemLen())
}

// A flush that fails half-way (the second column family's file) removes
// the files it wrote and gives every column family its records back.
func TestEngineFlushFailureMidwayRemovesWrittenFiles(t *testing.T) {
	fo := vfsmem.DefaultOptions()
	fo.QuotaBytes = 60 // room for the first small file only
	r := newRig(t, testOpts(), fo)
	e := r.e
	var err error
	r.run(t, func(a *sim.Actor) {
		e.Put("a", "1")
		e.PutCF(CFWrite, "b", strings.Repeat("x", 100))
		err = e.Flush()
	})
	require.Error(t, err)
	assert.Equal(t, "flush failed", removal(t, r.fs, "/db/000001.sst").Why)
	assert.Equal(t, "partial write", removal(t, r.fs, "/db/000002.sst").Why)
	assert.Equal(t, 1, e.MemLenCF(CFDefault))
	assert.Equal(t, 1, e.MemLenCF(CFWrite))
	assert.Equal(t, uint64(1), e.Current().ID)
}

// Flushes run one at a time, in order: FlushedSeq never goes back.
func TestEngineConcurrentFlushesAreSerialised(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		r := newRigSeed(t, seed, testOpts(), vfsmem.DefaultOptions())
		e := r.e
		var seqs []uint64
		r.run(t, func(a *sim.Actor) {
			for i := 0; i < 4; i++ {
				e.Put(KeyName(i), "x")
				r.s.Spawn(fmt.Sprintf("f%d", i), sim.ActorOptions{}, func(*sim.Actor) {
					assert.NoError(t, e.Flush())
					seqs = append(seqs, e.Current().FlushedSeq)
				})
				a.Yield()
			}
			a.Sleep(sim.Second)
		})
		require.True(t, slices.IsSorted(seqs), "seed %d: %v", seed, seqs)
		require.Equal(t, uint64(4), e.Current().FlushedSeq)
		require.NoError(t, e.Current().Check())
	}
}

func TestVersionCheck(t *testing.T) {
	mk := func(num uint64, cf CF, level int, lo, hi string) *FileMeta {
		return &FileMeta{Num: num, CF: cf, Level: level, Smallest: lo, Largest: hi}
	}
	v := &Version{ID: 9, FlushedSeq: 10}
	v.Levels[0] = []*FileMeta{mk(1, CFDefault, 0, "a", "z"), mk(2, CFDefault, 0, "b", "c")}
	v.Levels[1] = []*FileMeta{mk(3, CFDefault, 1, "a", "c"), mk(4, CFDefault, 1, "d", "f"), mk(5, CFLock, 1, "a", "z")}
	require.NoError(t, v.Check(), "L0 files may overlap; L1 files of different column families may")
	cases := map[string]func(v *Version){
		"says L0":           func(v *Version) { v.Levels[1][0].Level = 0 },
		"listed twice":      func(v *Version) { v.Levels[1][1].Num = 1 },
		"smallest":          func(v *Version) { v.Levels[1][1].Smallest = "g" },
		"overlap":           func(v *Version) { v.Levels[1][1].Smallest = "c" },
		"above the flushed": func(v *Version) { v.Levels[0][0].MaxSeq = 11 },
		"column family":     func(v *Version) { v.Levels[1][2].CF = 3 },
		"out of order":      func(v *Version) { v.Levels[1][0], v.Levels[1][2] = v.Levels[1][2], v.Levels[1][0] },
	}
	for want, mut := range cases {
		c := &Version{ID: 9, FlushedSeq: 10}
		for l := range v.Levels {
			for _, f := range v.Levels[l] {
				g := *f
				c.Levels[l] = append(c.Levels[l], &g)
			}
		}
		mut(c)
		err := c.Check()
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
	}
}

// Ingested files go to the deepest level where nothing of their column
// family overlaps them at or above it, in one durable version.
func TestEngineIngestFiles(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	e := r.e
	mk := func(cf CF, recs ...Record) *FileMeta {
		num := e.newFileNum()
		f := &FileMeta{Num: num, CF: cf, Path: e.filePath(num)}
		data := EncodeSST(recs)
		assert.NoError(t, e.WriteFile(f.Path, data))
		f.SizeBytes = int64(len(data))
		f.Smallest, f.Largest = KeyRange(recs)
		for _, rec := range recs {
			f.MaxSeq = max(f.MaxSeq, rec.Seq)
		}
		return f
	}
	var a, b, c, d *FileMeta
	var m Manifest
	r.run(t, func(*sim.Actor) {
		a = mk(CFWrite, put("k1", 10, "x"), put("k3", 11, "y"))
		_, err := e.IngestFiles([]*FileMeta{a}, nil, "snapshot 1")
		assert.NoError(t, err)
		b = mk(CFWrite, put("k2", 20, "z"))   // overlaps a (L3): goes above it
		c = mk(CFDefault, put("k2", 21, "w")) // another column family: L3
		d = mk(CFWrite, put("k5", 22, "v"))   // overlaps nothing: L3
		_, err = e.IngestFiles([]*FileMeta{b, c, d}, nil, "snapshot 2")
		assert.NoError(t, err)
		_, err = e.IngestFiles(nil, []*FileMeta{a}, "snapshot 3 replaces 1")
		assert.NoError(t, err)
		m = mustDecodeManifest(t, readFile(t, r.fs, e.ManifestPath()))
	})
	assert.Equal(t, []int{3, 2, 3, 3}, []int{a.Level, b.Level, c.Level, d.Level})
	v := e.Current()
	require.NoError(t, v.Check())
	assert.Equal(t, []uint64{2, 3, 4}, fileNums(v.Files()))
	assert.Equal(t, uint64(22), v.FlushedSeq)
	assert.Equal(t, uint64(22), e.Seq(), "later writes come after the ingested data")
	assert.Equal(t, manifestOf(v, e.nextFile), m)
	assert.Equal(t, "snapshot 3 replaces 1", a.replacedBy())
	// The prompt deleter: the ingesting actor deleted the file it replaced
	// right after installing the version.
	assert.Empty(t, e.Obsolete())
	assert.True(t, a.Deleted())
	ev := removal(t, r.fs, a.Path)
	assert.Equal(t, "script", ev.Actor)
	assert.Equal(t, "obsolete after snapshot 3 replaces 1", ev.Why)
}
