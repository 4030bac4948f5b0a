package properties

// How the properties run: deterministically in `go test ./...`, and as an
// explicit soak for random exploration.
//
// By default every property runs rapid with a fixed seed of its own
// (propertySeed: an FNV-1a hash of the test's name), and with fail files
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
	"crypto/rand"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// soak is the duration of random exploration per property (0: none, the
// deterministic default).
var soak = flag.Duration("soak", 0, "explore each selected property with fresh random rapid seeds for this long (0: one deterministic run with a fixed seed)")

// propertySeed is the fixed rapid seed of the property named name: stable
// across runs and machines, different per property.
func propertySeed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	s := h.Sum64()
	if s == 0 { // 0 means "random" to rapid
		s = 1
	}
	return s
}

// userSeed reports whether the user chose a rapid seed (-rapid.seed or
// RAPID_SEED).
func userSeed() bool {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "rapid.seed" })
	return given || os.Getenv("RAPID_SEED") != ""
}

// check runs prop as an ordinary property of t: with the property's fixed
// seed and no fail files by default, with the user's -rapid.seed if one was
// given, or as a soak (-soak) with fresh random seeds until the duration is
// spent or rapid finds a counterexample.
func check(t *testing.T, prop func(*rapid.T)) {
	t.Helper()
	setFlag(t, "rapid.nofailfile", "true")
	switch {
	case userSeed():
		rapid.Check(t, prop)
	case *soak > 0:
		soakCheck(t, prop)
	default:
		setFlag(t, "rapid.seed", strconv.FormatUint(propertySeed(t.Name()), 10))
		rapid.Check(t, prop)
	}
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

// soakCheck is check's soak: rounds of rapid.Check, each with a fresh seed
// from crypto/rand, until *soak has passed or a round fails. A failing round
// fails t (rapid prints the shrunk case and -rapid.seed) and prints the
// deterministic replay line.
func soakCheck(t *testing.T, prop func(*rapid.T)) {
	t.Helper()
	deadline := time.Now().Add(*soak)
	checks := flag.Lookup("rapid.checks").Value.String()
	rounds := 0
	for time.Now().Before(deadline) {
		seed := freshSeed()
		setFlag(t, "rapid.seed", strconv.FormatUint(seed, 10))
		rounds++
		ok := t.Run(fmt.Sprintf("soak-%d", rounds), func(t *testing.T) { rapid.Check(t, prop) })
		if !ok {
			t.Fatalf("soak found a counterexample in round %d (seed %d). Replay it deterministically with:\n  go test ./properties -run '^%s$' -rapid.seed=%d -rapid.checks=%s",
				rounds, seed, t.Name(), seed, checks)
		}
	}
	t.Logf("soak: %d rounds of %s checks with fresh seeds in %s, no counterexample", rounds, checks, *soak)
}

// freshSeed is a random non-zero rapid seed.
func freshSeed() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("properties: crypto/rand: %v", err))
	}
	if s := binary.LittleEndian.Uint64(b[:]); s != 0 {
		return s
	}
	return 1
}

// TestPropertySeedsAreFixed guards the deterministic default: the seed of a
// property depends only on its name.
func TestPropertySeedsAreFixed(t *testing.T) {
	a, b := propertySeed("TestMatrixStrongCells/lease-retry"), propertySeed("TestMatrixStrongCells/lease-retry")
	if a != b || a == 0 {
		t.Fatalf("propertySeed is not a fixed non-zero function of the name: %d, %d", a, b)
	}
	if propertySeed("TestMatrixStrongCells/pin") == a {
		t.Fatal("two properties share a seed")
	}
}
