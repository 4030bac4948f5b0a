package tikv

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// The TiKV system's scenario commands, beside the generic run, hang and
// stop steps (model.StepRunUntil, ...): the step Kind of each is its name.
const (
	StepCrash      = "crash"       // crash NODE
	StepRestart    = "restart"     // restart NODE
	StepSplit      = "split"       // split REGION at KEY
	StepMerge      = "merge"       // merge SOURCE into TARGET
	StepConfChange = "conf-change" // conf-change REGION
)

// nodeNames are the groups a hang may name: the nodes.
var nodeNames = []string{"n1", "n2"}

// commands are the system's scenario commands (model.Spec.Commands).
var commands = []model.Command{
	{Name: StepCrash, Form: "crash n1|n2", Summary: "crash a node: its actors die, its filesystem goes back to what was synced",
		Parse: parseNodeCommand, Check: checkNode},
	{Name: StepRestart, Form: "restart n1|n2", Summary: "restart a crashed node: recover its engine, replay the raft log, respawn its actors",
		Parse: parseNodeCommand, Check: checkNode},
	{Name: StepSplit, Form: "split REGION at KEY", Summary: "split a region at a key inside it (its epoch version grows)",
		Parse: parseSplit, Check: func(st model.ScenarioStep) error {
			if st.Region == 0 || st.Key == "" {
				return fmt.Errorf("split needs a region and a key")
			}
			return nil
		}},
	{Name: StepMerge, Form: "merge SOURCE into TARGET", Summary: "merge a region into its neighbour (the source becomes a tombstone)",
		Parse: parseMerge, Check: func(st model.ScenarioStep) error {
			if st.Region == 0 || st.Target == 0 || st.Region == st.Target {
				return fmt.Errorf("merge needs two different regions")
			}
			return nil
		}},
	{Name: StepConfChange, Form: "conf-change REGION", Summary: "change a region's membership (its conf_ver grows)",
		Parse: parseConfChange, Check: func(st model.ScenarioStep) error {
			if st.Region == 0 {
				return fmt.Errorf("conf-change needs a region")
			}
			return nil
		}},
}

func checkNode(st model.ScenarioStep) error {
	if st.Node != "n1" && st.Node != "n2" {
		return fmt.Errorf("%s needs node n1 or n2, got %q", st.Kind, model.Clip(st.Node))
	}
	return nil
}

func malformed(w []string, form string) error {
	return fmt.Errorf("malformed %s line; want %s", w[0], form)
}

func parseNodeCommand(w []string) (model.ScenarioStep, error) {
	if len(w) != 2 || (w[1] != "n1" && w[1] != "n2") {
		return model.ScenarioStep{}, malformed(w, fmt.Sprintf(`"%s NODE" with NODE n1 (leader) or n2 (learner)`, w[0]))
	}
	return model.ScenarioStep{Kind: w[0], Node: w[1]}, nil
}

func parseSplit(w []string) (model.ScenarioStep, error) {
	form := `"split REGION at KEY" with REGION a region id >= 1 and KEY like k004 (or a key index)`
	if len(w) != 4 || w[2] != "at" {
		return model.ScenarioStep{}, malformed(w, form)
	}
	r, ok := model.ParseUint(w[1])
	key, kok := parseKey(w[3])
	if !ok || r < 1 || !kok {
		return model.ScenarioStep{}, malformed(w, form)
	}
	return model.ScenarioStep{Kind: StepSplit, Region: r, Key: key}, nil
}

func parseMerge(w []string) (model.ScenarioStep, error) {
	form := `"merge SOURCE into TARGET" with two different region ids >= 1`
	if len(w) != 4 || w[2] != "into" {
		return model.ScenarioStep{}, malformed(w, form)
	}
	s, ok1 := model.ParseUint(w[1])
	t, ok2 := model.ParseUint(w[3])
	if !ok1 || !ok2 || s < 1 || t < 1 || s == t {
		return model.ScenarioStep{}, malformed(w, form)
	}
	return model.ScenarioStep{Kind: StepMerge, Region: s, Target: t}, nil
}

func parseConfChange(w []string) (model.ScenarioStep, error) {
	r, ok := uint64(0), false
	if len(w) == 2 {
		r, ok = model.ParseUint(w[1])
	}
	if !ok || r < 1 {
		return model.ScenarioStep{}, malformed(w, `"conf-change REGION" with REGION a region id >= 1`)
	}
	return model.ScenarioStep{Kind: StepConfChange, Region: r}, nil
}

// parseKey accepts k004 or 4 and returns KeyName form.
func parseKey(s string) (string, bool) {
	digits := strings.TrimPrefix(s, "k")
	if digits == "" || len(digits) > 6 {
		return "", false
	}
	v, err := strconv.ParseUint(digits, 10, 32)
	if err != nil {
		return "", false
	}
	return KeyName(int(v)), true
}

// RunScenario runs sc (model.RunScenario: a director executes its steps)
// and returns the cluster's full outcome, its Script report set.
func (sys *System) RunScenario(sc model.Scenario, simCfg sim.Config) (Outcome, error) {
	cfg, ok := sc.Config.(Config)
	if !ok {
		return Outcome{}, fmt.Errorf("tikv: scenario %s: configuration %T is not a tikv.Config", sc.Name, sc.Config)
	}
	var out Outcome
	script, err := model.Direct(sc, commands, simCfg, func(simCfg sim.Config, h model.Hooks) error {
		var err error
		out, err = sys.run(cfg, sim.NewPRNG(sc.Seed), simCfg, h.Start, h.End)
		return err
	})
	out.Script = script
	return out, err
}

// scenarioRuntime is the cluster as a scenario's director sees it
// (model.Runtime).
type scenarioRuntime struct{ c *Cluster }

// Scheduler implements model.Runtime.
func (r scenarioRuntime) Scheduler() *sim.Scheduler { return r.c.s }

// node returns the node a step names.
func (r scenarioRuntime) node(name string) *Node {
	if name == "n2" {
		return r.c.Learner
	}
	return r.c.Leader
}

// Group implements model.Runtime: a node's actors.
func (r scenarioRuntime) Group(name string) (string, []*sim.Actor, error) {
	n := r.node(name)
	if n.down {
		return "", nil, fmt.Errorf("node %s is down (restart it first)", n.Name)
	}
	return "node " + n.Name, r.c.nodeActors(n), nil
}

// Perform implements model.Runtime: crash, restart, split, merge and
// conf-change.
func (r scenarioRuntime) Perform(a *sim.Actor, st model.ScenarioStep) error {
	c := r.c
	switch st.Kind {
	case StepCrash, StepRestart:
		n := r.node(st.Node)
		if st.Kind == StepCrash {
			if n.down {
				return fmt.Errorf("node %s is already down", n.Name)
			}
			c.crash(n)
			return nil
		}
		if !n.down {
			return fmt.Errorf("node %s is not down (crash it first)", n.Name)
		}
		return c.restart(a, n)
	case StepSplit:
		rg := c.Regions.ByID(st.Region)
		if rg == nil {
			return fmt.Errorf("no live region %d", st.Region)
		}
		if st.Key <= rg.Start || (rg.End != "" && st.Key >= rg.End) {
			return fmt.Errorf("key %s is not strictly inside %s", st.Key, rg)
		}
		n := c.Regions.Split(rg, st.Key)
		c.s.Record(sim.ClassAction, "split", fmt.Sprintf("at %s: %s and %s", st.Key, rg, n), "ok")
	case StepMerge:
		src, dst := c.Regions.ByID(st.Region), c.Regions.ByID(st.Target)
		if src == nil || dst == nil {
			return fmt.Errorf("merge needs live regions %d and %d", st.Region, st.Target)
		}
		if !(src.End != "" && src.End == dst.Start) && !(dst.End != "" && dst.End == src.Start) {
			return fmt.Errorf("%s and %s are not adjacent", src, dst)
		}
		c.Regions.Merge(src, dst)
		c.s.Record(sim.ClassAction, "merge", fmt.Sprintf("region %d into %s", src.ID, dst), "ok")
	case StepConfChange:
		rg := c.Regions.ByID(st.Region)
		if rg == nil {
			return fmt.Errorf("no live region %d", st.Region)
		}
		rg.Epoch.ConfVer++
		c.s.Record(sim.ClassAction, "conf-change", rg.String(), "ok")
	default:
		return fmt.Errorf("%q is not a command of the tikv system", st.Kind)
	}
	return nil
}
