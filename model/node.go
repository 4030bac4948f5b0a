package model

import (
	"fmt"
	"strings"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// Directories of a node's filesystem.
const (
	DBDir   = "/db"
	SnapDir = "/snap"
)

// Node is one TiKV-like store: an engine, one region, a snapshot directory,
// and the checker's reference model of the region's data.
type Node struct {
	s         *sim.Scheduler
	FS        *vfsmem.FS
	Engine    *Engine
	Region    *Region
	Ref       *Reference
	cfg       Config
	work      Workload
	collector Collector
	// Snapshots are the reports of every generation started, in order.
	Snapshots []*SnapshotReport
}

// newNode builds a node and its directories (set-up: no scheduling).
func newNode(s *sim.Scheduler, cfg Config, work Workload) (*Node, error) {
	fs := vfsmem.New(s, cfg.FS)
	eng, err := NewEngine(s, fs, DBDir, EngineOptions{
		FlushThreshold: work.FlushThreshold, CompactTrigger: work.CompactTrigger,
		GCInterval: cfg.GCInterval, GCGrace: cfg.GCGrace,
	})
	if err != nil {
		return nil, err
	}
	if err := fs.MkdirAll(SnapDir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", SnapDir, err)
	}
	return &Node{
		s: s, FS: fs, Engine: eng, Ref: &Reference{}, cfg: cfg, work: work,
		Region:    &Region{ID: 1, Epoch: Epoch{Version: 1, ConfVer: 1}},
		collector: collectors[cfg.Collector].build(cfg),
	}, nil
}

// putCost is the modeled CPU cost of one in-memory write.
const putCost = 2 * sim.Microsecond

// WriteLoop is the writer actor: Workload.Puts writes of random keys of the
// region, each recorded in the reference model.
func (n *Node) WriteLoop(a *sim.Actor) {
	for i := 0; i < n.work.Puts; i++ {
		a.Yield()
		key, del := n.work.write(i, n.cfg)
		var rec Record
		if del {
			rec = Record{Key: key, Kind: KindDelete}
			rec.Seq = n.Engine.Delete(key)
		} else {
			rec = Record{Key: key, Kind: KindPut, Value: value(n.Engine.Seq()+1, n.cfg.ValueBytes)}
			rec.Seq = n.Engine.Put(key, rec.Value)
		}
		n.Ref.Append(rec)
		n.Region.AppliedIndex++
		n.s.Advance(putCost)
		op := "put"
		if del {
			op = "delete-key"
		}
		n.s.Record(sim.ClassAction, op, rec.String(), "ok")
	}
}

// classify tells the space accounting what each path is.
func (n *Node) classify(p string) vfsmem.SpaceClass {
	if strings.HasPrefix(p, SnapDir+"/") {
		return vfsmem.SpaceLive
	}
	e := n.Engine
	for _, f := range e.current.Files() {
		if f.Path == p {
			return vfsmem.SpaceLive
		}
	}
	for _, f := range e.obsolete {
		if f.Path == p && e.pinnedBy(f) != "" {
			return vfsmem.SpacePinned
		}
	}
	for _, v := range e.live {
		for _, f := range v.Files() {
			if f.Path == p {
				return vfsmem.SpacePinned
			}
		}
	}
	return vfsmem.SpaceGarbage
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
