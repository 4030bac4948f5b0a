package tikv

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// Name is the system's name (--system tikv, "system tikv"), the default
// of the CLI and of corpus files.
const Name = "tikv"

// DefaultDesign is the design a configuration uses when none is named:
// the design under validation.
const DefaultDesign = "lease-retry"

// VariantSwitches are the system's variant switches, in the order replay lines
// print them (model.Spec.Variants).
var VariantSwitches = []model.Info{
	{Name: "non-atomic-check", Summary: "lease-retry: check the lease in one step and open in the next (a stall can fall in between)"},
	{Name: "eager-gc", Summary: "unsafe GC: delete SSTs as soon as they leave the current version, ignoring references and leases"},
	{Name: "unsafe-snap-gc", Summary: "unsafe snapshot GC: ignore the registry of snapshots in use (TiKV #11746)"},
	{Name: "skip-apply-verify", Summary: "the learner ingests snapshots without checking their checksums"},
	{Name: "non-exclusive-build", Summary: "allow two builds of one snapshot key at once (TiKV #2923)"},
	{Name: "limiter-unwrap", Summary: "the snapshot I/O limiter unwraps its procfs stats read (TiKV #18030)"},
	{Name: "no-snap-gc", Summary: "disable snapshot GC"},
}

// SettingFields are the numeric fields "set FIELD VALUE" and --set accept, in
// documented order (model.Spec.Settings).
var SettingFields = []model.Info{
	{Name: "lease_ttl_us", Summary: "lifetime of a lease (lease, lease-retry), virtual microseconds"},
	{Name: "gc_grace_us", Summary: "GC keeps leased files this long past the lease's expiry"},
	{Name: "gc_interval_us", Summary: "GC's pause between passes (gc_mode delayed), and how often it re-checks leased files"},
	{Name: "snap_gc_timeout_us", Summary: "snapshot GC treats unapplied snapshots older than this as stale"},
	{Name: "snap_gc_interval_us", Summary: "snapshot GC's period"},
	{Name: "snap_generators", Summary: "concurrent snapshot generators, 1..8 (snap-gen, snap-gen-2, ...)"},
	{Name: "max_puts", Summary: "the writer's operations per run are drawn in 1..max_puts"},
	{Name: "max_snapshots", Summary: "snapshots requested per run (each drawn present or absent)"},
	{Name: "key_space", Summary: "distinct keys the writer uses"},
	{Name: "max_flush_threshold", Summary: "the memtable size that triggers a flush is drawn in 1..this"},
	{Name: "max_compact_trigger", Summary: "the L0 file count that triggers a compaction is drawn in 1..this"},
	{Name: "snapshot_delay_steps", Summary: "the pause before each snapshot is drawn in 0..this units"},
	{Name: "thread_churn_interval_us", Summary: "mean interval between worker-thread exits (0: threads never exit)"},
	{Name: "max_crashes", Summary: "node crashes per run (0: no crasher actor)"},
	{Name: "crash_interval_us", Summary: "mean pause before each crash"},
	{Name: "max_region_ops", Summary: "PD's region operations per run (0: no pd actor)"},
	{Name: "region_op_interval_us", Summary: "mean pause between PD operations"},
	{Name: "snap_io_bytes_per_sec", Summary: "the snapshot I/O rate limit (0: unlimited)"},
	{Name: "stall_permille", Summary: "share of filesystem calls that stall the calling thread"},
	{Name: "stall_us", Summary: "how long a stall lasts"},
}

// SystemName implements model.Config.
func (c Config) SystemName() string { return Name }

// DesignName implements model.Config: the collector.
func (c Config) DesignName() string { return c.Collector }

// ProfileName implements model.Config ("default" for a configuration not
// made from a profile).
func (c Config) ProfileName() string {
	if c.Profile == "" {
		return "default"
	}
	return c.Profile
}

// WithVariant implements model.Config.
func (c Config) WithVariant(name string) (model.Config, error) {
	v := &c.Variants
	switch name {
	case "non-atomic-check":
		c.NonAtomicCheck = true
	case "eager-gc":
		v.EagerGC = true
	case "unsafe-snap-gc":
		v.UnsafeSnapGC = true
	case "skip-apply-verify":
		v.SkipApplyVerify = true
	case "non-exclusive-build":
		v.NonExclusiveBuild = true
	case "limiter-unwrap":
		v.LimiterUnwrap = true
	case "no-snap-gc":
		v.NoSnapGC = true
	default:
		return c, fmt.Errorf("unknown variant %q (want one of %s)", name, strings.Join(model.Names(VariantSwitches), ", "))
	}
	return c, nil
}

// VariantNames returns the variant switches that are on, in the order of
// Variants.
func (c Config) VariantNames() []string {
	on := map[string]bool{
		"non-atomic-check": c.NonAtomicCheck, "eager-gc": c.Variants.EagerGC, "unsafe-snap-gc": c.Variants.UnsafeSnapGC,
		"skip-apply-verify": c.Variants.SkipApplyVerify, "non-exclusive-build": c.Variants.NonExclusiveBuild,
		"limiter-unwrap": c.Variants.LimiterUnwrap, "no-snap-gc": c.Variants.NoSnapGC,
	}
	var out []string
	for _, v := range VariantSwitches {
		if on[v.Name] {
			out = append(out, v.Name)
		}
	}
	return out
}

// WithSetting implements model.Config.
func (c Config) WithSetting(name string, v int64) (model.Config, error) {
	us := sim.Micros(v)
	switch name {
	case "lease_ttl_us":
		c.LeaseTTL = us
	case "gc_grace_us":
		c.GCGrace = us
	case "gc_interval_us":
		c.GCInterval = us
	case "snap_gc_timeout_us":
		c.SnapGCTimeout = us
	case "snap_gc_interval_us":
		c.SnapGCInterval = us
	case "snap_generators":
		c.SnapGenerators = int(v)
	case "max_puts":
		c.MaxPuts = int(v)
	case "max_snapshots":
		c.MaxSnapshots = int(v)
	case "key_space":
		c.KeySpace = int(v)
	case "max_flush_threshold":
		c.MaxFlushThreshold = int(v)
	case "max_compact_trigger":
		c.MaxCompactTrigger = int(v)
	case "snapshot_delay_steps":
		c.SnapshotDelaySteps = int(v)
	case "thread_churn_interval_us":
		c.ThreadChurnInterval = us
	case "max_crashes":
		c.MaxCrashes = int(v)
	case "crash_interval_us":
		c.CrashInterval = us
	case "max_region_ops":
		c.MaxRegionOps = int(v)
	case "region_op_interval_us":
		c.RegionOpInterval = us
	case "snap_io_bytes_per_sec":
		c.SnapIOBytesPerSec = v
	case "stall_permille":
		c.FS.Faults.StallPermille = int(v)
	case "stall_us":
		c.FS.Faults.StallMicros = us
	default:
		return c, fmt.Errorf("unknown field %q (want one of %s)", name, strings.Join(model.Names(SettingFields), ", "))
	}
	return c, nil
}

// workloadForm is the documented form of a scope's workload line.
const workloadForm = "workload puts N flush-threshold N compact-trigger N snapshots US[,US...]"

// Options implements model.Optioner: the scope lines of this system.
func (c Config) Options() []model.Info {
	return []model.Info{
		{Name: "workload", Summary: workloadForm + ": a fixed workload instead of drawn sizes"},
		{Name: "end-after", Summary: "end-after workload|liveness: end the run early (no liveness or leak checks)"},
		{Name: "instant-ops", Summary: "instant-ops: operations take no virtual time (only sleeps do)"},
	}
}

// WithOption implements model.Optioner: workload, end-after and
// instant-ops lines of a scope file.
func (c Config) WithOption(w []string) (model.Config, error) {
	switch w[0] {
	case "workload":
		wl, err := parseWorkload(w[1:])
		if err != nil {
			return c, err
		}
		c.Workload = wl
		// A fixed workload must fit the bounds it would be drawn in.
		c.MaxPuts = max(c.MaxPuts, wl.Puts)
	case "end-after":
		if len(w) != 2 || (w[1] != EndAfterWorkload && w[1] != EndAfterLiveness) {
			return c, fmt.Errorf("want %q", "end-after workload|liveness")
		}
		c.EndAfter = w[1]
	case "instant-ops":
		if len(w) != 1 {
			return c, fmt.Errorf("want %q", "instant-ops")
		}
		c.InstantOps = true
	default:
		return c, fmt.Errorf("%w %q", model.ErrUnknownOption, w[0])
	}
	return c, nil
}

// parseWorkload reads the words after "workload": each of the four keys
// once, in any order; snapshots lists each snapshot's delay in virtual
// microseconds.
func parseWorkload(w []string) (*Workload, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf(format+"; want %q", append(args, workloadForm)...)
	}
	if len(w) != 8 {
		return nil, bad("%d words after workload", len(w))
	}
	wl := &Workload{}
	got := map[string]bool{}
	for i := 0; i < len(w); i += 2 {
		key, val := w[i], w[i+1]
		if got[key] {
			return nil, bad("%s given twice", model.Clip(key))
		}
		got[key] = true
		if key == "snapshots" {
			for _, d := range strings.Split(val, ",") {
				v, ok := model.ParseUint(strings.TrimSuffix(d, "us"))
				if !ok || v > 1e12 {
					return nil, bad("bad snapshot delay %q", model.Clip(d))
				}
				wl.SnapshotDelays = append(wl.SnapshotDelays, sim.Micros(v))
			}
			wl.Snapshots = len(wl.SnapshotDelays)
			continue
		}
		v, ok := model.ParseUint(val)
		if !ok || v > 100000 {
			return nil, bad("bad value %q for %s", model.Clip(val), model.Clip(key))
		}
		switch key {
		case "puts":
			wl.Puts = int(v)
		case "flush-threshold":
			wl.FlushThreshold = int(v)
		case "compact-trigger":
			wl.CompactTrigger = int(v)
		default:
			return nil, bad("unknown key %q", model.Clip(key))
		}
	}
	return wl, nil
}

// ScopeBase implements model.ScopeBase: a scope runs without thread churn
// unless it sets it (churn is a mechanism a scope stages, not background
// noise).
func (c Config) ScopeBase() model.Config {
	c.ThreadChurnInterval = 0
	return c
}

// DescribeOptions renders the scope lines of the configuration for
// listings (simrun scopes -v).
func (c Config) DescribeOptions() []string {
	var parts []string
	if w := c.Workload; w != nil {
		var ds []string
		for _, d := range w.SnapshotDelays {
			ds = append(ds, d.String())
		}
		parts = append(parts, fmt.Sprintf("puts %d, flush at %d, compact at %d, snapshots at %s", w.Puts, w.FlushThreshold, w.CompactTrigger, strings.Join(ds, ",")))
	}
	if c.EndAfter != "" {
		parts = append(parts, "ends after the "+c.EndAfter)
	}
	if c.InstantOps {
		parts = append(parts, "instant operations")
	}
	return parts
}

// Kinds implements model.KindLister: every kind but those of the phases
// the configuration leaves out (liveness and file-leak after "end-after
// workload", file-leak after "end-after liveness") and nondeterminism,
// which no single run shows.
func (c Config) Kinds() []sim.Kind {
	var out []sim.Kind
	for _, k := range sim.Kinds {
		switch {
		case k == sim.KindNondeterminism:
		case k == sim.KindFileLeak && c.EndAfter != "":
		case k == sim.KindLiveness && c.EndAfter == EndAfterWorkload:
		default:
			out = append(out, k)
		}
	}
	return out
}

var (
	_ model.Config     = Config{}
	_ model.Optioner   = Config{}
	_ model.KindLister = Config{}
	_ model.System     = (*System)(nil)
)

// Spec implements model.System.
func (sys *System) Spec() model.Spec {
	spec := model.Spec{
		Name:          Name,
		Summary:       "a two-node TiKV-like cluster: writes, flushes, compactions and GC on the leader's LSM engine while snapshot generation collects a region's files, sends and applies them; regions split and merge, threads churn, nodes crash",
		DefaultDesign: DefaultDesign, DefaultProfile: "default",
		Variants: VariantSwitches, Settings: SettingFields, Commands: commands, Groups: nodeNames, GroupWord: "NODE",
	}
	for _, d := range sys.Designs() {
		spec.Designs = append(spec.Designs, model.Info{Name: d.Name, Summary: d.Summary})
	}
	for _, p := range Profiles() {
		spec.Profiles = append(spec.Profiles, model.Info{Name: p.Name, Summary: p.Summary})
	}
	return spec
}

// NewConfig implements model.System: ProfileConfig, for a design of the
// system.
func (sys *System) NewConfig(design, profile string) (model.Config, error) {
	if _, ok := sys.design(design); !ok {
		return nil, sys.unknownDesign(design)
	}
	cfg, err := ProfileConfig(design, profile)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// DecodeConfig implements model.System.
func (sys *System) DecodeConfig(data []byte) (model.Config, error) {
	var cfg Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("tikv: decode config: %w", err)
	}
	return cfg, nil
}

// fsOps are the ops vfsmem records for an actor's filesystem calls.
var fsOps = vfsmem.Ops

// Actors implements model.System: the actors a run of cfg has, with the
// ops each records. The snapshot generators record their design's ops
// (model.Design.Ops) beside the pipeline's.
func (sys *System) Actors(mc model.Config) []model.ActorSpec {
	cfg, _ := mc.(Config)
	op := func(name, summary string) model.Info { return model.Info{Name: name, Summary: summary} }
	engineOps := []model.Info{op("manifest", "a failed directory sync after a MANIFEST write"), op("recover", "the engine recovered from its MANIFEST")}
	gen := []model.Info{
		op("generate", "a snapshot generation starts, is skipped, fails or is done"),
		op("io-stats", "the I/O limiter read the build thread's procfs stats"),
		op("io-limit", "the I/O limiter's wait"),
		op("throttle", "a wait at the rate limit without a limiter (white-box builds)"),
	}
	if d, ok := sys.design(cfg.Collector); ok {
		gen = append(gen, d.design.Ops...)
	}
	var out []model.ActorSpec
	add := func(name, summary string, fs bool, ops ...model.Info) {
		out = append(out, model.ActorSpec{Name: name, Summary: summary, Ops: ops, FS: fs})
	}
	add("writer", "writes puts and deletes over three column families to the leader", false,
		op("put", "a put"), op("delete-key", "a deletion tombstone"))
	for i := 0; i < max(cfg.SnapGenerators, 1); i++ {
		name := "snap-gen"
		if i > 0 {
			name = fmt.Sprintf("snap-gen-%d", i+1)
		}
		add(name, "a snapshot generator: runs the design on the leader (watched by the oracle)", true, gen...)
	}
	if cfg.MaxRegionOps > 0 {
		add("pd", "the placement driver: splits, merges and reconfigures regions", false,
			op("split", "a region split"), op("merge", "a region merge"), op("conf-change", "a membership change"))
	}
	add("coordinator", "ends the run: safety, liveness and quiescence phases", false, op("phase", "a phase begins"))
	add("flusher", "flushes the leader's memtables to L0 files", true, append([]model.Info{op("flush", "a flush")}, engineOps...)...)
	add("compactor", "runs the leader's compactions and deletes their inputs (the prompt deleter)", true,
		append([]model.Info{op("compact", "a compaction or trivial move"), op("delete", "an obsolete file removed")}, engineOps...)...)
	for _, g := range []string{"gc", "n2-gc"} {
		add(g, "the obsolete-file deleter of "+map[string]string{"gc": "the leader", "n2-gc": "the learner"}[g], true,
			op("delete", "an obsolete file removed"), op("gc-skip", "an obsolete file kept (a reference or lease holds it)"))
	}
	add("sender", "copies generated snapshots to the learner (watched)", true, op("send", "a snapshot sent"), op("corrupt", "a chunk corrupted on the wire"))
	for _, g := range []string{"snap-gc", "n2-snap-gc"} {
		add(g, "snapshot GC of "+map[string]string{"snap-gc": "the leader", "n2-snap-gc": "the learner"}[g], true,
			op("snap-gc", "a stale snapshot file removed"), op("snap-gc-skip", "a stale snapshot file kept (registered)"))
	}
	add("applier", "applies received snapshots on the learner (watched)", true,
		append([]model.Info{op("apply", "a snapshot applied or rejected"), op("ingest", "its files ingested"), op("delete", "an obsolete file removed")}, engineOps...)...)
	if cfg.MaxCrashes > 0 {
		add("crasher", "crashes and restarts nodes", true, append([]model.Info{op("crash", "a node crashed"), op("restart", "a node restarted"),
			op("snap-cleanup", "a half-built snapshot file removed at restart"), op("thread-start", "a worker thread started"), op("thread-exit", "a worker thread exited")}, engineOps...)...)
	}
	if cfg.ThreadChurnInterval > 0 {
		add("threads", "the leader's worker-thread churn", true,
			op("thread-start", "a worker thread started"), op("thread-exit", "a worker thread exited"), op("thread-churn", "a failed replacement"))
	}
	return out
}

// Run implements model.System: Simulate, with the outcome in the generic
// terms (the tikv.Outcome is its Detail).
func (sys *System) Run(mc model.Config, ch sim.Choice, sc sim.Config, h model.Hooks) (model.Outcome, error) {
	cfg, ok := mc.(Config)
	if !ok {
		return model.Outcome{}, fmt.Errorf("tikv: configuration %T is not a tikv.Config", mc)
	}
	out, err := sys.run(cfg, ch, sc, h.Start, h.End)
	return out.Generic(), err
}

// Generic returns the outcome in the generic terms of model.Outcome: the
// snapshots as tasks and summary lines, the workload and snapshot reports
// as replay's JSON members, and o itself as Detail.
func (o Outcome) Generic() model.Outcome {
	g := model.Outcome{Config: o.Config, Result: o.Result, Script: o.Script, PeakPinnedBytes: o.PeakPinnedBytes,
		Members: map[string]any{"workload": o.Workload, "snapshots": o.Snapshots}, Detail: o}
	for _, s := range o.Snapshots {
		t := model.Task{ID: s.ID, Status: s.Status, Attempts: s.Attempts, Latency: s.Latency()}
		switch s.Status {
		case SnapGenerated, SnapSent, SnapApplied, SnapRejected:
			t.Built = true
		}
		switch s.Status {
		case SnapApplied, SnapFailed, SnapRejected:
			t.Settled = true
		}
		t.Succeeded = s.Status == SnapApplied
		g.Tasks = append(g.Tasks, t)
		line := fmt.Sprintf("snapshot %d: %s, attempts %d", s.ID, s.Status, s.Attempts)
		if s.Status == SnapDone {
			line += fmt.Sprintf(", %d keys at seq %d, latency %s", s.Keys, s.Seq, s.Latency())
		}
		if s.Error != "" {
			line += ", error: " + s.Error
		}
		g.Summary = append(g.Summary, line)
	}
	return g
}
