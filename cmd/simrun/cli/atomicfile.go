package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// checkOutput checks, before any work starts, that path can be written by
// the command whose flag names it: its directory exists and is writable,
// the path is not a directory, and (without force) it does not exist yet.
// A failure is a usage error naming the flag, so no work is lost to a path
// that fails only at the end.
func checkOutput(flag, path string, force bool) error {
	if path == "" {
		return usagef("%s: empty path; want a file name", flag)
	}
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return usagef("%s: %s is a directory; want a file name", flag, path)
		}
		if !force {
			return usagef("%s: %s already exists; not overwriting it (use --force)", flag, path)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return usagef("%s: %v", flag, err)
	}
	return checkDir(flag, filepath.Dir(path))
}

// checkDir checks that dir exists, is a directory and accepts a new file.
func checkDir(flag, dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return usagef("%s: directory %s does not exist", flag, dir)
	case err != nil:
		return usagef("%s: %v", flag, err)
	case !fi.IsDir():
		return usagef("%s: %s is not a directory", flag, dir)
	}
	probe, err := os.CreateTemp(dir, ".simrun-probe-*")
	if err != nil {
		return usagef("%s: cannot write in %s: %v", flag, dir, errors.Unwrap(err))
	}
	name := probe.Name()
	probe.Close()
	os.Remove(name)
	return nil
}

// writeFileAtomic writes data to path (mode 0644) through a synced
// temporary file in the same directory, so a reader never sees a
// half-written file. Without force an existing path is left alone (a usage
// error naming flag). The temporary file is registered with trackTemp, so
// an aborted process removes it.
func writeFileAtomic(flag, path string, data []byte, force bool) error {
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return usagef("%s: %s already exists; not overwriting it (use --force)", flag, path)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return usagef("%s: %v", flag, err)
	}
	name := tmp.Name()
	untrack := trackTemp(name)
	defer func() {
		os.Remove(name) // no-op once renamed (a linked temp file goes too)
		untrack()
	}()
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", name, err)
	}
	err = placeFile(name, path, force)
	if err != nil && isUsage(err) {
		return usagef("%s: %v", flag, errors.Unwrap(err))
	}
	return err
}

// placeFile moves the finished temporary file tmp to path. Without force
// the final step is a hard link, which fails if path appeared meanwhile,
// so nothing is clobbered (a usage error); with force, or on a filesystem
// without hard links, it is a rename.
func placeFile(tmp, path string, force bool) error {
	if !force {
		err := os.Link(tmp, path)
		if err == nil {
			return os.Remove(tmp)
		}
		if errors.Is(err, fs.ErrExist) {
			return usagef("%s already exists; not overwriting it (use --force)", path)
		}
		// The filesystem may not support hard links: fall back to rename.
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmp, path, err)
	}
	return nil
}
