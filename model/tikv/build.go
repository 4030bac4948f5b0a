package tikv

import (
	"fmt"
	"path"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/engine"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// Gen is the context of one snapshot generation: the node, the running
// generator actor and the attempt counter. It is the model.Build a
// design's Collect receives.
type Gen struct {
	node  *Node
	actor *sim.Actor
	// region is the live region being snapshotted (splits, merges and
	// conf changes mutate it while the build runs); key the snapshot key.
	region *Region
	key    SnapKey
	// slot is the worker thread the build runs on (its stats file is what
	// the I/O limiter reads).
	slot int
	// attempts counts build attempts (Attempts, SetAttempts).
	attempts int
	// span is the region as it was at the last listing (TakeSpan).
	span Region
	// lastOpen is the attempt's last successful open through FS, with the
	// live region's epoch at that instant (zero: none); the pipeline
	// copies it into the snapshot's report for the whole-run properties.
	lastOpen OpenMark
}

var _ model.Build = (*Gen)(nil)

// Actor implements model.Build: the generator actor.
func (g *Gen) Actor() *sim.Actor { return g.actor }

// Region implements model.Build: the live region.
func (g *Gen) Region() *Region { return g.region }

// Engine implements model.Build: the leader's engine.
func (g *Gen) Engine() model.Engine { return engineView{g.node.Engine} }

// FS implements model.Build: the leader's filesystem.
func (g *Gen) FS() model.FS { return fsView{g.node.FS, g} }

// Now implements model.Build.
func (g *Gen) Now() sim.Micros { return g.node.s.Now() }

// Record implements model.Build.
func (g *Gen) Record(class sim.Class, op, detail, result string) {
	g.node.s.Record(class, op, detail, result)
}

// Attempts implements model.Build.
func (g *Gen) Attempts() int { return g.attempts }

// SetAttempts implements model.Build: a new attempt starts, and its
// last open is yet to come.
func (g *Gen) SetAttempts(n int) { g.attempts, g.lastOpen = n, OpenMark{} }

// noteOpen records a successful open through FS as the build's last.
func (g *Gen) noteOpen() {
	s := g.node.s
	g.lastOpen = OpenMark{Step: s.Step(), Time: s.Now(), Epoch: g.region.Epoch}
}

// TakeSpan implements model.Build.
func (g *Gen) TakeSpan() Region {
	g.span = *g.region
	return g.span
}

// ScratchDir implements model.Build: the snapshot directory, whose files
// snapshot GC recognises by their gen_/rev_ prefix (it leaves others
// alone).
func (g *Gen) ScratchDir() string { return SnapDir }

// Output implements model.Build: the snapshot's column-family files, in
// the snapshot directory under the snapshot's key.
func (g *Gen) Output() model.Output { return snapOutput{n: g.node, key: g.key} }

// List returns the region's files in the current version: the listing step
// every list-then-open design starts from. It pins nothing by itself.
func (g *Gen) List() (model.Version, []*FileMeta) {
	v := g.node.Engine.Current()
	var files []*FileMeta
	r := g.TakeSpan()
	for _, f := range v.Files() {
		if r.Overlaps(f) {
			files = append(files, f)
		}
	}
	detail := ""
	if g.node.s.Tracing() {
		detail = fmt.Sprintf("version %d: %d files: %s", v.ID, len(files), names(files))
	}
	g.node.s.Record(sim.ClassAction, "list", detail, "ok")
	return version{v}, files
}

// Throttle is the snapshot I/O rate limiter (TiKV's
// snap-io-max-bytes-per-sec): before reading a file the generator requests
// its size from the node's IOLimiter, which reads the build thread's procfs
// I/O stats and sleeps until the rate allows the read. While it sleeps,
// flushes, compactions and GC go on: this is the window between listing a
// file and opening it. (Without a limiter — white-box tests — it sleeps for
// the same time.)
func (g *Gen) Throttle(sizeBytes int64) {
	if sizeBytes <= 0 {
		return
	}
	if l := g.node.Limiter; l != nil {
		l.Request(g.actor, g.slot, sizeBytes)
		return
	}
	rate := g.node.cfg.SnapIOBytesPerSec
	if rate <= 0 {
		return
	}
	d := sim.Micros(sizeBytes * int64(sim.Second) / rate)
	g.node.s.Record(sim.ClassInfo, "throttle", fmt.Sprintf("%d bytes at %d B/s", sizeBytes, rate), "wait "+d.String())
	g.actor.Sleep(d)
}

// SliceBytes returns how many bytes the limiter lets through in span.
func (g *Gen) SliceBytes(span sim.Micros) int64 {
	rate := g.node.cfg.SnapIOBytesPerSec
	if rate <= 0 {
		return 1 << 62
	}
	return max(1, rate*int64(span)/int64(sim.Second))
}

// Read reads and decodes files already opened by the caller's open
// function, and reduces them to the region's live records at seq.
func (g *Gen) Read(open func(f *FileMeta) ([]Record, error), files []*FileMeta, seq uint64) (model.Collected, error) {
	var all [NumCFs][]Record
	c := model.Collected{Seq: seq, Epoch: g.span.Epoch, Span: g.span}
	for _, f := range files {
		recs, err := open(f)
		if err != nil {
			return model.Collected{}, err
		}
		all[f.CF] = append(all[f.CF], recs...)
		c.Files = append(c.Files, f.Name())
	}
	for _, cf := range CFs {
		c.Data[cf] = visible(all[cf], &g.span, seq)
	}
	return c, nil
}

// NewBuild is a harness for white-box tests of designs: the build context of a snapshot of region r on c's leader, run
// by actor a (no worker thread: the limiter is bypassed and its time slept
// instead). It is what the snapshot generator hands a design's Collect.
func (c *Cluster) NewBuild(a *sim.Actor, r *Region) *Gen {
	return &Gen{node: c.Leader, actor: a, region: r}
}

// engineView is the model.Engine (and Pinner, Leaser, DeletionHolder) a
// design sees of the model's engine.
type engineView struct{ e *engine.Engine }

var (
	_ model.Pinner         = engineView{}
	_ model.Leaser         = engineView{}
	_ model.DeletionHolder = engineView{}
)

func (v engineView) TakeSnapshot() (uint64, uint64) { return v.e.TakeSnapshot() }
func (v engineView) ReleaseSnapshot(id uint64)      { v.e.ReleaseSnapshot(id) }
func (v engineView) Current() model.Version         { return version{v.e.Current()} }
func (v engineView) Ref(x model.Version)            { v.e.Ref(x.(version).v) }
func (v engineView) Unref(x model.Version)          { v.e.Unref(x.(version).v) }
func (v engineView) DisableDeletions()              { v.e.DisableDeletions() }
func (v engineView) EnableDeletions()               { v.e.EnableDeletions() }

func (v engineView) ReadFile(h model.Handle, f *FileMeta, tries int) ([]Record, error) {
	return engine.ReadSSTRetrying(asVFSFile(h), f, tries)
}

func (v engineView) AcquireLease(holder string, files []*FileMeta, ttl sim.Micros) model.Lease {
	return lease{v.e.AcquireLease(holder, files, ttl)}
}

func (v engineView) RenewLease(l model.Lease, ttl sim.Micros) bool {
	return v.e.RenewLease(l.(lease).l, ttl)
}

func (v engineView) ReleaseLease(l model.Lease) { v.e.ReleaseLease(l.(lease).l) }

// version is a model.Version over an engine version.
type version struct{ v *engine.Version }

func (x version) ID() uint64                              { return x.v.ID }
func (x version) Files() []*FileMeta                      { return x.v.Files() }
func (x version) LevelFiles(cf CF, level int) []*FileMeta { return x.v.LevelFiles(cf, level) }
func (x version) Contains(num uint64) bool                { return x.v.Contains(num) }
func (x version) Refs() int                               { return x.v.Refs() }

// lease is a model.Lease over an engine lease (a renewal moves the
// engine's own object, so Expiry follows it).
type lease struct{ l *engine.Lease }

func (x lease) ID() uint64                { return x.l.ID }
func (x lease) Expiry() sim.Micros        { return x.l.Expiry }
func (x lease) Valid(now sim.Micros) bool { return x.l.Valid(now) }

// fsView is the model.FS (and CheckedOpener) a design sees of a node's
// filesystem.
type fsView struct {
	fs *vfsmem.FS
	// g is the build whose opens it notes (nil: none).
	g *Gen
}

var _ model.CheckedOpener = fsView{}

func (v fsView) Open(p string) (model.Handle, error) {
	h, err := v.fs.Open(p)
	if err != nil {
		return nil, err
	}
	v.noted()
	return h, nil
}

func (v fsView) OpenChecked(p string, check func() error) (model.Handle, error) {
	h, err := v.fs.OpenChecked(p, check)
	if err != nil {
		return nil, err
	}
	v.noted()
	return h, nil
}

// noted notes a successful open as the build's last.
func (v fsView) noted() {
	if v.g != nil {
		v.g.noteOpen()
	}
}

func (v fsView) Link(oldname, newname string) error { return v.fs.Link(oldname, newname) }
func (v fsView) Remove(p, why string) error         { return v.fs.RemoveBecause(p, why) }

// isCheckpointLink reports whether p is a link a checkpoint design made in
// the snapshot directory (designs.CheckpointPrefix).
func isCheckpointLink(p string) bool {
	return strings.HasPrefix(p, SnapDir+"/ckpt_") && path.Dir(p) == SnapDir
}
