// Package good uses maps, time and math/rand/v2 deterministically; detguard
// must report nothing here.
package good

import (
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// Timeout is a plain duration: the time package's types and constants are fine.
const Timeout = 3 * time.Second

// Keys collects the map's keys and then sorts them.
func Keys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// SortedValues collects from a map iterator and sorts with slices.
func SortedValues(m map[string]int) []int {
	var vs []int
	for v := range maps.Values(m) {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	return vs
}

// Ordered ranges over an already sorted key slice.
func Ordered(m map[string]int) []string {
	return slices.Sorted(maps.Keys(m))
}

// Sum adds the values; addition commutes, so order does not matter.
func Sum(m map[string]int) int {
	n := 0
	//detguard:order-independent commutative sum of ints
	for _, v := range m {
		n += v
	}
	return n
}

// Count only counts the entries, binding no key or value.
func Count(m map[string]int) int {
	n := 0
	for range m {
		n++
	}
	return n
}

// Roll draws from a seeded generator.
func Roll(seed uint64) int {
	r := rand.New(rand.NewPCG(seed, 2))
	return r.IntN(6)
}

// Later calls methods that share names with wall-clock functions, on values
// built without reading the clock.
func Later(a, b int64) bool {
	return time.Unix(a, 0).After(time.Unix(b, 0))
}

// clock is a virtual clock whose method happens to be called Now.
type clock struct{ now time.Duration }

// Now returns the virtual time.
func (c *clock) Now() time.Duration { return c.now }

// Elapsed shadows the name time with a virtual clock.
func Elapsed(time *clock) int64 {
	return int64(time.Now())
}

// Generic ranges over a slice-typed type parameter.
func Generic[S ~[]E, E any](s S) int {
	n := 0
	for i := range s {
		n += i
	}
	return n
}

// CollectedSorted collects a map's keys and sorts them afterwards.
func CollectedSorted(m map[string]int) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.Sort(keys)
	return keys
}

// CollectedAnnotated sums collected values: the order cannot matter.
func CollectedAnnotated(m map[string]int) int {
	n := 0
	//detguard:order-independent commutative sum
	for _, v := range slices.Collect(maps.Values(m)) {
		n += v
	}
	return n
}
