package tikv

import (
	"errors"
	"fmt"
	"hash/crc32"
	"path"

	"github.com/snapsim/snapsim/model/engine"
	"github.com/snapsim/snapsim/sim"
)

// ApplyLoop is the applier actor on the learner (on the snapshot path): for
// each received snapshot it checks the epoch, verifies every column
// family's size and crc32 against the meta file, ingests the files into the
// learner's engine, and verifies the ingested data against the reference
// model at the snapshot's sequence number.
func (c *Cluster) ApplyLoop(a *sim.Actor) {
	c.serve(a, &c.toApply, func() bool { return c.Learner.down }, c.apply)
}

func (c *Cluster) apply(rep *SnapshotReport) {
	n := c.Learner
	key := rep.Key
	n.Snap.Deregister(key, SnapPendingApply)
	n.Snap.Register(key, SnapApplying)
	defer n.Snap.Deregister(key, SnapApplying)
	status, why := c.applyFiles(rep)
	if status != SnapApplied {
		c.finish(rep, status, why)
		n.Snap.MarkApplied(key) // its files are of no further use
		c.s.Record(sim.ClassAction, "apply", key.String(), status+": "+why)
		return
	}
	n.Snap.MarkApplied(key)
	c.finish(rep, SnapApplied, "")
	c.s.Record(sim.ClassAction, "apply", fmt.Sprintf("snapshot %d %s: %d keys ingested", rep.ID, key, rep.Keys), "ok")
}

// applyFiles does the work of apply and returns the final status.
func (c *Cluster) applyFiles(rep *SnapshotReport) (string, string) {
	n := c.Learner
	key := rep.Key
	raw, err := n.readWhole(snapMeta(prefixRev, key))
	if err != nil {
		return SnapFailed, "read meta: " + err.Error()
	}
	meta, err := DecodeSnapMeta(raw)
	if err != nil {
		return SnapRejected, "meta: " + err.Error()
	}
	region := c.Regions.ByID(key.Region)
	if region == nil {
		return SnapRejected, fmt.Sprintf("region %d no longer exists (merged)", key.Region)
	}
	if meta.Epoch.Version < region.Epoch.Version || meta.Epoch.ConfVer < region.Epoch.ConfVer {
		return SnapRejected, fmt.Sprintf("stale epoch %s, region is at %s", meta.Epoch, region.Epoch)
	}
	// Same epoch, same range (every split and merge bumps the version).
	// The meta file has no checksum of its own: a range damaged on the
	// wire would otherwise pass, and the data be checked against the wrong
	// range.
	if meta.Start != region.Start || meta.End != region.End {
		return SnapRejected, fmt.Sprintf("meta range [%q, %q) is not the range of %s", meta.Start, meta.End, region)
	}
	var data [NumCFs][]byte
	for _, cf := range CFs {
		b, err := n.readWhole(snapFile(prefixRev, key, cf))
		if err != nil {
			return SnapFailed, fmt.Sprintf("read %s: %v", cf, err)
		}
		if !c.cfg.Variants.SkipApplyVerify && (int64(len(b)) != meta.Size[cf] || crc32.ChecksumIEEE(b) != meta.CRC[cf]) {
			return SnapRejected, fmt.Sprintf("%s file fails its checksum (size %d, meta says %d)", cf, len(b), meta.Size[cf])
		}
		data[cf] = b
	}
	// Ingest: default and write files are linked into the engine dir (as
	// RocksDB ingests external SSTs); lock records are rewritten as an SST.
	var files []*FileMeta
	// A failed ingest leaves nothing behind: the engine files made so far
	// are in no version (RocksDB's IngestExternalFile removes them too).
	// Without this they stayed for ever (a file leak on the learner).
	failed := func(err error) (string, string) {
		if !errors.Is(err, engine.ErrCrashed) {
			for _, f := range files {
				_ = n.FS.RemoveBecause(f.Path, "ingest of snapshot "+key.String()+" failed")
			}
		}
		return SnapFailed, "ingest: " + err.Error()
	}
	for _, cf := range CFs {
		recs, err := decodeCF(cf, data[cf])
		if err != nil {
			// Only reachable with SkipApplyVerify: the damage is ingested
			// as whatever decodes (nothing), and the check below sees it.
			recs = nil
		}
		f, err := n.Engine.IngestRecords(cf, recs, snapFile(prefixRev, key, cf), cf != CFLock && err == nil)
		if err != nil {
			return failed(err)
		}
		if f != nil {
			files = append(files, f)
		}
	}
	if err := n.replaceIngest(key.Region, files, "snapshot "+key.String()); err != nil {
		return failed(err)
	}
	// Verify what the engine now holds for the region against the raft
	// log at the snapshot's sequence number.
	span := meta.region()
	for _, cf := range CFs {
		var got []Record
		for _, f := range files {
			if f.CF != cf {
				continue
			}
			h, err := n.FS.Open(f.Path)
			if err != nil {
				return SnapFailed, "verify: " + err.Error()
			}
			recs, err := readSST(h, f)
			if err != nil {
				return SnapFailed, "verify: " + err.Error()
			}
			got = append(got, recs...)
		}
		got = visible(got, span, meta.Seq)
		want := c.Ref.AtCF(cf, span, meta.Seq)
		if !sameRecords(got, want) {
			c.s.Observe(sim.KindInconsistentSnapshot, fmt.Sprintf("snapshot %d %s cf %s at seq %d: learner holds %v, raft log has %v",
				rep.ID, key, cf, meta.Seq, got, want))
		}
	}
	return SnapApplied, ""
}

// replaceIngest installs, durably (MANIFEST), a version in which the
// region's previous snapshot files are replaced by files.
func (n *Node) replaceIngest(region uint64, files []*FileMeta, reason string) error {
	var remove []*FileMeta
	at := -1
	for i, rec := range n.ingested {
		if rec.region == region {
			remove, at = rec.files, i
			break
		}
	}
	if _, err := n.Engine.IngestFiles(files, remove, "ingest of "+reason); err != nil {
		// Nothing was installed: the region's previous snapshot files are
		// still in the version, and the next ingest must replace them.
		return err
	}
	if at >= 0 {
		n.ingested = append(n.ingested[:at], n.ingested[at+1:]...)
	}
	n.ingested = append(n.ingested, ingestRecord{region: region, files: files})
	n.s.Record(sim.ClassAction, "ingest", fmt.Sprintf("%s: %s into %s", reason, names(files), path.Join(n.Name, DBDir)), "ok")
	return nil
}

func sameRecords(a, b []Record) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].CF != b[i].CF || a[i].Key != b[i].Key || a[i].Value != b[i].Value || a[i].Kind != b[i].Kind {
			return false
		}
	}
	return true
}
