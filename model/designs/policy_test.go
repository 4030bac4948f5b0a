package designs

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/engine"
	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
)

// The white-box tests of the shared retry policy run it inside a snapshot
// generator on a real cluster (tikv's harness: NewCluster and NewBuild),
// as a user's design test would.

// testSys is the TiKV-like system with these designs.
var testSys = tikv.MustNew(All()...)

// ioChunkBytes is the engine's read size (engine.IOChunkBytes).
const ioChunkBytes = engine.IOChunkBytes

// designConfig is what the system hands a design of cfg.
func designConfig(cfg tikv.Config) model.DesignConfig {
	return model.DesignConfig{LeaseTTL: cfg.LeaseTTL, NonAtomicCheck: cfg.NonAtomicCheck, MaxAttempts: cfg.MaxAttempts, Backoff: cfg.Backoff}
}

func eventsOf(events []sim.Event, op string) []sim.Event {
	var out []sim.Event
	for _, e := range events {
		if e.Class == sim.ClassAction && e.Op == op {
			out = append(out, e)
		}
	}
	return out
}

// policyRun runs fn inside a generator actor on a fresh cluster and
// returns the trace.
func policyRun(t *testing.T, cfg tikv.Config, fn func(b model.Build)) sim.Result {
	t.Helper()
	s := sim.New(sim.NewPRNG(1), sim.Config{KeepTrace: true})
	c, err := testSys.NewCluster(s, cfg, tikv.Workload{FlushThreshold: 1000, CompactTrigger: 1000})
	require.NoError(t, err)
	s.Spawn("snap-gen", sim.ActorOptions{}, func(a *sim.Actor) {
		fn(c.NewBuild(a, c.Regions.All()[0]))
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
			res := policyRun(t, tikv.DefaultConfig("retry"), func(b model.Build) {
				_, err = policyFor(designConfig(tikv.DefaultConfig("retry"))).open(b, "/db/000001.sst", func() (model.Handle, error) {
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
// other error counts, MaxAttempts failures end it with model.ErrAttemptsSpent,
// the backoff grows with the attempt number, and the hard bound holds.
func TestRetryPolicyCountsAttempts(t *testing.T) {
	cfg := tikv.DefaultConfig("retry")
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
		{name: "spent", errs: []error{eio, eio, eio}, wantAttempts: 3, wantErr: model.ErrAttemptsSpent,
			wantMsg: "snapshot attempts exhausted after 3 attempts (3 failures): read /db/000001.sst at 0: open /db/000001.sst: input/output error", wantBackoff: 100 + 200},
		{name: "re-issued attempts do not count", errs: []error{model.ErrEpochChanged, model.ErrRegionBusy, eio, model.ErrEpochChanged}, wantAttempts: 5,
			wantRetries: []string{"attempt 1 aborted (0 of 3 failures)", "attempt 2 aborted (0 of 3 failures)", "attempt 3 aborted (1 of 3 failures)", "attempt 4 aborted (1 of 3 failures)"}, wantBackoff: 100 + 200 + 300 + 300},
		{name: "region gone ends the build", errs: []error{eio, model.ErrRegionGone}, wantAttempts: 2, wantErr: model.ErrRegionGone, wantBackoff: 100},
		{name: "a snapshot-file write ends the build", errs: []error{fmt.Errorf("%w: write x: %w", model.ErrSnapWrite, eioErr)}, wantAttempts: 1, wantErr: model.ErrSnapWrite},
		{name: "hard bound", errs: repeat(model.ErrRegionBusy, 100), wantAttempts: maxAttemptsFactor * 3, wantErr: model.ErrAttemptsSpent,
			wantMsg: fmt.Sprintf("snapshot attempts exhausted after %d attempts (0 failures): %s", maxAttemptsFactor*3, model.ErrRegionBusy), wantBackoff: 100 + 200 + 300*(maxAttemptsFactor*3-3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			var g model.Build
			var start, doneAt sim.Micros
			res := policyRun(t, cfg, func(b model.Build) {
				g = b
				start = g.Now()
				_, err = policyFor(designConfig(cfg)).run(g, func(n int) (model.Collected, error) {
					if n <= len(tc.errs) {
						return model.Collected{}, tc.errs[n-1]
					}
					return model.Collected{Seq: 7}, nil
				})
				doneAt = g.Now()
			})
			assert.Equal(t, tc.wantAttempts, g.Attempts())
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
	var recs []model.Record
	for i := 0; i < 8; i++ {
		recs = append(recs, model.Record{Key: fmt.Sprintf("k%03d", i), Seq: uint64(i + 1), Kind: model.KindPut, Value: fmt.Sprintf("v%d%s", i+1, strings.Repeat(".", 98))})
	}
	data := engine.EncodeSST(recs)
	require.Greater(t, len(data), 2*ioChunkBytes)
	chunks := (len(data) + ioChunkBytes - 1) / ioChunkBytes
	meta := &model.FileMeta{Num: 1, CF: model.CFDefault, Path: "/db/000001.sst", SizeBytes: int64(len(data))}
	p := policyFor(designConfig(tikv.DefaultConfig("retry")))
	for failures := 0; failures <= transientTries; failures++ {
		h := &flakyFile{data: data, failAt: ioChunkBytes, failures: failures}
		var got []model.Record
		var err error
		policyRun(t, tikv.DefaultConfig("retry"), func(b model.Build) { got, err = b.Engine().ReadFile(h, meta, p.tries) })
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
