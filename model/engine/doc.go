// Package engine is snapsim's LSM engine: a RocksDB/Pebble-like store of
// three column families (records in memtables, flushed together to L0
// SST files, compacted over NumLevels levels), immutable refcounted
// Versions made durable in a MANIFEST before they are installed, engine
// snapshots (sequence numbers compaction must respect), leases, a
// DisableFileDeletions counter, and the obsolete-file deleter (GC, or the
// compacting actor itself in GCPrompt mode, as Pebble's cleaner).
//
// The engine runs on a vfsmem.FS inside a sim.Scheduler: every filesystem
// call is a scheduling point, and its daemons (FlushLoop, CompactLoop,
// GCLoop) are actors the system that owns the engine spawns and hands over
// with SetDaemons. It knows nothing of the system around it (the TiKV-like
// cluster in model/tikv, the fidelity suite in properties/fidelity): it
// imports sim and vfsmem only.
//
// The design-facing view of an engine (model.Engine: listing, snapshots,
// version references, leases, disabled deletions) is what the collection
// designs use; the TiKV system implements it over this engine, and an
// adapter over a real *pebble.DB can implement the parts Pebble has
// (docs/extending.md).
//
//	engine.go      the engine, snapshots, leases, pins, file I/O helpers
//	compaction.go  leveled compaction, trivial moves, CompactRange
//	background.go  flush and the obsolete-file deleter (GC)
//	version.go     versions and file descriptions
//	manifest.go    the MANIFEST and Recover
//	sst.go         the SST format
//	ingest.go      ingestion of external files, space classes, inspection
package engine
