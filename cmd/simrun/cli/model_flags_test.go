package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/model/tikv"
	"github.com/stretchr/testify/require"
)

// TestCollectorsAndProfilesAreListed: each name appears with a summary.
func TestCollectorsAndProfilesAreListed(t *testing.T) {
	out := mustExit(t, exitOK, "collectors").stdout
	for _, c := range defaultEnv().defaultDesigns() {
		require.Regexp(t, `(?m)^`+c+`\s+\S`, out, "collector %s not listed with a summary", c)
	}
	out = mustExit(t, exitOK, "profiles").stdout
	for _, p := range tikv.ProfileNames() {
		require.Regexp(t, `(?m)^`+p+`\s+\S`, out, "profile %s not listed with a summary", p)
	}
}

// TestUnknownProfileListsValidOnes: exit 2, the flag named, the names listed.
func TestUnknownProfileListsValidOnes(t *testing.T) {
	r := mustExit(t, exitUsage, "run", "--profile", "bogus")
	require.Contains(t, r.stderr, "--profile")
	for _, p := range tikv.ProfileNames() {
		require.Contains(t, r.stderr, p)
	}
}

// TestVariantsReachTheReplayLine: a sweep with variant switches prints a
// replay line that carries them, and replaying it reproduces the violation.
func TestVariantsReachTheReplayLine(t *testing.T) {
	r := mustExit(t, exitViolation, "run", "--collector", "pin", "--eager-gc", "--seeds", "50", "--json")
	var rep struct {
		Violation struct {
			Seed      uint64 `json:"seed"`
			Kind      string `json:"kind"`
			Step      int64  `json:"step"`
			TraceHash string `json:"trace_hash"`
			Replay    string `json:"replay"`
		} `json:"violation"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	require.Equal(t, "gc-deleted-pinned-file", rep.Violation.Kind)
	require.Contains(t, rep.Violation.Replay, "--eager-gc")
	args := strings.Fields(rep.Violation.Replay)[3:] // drop "go run ./cmd/simrun"
	rr := mustExit(t, exitViolation, append(args, "--json")...)
	var got struct {
		TraceHash  string `json:"trace_hash"`
		Violations []struct {
			Kind string `json:"kind"`
			Step int64  `json:"step"`
		} `json:"violations"`
	}
	require.NoError(t, json.Unmarshal([]byte(rr.stdout), &got))
	require.Equal(t, rep.Violation.TraceHash, got.TraceHash)
	require.Equal(t, rep.Violation.Kind, got.Violations[0].Kind)
	require.Equal(t, rep.Violation.Step, got.Violations[0].Step)
}

// TestKeepGoingCountsEveryViolatingSeed: with --keep-going the sweep runs
// every seed and counts seeds per kind; the first violation is the same as
// without it.
func TestKeepGoingCountsEveryViolatingSeed(t *testing.T) {
	var all, first struct {
		SeedsRun       uint64 `json:"seeds_run"`
		ViolatingSeeds uint64 `json:"violating_seeds"`
		Kinds          []struct {
			Kind      string `json:"kind"`
			Seeds     uint64 `json:"seeds"`
			FirstSeed uint64 `json:"first_seed"`
		} `json:"kinds"`
		Violation struct {
			Seed uint64 `json:"seed"`
		} `json:"violation"`
	}
	r := mustExit(t, exitViolation, "run", "--collector", "naive", "--seeds", "40", "--keep-going", "--json")
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &all))
	r = mustExit(t, exitViolation, "run", "--collector", "naive", "--seeds", "40", "--json")
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &first))
	require.EqualValues(t, 40, all.SeedsRun)
	require.Greater(t, all.ViolatingSeeds, uint64(1))
	require.Equal(t, first.Violation.Seed, all.Violation.Seed)
	require.NotEmpty(t, all.Kinds)
	require.Equal(t, "open-deleted-file", all.Kinds[0].Kind)
	require.Equal(t, all.Violation.Seed, all.Kinds[0].FirstSeed)
	require.LessOrEqual(t, all.Kinds[0].Seeds, all.ViolatingSeeds)
}
