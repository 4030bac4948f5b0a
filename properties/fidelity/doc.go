// Package fidelity holds the model's engine against real Pebble v1.1.5: a
// differential suite. A generator draws operation sequences from a seed
// (puts, deletes, flushes, range compactions, listings of the live SST
// files, opens of files listed earlier, iterators, checkpoints, opens of
// checkpointed files); the same sequence runs on Pebble over vfs.NewMem()
// with automatic compactions disabled and on the model's Engine inside a
// sim.Scheduler (one actor executes the ops, the engine's deleter runs as
// it does in the model); every observable outcome is compared, per kind,
// with each disagreement classified and replayable by its seed.
//
// The package sits beside model/, not inside it: Pebble runs goroutines and
// its cleaner deletes files asynchronously, so the Pebble side is not
// deterministic in what it leaves on disk before deletions settle (the
// suite reports that as a distribution, not as a compared outcome). The
// determinism guard covers sim, vfsmem and model; the model's side of the
// suite is deterministic all the same (same seed, same trace). See
// docs/fidelity.md for the method and the figures.
package fidelity
