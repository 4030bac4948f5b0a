// Package builtin assembles snapsim's built-in systems from their parts:
// the TiKV-like cluster (model/tikv) with the built-in designs
// (model/designs). It is the default of the CLI (cmd/simrun/cli), the
// corpus (seeds) and the properties; a user's program assembles its own
// the same way (tikv.New with designs.All() and its own designs).
package builtin

import (
	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/designs"
	"github.com/snapsim/snapsim/model/tikv"
)

// TiKV returns the TiKV-like system with the built-in designs.
func TiKV() *tikv.System { return tikv.MustNew(designs.All()...) }

// Systems returns the built-in systems: the TiKV-like cluster with the
// built-in designs (and, with extra designs, those too).
func Systems(extra ...model.Design) *model.Systems {
	sys, err := model.NewSystems(tikv.MustNew(append(designs.All(), extra...)...))
	if err != nil {
		panic("builtin: " + err.Error())
	}
	return sys
}
