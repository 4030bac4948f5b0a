package cli

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
)

// EncodeDraws encodes a violating run as a .draws file, which
// `simrun replay FILE.draws` replays exactly and checks: the run's whole
// configuration (out.Config, as its system's DecodeConfig reads it back),
// its exact draw log, the kernel's step budget maxSteps, and the first
// violation and trace hash the replay must reproduce. origin says in one
// line where the run was found (a test and its -rapid.seed); replay prints
// it when the expectation is met. It is how a caller outside the CLI (the
// property helper, properties/proptest) hands a failure to simrun.
func EncodeDraws(out *model.Outcome, draws []sim.Draw, maxSteps int64, origin string) ([]byte, error) {
	switch {
	case out == nil || out.Config == nil:
		return nil, errors.New("encode draws: the outcome has no configuration")
	case !out.Violated():
		return nil, errors.New("encode draws: the run observed nothing (a .draws file replays a violation)")
	case len(draws) == 0:
		return nil, errors.New("encode draws: no draws (a .draws file holds at least one)")
	case maxSteps < 1 || maxSteps > 1e9:
		return nil, fmt.Errorf("encode draws: max steps %d out of range (want 1..1000000000)", maxSteps)
	}
	raw, err := json.Marshal(out.Config)
	if err != nil {
		return nil, fmt.Errorf("encode draws: config: %w", err)
	}
	cfg := out.Config
	df := drawsFile{Format: drawsFormat, System: cfg.SystemName(), Collector: cfg.DesignName(), Profile: cfg.ProfileName(),
		Strategy: "random", Variants: []string{}, SnapGenerators: 1, MaxSteps: maxSteps,
		Expect: out.Result.Observations[0].Kind, TraceHash: sim.FormatHash(out.Result.TraceHash),
		Draws: draws, Config: raw, Origin: origin}
	if tc, ok := cfg.(tikv.Config); ok {
		df.SnapGenerators, df.GCGraceUS = int64(tc.SnapGenerators), int64(tc.GCGrace)
		df.Variants = append(df.Variants, tc.VariantNames()...)
	}
	data, err := json.MarshalIndent(df, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode draws: %w", err)
	}
	return append(data, '\n'), nil
}
