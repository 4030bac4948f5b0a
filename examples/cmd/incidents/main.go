// Command incidents is simrun over the incident examples of this module:
// every simrun command (run, replay, validate, shrink, ...) with --system
// NAME selecting one of the examples' systems beside the built-in
// TiKV-like one. Run it from the examples directory:
//
//	go run ./cmd/incidents systems
//	go run ./cmd/incidents replay --system hbase hbase/buggy.scenario
package main

import (
	"os"

	"github.com/snapsim/snapsim/cmd/simrun/cli"
	"github.com/snapsim/snapsim/examples/dulwich"
	"github.com/snapsim/snapsim/examples/etcd"
	"github.com/snapsim/snapsim/examples/hbase"
	"github.com/snapsim/snapsim/examples/opensearch"
	"github.com/snapsim/snapsim/examples/solr"
	"github.com/snapsim/snapsim/model"
)

// Systems lists the example systems the command registers, in the order
// simrun systems prints them.
func Systems() []model.System {
	return []model.System{dulwich.System(), etcd.System(), hbase.System(), opensearch.System(), solr.System()}
}

func main() {
	os.Exit(cli.Main(cli.WithSystems(Systems()...), cli.WithGoRun("./cmd/incidents")))
}
