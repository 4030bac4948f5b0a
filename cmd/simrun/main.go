// Command simrun runs snapsim simulations: sweeps of seeds (run), and the
// exact replay of one seed with its trace (replay).
//
// Exit codes: 0 no violation, 1 a violation was observed, 2 bad usage or
// input.
package main

import (
	"os"
)

func main() {
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}
