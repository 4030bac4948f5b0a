package cli

import (
	"github.com/snapsim/snapsim/internal/drawsfile"
	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// EncodeDraws encodes a violating run as a .draws file (drawsfile.Encode,
// kept here for callers of the CLI library).
func EncodeDraws(out *model.Outcome, draws []sim.Draw, maxSteps int64, origin string) ([]byte, error) {
	return drawsfile.Encode(out, draws, maxSteps, origin)
}
