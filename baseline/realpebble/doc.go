// Package realpebble runs snapsim's designs, unchanged, over a real
// *pebble.DB (v1.1.5) on vfs.NewMem(): the same model.Collector code that
// runs against the model's engine in the simulator runs here against
// Pebble's own SSTables, iterators and snapshots.
//
// Engine adapts the database to model.Engine and model.Pinner (a
// reference is an open pebble.Iterator, which holds its read state and so
// its version's files until Close); FS adapts the database's vfs.FS to
// model.FS. Check refuses, before a run, a design that needs what Pebble
// v1.1.5 does not have (file leases, a public disable-deletions counter,
// an open atomic with a check), naming the design, the capability and why.
// Run drives a design: the design's Collect runs in a sim kernel actor,
// one build per round, while a workload actor writes, flushes and
// compacts the same database, each operation synchronous within its
// step. CheckpointDesign is the checkpoint design as Pebble allows it
// (DB.Checkpoint instead of a disable-deletions counter).
//
// The package lives under baseline/, outside the determinism-guarded tree
// (sim, vfsmem, model): Pebble runs goroutines of its own (the cleaner
// that deletes obsolete files, the table stats loader) and the adapter
// waits for them on the wall clock. The kernel still decides every
// interleaving from the seed, and the adapter makes each deletion
// synchronous with the step that caused it (it waits for Pebble's
// deletions to settle after every compaction and every iterator close,
// as properties/fidelity does), so what a design sees follows from the
// seed; but that rests on Pebble's goroutines finishing within the wait's
// bound, not on the kernel. docs/realpebble.md maps every method to the
// Pebble v1.1.5 API and says what is simplified.
package realpebble
