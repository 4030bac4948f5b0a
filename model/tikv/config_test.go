package tikv

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
)

func TestDefaultConfigsValidate(t *testing.T) {
	for _, name := range CollectorNames() {
		c := DefaultConfig(name)
		require.NoError(t, c.Validate(), name)
		assert.Equal(t, name, c.Collector)
	}
	// Seven designs (docs/architecture.md), listed sorted.
	assert.Equal(t, []string{"checkpoint", "lease", "lease-retry", "naive", "pin", "retry", "scan"}, CollectorNames())
	infos := Collectors()
	require.Len(t, infos, 7)
	summary := map[string]string{}
	for i, info := range infos {
		assert.Equal(t, CollectorNames()[i], info.Name)
		assert.NotEmpty(t, info.Summary)
		summary[info.Name] = info.Summary
	}
	// Each summary says whether the design panics on an open error.
	for _, name := range []string{"naive", "lease"} {
		assert.Contains(t, summary[name], "panics", name)
		assert.NotContains(t, summary[name], "never panics", name)
	}
	for _, name := range []string{"retry", "pin", "lease-retry", "checkpoint", "scan"} {
		assert.Contains(t, summary[name], "never panics", name)
	}
}

func TestValidateRejectsUnknownCollector(t *testing.T) {
	for _, name := range []string{"", "Naive", "PIN", "lease_retry", "checkpoints", " retry"} {
		c := DefaultConfig("naive")
		c.Collector = name
		err := testSys.Validate(c)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), `unknown collector "`+name+`"`)
		assert.Contains(t, err.Error(), "[checkpoint lease lease-retry naive pin retry scan]", "the valid names are listed")
		_, err = Run(c, sim.NewPRNG(1), sim.Config{})
		assert.Error(t, err, "Run validates too")
	}
}

func TestValidateNamesEachBadField(t *testing.T) {
	cases := []struct {
		field string
		bad   []func(*Config)
		good  []func(*Config) // boundary values that must be accepted
	}{
		{"key_space", []func(*Config){func(c *Config) { c.KeySpace = 0 }, func(c *Config) { c.KeySpace = 1001 }},
			[]func(*Config){func(c *Config) { c.KeySpace = 1 }, func(c *Config) { c.KeySpace = 1000 }}},
		{"max_puts", []func(*Config){func(c *Config) { c.MaxPuts = 0 }, func(c *Config) { c.MaxPuts = 100001 }},
			[]func(*Config){func(c *Config) { c.MaxPuts = 1 }}},
		{"value_bytes", []func(*Config){func(c *Config) { c.ValueBytes = 0 }, func(c *Config) { c.ValueBytes = 65537 }},
			[]func(*Config){func(c *Config) { c.ValueBytes = 65536 }}},
		{"delete_permille", []func(*Config){func(c *Config) { c.DeletePermille = -1 }, func(c *Config) { c.DeletePermille = 1001 }},
			[]func(*Config){func(c *Config) { c.DeletePermille = 0 }, func(c *Config) { c.DeletePermille = 1000 }}},
		{"max_flush_threshold", []func(*Config){func(c *Config) { c.MaxFlushThreshold = 0 }}, nil},
		{"max_compact_trigger", []func(*Config){func(c *Config) { c.MaxCompactTrigger = -3 }}, nil},
		{"max_snapshots", []func(*Config){func(c *Config) { c.MaxSnapshots = 0 }, func(c *Config) { c.MaxSnapshots = 101 }},
			[]func(*Config){func(c *Config) { c.MaxSnapshots = 100 }}},
		{"snapshot_delay_steps", []func(*Config){func(c *Config) { c.SnapshotDelaySteps = -1 }},
			[]func(*Config){func(c *Config) { c.SnapshotDelaySteps = 0 }}},
		{"gc_interval_us", []func(*Config){func(c *Config) { c.GCInterval = 0 }}, nil},
		{"gc_grace_us", []func(*Config){func(c *Config) { c.GCGrace = -1 }}, nil},
		{"lease_ttl_us", []func(*Config){func(c *Config) { c.LeaseTTL = 0 }}, nil},
		{"max_attempts", []func(*Config){func(c *Config) { c.MaxAttempts = 0 }, func(c *Config) { c.MaxAttempts = 101 }},
			[]func(*Config){func(c *Config) { c.MaxAttempts = 1 }}},
		{"backoff_us", []func(*Config){func(c *Config) { c.Backoff = -1 }},
			[]func(*Config){func(c *Config) { c.Backoff = 0 }}},
		{"snap_io_bytes_per_sec", []func(*Config){func(c *Config) { c.SnapIOBytesPerSec = -1 }},
			[]func(*Config){func(c *Config) { c.SnapIOBytesPerSec = 0 }}},
	}
	for _, tc := range cases {
		for i, mut := range tc.bad {
			c := DefaultConfig("lease-retry")
			mut(&c)
			err := c.Validate()
			require.Error(t, err, "%s #%d", tc.field, i)
			assert.Contains(t, err.Error(), tc.field, "%s #%d", tc.field, i)
			assert.Contains(t, err.Error(), "config: ")
		}
		for i, mut := range tc.good {
			c := DefaultConfig("lease-retry")
			mut(&c)
			assert.NoError(t, c.Validate(), "%s good #%d", tc.field, i)
		}
	}
}

func TestDrawWorkloadFixedNumberOfDraws(t *testing.T) {
	for _, maxSnaps := range []int{1, 2, 5} {
		cfg := DefaultConfig("naive")
		cfg.MaxSnapshots = maxSnaps
		want := []int{cfg.MaxPuts, 1 << 30, cfg.MaxFlushThreshold, cfg.MaxCompactTrigger}
		for range maxSnaps {
			want = append(want, cfg.SnapshotDelaySteps+2)
		}
		sizes := map[int]bool{}
		for seed := uint64(1); seed <= 200; seed++ {
			rec := sim.NewRecorder(sim.NewPRNG(seed))
			w := drawWorkload(cfg, rec)
			var bounds []int
			for _, d := range rec.Draws() {
				bounds = append(bounds, d.N)
			}
			require.Equal(t, want, bounds, "seed %d: the draws never depend on earlier values", seed)

			require.GreaterOrEqual(t, w.Puts, 1)
			require.LessOrEqual(t, w.Puts, cfg.MaxPuts)
			require.GreaterOrEqual(t, w.FlushThreshold, 1)
			require.LessOrEqual(t, w.FlushThreshold, cfg.MaxFlushThreshold)
			require.Equal(t, 1, w.CompactTrigger, "MaxCompactTrigger is 1")
			require.GreaterOrEqual(t, w.Snapshots, 1, "at least one snapshot, always")
			require.LessOrEqual(t, w.Snapshots, maxSnaps)
			require.Len(t, w.SnapshotDelays, w.Snapshots)
			for _, d := range w.SnapshotDelays {
				require.Zero(t, d%cfg.SnapshotDelayUnit)
				require.GreaterOrEqual(t, d, sim.Micros(0))
				require.LessOrEqual(t, d, sim.Micros(cfg.SnapshotDelaySteps)*cfg.SnapshotDelayUnit)
			}
			sizes[w.Snapshots] = true
		}
		assert.Len(t, sizes, maxSnaps, "every snapshot count occurs")
	}
}

func TestDrawWorkloadExtremes(t *testing.T) {
	cfg := DefaultConfig("lease-retry")
	cfg.MaxSnapshots = 3

	// All zeros (what a shrinker converges to): the smallest workload, and
	// still one snapshot.
	zero := sim.NewLog(nil)
	w := drawWorkload(cfg, zero)
	assert.Equal(t, Workload{Puts: 1, Salt: 0, FlushThreshold: 1, CompactTrigger: 1, Snapshots: 1,
		SnapshotDelays: []sim.Micros{0}}, w)
	assert.Equal(t, 4+cfg.MaxSnapshots, zero.Consumed())

	// All maxima.
	var draws []sim.Draw
	for _, n := range []int{cfg.MaxPuts, 1 << 30, cfg.MaxFlushThreshold, cfg.MaxCompactTrigger, 6, 6, 6} {
		draws = append(draws, sim.Draw{N: n, Value: n - 1})
	}
	w = drawWorkload(cfg, sim.NewLog(draws))
	maxDelay := sim.Micros(cfg.SnapshotDelaySteps) * cfg.SnapshotDelayUnit
	assert.Equal(t, Workload{Puts: cfg.MaxPuts, Salt: 1<<30 - 1, FlushThreshold: cfg.MaxFlushThreshold, CompactTrigger: 1,
		Snapshots: 3, SnapshotDelays: []sim.Micros{maxDelay, maxDelay, maxDelay}}, w)

	// Dropping one snapshot (its draw lowered to 0) does not shift the others.
	draws[5].Value = 0
	draws[6].Value = 2
	w = drawWorkload(cfg, sim.NewLog(draws))
	assert.Equal(t, []sim.Micros{maxDelay, cfg.SnapshotDelayUnit}, w.SnapshotDelays)
}

// The workload is the first thing a run draws.
func TestRunDrawsWorkloadFirst(t *testing.T) {
	cfg := DefaultConfig("lease-retry")
	for seed := uint64(1); seed <= 20; seed++ {
		rec := sim.NewRecorder(sim.NewPRNG(seed))
		out, err := Run(cfg, rec, sim.Config{})
		require.NoError(t, err)
		alone := sim.NewRecorder(sim.NewPRNG(seed))
		w := drawWorkload(cfg, alone)
		assert.Equal(t, w, out.Workload)
		require.Greater(t, len(rec.Draws()), len(alone.Draws()))
		assert.Equal(t, alone.Draws(), rec.Draws()[:len(alone.Draws())])
	}
}

func TestWorkloadWrites(t *testing.T) {
	cfg := DefaultConfig("naive")
	w := Workload{Salt: 12345}
	keys := map[string]bool{}
	dels := 0
	for i := 0; i < 2000; i++ {
		k, d := w.write(i, cfg)
		k2, d2 := w.write(i, cfg)
		require.Equal(t, k, k2)
		require.Equal(t, d, d2)
		keys[k] = true
		if d {
			dels++
		}
	}
	assert.Len(t, keys, cfg.KeySpace, "every key of the key space is used")
	assert.InDelta(t, 200, dels, 60, "about DeletePermille/1000 of writes are deletions")
	cfg.DeletePermille = 0
	for i := 0; i < 200; i++ {
		_, d := w.write(i, cfg)
		require.False(t, d)
	}
	cfg.DeletePermille = 1000
	for i := 0; i < 200; i++ {
		_, d := w.write(i, cfg)
		require.True(t, d)
	}
	// Another salt, another sequence.
	other := Workload{Salt: 54321}
	same := 0
	for i := 0; i < 100; i++ {
		a, _ := w.write(i, DefaultConfig("naive"))
		b, _ := other.write(i, DefaultConfig("naive"))
		if a == b {
			same++
		}
	}
	assert.Less(t, same, 40)
	assert.Equal(t, uint64(0xe220a8397b1dcdaf), mix64(0), "SplitMix64 reference value")
}

func TestConfigGCMode(t *testing.T) {
	c := DefaultConfig("naive")
	c.GCMode = "lazy"
	assert.ErrorContains(t, c.Validate(), "config: gc_mode: unknown gc mode")
	c.GCMode = "delayed"
	assert.NoError(t, c.Validate())
}
