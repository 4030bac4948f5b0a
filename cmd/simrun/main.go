// Command simrun runs snapsim simulations: sweeps of seeds (run), the exact
// replay of one seed or corpus file with its trace (replay), the
// design-validation matrix (validate), shrinking, timelines, shard merging
// and the stress-test comparison (bench). The commands live in package
// cli, which a user's own main can run over their own designs.
//
// Exit codes: 0 clean (or a file's expectation met, or the artifact
// written), 1 a violation observed (or an expectation not met), 2 bad usage
// or input, 3 incomplete (a seed ran out of its step budget), 4 simrun
// itself failed, 130/143 interrupted by SIGINT/SIGTERM.
package main

import (
	"os"

	"github.com/snapsim/snapsim/cmd/simrun/cli"
)

func main() { os.Exit(cli.Main()) }
