// Package baseline is the stress test a user would otherwise write for the
// shallow snapshot bug, kept as a yardstick for the deterministic simulator.
//
// Run opens a real Pebble DB on the real OS filesystem (a temp dir unless
// Options.Dir is set) and races three goroutines against the wall clock:
// a writer (Set plus a Flush every few hundred keys, small memtable,
// L0CompactionThreshold 2, WAL off), a compactor calling
// db.Compact(start, end, true) in a loop, and a naive snapshot generator
// that lists the live SSTs with db.SSTables(), sleeps a random short time
// (standing in for the rate limiter) and then opens every listed file by
// path. Pebble's compactions obsolete the listed tables and its cleaner
// deletes them, so the open eventually fails with ENOENT; Run reports the
// first such failure with the file name and the time it took to get there.
//
// Unlike the simulator this package uses goroutines, wall-clock time and the
// OS scheduler, so it is nondeterministic: Options.Seed fixes only the sleep
// jitter, not the interleaving, and re-running with the same seed neither
// reproduces the same file nor the same time to failure. Everything stops at
// Options.TimeLimit or at the first ENOENT; goroutines are joined, the DB is
// closed and a temp dir is removed before Run returns.
//
// For the deep bugs there is no Pebble equivalent, so the package runs the
// model's own actors as free goroutines: Gate implements sim.Gate (real
// goroutines, one lock released at every scheduling point, real timers and
// the wall clock), FreeRun runs one seed of a model configuration over the OS
// filesystem (vfs.Default rooted in a temp dir, one directory per node), and
// FreeSearch repeats seeds until a Bug of the catalogue (Bugs) shows or a time
// limit passes. The same configuration under the simulator is what `simrun
// bench` compares it with; FailureKey decides whether two runs failed "the
// same way".
package baseline
