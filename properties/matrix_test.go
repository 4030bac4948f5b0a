package properties

import (
	"strings"
	"testing"

	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// The design-validation matrix of docs/matrix.md as properties. For every
// collector, the kinds it must never show form one ordinary rapid property
// (a strong cell); the kinds it is expected to show are negative controls
// (weak cells): the same "never" property, run against it, must fail within
// rapid's bounded search, and the shrunk counterexample must show the kind.

// expectation is one collector's row: the kinds it may show (found) and the
// configuration its negative control uses.
type expectation struct {
	collector string
	found     []sim.Kind
	// control adjusts the configuration of the negative control.
	control func(c *tikv.Config)
}

// matrix is docs/matrix.md, as measured (README "Measured"): inconsistent
// snapshots, GC deleting pinned files, snap-file-missing and leaks are
// never expected from any design with the correct GC and pipeline.
var matrix = []expectation{
	{collector: "naive", found: []sim.Kind{sim.KindOpenDeletedFile, sim.KindPanic}},
	// retry "can starve under heavy compaction" (docs/matrix.md): liveness
	// is allowed, though 3000 seeds per profile never showed it.
	{collector: "retry", found: []sim.Kind{sim.KindOpenDeletedFile, sim.KindLiveness}},
	{collector: "pin"},
	// lease: "found after expiry". With the default 20 ms TTL rapid's
	// schedules rarely outlive it; the control uses 2 ms.
	{collector: "lease", found: []sim.Kind{sim.KindOpenDeletedFile, sim.KindPanic},
		control: func(c *tikv.Config) { c.LeaseTTL = 2 * sim.Millisecond }},
	{collector: "lease-retry"},
	{collector: "checkpoint"},
	// scan (TiKV raftstore v1) reads engine files only through iterators
	// that pin their version: it must never show any kind, as pin.
	{collector: "scan"},
}

// neverShows is the property "a run of cfg (on a profile rapid draws, which
// shrinks toward default) shows none of kinds". last receives each
// violating outcome: rapid's final call is the shrunk counterexample.
func neverShows(name string, cfg tikv.Config, kinds []sim.Kind, last *tikv.Outcome) func(*rapid.T) {
	return func(t *rapid.T) {
		c := cfg
		profile := rapid.SampledFrom(tikv.ProfileNames()).Draw(t, "profile")
		if p, err := tikv.ProfileConfig(cfg.Collector, profile); err == nil && cfg.Profile == "" {
			p.LeaseTTL = min(p.LeaseTTL, cfg.LeaseTTL)
			p.Weaken = cfg.Weaken
			c = p
		}
		out := Run(t, c)
		var seen []sim.Kind
		for _, k := range kinds {
			if Has(&out, k) {
				seen = append(seen, k)
			}
		}
		if len(seen) > 0 {
			if last != nil {
				*last = out
			}
			t.Fatalf("collector %s on profile %s showed %v, which it must never show.\n%s\nReplay: go test ./properties -run '^%s$' with the -rapid.seed printed below (the soak prints the whole line).",
				c.Collector, profile, seen, Story(&out), name)
		}
	}
}

// neverKinds returns the kinds a row must never show.
func (e expectation) neverKinds() []sim.Kind {
	var out []sim.Kind
	for _, k := range []sim.Kind{sim.KindOpenDeletedFile, sim.KindPanic, sim.KindInconsistentSnapshot,
		sim.KindGCDeletedPinnedFile, sim.KindFileLeak, sim.KindSnapFileMissing, sim.KindLiveness} {
		expected := false
		for _, f := range e.found {
			expected = expected || f == k
		}
		if !expected {
			out = append(out, k)
		}
	}
	return out
}

// TestMatrixStrongCells: every collector never shows the kinds
// docs/matrix.md says it cannot, on any profile.
func TestMatrixStrongCells(t *testing.T) {
	for _, e := range matrix {
		t.Run(e.collector, func(t *testing.T) {
			name := "TestMatrixStrongCells/" + e.collector
			checkN(t, strongChecks, neverShows(name, tikv.DefaultConfig(e.collector), e.neverKinds(), nil))
		})
	}
}

// TestMatrixWeakCells: for every kind a collector is expected to show, the
// property "never shows it" is violated within rapid's bounded search, and
// the shrunk counterexample shows it. Shrinking is bounded by
// controlShrink: every stage of rapid's shrinking is a failing case, so
// the verdict does not depend on the bound (only the logged size does);
// the size bound of a counterexample is TestNaiveIsCaught's.
func TestMatrixWeakCells(t *testing.T) {
	if testing.Short() {
		t.Skip("negative controls shrink whole cluster runs (tens of seconds); skipped with -short")
	}
	for _, e := range matrix {
		if len(e.found) == 0 || e.collector == "naive" { // naive: TestNaiveIsCaught
			continue
		}
		t.Run(e.collector, func(t *testing.T) {
			cfg := tikv.DefaultConfig(e.collector)
			if e.control != nil {
				e.control(&cfg)
			}
			var minimal tikv.Outcome
			rec := expectFailureShrinking(t, neverShows(t.Name(), cfg, e.found, &minimal), controlShrink)
			require.True(t, rec.failed, "rapid found no %v from %s within its checks: the negative control cannot catch what the matrix says it shows\nrapid log:\n%s",
				e.found, e.collector, rec.log.String())
			got := Kinds(&minimal)
			require.NotEmpty(t, got)
			shown := false
			for _, k := range got {
				for _, f := range e.found {
					shown = shown || k == f
				}
			}
			require.True(t, shown, "shrunk counterexample shows %v, not one of %v", got, e.found)
			t.Logf("%s caught (%s); shrunk counterexample has %d high-level actions:\n%s",
				e.collector, kindList(got), ActionCount(minimal.Result.Events), Story(&minimal))
		})
	}
}

func kindList(ks []sim.Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// strongCellControls are weakened versions of lease-retry that its strong
// cell (the kinds it may never show) must catch within 1000 checks.
var strongCellControls = []struct {
	name   string
	weaken func(c *tikv.Config)
	kinds  []sim.Kind
	why    string
}{
	// Caught now that profiles draw snapshot-GC timeouts shorter than an
	// apply (pipeline: 5 ms; swarm: 5, 10 or 20 ms): with the 200 ms
	// timeout every profile had before, no seed showed it (0 of 300 per
	// profile).
	{"snapgc-forgets-applying", func(c *tikv.Config) { c.Weaken.SnapGCApplying = true }, []sim.Kind{sim.KindSnapFileMissing},
		"snapshot GC forgets the Applying registration and removes a snapshot the learner is applying"},
	// The README's broken re-check (README "Property power" has the
	// checks each way of checking needs).
	{"broken-recheck", func(c *tikv.Config) { c.Weaken.LeaseRecheck = true }, []sim.Kind{sim.KindOpenDeletedFile},
		"lease-retry's re-check before each open passes always"},
}

// TestMatrixStrongCellControls: the strong cell of lease-retry catches
// each of strongCellControls, with the kind it exists for.
func TestMatrixStrongCellControls(t *testing.T) {
	if testing.Short() {
		t.Skip("negative controls shrink whole cluster runs; skipped with -short")
	}
	for _, ctl := range strongCellControls {
		t.Run(ctl.name, func(t *testing.T) {
			cfg := tikv.DefaultConfig("lease-retry")
			ctl.weaken(&cfg)
			e := expectation{collector: "lease-retry"}
			setFlag(t, "rapid.checks", "1000")
			var minimal tikv.Outcome
			rec := expectFailureShrinking(t, neverShows(t.Name(), cfg, e.neverKinds(), &minimal), controlShrink)
			require.True(t, rec.failed, "the strong cell of lease-retry did not catch %s (%s) within 1000 checks\nrapid log:\n%s", ctl.name, ctl.why, rec.log.String())
			shown := false
			for _, k := range ctl.kinds {
				shown = shown || Has(&minimal, k)
			}
			require.True(t, shown, "shrunk counterexample shows %v, not %v\n%s", Kinds(&minimal), ctl.kinds, Story(&minimal))
			t.Logf("%s caught after %d tests on profile %s (%s); shrunk counterexample, %d actions:\n%s",
				ctl.name, testsToFailure(rec.log.String()), minimal.Config.Profile, kindList(Kinds(&minimal)), ActionCount(minimal.Result.Events), Story(&minimal))
		})
	}
}
