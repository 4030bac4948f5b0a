package realpebble

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/snapsim/snapsim/model"
)

// TestMeasure runs every design the adapter accepts, and the negative
// control of pin, over SEEDS seeds of DefaultConfig and of a lighter read
// window (1 MiB/s: a 1 KiB file waits about 1 ms, two workload
// operations), and logs the outcomes (docs/realpebble.md "Measured").
// Enabled only when SNAPSIM_REALPEBBLE_MEASURE is set to the number of
// seeds, e.g. SNAPSIM_REALPEBBLE_MEASURE=50 go test ./baseline/realpebble
// -run Measure -v.
func TestMeasure(t *testing.T) {
	seeds, err := strconv.Atoi(os.Getenv("SNAPSIM_REALPEBBLE_MEASURE"))
	if err != nil || seeds < 1 {
		t.Skip("set SNAPSIM_REALPEBBLE_MEASURE to a number of seeds to run")
	}
	light := DefaultConfig()
	light.SnapIOBytesPerSec = 1 << 20
	for _, shape := range []struct {
		name string
		cfg  Config
	}{{"default", DefaultConfig()}, {"1MiB/s", light}} {
		for _, d := range []model.Design{design(t, "naive"), design(t, "retry"), design(t, "pin"), design(t, "scan"), CheckpointDesign(), pinReleasedEarly()} {
			start := time.Now()
			var ok, panics, errs, enoent, matches, compactions int
			var steps int64
			var settleMax time.Duration
			for seed := 1; seed <= seeds; seed++ {
				cfg := shape.cfg
				cfg.Seed = uint64(seed)
				rep, err := Run(d, cfg)
				if err != nil {
					t.Fatalf("%s seed %d: %v", d.Name, seed, err)
				}
				ok += rep.Count("ok")
				panics += rep.Count("panic")
				errs += rep.Count("error")
				enoent += len(rep.ENOENTs)
				compactions += rep.Workload.Compactions
				steps += rep.Kernel.Steps
				settleMax = max(settleMax, rep.Workload.SettleWaitMax)
				matches += matching(rep)
			}
			t.Logf("%-8s %-20s %d seeds × %d rounds: ok %d (matching Pebble %d), error %d, panic %d; ENOENT opens %d; compactions %d; steps %d; longest settle %v; wall %v",
				shape.name, d.Name, seeds, shape.cfg.Rounds, ok, matches, errs, panics, enoent, compactions, steps, settleMax.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		}
	}
}
