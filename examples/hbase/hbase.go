// Package hbase models HBASE-27484: a scanner picks a store's files under
// the store-engine lock and takes its reference on each only afterwards,
// one file at a time, as it opens them; a compaction that completes in
// between marks the files compacted away, and the compacted-files
// discharger archives every compacted file whose reference count is zero —
// including the ones the scanner picked and has not referenced yet. The
// scanner's open then fails (FileNotFoundException in HBase). The fix
// (PR 4882) takes the references under the same lock, while picking.
//
// It is built with model/kit only: its own actors (flusher, compactor,
// discharger, scanner), its file kind (HFiles in a store directory), its
// deleter (the discharger, archiving by a rename) and the protection it
// honours (per-file reference counts), and the lock compaction and the
// scanner share. See README.md for what is modelled and what is
// simplified.
package hbase

import (
	"fmt"
	"slices"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/kit"
	"github.com/snapsim/snapsim/sim"
)

// Name is the system's name (--system hbase, "system hbase").
const Name = "hbase"

// The designs: the scanner's protocol before and after PR 4882.
const (
	// LateRef picks the files under the lock and references each one
	// after releasing it, as it opens them (HBASE-27484).
	LateRef = "late-ref"
	// RefUnderLock references every picked file before releasing the lock
	// (the fix, PR 4882).
	RefUnderLock = "ref-under-lock"
)

// VariantIgnoreRefs makes the discharger archive compacted files whatever
// their reference count: a negative control for the deleter's oracle.
const VariantIgnoreRefs = "discharger-ignores-refs"

// The store's directories (one region's column family) and its files.
const (
	storeDir   = "/hbase/data/default/t1/r1/cf"
	tmpDir     = "/hbase/data/default/t1/r1/.tmp"
	archiveDir = "/hbase/archive/data/default/t1/r1/cf"
)

// HFile is the kind of the store's files: /hbase/data/default/t1/r1/cf/hfile-000001.
var HFile = kit.Kind{Name: "hfile", Dir: storeDir, Prefix: "hfile-"}

// op is a model.Info.
func op(name, summary string) model.Info { return model.Info{Name: name, Summary: summary} }

// System returns the HBase system.
func System() *kit.System { return kit.MustNewSystem(Definition()) }

// Definition is the system's definition.
func Definition() kit.Definition {
	return kit.Definition{
		Name:    Name,
		Summary: "HBASE-27484: a scanner picks a store's HFiles, a compaction and the compacted-files discharger archive them before the scanner has referenced them",
		Designs: []model.Info{
			{Name: LateRef, Summary: "the scanner references each picked file after releasing the store-engine lock, as it opens it (HBASE-27484)"},
			{Name: RefUnderLock, Summary: "the scanner references every picked file under the store-engine lock (the fix, PR 4882)"},
		},
		DefaultDesign: RefUnderLock,
		Variants:      []model.Info{{Name: VariantIgnoreRefs, Summary: "the discharger archives compacted files whatever their reference count (a negative control)"}},
		Settings: []kit.Setting{
			{Name: "initial_files", Summary: "HFiles in the store at start", Default: 3, Min: 1, Max: 10},
			{Name: "flushes", Summary: "memstore flushes, each a new HFile", Default: 4, Min: 0, Max: 20},
			{Name: "flush_interval_us", Summary: "pause before each flush", Default: 2000, Min: 1, Max: 1e9},
			{Name: "min_compact_files", Summary: "a compaction starts when the store has this many files (hbase.hstore.compaction.min)", Default: 3, Min: 2, Max: 10},
			{Name: "compaction_check_us", Summary: "the compaction checker's period", Default: 1000, Min: 1, Max: 1e9},
			{Name: "discharger_interval_us", Summary: "the discharger's period (hbase.hfile.compaction.discharger.interval)", Default: 500, Min: 1, Max: 1e9},
			{Name: "scans", Summary: "scans the client runs", Default: 4, Min: 1, Max: 20},
			{Name: "scan_interval_us", Summary: "pause before each scan", Default: 1500, Min: 1, Max: 1e9},
			{Name: "hfile_kib", Summary: "each HFile's size (its read takes time)", Default: 64, Min: 1, Max: 1024},
		},
		Groups: []string{"rs1"}, GroupWord: "SERVER",
		Actors: actors,
		Setup:  setup,
	}
}

// actors are the region server's actors.
func actors(kit.Config) []kit.Actor {
	fp := kit.Declared()
	return []kit.Actor{
		{Name: "flusher", Summary: "flushes the memstore: a new HFile, added to the store", Ops: append([]model.Info{op("flush", "a new HFile added")}, kit.LockOps...), FS: true, Group: "rs1", Footprint: fp},
		{Name: "scanner", Summary: "a client scan: picks the store's files, references and opens each (watched by the oracle)", FS: true, Watched: true, Group: "rs1", Footprint: fp,
			Ops: append([]model.Info{op("pick", "the store's files picked under the lock"), op("ref", "a file referenced"), op("scan", "a scan done or failed")}, kit.LockOps...)},
		{Name: "compactor", Summary: "compacts the store's files into one and marks them compacted away", FS: true, Daemon: true, Group: "rs1", Footprint: fp,
			Ops: append([]model.Info{op("select", "a compaction selected its files under the lock"), op("compact", "a compaction replaced its files")}, kit.LockOps...)},
		{Name: "discharger", Summary: "the compacted-files discharger: archives compacted files nobody references", Ops: kit.DeleterOps, FS: true, Daemon: true, Group: "rs1", Footprint: fp},
	}
}

// store is one run's region server state.
type store struct {
	w   *kit.World
	cfg kit.Config
	// files is the StoreFileManager's current set; compacted the files
	// compacted away and not yet archived; next the next file number.
	files, compacted *kit.Var[[]string]
	next             *kit.Var[uint64]
	// lock is the store-engine lock compaction and the scanner's pick
	// take; refs the per-file reference counts the discharger honours.
	lock *kit.Lock
	refs *kit.RefCounts
	del  *kit.Deleter
	// scans counts done and failed scans for the summary.
	done, failed int
}

func setup(w *kit.World, cfg kit.Config) error {
	for _, d := range []string{storeDir, tmpDir, archiveDir} {
		if err := w.MkdirAll(d); err != nil {
			return err
		}
	}
	st := &store{w: w, cfg: cfg, lock: kit.NewLock(w, "store-engine"), refs: kit.NewRefCounts(w, "refcount")}
	var initial []string
	n := uint64(cfg.Int("initial_files"))
	for g := uint64(1); g <= n; g++ {
		if err := kit.WriteFile(w.FS(), HFile.Path(g), st.content()); err != nil {
			return err
		}
		initial = append(initial, HFile.Path(g))
	}
	st.files = kit.NewVar(w, "store-files", initial)
	st.compacted = kit.NewVar(w, "compacted-files", []string(nil))
	st.next = kit.NewVar(w, "next-file", n+1)
	honours, ignores := []kit.Protection{st.refs}, []kit.Protection(nil)
	if cfg.Variant(VariantIgnoreRefs) {
		honours, ignores = nil, honours
	}
	st.del = kit.NewDeleter(w, "discharger", honours, ignores)
	w.Spawn("flusher", st.flushLoop)
	w.Spawn("scanner", st.scanLoop)
	w.Spawn("compactor", st.compactLoop)
	w.Spawn("discharger", st.dischargeLoop)
	return nil
}

// maxPasses bounds a daemon's passes (the run ends long before).
const maxPasses = 1 << 20

func (st *store) content() []byte { return make([]byte, st.cfg.Int("hfile_kib")*1024) }

// newFile writes a new HFile in the temporary directory and commits it
// into the store directory by a rename, as HBase does; it returns its
// path.
func (st *store) newFile() (string, error) {
	gen := st.next.Get()
	st.next.Set(gen + 1)
	p := HFile.Path(gen)
	tmp := tmpDir + "/" + strings.TrimPrefix(p, storeDir+"/")
	if err := kit.WriteFile(st.w.FS(), tmp, st.content()); err != nil {
		return "", err
	}
	if err := st.w.FS().Rename(tmp, p); err != nil {
		return "", fmt.Errorf("commit %s: %w", p, err)
	}
	return p, nil
}

// flushLoop adds a new HFile to the store after each flush interval.
func (st *store) flushLoop(a *sim.Actor) {
	for i := int64(0); i < st.cfg.Int("flushes"); i++ {
		a.Sleep(st.cfg.Micros("flush_interval_us"))
		p, err := st.newFile()
		if err != nil {
			st.w.Record(sim.ClassAction, "flush", "", "failed: "+err.Error())
			continue
		}
		st.lock.Acquire(a)
		st.files.Set(append(slices.Clone(st.files.Get()), p))
		st.lock.Release(a)
		st.w.Record(sim.ClassAction, "flush", p, "ok")
	}
}

// compactLoop compacts the store whenever it has min_compact_files files:
// selection under the lock, the new file written outside it, then the
// replacement under the lock (the inputs become compacted away).
func (st *store) compactLoop(a *sim.Actor) {
	for pass := 0; pass < maxPasses; pass++ {
		st.lock.Acquire(a)
		inputs := slices.Clone(st.files.Get())
		st.lock.Release(a)
		if int64(len(inputs)) < st.cfg.Int("min_compact_files") {
			a.SleepIdle(st.cfg.Micros("compaction_check_us"))
			continue
		}
		st.w.Record(sim.ClassAction, "select", strings.Join(inputs, " "), "ok")
		out, err := st.newFile()
		if err != nil {
			st.w.Record(sim.ClassAction, "compact", "", "failed: "+err.Error())
			continue
		}
		st.lock.Acquire(a)
		var kept []string
		for _, f := range st.files.Get() {
			if !slices.Contains(inputs, f) {
				kept = append(kept, f)
			}
		}
		st.files.Set(append(kept, out))
		st.compacted.Set(append(slices.Clone(st.compacted.Get()), inputs...))
		st.lock.Release(a)
		st.w.Record(sim.ClassAction, "compact", fmt.Sprintf("%s into %s", strings.Join(inputs, " "), out), "ok")
	}
}

// dischargeLoop archives the compacted files the deleter may remove (no
// reference holds them), every discharger interval.
func (st *store) dischargeLoop(a *sim.Actor) {
	for pass := 0; pass < maxPasses; pass++ {
		archived := false
		var left []string
		for _, f := range st.compacted.Get() {
			ok, err := st.del.Archive(f, archiveDir, "compacted away")
			switch {
			case ok:
				archived = true
			case err != nil:
				left = append(left, f) // kept: referenced
			}
		}
		st.compacted.Set(left)
		if archived {
			a.Sleep(st.cfg.Micros("discharger_interval_us"))
		} else {
			a.SleepIdle(st.cfg.Micros("discharger_interval_us"))
		}
	}
}

// scanLoop runs the client's scans.
func (st *store) scanLoop(a *sim.Actor) {
	for i := int64(1); i <= st.cfg.Int("scans"); i++ {
		a.Sleep(st.cfg.Micros("scan_interval_us"))
		st.scan(a, fmt.Sprintf("scan-%d", i))
	}
	st.w.Summarize("scans: %d done, %d failed", st.done, st.failed)
}

// scan picks the store's files and reads each: the design decides when
// the references are taken.
func (st *store) scan(a *sim.Actor, holder string) {
	st.lock.Acquire(a)
	files := slices.Clone(st.files.Get())
	st.w.Record(sim.ClassAction, "pick", fmt.Sprintf("%s: %s", holder, strings.Join(files, " ")), "ok")
	if st.cfg.Design == RefUnderLock {
		for _, f := range files {
			st.ref(f, holder)
		}
	}
	st.lock.Release(a)
	var refd []string
	if st.cfg.Design == RefUnderLock {
		refd = files
	}
	defer func() {
		for _, f := range refd {
			st.refs.Unref(f, holder)
		}
	}()
	for _, f := range files {
		if st.cfg.Design == LateRef {
			st.ref(f, holder)
			refd = append(refd, f)
		}
		if _, err := kit.ReadFile(st.w.FS(), f); err != nil {
			st.failed++
			st.w.Record(sim.ClassAction, "scan", holder, "failed: java.io.FileNotFoundException: "+err.Error())
			return
		}
	}
	st.done++
	st.w.Record(sim.ClassAction, "scan", fmt.Sprintf("%s: %d files", holder, len(files)), "ok")
}

func (st *store) ref(f, holder string) {
	st.refs.Ref(f, holder)
	st.w.Record(sim.ClassInfo, "ref", f, holder)
}
