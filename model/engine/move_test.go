package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// A compaction of one file with nothing overlapping it in the output level
// is a trivial move: the same file (number, path, bytes) at the next
// level, no file written, nothing made obsolete, traced as a move; an
// older version that a reader holds still lists it at its old level, and
// both listings share the file's fate.
func TestTrivialMoveKeepsTheFile(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions()).withGC()
	e := r.e
	var f, moved *FileMeta
	var reader *Version
	var nextBefore uint64
	r.run(t, func(a *sim.Actor) {
		e.Put("a", "1")
		e.Put("b", "2")
		assert.NoError(t, e.Flush())
		reader = e.Current()
		e.Ref(reader)
		f = reader.Levels[0][0]
		nextBefore = e.nextFile
		assert.NoError(t, e.Compact())
		assert.Equal(t, nextBefore, e.nextFile, "no file number allocated")
		assert.Empty(t, e.Obsolete())
		e.Unref(reader)
		assert.Empty(t, e.Obsolete(), "the moved file is still current")
		a.Sleep(10 * e.opts.GCInterval)
	})
	v := e.Current()
	require.NoError(t, v.Check())
	require.Empty(t, v.Levels[0])
	require.Len(t, v.Levels[1], 1)
	moved = v.Levels[1][0]
	assert.Equal(t, f.Num, moved.Num)
	assert.Equal(t, f.Path, moved.Path)
	assert.Equal(t, 1, moved.Level)
	assert.Equal(t, 0, f.Level, "the old version's listing is unchanged")
	assert.True(t, exists(r.fs, f.Path))
	assert.Equal(t, []Record{put("a", 1, "1"), put("b", 2, "2")}, decodeFile(t, r.fs, moved.Path), "not rewritten")
	m := mustDecodeManifest(t, readFile(t, r.fs, e.ManifestPath()))
	require.Len(t, m.Files, 1)
	assert.Equal(t, ManifestFile{Num: f.Num, CF: CFDefault, Level: 1, SizeBytes: f.SizeBytes, MaxSeq: 2, Smallest: "a", Largest: "b"}, m.Files[0])
	assert.Equal(t, "compaction 1 (default L0->L1 move, manual): 000001.sst, version 3\n", eventDetails(r.s.Result().Events, "compact"))
	assert.Empty(t, eventDetails(r.s.Result().Events, "delete"))
	assert.Same(t, f.state(), moved.state(), "one fate for both listings")
}

// The moved file is later merged away: it is deleted once, whichever of its
// listings became obsolete, and both report it deleted.
func TestMovedFileIsDeletedOnce(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions()).withGC()
	e := r.e
	var f *FileMeta
	r.run(t, func(a *sim.Actor) {
		e.Put("a", "1")
		assert.NoError(t, e.Flush())
		f = e.Current().Levels[0][0]
		old := e.Current()
		e.Ref(old)                     // holds the L0 listing
		assert.NoError(t, e.Compact()) // a move
		e.Put("a", "2")
		assert.NoError(t, e.Flush())
		assert.NoError(t, e.Compact()) // merges the moved file: obsolete once old goes
		assert.True(t, exists(r.fs, f.Path), "the reader's version holds it")
		e.Unref(old)
		a.Sleep(10 * e.opts.GCInterval)
	})
	assert.True(t, f.Deleted())
	hist := r.fs.History(f.Path)
	removed := 0
	for _, ev := range hist {
		if ev.Op == vfsmem.LifeRemoved {
			removed++
		}
	}
	assert.Equal(t, 1, removed, "%v", hist)
	assert.Empty(t, e.Obsolete())
	assert.Empty(t, r.s.Observations())
}

// No move when the output level overlaps the file, when there is more than
// one input, or when the level below the output overlaps it by more than
// ten target files; none at all with NoTrivialMoves.
func TestTrivialMoveConditions(t *testing.T) {
	mk := func(num uint64, level int, lo, hi string, size int64) *FileMeta {
		return &FileMeta{Num: num, CF: CFDefault, Level: level, Smallest: lo, Largest: hi, SizeBytes: size}
	}
	e := &Engine{opts: testOpts()}
	v := &Version{}
	one := &compactionPick{cf: CFDefault, level: 1, out: 2, inputs: []*FileMeta{mk(1, 1, "a", "c", 100)}}
	assert.True(t, e.isMove(v, one))
	two := &compactionPick{cf: CFDefault, level: 0, out: 1, inputs: []*FileMeta{mk(1, 0, "a", "c", 100), mk(2, 0, "x", "z", 100)}}
	assert.False(t, e.isMove(v, two), "two inputs")
	lower := &compactionPick{cf: CFDefault, level: 1, out: 2, inputs: one.inputs, lower: []*FileMeta{mk(3, 2, "b", "b", 100)}}
	assert.False(t, e.isMove(v, lower), "overlap in the output level")
	limit := maxGrandparentOverlapFactor * e.opts.TargetFileBytes
	v.Levels[3] = []*FileMeta{mk(4, 3, "a", "b", limit)}
	assert.True(t, e.isMove(v, one), "grandparents up to the limit")
	v.Levels[3] = append(v.Levels[3], mk(5, 3, "c", "d", 1))
	assert.False(t, e.isMove(v, one), "grandparents past the limit")
	v.Levels[3] = []*FileMeta{mk(6, 3, "x", "z", 10*limit)}
	assert.True(t, e.isMove(v, one), "grandparents that do not overlap do not count")
	e.opts.NoTrivialMoves = true
	v.Levels[3] = nil
	assert.False(t, e.isMove(v, one), "NoTrivialMoves")

	// With NoTrivialMoves the lone L0 file is rewritten.
	o := testOpts()
	o.NoTrivialMoves = true
	r := newRig(t, o, vfsmem.DefaultOptions())
	r.run(t, func(a *sim.Actor) {
		r.e.Put("a", "1")
		assert.NoError(t, r.e.Flush())
		assert.NoError(t, r.e.Compact())
	})
	assert.Contains(t, eventDetails(r.s.Result().Events, "compact"), "compaction 1 (default L0->L1, manual): 000001.sst -> 000002.sst")
}

// CompactRange flushes a memtable that holds a key of the range first,
// then compacts the range into the base level, which is the bottom level
// while no level below L0 holds a file: a lone flushed file goes to L3
// by a move.
func TestCompactRangeFlushesAndCompactsToTheBottom(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	e := r.e
	r.run(t, func(a *sim.Actor) {
		e.Put("k05", "x")
		assert.NoError(t, e.CompactRange(CFDefault, "k00", "k09"))
		assert.Zero(t, e.MemLen(), "flushed first")
	})
	v := e.Current()
	require.Len(t, v.Levels[NumLevels-1], 1)
	assert.Equal(t, uint64(1), v.Levels[NumLevels-1][0].Num)
	ev := eventDetails(r.s.Result().Events, "compact")
	assert.Contains(t, ev, "compaction 1 (default L0->L3 move, range [k00, k09]): 000001.sst")
	assert.Equal(t, 1, strings.Count(ev, "compaction"), "nothing else to compact: %s", ev)
}

// A memtable with no key in the range is not flushed, and L0 files outside
// the range are left alone; an L0 file in the range takes every older L0
// file it overlaps along (transitively), and merges with the bottom files
// it overlaps.
func TestCompactRangeTakesTheOverlappingFilesOnly(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	e := r.e
	var a, b, c *FileMeta
	r.run(t, func(*sim.Actor) {
		e.Put("k01", "1")
		e.Put("k03", "1")
		assert.NoError(t, e.Flush()) // a [k01..k03]
		e.Put("k03", "2")
		e.Put("k06", "2")
		assert.NoError(t, e.Flush()) // b [k03..k06]
		e.Put("k08", "3")
		e.Put("k09", "3")
		assert.NoError(t, e.Flush()) // c [k08..k09]
		l0 := e.Current().Levels[0]
		a, b, c = l0[0], l0[1], l0[2]
		e.Put("k09", "mem") // outside the range: stays in the memtable
		assert.NoError(t, e.CompactRange(CFDefault, "k00", "k02"))
		assert.Equal(t, 1, e.MemLen(), "not flushed")
	})
	v := e.Current()
	assert.Equal(t, []uint64{c.Num}, fileNums(v.Levels[0]), "c does not overlap a or b")
	bottom := v.Levels[NumLevels-1]
	require.Len(t, bottom, 1)
	assert.Equal(t, "k01", bottom[0].Smallest)
	assert.Equal(t, "k06", bottom[0].Largest)
	assert.Contains(t, eventDetails(r.s.Result().Events, "compact"),
		"compaction 1 (default L0->L3, range [k00, k02]): "+a.Name()+" "+b.Name()+" -> ")
	assert.Empty(t, e.Obsolete(), "the prompt deleter removed a and b")
	assert.False(t, exists(r.fs, a.Path))
	assert.False(t, exists(r.fs, b.Path))
}

// With files in L1 (the base level) and below, CompactRange goes level by
// level: L0 into L1, then L1 into L2, then L2 into L3, each the files of
// the range at that level; levels deeper than any file of the range are
// not touched.
func TestCompactRangeLevelByLevel(t *testing.T) {
	r := newRig(t, testOpts(), vfsmem.DefaultOptions())
	e := r.e
	r.run(t, func(*sim.Actor) {
		e.Put("k1", "1")
		assert.NoError(t, e.Flush())
		assert.NoError(t, e.CompactLevel(CFDefault, 0)) // k1 in L1 (a move)
		e.Put("k1", "2")
		assert.NoError(t, e.Flush())
		assert.NoError(t, e.CompactRange(CFDefault, "k0", "k2"))
	})
	ev := eventDetails(r.s.Result().Events, "compact")
	assert.Contains(t, ev, "compaction 2 (default L0->L1, range [k0, k2]): 000002.sst 000001.sst -> 000003.sst")
	assert.Contains(t, ev, "compaction 3 (default L1->L2 move, range [k0, k2]): 000003.sst")
	assert.NotContains(t, ev, "L2->L3", "the range had no file below L1 when CompactRange began")
	v := e.Current()
	require.Len(t, v.Levels[2], 1)
	assert.Equal(t, []Record{put("k1", 2, "2")}, decodeFile(t, r.fs, v.Levels[2][0].Path))

	bad := newRig(t, testOpts(), vfsmem.DefaultOptions())
	bad.run(t, func(*sim.Actor) {
		assert.ErrorContains(t, bad.e.CompactRange(CFDefault, "k2", "k1"), `start "k2" is after end "k1"`)
		assert.ErrorContains(t, bad.e.CompactRange(CF(7), "a", "b"), "unknown column family 7")
		assert.NoError(t, bad.e.CompactRange(CFDefault, "a", "b"), "nothing to compact is not an error")
	})
}

// A file a reader releases is deleted by GC as soon as it runs, with no
// GCInterval sleep (the prompt deleter); with the delayed one it waits the
// interval.
func TestPromptGCDeletesReleasedFilesAtOnce(t *testing.T) {
	for _, mode := range gcModes {
		o := testOpts()
		o.GCMode = mode
		o.GCInterval = 5 * sim.Millisecond // long enough to tell the modes apart
		r := newRig(t, o, vfsmem.DefaultOptions()).withGC()
		e := r.e
		var in []*FileMeta
		var released sim.Micros
		r.run(t, func(a *sim.Actor) {
			in = flushOverlapping(t, e, "a", 2)
			v := e.Current()
			e.Ref(v)
			assert.NoError(t, e.Compact())
			e.Unref(v)
			released = r.s.Now()
			a.Sleep(3 * o.GCInterval)
		})
		ev := removal(t, r.fs, in[0].Path)
		assert.Equal(t, "gc", ev.Actor)
		if mode == GCPrompt {
			assert.Less(t, ev.Time, released+sim.Millisecond, "prompt: GC deleted at once")
		} else {
			assert.GreaterOrEqual(t, ev.Time, released+o.GCInterval, "delayed: GC waited its interval")
		}
	}
}

func TestGCModeParsing(t *testing.T) {
	for s, want := range map[string]GCMode{"": GCPrompt, "prompt": GCPrompt, "delayed": GCDelayed} {
		got, err := ParseGCMode(s)
		assert.NoError(t, err, s)
		assert.Equal(t, want, got, s)
	}
	_, err := ParseGCMode("lazy")
	assert.ErrorContains(t, err, `unknown gc mode "lazy" (want prompt or delayed)`)
	assert.Equal(t, "delayed", GCDelayed.String())
	assert.Equal(t, "prompt", GCPrompt.String())
	o := testOpts()
	o.GCMode = GCMode(9)
	_, err = NewEngine(sim.New(sim.NewPRNG(1), sim.Config{}), vfsmem.New(sim.New(sim.NewPRNG(1), sim.Config{}), vfsmem.DefaultOptions()), DBDir, o)
	assert.Error(t, err)
}
