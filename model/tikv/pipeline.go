package tikv

import (
	"errors"
	"fmt"
	"hash/crc32"
	"path"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// Snapshot statuses. A report moves running → generated → sent →
// applied, or ends in failed, rejected or aborted.
const (
	SnapRunning   = "running"   // being generated
	SnapGenerated = "generated" // files and meta written on the leader
	SnapSent      = "sent"      // copied to the learner
	SnapApplied   = "applied"   // ingested and verified by the learner (final)
	SnapDone      = SnapApplied
	SnapFailed    = "failed"   // the collector or a pipeline stage gave up (final)
	SnapRejected  = "rejected" // the learner refused it: stale epoch, bad checksum (final)
	SnapSkipped   = "skipped"  // a build of the same key was already running (final)
	// SnapAborted: the run ended first, or the generator died (final).
	SnapAborted = "aborted"
)

// SnapshotReport describes one snapshot's way through the pipeline.
type SnapshotReport struct {
	ID        int        `json:"id"`
	Key       SnapKey    `json:"key"`
	Region    uint64     `json:"region"`
	Status    string     `json:"status"`
	Error     string     `json:"error,omitempty"`
	Attempts  int        `json:"attempts"`
	Seq       uint64     `json:"seq"`
	Epoch     Epoch      `json:"epoch"`
	Files     []string   `json:"files,omitempty"`
	Keys      int        `json:"keys"`
	SizeBytes int64      `json:"size_bytes"`
	Start     sim.Micros `json:"start_us"`
	End       sim.Micros `json:"end_us"`
	// LastOpen is the build's last successful open of an engine file, with
	// the live region's epoch at that instant (Gen.LastOpen; zero when the
	// design opened none through the shared retry policy). A design that
	// re-checks the epoch with each open (lease-retry) must never ship a
	// snapshot whose Epoch differs from LastOpen.Epoch.
	LastOpen OpenMark `json:"last_open"`
	meta     SnapMeta
}

// Latency is the virtual time from request to the final state.
func (r *SnapshotReport) Latency() sim.Micros { return r.End - r.Start }

// final reports whether the report reached a final state.
func (r *SnapshotReport) final() bool {
	switch r.Status {
	case SnapApplied, SnapFailed, SnapRejected, SnapSkipped, SnapAborted:
		return true
	}
	return false
}

func (c *Cluster) finish(r *SnapshotReport, status, why string) {
	r.Status, r.End = status, c.s.Now()
	if why != "" {
		r.Error = why
	}
}

// GenerateLoop is the snapshot generator actor on the leader (on the
// snapshot path: the oracle watches it). It generates Workload.Snapshots
// snapshots, each after its drawn delay, each for a region drawn among the
// live ones.
func (c *Cluster) GenerateLoop(a *sim.Actor) {
	for c.nextGen < len(c.work.SnapshotDelays) {
		i := c.nextGen
		c.nextGen++
		if d := c.work.SnapshotDelays[i]; d > 0 {
			a.Sleep(d)
		}
		for c.Leader.down {
			a.Sleep(c.cfg.GCInterval)
		}
		regions := c.Regions.All()
		c.generate(a, i+1, regions[c.s.Intn(len(regions))])
	}
}

// generate builds one snapshot of region r on the leader: register the key
// (exclusive), collect through the collector, write one file per column
// family (unless the collector wrote them while it scanned, as scan does),
// then the meta file (crc32 and size per CF), each synced before it is
// renamed into place, and hand it to the sender. A write error fails the
// snapshot, whoever wrote (model.ErrSnapWrite for scan): it is never retried.
func (c *Cluster) generate(a *sim.Actor, id int, r *Region) {
	n := c.Leader
	key := SnapKey{Region: r.ID, Term: c.term, Index: r.AppliedIndex}
	rep := &SnapshotReport{ID: id, Key: key, Region: r.ID, Status: SnapRunning, Start: c.s.Now()}
	c.Snapshots = append(c.Snapshots, rep)
	c.s.Recordf(sim.ClassInfo, "generate", "start", "snapshot %d: %s key %s", id, r, key)
	// A snapshot of this key already in flight is reused (TiKV's
	// SnapManager hands out the existing one), unless builds are not
	// exclusive per key (the TiKV #2923 bug).
	for _, other := range c.Snapshots {
		if other != rep && other.Key == key && !other.final() && !c.cfg.Variants.NonExclusiveBuild {
			c.finish(rep, SnapSkipped, fmt.Sprintf("snapshot %d of key %s is in flight (%s); reused", other.ID, key, other.Status))
			c.s.Record(sim.ClassAction, "generate", fmt.Sprintf("snapshot %d", id), "skipped: reuses snapshot "+fmt.Sprint(other.ID))
			return
		}
	}
	if c.Learner.Snap.Applied(key) {
		c.finish(rep, SnapSkipped, "the peer already applied snapshot "+key.String())
		c.s.Record(sim.ClassAction, "generate", fmt.Sprintf("snapshot %d", id), "skipped: peer has "+key.String())
		return
	}
	if !n.Snap.Register(key, SnapGenerating) {
		c.finish(rep, SnapSkipped, "a build of "+key.String()+" is already running")
		c.s.Record(sim.ClassAction, "generate", fmt.Sprintf("snapshot %d", id), "skipped: key busy")
		return
	}
	// Clear what an earlier, abandoned build of this key left behind (TiKV's
	// Snap::new deletes stale temporary files). Harmless when builds of a
	// key are exclusive; with NonExclusiveBuild it deletes the files of a
	// build still running (TiKV #2923).
	if names, err := n.FS.List(SnapDir); err == nil {
		for _, name := range names {
			if prefix, k, tmp, ok := parseSnapPath(name); ok && tmp && prefix == prefixGen && k == key {
				_ = n.FS.RemoveBecause(path.Join(SnapDir, name), "stale temporary file of an earlier build of "+key.String())
			}
		}
	}
	g := &Gen{node: n, actor: a, region: r, key: key}
	if n.Threads != nil {
		g.slot = n.Threads.Acquire(a)
		defer n.Threads.Release(a, g.slot)
	}
	// Keep the attempt count even if the collector panics. A panicking
	// collector never deregisters its key: in TiKV the panic aborts the
	// process, and no guard runs.
	defer func() { rep.Attempts, rep.LastOpen = g.attempts, g.lastOpen }()
	got, err := c.collector.Collect(g)
	if errors.Is(err, model.ErrRegionGone) {
		n.Snap.Deregister(key, SnapGenerating)
		c.finish(rep, SnapSkipped, err.Error())
		c.s.Record(sim.ClassAction, "generate", fmt.Sprintf("snapshot %d", id), "cancelled: "+err.Error())
		return
	}
	if err != nil {
		n.Snap.Deregister(key, SnapGenerating)
		c.finish(rep, SnapFailed, err.Error())
		c.s.Record(sim.ClassAction, "generate", fmt.Sprintf("snapshot %d", id), "failed: "+err.Error())
		if errors.Is(err, model.ErrAttemptsSpent) {
			c.s.Observe(sim.KindLiveness, fmt.Sprintf("snapshot %d of region %d failed %d times: raft reports a fatal error (%v)", id, r.ID, g.attempts, err))
		}
		return
	}
	rep.Seq, rep.Epoch, rep.Files = got.Seq, got.Epoch, got.Files
	meta := SnapMeta{Key: key, Seq: got.Seq, Epoch: got.Epoch, Start: got.Span.Start, End: got.Span.End}
	for _, cf := range CFs {
		rep.Keys += len(got.Data[cf])
		if got.Built != nil {
			// The collector wrote the file while it scanned (scan).
			meta.Size[cf], meta.CRC[cf] = got.Built[cf].Size, got.Built[cf].CRC
			rep.SizeBytes += got.Built[cf].Size
			continue
		}
		data := encodeCF(cf, got.Data[cf])
		meta.Size[cf], meta.CRC[cf] = int64(len(data)), crc32.ChecksumIEEE(data)
		rep.SizeBytes += int64(len(data))
		if err := n.writeRenamed(snapFile(prefixGen, key, cf), data); err != nil {
			n.Snap.Deregister(key, SnapGenerating)
			c.finish(rep, SnapFailed, err.Error())
			return
		}
	}
	if err := n.writeRenamed(snapMeta(prefixGen, key), meta.Encode()); err != nil {
		n.Snap.Deregister(key, SnapGenerating)
		c.finish(rep, SnapFailed, err.Error())
		return
	}
	if err := n.syncDir(SnapDir); err != nil {
		n.Snap.Deregister(key, SnapGenerating)
		c.finish(rep, SnapFailed, err.Error())
		return
	}
	rep.meta = meta
	rep.Status = SnapGenerated
	// Hand over from Generating to PendingSend in one step: there is no
	// moment at which the finished snapshot is unregistered.
	n.Snap.Register(key, SnapPendingSend)
	n.Snap.Deregister(key, SnapGenerating)
	detail := ""
	if c.s.Tracing() {
		detail = fmt.Sprintf("snapshot %d %s: %d keys at seq %d from %s", id, key, rep.Keys, got.Seq, strings.Join(got.Files, " "))
	}
	c.s.Record(sim.ClassAction, "generate", detail, "done")
	c.toSend = append(c.toSend, rep)
	c.s.Wake(c.sender)
}

// writeRenamed writes data to p+".tmp", syncs it, and renames it to p.
func (n *Node) writeRenamed(p string, data []byte) error {
	if err := n.Engine.WriteFile(p+".tmp", data); err != nil {
		return err
	}
	if err := n.FS.Rename(p+".tmp", p); err != nil {
		return fmt.Errorf("rename %s: %w", p, err)
	}
	return nil
}

// syncDir makes a directory's entries durable.
func (n *Node) syncDir(dir string) error {
	d, err := n.FS.OpenDir(dir)
	if err != nil {
		return fmt.Errorf("open dir %s: %w", dir, err)
	}
	if err := d.Sync(); err != nil {
		_ = d.Close()
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return d.Close()
}

// readWhole reads a file in chunks (scheduling points when in an actor).
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

// SendLoop is the sender actor on the leader: it copies each generated
// snapshot (every column family file, then the meta) to the learner's
// snapshot dir in chunks, registered as Sending on the leader and Receiving
// on the learner.
func (c *Cluster) SendLoop(a *sim.Actor) {
	c.serve(a, &c.toSend, func() bool { return c.Leader.down || c.Learner.down }, c.send)
}

// serve is a pipeline stage's loop: it takes reports from queue one at a
// time and hands them to do; it parks while the queue is empty, waits while
// a node it needs is down, and returns once the run is over.
func (c *Cluster) serve(a *sim.Actor, queue *[]*SnapshotReport, down func() bool, do func(*SnapshotReport)) {
	for {
		if len(*queue) == 0 || down() {
			if c.done {
				return
			}
			if len(*queue) == 0 {
				a.Park()
			} else {
				a.Sleep(c.cfg.GCInterval)
			}
			continue
		}
		rep := (*queue)[0]
		*queue = (*queue)[1:]
		do(rep)
	}
}

func (c *Cluster) send(rep *SnapshotReport) {
	key := rep.Key
	c.Leader.Snap.Register(key, SnapSending)
	c.Leader.Snap.Deregister(key, SnapPendingSend)
	c.Learner.Snap.Register(key, SnapReceiving)
	released := false
	done := func() {
		if !released {
			released = true
			c.Leader.Snap.Deregister(key, SnapSending)
			c.Learner.Snap.Deregister(key, SnapReceiving)
		}
	}
	// A sender killed mid-send (the leader crashed) unwinds through here:
	// the connection breaks, and the receiver drops its Receiving entry
	// (TiKV's receive task fails), so snapshot GC can remove the partial
	// files. Without this the entry, and the files, stayed for ever.
	defer done()
	// A crash of the receiver breaks the connection: a send that spans one
	// fails (files written before the crash may be gone).
	peer := c.Learner.incarnation
	lost := func() error {
		if c.Learner.incarnation != peer || c.Learner.down {
			return fmt.Errorf("connection to %s lost (it crashed)", c.Learner.Name)
		}
		return nil
	}
	for _, cf := range CFs {
		err := lost()
		if err == nil {
			err = c.copyFile(snapFile(prefixGen, key, cf), snapFile(prefixRev, key, cf), lost)
		}
		if err != nil {
			done()
			c.finish(rep, SnapFailed, "send: "+err.Error())
			c.s.Record(sim.ClassAction, "send", key.String(), "failed: "+err.Error())
			return
		}
	}
	err := lost()
	if err == nil {
		err = c.copyFile(snapMeta(prefixGen, key), snapMeta(prefixRev, key), lost)
	}
	if err != nil {
		done()
		c.finish(rep, SnapFailed, "send: "+err.Error())
		c.s.Record(sim.ClassAction, "send", key.String(), "failed: "+err.Error())
		return
	}
	if err := c.Learner.syncDir(SnapDir); err != nil {
		done()
		c.finish(rep, SnapFailed, "send: "+err.Error())
		return
	}
	if err := lost(); err != nil {
		done()
		c.finish(rep, SnapFailed, "send: "+err.Error())
		return
	}
	c.Learner.Snap.Register(key, SnapPendingApply)
	done()
	rep.Status = SnapSent
	c.s.Recordf(sim.ClassAction, "send", "ok", "snapshot %d %s to %s", rep.ID, key, c.Learner.Name)
	c.toApply = append(c.toApply, rep)
	c.s.Wake(c.applier)
}

// copyFile copies src on the leader to dst on the learner in chunks (via a
// temporary name, synced, renamed). A chunk may be corrupted on the wire
// (Config.CorruptPermille): the receiver's checksum catches it.
//
// lost reports a broken connection (the receiver crashed); it is checked
// in the same step as the final rename, so a send never renames a file the
// receiver's restart already cleaned up.
func (c *Cluster) copyFile(src, dst string, lost func() error) error {
	from, to := c.Leader.FS, c.Learner.FS
	fi, err := from.Stat(src)
	if err != nil {
		return err
	}
	in, err := from.Open(src)
	if err != nil {
		return err
	}
	out, err := to.Create(dst + ".tmp")
	if err != nil {
		_ = in.Close()
		return err
	}
	fail := func(err error) error {
		_ = in.Close()
		_ = out.Close()
		_ = to.RemoveBecause(dst+".tmp", "send failed")
		return err
	}
	size := fi.Size()
	buf := make([]byte, ioChunkBytes)
	for off := int64(0); off < size; off += ioChunkBytes {
		chunk := buf[:min(ioChunkBytes, size-off)]
		if n, err := in.ReadAt(chunk, off); err != nil && !(n == len(chunk) && isEOF(err)) {
			return fail(fmt.Errorf("read %s: %w", src, err))
		}
		// Wire corruption is not stopped by the liveness phase: a corrupted
		// snapshot is rejected, which is a final state.
		if p := c.cfg.CorruptPermille; p > 0 && c.s.Intn(1000) >= 1000-p {
			chunk[c.s.Intn(len(chunk))] ^= 0x5a
			c.s.Record(sim.ClassInfo, "corrupt", fmt.Sprintf("%s chunk at %d", dst, off), "byte flipped on the wire")
		}
		if _, err := out.Write(chunk); err != nil {
			return fail(fmt.Errorf("write %s: %w", dst, err))
		}
	}
	if err := out.Sync(); err != nil {
		return fail(fmt.Errorf("sync %s: %w", dst, err))
	}
	_ = in.Close()
	if err := out.Close(); err != nil {
		return err
	}
	return to.RenameChecked(dst+".tmp", dst, lost)
}
