package tikv

import (
	"fmt"
	"sort"

	"github.com/snapsim/snapsim/sim"
)

// Profile is a named, documented set of workload and fault rates.
type Profile struct {
	Name    string
	Summary string
	apply   func(c *Config)
}

// profiles is the registry of workload profiles (README "Profiles").
var profiles = []Profile{
	{"default", "steady writes over three column families, flushes and L0→L1 compactions, thread churn; no faults", func(c *Config) {}},
	{"heavy-compaction", "three times the writes, tiny memtables and level targets: compactions and GC run back to back", func(c *Config) {
		c.MaxPuts = 72
		c.MaxFlushThreshold = 3
		c.GCInterval = 100 * sim.Microsecond
		c.MaxSnapshots = 3
	}},
	{"split-merge", "the PD actor splits, merges and reconfigures regions (epoch version and conf_ver change under running snapshots)", func(c *Config) {
		c.KeySpace = 16
		c.MaxRegionOps = 8
		c.RegionOpInterval = 2 * sim.Millisecond
		c.MaxSnapshots = 3
	}},
	{"slow-disk", "2% of filesystem calls stall the calling thread for 10ms (longer than the 5ms lease) and 2% take a 2ms latency spike", func(c *Config) {
		c.LeaseTTL = 5 * sim.Millisecond
		c.FS.Faults.StallPermille, c.FS.Faults.StallMicros = 20, 10*sim.Millisecond
		c.FS.Faults.SpikePermille, c.FS.Faults.SpikeMicros = 20, 2*sim.Millisecond
	}},
	{"faults", "1% transient EIO on open/read/write, 2% of sent chunks corrupted, up to 2 node crashes with restart, a 256 KiB disk quota", func(c *Config) {
		c.FS.Faults.OpenEIOPermille, c.FS.Faults.ReadEIOPermille, c.FS.Faults.WriteEIOPermille = 10, 10, 10
		c.CorruptPermille = 20
		c.MaxCrashes, c.CrashInterval = 2, 5*sim.Millisecond
		c.FS.QuotaBytes = 256 << 10
	}},
	{"pipeline", "the pipeline's corners: 2 to 4 snapshot generators building at once, a 5 ms snapshot-GC timeout (shorter than a slow apply), a 1 ms timer tick (sleepers wake on the same instants: ties in virtual time), and up to 2 crashes, each aimed at a snapshot being built, sent or applied (drawn per seed)", func(c *Config) {
		c.Pipeline = true
		c.SnapGCTimeout = 5 * sim.Millisecond
		c.TimerTick = sim.Millisecond
		c.MaxCrashes, c.CrashInterval = 2, 5*sim.Millisecond
	}},
	{"swarm", "per seed, a random subset of the mechanisms above (split-merge, stalls, spikes, EIO, corruption, crashes, heavy writes, several generators, short snapshot-GC timeouts, a coarse timer tick, crashes aimed at a pipeline stage) with random rates", func(c *Config) {
		c.Swarm = true
	}},
}

// Profiles lists the workload profiles in their documented order.
func Profiles() []Profile { return profiles }

// ProfileNames lists the profile names, sorted.
func ProfileNames() []string {
	var out []string
	for _, p := range profiles {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out
}

// ProfileConfig returns the default configuration for collector under the
// named profile.
func ProfileConfig(collector, profile string) (Config, error) {
	c := DefaultConfig(collector)
	for _, p := range profiles {
		if p.Name == profile {
			c.Profile = p.Name
			p.apply(&c)
			return c, nil
		}
	}
	return Config{}, fmt.Errorf("unknown profile %q (want one of %v)", profile, ProfileNames())
}

// drawSwarm turns on a random subset of mechanisms with random rates, drawn
// from the run's Choice (so a seed fixes its swarm configuration, and a
// shrinker can switch mechanisms off: every draw of 0 means "off").
func drawSwarm(c *Config, ch sim.Choice) {
	if k := ch.Intn(3); k > 0 {
		c.KeySpace, c.MaxRegionOps, c.RegionOpInterval = 16, 4*k, 2*sim.Millisecond
	}
	if k := ch.Intn(4); k > 0 {
		c.FS.Faults.StallPermille, c.FS.Faults.StallMicros = 10*k, 10*sim.Millisecond
		c.LeaseTTL = 5 * sim.Millisecond
	}
	if k := ch.Intn(4); k > 0 {
		c.FS.Faults.SpikePermille, c.FS.Faults.SpikeMicros = 10*k, 2*sim.Millisecond
	}
	if k := ch.Intn(4); k > 0 {
		c.FS.Faults.OpenEIOPermille, c.FS.Faults.ReadEIOPermille, c.FS.Faults.WriteEIOPermille = 5*k, 5*k, 5*k
	}
	if k := ch.Intn(4); k > 0 {
		c.CorruptPermille = 10 * k
	}
	if k := ch.Intn(3); k > 0 {
		c.MaxCrashes, c.CrashInterval = k, 5*sim.Millisecond
	}
	if k := ch.Intn(3); k > 0 {
		c.MaxPuts, c.MaxFlushThreshold = 24*(k+1), 3
	}
	// The pipeline's corners (the pipeline profile draws them all).
	if k := ch.Intn(4); k > 0 {
		setGenerators(c, 1+k)
	}
	if k := ch.Intn(4); k > 0 {
		c.SnapGCTimeout = []sim.Micros{5 * sim.Millisecond, 10 * sim.Millisecond, 20 * sim.Millisecond}[k-1]
	}
	if k := ch.Intn(3); k > 0 {
		c.TimerTick = []sim.Micros{100 * sim.Microsecond, sim.Millisecond}[k-1]
	}
	if k := ch.Intn(4); k > 0 {
		c.CrashStage = CrashStage(k)
	}
}

// setGenerators gives the run n snapshot generators, at least n snapshot
// requests, and request delays spread over the write phase (0 to 16 ms):
// each generator takes the next request when it is free, so with several
// of them every request would otherwise start within the first
// millisecond, on an empty engine, and never race a compaction (naive on
// default with 3 generators: 0 violating seeds in 1000; spread, 396).
func setGenerators(c *Config, n int) {
	c.SnapGenerators = n
	c.MaxSnapshots = max(c.MaxSnapshots, n)
	c.SnapshotDelayUnit = max(c.SnapshotDelayUnit, 2*sim.Millisecond)
	c.SnapshotDelaySteps = max(c.SnapshotDelaySteps, 8)
}

// drawPipeline draws the pipeline profile's per-seed choices: how many
// generators (2 to 4) and which stage each crash aims at.
func drawPipeline(c *Config, ch sim.Choice) {
	setGenerators(c, 2+ch.Intn(3))
	c.CrashStage = CrashStage(1 + ch.Intn(3))
}
