package model_test

import (
	"encoding/json"
	"testing"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// exploreScope is a tiny fixed-workload configuration for the explorer: two
// puts, two flushes, one compaction, one snapshot after 400us, the run
// ending with the workload, operations taking no virtual time.
func exploreScope(collector string) model.Config {
	cfg := model.DefaultConfig(collector)
	cfg.ThreadChurnInterval = 0
	cfg.Workload = &model.Workload{Puts: 2, FlushThreshold: 1, CompactTrigger: 2, Snapshots: 1, SnapshotDelays: []sim.Micros{400}}
	cfg.EndAfter = model.EndAfterWorkload
	cfg.InstantOps = true
	return cfg
}

// outcomeSignature is what an execution's actors did and saw: each
// actor's own actions in order (what it listed, compacted, deleted,
// opened, with what result), the kinds of its observations, every
// snapshot's report, the regions. Equivalent executions (the same steps,
// independent neighbours swapped) have the same signature; trace hashes,
// step numbers and the interleaving of actors may differ.
func outcomeSignature(out model.Outcome) string {
	perActor := map[string][]string{}
	for _, e := range out.Result.Events {
		switch e.Class {
		case sim.ClassAction:
			perActor[e.Actor] = append(perActor[e.Actor], e.Op+" "+e.Detail+" = "+e.Result)
		case sim.ClassViolation:
			perActor[e.Actor] = append(perActor[e.Actor], "VIOLATION "+e.Op)
		}
	}
	b, _ := json.Marshal(struct {
		Actors    map[string][]string
		Snapshots []model.SnapshotReport
		Regions   []model.Region
	}{perActor, out.Snapshots, out.Regions})
	return string(b)
}

// TestModelFootprintsKeepEveryOutcome: on a small scope, the reduced
// exploration (the model's declarations and the filesystem's footprints)
// reaches every outcome plain DFS reaches, for each collector and bound.
func TestModelFootprintsKeepEveryOutcome(t *testing.T) {
	pruned := int64(0)
	for _, col := range []string{"naive", "lease-retry", "pin", "checkpoint", "scan"} {
		cfg := exploreScope(col)
		for k := 0; k <= 2; k++ {
			sets := [2]map[string]int{{}, {}}
			var counts [2]sim.Counts
			for i, noRed := range []bool{true, false} {
				set := sets[i]
				prog := func(ch sim.Choice, sc sim.Config) (sim.Result, error) {
					sc.KeepTrace = true
					out, err := model.Run(cfg, ch, sc)
					if err == nil && out.Result.End != sim.EndStopped {
						set[outcomeSignature(out)]++
					}
					return out.Result, err
				}
				ex, err := sim.Explore(prog, sim.Options{Bounds: sim.Bounds{Delays: k, MaxSteps: 2000, Width: 2}, NoReduction: noRed})
				if err != nil {
					t.Fatal(err)
				}
				v, err := sim.Conclude([]*sim.Exploration{ex})
				if err != nil {
					t.Fatal(err)
				}
				counts[i] = v.Counts
			}
			for sig := range sets[0] {
				if sets[1][sig] == 0 {
					t.Fatalf("%s K=%d: the reduced exploration (%+v) never reached an outcome plain DFS (%+v) reached:\n%s", col, k, counts[1], counts[0], sig)
				}
			}
			pruned += counts[1].Pruned
			t.Logf("%s K=%d: plain %d executions, reduced %d (+%d blocked, %d pruned), %d outcomes", col, k,
				counts[0].Executions, counts[1].Executions, counts[1].Blocked, counts[1].Pruned, len(sets[0]))
		}
	}
	if pruned == 0 {
		t.Fatal("nothing was pruned: the declarations make every step conflict")
	}
}
