package tikv

import (
	"fmt"

	"github.com/snapsim/snapsim/model/engine"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// Config is everything that selects a model run besides the Choice stream:
// the collector under validation, its variant switches, and the workload
// bounds. Per-run workload sizes are drawn from Choice within these bounds
// (see Workload), so shrinking a run also shrinks its workload.
type Config struct {
	// Profile names the workload profile the configuration came from
	// (informational; see Profiles).
	Profile string `json:"profile,omitempty"`
	// Swarm makes each run draw a random subset of mechanisms and rates
	// (the swarm profile).
	Swarm bool `json:"swarm,omitempty"`
	// Pipeline makes each run draw its number of snapshot generators and
	// the pipeline stage its crashes aim at (the pipeline profile).
	Pipeline bool `json:"pipeline,omitempty"`

	// Collector names the snapshot file-collection design (see Collectors).
	Collector string `json:"collector"`

	// KeySpace is the number of distinct keys the writer uses.
	KeySpace int `json:"key_space"`
	// MaxPuts bounds the writer's operations per run (drawn in 1..MaxPuts).
	MaxPuts int `json:"max_puts"`
	// ValueBytes is the size of each written value (padded), which sets how
	// many read and write calls (scheduling points) an SST file takes.
	ValueBytes int `json:"value_bytes"`
	// DeletePermille is the share of writes that are deletions.
	DeletePermille int `json:"delete_permille"`
	// MaxFlushThreshold bounds the memtable size that triggers a flush
	// (drawn in 1..MaxFlushThreshold records).
	MaxFlushThreshold int `json:"max_flush_threshold"`
	// MaxCompactTrigger bounds the L0 file count that triggers an L0→L1
	// compaction (drawn in 1..MaxCompactTrigger).
	MaxCompactTrigger int `json:"max_compact_trigger"`
	// MaxSnapshots bounds the snapshots generated per run (each of them is
	// drawn present or absent; at least one is generated).
	MaxSnapshots int `json:"max_snapshots"`
	// SnapshotDelaySteps bounds the pause before each snapshot, in units of
	// SnapshotDelayUnit (drawn in 0..SnapshotDelaySteps).
	SnapshotDelaySteps int        `json:"snapshot_delay_steps"`
	SnapshotDelayUnit  sim.Micros `json:"snapshot_delay_unit_us"`

	// GCMode is when the engine deletes obsolete SST files: "prompt" (the
	// default, also ""), right after the version change that made them
	// obsolete, as Pebble does; or "delayed", the model's original GC,
	// which waits GCInterval before every pass (see GCMode in engine.go).
	GCMode string `json:"gc_mode,omitempty"`
	// GCInterval is how long GC waits between deletion passes with
	// GCMode "delayed"; with "prompt", how often GC re-checks files that a
	// lease holds.
	GCInterval sim.Micros `json:"gc_interval_us"`
	// GCGrace is how long after a lease's expiry GC still keeps its files.
	// lease-retry with a non-atomic check needs a grace longer than any
	// stall; zero is the unsafe setting.
	GCGrace sim.Micros `json:"gc_grace_us"`

	// LeaseTTL is the lifetime of a lease (lease-retry).
	LeaseTTL sim.Micros `json:"lease_ttl_us"`
	// NonAtomicCheck makes lease-retry check its lease and epoch in one step
	// and open the file in the next, so a stall can fall in between. The
	// default (false) runs check and open in the same step.
	NonAtomicCheck bool `json:"non_atomic_check,omitempty"`
	// MaxAttempts bounds the build attempts of retrying collectors (TiKV's
	// MAX_SNAP_TRY_CNT is 5).
	MaxAttempts int `json:"max_attempts"`
	// Backoff is the sleep after a failed attempt, multiplied by the
	// attempt number.
	Backoff sim.Micros `json:"backoff_us"`

	// SnapIOBytesPerSec is the snapshot I/O rate limit (0: unlimited).
	SnapIOBytesPerSec int64 `json:"snap_io_bytes_per_sec"`

	// KeysPerRegionSplit: the PD actor splits a region only if it holds at
	// least two keys of the key space; RegionOpInterval is the mean pause
	// between PD operations (split, merge, conf change) and MaxRegionOps
	// bounds them per run (0: no PD actor).
	RegionOpInterval sim.Micros `json:"region_op_interval_us"`
	MaxRegionOps     int        `json:"max_region_ops"`
	// InitialRegions pre-splits the key space evenly into this many
	// regions at set-up (0 or 1: one region covering everything, the
	// default and every profile). It must not exceed KeySpace, so that
	// each region holds at least KeySpace/InitialRegions keys; a swarm
	// draw that shrinks the key space clamps it.
	InitialRegions int `json:"initial_regions,omitempty"`

	// SnapGenerators is the number of snapshot generator threads serving
	// the requests (TiKV builds snapshots for several peers at once).
	SnapGenerators int `json:"snap_generators"`

	// SnapGCInterval is the snapshot GC period; SnapGCTimeout the age after
	// which an unapplied, unregistered snapshot is stale.
	SnapGCInterval sim.Micros `json:"snap_gc_interval_us"`
	SnapGCTimeout  sim.Micros `json:"snap_gc_timeout_us"`
	// LivenessBound is how long after interference stops every requested
	// snapshot must reach a final state.
	LivenessBound sim.Micros `json:"liveness_bound_us"`

	// Variant switches (all false is the correct system).
	Variants Variants `json:"variants"`
	// Weaken selects test-only weakened protections, the negative
	// controls of the whole-run properties (Weakenings; never set by the
	// CLI, a profile or a corpus file).
	Weaken Weakenings `json:"-"`

	// CorruptPermille is the rate at which a chunk sent over the network is
	// corrupted (one byte flipped); the receiver's checksum check catches
	// it unless Variants.SkipApplyVerify.
	CorruptPermille int `json:"corrupt_permille"`
	// MaxCrashes bounds node crashes per run; CrashInterval is the mean
	// pause before each (0 crashes: no crasher actor).
	MaxCrashes    int        `json:"max_crashes"`
	CrashInterval sim.Micros `json:"crash_interval_us"`
	// CrashStage aims the crashes at a stage of the snapshot pipeline
	// (CrashAnytime, the zero value: after a drawn pause, whatever runs):
	// after its pause the crasher waits until a snapshot is in the stage
	// and crashes the node it runs on (see CrashStage).
	CrashStage CrashStage `json:"crash_stage,omitempty"`
	// TimerTick is the granularity of every sleep's wake-up
	// (sim.Scheduler.SetTimerTick; 0: exact): with a coarse tick, GC
	// polls, lease expiries, rate-limiter waits, backoffs and stalls end
	// on the same instants, and their order is the schedule's alone.
	TimerTick sim.Micros `json:"timer_tick_us,omitempty"`
	// ThreadChurnInterval is the mean pause between worker-thread exits
	// (0: threads never exit).
	ThreadChurnInterval sim.Micros `json:"thread_churn_interval_us"`

	// FS configures the filesystem: costs, faults, quota.
	FS vfsmem.Options `json:"fs"`

	// Workload, when set, is the run's workload instead of one drawn from
	// Choice within the bounds above (drawWorkload draws nothing then): a
	// scope of the exhaustive explorer fixes its workload so that every
	// execution explores schedules and faults, not workload sizes.
	Workload *Workload `json:"workload,omitempty"`
	// EndAfter ends the run early: "workload" when the workload (writer,
	// generators, PD) is done, without the liveness and quiescence phases
	// (so no liveness or file-leak check); "liveness" after the liveness
	// phase, without quiescence (no file-leak check). "" runs all three
	// phases. A scope ends after the part of the run it checks.
	EndAfter string `json:"end_after,omitempty"`
	// InstantOps makes every operation take no virtual time (the
	// filesystem's costs and the writer's put cost are zero): time passes
	// only while actors sleep (timers, the rate limiter, stalls, backoffs,
	// latency spikes). Under an exhaustive exploration it is what lets
	// steps commute: a step that charges time changes the wake-up time of
	// every actor that goes to sleep after it, so it depends on every
	// sleeping step.
	InstantOps bool `json:"instant_ops,omitempty"`
}

// EndAfter values.
const (
	EndAfterWorkload = "workload"
	EndAfterLiveness = "liveness"
)

// Variants are the switches that select deliberately unsafe or
// alternative mechanisms. Each names the real bug it reproduces.
type Variants struct {
	// EagerGC deletes SST files as soon as they leave the current version,
	// ignoring version references and leases.
	EagerGC bool `json:"eager_gc,omitempty"`
	// UnsafeSnapGC deletes stale-looking snapshot files even while they are
	// registered as generating, sending, receiving or applying (TiKV #11746).
	UnsafeSnapGC bool `json:"unsafe_snap_gc,omitempty"`
	// SkipApplyVerify ingests received snapshots without checking their
	// checksums against the meta file.
	SkipApplyVerify bool `json:"skip_apply_verify,omitempty"`
	// NonExclusiveBuild lets two builds of the same snapshot key run at
	// once (TiKV #2923).
	NonExclusiveBuild bool `json:"non_exclusive_build,omitempty"`
	// LimiterUnwrap makes the snapshot I/O limiter unwrap its procfs stats
	// read (TiKV #18030) instead of degrading gracefully (PR #18006).
	LimiterUnwrap bool `json:"limiter_unwrap,omitempty"`
	// NoSnapGC disables snapshot GC: applied snapshots' files stay forever.
	NoSnapGC bool `json:"no_snap_gc,omitempty"`
}

// DefaultConfig returns the default workload for collector.
func DefaultConfig(collector string) Config {
	return Config{
		Collector:           collector,
		KeySpace:            8,
		MaxPuts:             24,
		ValueBytes:          100,
		DeletePermille:      100,
		MaxFlushThreshold:   6,
		MaxCompactTrigger:   1,
		MaxSnapshots:        2,
		SnapshotDelaySteps:  4,
		SnapshotDelayUnit:   200 * sim.Microsecond,
		GCInterval:          200 * sim.Microsecond,
		GCGrace:             0,
		LeaseTTL:            20 * sim.Millisecond,
		MaxAttempts:         5,
		Backoff:             500 * sim.Microsecond,
		SnapIOBytesPerSec:   64 << 10,
		ThreadChurnInterval: 20 * sim.Millisecond,
		SnapGenerators:      1,
		SnapGCInterval:      5 * sim.Millisecond,
		SnapGCTimeout:       200 * sim.Millisecond,
		LivenessBound:       2 * sim.Second,
		FS:                  vfsmem.DefaultOptions(),
	}
}

// Validate reports the first setting that cannot work, naming it. The
// collector is the System's to check (System.Validate): the designs are
// the ones it was given.
func (c Config) Validate() error {
	checks := []struct {
		name string
		ok   bool
	}{
		{"key_space must be in 1..1000", c.KeySpace >= 1 && c.KeySpace <= 1000},
		{"max_puts must be in 1..100000", c.MaxPuts >= 1 && c.MaxPuts <= 100000},
		{"value_bytes must be in 1..65536", c.ValueBytes >= 1 && c.ValueBytes <= 65536},
		{"delete_permille must be in 0..1000", c.DeletePermille >= 0 && c.DeletePermille <= 1000},
		{"max_flush_threshold must be >= 1", c.MaxFlushThreshold >= 1},
		{"max_compact_trigger must be >= 1", c.MaxCompactTrigger >= 1},
		{"max_snapshots must be in 1..100", c.MaxSnapshots >= 1 && c.MaxSnapshots <= 100},
		{"snapshot_delay_steps must be >= 0", c.SnapshotDelaySteps >= 0},
		{"gc_interval_us must be > 0", c.GCInterval > 0},
		{"gc_grace_us must be >= 0", c.GCGrace >= 0},
		{"lease_ttl_us must be > 0", c.LeaseTTL > 0},
		{"max_attempts must be in 1..100", c.MaxAttempts >= 1 && c.MaxAttempts <= 100},
		{"backoff_us must be >= 0", c.Backoff >= 0},
		{"snap_io_bytes_per_sec must be >= 0", c.SnapIOBytesPerSec >= 0},
		{"region_op_interval_us must be >= 0", c.RegionOpInterval >= 0},
		{"max_region_ops must be in 0..1000", c.MaxRegionOps >= 0 && c.MaxRegionOps <= 1000},
		{"initial_regions must be in 0..key_space", c.InitialRegions >= 0 && c.InitialRegions <= c.KeySpace},
		{"snap_generators must be in 1..8", c.SnapGenerators >= 1 && c.SnapGenerators <= 8},
		{"snap_gc_interval_us must be > 0", c.SnapGCInterval > 0},
		{"snap_gc_timeout_us must be > 0", c.SnapGCTimeout > 0},
		{"liveness_bound_us must be > 0", c.LivenessBound > 0},
		{"corrupt_permille must be in 0..1000", c.CorruptPermille >= 0 && c.CorruptPermille <= 1000},
		{"max_crashes must be in 0..100", c.MaxCrashes >= 0 && c.MaxCrashes <= 100},
		{"crash_interval_us must be >= 0", c.CrashInterval >= 0},
		{"crash_stage must be in 0..3", c.CrashStage >= CrashAnytime && c.CrashStage <= CrashApplying},
		{"timer_tick_us must be in 0..1000000", c.TimerTick >= 0 && c.TimerTick <= sim.Second},
		{"thread_churn_interval_us must be >= 0", c.ThreadChurnInterval >= 0},
		{"snapshot_delay_unit_us must be >= 0", c.SnapshotDelayUnit >= 0},
	}
	for _, ch := range checks {
		if !ch.ok {
			return fmt.Errorf("config: %s", ch.name)
		}
	}
	switch c.EndAfter {
	case "", EndAfterWorkload, EndAfterLiveness:
	default:
		return fmt.Errorf("config: end_after %q must be %q, %q or empty", c.EndAfter, EndAfterWorkload, EndAfterLiveness)
	}
	if w := c.Workload; w != nil {
		switch {
		case w.Puts < 0 || w.Puts > c.MaxPuts:
			return fmt.Errorf("config: workload puts must be in 0..max_puts (%d)", c.MaxPuts)
		case w.FlushThreshold < 1 || w.CompactTrigger < 1:
			return fmt.Errorf("config: workload flush_threshold and compact_trigger must be >= 1")
		case len(w.SnapshotDelays) < 1 || len(w.SnapshotDelays) > 100 || w.Snapshots != len(w.SnapshotDelays):
			return fmt.Errorf("config: workload needs 1..100 snapshot delays and snapshots equal to their number")
		}
		for _, d := range w.SnapshotDelays {
			if d < 0 {
				return fmt.Errorf("config: workload snapshot delays must be >= 0")
			}
		}
	}
	if _, err := engine.ParseGCMode(c.GCMode); err != nil {
		return fmt.Errorf("config: gc_mode: %w", err)
	}
	return nil
}

// Workload is the per-run part of the configuration, drawn from Choice at
// the start of the run within Config's bounds.
type Workload struct {
	Puts int `json:"puts"`
	// Salt picks which keys the writes touch and which are deletions (see
	// write); it is one draw, so the writes consume no choices of their
	// own and shrinking the number of puts does not shift the schedule.
	Salt           uint64       `json:"salt"`
	FlushThreshold int          `json:"flush_threshold"`
	CompactTrigger int          `json:"compact_trigger"`
	Snapshots      int          `json:"snapshots"`
	SnapshotDelays []sim.Micros `json:"snapshot_delays_us"`
}

// drawWorkload draws the workload. It is the first thing a run draws, so a
// shrinker lowers workload sizes before it touches the schedule.
func drawWorkload(c Config, ch sim.Choice) Workload {
	if c.Workload != nil {
		w := *c.Workload
		w.SnapshotDelays = append([]sim.Micros(nil), w.SnapshotDelays...)
		return w
	}
	w := Workload{
		Puts:           1 + ch.Intn(c.MaxPuts),
		Salt:           uint64(ch.Intn(1 << 30)),
		FlushThreshold: 1 + ch.Intn(c.MaxFlushThreshold),
		CompactTrigger: 1 + ch.Intn(c.MaxCompactTrigger),
	}
	// One draw per possible snapshot: 0 means "no such snapshot", k means a
	// snapshot after a delay of k-1 units. The number of draws never depends
	// on earlier draws, and a shrinker can drop any one snapshot by lowering
	// its draw to 0 without shifting the others.
	for i := 0; i < c.MaxSnapshots; i++ {
		if k := ch.Intn(c.SnapshotDelaySteps + 2); k > 0 {
			w.SnapshotDelays = append(w.SnapshotDelays, sim.Micros(k-1)*c.SnapshotDelayUnit)
		}
	}
	if len(w.SnapshotDelays) == 0 {
		w.SnapshotDelays = []sim.Micros{0}
	}
	w.Snapshots = len(w.SnapshotDelays)
	return w
}

// write returns the key of the i-th write and whether it is a deletion,
// derived from the salt by a SplitMix64 finaliser. Salt 0 is the simplest
// workload, the one a shrinker lowering the salt reaches: every write puts
// k000 into the default column family, nothing is deleted (so two writes
// already make overlapping flushes). A PRNG draws it once in 2^30 runs.
func (w *Workload) write(i int, c Config) (string, bool) {
	if w.Salt == 0 {
		return KeyName(0), false
	}
	h := mix64(w.Salt ^ uint64(i)*0x9e3779b97f4a7c15)
	key := KeyName(int(h % uint64(c.KeySpace)))
	del := int((h>>32)%1000) < c.DeletePermille
	return key, del
}

// op returns the column family, key and deletion flag of the i-th write:
// half go to default (values), four in ten to write (commit records), one
// in ten to lock, as a transaction's prewrite and commit would spread them.
func (w *Workload) op(i int, c Config) (CF, string, bool) {
	key, del := w.write(i, c)
	if w.Salt == 0 {
		return CFDefault, key, del
	}
	h := mix64(w.Salt ^ 0x5bd1e995 ^ uint64(i)*0x9e3779b97f4a7c15)
	switch h % 10 {
	case 5, 6, 7, 8:
		return CFWrite, key, del
	case 9:
		return CFLock, key, del
	}
	return CFDefault, key, del
}

// mix64 is the SplitMix64 output function.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
