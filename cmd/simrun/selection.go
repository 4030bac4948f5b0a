package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
	"github.com/spf13/cobra"
)

// selection is what picks a run besides the seed: the collector, the
// strategy and the step budget. run and replay share it, so a replay line
// printed by run carries exactly what is needed to reproduce.
type selection struct {
	collector string
	strategy  string
	maxSteps  int64
	asJSON    bool
}

func (s *selection) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&s.collector, "collector", "lease-retry", "collector design: "+strings.Join(model.CollectorNames(), ", "))
	f.StringVar(&s.strategy, "strategy", "random", "scheduling strategy: random, pct or pct:DEPTH")
	f.Int64Var(&s.maxSteps, "max-steps", sim.DefaultMaxSteps, "step budget per seed")
	f.BoolVar(&s.asJSON, "json", false, "print JSON instead of text")
}

// resolve validates the selection and builds the model and kernel configs.
func (s *selection) resolve() (model.Config, sim.Config, error) {
	cfg := model.DefaultConfig(s.collector)
	if err := cfg.Validate(); err != nil {
		return model.Config{}, sim.Config{}, usagef("--collector: %v", err)
	}
	st, err := sim.ParseStrategy(s.strategy)
	if err != nil || st.Name == "replay" {
		if err == nil {
			err = fmt.Errorf("strategy %q needs a recorded schedule; use random, pct or pct:DEPTH", s.strategy)
		}
		return model.Config{}, sim.Config{}, usagef("--strategy: %v", err)
	}
	if s.maxSteps < 1 || s.maxSteps > 1e9 {
		return model.Config{}, sim.Config{}, usagef("--max-steps: %d is out of range (want 1..1000000000)", s.maxSteps)
	}
	return cfg, sim.Config{MaxSteps: s.maxSteps, Strategy: st, StopOnViolation: true}, nil
}

// replayLine is the shell command that replays seed with this selection.
func (s *selection) replayLine(seed uint64) string {
	parts := []string{invocation(), "replay", "--collector", s.collector, "--seed", strconv.FormatUint(seed, 10)}
	if s.strategy != "random" {
		parts = append(parts, "--strategy", s.strategy)
	}
	if s.maxSteps != sim.DefaultMaxSteps {
		parts = append(parts, "--max-steps", strconv.FormatInt(s.maxSteps, 10))
	}
	return strings.Join(parts, " ")
}

// invocation is how the user ran this binary: "go run ./cmd/simrun" when it
// was built by go run into a temporary directory, else its path.
func invocation() string {
	arg0 := os.Args[0]
	if strings.Contains(arg0, "go-build") || strings.HasSuffix(arg0, ".test") {
		return "go run ./cmd/simrun"
	}
	return arg0
}

// parseSeed accepts a decimal or 0x-hexadecimal uint64.
func parseSeed(flag, s string) (uint64, error) {
	t := strings.TrimSpace(s)
	var v uint64
	var err error
	if rest, ok := strings.CutPrefix(strings.ToLower(t), "0x"); ok {
		v, err = strconv.ParseUint(rest, 16, 64)
	} else {
		v, err = strconv.ParseUint(t, 10, 64)
	}
	if err != nil || t == "" {
		return 0, usagef("%s: %q is not a seed (want a decimal or 0x-hex unsigned 64-bit integer, e.g. 42 or 0x2a)", flag, s)
	}
	return v, nil
}

// runSeed runs one seed of the selection.
func runSeed(cfg model.Config, sc sim.Config, seed uint64) (model.Outcome, error) {
	out, err := model.Run(cfg, sim.NewPRNG(seed), sc)
	if err != nil {
		return out, fmt.Errorf("seed %d: %w", seed, err)
	}
	return out, nil
}
