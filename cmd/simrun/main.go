// Command simrun runs snapsim simulations: sweeps of seeds (run), and the
// exact replay of one seed with its trace (replay).
//
// Exit codes: 0 no violation, 1 a violation was observed, 2 bad usage or
// input.
package main

import (
	"os"
	"runtime/debug"
)

// defaultGCPercent is simrun's GOGC unless the environment sets one. A
// simulation holds well under 1 MB live (docs/scaling.md), so with Go's
// default of 100 the collector runs every few seeds and its background
// worker takes a quarter of the CPUs from the sweep's workers; 400 trades a
// few MB of heap for 25% more seeds/s on one worker and near-linear scaling
// on two (README "Performance").
const defaultGCPercent = 400

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}
