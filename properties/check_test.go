package properties

// How the properties run: deterministically in `go test ./...`, and as an
// explicit soak for random exploration. The runner is the property
// helper's (properties/proptest.Check), which a user's property test over
// their own design uses too.
//
// By default every property runs rapid with a fixed seed of its own
// (proptest.Seed: an FNV-1a hash of the test's name), and with fail files
// off, so `go test ./...` explores the same cases on every run and writes
// nothing into the checkout. A rare counterexample therefore cannot fail an
// unrelated change; it is found by the soak instead:
//
//	go test ./properties -run 'TestMatrixStrongCells' -soak 10m -timeout 0
//
// runs each selected property again and again, each round with a fresh
// random seed (rapid.checks cases per round), until the duration is spent
// or a counterexample is found; a counterexample fails the test with the
// shrunk story and the line that replays it deterministically:
//
//	go test ./properties -run '^TestMatrixStrongCells/checkpoint$' -rapid.seed=N
//
// -rapid.seed (or RAPID_SEED) given by the user always wins: it replays
// that seed, once.

import (
	"flag"
	"os"
	"strconv"
	"testing"

	"github.com/snapsim/snapsim/properties/proptest"
	"pgregory.net/rapid"
)

// check runs prop as an ordinary property of t (proptest.Check).
func check(t *testing.T, prop func(*rapid.T)) {
	t.Helper()
	proptest.Check(t, prop)
}

// checkN is check with n rapid checks per run (or per soak round) unless
// the user gave -rapid.checks: the properties whose checks are cheap run
// more of them by default (README "Property power").
func checkN(t *testing.T, n int, prop func(*rapid.T)) {
	t.Helper()
	if !userChecks() {
		setFlag(t, "rapid.checks", strconv.Itoa(n))
	}
	check(t, prop)
}

// userChecks reports whether the user gave -rapid.checks (or RAPID_CHECKS).
func userChecks() bool {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "rapid.checks" })
	return given || os.Getenv("RAPID_CHECKS") != ""
}

// TestPropertySeedsAreFixed guards the deterministic default: the seed of a
// property depends only on its name.
func TestPropertySeedsAreFixed(t *testing.T) {
	a, b := proptest.Seed("TestMatrixStrongCells/lease-retry"), proptest.Seed("TestMatrixStrongCells/lease-retry")
	if a != b || a == 0 {
		t.Fatalf("proptest.Seed is not a fixed non-zero function of the name: %d, %d", a, b)
	}
	if proptest.Seed("TestMatrixStrongCells/pin") == a {
		t.Fatal("two properties share a seed")
	}
}
