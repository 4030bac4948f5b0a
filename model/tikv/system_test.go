package tikv

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/designs"
	"github.com/snapsim/snapsim/sim"
)

// testSys is the system the tests run: the cluster with the built-in
// designs (a test of package tikv may import designs: designs imports
// only model).
var testSys = MustNew(designs.All()...)

// Run, RunScenario, newCluster and the listings are the test system's, so
// the tests read as before the designs moved out.
func Run(cfg Config, choice sim.Choice, sc sim.Config) (Outcome, error) {
	return testSys.Simulate(cfg, choice, sc)
}

func RunScenario(sc Scenario, simCfg sim.Config) (Outcome, error) {
	return testSys.RunScenario(sc, simCfg)
}

func newCluster(s *sim.Scheduler, cfg Config, work Workload) (*Cluster, error) {
	return testSys.NewCluster(s, cfg, work)
}

func run(cfg Config, choice sim.Choice, sc sim.Config, hook func(rt model.Runtime)) (Outcome, error) {
	return testSys.run(cfg, choice, sc, hook, nil)
}

func CollectorNames() []string { return testSys.DesignNames() }

func Collectors() []model.Design { return testSys.Designs() }

// New refuses a design it cannot run or list.
func TestNewRefusesBadDesigns(t *testing.T) {
	ok := designs.Naive()
	for _, tc := range []struct {
		name string
		ds   []model.Design
		want string
	}{
		{"twice", []model.Design{ok, ok}, "design naive registered twice"},
		{"bad name", []model.Design{{Name: "Naive", Summary: "x", New: ok.New}}, `design "Naive": want a name`},
		{"no constructor", []model.Design{{Name: "x", Summary: "x"}}, "design x has no constructor"},
		{"no summary", []model.Design{{Name: "x", New: ok.New}}, "design x has no summary"},
	} {
		_, err := New(tc.ds...)
		assert.ErrorContains(t, err, tc.want, tc.name)
	}
	sys, err := New(append(designs.All(), model.Design{Name: "mine", Summary: "a user's design", New: ok.New})...)
	require.NoError(t, err)
	assert.Contains(t, sys.DesignNames(), "mine")
	assert.ErrorContains(t, sys.Validate(DefaultConfig("nope")), `unknown collector "nope"`)
	assert.NoError(t, sys.Validate(DefaultConfig("mine")))
}
