// Package dulwich models Dulwich #2159 (a Python Git): the object store
// takes an os.listdir snapshot of the pack directory and opens each
// pack's .idx and .pack lazily, when a lookup first needs them; a
// concurrent `git repack -a -d` (or `gc --auto`) writes one new pack with
// every object and deletes the old packs in between, and the lazy open
// fails: FileNotFoundError: ... pack-<sha>.idx. There is no protection: a
// listing, then a lazy open. The fix (PR 2171) raises PackFileDisappeared,
// evicts the pack from the cache, rescans the directory and retries the
// lookup, with a bound — as git's own reprepare_packed_git() does.
//
// It is built with model/kit only: the object store's reader (watched by
// the oracle), a fetcher that adds packs, and the repacker (a deleter
// that honours nothing). See README.md for what is modelled and what is
// simplified.
package dulwich

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/kit"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// Name is the system's name (--system dulwich, "system dulwich").
const Name = "dulwich"

// The designs: the object store's lazy open before and after PR 2171.
const (
	// LazyOpen opens a listed pack's .idx and .pack when a lookup first
	// needs them; a pack deleted since the listing fails the lookup with
	// FileNotFoundError (#2159).
	LazyOpen = "lazy-open"
	// RescanOnDisappear turns the missing file into PackFileDisappeared:
	// the pack is evicted, the directory rescanned and the lookup retried,
	// at most max_rescans times (PR 2171).
	RescanOnDisappear = "rescan-on-disappear"
)

// packDir is the repository's pack directory.
const packDir = "/repo/.git/objects/pack"

// The pack directory's kinds: a pack and its index share a generation
// (pack-NNNNNN.pack, pack-NNNNNN.idx).
var (
	Pack  = kit.Pack(packDir)
	Index = kit.Index(packDir)
)

func op(name, summary string) model.Info { return model.Info{Name: name, Summary: summary} }

// System returns the Dulwich system.
func System() *kit.System { return kit.MustNewSystem(Definition()) }

// Definition is the system's definition.
func Definition() kit.Definition {
	return kit.Definition{
		Name:    Name,
		Summary: "Dulwich #2159: the object store lists the packs (os.listdir) and opens each .idx/.pack lazily; a concurrent repack deletes the old packs in between",
		Designs: []model.Info{
			{Name: LazyOpen, Summary: "a listed pack's .idx and .pack are opened when a lookup first needs them; a deleted one fails the lookup with FileNotFoundError (#2159)"},
			{Name: RescanOnDisappear, Summary: "a missing .idx or .pack raises PackFileDisappeared: evict the pack, rescan the directory, retry the lookup, up to max_rescans (PR 2171)"},
		},
		DefaultDesign: RescanOnDisappear,
		Settings: []kit.Setting{
			{Name: "initial_packs", Summary: "packs in the repository at the start", Default: 3, Min: 1, Max: 20},
			{Name: "objects_per_pack", Summary: "objects in each fetched pack", Default: 4, Min: 1, Max: 100},
			{Name: "pack_kib", Summary: "each fetched pack's size (a repacked pack is the sum)", Default: 4, Min: 1, Max: 1024},
			{Name: "fetches", Summary: "packs the fetcher adds during the run", Default: 4, Min: 0, Max: 50},
			{Name: "fetch_interval_us", Summary: "pause before each fetch", Default: 3000, Min: 1, Max: 1e9},
			{Name: "repacks", Summary: "repacks (git repack -a -d) during the run", Default: 3, Min: 0, Max: 50},
			{Name: "repack_interval_us", Summary: "pause before each repack", Default: 4000, Min: 1, Max: 1e9},
			{Name: "lookups", Summary: "object lookups the reader makes", Default: 12, Min: 1, Max: 200},
			{Name: "max_lookup_delay_us", Summary: "the reader's pause before each lookup is drawn in 0..this", Default: 2000, Min: 0, Max: 1e9},
			{Name: "max_rescans", Summary: "rescans of one lookup before it fails (rescan-on-disappear)", Default: 3, Min: 0, Max: 100},
		},
		Actors: actors,
		Setup:  setup,
	}
}

func actors(kit.Config) []kit.Actor {
	fp := kit.Declared()
	return []kit.Actor{
		{Name: "reader", Summary: "the object store: lists the packs, looks objects up, opening each pack's .idx and .pack lazily (watched by the oracle)", FS: true, Watched: true, Footprint: fp,
			Ops: []model.Info{op("list", "the pack directory listed (the pack cache's snapshot)"), op("lookup", "an object looked up"), op("rescan", "a pack disappeared: evicted, directory rescanned")}},
		{Name: "fetcher", Summary: "adds a pack with new objects every fetch_interval_us (git fetch)", FS: true, Footprint: fp,
			Ops: []model.Info{op("fetch", "a pack added")}},
		{Name: "repacker", Summary: "git repack -a -d: writes one pack with every object, then deletes the old packs", FS: true, Footprint: fp,
			Ops: append([]model.Info{op("repack", "a repack done")}, kit.DeleterOps...)},
	}
}

// repo is one run's state.
type repo struct {
	w   *kit.World
	cfg kit.Config
	// nextPack numbers packs, nextObj objects (an object's id is its
	// number; every object ever written stays in some pack).
	nextPack *kit.Var[uint64]
	nextObj  *kit.Var[int]
	// del is the repacker's deleter: it honours no protection.
	del *kit.Deleter
	// found, failed, rescans are the reader's counts for the summary.
	found, failed, rescans int
}

func setup(w *kit.World, cfg kit.Config) error {
	if err := w.MkdirAll(packDir); err != nil {
		return err
	}
	r := &repo{w: w, cfg: cfg, del: kit.NewDeleter(w, "repack", nil, nil)}
	r.nextPack = kit.NewVar(w, "next-pack", uint64(0))
	r.nextObj = kit.NewVar(w, "next-object", 0)
	for range cfg.Int("initial_packs") {
		if _, err := r.fetch(); err != nil {
			return err
		}
	}
	w.Spawn("reader", r.readLoop)
	w.Spawn("fetcher", r.fetchLoop)
	w.Spawn("repacker", r.repackLoop)
	return nil
}

// writePack writes a pack holding objects and its index (the .pack first,
// then the .idx, as git does), and returns the pack's path.
func (r *repo) writePack(objects []int, kib int64) (string, error) {
	n := r.nextPack.Get()
	r.nextPack.Set(n + 1)
	ids := make([]string, len(objects))
	for i, o := range objects {
		ids[i] = strconv.Itoa(o)
	}
	if err := kit.WriteFile(r.w.FS(), Pack.Path(n), make([]byte, kib*1024)); err != nil {
		return "", err
	}
	if err := kit.WriteFile(r.w.FS(), Index.Path(n), []byte(strings.Join(ids, " "))); err != nil {
		return "", err
	}
	return Pack.Path(n), nil
}

// fetch adds a pack of objects_per_pack new objects; they exist (a lookup
// may ask for them) once the pack and its index are written.
func (r *repo) fetch() (string, error) {
	first := r.nextObj.Get()
	var objs []int
	for i := range int(r.cfg.Int("objects_per_pack")) {
		objs = append(objs, first+i)
	}
	p, err := r.writePack(objs, r.cfg.Int("pack_kib"))
	if err == nil {
		r.nextObj.Set(first + len(objs))
	}
	return p, err
}

func (r *repo) fetchLoop(a *sim.Actor) {
	for range r.cfg.Int("fetches") {
		a.Sleep(r.cfg.Micros("fetch_interval_us"))
		p, err := r.fetch()
		r.w.Record(sim.ClassAction, "fetch", p, result(err))
	}
}

// repackLoop runs git repack -a -d: list the packs, write one pack with
// every object they hold, then delete each old pack and its index.
func (r *repo) repackLoop(a *sim.Actor) {
	for range r.cfg.Int("repacks") {
		a.Sleep(r.cfg.Micros("repack_interval_us"))
		packs, err := listPacks(r.w)
		if err != nil || len(packs) < 2 {
			continue
		}
		var objs []int
		for _, p := range packs {
			idx, _ := Pack.Sibling(p, Index)
			ids, err := r.readIndex(idx, kit.ReadFile)
			if err != nil {
				r.w.Record(sim.ClassAction, "repack", "", "failed: "+err.Error())
				return
			}
			objs = append(objs, ids...)
		}
		slices.Sort(objs)
		np, err := r.writePack(objs, r.cfg.Int("pack_kib")*int64(len(packs)))
		if err != nil {
			r.w.Record(sim.ClassAction, "repack", "", "failed: "+err.Error())
			continue
		}
		for _, p := range packs {
			idx, _ := Pack.Sibling(p, Index)
			_, _ = r.del.Delete(p, "redundant after repack into "+np)
			_, _ = r.del.Delete(idx, "redundant after repack into "+np)
		}
		r.w.Record(sim.ClassAction, "repack", fmt.Sprintf("%d packs into %s (%d objects)", len(packs), np, len(objs)), "ok")
	}
}

// listPacks lists the pack directory (one os.listdir) and returns the
// packs that have an index, as git discovers them: a pack is written
// before its index, so a listed index means its pack is complete.
func listPacks(w *kit.World) ([]string, error) {
	idxs, err := kit.List(w.FS(), Index)
	if err != nil {
		return nil, err
	}
	packs := make([]string, len(idxs))
	for i, idx := range idxs {
		packs[i], _ = Index.Sibling(idx, Pack)
	}
	return packs, nil
}

// readIndex reads an index file through read and returns its object ids.
func (r *repo) readIndex(idx string, read func(fs *vfsmem.FS, p string) ([]byte, error)) ([]int, error) {
	data, err := read(r.w.FS(), idx)
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, f := range strings.Fields(string(data)) {
		id, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", idx, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// pack is one entry of the reader's pack cache: its paths, and what has
// been loaded lazily.
type pack struct {
	path, idx string
	objects   []int // nil until the index is loaded
	data      bool  // the pack's data has been opened (and stays open)
}

// errDisappeared is Dulwich's PackFileDisappeared: a listed pack's file
// is gone.
var errDisappeared = errors.New("PackFileDisappeared")

// errNotFound is a lookup of an object no listed pack holds.
var errNotFound = errors.New("object not found")

// readLoop is the object store's reader: it lists the packs once (the
// pack cache), then looks objects up.
func (r *repo) readLoop(a *sim.Actor) {
	cache, err := r.scan(nil)
	if err != nil {
		r.w.Record(sim.ClassAction, "list", packDir, "failed: "+err.Error())
		return
	}
	for range r.cfg.Int("lookups") {
		if d := r.cfg.Int("max_lookup_delay_us"); d > 0 {
			a.Sleep(sim.Micros(r.w.Scheduler().Intn(int(d) + 1)))
		}
		obj := r.w.Scheduler().Intn(r.nextObj.Get())
		cache = r.lookup(obj, cache)
	}
	r.w.Summarize("lookups: %d found, %d failed, %d rescans", r.found, r.failed, r.rescans)
}

// scan lists the pack directory (os.listdir) and returns the cache: the
// entries of old for packs still listed (their loaded state kept), new
// ones for the rest.
func (r *repo) scan(old []*pack) ([]*pack, error) {
	paths, err := listPacks(r.w)
	if err != nil {
		return nil, err
	}
	var cache []*pack
	for _, p := range paths {
		i := slices.IndexFunc(old, func(e *pack) bool { return e.path == p })
		if i >= 0 {
			cache = append(cache, old[i])
			continue
		}
		idx, _ := Pack.Sibling(p, Index)
		cache = append(cache, &pack{path: p, idx: idx})
	}
	names := make([]string, len(cache))
	for i, e := range cache {
		names[i] = strings.TrimPrefix(e.path, packDir+"/")
	}
	r.w.Record(sim.ClassAction, "list", strings.Join(names, " "), "ok")
	return cache, nil
}

// lookup finds obj in the cache's packs, loading each pack's index and
// data lazily. A miss rescans once (a fetched pack is not in the cache
// yet; the model's assumption). With rescan-on-disappear a pack whose file is
// gone is evicted and the directory rescanned, at most max_rescans
// times. It returns the cache as it is afterwards.
func (r *repo) lookup(obj int, cache []*pack) []*pack {
	missRescanned := false
	for rescans := int64(0); ; {
		p, err := r.find(obj, cache)
		switch {
		case err == nil:
			r.found++
			r.w.Record(sim.ClassAction, "lookup", fmt.Sprintf("object %d", obj), "found in "+strings.TrimPrefix(p.path, packDir+"/"))
			return cache
		case errors.Is(err, errNotFound) && !missRescanned:
			missRescanned = true
		case errors.Is(err, errDisappeared) && r.cfg.Design == RescanOnDisappear && rescans < r.cfg.Int("max_rescans"):
			rescans++
			r.rescans++
			cache = slices.DeleteFunc(cache, func(e *pack) bool { return e == p })
			r.w.Record(sim.ClassAction, "rescan", strings.TrimPrefix(p.path, packDir+"/")+" evicted", err.Error())
		default:
			r.failed++
			r.w.Record(sim.ClassAction, "lookup", fmt.Sprintf("object %d", obj), "failed: "+err.Error())
			if errors.Is(err, errDisappeared) {
				// The rescans are spent: the lookup raises to its caller.
				r.w.Observe(sim.KindLiveness, fmt.Sprintf("lookup of object %d gave up after %d rescans: %v", obj, rescans, err))
			}
			return cache
		}
		var serr error
		if cache, serr = r.scan(cache); serr != nil {
			r.failed++
			r.w.Record(sim.ClassAction, "lookup", fmt.Sprintf("object %d", obj), "failed: "+serr.Error())
			return cache
		}
	}
}

// find returns the pack of cache holding obj, its index and data loaded.
// A file that is gone is errDisappeared (rescan-on-disappear: opened as a
// miss the design handles) or the FileNotFoundError itself (lazy-open).
func (r *repo) find(obj int, cache []*pack) (*pack, error) {
	read := kit.ReadFile
	if r.cfg.Design == RescanOnDisappear {
		read = readExpectMissing
	}
	gone := func(p *pack, err error) error {
		if errors.Is(err, os.ErrNotExist) && r.cfg.Design == RescanOnDisappear {
			return fmt.Errorf("%w: %s: %v", errDisappeared, strings.TrimPrefix(p.path, packDir+"/"), err)
		}
		return fmt.Errorf("FileNotFoundError: %w", err)
	}
	for _, p := range cache {
		if p.objects == nil {
			ids, err := r.readIndex(p.idx, read)
			if err != nil {
				return p, gone(p, err)
			}
			p.objects = ids
		}
		if !slices.Contains(p.objects, obj) {
			continue
		}
		if !p.data {
			if _, err := read(r.w.FS(), p.path); err != nil {
				return p, gone(p, err)
			}
			p.data = true
		}
		return p, nil
	}
	return nil, fmt.Errorf("%w: %d", errNotFound, obj)
}

// readExpectMissing reads p whole, opened as a caller that handles a
// missing file (vfsmem's OpenExpectMissing): the oracle does not flag the
// miss the design handles.
func readExpectMissing(fs *vfsmem.FS, p string) ([]byte, error) {
	f, err := fs.OpenExpectMissing(p)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", p, err)
	}
	buf := make([]byte, info.Size())
	if _, err := f.ReadAt(buf, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return buf, nil
}

// result renders an error for a trace's result column.
func result(err error) string {
	if err != nil {
		return "failed: " + err.Error()
	}
	return "ok"
}
