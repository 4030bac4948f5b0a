package proptest

// How a property runs: deterministically by default, as an explicit soak
// for random exploration, or replaying a seed the user gave.

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
// deterministic default). It is registered in every test binary that
// imports proptest, as rapid's own flags are.
var soak = flag.Duration("soak", 0, "explore each selected property with fresh random rapid seeds for this long (0: one deterministic run with a fixed seed)")

// Seed is the fixed rapid seed of the property named name: stable across
// runs and machines, different per property (FNV-1a of the name, never 0,
// which rapid reads as "random").
func Seed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	if s := h.Sum64(); s != 0 {
		return s
	}
	return 1
}

// userSeed reports whether the user chose a rapid seed (-rapid.seed or
// RAPID_SEED).
func userSeed() bool {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "rapid.seed" })
	return given || os.Getenv("RAPID_SEED") != ""
}

// Check runs prop as an ordinary property of t: with the property's fixed
// seed (Seed(t.Name())) and no fail file by default, with the user's
// -rapid.seed if one was given, or as a soak (-soak) with fresh random
// seeds until the duration is spent or rapid finds a counterexample. It is
// the runner under Never and Always, for a property written by hand
// against *rapid.T.
func Check(t *testing.T, prop func(*rapid.T)) {
	t.Helper()
	tb := &captureTB{t: t, forward: true}
	check(t, tb, 0, prop)
	if tb.failed {
		t.FailNow()
	}
}

// check is Check with rapid reporting to tb, a TB that captures the
// failure so the caller can add its replay lines, and with seed (0:
// Seed(t.Name())) as the fixed seed.
func check(t *testing.T, tb *captureTB, seed uint64, prop func(*rapid.T)) {
	t.Helper()
	SetFlag(t, "rapid.nofailfile", "true")
	switch {
	case userSeed():
		rapidCheck(tb, prop)
	case *soak > 0:
		soakCheck(t, tb, prop)
	default:
		if seed == 0 {
			seed = Seed(t.Name())
		}
		SetFlag(t, "rapid.seed", strconv.FormatUint(seed, 10))
		rapidCheck(tb, prop)
	}
}

// soakCheck is check's soak: rounds of rapid.Check, each with a fresh seed
// from crypto/rand, until *soak has passed or a round fails. Wall-clock
// time bounds the exploration only; each round is deterministic given its
// seed, which a failure prints.
func soakCheck(t *testing.T, tb *captureTB, prop func(*rapid.T)) {
	t.Helper()
	deadline := time.Now().Add(*soak)
	checks := flag.Lookup("rapid.checks").Value.String()
	rounds := 0
	for time.Now().Before(deadline) && !tb.Failed() {
		seed := freshSeed()
		SetFlag(t, "rapid.seed", strconv.FormatUint(seed, 10))
		rounds++
		rapidCheck(tb, prop)
		if tb.Failed() {
			t.Logf("soak found a counterexample in round %d (seed %d). Replay it deterministically with:\n  go test -run '^%s$' -rapid.seed=%d -rapid.checks=%s",
				rounds, seed, t.Name(), seed, checks)
			return
		}
	}
	t.Logf("soak: %d rounds of %s checks with fresh seeds in %s, no counterexample", rounds, checks, *soak)
}

// freshSeed is a random non-zero rapid seed.
func freshSeed() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("proptest: crypto/rand: %v", err))
	}
	if s := binary.LittleEndian.Uint64(b[:]); s != 0 {
		return s
	}
	return 1
}

// SetFlag sets a registered flag (rapid's: rapid.seed, rapid.checks, ...)
// for the rest of the test and restores it after. An unknown flag or a bad
// value fails t.
func SetFlag(t *testing.T, name, value string) {
	t.Helper()
	f := flag.Lookup(name)
	if f == nil {
		t.Fatalf("proptest: flag %s is not registered", name)
	}
	old := f.Value.String()
	if err := f.Value.Set(value); err != nil {
		t.Fatalf("proptest: flag %s=%s: %v", name, value, err)
	}
	t.Cleanup(func() { _ = f.Value.Set(old) })
}

// currentSeed is the rapid seed the current check runs with.
func currentSeed() uint64 {
	s, _ := strconv.ParseUint(flagValue("rapid.seed"), 10, 64)
	return s
}

// flagValue is the current value of a registered flag.
func flagValue(name string) string { return flag.Lookup(name).Value.String() }
