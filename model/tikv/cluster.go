package tikv

import (
	"fmt"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/engine"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// Directories of a node's filesystem.
const (
	DBDir   = "/db"
	SnapDir = "/snap"
)

// Cluster is a two-node TiKV-like cluster: a leader that takes writes,
// flushes, compacts and generates snapshots, and a learner peer that
// receives and applies them. Both share the region table (PD's view) and
// the checker's reference model of the data (the raft log).
type Cluster struct {
	s         *sim.Scheduler
	cfg       Config
	work      Workload
	Leader    *Node
	Learner   *Node
	Regions   *RegionTable
	Ref       *Reference
	collector model.Collector
	// Snapshots are the reports of every generation started, in order.
	Snapshots []*SnapshotReport
	// term is the raft term; it grows when the leader restarts.
	term uint64
	// pipeline queues (bounded by the number of snapshots requested).
	toSend, toApply []*SnapshotReport
	sender, applier *sim.Actor
	// workers are the interfering actors (writer, generator, PD); the
	// coordinator waits for them.
	workers     []*sim.Actor
	coordinator *sim.Actor
	// generators are the snapshot generator actors; nextGen is the next
	// request any of them will serve.
	generators []*sim.Actor
	nextGen    int
	// churn is the leader's worker-thread churn daemon.
	churn *sim.Actor
	// interference is true until the liveness phase stops writes, region
	// operations, crashes and faults.
	interference bool
	// done is set by the coordinator when the run is over; daemons that
	// poll stop then.
	done bool
	// fp are the actors' footprint declarations (footprint.go), genFP the
	// snapshot generators' (their design's).
	fp    footprints
	genFP *sim.Footprint
}

// Node is one TiKV-like store: a filesystem, an engine, a snapshot
// manager, worker threads with procfs stats files.
type Node struct {
	c      *Cluster
	s      *sim.Scheduler
	ID     int
	Name   string
	FS     *vfsmem.FS
	Engine *Engine
	Snap   *SnapManager
	// Ref is the cluster's reference model (shared).
	Ref *Reference
	cfg Config
	// Threads are the node's worker threads with procfs stats files, and
	// Limiter the snapshot I/O limiter that reads them (leader only).
	Threads *ThreadPool
	Limiter *IOLimiter
	// down is true between a crash and the restart.
	down   bool
	snapGC *sim.Actor
	// incarnation counts the node's crashes: a peer operation that spans a
	// crash sees it change.
	incarnation int
	// ingested lists, per region, the engine files of its last applied
	// snapshot (learner only).
	ingested []ingestRecord
	// snapSkips are snapshot GC's recorded skip decisions (snapgc.go) and
	// snapGCPasses counts its passes.
	snapSkips    []snapSkip
	snapGCPasses uint64
}

type ingestRecord struct {
	region uint64
	files  []*FileMeta
}

// NewCluster builds both nodes of a cluster for cfg and the workload work
// on s, and their directories, without spawning any actor (set-up: no
// scheduling). Run spawns the actors and runs the kernel; a white-box test
// of a design drives the cluster itself (NewBuild).
func (sys *System) NewCluster(s *sim.Scheduler, cfg Config, work Workload) (*Cluster, error) {
	d, ok := sys.design(cfg.Collector)
	if !ok {
		return nil, sys.unknownDesign(cfg.Collector)
	}
	c := &Cluster{s: s, cfg: cfg, work: work, Regions: newPresplitRegionTable(cfg.InitialRegions, cfg.KeySpace), Ref: &Reference{},
		collector: d.design.New(designConfig(cfg)), term: 1, interference: true, fp: modelFootprints, genFP: d.footprint}
	var err error
	if c.Leader, err = c.newNode(1, "n1", work); err != nil {
		return nil, err
	}
	if c.Learner, err = c.newNode(2, "n2", work); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Cluster) newNode(id int, name string, work Workload) (*Node, error) {
	fsOpts := c.cfg.FS
	if c.cfg.InstantOps {
		fsOpts.Costs = vfsmem.Costs{}
	}
	fs := vfsmem.New(c.s, fsOpts)
	eng, err := engine.NewEngine(c.s, fs, DBDir, c.engineOptions(work))
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", name, err)
	}
	if err := fs.MkdirAll(SnapDir, 0o755); err != nil {
		return nil, fmt.Errorf("node %s: create %s: %w", name, SnapDir, err)
	}
	n := &Node{c: c, s: c.s, ID: id, Name: name, FS: fs, Engine: eng, Ref: c.Ref, cfg: c.cfg,
		Snap: &SnapManager{s: c.s, NonExclusive: c.cfg.Variants.NonExclusiveBuild}}
	if id == 1 {
		opts := DefaultThreadOptions()
		opts.ChurnInterval = c.cfg.ThreadChurnInterval
		if n.Threads, err = NewThreadPool(c.s, fs, id, opts); err != nil {
			return nil, fmt.Errorf("node %s: %w", name, err)
		}
		n.Limiter = NewIOLimiter(n.Threads, LimiterOptions{BytesPerSec: c.cfg.SnapIOBytesPerSec, Unwrap: c.cfg.Variants.LimiterUnwrap})
	}
	return n, nil
}

// putCost is the modeled CPU cost of one in-memory write.
const putCost = 2 * sim.Microsecond

// WriteLoop is the writer actor: Workload.Puts writes (puts and deletes
// over the three column families) to the leader, each appended to the
// raft log (the reference model) and counted in its region's applied index.
func (c *Cluster) WriteLoop(a *sim.Actor) {
	for i := 0; i < c.work.Puts && c.interference; i++ {
		a.Yield()
		for c.Leader.down {
			a.Sleep(c.cfg.GCInterval)
		}
		cf, key, del := c.work.op(i, c.cfg)
		var rec Record
		if del {
			rec = Record{CF: cf, Key: key, Kind: KindDelete}
			rec.Seq = c.Leader.Engine.DeleteCF(cf, key)
		} else {
			rec = Record{CF: cf, Key: key, Kind: KindPut, Value: value(c.Leader.Engine.Seq()+1, c.cfg.ValueBytes)}
			rec.Seq = c.Leader.Engine.PutCF(cf, key, rec.Value)
		}
		c.Ref.Append(rec)
		c.Regions.Locate(key).AppliedIndex++
		if !c.cfg.InstantOps {
			c.s.Advance(putCost)
		}
		op := "put"
		if del {
			op = "delete-key"
		}
		detail := ""
		if c.s.Tracing() {
			detail = cf.String() + " " + rec.String()
		}
		c.s.Record(sim.ClassAction, op, detail, "ok")
	}
}

// value renders the value written at seq, padded to size bytes with dots so
// it stays readable in traces ("v12.....").
func value(seq uint64, size int) string {
	v := fmt.Sprintf("v%d", seq)
	if len(v) >= size {
		return v
	}
	return v + strings.Repeat(".", size-len(v))
}

// classify tells the space accounting what each path of node n is.
func (n *Node) classify(p string) vfsmem.SpaceClass {
	if strings.HasPrefix(p, SnapDir+"/") || strings.HasPrefix(p, "/proc/") {
		return vfsmem.SpaceLive
	}
	return n.Engine.Classify(p)
}

// engineOptions derives a node's engine options from the configuration and
// the drawn workload.
func (c *Cluster) engineOptions(work Workload) EngineOptions {
	mode, _ := engine.ParseGCMode(c.cfg.GCMode) // Validate checked it
	return EngineOptions{
		FlushThreshold: work.FlushThreshold, CompactTrigger: work.CompactTrigger,
		GCMode: mode, GCInterval: c.cfg.GCInterval, GCGrace: c.cfg.GCGrace, EagerGC: c.cfg.Variants.EagerGC, Weaken: c.cfg.Weaken.DeleterWeakenings,
		// Until Config carries them (engine owner's request): the defaults.
		LevelBaseBytes: engine.DefaultLevelBaseBytes, LevelMultiplier: engine.DefaultLevelMultiplier, TargetFileBytes: engine.DefaultTargetFileBytes,
	}
}
