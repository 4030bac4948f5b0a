package fidelity

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"

	"github.com/snapsim/snapsim/model/engine"
	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// CompactMode selects what the model does for OpCompact.
type CompactMode string

const (
	// CompactPick is the engine's one-pick Engine.Compact: the most urgent
	// due compaction, else L0->L1 of every L0 file. It ignores the range
	// and flushes nothing (the model before the fidelity work).
	CompactPick CompactMode = "pick"
	// CompactRange is Engine.CompactRange on the one column family the
	// suite uses: Pebble's DB.Compact(start, end) (flush an overlapping
	// memtable, compact the range down to the bottom level).
	CompactRange CompactMode = "range"
)

// ModelOptions configure the model's side of the suite.
type ModelOptions struct {
	// Engine are the engine's options. FlushThreshold and CompactTrigger
	// should be out of reach: the runner starts neither a flusher nor a
	// compactor (Pebble runs with automatic compactions disabled).
	Engine engine.EngineOptions
	// Compact selects what OpCompact calls.
	Compact CompactMode
}

// DefaultModelOptions drive the model's engine with its default shape
// (levels, file sizes, GC interval) and the given compaction mode.
func DefaultModelOptions(mode CompactMode) ModelOptions {
	return ModelOptions{
		Engine: engine.EngineOptions{
			FlushThreshold:  1 << 30,
			CompactTrigger:  1 << 30,
			LevelBaseBytes:  engine.DefaultLevelBaseBytes,
			LevelMultiplier: engine.DefaultLevelMultiplier,
			TargetFileBytes: engine.DefaultTargetFileBytes,
			GCInterval:      tikv.DefaultConfig("naive").GCInterval,
		},
		Compact: mode,
	}
}

// RunModel runs ops on the model's engine: a fresh kernel (choices from
// seed), a vfsmem filesystem without faults, one column family, the
// engine's deleter as its own actor (whatever timing the engine options
// give it), and one actor that executes the ops one after the other.
func RunModel(ops []Op, o ModelOptions, seed uint64) (Trace, error) {
	s := sim.New(sim.NewPRNG(seed), sim.Config{MaxSteps: 1 << 40})
	fs := vfsmem.New(s, vfsmem.DefaultOptions())
	e, err := engine.NewEngine(s, fs, tikv.DBDir, o.Engine)
	if err != nil {
		return Trace{}, fmt.Errorf("model engine: %w", err)
	}
	if err := fs.MkdirAll("/ckpt", 0o755); err != nil {
		return Trace{}, fmt.Errorf("model: %w", err)
	}
	e.SpawnGC("gc")
	m := &modelSystem{s: s, fs: fs, e: e, opts: o}
	var tr Trace
	var runErr error
	s.Spawn("ops", sim.ActorOptions{}, func(a *sim.Actor) {
		m.a = a
		tr, runErr = drive(m, ops)
	})
	res := s.Run()
	if runErr != nil {
		return tr, runErr
	}
	if len(res.Observations) > 0 {
		ob := res.Observations[0]
		return tr, fmt.Errorf("model run observed %s: %s", ob.Kind, ob.Detail)
	}
	if res.End != sim.EndDone {
		return tr, fmt.Errorf("model run ended %s after %d steps", res.End, res.Steps)
	}
	return tr, nil
}

// modelSystem is the model's engine driven from one actor.
type modelSystem struct {
	s    *sim.Scheduler
	fs   *vfsmem.FS
	e    *engine.Engine
	a    *sim.Actor
	opts ModelOptions
	// memHeld and flushCount implement flushes.
	memHeld    bool
	flushCount int64
}

func (m *modelSystem) dbDir() string { return tikv.DBDir }

// flushes counts the ops after which the memtable went from holding
// writes to empty (the model has no flush counter of its own).
func (m *modelSystem) flushes() int64 {
	if m.e.MemLen() == 0 && m.memHeld {
		m.flushCount++
	}
	m.memHeld = m.e.MemLen() > 0
	return m.flushCount
}

func (m *modelSystem) put(key, value string) error {
	m.e.PutCF(engine.CFDefault, key, value)
	return nil
}

func (m *modelSystem) del(key string) error {
	m.e.DeleteCF(engine.CFDefault, key)
	return nil
}

func (m *modelSystem) flush() error { return m.e.Flush() }

func (m *modelSystem) compact(start, end string) error {
	switch m.opts.Compact {
	case CompactPick:
		return m.e.Compact()
	case CompactRange:
		return m.e.CompactRange(engine.CFDefault, start, end)
	}
	return fmt.Errorf("unknown compact mode %q", m.opts.Compact)
}

func (m *modelSystem) current() ([]fileDesc, error) {
	var out []fileDesc
	for l, files := range m.e.Current().Levels {
		for _, f := range files {
			out = append(out, fileDesc{num: f.Num, level: l, smallest: f.Smallest, largest: f.Largest})
		}
	}
	return out, nil
}

// content decodes a model SST and keeps each key's newest record (a
// model flush writes every version of a key; Pebble's keeps the newest).
func (m *modelSystem) content(p string) ([]string, error) {
	recs, err := m.readSST(p)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(recs, func(i, j int) bool {
		if recs[i].Key != recs[j].Key {
			return recs[i].Key < recs[j].Key
		}
		return recs[i].Seq > recs[j].Seq
	})
	var out []string
	for i, r := range recs {
		if i > 0 && recs[i-1].Key == r.Key {
			continue
		}
		if r.Kind == engine.KindDelete {
			out = append(out, r.Key+"=del")
		} else {
			out = append(out, r.Key+"="+valueID(r.Value))
		}
	}
	return out, nil
}

func (m *modelSystem) exists(p string) (bool, error) {
	f, err := m.fs.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, f.Close()
}

func (m *modelSystem) list(dir string) ([]string, error) {
	names, err := m.fs.List(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	sort.Strings(names)
	return names, err
}

type modelIter struct {
	e *engine.Engine
	v *engine.Version
}

func (i modelIter) close() error {
	i.e.Unref(i.v)
	return nil
}

// iterOpen pins the current version, as an iterator's read state does.
func (m *modelSystem) iterOpen() (iterator, error) {
	v := m.e.Current()
	m.e.Ref(v)
	return modelIter{m.e, v}, nil
}

// checkpoint is Pebble's DB.Checkpoint on the model: deletions disabled,
// every file of the current version hard-linked into dir, deletions
// enabled again (the model has no WAL, OPTIONS or MANIFEST copy to make).
func (m *modelSystem) checkpoint(dir string) error {
	m.e.DisableDeletions()
	defer m.e.EnableDeletions()
	if err := m.fs.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range m.e.Current().Files() {
		if err := m.fs.Link(f.Path, path.Join(dir, path.Base(f.Path))); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
	}
	return nil
}

// readCheckpoint reads every SST of dir and returns what a reader sees:
// each key's newest record, deleted keys left out.
func (m *modelSystem) readCheckpoint(dir string) (map[string]string, error) {
	names, err := m.list(dir)
	if err != nil {
		return nil, err
	}
	newest := map[string]engine.Record{}
	for _, n := range names {
		if _, ok := sstNum(n); !ok {
			continue
		}
		recs, err := m.readSST(path.Join(dir, n))
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if old, ok := newest[r.Key]; !ok || r.Seq > old.Seq {
				newest[r.Key] = r
			}
		}
	}
	kv := map[string]string{}
	for k, r := range newest {
		if r.Kind == engine.KindPut {
			kv[k] = r.Value
		}
	}
	return kv, nil
}

func (m *modelSystem) readSST(p string) ([]engine.Record, error) {
	f, err := m.fs.Open(p)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		_ = f.Close()
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return engine.DecodeSST(b)
}

// settle lets the engine's deleter run until nothing it may delete is
// left: the actor sleeps in steps of a tenth of the GC interval, so the
// deleter's own timing (interval or prompt) decides when files go.
func (m *modelSystem) settle(map[uint64]bool) error {
	step := max(1, m.opts.Engine.GCInterval/10)
	for i := 0; m.e.PendingDeletions() > 0; i++ {
		if i > 1_000_000 {
			return fmt.Errorf("settle: %d deletions still pending", m.e.PendingDeletions())
		}
		m.a.Sleep(step)
	}
	return nil
}
