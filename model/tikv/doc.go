// Package model is the system under test: a two-node TiKV-like cluster
// written as sim actors over the observable filesystem (docs/architecture.md,
// "model").
//
// A leader node takes writes into three column families, flushes them to
// L0 SST files, compacts them over four levels, keeps immutable refcounted
// versions durable in a MANIFEST, and deletes obsolete files with a GC that
// respects version references, leases and DisableDeletions. Its snapshot
// generator asks a Collector (naive, retry, pin, lease, lease-retry,
// checkpoint) for a region's data, writes per-CF snapshot files and a meta
// file, and a sender copies them to the learner node, whose applier checks
// the epoch and checksums, ingests the files, and verifies them against the
// raft log (the checker's reference model). A PD actor splits, merges and
// reconfigures regions; a snapshot manager registry protects snapshots in
// use from snapshot GC; worker threads with procfs stats files feed the
// snapshot I/O limiter; a crasher crashes and restarts nodes. A coordinator
// ends each run with a liveness phase and a quiescence check (file leaks).
//
// Like etcd raft's state machine, nothing here does real I/O or reads a
// clock: actors take explicit inputs (the kernel's Choice, the virtual
// clock) and the kernel drives them. Where to look:
//
//	cluster.go, run.go, coordinator.go   the cluster, its actors, the phases
//	engine.go, compaction.go, background.go, version.go, manifest.go, lease.go
//	collector.go and one file per design  the collectors
//	pipeline.go, apply.go, snapfile.go    generate, send, apply, verify
//	snapmgr.go, snapgc.go                 registry and snapshot GC
//	region.go, pd.go                      regions, epochs, split/merge
//	threads.go, limiter.go                worker threads, procfs, I/O limiter
//	crash.go                              crash and restart
//	config.go, profiles.go                configuration, variants, profiles
package tikv
