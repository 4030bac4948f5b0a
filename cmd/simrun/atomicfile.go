package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// writeFileAtomic writes data to path through a synced temporary file in
// the same directory, so a reader never sees a half-written file. Without
// force an existing path is left alone (a usage error naming flag); the
// final step is then a hard link, which fails if the path appeared
// meanwhile, so nothing is clobbered. With force it is a rename.
func writeFileAtomic(flag, path string, data []byte, force bool) error {
	exists := func() error {
		return usagef("%s: %s already exists; not overwriting it (use --force)", flag, path)
	}
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return exists()
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return usagef("%s: %v", flag, err)
	}
	name := tmp.Name()
	defer os.Remove(name) // no-op once renamed (a linked temp file goes too)
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	_ = os.Chmod(name, 0o644)
	if !force {
		err := os.Link(name, path)
		if err == nil {
			return nil
		}
		if errors.Is(err, fs.ErrExist) {
			return exists()
		}
		// The filesystem may not support hard links: fall back to rename.
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("rename %s to %s: %w", name, path, err)
	}
	return nil
}
