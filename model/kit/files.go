package kit

import (
	"fmt"
	"io"
	"os"
	"path"

	"github.com/snapsim/snapsim/vfsmem"
)

// List lists the files of kind k, sorted by path (List sorts: the order
// comes from names, never from a map): the listing step of every
// list-then-open bug. It pins nothing; the files can be deleted at the
// next scheduling point. It is one filesystem call (a scheduling point).
func List(fs *vfsmem.FS, k Kind) ([]string, error) {
	names, err := fs.List(k.Dir)
	if err != nil {
		return nil, fmt.Errorf("list %s files in %s: %w", k.Name, k.Dir, err)
	}
	var out []string
	for _, n := range names {
		if p := path.Join(k.Dir, n); k.Match(p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// WriteFile creates p with data, syncs and closes it (four scheduling
// points). The directory must exist (World.MkdirAll in Setup).
func WriteFile(fs *vfsmem.FS, p string, data []byte) error {
	f, err := fs.Create(p)
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync %s: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", p, err)
	}
	return nil
}

// ReadFile opens p, reads it whole and closes it. The open is the one the
// oracle watches: by a watched actor, an open of a path another step
// deleted raises open-deleted-file, and the error wraps os.ErrNotExist.
func ReadFile(fs *vfsmem.FS, p string) ([]byte, error) { return ReadFileChecked(fs, p, nil) }

// ReadFileChecked is ReadFile with check run in the open's step, after its
// scheduling point and before the open (vfsmem's OpenChecked): a server
// that checks a generation and renews its reservation as it opens a file
// for a client does both with nothing scheduled in between. An error from
// check is returned without opening.
func ReadFileChecked(fs *vfsmem.FS, p string, check func() error) ([]byte, error) {
	f, err := fs.OpenChecked(p, check)
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

// MkdirAll makes dir (and its parents) on the world's filesystem; in
// Setup it is no scheduling point.
func (w *World) MkdirAll(dir string) error {
	if err := w.fs.MkdirAll(dir, os.ModePerm); err != nil {
		return fmt.Errorf("mkdir %s: %w", dir, err)
	}
	return nil
}
