//go:build race

package vfsmem_test

// raceEnabled: pebble's invariants (and MemFS's buffer scrambling, trap 7)
// are on in race builds.
const raceEnabled = true
