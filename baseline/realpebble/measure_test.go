package realpebble

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// TestMeasure runs every design the adapter accepts over SEEDS seeds of
// DefaultConfig and logs the outcomes (docs/realpebble.md "Measured").
// Enabled only when SNAPSIM_REALPEBBLE_MEASURE is set to the number of
// seeds, e.g. SNAPSIM_REALPEBBLE_MEASURE=20 go test ./baseline/realpebble
// -run Measure -v.
func TestMeasure(t *testing.T) {
	seeds, err := strconv.Atoi(os.Getenv("SNAPSIM_REALPEBBLE_MEASURE"))
	if err != nil || seeds < 1 {
		t.Skip("set SNAPSIM_REALPEBBLE_MEASURE to a number of seeds to run")
	}
	for _, name := range []string{"naive", "retry", "pin", "scan", "pin-released-early", "pebble-checkpoint"} {
		var d = pinReleasedEarly()
		if name != d.Name {
			if name == "pebble-checkpoint" {
				d = CheckpointDesign()
			} else {
				d = design(t, name)
			}
		}
		start := time.Now()
		var rounds, ok, panics, errs, enoent, matches, compactions int
		var steps int64
		var settleMax time.Duration
		for seed := 1; seed <= seeds; seed++ {
			rep := run(t, d, uint64(seed), DefaultConfig().Rounds)
			rounds += len(rep.Rounds)
			ok += rep.Count("ok")
			panics += rep.Count("panic")
			errs += rep.Count("error")
			enoent += len(rep.ENOENTs)
			compactions += rep.Workload.Compactions
			steps += rep.Kernel.Steps
			settleMax = max(settleMax, rep.Workload.SettleWaitMax)
			for _, x := range rep.Rounds {
				if x.Matches {
					matches++
				}
			}
		}
		t.Logf("%-20s %d seeds × %d rounds: ok %d (matching Pebble %d), error %d, panic %d; ENOENT opens %d; compactions %d; steps %d; longest settle %v; wall %v",
			name, seeds, DefaultConfig().Rounds, ok, matches, errs, panics, enoent, compactions, steps, settleMax.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		_ = rounds
	}
}
