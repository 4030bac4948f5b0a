// Package drawsfile is the .draws file format: a violating run as its
// exact draw log and the configuration it ran under, which `simrun replay
// FILE.draws` replays and checks. simrun's shrink and check write it; a
// test helper (properties/proptest) writes it through Encode without
// depending on the CLI.
package drawsfile

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
)

// Format names the .draws file format written by shrink and read by
// replay FILE.draws.
const Format = "snapsim-draws/1"

// File is a violating run (shrunk by simrun shrink, a counterexample of
// simrun check, a failure a property test found): the selection it ran
// under and the exact draw log (replayed with sim.NewLog), plus what it
// must reproduce.
type File struct {
	Format string `json:"format"`
	// System names the system (absent in files from before systems: tikv).
	System          string     `json:"system,omitempty"`
	Collector       string     `json:"collector"`
	Profile         string     `json:"profile"`
	Strategy        string     `json:"strategy"`
	Variants        []string   `json:"variants"`
	Sets            []string   `json:"sets,omitempty"`
	SnapGenerators  int64      `json:"snap_generators"`
	SnapGCTimeoutUS int64      `json:"snap_gc_timeout_us,omitempty"`
	GCGraceUS       int64      `json:"gc_grace_us,omitempty"`
	ThreadChurnUS   int64      `json:"thread_churn_us,omitempty"`
	MaxSteps        int64      `json:"max_steps"`
	FromSeed        uint64     `json:"from_seed"`
	Expect          sim.Kind   `json:"expect"`
	TraceHash       string     `json:"trace_hash"`
	Draws           []sim.Draw `json:"draws"`
	// Scope and Config are set by simrun check: the scope the
	// counterexample was found in, and its whole model configuration,
	// which replay uses instead of the selection fields above.
	Scope  string          `json:"scope,omitempty"`
	Config json.RawMessage `json:"config,omitempty"`
	// Origin says where a run written by EncodeDraws was found (a test and
	// its -rapid.seed).
	Origin string `json:"origin,omitempty"`
}

// Encode encodes a violating run as a .draws file, which
// `simrun replay FILE.draws` replays exactly and checks: the run's whole
// configuration (out.Config, as its system's DecodeConfig reads it back),
// its exact draw log, the kernel's step budget maxSteps, and the first
// violation and trace hash the replay must reproduce. origin says in one
// line where the run was found (a test and its -rapid.seed); replay prints
// it when the expectation is met. It is how a caller outside the CLI (the
// property helper, properties/proptest) hands a failure to simrun.
func Encode(out *model.Outcome, draws []sim.Draw, maxSteps int64, origin string) ([]byte, error) {
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
	df := File{Format: Format, System: cfg.SystemName(), Collector: cfg.DesignName(), Profile: cfg.ProfileName(),
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
