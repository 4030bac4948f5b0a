// Package vfsmem is snapsim's observable filesystem: a
// github.com/cockroachdb/pebble/vfs.FS (v1.1.5) over vfs.NewStrictMem() in
// which every operation is a scheduling point of the sim kernel.
//
// On top of MemFS it keeps a ledger of every path's lifecycle (created,
// linked, renamed, removed: at which step, by which actor, why) and an
// oracle: when an actor on the snapshot path opens or stats a path the
// ledger knows was deleted, it raises an open-deleted-file observation naming
// who deleted it and when, and returns the real MemFS error
// (errors.Is(err, os.ErrNotExist)). Faults (transient EIO, ENOSPC past a
// quota, latency spikes, stalls) are drawn from the kernel's Choice source;
// a crash resets to the synced state and invalidates open handles. Space is
// accounted here because MemFS cannot.
//
// Under an exhaustive exploration (sim.Explore) every operation also
// records its footprint for the explorer's dependency relation: the names
// it reads or changes (a directory's name stands for its entries), the
// contents of the files it reads or writes (by the path each file was
// created at, which renames keep), the fault rates it draws against. A
// caller's own code declares the rest (sim.Actor.Declare). Two records are
// not observations and are stamped without reading the clock: ledger
// times and ModTime. Nothing in snapsim steers by a ModTime; code that did
// would need the writes that set it to read the clock.
//
// It neutralises the ten verified traps of pebble v1.1.5 MemFS (see
// docs/memfs-traps.md); each is marked "trap N" where it is handled:
//
//  1. List order comes from map iteration: List sorts.
//  2. Rename removes the source before resolving the destination's parent:
//     Rename checks the destination's parent first.
//  3. Handles opened before ResetToSyncedState alias live nodes: Crash
//     invalidates every handle (generation check on each call).
//  4. SetIgnoreSyncs on a non-strict MemFS deadlocks: only NewStrictMem is
//     used and SetIgnoreSyncs is never called.
//  5. An unsynced root empties the FS on reset: New syncs the root, and
//     MkdirAll syncs every directory it creates and its parent.
//  6. ModTime uses time.Now: Stat returns FileInfo whose ModTime is the
//     virtual time of the last write.
//  7. Write scrambles the caller's buffer under -race/invariants: Write
//     copies into a per-handle scratch buffer first.
//  8. errorfs.WithProbability seeds from wall time: faults come from Choice.
//  9. Double Close and read-after-close panic: handles track closing and
//     return os.ErrClosed.
//  10. GetDiskUsage is unsupported: it is answered from this package's own
//     space accounting.
package vfsmem
