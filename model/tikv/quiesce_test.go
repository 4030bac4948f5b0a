package tikv

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
)

// runTraced runs cfg from a PRNG seed, keeping the trace.
func runTraced(t *testing.T, cfg Config, seed uint64) Outcome {
	t.Helper()
	out, err := Run(cfg, sim.NewPRNG(seed), sim.Config{KeepTrace: true})
	require.NoError(t, err)
	return out
}

// eventsWith returns the events of out whose op is op and whose detail
// contains sub.
func eventsWith(out Outcome, op, sub string) []sim.Event {
	var got []sim.Event
	for _, e := range out.Result.Events {
		if e.Op == op && strings.Contains(e.Detail, sub) {
			got = append(got, e)
		}
	}
	return got
}

// TestLeakCheckWaitsForRestart: the quiescence phase's leak check runs once
// both nodes are up and their engines idle, not a fixed time after
// interference stopped. Seed 216 of lease-retry on slow-disk with up to 2
// crashes and a 5 ms snapshot-GC timeout (seeds/leak-restart.seed): n1
// restarts after a crash, n2 crashes and restarts after interference
// stopped, and n1's flush of the replayed raft log stalls 10 ms and ends
// after interference stopped. The leak check used to run during that
// flush and report its three outputs as leaked (as lease-retry on swarm
// with --snap-gc-timeout-us 5000 did in 33 of 2000 seeds). It must wait,
// say so in the trace, and find nothing.
func TestLeakCheckWaitsForRestart(t *testing.T) {
	cfg, err := ProfileConfig("lease-retry", "slow-disk")
	require.NoError(t, err)
	cfg.MaxCrashes, cfg.CrashInterval, cfg.SnapGCTimeout = 2, 5*sim.Millisecond, 5*sim.Millisecond
	out := runTraced(t, cfg, 216)
	require.Empty(t, out.Result.Observations, "the settled cluster leaks nothing")
	quiet := eventsWith(out, "phase", "interference stopped")
	require.Len(t, quiet, 1)
	restarts := eventsWith(out, "restart", "")
	require.Len(t, restarts, 2, "seed drift: seed 216 no longer restarts both nodes (find a new seed of this configuration that leaks with settle disabled)")
	require.Greater(t, restarts[1].Step, quiet[0].Step, "n2 restarts after interference stopped")
	var late []sim.Event
	for _, e := range eventsWith(out, "flush", "") {
		if e.Step > quiet[0].Step {
			late = append(late, e)
		}
	}
	require.NotEmpty(t, late, "seed drift: n1's flush no longer ends after interference stopped")
	waited := eventsWith(out, "phase", "quiescence: waited")
	require.Len(t, waited, 1, "the coordinator records its wait for the cluster to settle")
	require.Contains(t, waited[0].Detail, "(settled)")
	require.Greater(t, waited[0].Step, late[0].Step, "the leak check waits for the flush")
}

// TestCheckpointLinkAfterCrashIsRemoved: a checkpoint link left by a build
// the crash killed is removed by the restart's snapshot-dir recovery. Seed
// 844 of checkpoint on faults with 4 generators
// (seeds/checkpoint-crash-link.seed): snap-gen-3 links /db/000001.sst into
// /snap, another build's directory sync makes the link durable, and n1
// crashes while snap-gen-3 reads through it; the link survives the crash,
// and nothing removed it (as checkpoint on swarm with --snap-generators 4
// did in 3 of 5000 seeds).
func TestCheckpointLinkAfterCrashIsRemoved(t *testing.T) {
	cfg, err := ProfileConfig("checkpoint", "faults")
	require.NoError(t, err)
	cfg.SnapGenerators = 4
	out := runTraced(t, cfg, 844)
	require.Empty(t, out.Result.Observations)
	link := "/snap/ckpt_snap-gen-3_2_1_000001.sst"
	require.NotEmpty(t, eventsWith(out, "link", link), "seed drift: seed 844 no longer links %s (find a new seed of this configuration that leaks with the cleanup disabled)", link)
	require.Empty(t, eventsWith(out, "unlink", link), "the crash comes before the build removes its link")
	cleanup := eventsWith(out, "snap-cleanup", link)
	require.Len(t, cleanup, 1, "the restart removes the link")
	require.Equal(t, "ok", cleanup[0].Result)
}
