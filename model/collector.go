package model

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/snapsim/snapsim/sim"
)

// Collector is a snapshot file-collection design: how snapshot generation
// finds the region's SST files and protects them while it reads them.
// docs/architecture.md describes the registry; naive and lease-retry are
// registered here, the other designs by init functions in their own files.
type Collector interface {
	// Collect returns the region's data as of an engine snapshot. It runs
	// inside the snapshot generator actor; every file it opens is a
	// scheduling point. A design may panic (naive does, as TiKV did).
	Collect(g *Gen) (Collected, error)
}

// Collected is what a collector gathered.
type Collected struct {
	// Seq is the engine snapshot's sequence number.
	Seq uint64
	// Epoch is the region epoch the data belongs to, Span the region's key
	// range when the files were listed.
	Epoch Epoch
	Span  Region
	// Files are the SST files read, by name.
	Files []string
	// Data holds, per column family, the region's live records at Seq,
	// sorted by key.
	Data [NumCFs][]Record
	// built is set by a collector that has already written the snapshot's
	// column-family files into SnapDir, synced and renamed (scan writes
	// them while it scans): the pipeline then writes only the meta file,
	// from these sizes and checksums.
	built *[NumCFs]builtCF
}

// Gen is the context of one snapshot generation: the node, the running
// generator actor and the attempt counter.
type Gen struct {
	Node  *Node
	Actor *sim.Actor
	// Region is the live region being snapshotted (splits, merges and
	// conf changes mutate it while the build runs); Key the snapshot key.
	Region *Region
	Key    SnapKey
	// Attempts counts build attempts.
	Attempts int
	// Slot is the worker thread the build runs on (its stats file is what
	// the I/O limiter reads).
	Slot int
	// span is the region as it was at the last listing.
	span Region
	// LastOpen is the build's last successful open of an engine file
	// through the shared retry policy, with the live region's epoch at
	// that instant (zero: none). The pipeline copies it into the
	// snapshot's report for the whole-run properties.
	LastOpen OpenMark
}

// noteOpen records a successful open of an engine file as the build's
// last (Gen.LastOpen).
func (g *Gen) noteOpen() {
	s := g.Node.s
	g.LastOpen = OpenMark{Step: s.Step(), Time: s.Now(), Epoch: g.Region.Epoch}
}

type collectorSpec struct {
	summary string
	build   func(cfg Config) Collector
}

// registerCollector adds a design to the registry (called from init
// functions, one per design file).
func registerCollector(name, summary string, build func(cfg Config) Collector) {
	if _, dup := collectors[name]; dup {
		panic("model: collector registered twice: " + name)
	}
	collectors[name] = collectorSpec{summary: summary, build: build}
}

// collectors is the registry of designs, by name.
var collectors = map[string]collectorSpec{
	"naive": {
		summary: "lists the region's SSTs from the current version, pins nothing, opens later; an open error panics",
		build:   func(Config) Collector { return naive{} },
	},
	"lease-retry": {
		summary: "epoch check, then a lease (renewed) on the listed files; lease and epoch re-checked before each open; a lost lease or changed epoch aborts and retries from a fresh version; errors go to the shared retry policy; never panics",
		build:   func(c Config) Collector { return leaseRetry{cfg: c} },
	},
}

// Errors a retrying collector handles (see retryPolicy for what each one
// does to the build).
var (
	// ErrLeaseLost: lease-retry's lease lapsed and a listed file left the
	// current version. A counted failure.
	ErrLeaseLost = errors.New("lease lost")
	// ErrEpochChanged: the region split, merged or changed membership under
	// the attempt. Re-issued, not counted.
	ErrEpochChanged = errors.New("region epoch changed")
	// ErrRegionBusy: the region is mid-split or mid-merge (TiKV: "snap job
	// for N seems stale, skip"). Re-issued, not counted.
	ErrRegionBusy = errors.New("region is not in normal state")
	// ErrRegionGone: the region was merged away. The build ends, skipped.
	ErrRegionGone = errors.New("region no longer exists (merged away)")
	// ErrSnapWrite wraps a failure to write the snapshot's own files. scan
	// writes them while it scans; for every other design the pipeline
	// writes them after the collector returns, and a write error fails the
	// snapshot at once. So that the designs differ only in how they find
	// and protect engine files, scan's write errors do the same: the build
	// ends, not retried and not counted.
	ErrSnapWrite = errors.New("snapshot file write failed")
	// ErrAttemptsSpent: MaxAttempts counted failures (TiKV's
	// MAX_SNAP_TRY_CNT). The pipeline reports raft's fatal error
	// (liveness).
	ErrAttemptsSpent = errors.New("snapshot attempts exhausted")
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
//     attempt aborted because the region changed under it (ErrEpochChanged,
//     ErrRegionBusy) is re-issued and not counted: in TiKV raft drops such
//     a request and asks again for the new epoch. ErrRegionGone and
//     ErrSnapWrite end the build at once. Every other error counts.
//     MaxAttempts counted failures end the build with ErrAttemptsSpent.
//   - There is a hard bound: at most maxAttemptsFactor × MaxAttempts
//     attempts of any kind, with no backoff after the last one.
//
// Only lease-retry and scan check the region's state, so only they can be
// re-issued. For retry, pin and checkpoint every failure counts.
type retryPolicy struct {
	// tries is transientTries.
	tries int
	// maxFailures is Config.MaxAttempts; maxTotal the hard bound.
	maxFailures, maxTotal int
	backoff               sim.Micros
	// leaseLossReissued is the LeaseLossReissued weakening.
	leaseLossReissued bool
}

// policyFor returns the shared policy for cfg.
func policyFor(cfg Config) retryPolicy {
	return retryPolicy{tries: transientTries, maxFailures: cfg.MaxAttempts, maxTotal: maxAttemptsFactor * cfg.MaxAttempts, backoff: cfg.Backoff,
		leaseLossReissued: cfg.Weaken.LeaseLossReissued}
}

// reissued reports whether err is an attempt aborted because the region
// changed under it: the attempt is made again and not counted.
func reissued(err error) bool {
	return errors.Is(err, ErrEpochChanged) || errors.Is(err, ErrRegionBusy)
}

// run makes attempts (numbered from 1) until one succeeds or the policy
// ends the build. Each failed attempt is recorded as a "retry" action.
// g.Attempts tracks the attempt in progress, so a report shows how many
// were made even if the run ends mid-attempt. The final error wraps
// ErrAttemptsSpent and the last attempt's error, or is the error that
// ended the build (ErrRegionGone, ErrSnapWrite).
func (p retryPolicy) run(g *Gen, attempt func(n int) (Collected, error)) (Collected, error) {
	var last error
	failures := 0
	for n := 1; n <= p.maxTotal; n++ {
		g.Attempts = n
		g.LastOpen = OpenMark{} // the last open of this attempt
		got, err := attempt(n)
		if err == nil {
			return got, nil
		}
		last = err
		if errors.Is(err, ErrRegionGone) || errors.Is(err, ErrSnapWrite) {
			return Collected{}, err
		}
		if !reissued(err) && !(p.leaseLossReissued && errors.Is(err, ErrLeaseLost)) {
			failures++
		}
		g.Node.s.Record(sim.ClassAction, "retry", fmt.Sprintf("attempt %d aborted (%d of %d failures)", n, failures, p.maxFailures), err.Error())
		if failures >= p.maxFailures || n == p.maxTotal {
			break
		}
		g.Actor.Sleep(p.backoff * sim.Micros(min(n, p.maxFailures)))
	}
	return Collected{}, fmt.Errorf("%w after %d attempts (%d failures): %w", ErrAttemptsSpent, g.Attempts, failures, last)
}

// open opens an engine file (or a link to one) through open, trying again
// at once while it fails with a transient EIO, up to p.tries tries in all,
// and records one "open" action for path with the final result.
func (p retryPolicy) open(g *Gen, path string, open func() (vfs.File, error)) (vfs.File, error) {
	var h vfs.File
	var err error
	for try := 1; try <= p.tries; try++ {
		h, err = open()
		if err == nil || !errors.Is(err, syscall.EIO) {
			break
		}
	}
	if err == nil {
		g.noteOpen()
	}
	g.Node.s.Record(sim.ClassAction, "open", path, result(err))
	return h, err
}

// readSST reads and decodes an opened SST, each chunk read tried up to
// p.tries times on a transient EIO.
func (p retryPolicy) readSST(h vfs.File, f *FileMeta) ([]Record, error) {
	return readSSTRetrying(h, f, p.tries)
}

// openSST is the whole read of one engine file under the policy: open it
// through open (the plain open, lease-retry's checked open, checkpoint's
// link), then read and decode it.
func (p retryPolicy) openSST(g *Gen, f *FileMeta, open func() (vfs.File, error)) ([]Record, error) {
	h, err := p.open(g, f.Path, open)
	if err != nil {
		return nil, err
	}
	return p.readSST(h, f)
}

// list returns the region's files in the current version: the listing step
// every design starts from. It pins nothing by itself.
func (g *Gen) list() (*Version, []*FileMeta) {
	v := g.Node.Engine.Current()
	var files []*FileMeta
	g.span = *g.Region
	r := &g.span
	for _, f := range v.Files() {
		if overlaps(f, r) {
			files = append(files, f)
		}
	}
	g.Node.s.Record(sim.ClassAction, "list", fmt.Sprintf("version %d: %d files: %s", v.ID, len(files), names(files)), "ok")
	return v, files
}

// throttle is the snapshot I/O rate limiter (TiKV's
// snap-io-max-bytes-per-sec): before reading a file the generator requests
// its size from the node's IOLimiter, which reads the build thread's procfs
// I/O stats and sleeps until the rate allows the read. While it sleeps,
// flushes, compactions and GC go on: this is the window between listing a
// file and opening it. (Without a limiter — white-box tests — it sleeps for
// the same time.)
func (g *Gen) throttle(sizeBytes int64) {
	if sizeBytes <= 0 {
		return
	}
	if l := g.Node.Limiter; l != nil {
		l.Request(g.Actor, g.Slot, sizeBytes)
		return
	}
	rate := g.Node.cfg.SnapIOBytesPerSec
	if rate <= 0 {
		return
	}
	d := sim.Micros(sizeBytes * int64(sim.Second) / rate)
	g.Node.s.Record(sim.ClassInfo, "throttle", fmt.Sprintf("%d bytes at %d B/s", sizeBytes, rate), "wait "+d.String())
	g.Actor.Sleep(d)
}

// sliceBytes returns how many bytes the limiter lets through in span.
func (g *Gen) sliceBytes(span sim.Micros) int64 {
	rate := g.Node.cfg.SnapIOBytesPerSec
	if rate <= 0 {
		return 1 << 62
	}
	return max(1, rate*int64(span)/int64(sim.Second))
}

func overlaps(f *FileMeta, r *Region) bool {
	return (r.End == "" || f.Smallest < r.End) && f.Largest >= r.Start
}

// readFiles reads and decodes files already opened by the caller's open
// function, and reduces them to the region's live records at seq.
func (g *Gen) read(open func(f *FileMeta) ([]Record, error), files []*FileMeta, seq uint64) (Collected, error) {
	var all [NumCFs][]Record
	c := Collected{Seq: seq, Epoch: g.span.Epoch, Span: g.span}
	for _, f := range files {
		recs, err := open(f)
		if err != nil {
			return Collected{}, err
		}
		all[f.CF] = append(all[f.CF], recs...)
		c.Files = append(c.Files, f.Name())
	}
	for _, cf := range CFs {
		c.Data[cf] = visible(all[cf], &g.span, seq)
	}
	return c, nil
}
