// Package tikv is snapsim's flagship system: a two-node TiKV-like cluster
// written as sim actors over the observable filesystem
// (docs/architecture.md, "model/tikv").
//
// A leader node takes writes into three column families and keeps them in
// the LSM engine of model/engine (flushes, leveled compactions, refcounted
// versions, a MANIFEST, the obsolete-file deleter). Its snapshot
// generators run a file-collection design (a model.Collector: the built-in
// ones are in model/designs) through a Gen, the model.Build of one
// snapshot generation; the pipeline writes per-CF snapshot files and a
// meta file, and a sender copies them to the learner node, whose applier
// checks the epoch and checksums, ingests the files, and verifies them
// against the raft log (the checker's reference model). A PD actor splits,
// merges and reconfigures regions; a snapshot manager registry protects
// snapshots in use from snapshot GC; worker threads with procfs stats
// files feed the snapshot I/O limiter; a crasher crashes and restarts
// nodes. A coordinator ends each run with a liveness phase and a
// quiescence check (file leaks).
//
// A System is the cluster with the designs it accepts (New): Simulate runs
// one configuration, RunScenario a scripted interleaving, and NewCluster
// with Cluster.NewBuild is the harness of white-box tests of a design.
//
// Like etcd raft's state machine, nothing here does real I/O or reads a
// clock: actors take explicit inputs (the kernel's Choice, the virtual
// clock) and the kernel drives them. Where to look:
//
//	system.go, cluster.go, run.go, coordinator.go   the system, its actors, the phases
//	build.go, output.go                   a design's build context, the snapshot files it writes
//	pipeline.go, apply.go, snapfile.go    generate, send, apply, verify
//	snapmgr.go, snapgc.go                 registry and snapshot GC
//	region.go, pd.go                      regions, epochs, split/merge
//	threads.go, limiter.go                worker threads, procfs, I/O limiter
//	crash.go                              crash and restart
//	config.go, profiles.go                configuration, variants, profiles
//	scenario.go                           scripted interleavings
//	footprint.go                          what each actor touches (the explorer)
package tikv
