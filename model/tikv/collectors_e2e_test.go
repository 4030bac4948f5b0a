package tikv

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/designs"
	"github.com/snapsim/snapsim/sim"
)

// End-to-end sweeps of the retry, pin, lease and checkpoint collectors
// through Run (docs/matrix.md's matrix, measured). Only observations a
// collector is answerable for are asserted on: those of the snapshot
// generator (snap-gen) and of engine GC, and leaks of checkpoint links.
// The pipeline's own observations (sender, applier, snapshot GC) are the
// pipeline's tests' business; each sweep logs every kind it saw.

// sweepSeeds is the number of seeds per end-to-end sweep (1..sweepSeeds).
// The matrix in the report was measured over 1..1000; these sweeps keep the
// tests fast.
const sweepSeeds = 300

// tally counts, over a sweep, the seeds that saw each observation kind, the
// observations themselves, and the snapshots by final status.
type tally struct {
	seeds    map[sim.Kind]int
	total    map[sim.Kind]int
	status   map[string]int
	retried  int // snapshots that took more than one attempt
	genODF   int // seeds where snap-gen opened a deleted file
	genPanic int // seeds where snap-gen panicked
}

func newTally() *tally {
	return &tally{seeds: map[sim.Kind]int{}, total: map[sim.Kind]int{}, status: map[string]int{}}
}

func (ta *tally) add(out Outcome) {
	seen := map[sim.Kind]bool{}
	odf, pan := false, false
	for _, o := range out.Result.Observations {
		ta.total[o.Kind]++
		if !seen[o.Kind] {
			seen[o.Kind] = true
			ta.seeds[o.Kind]++
		}
		odf = odf || (o.Kind == sim.KindOpenDeletedFile && o.Actor == "snap-gen")
		pan = pan || (o.Kind == sim.KindPanic && o.Actor == "snap-gen")
	}
	if odf {
		ta.genODF++
	}
	if pan {
		ta.genPanic++
	}
	for _, s := range out.Snapshots {
		ta.status[s.Status]++
		if s.Attempts > 1 {
			ta.retried++
		}
	}
}

func (ta *tally) String() string {
	var obs []string
	for _, k := range sim.Kinds {
		if ta.seeds[k] > 0 {
			obs = append(obs, fmt.Sprintf("%s %d seeds (%d)", k, ta.seeds[k], ta.total[k]))
		}
	}
	var st []string
	for s, n := range ta.status {
		st = append(st, fmt.Sprintf("%s=%d", s, n))
	}
	sort.Strings(st)
	return fmt.Sprintf("observations [%s]; snap-gen: open-deleted-file %d seeds, panic %d seeds; snapshots [%s], %d retried",
		strings.Join(obs, ", "), ta.genODF, ta.genPanic, strings.Join(st, " "), ta.retried)
}

// genObs returns snap-gen's observations of kind k.
func genObs(obs []sim.Observation, k sim.Kind) []sim.Observation {
	var out []sim.Observation
	for _, o := range ofKind(obs, k) {
		if o.Actor == "snap-gen" {
			out = append(out, o)
		}
	}
	return out
}

// odfByGC matches an open of a file the engine's deleter removed: the
// compactor (the prompt deleter, right after its compaction) or the gc
// actor.
var odfByGC = regexp.MustCompile(`^open (/db/\d{6}\.sst): removed at step \d+ \(t=[0-9.]+m?s\) by (?:compactor|gc): obsolete after `)

func TestCollectorsRegistered(t *testing.T) {
	names := CollectorNames()
	for _, want := range []string{"naive", "retry", "pin", "lease", "lease-retry", "checkpoint", "scan"} {
		assert.Contains(t, names, want)
	}
	for _, c := range Collectors() {
		assert.NotEmpty(t, c.Summary, c.Name)
	}
}

// retry opens deleted files as naive does, but survives them: no panic,
// every loss costs a retry from a fresh listing.
func TestRetrySweep(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig("retry")
	ta := newTally()
	for seed := uint64(1); seed <= sweepSeeds; seed++ {
		out := mustRun(t, cfg, seed)
		ta.add(out)
		obs := out.Result.Observations
		require.Empty(t, ofKind(obs, sim.KindPanic), "seed %d", seed)
		require.Empty(t, ofKind(obs, sim.KindInconsistentSnapshot), "seed %d", seed)
		require.Empty(t, ofKind(obs, sim.KindGCDeletedPinnedFile), "seed %d", seed)
		odf := genObs(obs, sim.KindOpenDeletedFile)
		for _, o := range odf {
			require.Regexp(t, odfByGC, o.Detail, "seed %d", seed)
		}
		failed := 0 // failed attempts
		for _, s := range out.Snapshots {
			require.NotEqual(t, SnapAborted, s.Status, "seed %d: %s", seed, s.Error)
			require.LessOrEqual(t, s.Attempts, cfg.MaxAttempts)
			if s.Status == SnapSkipped {
				continue // reused an in-flight snapshot: never built
			}
			failed += s.Attempts - 1
			if s.Status == SnapFailed && strings.Contains(s.Error, model.ErrAttemptsSpent.Error()) {
				require.Equal(t, cfg.MaxAttempts, s.Attempts, "seed %d", seed)
				failed++
			}
		}
		// A failed attempt in this fault-free config can only come from a
		// deleted file, and every deleted file the generator met cost one.
		require.Equal(t, len(odf), failed, "seed %d: failed attempts vs deleted files opened", seed)
	}
	t.Logf("retry, seeds 1..%d: %s", sweepSeeds, ta)
	require.Positive(t, ta.genODF, "retry must still open deleted files")
	require.Zero(t, ta.genPanic)
}

// pin holds a version reference: with the safe GC nothing it listed can
// go, so it never meets a deleted file and never retries.
func TestPinSweep(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig("pin")
	ta := newTally()
	for seed := uint64(1); seed <= sweepSeeds; seed++ {
		out := mustRun(t, cfg, seed)
		ta.add(out)
		obs := out.Result.Observations
		require.Empty(t, genObs(obs, sim.KindOpenDeletedFile), "seed %d", seed)
		require.Empty(t, ofKind(obs, sim.KindPanic), "seed %d", seed)
		require.Empty(t, ofKind(obs, sim.KindInconsistentSnapshot), "seed %d", seed)
		require.Empty(t, ofKind(obs, sim.KindGCDeletedPinnedFile), "seed %d", seed)
		for _, s := range out.Snapshots {
			require.LessOrEqual(t, s.Attempts, 1, "seed %d", seed)
			require.NotEqual(t, SnapAborted, s.Status, "seed %d: %s", seed, s.Error)
		}
	}
	t.Logf("pin, seeds 1..%d: %s", sweepSeeds, ta)
}

// With the unsafe eager GC a version reference protects nothing: GC
// deletes pinned files (gc-deleted-pinned-file), pin then opens them
// (open-deleted-file) and retries; it never panics.
func TestPinSweepEagerGC(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig("pin")
	cfg.Variants.EagerGC = true
	ta := newTally()
	for seed := uint64(1); seed <= sweepSeeds; seed++ {
		out := mustRun(t, cfg, seed)
		ta.add(out)
		obs := out.Result.Observations
		require.Empty(t, ofKind(obs, sim.KindPanic), "seed %d", seed)
		require.Empty(t, ofKind(obs, sim.KindInconsistentSnapshot), "seed %d", seed)
		pinned := ofKind(obs, sim.KindGCDeletedPinnedFile)
		// Every deleted file the generator opened had been deleted by GC
		// while pinned, earlier in the run.
		for _, o := range genObs(obs, sim.KindOpenDeletedFile) {
			m := odfByGC.FindStringSubmatch(o.Detail)
			require.NotNil(t, m, "seed %d: %s", seed, o.Detail)
			found := false
			for _, p := range pinned {
				found = found || (p.Step < o.Step && strings.HasPrefix(p.Detail, m[1]+" deleted while referenced by live version"))
			}
			require.True(t, found, "seed %d: %s opened after deletion, but no gc-deleted-pinned-file for it", seed, m[1])
		}
	}
	t.Logf("pin with eager GC, seeds 1..%d: %s", sweepSeeds, ta)
	require.Positive(t, ta.seeds[sim.KindGCDeletedPinnedFile])
	require.Positive(t, ta.genODF)
	require.Positive(t, ta.retried)
}

// lease without renewal or re-check: once the lease expires during the
// rate limiter's waits, GC deletes and the open panics. Never a deletion
// of a file under an unexpired lease.
func TestLeaseSweep(t *testing.T) {
	t.Parallel()
	for _, ttl := range []sim.Micros{DefaultConfig("lease").LeaseTTL, 2 * sim.Millisecond} {
		cfg := DefaultConfig("lease")
		cfg.LeaseTTL = ttl
		ta := newTally()
		for seed := uint64(1); seed <= sweepSeeds; seed++ {
			out := mustRun(t, cfg, seed)
			ta.add(out)
			obs := out.Result.Observations
			require.Empty(t, ofKind(obs, sim.KindInconsistentSnapshot), "seed %d", seed)
			require.Empty(t, ofKind(obs, sim.KindGCDeletedPinnedFile), "ttl %s seed %d", ttl, seed)
			pan := ofKind(obs, sim.KindPanic)
			odf := genObs(obs, sim.KindOpenDeletedFile)
			require.Equal(t, len(odf), len(pan), "ttl %s seed %d: each deleted file opened is one panic", ttl, seed)
			for i, p := range pan {
				require.Equal(t, "snap-gen", p.Actor)
				require.Equal(t, odf[i].Step, p.Step, "seed %d", seed)
				require.Regexp(t, odfByGC, odf[i].Detail)
				require.Contains(t, p.Detail, "called `Result::unwrap()` on an `Err` value: \"open: No such file or directory (os error 2)\"")
				require.Contains(t, p.Stack, "designs.leaseOnly.Collect")
			}
		}
		t.Logf("lease ttl %s, seeds 1..%d: %s", ttl, sweepSeeds, ta)
		require.Positive(t, ta.genPanic, "ttl %s: the expired lease must be caught", ttl)
	}
}

// checkpoint: nothing is ever opened deleted, deletions are held off only
// while linking, and no link outlives its build.
func TestCheckpointSweep(t *testing.T) {
	t.Parallel()
	for _, eager := range []bool{false, true} {
		cfg := DefaultConfig("checkpoint")
		cfg.Variants.EagerGC = eager
		ta := newTally()
		links := 0
		for seed := uint64(1); seed <= sweepSeeds; seed++ {
			out, err := Run(cfg, sim.NewPRNG(seed), sim.Config{KeepTrace: true})
			require.NoError(t, err)
			ta.add(out)
			obs := out.Result.Observations
			require.Empty(t, genObs(obs, sim.KindOpenDeletedFile), "eager %v seed %d", eager, seed)
			require.Empty(t, ofKind(obs, sim.KindPanic), "eager %v seed %d", eager, seed)
			require.Empty(t, ofKind(obs, sim.KindInconsistentSnapshot), "seed %d", seed)
			require.Empty(t, ofKind(obs, sim.KindGCDeletedPinnedFile), "seed %d", seed)
			for _, o := range ofKind(obs, sim.KindFileLeak) {
				require.NotContains(t, o.Detail, SnapDir+"/"+designs.CheckpointPrefix, "seed %d", seed)
			}
			for _, s := range out.Snapshots {
				require.LessOrEqual(t, s.Attempts, 1, "seed %d", seed)
			}
			links += checkLinkLifecycle(t, out.Result.Events, fmt.Sprintf("eager %v seed %d", eager, seed))
		}
		t.Logf("checkpoint (eager GC %v), seeds 1..%d: %s; %d links made and removed", eager, sweepSeeds, ta, links)
		require.Positive(t, links)
	}
}

// checkLinkLifecycle checks a checkpoint run's trace: every link made is
// removed again, reads go through links only, and GC deletes none of the
// listed files between the generator's "deletions disabled" and "deletions
// enabled". It returns the number of links made.
func checkLinkLifecycle(t *testing.T, events []sim.Event, what string) int {
	t.Helper()
	alive := map[string]bool{}
	made := 0
	disabled := false
	var listed map[string]bool // the generator's last listing
	for _, ev := range events {
		switch {
		case ev.Class == sim.ClassIO && ev.Actor == "snap-gen" && ev.Op == "link" && ev.Result == "ok":
			_, dst, ok := strings.Cut(ev.Detail, " -> ")
			require.True(t, ok, what)
			require.True(t, isCheckpointLink(dst), "%s: %s", what, ev.Detail)
			require.False(t, alive[dst], "%s: link %s made twice", what, dst)
			alive[dst] = true
			made++
		case ev.Class == sim.ClassIO && ev.Actor == "snap-gen" && ev.Op == "remove" && ev.Result == "ok" && alive[ev.Detail]:
			delete(alive, ev.Detail)
		case ev.Class == sim.ClassAction && ev.Actor == "snap-gen" && ev.Op == "open":
			require.True(t, isCheckpointLink(ev.Detail), "%s: read %s, not a link", what, ev.Detail)
		case ev.Class == sim.ClassAction && ev.Actor == "snap-gen" && ev.Op == "checkpoint":
			require.NotEqual(t, strings.HasPrefix(ev.Detail, "deletions disabled"), disabled, "%s: unbalanced %s", what, ev.Detail)
			disabled = strings.HasPrefix(ev.Detail, "deletions disabled")
		case ev.Class == sim.ClassAction && ev.Actor == "snap-gen" && ev.Op == "link":
			require.Equal(t, "ok", ev.Result, what)
		case ev.Class == sim.ClassAction && ev.Actor == "snap-gen" && ev.Op == "list":
			parts := strings.SplitN(ev.Detail, ": ", 3)
			require.Len(t, parts, 3, what)
			listed = map[string]bool{}
			for _, name := range strings.Fields(parts[2]) {
				listed[DBDir+"/"+name] = true
			}
		case ev.Class == sim.ClassAction && ev.Actor == "gc" && ev.Op == "delete" && ev.Result == "ok":
			// A deletion GC had started before deletions were disabled may
			// still land (as in RocksDB), but only of a file that was
			// already obsolete: never of one the generator listed.
			p, _, _ := strings.Cut(ev.Detail, " ")
			require.False(t, disabled && listed[p], "%s: GC deleted listed %s while deletions were disabled", what, p)
		}
	}
	require.False(t, disabled, "%s: deletions left disabled", what)
	require.Empty(t, alive, "%s: links left behind", what)
	return made
}

// Same seed, same trace, for every new design (with and without a
// violation in the run).
func TestNewCollectorsAreDeterministic(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"retry", "pin", "lease", "checkpoint", "scan"} {
		cfg := DefaultConfig(name)
		cfg.LeaseTTL = 2 * sim.Millisecond
		for _, seed := range []uint64{1, 18} {
			a, b := mustRun(t, cfg, seed), mustRun(t, cfg, seed)
			assert.Equal(t, a.Result.TraceHash, b.Result.TraceHash, "%s seed %d", name, seed)
			assert.Equal(t, stripStacks(a.Result.Observations), stripStacks(b.Result.Observations), "%s seed %d", name, seed)
			assert.Equal(t, a.Snapshots, b.Snapshots, "%s seed %d", name, seed)
		}
	}
}
