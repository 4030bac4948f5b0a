package designs

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// transientTries is how many times, in all, a retrying design tries an
// engine-file open or a chunk read that fails with a transient EIO before
// the error costs the attempt.
const transientTries = 3

// maxAttemptsFactor bounds the attempts of one build, counted or
// re-issued, to maxAttemptsFactor × MaxAttempts.
const maxAttemptsFactor = 4

// retryPolicy is the one error-handling policy of every design that
// retries: retry, pin, lease-retry, checkpoint and scan. The
// design-validation matrix should compare how designs find and protect
// files, not how they handle errors, so they all handle errors the same
// way. naive and lease do not retry: they unwrap, as the report's code did.
//
//   - Transient EIO is retried in place. An open of an engine file (or of
//     checkpoint's link to one) and each chunk read of it that fails with
//     EIO is tried again at once, up to transientTries tries in all, before
//     the error costs the attempt (the report's "retry transient
//     failures"). No other error is retried in place: not ENOENT, a
//     checksum mismatch or ENOSPC.
//   - Attempts are counted. A failed attempt releases its protections. A
//     new attempt starts from a fresh engine snapshot after Backoff ×
//     min(n, MaxAttempts), where n is the failed attempt's number. An
//     attempt aborted because the region changed under it
//     (model.ErrEpochChanged, model.ErrRegionBusy) is re-issued and not
//     counted: in TiKV raft drops such a request and asks again for the
//     new epoch. model.ErrRegionGone and model.ErrSnapWrite end the build
//     at once. Every other error counts. MaxAttempts counted failures end
//     the build with model.ErrAttemptsSpent.
//   - There is a hard bound: at most maxAttemptsFactor × MaxAttempts
//     attempts of any kind, with no backoff after the last one.
//
// Only lease-retry and scan check the region's state, so only they can be
// re-issued. For retry, pin and checkpoint every failure counts.
type retryPolicy struct {
	// tries is transientTries.
	tries int
	// maxFailures is DesignConfig.MaxAttempts; maxTotal the hard bound.
	maxFailures, maxTotal int
	backoff               sim.Micros
	// leaseLossReissued is the LeaseLossReissued weakening.
	leaseLossReissued bool
}

// policyFor returns the shared policy for cfg.
func policyFor(cfg model.DesignConfig) retryPolicy {
	return retryPolicy{tries: transientTries, maxFailures: cfg.MaxAttempts, maxTotal: maxAttemptsFactor * cfg.MaxAttempts, backoff: cfg.Backoff,
		leaseLossReissued: cfg.Weaken.LeaseLossReissued}
}

// reissued reports whether err is an attempt aborted because the region
// changed under it: the attempt is made again and not counted.
func reissued(err error) bool {
	return errors.Is(err, model.ErrEpochChanged) || errors.Is(err, model.ErrRegionBusy)
}

// run makes attempts (numbered from 1) until one succeeds or the policy
// ends the build. Each failed attempt is recorded as a "retry" action.
// The build's attempt count tracks the attempt in progress, so a report
// shows how many were made even if the run ends mid-attempt. The final
// error wraps model.ErrAttemptsSpent and the last attempt's error, or is
// the error that ended the build (model.ErrRegionGone,
// model.ErrSnapWrite).
func (p retryPolicy) run(b model.Build, attempt func(n int) (model.Collected, error)) (model.Collected, error) {
	var last error
	failures := 0
	for n := 1; n <= p.maxTotal; n++ {
		b.SetAttempts(n)
		got, err := attempt(n)
		if err == nil {
			return got, nil
		}
		last = err
		if errors.Is(err, model.ErrRegionGone) || errors.Is(err, model.ErrSnapWrite) {
			return model.Collected{}, err
		}
		if !reissued(err) && !(p.leaseLossReissued && errors.Is(err, model.ErrLeaseLost)) {
			failures++
		}
		b.Record(sim.ClassAction, "retry", fmt.Sprintf("attempt %d aborted (%d of %d failures)", n, failures, p.maxFailures), err.Error())
		if failures >= p.maxFailures || n == p.maxTotal {
			break
		}
		b.Actor().Sleep(p.backoff * sim.Micros(min(n, p.maxFailures)))
	}
	return model.Collected{}, fmt.Errorf("%w after %d attempts (%d failures): %w", model.ErrAttemptsSpent, b.Attempts(), failures, last)
}

// open opens an engine file (or a link to one) through open, trying again
// at once while it fails with a transient EIO, up to p.tries tries in all,
// and records one "open" action for path with the final result.
func (p retryPolicy) open(b model.Build, path string, open func() (model.Handle, error)) (model.Handle, error) {
	var h model.Handle
	var err error
	for try := 1; try <= p.tries; try++ {
		h, err = open()
		if err == nil || !errors.Is(err, syscall.EIO) {
			break
		}
	}
	b.Record(sim.ClassAction, "open", path, result(err))
	return h, err
}

// openSST is the whole read of one engine file under the policy: open it
// through open (the plain open, lease-retry's checked open, checkpoint's
// link), then read and decode it, each chunk read tried up to p.tries
// times on a transient EIO.
func (p retryPolicy) openSST(b model.Build, f *model.FileMeta, open func() (model.Handle, error)) ([]model.Record, error) {
	h, err := p.open(b, f.Path, open)
	if err != nil {
		return nil, err
	}
	return b.Engine().ReadFile(h, f, p.tries)
}
