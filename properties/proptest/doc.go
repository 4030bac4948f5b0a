// Package proptest is the property-test helper for a design or a system:
// a user's property test over their own design is a few lines, with the
// same machinery as snapsim's own properties (properties/).
//
//	func TestMineNeverOpensDeletedFile(t *testing.T) {
//		sys := tikv.MustNew(append(designs.All(), mine.Design())...)
//		cfg, _ := sys.NewConfig("mine", "heavy-compaction")
//		proptest.Never(t, sys, cfg, []sim.Kind{sim.KindOpenDeletedFile, sim.KindPanic})
//	}
//
// Every decision of a run (workload, schedule, faults) is a rapid draw
// (Choice), so rapid's shrinker minimises all of them together. By default
// each property runs with a fixed seed of its own (an FNV-1a hash of the
// test's name) and writes no fail file, so `go test ./...` explores the
// same cases on every run and writes nothing into the checkout; -soak
// DURATION explores with fresh random seeds instead, and -rapid.seed N
// replays one. A failure prints the story of the shrunk counterexample
// (its high-level actions and violations) and two replay lines: the go
// test line with its -rapid.seed, and a simrun line over a .draws file
// (written outside the checkout) that replays the exact run through the
// CLI, with its trace, timeline and expectation check.
package proptest
