// Command mysim is simrun with a user's own design registered beside the
// built-in ones (examples/mydesign: recheck and recheck-atomic): every
// simrun command, with --collector recheck or recheck-atomic. Run it from
// the examples directory:
//
//	go run ./cmd/mysim collectors
//	go run ./cmd/mysim validate --collectors naive,recheck,recheck-atomic,lease-retry --seeds 200
//	go run ./cmd/mysim replay --collector recheck --seed N
package main

import (
	"os"

	"github.com/snapsim/snapsim/cmd/simrun/cli"
	"github.com/snapsim/snapsim/examples/mydesign"
)

func main() {
	os.Exit(cli.Main(cli.WithDesigns(mydesign.Designs()...), cli.WithGoRun("./cmd/mysim")))
}
