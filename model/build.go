package model

import "github.com/snapsim/snapsim/sim"

// Collector is a file-collection design at work: how a build finds the
// engine files holding a region's data and protects them while it reads
// them. Collect runs inside the build's actor; every file it opens is a
// scheduling point. It may panic (naive does, as TiKV did): a panic is an
// observation of the run, not an error of the simulator.
type Collector interface {
	Collect(b Build) (Collected, error)
}

// Build is the context of one build (TiKV: one snapshot generation): the
// engine and filesystem to read, the region to collect, the actor the
// build runs on, the trace, the rate limiter, and where the build's own
// files go. A system implements it (model/tikv's Gen); a design only
// calls it.
type Build interface {
	// Engine is the engine whose files the build reads, and FS the
	// filesystem they live on. Assert the capabilities the design declared
	// in Design.Needs (Pinner, Leaser, DeletionHolder, CheckedOpener):
	// CheckNeeds refused any engine that lacks one before the run.
	Engine() Engine
	FS() FS
	// Actor is the actor the build runs on (Yield, Sleep, Name).
	Actor() *sim.Actor
	// Now is the virtual time.
	Now() sim.Micros
	// Record appends an event to the trace, by the build's actor: an
	// action (sim.ClassAction) is part of the run's story, an info is
	// plumbing.
	Record(class sim.Class, op, detail, result string)

	// Region is the live region being collected (the system mutates it
	// while the build runs).
	Region() *Region
	// TakeSpan captures the region as it is now as the build's span: the
	// range and epoch the collected data belongs to (List does it too).
	TakeSpan() Region
	// List is the listing step every list-then-open design starts from:
	// it captures the span and returns the current version's files that
	// overlap it, recording a "list" action. It pins nothing.
	List() (Version, []*FileMeta)
	// Read reads the listed files through open (the design's own way to
	// open and protect one file), and reduces them to the span's live
	// records at seq, per column family.
	Read(open func(f *FileMeta) ([]Record, error), files []*FileMeta, seq uint64) (Collected, error)

	// Throttle waits for the I/O rate limiter to allow reading sizeBytes
	// (TiKV's snap-io-max-bytes-per-sec); while it waits, flushes,
	// compactions and deletions go on. SliceBytes is how many bytes the
	// limiter lets through in span.
	Throttle(sizeBytes int64)
	SliceBytes(span sim.Micros) int64

	// Attempts is the number of the attempt in progress (0 before the
	// first); a design sets it as it starts each attempt, so a report says
	// how many were made even if the run ends mid-attempt.
	Attempts() int
	SetAttempts(n int)

	// Output is where a design that writes the build's files itself (scan)
	// writes them; ScratchDir is a directory on FS the design may use for
	// files of its own (checkpoint's links), which the system's cleanup
	// leaves alone.
	Output() Output
	ScratchDir() string
}

// Collected is what a collector gathered.
type Collected struct {
	// Seq is the engine snapshot's sequence number.
	Seq uint64
	// Epoch is the region epoch the data belongs to, Span the region's key
	// range when the files were listed.
	Epoch Epoch
	Span  Region
	// Files are the engine files read, by name.
	Files []string
	// Data holds, per column family, the region's live records at Seq,
	// sorted by key.
	Data [NumCFs][]Record
	// Built is set by a collector that has already written the build's
	// column-family files through Output (scan writes them while it
	// scans): the system then writes only what remains (TiKV: the meta
	// file), from these sizes and checksums.
	Built *[NumCFs]BuiltFile
}

// BuiltFile is one column family's file as a collector wrote it.
type BuiltFile struct {
	Size int64
	CRC  uint32
}

// Output writes the build's own files (TiKV: one per column family, in
// the snapshot format).
type Output interface {
	// Create starts column family cf's file. Errors wrap ErrSnapWrite.
	Create(cf CF) (CFWriter, error)
	// Path is where cf's finished file goes.
	Path(cf CF) string
}

// CFWriter writes one column family's file as records come, in key order.
// Every write is a scheduling point; errors wrap ErrSnapWrite and leave
// nothing behind.
type CFWriter interface {
	// Add appends one record.
	Add(r Record) error
	// Finish writes the rest, syncs and renames the file into place.
	Finish() (BuiltFile, error)
	// Abort closes and removes what was written.
	Abort(why string)
	// Path is the finished file's path.
	Path() string
}

// Design is a registered file-collection design: a name for the CLI
// (--collector), a one-line summary for listings, what it needs of the
// engine, what it touches (for the explorer), and its constructor. The
// built-in designs are model/designs' All(); a user's design is a value of
// the same type, handed to the system the same way.
type Design struct {
	// Name is how the CLI and corpus files name the design: lower-case
	// letters, digits and '-'.
	Name string
	// Summary says in one line what the design does and how it handles
	// errors (simrun collectors prints it).
	Summary string
	// Needs are the engine capabilities the design asserts (CheckNeeds).
	Needs Needs
	// Ops are the ops the design records in the trace (Build.Record, and
	// the "list" of Build.List), beside the generator's own: what "run
	// snap-gen until OP" may name.
	Ops []Info
	// Footprint declares which engine state the design writes, for the
	// exhaustive explorer's reduction. Nil means undeclared: the design
	// may touch any of the engine's state, which is sound and costs only
	// reduction. A declaration that leaves out what the design writes
	// makes the reduction unsound.
	Footprint *Footprint
	// New builds the design for one run.
	New func(DesignConfig) Collector
}

// Footprint is a design's declaration of the engine state it writes
// beyond what every build does (taking and releasing engine snapshots,
// listing, reading): version references (Pinner), leases (Leaser), the
// disable-deletions counter (DeletionHolder).
type Footprint struct {
	Versions, Leases, Deletions bool
}

// DesignConfig are the settings a design reads, filled by the system
// from its configuration.
type DesignConfig struct {
	// LeaseTTL is the lifetime of a lease (lease, lease-retry).
	LeaseTTL sim.Micros
	// NonAtomicCheck makes lease-retry check its lease and epoch in one
	// step and open the file in the next.
	NonAtomicCheck bool
	// MaxAttempts bounds the counted failures of a retrying design; Backoff
	// is the sleep after a failed attempt, times its number.
	MaxAttempts int
	Backoff     sim.Micros
	// Weaken selects deliberately weakened protections for the negative
	// controls of the whole-run properties (DesignWeakenings; zero is the
	// real code, and no CLI flag sets it).
	Weaken DesignWeakenings
}
