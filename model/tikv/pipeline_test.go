package tikv

import (
	"fmt"
	"hash/crc32"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// pipeRig is a cluster driven step by step by one script actor: it writes
// through the leader, then generates, sends and applies snapshots itself
// (c.generate, c.send, c.apply), so each stage can be checked, and
// disturbed, on its own. The sender and applier are stand-ins that never
// run (generate and send wake them).
type pipeRig struct {
	t *testing.T
	s *sim.Scheduler
	c *Cluster
}

func newPipeRig(t *testing.T, cfg Config) *pipeRig {
	t.Helper()
	s := sim.New(sim.NewPRNG(1), sim.Config{KeepTrace: true})
	c, err := newCluster(s, cfg, Workload{FlushThreshold: 1000, CompactTrigger: 1000})
	require.NoError(t, err)
	park := func(a *sim.Actor) {
		for {
			a.Park()
		}
	}
	c.sender = s.Spawn("sender", sim.ActorOptions{Daemon: true}, park)
	c.applier = s.Spawn("applier", sim.ActorOptions{Daemon: true}, park)
	return &pipeRig{t: t, s: s, c: c}
}

// write puts (or, with value "", deletes) key in cf through the leader, as
// the writer actor does: engine, raft log, applied index.
func (r *pipeRig) write(cf CF, key, val string) {
	c := r.c
	var rec Record
	if val == "" {
		rec = Record{CF: cf, Key: key, Kind: KindDelete}
		rec.Seq = c.Leader.Engine.DeleteCF(cf, key)
	} else {
		rec = Record{CF: cf, Key: key, Kind: KindPut, Value: val}
		rec.Seq = c.Leader.Engine.PutCF(cf, key, val)
	}
	c.Ref.Append(rec)
	c.Regions.Locate(key).AppliedIndex++
}

// snapshot generates a snapshot of region 1 and takes it off the send
// queue.
func (r *pipeRig) snapshot(a *sim.Actor, id int) *SnapshotReport {
	c := r.c
	c.generate(a, id, c.Regions.All()[0])
	rep := c.Snapshots[len(c.Snapshots)-1]
	c.toSend = nil
	return rep
}

// send sends rep and takes it off the apply queue.
func (r *pipeRig) send(rep *SnapshotReport) {
	r.c.send(rep)
	r.c.toApply = nil
}

// run runs script as the snapshot generator (a watched actor) to the end.
func (r *pipeRig) run(script func(a *sim.Actor)) sim.Result {
	r.s.Spawn("snap-gen", sim.ActorOptions{Watched: true}, script)
	res := r.s.Run()
	require.Equal(r.t, sim.EndDone, res.End)
	return res
}

// learnerView returns what the learner's engine holds for cf, read from
// the files of its current version (newest version of each key, deletions
// dropped), independently of the apply path's own check.
func learnerView(t *testing.T, c *Cluster, cf CF) []Record {
	t.Helper()
	var recs []Record
	for _, f := range c.Learner.Engine.Current().Files() {
		if f.CF == cf {
			recs = append(recs, decodeFile(t, c.Learner.FS, f.Path)...)
		}
	}
	for i := range recs {
		recs[i].CF = cf
	}
	return visible(recs, &Region{ID: 1}, ^uint64(0))
}

// orphans returns the learner's engine files that exist but that the
// engine does not know: in no live version and not on the obsolete list
// (where GC would find them).
func orphans(c *Cluster) []string {
	var out []string
	n := c.Learner
	e := n.Engine
	for _, p := range n.FS.Paths() {
		if _, gone := n.FS.Deleted(p); gone || path.Dir(p) != DBDir || !strings.HasSuffix(p, ".sst") {
			continue
		}
		known := e.Tracks(p)
		for _, f := range e.Obsolete() {
			known = known || f.Path == p
		}
		if !known {
			out = append(out, p)
		}
	}
	return out
}

// One snapshot through the whole pipeline: generated (files and meta on
// the leader, registered PendingSend), sent (files on the learner,
// registered PendingApply), applied (ingested, verified, marked applied).
func TestPipelineStages(t *testing.T) {
	r := newPipeRig(t, DefaultConfig("lease-retry"))
	c := r.c
	var rep *SnapshotReport
	res := r.run(func(a *sim.Actor) {
		for i := 0; i < 4; i++ {
			r.write(CFDefault, KeyName(i), value(uint64(i+1), 10))
			r.write(CFWrite, KeyName(i), "commit")
		}
		r.write(CFLock, KeyName(1), "lock")
		assert.NoError(t, c.Leader.Engine.Flush())

		rep = r.snapshot(a, 1)
		assert.Equal(t, SnapGenerated, rep.Status, rep.Error)
		assert.Equal(t, SnapKey{Region: 1, Term: 1, Index: 9}, rep.Key, "key: region, term, applied index")
		assert.Equal(t, 9, rep.Keys)
		assert.Equal(t, uint64(9), rep.Seq)
		assert.Equal(t, "PendingSend", c.Leader.Snap.InUse(rep.Key))
		for _, cf := range CFs {
			assert.True(t, exists(c.Leader.FS, snapFile(prefixGen, rep.Key, cf)), cf.String())
			// (Not Stat: the script is the watched generator, and a stat of
			// the renamed-away temporary file would trip the oracle.)
			_, gone := c.Leader.FS.Deleted(snapFile(prefixGen, rep.Key, cf) + ".tmp")
			assert.True(t, gone, "%s: the temporary file was renamed into place", cf)
		}
		meta, err := DecodeSnapMeta(readFile(t, c.Leader.FS, snapMeta(prefixGen, rep.Key)))
		assert.NoError(t, err)
		assert.Equal(t, rep.meta, meta)
		var size int64
		for _, cf := range CFs {
			data := readFile(t, c.Leader.FS, snapFile(prefixGen, rep.Key, cf))
			assert.Equal(t, crc32.ChecksumIEEE(data), meta.CRC[cf], cf.String())
			assert.Equal(t, int64(len(data)), meta.Size[cf], cf.String())
			size += int64(len(data))
		}
		assert.Equal(t, size, rep.SizeBytes)

		r.send(rep)
		assert.Equal(t, SnapSent, rep.Status, rep.Error)
		assert.Equal(t, "", c.Leader.Snap.InUse(rep.Key), "the leader is done with it")
		assert.Equal(t, "PendingApply", c.Learner.Snap.InUse(rep.Key))
		for _, cf := range CFs {
			assert.Equal(t, readFile(t, c.Leader.FS, snapFile(prefixGen, rep.Key, cf)), readFile(t, c.Learner.FS, snapFile(prefixRev, rep.Key, cf)))
		}

		c.apply(rep)
		assert.Equal(t, SnapApplied, rep.Status, rep.Error)
		assert.Equal(t, "", c.Learner.Snap.InUse(rep.Key))
		assert.True(t, c.Learner.Snap.Applied(rep.Key))
	})
	require.Empty(t, res.Observations)
	assert.True(t, rep.final())
	assert.GreaterOrEqual(t, rep.Latency(), sim.Micros(0))
	for _, cf := range CFs {
		assert.Equal(t, c.Ref.AtCF(cf, &Region{ID: 1}, rep.Seq), learnerView(t, c, cf), cf.String())
	}
	// default and write were linked from the received files; lock was
	// rewritten as an SST.
	require.Len(t, c.Learner.ingested, 1)
	assert.Len(t, c.Learner.ingested[0].files, 3)
}

// A snapshot whose region is empty has empty files, and applies.
func TestPipelineEmptyRegion(t *testing.T) {
	r := newPipeRig(t, DefaultConfig("lease-retry"))
	var rep *SnapshotReport
	res := r.run(func(a *sim.Actor) {
		rep = r.snapshot(a, 1)
		r.send(rep)
		r.c.apply(rep)
	})
	require.Empty(t, res.Observations)
	assert.Equal(t, SnapApplied, rep.Status, rep.Error)
	assert.Zero(t, rep.Keys)
	assert.Empty(t, r.c.Learner.Engine.Current().Files())
}

// The learner refuses a snapshot whose epoch is older than the region's,
// and one of a region that merged away; both end "rejected" and the
// learner's engine is untouched.
func TestApplyRejectsStaleEpochAndMergedRegion(t *testing.T) {
	for _, tc := range []struct {
		name    string
		disturb func(c *Cluster)
		want    string
	}{
		{"split", func(c *Cluster) { c.Regions.Split(c.Regions.All()[0], KeyName(2)) }, "stale epoch v1/c1, region is at v2/c1"},
		{"conf change", func(c *Cluster) { c.Regions.All()[0].Epoch.ConfVer++ }, "stale epoch v1/c1, region is at v1/c2"},
		{"merged away", func(c *Cluster) {
			right := c.Regions.Split(c.Regions.All()[0], KeyName(2))
			c.Regions.Merge(c.Regions.All()[0], right)
		}, "region 1 no longer exists (merged)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newPipeRig(t, DefaultConfig("lease-retry"))
			var rep *SnapshotReport
			res := r.run(func(a *sim.Actor) {
				r.write(CFDefault, KeyName(1), "v")
				assert.NoError(t, r.c.Leader.Engine.Flush())
				rep = r.snapshot(a, 1)
				r.send(rep)
				tc.disturb(r.c)
				r.c.apply(rep)
			})
			require.Empty(t, res.Observations)
			assert.Equal(t, SnapRejected, rep.Status)
			assert.Equal(t, tc.want, rep.Error)
			assert.Empty(t, r.c.Learner.Engine.Current().Files())
			assert.True(t, r.c.Learner.Snap.Applied(rep.Key), "its files are of no further use: snapshot GC may take them")
		})
	}
}

// A byte flipped in a received file: the checksum catches it (rejected),
// unless SkipApplyVerify, which ingests what decodes and is caught by the
// verification against the raft log (inconsistent-snapshot).
func TestApplyChecksum(t *testing.T) {
	for _, skip := range []bool{false, true} {
		t.Run(fmt.Sprintf("skip-verify=%v", skip), func(t *testing.T) {
			cfg := DefaultConfig("lease-retry")
			cfg.Variants.SkipApplyVerify = skip
			r := newPipeRig(t, cfg)
			var rep *SnapshotReport
			res := r.run(func(a *sim.Actor) {
				for i := 0; i < 3; i++ {
					r.write(CFDefault, KeyName(i), value(uint64(i+1), 10))
				}
				assert.NoError(t, r.c.Leader.Engine.Flush())
				rep = r.snapshot(a, 1)
				r.send(rep)
				// Damage the received default file (set-up style, no
				// scheduling): flip one byte of a record.
				p := snapFile(prefixRev, rep.Key, CFDefault)
				data := readFile(t, r.c.Learner.FS, p)
				data[3] ^= 0x5a
				assert.NoError(t, r.c.Learner.FS.Remove(p))
				assert.NoError(t, r.c.Learner.Engine.WriteFile(p, data))
				r.c.apply(rep)
			})
			if !skip {
				require.Empty(t, res.Observations)
				assert.Equal(t, SnapRejected, rep.Status)
				assert.Contains(t, rep.Error, "default file fails its checksum")
				assert.Empty(t, r.c.Learner.Engine.Current().Files())
				return
			}
			got := ofKind(res.Observations, sim.KindInconsistentSnapshot)
			require.Len(t, got, 1, "%v", res.Observations)
			assert.Equal(t, "snap-gen", got[0].Actor)
			assert.Contains(t, got[0].Detail, "snapshot 1 1_1_3 cf default at seq 3: learner holds [], raft log has [k000@1=v1 k001@2=v2 k002@3=v3]")
			assert.Equal(t, SnapApplied, rep.Status, "the damaged snapshot was applied")
		})
	}
}

// An ingest that fails (here: the learner's MANIFEST write) must leave the
// learner as it was: no engine file outside every version (file-leak), and
// the region's previous snapshot still recorded, so that the next
// successful ingest replaces it. Before the fix the files linked for the
// failed ingest stayed for ever, and the region's previous snapshot files
// were forgotten: they stayed in the learner's version next to the newer
// snapshot, resurrecting keys deleted in between.
func TestFailedIngestLeavesNothingBehind(t *testing.T) {
	r := newPipeRig(t, DefaultConfig("lease-retry"))
	c := r.c
	reps := map[string]*SnapshotReport{}
	res := r.run(func(a *sim.Actor) {
		e := c.Leader.Engine
		// A: k000..k003 (default and write; no lock records, so an ingest
		// writes nothing but the MANIFEST).
		for i := 0; i < 4; i++ {
			r.write(CFDefault, KeyName(i), value(uint64(i+1), 10))
			r.write(CFWrite, KeyName(i), "commit")
		}
		assert.NoError(t, e.Flush())
		reps["A"] = r.snapshot(a, 1)
		r.send(reps["A"])
		c.apply(reps["A"])

		// B: k001 deleted; its ingest fails on the MANIFEST write.
		r.write(CFDefault, KeyName(1), "")
		r.write(CFWrite, KeyName(1), "")
		assert.NoError(t, e.Flush())
		reps["B"] = r.snapshot(a, 2)
		r.send(reps["B"])
		c.Learner.FS.SetFaults(vfsmem.Faults{WriteEIOPermille: 1000})
		c.apply(reps["B"])
		c.Learner.FS.SetFaults(vfsmem.Faults{})
		assert.Empty(t, orphans(c), "a failed ingest leaves no engine file outside every version")

		// C: k004 added; applies.
		r.write(CFDefault, KeyName(4), "v-new")
		assert.NoError(t, e.Flush())
		reps["C"] = r.snapshot(a, 3)
		r.send(reps["C"])
		c.apply(reps["C"])
	})
	require.Empty(t, res.Observations)
	assert.Equal(t, SnapApplied, reps["A"].Status, reps["A"].Error)
	assert.Equal(t, SnapFailed, reps["B"].Status)
	assert.Contains(t, reps["B"].Error, "ingest: write manifest")
	assert.Equal(t, SnapApplied, reps["C"].Status, reps["C"].Error)
	assert.Empty(t, orphans(c))

	// The learner's version holds C's files only, and its data is the raft
	// log's at C's sequence number: k001 stays deleted.
	require.Len(t, c.Learner.ingested, 1)
	assert.ElementsMatch(t, strings.Fields(names(c.Learner.ingested[0].files)), strings.Fields(names(c.Learner.Engine.Current().Files())))
	for _, cf := range []CF{CFDefault, CFWrite} {
		got := learnerView(t, c, cf)
		assert.Equal(t, c.Ref.AtCF(cf, &Region{ID: 1}, reps["C"].Seq), got, cf.String())
		for _, rec := range got {
			assert.NotEqual(t, KeyName(1), rec.Key, "%s: the deleted key is not resurrected", cf)
		}
	}
}

// The meta file has no checksum of its own. A range damaged on the wire
// (here "k004" -> "1004", one byte XOR 0x5a as the wire corruption does)
// decodes; the learner must notice that the range is not the region's at
// the same epoch, instead of verifying the data against the wrong range.
// (Before the fix, split-merge with 30% wire corruption reported
// inconsistent-snapshot in 3 of 2000 seeds with verification on.)
func TestApplyRejectsDamagedMetaRange(t *testing.T) {
	r := newPipeRig(t, DefaultConfig("lease-retry"))
	c := r.c
	var rep *SnapshotReport
	res := r.run(func(a *sim.Actor) {
		for i := 0; i < 8; i++ {
			r.write(CFDefault, KeyName(i), "v")
		}
		assert.NoError(t, c.Leader.Engine.Flush())
		c.Regions.Split(c.Regions.All()[0], KeyName(4))
		rep = r.snapshot(a, 1)
		assert.Equal(t, "k004", rep.meta.End)
		r.send(rep)
		p := snapMeta(prefixRev, rep.Key)
		raw := readFile(t, c.Learner.FS, p)
		i := strings.Index(string(raw), `end="k004"`) + len(`end="`)
		raw[i] ^= 0x5a
		m, err := DecodeSnapMeta(raw)
		assert.NoError(t, err, "the damage is not caught by decoding")
		assert.Equal(t, "1004", m.End)
		assert.NoError(t, c.Learner.FS.Remove(p))
		assert.NoError(t, c.Learner.Engine.WriteFile(p, raw))
		c.apply(rep)
	})
	require.Empty(t, res.Observations)
	assert.Equal(t, SnapRejected, rep.Status)
	assert.Equal(t, `meta range ["", "1004") is not the range of region 1 [, k004) v2/c1`, rep.Error)
	assert.Empty(t, c.Learner.Engine.Current().Files())
}
