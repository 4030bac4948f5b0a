package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// smallLevels shapes the tree so that a few hundred small records spread
// over every level: L1 256 bytes, L2 512, output files of at most 128.
func smallLevels() EngineOptions {
	o := testOpts()
	o.FlushThreshold = 6
	o.CompactTrigger = 2
	o.LevelBaseBytes = 256
	o.LevelMultiplier = 2
	o.TargetFileBytes = 128
	return o
}

// newBigRig is newRigSeed with a step budget for long workloads.
func newBigRig(t *testing.T, seed uint64, opts EngineOptions, fsOpts vfsmem.Options) *rig {
	t.Helper()
	s := sim.New(sim.NewPRNG(seed), sim.Config{KeepTrace: true, MaxSteps: 1 << 20})
	fs := vfsmem.New(s, fsOpts)
	e, err := NewEngine(s, fs, DBDir, opts)
	require.NoError(t, err)
	return &rig{s: s, fs: fs, e: e}
}

// withDaemons spawns the flusher, compactor and GC daemons.
func (r *rig) withDaemons() *rig {
	r.e.flusher = r.s.Spawn("flusher", sim.ActorOptions{Daemon: true}, r.e.FlushLoop)
	r.e.compactor = r.s.Spawn("compactor", sim.ActorOptions{Daemon: true}, r.e.CompactLoop)
	return r.withGC()
}

// readVersion reads every file of v outside any actor, with each record's
// column family set from its file.
func readVersion(t *testing.T, fs *vfsmem.FS, v *Version) []Record {
	t.Helper()
	var all []Record
	for _, f := range v.Files() {
		for _, r := range decodeFile(t, fs, f.Path) {
			r.CF = f.CF
			all = append(all, r)
		}
	}
	return all
}

// engineView is what a reader of the engine sees at seq: the current
// version's files plus the memtables.
func engineView(t *testing.T, r *rig, seq uint64) []Record {
	t.Helper()
	all := readVersion(t, r.fs, r.e.Current())
	for _, m := range r.e.mem {
		all = append(all, m...)
	}
	return visible(all, whole(), seq)
}

// workload writes n records over every column family from a small key
// space (about one in eight a deletion), pausing between writes so
// flushes and compactions interleave with them, and returns the log.
func workload(a *sim.Actor, e *Engine, n int, keys int, stop func() bool) []Record {
	var log []Record
	for i := 0; i < n && (stop == nil || !stop()); i++ {
		h := mix64(uint64(i) ^ 0x5eed)
		cf := CFs[h%NumCFs]
		key := KeyName(int(h>>8) % keys)
		rec := Record{CF: cf, Key: key, Kind: KindPut, Value: fmt.Sprintf("v%d.%s", i+1, strings.Repeat("x", int(h>>20)%24))}
		if (h>>40)%8 == 0 {
			rec.Kind, rec.Value = KindDelete, ""
			rec.Seq = e.DeleteCF(cf, key)
		} else {
			rec.Seq = e.PutCF(cf, key, rec.Value)
		}
		log = append(log, rec)
		a.Sleep(100 * sim.Microsecond)
	}
	return log
}

func TestLevelTargets(t *testing.T) {
	r := newRig(t, smallLevels(), vfsmem.DefaultOptions())
	assert.Equal(t, int64(0), r.e.LevelTarget(0))
	assert.Equal(t, int64(256), r.e.LevelTarget(1))
	assert.Equal(t, int64(512), r.e.LevelTarget(2))
	assert.Equal(t, int64(0), r.e.LevelTarget(3), "the last level has no target")
	d := newRig(t, testOpts(), vfsmem.DefaultOptions())
	assert.Equal(t, DefaultLevelBaseBytes, d.e.LevelTarget(1))
	assert.Equal(t, DefaultLevelBaseBytes*DefaultLevelMultiplier, d.e.LevelTarget(2))
}

// Under a steady workload with the daemons running, data moves down every
// level; after quiescence no compaction is due, every level is within its
// target, the version is well formed, and the engine reads exactly what was
// written.
func TestCompactionMovesDataDownAndLevelsRespectTargets(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		r := newBigRig(t, seed, smallLevels(), vfsmem.DefaultOptions()).withDaemons()
		var log []Record
		r.run(t, func(a *sim.Actor) {
			log = workload(a, r.e, 300, 40, nil)
			a.Sleep(sim.Second) // quiescence: the daemons finish their work
		})
		e := r.e
		v := e.Current()
		require.NoError(t, v.Check(), "seed %d", seed)
		assert.False(t, e.CompactionDue(), "seed %d", seed)
		for _, cf := range CFs {
			assert.Less(t, len(v.LevelFiles(cf, 0)), e.opts.CompactTrigger, "seed %d %s L0", seed, cf)
			for l := 1; l < NumLevels-1; l++ {
				assert.LessOrEqual(t, v.LevelBytes(cf, l), e.LevelTarget(l), "seed %d %s L%d", seed, cf, l)
			}
		}
		deep := 0
		for _, f := range v.Levels[NumLevels-1] {
			deep += int(f.SizeBytes)
		}
		assert.Positive(t, deep, "seed %d: data reached the last level", seed)
		require.Equal(t, visible(log, whole(), e.Seq()), engineView(t, r, e.Seq()), "seed %d", seed)
		assert.Empty(t, e.Obsolete(), "seed %d: GC deleted every input", seed)
		assert.Empty(t, r.s.Observations(), "seed %d", seed)
		ev := eventDetails(r.s.Result().Events, "compact")
		assert.Contains(t, ev, "L1->L2", "seed %d", seed)
		assert.Contains(t, ev, "L2->L3", "seed %d", seed)
	}
}

// Compaction outputs are cut where Pebble's would be: at key boundaries,
// once the estimated size reaches TargetFileBytes (no grandparents below
// L1 here); sorted and non-overlapping. The flush already cut the 20 keys
// into several L0 files (so the compaction has several inputs and is no
// trivial move).
func TestCompactionSplitsOutputsByTargetFileBytes(t *testing.T) {
	o := testOpts()
	o.TargetFileBytes = 300
	r := newRig(t, o, vfsmem.DefaultOptions())
	e := r.e
	r.run(t, func(a *sim.Actor) {
		for i := 0; i < 40; i++ {
			e.PutCF(CFWrite, KeyName(i%20), strings.Repeat("v", 20))
		}
		assert.NoError(t, e.Flush())
		assert.Greater(t, len(e.Current().LevelFiles(CFWrite, 0)), 1, "the flush is cut too")
		assert.NoError(t, e.Compact())
	})
	v := e.Current()
	require.NoError(t, v.Check())
	out := v.LevelFiles(CFWrite, 1)
	require.GreaterOrEqual(t, len(out), 3, "the output is split")
	var keys []string
	for i, f := range out {
		assert.Equal(t, CFWrite, f.CF)
		recs := decodeFile(t, r.fs, f.Path)
		assert.Equal(t, f.Smallest, recs[0].Key)
		assert.Equal(t, f.Largest, recs[len(recs)-1].Key)
		assert.Less(t, PebbleEstimatedSize(recs[:len(recs)-1]), int64(300), "%s: cut at the first key past the target", f.Name())
		if i < len(out)-1 {
			assert.GreaterOrEqual(t, PebbleEstimatedSize(recs), int64(300), "%s: not cut before the target", f.Name())
		}
		for _, rec := range recs {
			keys = append(keys, rec.Key)
		}
	}
	want := make([]string, 20)
	for i := range want {
		want[i] = KeyName(i)
	}
	assert.Equal(t, want, keys, "every key once (the newest version), in order, across the files")
}

// pebbleEstimate reproduces Pebble v1.1.5's writer: these are the
// EstimatedSize values its sstable.Writer (RocksDBv2, 4 KiB blocks)
// reported after each Set of keys k000, k003, ... with values of 100, 113,
// 126, ... bytes (fidelity/estimate_test.go checks them against the writer
// itself); a restart point every 16 keys included.
func TestPebbleEstimate(t *testing.T) {
	want := []int64{127, 252, 390, 542, 708, 886, 1077, 1282, 1499, 1729, 1973, 2229, 2498, 2780, 3076, 3384, 3712, 4047}
	var recs []Record
	for i, w := range want {
		recs = append(recs, Record{Key: fmt.Sprintf("k%03d", i*3), Kind: KindPut, Value: strings.Repeat("x", 100+13*i)})
		assert.Equal(t, w, PebbleEstimatedSize(recs), "after %d keys", i+1)
	}
	assert.Equal(t, int64(0), PebbleEstimatedSize(nil))
	del := []Record{{Key: "k001", Kind: KindDelete}}
	assert.Equal(t, int64(1+1+1+12+4+4+4), PebbleEstimatedSize(del), "a tombstone has no value")
}

// splitOutputs follows fileSizeSplitter: versions of a key stay together;
// without grandparents a file is cut once it reaches the target (so it may
// exceed it by one key; a key alone larger than the target has its own
// file); at a grandparent's boundary it is cut from half the target on.
func TestSplitOutputs(t *testing.T) {
	rec := func(k string, seq uint64, n int) Record {
		return Record{Key: k, Seq: seq, Kind: KindPut, Value: strings.Repeat("x", n)}
	}
	shape := func(chunks [][]Record) [][]string {
		var out [][]string
		for _, c := range chunks {
			var ks []string
			for _, r := range c {
				ks = append(ks, fmt.Sprintf("%s@%d", r.Key, r.Seq))
			}
			out = append(out, ks)
		}
		return out
	}
	// Entries of 2-byte keys and 10-byte values: 3 + 10 + 10 = 23 bytes at
	// a restart (the first), 3 + 8 + 10 = 21 for an older version of the
	// same key (the whole user key shared), 3 + 9 + 10 = 22 for the next
	// key ("k" shared); +12 for the restart, its count and the empty index.
	in := []Record{rec("k1", 9, 10), rec("k1", 3, 10), rec("k2", 8, 10), rec("k3", 7, 10), rec("k4", 6, 200), rec("k5", 5, 10)}
	assert.Equal(t, int64(12+23+21+22), PebbleEstimatedSize(in[:3]))
	got := splitOutputs(in, 12+23+21+22, nil)
	assert.Equal(t, [][]string{{"k1@9", "k1@3", "k2@8"}, {"k3@7", "k4@6"}, {"k5@5"}}, shape(got),
		"both versions of k1 stay together; a file reaching the target is cut before the next key, k4 overshoots it")
	assert.Empty(t, splitOutputs(nil, 100, nil))
	assert.Len(t, splitOutputs(in, 1, nil), 5, "a tiny target gives one key per file")

	// Ten keys of 100 bytes (about 115 each) with a target of 500: without
	// grandparents the files are cut after 5 keys; with a grandparent
	// starting at k03 the first file is cut there already, since it holds
	// more than half the target.
	var ten []Record
	for i := 0; i < 10; i++ {
		ten = append(ten, rec(fmt.Sprintf("k%02d", i), uint64(20-i), 100))
	}
	assert.Equal(t, []int{5, 5}, lens(splitOutputs(ten, 500, nil)))
	gp := []*FileMeta{{Smallest: "k03", Largest: "k04"}}
	assert.Equal(t, []int{3, 5, 2}, lens(splitOutputs(ten, 500, gp)),
		"cut at the boundary (3 keys ≥ 250), then by size with no grandparent left")
	small := []*FileMeta{{Smallest: "k01", Largest: "k01"}}
	assert.Equal(t, []int{5, 5}, lens(splitOutputs(ten, 500, small)), "a boundary below half the target does not cut")
}

func lens(chunks [][]Record) []int {
	var out []int
	for _, c := range chunks {
		out = append(out, len(c))
	}
	return out
}

// Size-triggered compactions pick Ln files round-robin.
func TestCompactionRoundRobinCursor(t *testing.T) {
	o := testOpts()
	o.TargetFileBytes = 200 // three keys per file: the estimate reaches 200 at the third
	o.LevelBaseBytes = 1 << 20
	r := newRig(t, o, vfsmem.DefaultOptions())
	e := r.e
	var picked [][]string
	r.run(t, func(a *sim.Actor) {
		for i := 0; i < 12; i++ {
			e.Put(KeyName(i), strings.Repeat("v", 50))
		}
		assert.NoError(t, e.Flush())
		assert.NoError(t, e.Compact()) // L1: several files
		e.opts.LevelBaseBytes = 1      // now L1 is always over its target
		for i := 0; i < 5; i++ {
			p := e.pickCompaction(e.Current(), true)
			if !assert.NotNil(t, p) {
				return
			}
			assert.Equal(t, 1, p.level)
			picked = append(picked, []string{p.inputs[0].Smallest, p.inputs[0].Largest})
		}
	})
	l1 := e.Current().LevelFiles(CFDefault, 1)
	require.Len(t, l1, 4)
	want := [][]string{}
	for i := 0; i < 5; i++ {
		f := l1[i%4]
		want = append(want, []string{f.Smallest, f.Largest})
	}
	assert.Equal(t, want, picked, "the cursor walks the level and wraps")
}

// When several compactions are due the highest score wins (L0: files over
// the trigger; Ln: bytes over the target); ties go to the lower level, then
// the lower column family.
func TestCompactionPickOrder(t *testing.T) {
	mk := func(num uint64, cf CF, level int, size int64, lo, hi string) *FileMeta {
		return &FileMeta{Num: num, CF: cf, Level: level, SizeBytes: size, Smallest: lo, Largest: hi}
	}
	o := testOpts()
	o.CompactTrigger = 2
	o.LevelBaseBytes = 100
	o.LevelMultiplier = 10
	e := &Engine{opts: o}
	pick := func(v *Version) [2]any {
		p := e.pickCompaction(v, false)
		if p == nil {
			return [2]any{nil, nil}
		}
		return [2]any{p.cf, p.level}
	}
	v := &Version{}
	assert.Nil(t, e.pickCompaction(v, false))
	assert.False(t, (&Engine{opts: o, current: v}).CompactionDue())

	v.Levels[1] = []*FileMeta{mk(1, CFLock, 1, 150, "a", "b")}                                      // score 1.5
	v.Levels[2] = []*FileMeta{mk(2, CFDefault, 2, 2000, "a", "b")}                                  // score 2
	v.Levels[3] = []*FileMeta{mk(4, CFDefault, 3, 1, "b", "b"), mk(5, CFDefault, 3, 1e6, "x", "z")} // no target
	assert.Equal(t, [2]any{CFDefault, 2}, pick(v), "the highest score")
	p := e.pickCompaction(v, false)
	assert.Equal(t, []uint64{2}, fileNums(p.inputs))
	assert.Equal(t, []uint64{4}, fileNums(p.lower), "only the overlapping L3 file")
	assert.Equal(t, "L2 2000 bytes > target 1000", p.reason)

	v.Levels[1] = append(v.Levels[1], mk(3, CFWrite, 1, 200, "a", "b")) // score 2: ties with L2
	assert.Equal(t, [2]any{CFWrite, 1}, pick(v), "a tie goes to the lower level")
	v.Levels[1] = append(v.Levels[1], mk(6, CFDefault, 1, 200, "a", "b"))
	sortLevel(1, v.Levels[1])
	assert.Equal(t, [2]any{CFDefault, 1}, pick(v), "then to the lower column family")

	v.Levels[0] = []*FileMeta{mk(7, CFWrite, 0, 10, "a", "a"), mk(8, CFWrite, 0, 10, "q", "q"), mk(9, CFLock, 0, 10, "c", "c")}
	v.Levels[0] = append(v.Levels[0], mk(10, CFWrite, 0, 10, "c", "c"), mk(11, CFWrite, 0, 10, "c", "c")) // score 2
	assert.Equal(t, [2]any{CFWrite, 0}, pick(v), "L0 wins a tie")
	p = e.pickCompaction(v, false)
	assert.Equal(t, []uint64{7, 8, 10, 11}, fileNums(p.inputs), "every L0 file of the column family")
	assert.Equal(t, []uint64{3}, fileNums(p.lower), "and the L1 files they overlap")

	v.Levels[0] = v.Levels[0][:3] // write: 2 files, score 1
	assert.Equal(t, [2]any{CFDefault, 1}, pick(v), "a bigger score beats L0")

	v.Levels[0], v.Levels[1], v.Levels[2] = nil, nil, nil
	assert.Equal(t, [2]any{nil, nil}, pick(v), "the last level is never size-compacted")
}

// Data an engine snapshot sees survives any number of compactions at every
// level, while the snapshot is held.
func TestCompactionKeepsWhatSnapshotsSeeAcrossLevels(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		r := newBigRig(t, seed, smallLevels(), vfsmem.DefaultOptions()).withDaemons()
		e := r.e
		var log []Record
		var snaps []uint64
		var seen [][]Record
		r.run(t, func(a *sim.Actor) {
			for round := 0; round < 4; round++ {
				log = append(log, workload(a, e, 60, 30, nil)...)
				a.Sleep(50 * sim.Millisecond)
				_, seq := e.TakeSnapshot()
				snaps = append(snaps, seq)
				seen = append(seen, visible(log, whole(), seq))
				// Each round writes new versions of the keys: workload
				// draws the same keys, so rewrite them with fresh seqs.
				for i := range log[len(log)-60:] {
					rec := log[len(log)-60+i]
					rec.Value = "round" + fmt.Sprint(round)
					rec.Kind = KindPut
					rec.Seq = e.PutCF(rec.CF, rec.Key, rec.Value)
					log = append(log, rec)
				}
			}
			a.Sleep(sim.Second)
		})
		assert.Greater(t, e.compactions, 5, "seed %d", seed)
		files := readVersion(t, r.fs, e.Current())
		for _, m := range e.mem {
			files = append(files, m...)
		}
		for i, seq := range snaps {
			require.Equal(t, seen[i], visible(files, whole(), seq), "seed %d snapshot at %d", seed, seq)
		}
		require.Equal(t, visible(log, whole(), e.Seq()), visible(files, whole(), e.Seq()), "seed %d", seed)
	}
}

// CompactLevel moves one file of a level down by hand, round-robin (a
// trivial move: nothing overlaps it below).
func TestCompactLevel(t *testing.T) {
	o := testOpts()
	o.TargetFileBytes = 70 // one key (estimated at 77 bytes) per file
	r := newRig(t, o, vfsmem.DefaultOptions())
	e := r.e
	r.run(t, func(a *sim.Actor) {
		assert.Error(t, e.CompactLevel(CFDefault, NumLevels-1), "the last level has nowhere to go")
		assert.Error(t, e.CompactLevel(CFDefault, -1))
		assert.NoError(t, e.CompactLevel(CFDefault, 1), "an empty level: nothing to do")
		for i := 0; i < 4; i++ {
			e.Put(KeyName(i), strings.Repeat("v", 50))
		}
		e.PutCF(CFLock, "x", "y")
		assert.NoError(t, e.Flush())
		assert.NoError(t, e.CompactLevel(CFDefault, 0))
		assert.Len(t, e.Current().LevelFiles(CFDefault, 1), 4)
		assert.Len(t, e.Current().LevelFiles(CFLock, 0), 1, "another column family is untouched")
		assert.NoError(t, e.CompactLevel(CFDefault, 1))
		assert.NoError(t, e.CompactLevel(CFDefault, 1))
		assert.NoError(t, e.CompactLevel(CFDefault, 2))
	})
	v := e.Current()
	require.NoError(t, v.Check())
	var got []string
	for l := 1; l < NumLevels; l++ {
		for _, f := range v.LevelFiles(CFDefault, l) {
			got = append(got, fmt.Sprintf("L%d:%s", l, f.Smallest))
		}
	}
	assert.Equal(t, []string{"L1:k002", "L1:k003", "L2:k001", "L3:k000"}, got)
	ev := eventDetails(r.s.Result().Events, "compact")
	assert.Contains(t, ev, "compaction 1 (default L0->L1, manual): 000001.sst 000002.sst 000003.sst 000004.sst -> ",
		"the flush cut four L0 files; four inputs are rewritten")
	assert.Contains(t, ev, "(default L2->L3 move, manual): ", "one file with nothing below is moved")
}
