// Package model is the system under test: a TiKV-like node over a
// RocksDB-like engine, written as sim actors over the observable filesystem.
//
// This is the thin slice of DESIGN.md §2 "model": one node, one column
// family, one region; a writer, a memtable, flushes to L0 SST files, one
// compaction kind (L0→L1), immutable Versions with reference counts, an
// obsolete-file deleter (GC) that respects version references and leases,
// and snapshot generation through a pluggable Collector (naive and
// lease-retry). Every file is written and read through vfsmem, so every
// filesystem operation is a scheduling point, and a checker verifies each
// generated snapshot against an independent reference model of the region.
//
// Like etcd raft's state machine, nothing here does real I/O or reads a
// clock: actors take explicit inputs (the kernel's Choice, the virtual
// clock) and the kernel drives them.
package model
