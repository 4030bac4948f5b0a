package vfsmem

import (
	"os"
	"path"
	"sort"

	"github.com/snapsim/snapsim/sim"
)

// Crash simulates a power loss: MemFS is reset to its synced state, every
// open handle is invalidated (trap 3), space accounting is rebuilt from what
// survived, and the ledger records files lost or resurrected by the reset.
// It is a scheduling point when called from an actor.
func (fs *FS) Crash() {
	fs.s.TouchAll() // every file and handle
	fs.enter("crash", "/")
	before := fs.livePaths()
	fs.generation++
	fs.stats.Crashes++
	if fs.memfs == nil {
		panic("vfsmem: Crash needs the MemFS (this FS wraps Options.NewInner)")
	}
	fs.memfs.ResetToSyncedState()
	fs.rebuild()
	after := fs.livePaths()
	inAfter := make(map[string]bool, len(after))
	for _, p := range after {
		inAfter[p] = true
	}
	inBefore := make(map[string]bool, len(before))
	for _, p := range before {
		inBefore[p] = true
		if !inAfter[p] {
			fs.life(p, LifeLostCrash, "", "not synced")
		}
	}
	for _, p := range after {
		if !inBefore[p] {
			fs.life(p, LifeBackFromCr, "", "removal not synced")
		}
	}
	fs.finish("crash", "/", 0, nil)
	fs.s.Record(sim.ClassAction, "crash", "filesystem reset to synced state", "")
}

// livePaths returns every accounted file path, sorted.
func (fs *FS) livePaths() []string {
	out := make([]string, 0, len(fs.sp.byPath))
	for p := range fs.sp.byPath {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// rebuild walks MemFS from the root and re-derives directories and inodes.
// Hard links are recognised by FileInfo identity (MemFS returns its node).
func (fs *FS) rebuild() {
	peak := fs.sp.peak
	fs.sp = newSpace()
	fs.sp.peak = peak
	fs.dirs = map[string]bool{"/": true}
	byNode := make(map[os.FileInfo]*inode)
	var walk func(dir string)
	walk = func(dir string) {
		names, err := fs.mem.List(dir)
		if err != nil {
			return
		}
		sort.Strings(names)
		for _, n := range names {
			p := path.Join(dir, n)
			fi, err := fs.mem.Stat(p)
			if err != nil {
				continue
			}
			if fi.IsDir() {
				fs.dirs[p] = true
				walk(p)
				continue
			}
			if ino, ok := byNode[fi]; ok {
				fs.sp.link(p, ino)
				continue
			}
			ino := fs.sp.create(p)
			fs.sp.grow(ino, fi.Size())
			byNode[fi] = ino
		}
	}
	walk("/")
}
