// Package kit is the toolkit a user module builds a simulated system
// from (a model.System other than the TiKV-like one): the parts that
// storage-engine file-lifetime bugs are made of, over the kernel (sim),
// the observable filesystem (vfsmem) and its oracle.
//
//   - World is one run: the kernel, the filesystem, the actors (readers the
//     oracle watches, daemons), and the scenario runtime (hang GROUP, the
//     system's own commands). System turns a Definition — designs,
//     profiles, variants, settings, actors, a Setup that spawns them — into
//     a model.System the CLI, the corpus and the sweeps drive.
//   - Kind names a file kind (logs, manifests, snapshots, packs and their
//     indexes, segments, SSTs) by directory, prefix, generation and
//     extension; List lists a kind's files and pins nothing; WriteFile and
//     ReadFile write and read whole files (a read is an open the oracle
//     watches); ReadFileChecked runs a check in the open's own step.
//   - Protection is what a deleter honours, one small interface with the
//     implementations the real incidents need: RefCounts (per-file
//     references), TimeReservation (a set reserved for ttl_us of virtual
//     time), CountReservation (the newest N generations), Registry (files
//     pending some step), DisableCounter (nested disable-deletions); Lock
//     is a kernel-level mutex a deleter and a reader can share, and Var a
//     shared value that declares its accesses.
//   - Deleter removes (or archives, by a rename) files honouring a set of
//     protections, atomically with its check, and raises
//     gc-deleted-pinned-file when it removes a file that a protection it
//     was told to ignore still protects.
//
// Every primitive declares what it reads and writes to the exhaustive
// explorer (sim.Scheduler.Touch on objects of the World's space), so an
// actor whose only shared state is kit primitives and the filesystem may
// run under Declared(), the empty declaration; an actor spawned without a
// declaration conflicts with everything, which is sound. The reference is
// docs/kit.md; examples/ holds systems built with it.
package kit
