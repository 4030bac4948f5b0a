// Command mysim is simrun with a user's own additions registered: a design
// beside the built-in ones (examples/mydesign: recheck and recheck-atomic,
// --collector NAME) and two systems of their own (examples/opensearch and
// examples/dulwich, --system NAME). Every simrun command works over them.
// Run it from the examples directory:
//
//	go run ./cmd/mysim collectors
//	go run ./cmd/mysim validate --collectors naive,recheck,recheck-atomic,lease-retry --seeds 200
//	go run ./cmd/mysim replay --collector recheck --profile swarm --seed 172
//	go run ./cmd/mysim replay opensearch/buggy.scenario
package main

import (
	"os"

	"github.com/snapsim/snapsim/cmd/simrun/cli"
	"github.com/snapsim/snapsim/examples/dulwich"
	"github.com/snapsim/snapsim/examples/mydesign"
	"github.com/snapsim/snapsim/examples/opensearch"
	"github.com/snapsim/snapsim/model"
)

// Systems lists the systems mysim registers beside the built-in TiKV-like
// one.
func Systems() []model.System {
	return []model.System{dulwich.System(), opensearch.System()}
}

func main() {
	os.Exit(cli.Main(cli.WithDesigns(mydesign.Designs()...), cli.WithSystems(Systems()...), cli.WithGoRun("./cmd/mysim")))
}
