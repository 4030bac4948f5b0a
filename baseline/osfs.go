package baseline

import (
	"io"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/vfs"
)

// dirFS is vfs.Default rooted at a directory: the model's absolute paths
// ("/db/000007.sst") become paths under root. vfsmem keeps its own slash-path
// arithmetic, so PathJoin and friends are vfs.Default's and unused.
type dirFS struct {
	vfs.FS
	root string
}

// newDirFS returns the OS filesystem rooted at root, creating root.
func newDirFS(root string) (*dirFS, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	return &dirFS{FS: vfs.Default, root: root}, nil
}

func (d *dirFS) p(name string) string { return filepath.Join(d.root, filepath.FromSlash(name)) }

func (d *dirFS) Create(name string) (vfs.File, error) { return d.FS.Create(d.p(name)) }
func (d *dirFS) Link(o, n string) error               { return d.FS.Link(d.p(o), d.p(n)) }
func (d *dirFS) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	return d.FS.Open(d.p(name), opts...)
}
func (d *dirFS) OpenReadWrite(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	return d.FS.OpenReadWrite(d.p(name), opts...)
}
func (d *dirFS) OpenDir(name string) (vfs.File, error) { return d.FS.OpenDir(d.p(name)) }
func (d *dirFS) Remove(name string) error              { return d.FS.Remove(d.p(name)) }
func (d *dirFS) RemoveAll(name string) error           { return d.FS.RemoveAll(d.p(name)) }
func (d *dirFS) Rename(o, n string) error              { return d.FS.Rename(d.p(o), d.p(n)) }
func (d *dirFS) ReuseForWrite(o, n string) (vfs.File, error) {
	return d.FS.ReuseForWrite(d.p(o), d.p(n))
}
func (d *dirFS) MkdirAll(dir string, perm os.FileMode) error { return d.FS.MkdirAll(d.p(dir), perm) }
func (d *dirFS) Lock(name string) (io.Closer, error)         { return d.FS.Lock(d.p(name)) }
func (d *dirFS) List(dir string) ([]string, error)           { return d.FS.List(d.p(dir)) }
func (d *dirFS) Stat(name string) (os.FileInfo, error)       { return d.FS.Stat(d.p(name)) }
func (d *dirFS) GetDiskUsage(name string) (vfs.DiskUsage, error) {
	return d.FS.GetDiskUsage(d.p(name))
}
