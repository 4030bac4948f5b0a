// Package bad breaks every determinism rule; detguard's tests assert the
// exact findings (the "want" comments mark them).
package bad

import (
	"maps"
	oldrand "math/rand" // want global-rand (v1 import)
	"math/rand/v2"
	"slices"
	"sort"
	clock "time"
)

// Wall reads the wall clock through a renamed import.
func Wall() int64 {
	return clock.Now().UnixNano() // want wall-clock
}

// Roll uses both global random sources; the v1 use is covered by its import.
func Roll() int {
	return oldrand.Intn(6) + rand.IntN(6) // want global-rand (v2 call)
}

// Spawn starts a free-running goroutine.
func Spawn(f func()) {
	go f() // want go-statement
}

// Keys sorts before, not after, ranging over the map.
func Keys(m map[string]int) []string {
	var keys []string
	sort.Strings(keys)
	for k := range m { // want map-range
		keys = append(keys, k)
	}
	return keys
}

// Values ranges over a map iterator.
func Values(m map[string]int) []int {
	var vs []int
	for v := range maps.Values(m) { // want map-range
		vs = append(vs, v)
	}
	return vs
}

// First returns some key, in runtime order.
func First(m map[string]int) string {
	for k := range maps.Keys(m) { // want map-range
		return k
	}
	return ""
}

// Sum is annotated, but without a reason.
func Sum(m map[string]int) int {
	n := 0
	//detguard:order-independent
	for _, v := range m { // want map-range
		n += v
	}
	return n
}

// AnyKey ranges over a map-typed type parameter.
func AnyKey[M ~map[K]V, K comparable, V any](m M) (k K) {
	for k = range m { // want map-range
		break
	}
	return k
}

// Collected gathers a map's values in runtime order without a range.
func Collected(m map[string]int) []int {
	return slices.Collect(maps.Values(m)) // want map-range
}

// Passed hands a key iterator to another function.
func Passed(m map[string]int, f func(func(func(string) bool))) {
	f(maps.Keys(m)) // want map-range
}
