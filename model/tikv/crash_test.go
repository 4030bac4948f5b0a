package tikv

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/model/engine"
	"github.com/snapsim/snapsim/sim"
)

// crashSeeds is the number of seeds of each crash/restart sweep.
const crashSeeds = 300

// snapEvent parses the snapshot id and key of a pipeline trace event:
// "snapshot 3 1_2_17: ..." or "snapshot 3 1_2_17 to n2".
func snapEvent(detail string) (int, string, bool) {
	var id int
	var key string
	if _, err := fmt.Sscanf(detail, "snapshot %d %s", &id, &key); err != nil {
		return 0, "", false
	}
	return id, strings.TrimSuffix(key, ":"), true
}

// crashTally sums a crash sweep.
type crashTally struct {
	crashes map[string]int
	status  statusCounts
	checked int // applied snapshots whose data was re-verified
}

// checkCrashRun checks one finished white-box run under crashes and faults:
//
//   - nothing is observed (with verification on, never an
//     inconsistent-snapshot);
//   - every snapshot reaches a final state; an applied one went through
//     "generate ... done", "send ... ok" and "apply ... ok" in that order
//     (no half-built snapshot is applied), and none of its chunks was
//     corrupted on the wire; one rejected on a checksum was;
//   - the workload (and so the interference) ends only after the last
//     snapshot request was served, even when a crash killed the generator;
//   - at the end no snapshot is registered on either node, no temporary
//     file is left in either node's snapshot or engine directory, every
//     file of each engine's current version exists and the MANIFEST lists
//     exactly them;
//   - the learner holds, for the region, the files of its last applied
//     snapshot only, and their data is the raft log's at that snapshot's
//     sequence number (checked again here, independently of apply).
func checkCrashRun(t *testing.T, what string, c *Cluster, res sim.Result, ta *crashTally) {
	t.Helper()
	for _, o := range res.Observations {
		t.Fatalf("%s: %s by %s: %s", what, o.Kind, o.Actor, o.Detail)
	}
	require.Equal(t, sim.EndDone, res.End, what)

	done := map[int]int64{} // snapshot id -> step of "generate ... done"
	sent := map[int]int64{} // snapshot id -> step of "send ... ok"
	applied := map[int]int64{}
	corrupt := map[string]bool{}  // key -> a chunk of the send in progress was corrupted
	sentCorrupt := map[int]bool{} // snapshot id -> its (successful) send carried a corrupted chunk
	var lastStart, liveness int64 = 0, -1
	for _, ev := range res.Events {
		switch {
		case ev.Class == sim.ClassAction && ev.Op == "crash":
			if ev.Detail == "n1" || ev.Detail == "n2" {
				ta.crashes[ev.Detail]++
			}
		case ev.Op == "generate" && ev.Result == "start":
			lastStart = ev.Step
		case ev.Op == "phase" && strings.HasPrefix(ev.Detail, "liveness"):
			liveness = ev.Step
		case ev.Op == "generate" && ev.Result == "done":
			id, _, ok := snapEvent(ev.Detail)
			require.True(t, ok, "%s: %s", what, ev.Detail)
			done[id] = ev.Step
		case ev.Class == sim.ClassIO && ev.Actor == "sender" && ev.Op == "create" && strings.HasSuffix(ev.Detail, "_default.sst.tmp"):
			// A new send of a key starts with its default file.
			_, key, _, ok := parseSnapPath(ev.Detail)
			require.True(t, ok, ev.Detail)
			corrupt[key.String()] = false
		case ev.Op == "corrupt":
			_, key, _, ok := parseSnapPath(strings.Fields(ev.Detail)[0])
			require.True(t, ok, ev.Detail)
			corrupt[key.String()] = true
		case ev.Op == "send" && ev.Result == "ok":
			id, key, ok := snapEvent(ev.Detail)
			require.True(t, ok, "%s: %s", what, ev.Detail)
			_, gen := done[id]
			require.True(t, gen, "%s: snapshot %d sent before it was generated", what, id)
			sent[id] = ev.Step
			sentCorrupt[id] = corrupt[key]
		case ev.Op == "apply" && ev.Result == "ok":
			id, _, ok := snapEvent(ev.Detail)
			require.True(t, ok, "%s: %s", what, ev.Detail)
			_, s := sent[id]
			require.True(t, s, "%s: snapshot %d applied before it was sent", what, id)
			require.Less(t, done[id], sent[id], what)
			applied[id] = ev.Step
		}
	}
	require.GreaterOrEqual(t, liveness, int64(0), "%s: the liveness phase began", what)
	require.Greater(t, liveness, lastStart, "%s: interference stopped only after the last snapshot request", what)

	var lastApplied *SnapshotReport
	for _, r := range c.Snapshots {
		ta.status[r.Status]++
		require.True(t, r.final(), "%s: snapshot %d still %s", what, r.ID, r.Status)
		switch r.Status {
		case SnapApplied:
			_, ok := applied[r.ID]
			require.True(t, ok, "%s: snapshot %d applied without an apply", what, r.ID)
			require.False(t, sentCorrupt[r.ID], "%s: snapshot %d applied with a corrupted chunk", what, r.ID)
			if lastApplied == nil || r.End > lastApplied.End {
				lastApplied = r
			}
		case SnapRejected:
			if strings.Contains(r.Error, "checksum") {
				require.True(t, sentCorrupt[r.ID], "%s: snapshot %d rejected on a checksum, yet nothing was corrupted: %s", what, r.ID, r.Error)
			}
		case SnapAborted:
			require.Equal(t, "leader crashed", r.Error, "%s: snapshot %d", what, r.ID)
		}
	}

	for _, n := range []*Node{c.Leader, c.Learner} {
		require.False(t, n.down, "%s: %s is up", what, n.Name)
		require.Empty(t, n.Snap.entries, "%s: %s: nothing is registered at the end", what, n.Name)
		for _, dir := range []string{SnapDir, DBDir} {
			names, err := n.FS.List(dir)
			require.NoError(t, err)
			for _, name := range names {
				require.False(t, strings.HasSuffix(name, ".tmp"), "%s: %s:%s/%s left behind", what, n.Name, dir, name)
			}
		}
		var want []uint64
		for _, f := range n.Engine.Current().Files() {
			require.True(t, exists(n.FS, f.Path), "%s: %s: current file %s exists", what, n.Name, f.Path)
			want = append(want, f.Num)
		}
		if exists(n.FS, n.Engine.ManifestPath()) {
			m, err := engine.DecodeManifest(readFile(t, n.FS, n.Engine.ManifestPath()))
			require.NoError(t, err, "%s: %s", what, n.Name)
			var got []uint64
			for _, f := range m.Files {
				got = append(got, f.Num)
			}
			sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
			sort.Slice(got, func(i, j int) bool { return got[i] < got[j] })
			require.Equal(t, want, got, "%s: %s: the MANIFEST lists the current version", what, n.Name)
		} else {
			require.Empty(t, want, "%s: %s", what, n.Name)
		}
	}

	// The learner's data.
	l := c.Learner
	cur := l.Engine.Current().Files()
	if lastApplied == nil {
		require.Empty(t, cur, "%s: nothing applied, nothing ingested", what)
		return
	}
	var inRecord []string
	for _, rec := range l.ingested {
		if rec.region == lastApplied.Region {
			for _, f := range rec.files {
				inRecord = append(inRecord, f.Path)
			}
		}
	}
	var inVersion []string
	for _, f := range cur {
		inVersion = append(inVersion, f.Path)
	}
	require.ElementsMatch(t, inRecord, inVersion, "%s: the learner holds the last applied snapshot's files only", what)
	span := lastApplied.meta.region()
	for _, cf := range CFs {
		var got []Record
		for _, f := range cur {
			if f.CF == cf {
				recs, err := readSST(mustOpen(t, l, f.Path), f)
				require.NoError(t, err, "%s: %s", what, f.Path)
				got = append(got, recs...)
			}
		}
		require.True(t, sameRecords(visible(got, span, lastApplied.Seq), c.Ref.AtCF(cf, span, lastApplied.Seq)),
			"%s: learner %s data of snapshot %d", what, cf, lastApplied.ID)
	}
	ta.checked++
}

func mustOpen(t *testing.T, n *Node, p string) vfs.File {
	t.Helper()
	f, err := n.FS.Open(p)
	require.NoError(t, err)
	return f
}

// Crash/restart under the faults profile (EIO, wire corruption, up to two
// crashes of either node, a disk quota): every safe collector keeps every
// property of checkCrashRun over crashSeeds seeds.
func TestCrashRestartProperties(t *testing.T) {
	t.Parallel()
	for _, collector := range []string{"lease-retry", "pin", "checkpoint", "scan"} {
		t.Run(collector, func(t *testing.T) {
			t.Parallel()
			cfg := profileConfig(t, collector, "faults")
			ta := &crashTally{crashes: map[string]int{}, status: statusCounts{}}
			for seed := uint64(1); seed <= crashSeeds; seed++ {
				c, res := runCluster(t, cfg, seed, sim.Config{KeepTrace: true})
				checkCrashRun(t, fmt.Sprintf("%s seed %d", collector, seed), c, res, ta)
			}
			t.Logf("%s faults, seeds 1..%d: crashes %v; snapshots %s; %d learners re-verified", collector, crashSeeds, ta.crashes, ta.status, ta.checked)
			require.Positive(t, ta.crashes["n1"])
			require.Positive(t, ta.crashes["n2"])
			require.Positive(t, ta.status[SnapApplied])
			require.Positive(t, ta.status[SnapAborted], "leader crashes abort builds")
			require.Positive(t, ta.checked)
		})
	}
}

// The same properties under swarm (random mixes of crashes, EIO,
// corruption, stalls and region operations), for lease-retry. With region
// operations the learner may hold files of several regions, so the learner
// data check is limited to seeds without them.
func TestCrashRestartPropertiesSwarm(t *testing.T) {
	t.Parallel()
	cfg := profileConfig(t, "lease-retry", "swarm")
	ta := &crashTally{crashes: map[string]int{}, status: statusCounts{}}
	for seed := uint64(1); seed <= crashSeeds; seed++ {
		c, res := runCluster(t, cfg, seed, sim.Config{KeepTrace: true})
		if len(c.Regions.All()) > 1 || c.Regions.All()[0].ID != 1 || c.Regions.All()[0].Epoch.Version != 1 {
			for _, o := range res.Observations {
				t.Fatalf("seed %d: %s by %s: %s", seed, o.Kind, o.Actor, o.Detail)
			}
			continue
		}
		checkCrashRun(t, fmt.Sprintf("swarm seed %d", seed), c, res, ta)
	}
	t.Logf("lease-retry swarm, seeds 1..%d: crashes %v; snapshots %s; %d learners re-verified", crashSeeds, ta.crashes, ta.status, ta.checked)
}

// A leader crash in the middle of a send breaks the connection: the
// learner drops its Receiving entry, and snapshot GC removes the partial
// files. (Before the fix the entry stayed for ever, and with it the
// half-received files: snapshot GC and the leak check both skip registered
// snapshots.)
func TestLeaderCrashMidSendReleasesReceiver(t *testing.T) {
	cfg := DefaultConfig("lease-retry")
	cfg.SnapGCTimeout = 20 * sim.Millisecond
	s := sim.New(sim.NewPRNG(1), sim.Config{KeepTrace: true})
	work := Workload{Puts: 20, FlushThreshold: 5, CompactTrigger: 100, Snapshots: 1, SnapshotDelays: []sim.Micros{5 * sim.Millisecond}}
	c, err := newCluster(s, cfg, work)
	require.NoError(t, err)
	c.spawn()
	var key SnapKey
	crashed := false
	s.Spawn("script", sim.ActorOptions{}, func(a *sim.Actor) {
		for !crashed {
			a.Sleep(10 * sim.Microsecond) // (a Yield loop would stop the clock)
			if len(c.Snapshots) == 0 {
				continue
			}
			key = c.Snapshots[0].Key
			if !strings.Contains(c.Learner.Snap.InUse(key), "Receiving") || !exists(c.Learner.FS, snapFile(prefixRev, key, CFDefault)) {
				continue
			}
			// The default file arrived, the rest is on its way.
			c.crash(c.Leader)
			crashed = true
		}
		a.Sleep(crashDowntime)
		assert.NoError(t, c.restart(a, c.Leader))
	})
	res := s.Run()
	require.True(t, crashed)
	require.Empty(t, res.Observations)
	assert.Equal(t, SnapAborted, c.Snapshots[0].Status)
	assert.Equal(t, "leader crashed", c.Snapshots[0].Error)
	assert.Equal(t, "", c.Learner.Snap.InUse(key), "the learner dropped the broken receive")
	assert.Empty(t, c.Learner.Snap.entries)
	var removed []string
	for _, p := range c.Learner.FS.Paths() {
		if _, k, _, ok := parseSnapPath(p); ok && k == key {
			ev, gone := c.Learner.FS.Deleted(p)
			require.True(t, gone, "%s is left", p)
			if ev.Actor == "n2-snap-gc" {
				removed = append(removed, p)
			}
		}
	}
	assert.Contains(t, removed, snapFile(prefixRev, key, CFDefault), "snapshot GC removed the partial files")
}
