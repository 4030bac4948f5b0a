package properties

import (
	"github.com/snapsim/snapsim/properties/proptest"
	"pgregory.net/rapid"
)

// Choice adapts a *rapid.T to sim.Choice: proptest's adapter, which every
// property test (snapsim's and a user's) shares. Each Intn is one rapid
// draw of an integer in [0, n); rapid shrinks draws toward 0 and deletes
// them, which for the model means fewer, smaller, earlier-actor choices.
type Choice = proptest.Choice

// NewChoice returns a Choice drawing from t.
func NewChoice(t *rapid.T) *Choice { return proptest.NewChoice(t) }
