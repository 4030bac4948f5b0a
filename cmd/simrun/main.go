// Command simrun runs snapsim simulations: sweeps of seeds (run), the exact
// replay of one seed or corpus file with its trace (replay), the
// design-validation matrix (validate), shrinking, timelines, shard merging
// and the stress-test comparison (bench).
//
// Exit codes: 0 clean (or a file's expectation met, or the artifact
// written), 1 a violation observed (or an expectation not met), 2 bad usage
// or input, 3 incomplete (a seed ran out of its step budget), 4 simrun
// itself failed, 130/143 interrupted by SIGINT/SIGTERM.
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
	ctx, stop := watchSignals(os.Stderr)
	code := executeContext(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
