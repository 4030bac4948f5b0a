package tikv

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
)

func TestProfilesListed(t *testing.T) {
	var names []string
	for _, p := range Profiles() {
		names = append(names, p.Name)
		assert.NotEmpty(t, p.Summary, p.Name)
	}
	assert.Equal(t, []string{"default", "heavy-compaction", "split-merge", "slow-disk", "faults", "pipeline", "swarm"}, names, "the README's profile table, in documented order")
	assert.Equal(t, []string{"default", "faults", "heavy-compaction", "pipeline", "slow-disk", "split-merge", "swarm"}, ProfileNames())
}

func TestEveryProfileConfigValidates(t *testing.T) {
	for _, collector := range CollectorNames() {
		for _, p := range ProfileNames() {
			cfg, err := ProfileConfig(collector, p)
			require.NoError(t, err, "%s %s", collector, p)
			require.NoError(t, cfg.Validate(), "%s %s", collector, p)
			assert.Equal(t, p, cfg.Profile)
			assert.Equal(t, collector, cfg.Collector)
		}
	}
	def, err := ProfileConfig("pin", "default")
	require.NoError(t, err)
	want := DefaultConfig("pin")
	want.Profile = "default"
	assert.Equal(t, want, def, "the default profile is the default configuration")
}

// Each profile turns on what its summary says.
func TestProfileMechanisms(t *testing.T) {
	get := func(p string) Config {
		cfg, err := ProfileConfig("lease-retry", p)
		require.NoError(t, err)
		return cfg
	}
	def := DefaultConfig("lease-retry")
	hc := get("heavy-compaction")
	assert.Greater(t, hc.MaxPuts, def.MaxPuts)
	assert.Less(t, hc.MaxFlushThreshold, def.MaxFlushThreshold)
	assert.Less(t, hc.GCInterval, def.GCInterval)
	sm := get("split-merge")
	assert.Positive(t, sm.MaxRegionOps)
	assert.Positive(t, sm.RegionOpInterval)
	sd := get("slow-disk")
	assert.Positive(t, sd.FS.Faults.StallPermille)
	assert.Greater(t, sd.FS.Faults.StallMicros, sd.LeaseTTL, "stalls outlast the lease")
	assert.Positive(t, sd.FS.Faults.SpikePermille)
	f := get("faults")
	assert.Positive(t, f.FS.Faults.OpenEIOPermille)
	assert.Positive(t, f.FS.Faults.ReadEIOPermille)
	assert.Positive(t, f.FS.Faults.WriteEIOPermille)
	assert.Positive(t, f.CorruptPermille)
	assert.Positive(t, f.MaxCrashes)
	assert.Positive(t, f.FS.QuotaBytes)
	assert.True(t, get("swarm").Swarm)
	pl := get("pipeline")
	assert.True(t, pl.Pipeline)
	assert.Less(t, pl.SnapGCTimeout, def.SnapGCTimeout)
	assert.Positive(t, pl.TimerTick)
	assert.Positive(t, pl.MaxCrashes)
	for _, p := range ProfileNames() {
		assert.Equal(t, Variants{}, get(p).Variants, "%s: profiles never switch on an unsafe variant", p)
	}
}

func TestProfileConfigRejectsUnknown(t *testing.T) {
	for _, bad := range []string{"", "Default", "heavy_compaction", "slowdisk", "chaos"} {
		_, err := ProfileConfig("lease-retry", bad)
		require.Error(t, err, bad)
		assert.Equal(t, `unknown profile "`+bad+`" (want one of [default faults heavy-compaction pipeline slow-disk split-merge swarm])`, err.Error())
	}
	// A profile does not validate the collector: Run does.
	cfg, err := ProfileConfig("no-such-collector", "default")
	require.NoError(t, err)
	assert.Error(t, testSys.Validate(cfg))
}

// drawSwarm draws a fixed number of choices, every drawn configuration
// validates, all-zero draws switch every mechanism off, and over many
// seeds every mechanism is switched on somewhere.
func TestDrawSwarm(t *testing.T) {
	base := DefaultConfig("lease-retry")
	off := base
	drawSwarm(&off, sim.NewLog(nil))
	assert.Equal(t, base, off, "all zeros: nothing switched on")

	on := map[string]int{}
	for seed := uint64(1); seed <= 200; seed++ {
		cfg := base
		rec := sim.NewRecorder(sim.NewPRNG(seed))
		drawSwarm(&cfg, rec)
		require.Len(t, rec.Draws(), 11, "seed %d", seed)
		require.NoError(t, cfg.Validate(), "seed %d", seed)
		for name, yes := range map[string]bool{
			"region ops": cfg.MaxRegionOps > 0, "stalls": cfg.FS.Faults.StallPermille > 0,
			"spikes": cfg.FS.Faults.SpikePermille > 0, "eio": cfg.FS.Faults.OpenEIOPermille > 0,
			"corruption": cfg.CorruptPermille > 0, "crashes": cfg.MaxCrashes > 0, "heavy writes": cfg.MaxPuts > base.MaxPuts,
			"generators": cfg.SnapGenerators > 1, "short snap-gc timeout": cfg.SnapGCTimeout < base.SnapGCTimeout,
			"timer tick": cfg.TimerTick > 0, "aimed crashes": cfg.CrashStage != CrashAnytime,
		} {
			if yes {
				on[name]++
			}
		}
		assert.Equal(t, base.Variants, cfg.Variants)
	}
	assert.Len(t, on, 11, "every mechanism is drawn somewhere: %v", on)

	// Run reports the drawn configuration.
	sw, err := ProfileConfig("lease-retry", "swarm")
	require.NoError(t, err)
	for seed := uint64(1); seed <= 20; seed++ {
		out := mustRun(t, sw, seed)
		require.NoError(t, out.Config.Validate())
		cfg := sw
		drawSwarm(&cfg, sim.NewPRNG(seed))
		assert.Equal(t, cfg, out.Config, "seed %d", seed)
	}
}

// The pipeline profile draws 2 to 4 generators and an aimed crash stage
// per seed; its runs crash nodes in every stage, and each aimed crash hits
// the stage it was aimed at.
func TestPipelineProfile(t *testing.T) {
	cfg, err := ProfileConfig("lease-retry", "pipeline")
	require.NoError(t, err)
	gens := map[int]int{}
	aimed := map[string]int{}
	for seed := uint64(1); seed <= 200; seed++ {
		out, err := Run(cfg, sim.NewPRNG(seed), sim.Config{KeepTrace: true})
		require.NoError(t, err)
		require.Empty(t, out.Result.Observations, "seed %d", seed)
		gens[out.Config.SnapGenerators]++
		require.NotEqual(t, CrashAnytime, out.Config.CrashStage)
		require.GreaterOrEqual(t, out.Config.SnapshotDelayUnit, 2*sim.Millisecond, "requests spread over the write phase")
		for i, e := range out.Result.Events {
			if e.Op != "crash" || !strings.HasPrefix(e.Detail, "aimed at a snapshot ") {
				continue
			}
			aimed[out.Config.CrashStage.String()]++
			assert.Contains(t, e.Detail, out.Config.CrashStage.String(), "seed %d", seed)
			require.Less(t, i+1, len(out.Result.Events))
			assert.Equal(t, "crash", out.Result.Events[i+1].Op, "seed %d: the crash follows its aim in the same step", seed)
		}
	}
	assert.Len(t, gens, 3, "2, 3 and 4 generators: %v", gens)
	assert.Len(t, aimed, 3, "crashes aimed at every stage: %v", aimed)
	t.Logf("generators %v; aimed crashes %v", gens, aimed)
}
