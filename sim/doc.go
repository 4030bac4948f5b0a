// Package sim is snapsim's deterministic kernel. It knows nothing about
// storage: it runs actors (ordinary sequential Go functions that yield at
// scheduling points) one step at a time on a single thread, draws every
// decision from one Choice source, keeps a virtual clock, and records a trace
// whose hash is the determinism check.
//
// The same Choice stream and configuration always produce the same trace, in
// any process and with any GOMAXPROCS: there is no wall-clock time, no global
// randomness, no unsorted map iteration and no free-running goroutine here.
// Actors are coroutines built on iter.Pull (see coroutine.go), so only one of
// them ever runs at a time.
//
// Besides sampling strategies (random, pct, replay) it can explore a
// program exhaustively within bounds (explore.go): every Choice draw is a
// branch, explored depth-first by re-executing from the root, with delay
// bounding, sleep sets over step footprints (footprint.go) and a split of
// the tree into subtrees for workers and shards that the caller runs.
//
// Free mode (Config.Gate, free.go) is the one exception, and it is opt-in:
// the stress-test baseline runs the same actors on goroutines under the Go
// scheduler and real time to compare against the kernel. The goroutines, the
// lock and the clock all come from the Gate the caller supplies; this package
// still starts none of them. No simulation uses free mode.
package sim
