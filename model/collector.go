package model

import (
	"errors"
	"fmt"

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
		summary: "epoch check, then a lease (renewed) on the listed files; lease and epoch re-checked before each open; a lost lease or changed epoch aborts and retries from a fresh version; never panics",
		build:   func(c Config) Collector { return leaseRetry{cfg: c} },
	},
}

// Errors a retrying collector handles.
var (
	ErrLeaseLost     = errors.New("lease lost")
	ErrEpochChanged  = errors.New("region epoch changed")
	ErrRegionBusy    = errors.New("region is not in normal state")
	ErrRegionGone    = errors.New("region no longer exists (merged away)")
	ErrAttemptsSpent = errors.New("snapshot attempts exhausted")
)

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
