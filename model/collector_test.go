package model

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
)

// The report's design: open-deleted-file and the TiKV panic are found
// quickly, named precisely, and reproduced exactly.
func TestNaiveFindsOpenDeletedFileAndPanic(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig("naive")
	hits := 0
	firstHit := uint64(0)
	for seed := uint64(1); seed <= 300; seed++ {
		out := mustRun(t, cfg, seed)
		k := kinds(out.Result.Observations)
		require.Zero(t, k[sim.KindInconsistentSnapshot], "seed %d: naive never ships wrong data, it crashes", seed)
		require.Zero(t, k[sim.KindGCDeletedPinnedFile], "seed %d", seed)
		if k[sim.KindOpenDeletedFile] == 0 && k[sim.KindPanic] == 0 {
			for _, s := range out.Snapshots {
				require.Equal(t, SnapDone, s.Status, "seed %d", seed)
			}
			continue
		}
		require.Equal(t, 1, k[sim.KindOpenDeletedFile], "seed %d: every panic is caused by exactly one deleted file", seed)
		require.Equal(t, 1, k[sim.KindPanic], "seed %d", seed)
		hits++
		if firstHit == 0 {
			firstHit = seed
		}

		odf := ofKind(out.Result.Observations, sim.KindOpenDeletedFile)[0]
		pan := ofKind(out.Result.Observations, sim.KindPanic)[0]
		assert.Equal(t, "snap-gen", odf.Actor)
		assert.Equal(t, "snap-gen", pan.Actor)
		assert.Regexp(t, `^open /db/\d{6}\.sst: removed at step \d+ \(t=[0-9.]+m?s\) by gc: obsolete after compaction \d+$`, odf.Detail)
		assert.Contains(t, pan.Detail, "open: No such file or directory (os error 2)")
		assert.Contains(t, pan.Detail, "called `Result::unwrap()` on an `Err` value")
		assert.Contains(t, pan.Detail, "file does not exist", "the real MemFS error is kept")
		assert.Contains(t, pan.Stack, "model.naive.Collect", "the stack points at the collector")
		assert.Equal(t, odf.Step, pan.Step, "the oracle and the panic are the same step")

		// The file was deleted by GC before it was opened, and it was a
		// file the snapshot had listed.
		var aborted *SnapshotReport
		for i := range out.Snapshots {
			if out.Snapshots[i].Status != SnapDone {
				aborted = &out.Snapshots[i]
			}
		}
		require.NotNil(t, aborted, "seed %d", seed)
		assert.Equal(t, SnapAborted, aborted.Status)
		assert.Equal(t, fmt.Sprintf("generator did not finish: it panicked at step %d", pan.Step), aborted.Error)
		assert.Equal(t, 1, aborted.Attempts)
	}
	t.Logf("naive: %d/300 seeds panic on a deleted file; first at seed %d", hits, firstHit)
	require.GreaterOrEqual(t, hits, 30)
	require.LessOrEqual(t, firstHit, uint64(20), "the bug is shallow: it must show in the first seeds")

	// Exact reproduction.
	a, b := mustRun(t, cfg, firstHit), mustRun(t, cfg, firstHit)
	assert.Equal(t, a.Result.TraceHash, b.Result.TraceHash)
	assert.Equal(t, stripStacks(a.Result.Observations), stripStacks(b.Result.Observations))
	assert.Equal(t, a.Snapshots, b.Snapshots)
}

func TestLeaseRetryDefaultIsClean(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig("lease-retry")
	snaps := 0
	for seed := uint64(1); seed <= 1000; seed++ {
		out := mustRun(t, cfg, seed)
		require.Empty(t, out.Result.Observations, "seed %d", seed)
		require.Equal(t, sim.EndDone, out.Result.End, "seed %d", seed)
		require.NotEmpty(t, out.Snapshots)
		require.Len(t, out.Snapshots, out.Workload.Snapshots)
		for _, s := range out.Snapshots {
			snaps++
			require.Equal(t, SnapDone, s.Status, "seed %d snapshot %d: %s", seed, s.ID, s.Error)
			require.NotEmpty(t, s.Path)
			require.Positive(t, s.SizeBytes)
			require.GreaterOrEqual(t, s.End, s.Start)
			require.GreaterOrEqual(t, s.Attempts, 1)
		}
	}
	t.Logf("lease-retry: 1000 seeds, %d snapshots, all verified", snaps)
}

// Stalls longer than the lease: the atomic check-and-open still never opens
// a deleted file; the lease is lost now and then and the build retries.
func TestLeaseRetryStallsAtomicCheck(t *testing.T) {
	t.Parallel()
	cfg := stallConfig()
	retried, stalls := 0, 0
	for seed := uint64(1); seed <= 1000; seed++ {
		out := mustRun(t, cfg, seed)
		require.Empty(t, out.Result.Observations, "seed %d", seed)
		stalls += out.Faults.Stalls
		for _, s := range out.Snapshots {
			require.Equal(t, SnapDone, s.Status, "seed %d: %s", seed, s.Error)
			if s.Attempts > 1 {
				retried++
			}
		}
	}
	t.Logf("atomic: %d stalls, %d snapshots retried", stalls, retried)
	require.Positive(t, stalls, "the stall fault must fire")
	require.Positive(t, retried, "stalls longer than the TTL must cost a retry somewhere")
}

func retriedRun(o Outcome) bool {
	for _, s := range o.Snapshots {
		if s.Attempts > 1 {
			return true
		}
	}
	return false
}

// The DESIGN.md §2 subtle case: check and open as two steps, no grace: a
// stall between them lets GC delete the file. The design still never
// panics and never ships wrong data: it retries.
func TestLeaseRetryNonAtomicCheckIsCaught(t *testing.T) {
	t.Parallel()
	cfg := stallConfig()
	cfg.NonAtomicCheck = true
	cfg.GCGrace = 0
	hits, first := 0, uint64(0)
	for seed := uint64(1); seed <= 2000; seed++ {
		out := mustRun(t, cfg, seed)
		k := kinds(out.Result.Observations)
		require.Zero(t, k[sim.KindPanic], "seed %d", seed)
		require.Zero(t, k[sim.KindInconsistentSnapshot], "seed %d", seed)
		require.Zero(t, k[sim.KindGCDeletedPinnedFile], "seed %d", seed)
		if k[sim.KindOpenDeletedFile] == 0 {
			continue
		}
		hits++
		if first == 0 {
			first = seed
			odf := ofKind(out.Result.Observations, sim.KindOpenDeletedFile)[0]
			assert.Equal(t, "snap-gen", odf.Actor)
			assert.Contains(t, odf.Detail, "by gc: obsolete after compaction")
			assert.True(t, retriedRun(out), "the lost file costs a retry")
			for _, s := range out.Snapshots {
				assert.Equal(t, SnapDone, s.Status, "the retry succeeds")
			}
		}
	}
	t.Logf("non-atomic, no grace: open-deleted-file in %d/2000 seeds, first at %d", hits, first)
	require.Positive(t, hits)
}

func TestLeaseRetryNonAtomicCheckWithGraceIsSafe(t *testing.T) {
	t.Parallel()
	cfg := stallConfig()
	cfg.NonAtomicCheck = true
	cfg.GCGrace = 20 * sim.Millisecond // longer than any 10ms stall
	retried := 0
	for seed := uint64(1); seed <= 1000; seed++ {
		out := mustRun(t, cfg, seed)
		require.Empty(t, out.Result.Observations, "seed %d", seed)
		if retriedRun(out) {
			retried++
		}
	}
	require.Positive(t, retried, "the lease is still lost to stalls; only the deletion is prevented")
}

// A lease shorter than 4µs used to make the rate-limiter wait loop sleep
// for 0µs forever (TTL/4 == 0): the generator never finished.
func TestLeaseRetryTinyTTLMakesProgress(t *testing.T) {
	for _, ttl := range []sim.Micros{1, 3} {
		cfg := DefaultConfig("lease-retry")
		cfg.LeaseTTL = ttl
		cfg.SnapIOBytesPerSec = 16 << 20 // waits of a few dozen µs
		for seed := uint64(1); seed <= 20; seed++ {
			out := mustRun(t, cfg, seed)
			require.Equal(t, sim.EndDone, out.Result.End, "ttl %s seed %d", ttl, seed)
			for _, s := range out.Snapshots {
				require.Contains(t, []string{SnapDone, SnapFailed}, s.Status)
				if s.Status == SnapFailed {
					require.Contains(t, s.Error, ErrAttemptsSpent.Error())
					require.Contains(t, s.Error, "lease lost")
				}
			}
			require.Empty(t, out.Result.Observations)
		}
	}
}

// With every open failing, lease-retry gives up after MaxAttempts with a
// report, and never panics; naive panics with the Rust-style EIO message.
func TestCollectorsUnderOpenEIO(t *testing.T) {
	lr := DefaultConfig("lease-retry")
	lr.FS.Faults.OpenEIOPermille = 1000
	lr.MaxAttempts = 3
	out := mustRun(t, lr, 1)
	assert.Empty(t, out.Result.Observations)
	require.NotEmpty(t, out.Snapshots)
	failed := 0
	for _, s := range out.Snapshots {
		if s.Files == nil && s.Status == SnapDone {
			continue // an empty region needs no open
		}
		failed++
		assert.Equal(t, SnapFailed, s.Status)
		assert.Equal(t, 3, s.Attempts)
		assert.Contains(t, s.Error, "snapshot attempts exhausted after 3 attempts")
		assert.Contains(t, s.Error, "input/output error")
	}
	assert.Positive(t, failed)
	assert.Positive(t, out.Faults.EIO)

	na := DefaultConfig("naive")
	na.FS.Faults.OpenEIOPermille = 1000
	found := false
	for seed := uint64(1); seed <= 20 && !found; seed++ {
		out := mustRun(t, na, seed)
		for _, o := range ofKind(out.Result.Observations, sim.KindPanic) {
			found = true
			assert.Contains(t, o.Detail, "open: Input/output error (os error 5)")
		}
	}
	assert.True(t, found)
}

func TestRustIOError(t *testing.T) {
	enoent := &os.PathError{Op: "open", Path: "/db/000001.sst", Err: os.ErrNotExist}
	assert.Equal(t, "open: No such file or directory (os error 2)", rustIOError(enoent))
	assert.Equal(t, "open: No such file or directory (os error 2)", rustIOError(fmt.Errorf("wrapped: %w", syscall.ENOENT)))
	assert.Equal(t, "open: Input/output error (os error 5)", rustIOError(&os.PathError{Op: "open", Path: "x", Err: syscall.EIO}))
	assert.Equal(t, "plain", rustIOError(errors.New("plain")))
}

// runToEnd runs a lease-retry seed through the lower-level pieces (as Run
// does) but keeps the node, so the checker can be exercised on it.
func runToEnd(t *testing.T, seed uint64) (*sim.Scheduler, *Node) {
	t.Helper()
	s, n := buildNode(t, DefaultConfig("lease-retry"), seed)
	res := s.Run()
	require.Equal(t, sim.EndDone, res.End)
	require.Empty(t, res.Observations)
	return s, n
}

// doneWithKeys returns a finished snapshot that holds at least one key.
func doneWithKeys(t *testing.T, n *Node) *SnapshotReport {
	t.Helper()
	for _, r := range n.Snapshots {
		if r.Status == SnapDone && r.Keys > 0 {
			return r
		}
	}
	t.Fatalf("no snapshot with keys")
	return nil
}

// findSeedWithKeys returns a seed whose run ships a non-empty snapshot.
func findSeedWithKeys(t *testing.T) uint64 {
	for seed := uint64(1); seed < 100; seed++ {
		out := mustRun(t, DefaultConfig("lease-retry"), seed)
		for _, s := range out.Snapshots {
			if s.Status == SnapDone && s.Keys > 1 {
				return seed
			}
		}
	}
	t.Fatal("no seed with a multi-key snapshot")
	return 0
}

func TestCheckerAcceptsUntouchedSnapshot(t *testing.T) {
	s, n := runToEnd(t, findSeedWithKeys(t))
	rep := doneWithKeys(t, n)
	assert.Equal(t, "", n.verifyOne(rep))
	n.verify()
	assert.Empty(t, s.Observations())
	// The data file holds exactly the reference's view.
	assert.Equal(t, n.Ref.At(n.Region, rep.Seq), decodeFile(t, n.FS, rep.Path))
	meta := string(readFile(t, n.FS, strings.TrimSuffix(rep.Path, ".sst")+".meta"))
	assert.Equal(t, fmt.Sprintf("region=1 seq=%d epoch=v1/c1 cf=default size=%d crc32=%08x\n", rep.Seq, rep.SizeBytes, rep.CRC32), meta)
	assert.False(t, exists(n.FS, strings.TrimSuffix(rep.Path, ".sst")+".meta.tmp"))
}

// rewrite replaces a snapshot's data file (outside any actor) and, if
// fixMeta, writes a meta file that matches the new data.
func rewrite(t *testing.T, n *Node, rep *SnapshotReport, data []byte, fixMeta bool) {
	t.Helper()
	require.NoError(t, n.FS.Remove(rep.Path))
	require.NoError(t, n.Engine.writeFile(rep.Path, data))
	if fixMeta {
		meta := strings.TrimSuffix(rep.Path, ".sst") + ".meta"
		require.NoError(t, n.FS.Remove(meta))
		require.NoError(t, n.Engine.writeFile(meta, fmt.Appendf(nil, "region=1 seq=%d size=%d crc32=%08x\n", rep.Seq, len(data), crcOf(data))))
	}
}

func TestCheckerDetectsTamperedSnapshot(t *testing.T) {
	seed := findSeedWithKeys(t)
	cases := []struct {
		name   string
		tamper func(recs []Record) []Record
		want   string
	}{
		{"value changed", func(recs []Record) []Record {
			recs[0].Value = "forged"
			return recs
		}, "got ["},
		{"key dropped", func(recs []Record) []Record { return recs[1:] }, "reference has"},
		{"key added", func(recs []Record) []Record {
			return append(recs, Record{Key: "zzz", Seq: 1, Kind: KindPut, Value: "extra"})
		}, "reference has"},
		{"tombstone for a live key", func(recs []Record) []Record {
			recs[0].Kind, recs[0].Value = KindDelete, ""
			return recs
		}, "reference has"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, n := runToEnd(t, seed)
			rep := doneWithKeys(t, n)
			recs := decodeFile(t, n.FS, rep.Path)
			rewrite(t, n, rep, EncodeSST(c.tamper(recs)), true)
			n.verify()
			got := ofKind(s.Observations(), sim.KindInconsistentSnapshot)
			require.Len(t, got, 1)
			assert.Equal(t, "checker", got[0].Actor)
			assert.Contains(t, got[0].Detail, fmt.Sprintf("snapshot %d (%s): at seq %d", rep.ID, rep.Path, rep.Seq))
			assert.Contains(t, got[0].Detail, c.want)
		})
	}
}

func TestCheckerDetectsCorruptData(t *testing.T) {
	seed := findSeedWithKeys(t)
	t.Run("crc mismatch with meta", func(t *testing.T) {
		s, n := runToEnd(t, seed)
		rep := doneWithKeys(t, n)
		data := readFile(t, n.FS, rep.Path)
		data[0] ^= 0x40
		rewrite(t, n, rep, data, false)
		n.verify()
		got := ofKind(s.Observations(), sim.KindInconsistentSnapshot)
		require.Len(t, got, 1)
		assert.Contains(t, got[0].Detail, "data does not match meta")
		assert.Contains(t, got[0].Detail, fmt.Sprintf("crc32 %08x vs %08x", crcOf(data), rep.CRC32))
	})
	t.Run("size mismatch with meta", func(t *testing.T) {
		s, n := runToEnd(t, seed)
		rep := doneWithKeys(t, n)
		data := readFile(t, n.FS, rep.Path)
		rewrite(t, n, rep, data[:len(data)-1], false)
		n.verify()
		got := ofKind(s.Observations(), sim.KindInconsistentSnapshot)
		require.Len(t, got, 1)
		assert.Contains(t, got[0].Detail, fmt.Sprintf("size %d vs %d", len(data)-1, len(data)))
	})
	t.Run("corrupt sst with matching meta", func(t *testing.T) {
		s, n := runToEnd(t, seed)
		rep := doneWithKeys(t, n)
		data := readFile(t, n.FS, rep.Path)
		data[len(data)-1] ^= 0xff // the magic
		rewrite(t, n, rep, data, true)
		n.verify()
		got := ofKind(s.Observations(), sim.KindInconsistentSnapshot)
		require.Len(t, got, 1)
		assert.Contains(t, got[0].Detail, "corrupt sst: bad magic")
	})
	t.Run("data file missing", func(t *testing.T) {
		s, n := runToEnd(t, seed)
		rep := doneWithKeys(t, n)
		require.NoError(t, n.FS.Remove(rep.Path))
		n.verify()
		got := ofKind(s.Observations(), sim.KindInconsistentSnapshot)
		require.Len(t, got, 1)
		assert.Contains(t, got[0].Detail, "data unreadable")
	})
	t.Run("meta file missing", func(t *testing.T) {
		s, n := runToEnd(t, seed)
		rep := doneWithKeys(t, n)
		require.NoError(t, n.FS.Remove(strings.TrimSuffix(rep.Path, ".sst")+".meta"))
		n.verify()
		got := ofKind(s.Observations(), sim.KindInconsistentSnapshot)
		require.Len(t, got, 1)
		assert.Contains(t, got[0].Detail, "meta unreadable")
	})
	t.Run("failed snapshots are not checked", func(t *testing.T) {
		s, n := runToEnd(t, seed)
		rep := doneWithKeys(t, n)
		require.NoError(t, n.FS.Remove(rep.Path))
		rep.Status = SnapFailed
		n.verify()
		assert.Empty(t, s.Observations())
	})
}

func TestRunReportsPanickedGeneratorAsAborted(t *testing.T) {
	assert.Equal(t, "the run ended first", generatorFate(nil))
	assert.Equal(t, "the run ended first", generatorFate([]sim.Observation{{Kind: sim.KindPanic, Actor: "writer", Step: 3}}))
	assert.Equal(t, "it panicked at step 7", generatorFate([]sim.Observation{
		{Kind: sim.KindOpenDeletedFile, Actor: "snap-gen", Step: 7},
		{Kind: sim.KindPanic, Actor: "snap-gen", Step: 7},
	}))

	// Step budgets too small to finish: unfinished snapshots are reported
	// as aborted, not lost and not left "running".
	full := mustRun(t, DefaultConfig("lease-retry"), 1)
	aborted := 0
	for budget := int64(1); budget < full.Result.Steps; budget += 7 {
		out, err := Run(DefaultConfig("lease-retry"), sim.NewPRNG(1), sim.Config{MaxSteps: budget})
		require.NoError(t, err)
		require.Equal(t, sim.EndBudget, out.Result.End)
		assert.False(t, out.Violated())
		for _, s := range out.Snapshots {
			if s.Status == SnapDone {
				continue
			}
			require.Equal(t, SnapAborted, s.Status)
			require.Equal(t, "generator did not finish: the run ended first", s.Error)
			aborted++
		}
	}
	assert.Positive(t, aborted)
}

// collectAlone runs lease-retry's Collect on a node holding flushed data,
// with disturb running beside it; it returns what Collect returned.
func collectAlone(t *testing.T, cfg Config, disturb func(a *sim.Actor, n *Node)) (*sim.Scheduler, *Gen, Collected, error) {
	t.Helper()
	s := sim.New(sim.NewPRNG(1), sim.Config{KeepTrace: true})
	n, err := newNode(s, cfg, Workload{FlushThreshold: 1000, CompactTrigger: 1000})
	require.NoError(t, err)
	for i := 0; i < 20; i++ {
		rec := put(KeyName(i%cfg.KeySpace), 0, value(uint64(i+1), cfg.ValueBytes))
		rec.Seq = n.Engine.Put(rec.Key, rec.Value)
		n.Ref.Append(rec)
	}
	require.NoError(t, n.Engine.Flush()) // set-up: outside any actor
	var g *Gen
	var got Collected
	var cerr error
	s.Spawn("snap-gen", sim.ActorOptions{Watched: true}, func(a *sim.Actor) {
		g = &Gen{Node: n, Actor: a}
		got, cerr = n.collector.Collect(g)
	})
	s.Spawn("disturb", sim.ActorOptions{}, func(a *sim.Actor) { disturb(a, n) })
	res := s.Run()
	require.Empty(t, res.Observations)
	return s, g, got, cerr
}

func TestLeaseRetryAbortsOnEpochChange(t *testing.T) {
	cfg := DefaultConfig("lease-retry")
	s, g, got, err := collectAlone(t, cfg, func(a *sim.Actor, n *Node) {
		a.Sleep(100 * sim.Microsecond) // the generator is waiting on the limiter
		n.Region.Epoch.Version++       // a split
	})
	require.NoError(t, err)
	assert.Equal(t, 2, g.Attempts)
	assert.Equal(t, Epoch{Version: 2, ConfVer: 1}, got.Epoch, "the data belongs to the new epoch")
	assert.Contains(t, retryLines(s), "attempt 1 aborted: region epoch changed: v1/c1 -> v2/c1")
	assert.Len(t, got.Data[CFDefault], cfg.KeySpace)
	assert.Empty(t, g.Node.Engine.leases, "every lease was released")
	assert.Empty(t, g.Node.Engine.snapshots, "every engine snapshot was released")
}

func TestLeaseRetryWaitsForNormalRegion(t *testing.T) {
	cfg := DefaultConfig("lease-retry")
	s, g, _, err := collectAlone(t, cfg, func(a *sim.Actor, n *Node) {
		n.Region.State = RegionSplitting
		a.Sleep(sim.Millisecond)
		n.Region.State = RegionNormal
	})
	require.NoError(t, err)
	assert.Greater(t, g.Attempts, 1)
	assert.Contains(t, retryLines(s), "attempt 1 aborted: "+ErrRegionBusy.Error())

	cfg.MaxAttempts = 2
	_, g, _, err = collectAlone(t, cfg, func(a *sim.Actor, n *Node) { n.Region.State = RegionMerging })
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrAttemptsSpent)
	assert.ErrorIs(t, err, ErrRegionBusy)
	assert.Equal(t, 2, g.Attempts)
}

func TestLeaseRetryLostLeaseRetries(t *testing.T) {
	cfg := DefaultConfig("lease-retry")
	// The lease lapses while the generator waits on the limiter (as after
	// a stall longer than the TTL): the next check aborts the attempt.
	s, g, got, err := collectAlone(t, cfg, func(a *sim.Actor, n *Node) {
		a.Sleep(100 * sim.Microsecond)
		l := n.Engine.leases[0]
		l.Expiry = n.s.Now() // white-box: the lease lapses now
	})
	require.NoError(t, err)
	assert.Equal(t, 2, g.Attempts)
	assert.Contains(t, retryLines(s), "attempt 1 aborted: lease lost: lease 1 expired")
	assert.Equal(t, g.Node.Ref.At(g.Node.Region, got.Seq), got.Data[CFDefault])
}

func retryLines(s *sim.Scheduler) string {
	var b strings.Builder
	for _, ev := range s.Result().Events {
		if ev.Op == "retry" {
			b.WriteString(ev.Detail + ": " + ev.Result + "\n")
		}
	}
	return b.String()
}

// No engine snapshot or lease outlives its generator: not after success,
// not after a panic (naive), not after a retry (lease-retry).
func TestGeneratorsReleaseSnapshotsAndLeases(t *testing.T) {
	for _, cfg := range []Config{DefaultConfig("naive"), DefaultConfig("lease-retry"), stallConfig()} {
		panics := 0
		for seed := uint64(1); seed <= 40; seed++ {
			s, n := buildNode(t, cfg, seed)
			res := s.Run()
			panics += len(ofKind(res.Observations, sim.KindPanic))
			require.Empty(t, n.Engine.snapshots, "%s seed %d", cfg.Collector, seed)
			require.Empty(t, n.Engine.leases, "%s seed %d", cfg.Collector, seed)
			// With the checker's reads (they are traced too), buildNode is Run.
			n.verify()
			require.Equal(t, mustRun(t, cfg, seed).Result.TraceHash, s.Result().TraceHash, "buildNode drifted from Run")
		}
		if cfg.Collector == "naive" {
			require.Positive(t, panics, "the panic path is exercised")
		}
	}
}

// Transient read and write errors everywhere: flushes and compactions fail
// and retry, snapshot builds retry or fail with a report. lease-retry never
// panics and never ships wrong data; the engine never loses a write (the
// checker would see it).
func TestLeaseRetryUnderIOErrors(t *testing.T) {
	cfg := DefaultConfig("lease-retry")
	cfg.FS.Faults.ReadEIOPermille = 30
	cfg.FS.Faults.WriteEIOPermille = 30
	cfg.FS.Faults.OpenEIOPermille = 30
	var flushFailed, compactFailed, snapFailed, retried, done int
	for seed := uint64(1); seed <= 300; seed++ {
		out, err := Run(cfg, sim.NewPRNG(seed), sim.Config{KeepTrace: true})
		require.NoError(t, err)
		require.Empty(t, out.Result.Observations, "seed %d", seed)
		for _, ev := range out.Result.Events {
			switch {
			case ev.Op == "flush" && ev.Detail == "failed":
				flushFailed++
				require.Contains(t, ev.Result, "input/output error")
			case ev.Op == "compact" && ev.Detail == "failed":
				compactFailed++
			}
		}
		for _, s := range out.Snapshots {
			require.Equal(t, s.End-s.Start, s.Latency())
			switch s.Status {
			case SnapDone:
				done++
			case SnapFailed:
				snapFailed++
				require.Contains(t, s.Error, "input/output error", "seed %d", seed)
			default:
				t.Fatalf("seed %d: snapshot %d %s: %s", seed, s.ID, s.Status, s.Error)
			}
			if s.Attempts > 1 {
				retried++
			}
		}
	}
	t.Logf("EIO: %d flushes and %d compactions failed and retried; snapshots: %d done, %d retried, %d failed",
		flushFailed, compactFailed, done, retried, snapFailed)
	require.Positive(t, flushFailed)
	require.Positive(t, compactFailed)
	require.Positive(t, retried)
	require.Positive(t, snapFailed, "a failed snapshot-file write is reported, not retried")
	require.Greater(t, done, 300)
}
