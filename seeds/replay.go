package seeds

import (
	"fmt"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// SimConfig is the kernel configuration the file is replayed with: its
// strategy and step budget, the trace kept, and the run stopped at the end
// of the first violating step (as simrun replays seeds) unless the file
// says keep-going.
func (f *File) SimConfig() (sim.Config, error) {
	st, err := sim.ParseStrategy(f.Strategy)
	if err != nil {
		return sim.Config{}, fmt.Errorf("%s: strategy: %w", f.Path, err)
	}
	return sim.Config{MaxSteps: f.MaxSteps, Strategy: st, KeepTrace: true, StopOnViolation: !f.KeepGoing}, nil
}

// Replay runs the file on its system: a scenario through
// model.RunScenario, a seed file through System.Run with a PRNG seeded
// from it. An error is a scenario step that could not make progress (a
// *model.ScenarioError naming its step and line; also in the outcome's
// Script.Refusal) or an unusable configuration. The outcome is returned as
// far as it got, with its trace kept up to the refusal, so a caller can
// print what happened before it; a scenario's outcome always has a Script
// report.
func (f *File) Replay() (model.Outcome, error) {
	sc, err := f.SimConfig()
	if err != nil {
		return model.Outcome{}, err
	}
	if f.IsSeed {
		out, err := f.System.Run(f.Scenario.Config, sim.NewPRNG(f.Scenario.Seed), sc, model.Hooks{})
		if err != nil {
			return out, fmt.Errorf("%s: %w", f.Path, err)
		}
		return out, nil
	}
	return model.RunScenario(f.System, f.Scenario, sc)
}

// Check compares an outcome with the file's expectations (see
// model.Scenario.Check: a positive expectation counts only what was
// observed while the script ran unless it says "after script" or
// "anytime"; expect none and expect-not cover the whole run). For a seed
// file, which has no script, the whole run counts; a mismatch is reported
// as DRIFT: the seed no longer reaches the observation it was kept for (or
// now reaches one it should not).
func (f *File) Check(out *model.Outcome) error {
	if err := f.Scenario.Check(out.Result, out.Script); err != nil {
		if f.IsSeed {
			return fmt.Errorf("DRIFT: %s: seed %d no longer behaves as recorded (a code change moved the schedule): %v; find a new seed with simrun run and update the file", f.Path, f.Scenario.Seed, err)
		}
		return fmt.Errorf("%s: %v", f.Path, err)
	}
	return nil
}
