package model

import (
	"github.com/cockroachdb/pebble/vfs"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// This file declares what the model's actors touch, for the dependency
// relation of sim's exhaustive explorer (sim/footprint.go). The kernel
// records the clock, wake-ups and the filesystem records its own
// operations; a declaration lists the shared model objects an actor's code
// may read or write besides. Under an exploration two steps whose
// footprints do not conflict may be commuted, so a declaration must be
// complete: an object an actor's code touches and its declaration leaves
// out makes the reduction unsound.
//
// Declared: the writer, the flusher, the compactor, both GCs, the
// snapshot generators, the sender, the applier, both snapshot GCs and the
// coordinator. Every other actor (pd, the thread churn, the crasher, a
// scenario's director) is undeclared: each of its steps conflicts with every other
// step, which is sound and costs only reduction. Code that changes what a
// declared actor touches must change its declaration here; a collector
// runs on a snapshot generator under the declaration newFootprints lists
// for it by name (a collector not listed there gets one that covers the
// leader's whole engine); a collector that touches anything else, or a
// listed collector that starts writing what it only read, must change its
// entry.
//
// An object that only undeclared actors write (a node's down flag, an
// engine's generation: crashes and restarts) may be read without
// declaring it: an undeclared step is never commuted with anything.
//
// Inside pure I/O loops (writing a new file, reading a file through a
// handle) the actor's code touches nothing but the filesystem and its own
// locals: those steps run under the empty declaration (pureIO), so I/O on
// different files by different actors commutes.

// nodeObjects are a node's shared objects.
type nodeObjects struct {
	// node: down, recovering, the incarnation, the engine's generation
	// (written only by crashes and restarts, which are undeclared).
	node sim.Object
	// mem: the memtables and the sequence number.
	mem sim.Object
	// versions: the current version, the live versions and their
	// references, the obsolete list, each file's deleted, deleting and
	// replaced-by marks, the actors deleting what they made obsolete
	// (cleaners).
	versions sim.Object
	// leases, deletions (the disable-deletions counter), fileNums (the
	// next file number), locks (flush, compaction, manifest), manifest
	// (its write counter), engSnaps (engine snapshots), compact (the
	// compaction cursors and counter), gcState (GC's skip marks).
	leases, deletions, fileNums, locks, manifest, engSnaps, compact, gcState sim.Object
	// registry: the snapshot manager; threads: the worker threads, their
	// stats and tid caches; limiter: the snapshot I/O limiter; snapGC:
	// snapshot GC's pass counter and skip marks; ingested: the learner's
	// record of each region's last ingested files.
	registry, threads, limiter, snapGC, ingested sim.Object
}

// engine lists every object of a node's engine, for an actor that may
// touch any of them.
func (n nodeObjects) engine() []sim.Object {
	return []sim.Object{n.mem, n.versions, n.leases, n.deletions, n.fileNums, n.locks, n.manifest, n.engSnaps, n.compact, n.gcState}
}

func newNodeObjects(name string) nodeObjects {
	o := func(what string) sim.Object { return sim.ObjectNamed("model:" + name + "/" + what) }
	return nodeObjects{node: o("node"), mem: o("mem"), versions: o("versions"), leases: o("leases"),
		deletions: o("deletions"), fileNums: o("file-numbers"), locks: o("locks"), manifest: o("manifest"),
		engSnaps: o("engine-snapshots"), compact: o("compaction"), gcState: o("gc"),
		registry: o("snap-registry"), threads: o("threads"), limiter: o("limiter"), snapGC: o("snap-gc"),
		ingested: o("ingested")}
}

// Cluster-wide objects: the region table, the raft log (the checker's
// reference), and the pipeline (snapshot reports, send and apply queues,
// the next request, the term, the phase flags).
var (
	objRegions  = sim.ObjectNamed("model:regions")
	objRefLog   = sim.ObjectNamed("model:raft-log")
	objPipeline = sim.ObjectNamed("model:pipeline")
)

// modelFootprints are the declarations, built once (they are immutable).
var modelFootprints = newFootprints()

// footprints are the declarations of the declared actors.
type footprints struct {
	writer, flusher, compactor, gc, learnerGC *sim.Footprint
	sender, applier, snapGC, learnerSnapGC    *sim.Footprint
	coordinator                               *sim.Footprint
	// gen is the snapshot generators' declaration by collector; genAny
	// is for a collector not listed there.
	gen    map[string]*sim.Footprint
	genAny *sim.Footprint
}

// genFootprint returns the snapshot generators' declaration for
// collector.
func (f footprints) genFootprint(collector string) *sim.Footprint {
	if g, ok := f.gen[collector]; ok {
		return g
	}
	return f.genAny
}

func newFootprints() footprints {
	n1, n2 := newNodeObjects("n1"), newNodeObjects("n2")
	r, w := sim.Reads, sim.Writes
	engineGC := func(n nodeObjects) *sim.Footprint {
		return sim.NewFootprint(r(n.node), w(n.versions), r(n.leases), r(n.deletions), w(n.gcState))
	}
	// SnapGCLoop: the phase flag and the term, the node's state, both
	// snapshot managers (in use? applied? how old?), its own marks.
	snapGC := func(n, peer nodeObjects) *sim.Footprint {
		return sim.NewFootprint(r(objPipeline), r(n.node), r(n.registry), r(peer.registry), w(n.snapGC))
	}
	applier := []sim.Access{w(objPipeline), r(objRegions), r(objRefLog), r(n2.node), w(n2.registry), w(n2.ingested)}
	for _, o := range n2.engine() {
		applier = append(applier, w(o))
	}
	// CoordinatorLoop: the workers (the kernel records those reads), the
	// phase flags, the faults (the filesystem records those), the thread
	// churn's stop flag, whether every snapshot is final, and for the leak
	// check both engines and snapshot managers.
	coord := []sim.Access{w(objPipeline), w(n1.threads), r(n1.node), r(n2.node), r(n1.registry), r(n2.registry)}
	for _, o := range append(n1.engine(), n2.engine()...) {
		coord = append(coord, r(o))
	}
	// GenerateLoop and every collector: the pipeline (its report, the
	// send queue, the next request), the region table, the leader's
	// snapshot manager, its threads and limiter, the current version and
	// the engine snapshots, the learner's snapshot manager (already
	// applied?); a lease, a version reference or disabled deletions
	// according to the design (taking a lease or a reference also reads
	// what pins files, for the pinned-bytes peak).
	genBase := []sim.Access{w(objPipeline), r(objRegions), r(n1.node), w(n1.registry), w(n1.threads),
		w(n1.limiter), r(n1.versions), r(n1.leases), r(n1.deletions), w(n1.engSnaps), r(n2.registry)}
	gen := func(extra ...sim.Access) *sim.Footprint {
		return sim.NewFootprint(append(append([]sim.Access(nil), genBase...), extra...)...)
	}
	return footprints{
		// WriteLoop: the phase flag and the leader's state, the memtables
		// (a put may wake the flusher), the raft log, the region's applied
		// index.
		writer: sim.NewFootprint(r(objPipeline), r(n1.node), w(n1.mem), w(objRefLog), w(objRegions)),
		// FlushLoop: the memtables, a new file number, the flush and
		// manifest locks, the manifest, a new version (which may make
		// files obsolete and wake GC, and updates the pinned-bytes peak
		// from the leases and the deletion counter), whether a compaction
		// is due.
		flusher: sim.NewFootprint(r(n1.node), w(n1.mem), w(n1.versions), w(n1.fileNums), w(n1.locks),
			w(n1.manifest), r(n1.leases), r(n1.deletions), r(n1.compact)),
		// CompactLoop: the pick (versions, cursors), the engine snapshots
		// that must be preserved, new file numbers, the locks, the
		// manifest, a new version, and (the prompt deleter, cleanAfter)
		// the deletion of the inputs it made obsolete: what pins them,
		// GC's skip marks.
		compactor: sim.NewFootprint(r(n1.node), w(n1.versions), w(n1.fileNums), w(n1.locks), w(n1.manifest),
			r(n1.engSnaps), w(n1.compact), r(n1.leases), r(n1.deletions), w(n1.gcState)),
		// GCLoop: the obsolete list, what pins a file (live versions,
		// leases, deletions disabled), the skip marks.
		gc:        engineGC(n1),
		learnerGC: engineGC(n2),
		gen: map[string]*sim.Footprint{
			"naive":       gen(),
			"retry":       gen(),
			"pin":         gen(w(n1.versions)),
			"lease":       gen(w(n1.leases)),
			"lease-retry": gen(w(n1.leases)),
			"checkpoint":  gen(w(n1.deletions)),
		},
		// A collector not listed above may touch any part of the engine.
		genAny:      gen(w(n1.mem), w(n1.versions), w(n1.leases), w(n1.deletions), w(n1.compact)),
		coordinator: sim.NewFootprint(coord...),
		// SendLoop: the send and apply queues and the report, both
		// snapshot managers, whether either node is down (and the peer's
		// incarnation).
		sender: sim.NewFootprint(w(objPipeline), r(n1.node), r(n2.node), w(n1.registry), w(n2.registry)),
		// ApplyLoop: the apply queue and the report, the region's epoch
		// and range, the raft log it verifies against, the learner's
		// snapshot manager and its whole engine (ingest).
		applier:       sim.NewFootprint(applier...),
		snapGC:        snapGC(n1, n2),
		learnerSnapGC: snapGC(n2, n1),
	}
}

// pureIOFootprint is the declaration of a pure I/O loop: nothing besides
// the filesystem's own footprint.
var pureIOFootprint = sim.NewFootprint()

// pureIO puts the running actor under the empty declaration and returns
// what endPureIO needs to restore its own: defer endPureIO(pureIO(s)).
// Outside an actor, or when nothing records footprints, it does nothing.
func pureIO(s *sim.Scheduler) (*sim.Actor, *sim.Footprint) {
	if s == nil || !s.Recording() {
		return nil, nil
	}
	a := s.Current()
	if a == nil {
		return nil, nil
	}
	return a, a.Declare(pureIOFootprint)
}

// endPureIO restores the declaration pureIO replaced.
func endPureIO(a *sim.Actor, prev *sim.Footprint) {
	if a != nil {
		a.Declare(prev)
	}
}

// pureIOFile is pureIO for the scheduler of a file handle's filesystem.
func pureIOFile(f vfs.File) (*sim.Actor, *sim.Footprint) { return pureIO(vfsmem.SchedulerOf(f)) }
