package tikv

import (
	"fmt"
	"os"
	"regexp"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
)

// retryingDesigns are the designs that share retryPolicy; unwrapping the
// designs that panic on an error, as the report's code did.
var (
	retryingDesigns  = []string{"retry", "pin", "lease-retry", "checkpoint", "scan"}
	unwrappingDesign = []string{"naive", "lease"}
)

// Every registered design is one or the other: a new design must say how
// it handles errors.
func TestEveryDesignIsRetryingOrUnwrapping(t *testing.T) {
	all := append(append([]string(nil), retryingDesigns...), unwrappingDesign...)
	assert.ElementsMatch(t, all, CollectorNames())
}

// policyRun runs fn inside a generator actor on a fresh cluster and
// returns the trace.
func policyRun(t *testing.T, cfg Config, fn func(g *Gen)) sim.Result {
	t.Helper()
	s := sim.New(sim.NewPRNG(1), sim.Config{KeepTrace: true})
	c, err := newCluster(s, cfg, Workload{FlushThreshold: 1000, CompactTrigger: 1000})
	require.NoError(t, err)
	s.Spawn("snap-gen", sim.ActorOptions{}, func(a *sim.Actor) {
		fn(&Gen{Node: c.Leader, Actor: a, Region: c.Regions.All()[0]})
	})
	res := s.Run()
	require.Equal(t, sim.EndDone, res.End)
	return res
}

var eioErr = &os.PathError{Op: "open", Path: "/db/000001.sst", Err: syscall.EIO}

// The in-place retry: a transient EIO is tried again at once, up to
// transientTries tries in all; any other error is not; one "open" action
// records the final result.
func TestRetryPolicyOpenRetriesTransientEIOInPlace(t *testing.T) {
	enoent := &os.PathError{Op: "open", Path: "/db/000001.sst", Err: os.ErrNotExist}
	for _, tc := range []struct {
		name      string
		errs      []error // what each try returns; past the end: success
		wantCalls int
		wantErr   error
	}{
		{"ok", nil, 1, nil},
		{"EIO once", []error{eioErr}, 2, nil},
		{"EIO twice", []error{eioErr, eioErr}, 3, nil},
		{"EIO every time", []error{eioErr, eioErr, eioErr, eioErr}, transientTries, syscall.EIO},
		{"ENOENT is not retried", []error{enoent}, 1, os.ErrNotExist},
		{"EIO then ENOENT", []error{eioErr, enoent}, 2, os.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			var err error
			res := policyRun(t, DefaultConfig("retry"), func(g *Gen) {
				_, err = policyFor(g.Node.cfg).open(g, "/db/000001.sst", func() (vfs.File, error) {
					calls++
					if calls <= len(tc.errs) {
						return nil, tc.errs[calls-1]
					}
					return nil, nil
				})
			})
			assert.Equal(t, tc.wantCalls, calls)
			if tc.wantErr == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.wantErr)
			}
			opens := eventsOf(res.Events, "open")
			require.Len(t, opens, 1, "one open action, whatever the tries")
			assert.Equal(t, result(err), opens[0].Result)
		})
	}
}

// The attempt loop: region changes are re-issued and not counted, a
// merged-away region and a failed snapshot-file write end the build, every
// other error counts, MaxAttempts failures end it with ErrAttemptsSpent,
// the backoff grows with the attempt number, and the hard bound holds.
func TestRetryPolicyCountsAttempts(t *testing.T) {
	cfg := DefaultConfig("retry")
	cfg.MaxAttempts = 3
	cfg.Backoff = 100 * sim.Microsecond
	eio := fmt.Errorf("read /db/000001.sst at 0: %w", eioErr)
	for _, tc := range []struct {
		name         string
		errs         []error // attempt n returns errs[n-1]; past the end: success
		wantAttempts int
		wantErr      error
		wantMsg      string
		wantRetries  []string
		// wantBackoff is the time that passes: Backoff × min(n,
		// MaxAttempts) after each aborted attempt n that another follows.
		wantBackoff sim.Micros
	}{
		{name: "first attempt", wantAttempts: 1},
		{name: "two failures then success", errs: []error{eio, eio}, wantAttempts: 3,
			wantRetries: []string{"attempt 1 aborted (1 of 3 failures)", "attempt 2 aborted (2 of 3 failures)"}, wantBackoff: 100 + 200},
		{name: "spent", errs: []error{eio, eio, eio}, wantAttempts: 3, wantErr: ErrAttemptsSpent,
			wantMsg: "snapshot attempts exhausted after 3 attempts (3 failures): read /db/000001.sst at 0: open /db/000001.sst: input/output error", wantBackoff: 100 + 200},
		{name: "re-issued attempts do not count", errs: []error{ErrEpochChanged, ErrRegionBusy, eio, ErrEpochChanged}, wantAttempts: 5,
			wantRetries: []string{"attempt 1 aborted (0 of 3 failures)", "attempt 2 aborted (0 of 3 failures)", "attempt 3 aborted (1 of 3 failures)", "attempt 4 aborted (1 of 3 failures)"}, wantBackoff: 100 + 200 + 300 + 300},
		{name: "region gone ends the build", errs: []error{eio, ErrRegionGone}, wantAttempts: 2, wantErr: ErrRegionGone, wantBackoff: 100},
		{name: "a snapshot-file write ends the build", errs: []error{fmt.Errorf("%w: write x: %w", ErrSnapWrite, eioErr)}, wantAttempts: 1, wantErr: ErrSnapWrite},
		{name: "hard bound", errs: repeat(ErrRegionBusy, 100), wantAttempts: maxAttemptsFactor * 3, wantErr: ErrAttemptsSpent,
			wantMsg: fmt.Sprintf("snapshot attempts exhausted after %d attempts (0 failures): %s", maxAttemptsFactor*3, ErrRegionBusy), wantBackoff: 100 + 200 + 300*(maxAttemptsFactor*3-3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			var g *Gen
			var start, doneAt sim.Micros
			res := policyRun(t, cfg, func(gen *Gen) {
				g = gen
				start = g.Node.s.Now()
				_, err = policyFor(cfg).run(g, func(n int) (Collected, error) {
					if n <= len(tc.errs) {
						return Collected{}, tc.errs[n-1]
					}
					return Collected{Seq: 7}, nil
				})
				doneAt = g.Node.s.Now()
			})
			assert.Equal(t, tc.wantAttempts, g.Attempts)
			if tc.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.wantErr)
			}
			if tc.wantMsg != "" {
				assert.Equal(t, tc.wantMsg, err.Error())
			}
			retries := eventsOf(res.Events, "retry")
			if tc.wantRetries != nil {
				var got []string
				for _, r := range retries {
					got = append(got, r.Detail)
				}
				assert.Equal(t, tc.wantRetries, got)
			}
			assert.Equal(t, tc.wantBackoff, doneAt-start, "the backoffs are the only time that passes")
		})
	}
}

func repeat(err error, n int) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = err
	}
	return out
}

// Every retrying design handles the same I/O error the same way: with
// every open of an engine file (or of checkpoint's link to one), or every
// chunk read of it, failing with EIO, the open or the first chunk read is
// tried transientTries times in place, each attempt costs one counted
// failure, the backoffs grow alike, and the build gives up after
// MaxAttempts with the same error. The designs differ only in which path
// they open and what protects it.
func TestRetryingDesignsHandleTransientEIOAlike(t *testing.T) {
	for _, fault := range []string{"open", "read"} {
		reSpent := regexp.MustCompile(`^snapshot attempts exhausted after 3 attempts \(3 failures\): ` + map[string]string{
			"open": `open (/db/\d{6}|/snap/ckpt_snap-gen_\d+_\d+_\d{6})\.sst: input/output error$`,
			"read": `read (/db/\d{6}|/snap/ckpt_snap-gen_\d+_\d+_\d{6})\.sst at 0: read (/db/\d{6}|/snap/ckpt_snap-gen_\d+_\d+_\d{6})\.sst: input/output error$`,
		}[fault])
		for _, name := range retryingDesigns {
			t.Run(fault+"/"+name, func(t *testing.T) {
				cfg := DefaultConfig(name)
				cfg.MaxAttempts = 3
				if fault == "open" {
					cfg.FS.Faults.OpenEIOPermille = 1000
				} else {
					cfg.FS.Faults.ReadEIOPermille = 1000
				}
				w := runCollect(t, cfg, sim.Config{}, 20, nil)
				require.True(t, w.done)
				require.ErrorIs(t, w.err, ErrAttemptsSpent)
				assert.Regexp(t, reSpent, w.err.Error())
				assert.Equal(t, 3, w.g.Attempts)
				assert.Empty(t, w.res.Observations, "an EIO is no deleted file, and nothing panics")

				retries := eventsOf(w.res.Events, "retry")
				require.Len(t, retries, 3)
				opens := eventsOf(w.res.Events, "open")
				require.Len(t, opens, 3, "one open per attempt: the attempt ends at its first lost file")
				for i, r := range retries {
					assert.Equal(t, fmt.Sprintf("attempt %d aborted (%d of 3 failures)", i+1, i+1), r.Detail)
					// The io events of this attempt: transientTries tries of
					// the failing operation on the opened path.
					from := int64(-1)
					if i > 0 {
						from = retries[i-1].Step
					}
					tries := 0
					for _, ev := range w.res.Events {
						if ev.Class == sim.ClassIO && ev.Op == fault && ev.Detail == opens[i].Detail && ev.Step > from && ev.Step <= r.Step {
							tries++
						}
					}
					assert.Equal(t, transientTries, tries, "attempt %d: %s tries of %s", i+1, fault, opens[i].Detail)
					if i > 0 {
						assert.GreaterOrEqual(t, opens[i].Time-retries[i-1].Time, cfg.Backoff*sim.Micros(i), "backoff × %d before attempt %d", i, i+1)
					}
				}
				assert.Equal(t, retries[2].Time, w.doneAt, "no backoff after the last attempt")
				checkReleased(t, w)
			})
		}
	}
}

// flakyFile is an open SST whose chunk reads at offset failAt fail with
// EIO the first failures times (only ReadAt and Close are used).
type flakyFile struct {
	vfs.File
	data     []byte
	failAt   int64
	failures int
	reads    int
}

func (f *flakyFile) ReadAt(p []byte, off int64) (int, error) {
	f.reads++
	if off == f.failAt && f.failures > 0 {
		f.failures--
		return 0, &os.PathError{Op: "read", Path: "/db/000001.sst", Err: syscall.EIO}
	}
	n := copy(p, f.data[off:])
	return n, nil
}

func (f *flakyFile) Close() error { return nil }

// The in-place retry of chunk reads: a chunk whose read fails with EIO is
// read again at once, up to transientTries reads in all.
func TestRetryPolicyReadRetriesTransientEIOInPlace(t *testing.T) {
	var recs []Record
	for i := 0; i < 8; i++ {
		recs = append(recs, Record{Key: KeyName(i), Seq: uint64(i + 1), Kind: KindPut, Value: value(uint64(i+1), 100)})
	}
	data := EncodeSST(recs)
	require.Greater(t, len(data), 2*ioChunkBytes)
	chunks := (len(data) + ioChunkBytes - 1) / ioChunkBytes
	meta := &FileMeta{Num: 1, CF: CFDefault, Path: "/db/000001.sst", SizeBytes: int64(len(data))}
	p := policyFor(DefaultConfig("retry"))
	for failures := 0; failures <= transientTries; failures++ {
		h := &flakyFile{data: data, failAt: ioChunkBytes, failures: failures}
		got, err := p.readSST(h, meta)
		if failures < transientTries {
			require.NoError(t, err, "%d failures", failures)
			assert.Len(t, got, len(recs))
			assert.Equal(t, chunks+failures, h.reads, "%d failures: each failed read is tried again at once", failures)
			continue
		}
		require.ErrorIs(t, err, syscall.EIO)
		assert.Equal(t, fmt.Sprintf("read /db/000001.sst at %d: read /db/000001.sst: input/output error", ioChunkBytes), err.Error())
		assert.Equal(t, 1+transientTries, h.reads, "chunk 0, then transientTries tries of chunk 1")
	}
}

// The designs without the policy unwrap the first EIO: one try, then the
// panic with TiKV's message.
func TestUnwrappingDesignsDoNotRetry(t *testing.T) {
	for _, name := range unwrappingDesign {
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig(name)
			cfg.FS.Faults.OpenEIOPermille = 1000
			s := sim.New(sim.NewPRNG(1), sim.Config{KeepTrace: true})
			c, err := newCluster(s, cfg, Workload{FlushThreshold: 1000, CompactTrigger: 1000})
			require.NoError(t, err)
			e := c.Leader.Engine
			e.Put("k000", "v")
			require.NoError(t, e.Flush())
			var g *Gen
			s.Spawn("snap-gen", sim.ActorOptions{Watched: true}, func(a *sim.Actor) {
				g = &Gen{Node: c.Leader, Actor: a, Region: c.Regions.All()[0]}
				_, _ = c.collector.Collect(g)
			})
			res := s.Run()
			p := ofKind(res.Observations, sim.KindPanic)
			require.Len(t, p, 1)
			assert.Contains(t, p[0].Detail, "open: Input/output error (os error 5)")
			tries := 0
			for _, ev := range res.Events {
				if ev.Class == sim.ClassIO && ev.Op == "open" && ev.Detail == e.Current().Files()[0].Path {
					tries++
				}
			}
			assert.Equal(t, 1, tries)
			assert.Equal(t, 1, g.Attempts)
		})
	}
}
