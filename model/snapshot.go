package model

import (
	"fmt"
	"hash/crc32"
	"path"
	"strconv"
	"strings"

	"github.com/snapsim/snapsim/sim"
)

// Snapshot statuses.
const (
	SnapRunning = "running" // still running when the run ended (or its actor panicked)
	SnapDone    = "done"
	SnapFailed  = "failed" // the collector returned an error
	// SnapAborted: the generator died (panicked) or the run ended first.
	SnapAborted = "aborted"
)

// SnapshotReport describes one snapshot generation.
type SnapshotReport struct {
	ID        int        `json:"id"`
	Region    uint64     `json:"region"`
	Status    string     `json:"status"`
	Error     string     `json:"error,omitempty"`
	Attempts  int        `json:"attempts"`
	Seq       uint64     `json:"seq"`
	Epoch     Epoch      `json:"epoch"`
	Files     []string   `json:"files,omitempty"`
	Keys      int        `json:"keys"`
	Path      string     `json:"path,omitempty"`
	SizeBytes int64      `json:"size_bytes"`
	CRC32     uint32     `json:"crc32"`
	Start     sim.Micros `json:"start_us"`
	End       sim.Micros `json:"end_us"`
}

// Latency is the virtual time from start to end of a finished generation.
func (r *SnapshotReport) Latency() sim.Micros { return r.End - r.Start }

// GenerateLoop is the snapshot generator actor (on the snapshot path, so
// the open-deleted-file oracle watches it): it generates Workload.Snapshots
// snapshots, each after its drawn delay.
func (n *Node) GenerateLoop(a *sim.Actor) {
	for i, d := range n.work.SnapshotDelays {
		if d > 0 {
			a.Sleep(d)
		}
		n.generate(a, i+1)
	}
}

// generate builds one snapshot: collect the region's data through the
// collector, write the data file, then the meta file (crc32 and size),
// synced before it is renamed into place.
func (n *Node) generate(a *sim.Actor, id int) {
	rep := &SnapshotReport{ID: id, Region: n.Region.ID, Status: SnapRunning, Start: n.s.Now()}
	n.Snapshots = append(n.Snapshots, rep)
	n.s.Record(sim.ClassInfo, "generate", fmt.Sprintf("snapshot %d of region %d (epoch %s)", id, n.Region.ID, n.Region.Epoch), "start")
	g := &Gen{Node: n, Actor: a}
	// Keep the attempt count even if the collector panics or is halted.
	defer func() { rep.Attempts = g.Attempts }()
	got, err := n.collector.Collect(g)
	if err != nil {
		rep.Status, rep.Error, rep.End = SnapFailed, err.Error(), n.s.Now()
		n.s.Record(sim.ClassAction, "generate", fmt.Sprintf("snapshot %d", id), "failed: "+err.Error())
		return
	}
	rep.Seq, rep.Epoch, rep.Files, rep.Keys = got.Seq, got.Epoch, got.Files, len(got.Data[CFDefault])
	base := path.Join(SnapDir, fmt.Sprintf("%d_%d_%d", n.Region.ID, id, got.Seq))
	data := EncodeSST(got.Data[CFDefault])
	if err := n.Engine.writeFile(base+".sst", data); err != nil {
		rep.Status, rep.Error, rep.End = SnapFailed, err.Error(), n.s.Now()
		n.s.Record(sim.ClassAction, "generate", fmt.Sprintf("snapshot %d", id), "failed: "+err.Error())
		return
	}
	rep.CRC32, rep.SizeBytes, rep.Path = crc32.ChecksumIEEE(data), int64(len(data)), base+".sst"
	meta := fmt.Sprintf("region=%d seq=%d epoch=%s cf=default size=%d crc32=%08x\n",
		n.Region.ID, got.Seq, got.Epoch, rep.SizeBytes, rep.CRC32)
	if err := n.Engine.writeFile(base+".meta.tmp", []byte(meta)); err != nil {
		rep.Status, rep.Error, rep.End = SnapFailed, err.Error(), n.s.Now()
		return
	}
	if err := n.FS.Rename(base+".meta.tmp", base+".meta"); err != nil {
		rep.Status, rep.Error, rep.End = SnapFailed, err.Error(), n.s.Now()
		return
	}
	rep.Status, rep.End = SnapDone, n.s.Now()
	n.s.Record(sim.ClassAction, "generate", fmt.Sprintf("snapshot %d: %d keys at seq %d from %s", id, rep.Keys, got.Seq, strings.Join(got.Files, " ")), "done")
}

// verify is the checker: it reads each finished snapshot back (outside any
// actor, so without scheduling), checks its meta and checksum, and compares
// its data with the reference model at the snapshot's sequence number.
func (n *Node) verify() {
	for _, rep := range n.Snapshots {
		if rep.Status != SnapDone {
			continue
		}
		if msg := n.verifyOne(rep); msg != "" {
			n.s.ObserveAs("checker", sim.KindInconsistentSnapshot, fmt.Sprintf("snapshot %d (%s): %s", rep.ID, rep.Path, msg))
		}
	}
}

func (n *Node) verifyOne(rep *SnapshotReport) string {
	metaPath := strings.TrimSuffix(rep.Path, ".sst") + ".meta"
	meta, err := n.readWhole(metaPath)
	if err != nil {
		return "meta unreadable: " + err.Error()
	}
	var size int64
	var crc uint32
	for _, field := range strings.Fields(string(meta)) {
		k, v, _ := strings.Cut(field, "=")
		switch k {
		case "size":
			size, _ = strconv.ParseInt(v, 10, 64)
		case "crc32":
			c, _ := strconv.ParseUint(v, 16, 32)
			crc = uint32(c)
		}
	}
	data, err := n.readWhole(rep.Path)
	if err != nil {
		return "data unreadable: " + err.Error()
	}
	if int64(len(data)) != size || crc32.ChecksumIEEE(data) != crc {
		return fmt.Sprintf("data does not match meta (size %d vs %d, crc32 %08x vs %08x)", len(data), size, crc32.ChecksumIEEE(data), crc)
	}
	got, err := DecodeSST(data)
	if err != nil {
		return err.Error()
	}
	want := n.Ref.At(n.Region, rep.Seq)
	if !sameRecords(got, want) {
		return fmt.Sprintf("at seq %d got %v, reference has %v", rep.Seq, got, want)
	}
	return ""
}

// readWhole reads a file outside any actor.
func (n *Node) readWhole(p string) ([]byte, error) {
	fi, err := n.FS.Stat(p)
	if err != nil {
		return nil, err
	}
	f, err := n.FS.Open(p)
	if err != nil {
		return nil, err
	}
	return readAll(f, p, fi.Size())
}

func sameRecords(a, b []Record) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Value != b[i].Value || a[i].Kind != b[i].Kind {
			return false
		}
	}
	return true
}
