package vfsmem_test

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func classifyByDir(p string) vfsmem.SpaceClass {
	switch {
	case strings.HasPrefix(p, "/live/"):
		return vfsmem.SpaceLive
	case strings.HasPrefix(p, "/pinned/"):
		return vfsmem.SpacePinned
	default:
		return vfsmem.SpaceGarbage
	}
}

func usedBytes(t *testing.T, fs *vfsmem.FS) int64 {
	t.Helper()
	du, err := fs.GetDiskUsage("/")
	require.NoError(t, err)
	return int64(du.UsedBytes)
}

func TestUsageHardLinksCountOnceUnderStrongestClass(t *testing.T) {
	s, fs := newFS(31, vfsmem.DefaultOptions())
	for _, d := range []string{"/live", "/pinned", "/garbage"} {
		require.NoError(t, fs.MkdirAll(d, 0o755))
	}
	s.Spawn("a", sim.ActorOptions{}, func(a *sim.Actor) {
		writeFile(t, fs, "/live/a", make([]byte, 1000), false)
		assert.NoError(t, fs.Link("/live/a", "/pinned/a"))  // same inode
		assert.NoError(t, fs.Link("/live/a", "/garbage/a")) // and again
		writeFile(t, fs, "/pinned/p", make([]byte, 300), false)
		writeFile(t, fs, "/garbage/g", make([]byte, 500), false)
		assert.NoError(t, fs.Link("/garbage/g", "/pinned/g")) // garbage+pinned: pinned
	})
	runDone(t, s)

	u := fs.Usage(classifyByDir)
	require.Equal(t, vfsmem.Usage{
		Files: 3, TotalBytes: 1800, LiveBytes: 1000, PinnedBytes: 800, GarbageBytes: 0,
		OrphanBytes: 0, PeakBytes: 1800,
	}, u)
	require.EqualValues(t, 1800, usedBytes(t, fs))

	// Nil classify: everything is garbage.
	u = fs.Usage(nil)
	require.EqualValues(t, 1800, u.GarbageBytes)
	require.EqualValues(t, 1800, u.TotalBytes)
	require.Equal(t, 3, u.Files)

	// Dropping the live name moves the inode to its next strongest class.
	require.NoError(t, fs.Remove("/live/a"))
	u = fs.Usage(classifyByDir)
	require.EqualValues(t, 0, u.LiveBytes)
	require.EqualValues(t, 1800, u.PinnedBytes)
	require.EqualValues(t, 1800, u.TotalBytes)
	require.EqualValues(t, 1800, usedBytes(t, fs), "the inode still has links")

	// Removing every link frees the bytes.
	require.NoError(t, fs.Remove("/pinned/a"))
	require.NoError(t, fs.Remove("/garbage/a"))
	u = fs.Usage(classifyByDir)
	require.Equal(t, 2, u.Files)
	require.EqualValues(t, 800, u.TotalBytes)
	require.EqualValues(t, 800, usedBytes(t, fs))

	// A rename keeps the inode and moves it to the new path's class.
	require.NoError(t, fs.Rename("/pinned/p", "/live/p"))
	u = fs.Usage(classifyByDir)
	require.EqualValues(t, 300, u.LiveBytes)
	require.EqualValues(t, 500, u.PinnedBytes)
	require.EqualValues(t, 800, usedBytes(t, fs))

	// A rename over an existing file drops the replaced inode.
	require.NoError(t, fs.Rename("/live/p", "/garbage/g"))
	u = fs.Usage(classifyByDir)
	require.Equal(t, 2, u.Files) // /garbage/g (300, was /live/p) and /pinned/g (500)
	require.EqualValues(t, 800, u.TotalBytes)
	require.EqualValues(t, 300, u.GarbageBytes)
	require.EqualValues(t, 500, u.PinnedBytes)
	require.Len(t, readFile(t, fs, "/garbage/g"), 300)
}

func TestUsageOrphansUntilClosed(t *testing.T) {
	s, fs := newFS(32, vfsmem.DefaultOptions())
	writeFile(t, fs, "/a.sst", make([]byte, 700), true)
	writeFile(t, fs, "/b.sst", make([]byte, 300), true)
	var during vfsmem.Usage
	var usedDuring int64
	var readDuring []byte
	s.Spawn("reader", sim.ActorOptions{Watched: true}, func(a *sim.Actor) {
		f, err := fs.Open("/a.sst")
		if !assert.NoError(t, err) {
			return
		}
		a.Sleep(sim.Second) // the GC removes the file meanwhile
		during = fs.Usage(nil)
		usedDuring = usedBytes(t, fs)
		buf := make([]byte, 1000)
		n, err := f.ReadAt(buf, 0)
		assert.Equal(t, 700, n) // an open handle still reads an unlinked file
		readDuring = buf[:n]
		assert.NoError(t, f.Close())
	})
	s.Spawn("gc", sim.ActorOptions{}, func(a *sim.Actor) {
		assert.NoError(t, fs.RemoveBecause("/a.sst", "obsolete"))
	})
	res := runDone(t, s)
	require.Empty(t, res.Observations, "reading through a handle opened before the removal is fine")
	require.Len(t, readDuring, 700)

	require.Equal(t, 1, during.Files)
	require.EqualValues(t, 700, during.OrphanBytes)
	require.EqualValues(t, 300, during.GarbageBytes)
	require.EqualValues(t, 1000, during.TotalBytes)
	require.EqualValues(t, 1000, usedDuring)

	after := fs.Usage(nil)
	require.Zero(t, after.OrphanBytes)
	require.EqualValues(t, 300, after.TotalBytes)
	require.EqualValues(t, 300, usedBytes(t, fs))

	// An orphan that keeps growing through its write handle.
	w, err := fs.Create("/c")
	require.NoError(t, err)
	_, err = w.Write(make([]byte, 100))
	require.NoError(t, err)
	require.NoError(t, fs.Remove("/c"))
	require.EqualValues(t, 100, fs.Usage(nil).OrphanBytes)
	_, err = w.Write(make([]byte, 50))
	require.NoError(t, err)
	require.EqualValues(t, 150, fs.Usage(nil).OrphanBytes)
	require.EqualValues(t, 450, usedBytes(t, fs))
	require.NoError(t, w.Close())
	require.Zero(t, fs.Usage(nil).OrphanBytes)
	require.EqualValues(t, 300, usedBytes(t, fs))

	// Two handles on one orphan: freed at the last Close.
	writeFile(t, fs, "/d", make([]byte, 40), false)
	h1, err := fs.Open("/d")
	require.NoError(t, err)
	h2, err := fs.Open("/d")
	require.NoError(t, err)
	require.NoError(t, fs.Remove("/d"))
	require.NoError(t, h1.Close())
	require.EqualValues(t, 40, fs.Usage(nil).OrphanBytes)
	require.NoError(t, h2.Close())
	require.Zero(t, fs.Usage(nil).OrphanBytes)
	require.EqualValues(t, 300, usedBytes(t, fs))
}

func TestUsagePeakBytes(t *testing.T) {
	s, fs := newFS(33, vfsmem.DefaultOptions())
	s.Spawn("a", sim.ActorOptions{}, func(a *sim.Actor) {
		writeFile(t, fs, "/big", make([]byte, 4000), false)
		assert.NoError(t, fs.Remove("/big"))
		writeFile(t, fs, "/small", make([]byte, 1000), false)
	})
	runDone(t, s)
	u := fs.Usage(nil)
	require.EqualValues(t, 1000, u.TotalBytes)
	require.EqualValues(t, 4000, u.PeakBytes)

	writeFile(t, fs, "/bigger", make([]byte, 3500), false)
	require.EqualValues(t, 4500, fs.Usage(nil).PeakBytes)

	// The peak survives a crash, which rebuilds the accounting from what
	// was synced (nothing here: the files were never synced).
	fs.Crash()
	u = fs.Usage(nil)
	require.Zero(t, u.TotalBytes)
	require.Zero(t, u.Files)
	require.EqualValues(t, 4500, u.PeakBytes)
	require.Zero(t, usedBytes(t, fs))
}

func TestUsageAfterCrashRebuild(t *testing.T) {
	_, fs := newFS(34, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/live", 0o755))
	require.NoError(t, fs.MkdirAll("/pinned", 0o755))
	writeFile(t, fs, "/live/a", make([]byte, 1000), true)
	require.NoError(t, fs.Link("/live/a", "/pinned/a"))
	syncDir(t, fs, "/pinned")
	// Synced prefix, unsynced tail.
	f, err := fs.Create("/live/b")
	require.NoError(t, err)
	syncDir(t, fs, "/live")
	_, err = f.Write(make([]byte, 200))
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	_, err = f.Write(make([]byte, 300))
	require.NoError(t, err)
	// An open orphan: gone after the crash (its handle is stale).
	writeFile(t, fs, "/live/o", make([]byte, 50), true)
	o, err := fs.Open("/live/o")
	require.NoError(t, err)
	require.NoError(t, fs.Remove("/live/o"))
	syncDir(t, fs, "/live")
	require.EqualValues(t, 1550, usedBytes(t, fs))

	fs.Crash()
	u := fs.Usage(classifyByDir)
	require.Equal(t, 2, u.Files, "hard links are recognised after the rebuild")
	require.EqualValues(t, 1200, u.TotalBytes)
	require.EqualValues(t, 1200, u.LiveBytes)
	require.Zero(t, u.OrphanBytes)
	require.EqualValues(t, 1200, usedBytes(t, fs))
	require.ErrorIs(t, o.Close(), nil) // closing a stale handle does not disturb the accounting
	require.ErrorIs(t, f.Close(), nil)
	require.EqualValues(t, 1200, usedBytes(t, fs))
	require.NoError(t, fs.Remove("/live/a"))
	require.EqualValues(t, 1200, usedBytes(t, fs), "still linked as /pinned/a")
	require.NoError(t, fs.Remove("/pinned/a"))
	require.EqualValues(t, 200, usedBytes(t, fs))
}

// Renaming a directory moves the accounting and the ledger of the files
// below it.
func TestRenameDirectoryMovesFiles(t *testing.T) {
	s, fs := newFS(35, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/snap/tmp/sub", 0o755))
	writeFile(t, fs, "/snap/tmp/a", make([]byte, 100), false)
	writeFile(t, fs, "/snap/tmp/sub/b", make([]byte, 20), false)
	writeFile(t, fs, "/snap/tmpx", make([]byte, 3), false) // a sibling with a common prefix
	require.NoError(t, fs.Rename("/snap/tmp", "/snap/1"))
	require.EqualValues(t, 123, usedBytes(t, fs))
	require.Len(t, readFile(t, fs, "/snap/1/a"), 100)
	require.Len(t, readFile(t, fs, "/snap/1/sub/b"), 20)

	ev, ok := fs.Deleted("/snap/tmp/a")
	require.True(t, ok)
	require.Equal(t, vfsmem.LifeRenamedTo, ev.Op)
	require.Equal(t, "/snap/1/a", ev.Other)
	h := fs.History("/snap/1/sub/b")
	require.Len(t, h, 1)
	require.Equal(t, vfsmem.LifeRenamedIn, h[0].Op)
	require.Equal(t, "/snap/tmp/sub/b", h[0].Other)
	_, ok = fs.Deleted("/snap/tmpx")
	require.False(t, ok)

	// The moved files are accounted under their new paths.
	u := fs.Usage(func(p string) vfsmem.SpaceClass {
		if strings.HasPrefix(p, "/snap/1/") {
			return vfsmem.SpaceLive
		}
		return vfsmem.SpaceGarbage
	})
	require.EqualValues(t, 120, u.LiveBytes)
	require.EqualValues(t, 3, u.GarbageBytes)

	// A watched actor opening a file under the old directory name is told
	// where it went.
	var err error
	s.Spawn("snap", sim.ActorOptions{Watched: true}, func(a *sim.Actor) {
		_, err = fs.Open("/snap/tmp/sub/b")
	})
	res := runDone(t, s)
	require.Error(t, err)
	obs := observationsOf(res.Observations, sim.KindOpenDeletedFile)
	require.Len(t, obs, 1)
	require.Contains(t, obs[0].Detail, "renamed-to")
	require.Contains(t, obs[0].Detail, "/snap/1/sub/b")

	// RemoveAll of the new name frees everything below it.
	require.NoError(t, fs.RemoveAll("/snap/1"))
	require.EqualValues(t, 3, usedBytes(t, fs))
	require.Equal(t, 1, fs.Usage(nil).Files)
	// Re-creating a file at an old path does not disturb the accounting.
	require.NoError(t, fs.MkdirAll("/snap/tmp", 0o755))
	writeFile(t, fs, "/snap/tmp/a", make([]byte, 7), false)
	require.EqualValues(t, 10, usedBytes(t, fs))
}

func TestRenameEdgeCases(t *testing.T) {
	_, fs := newFS(36, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/a/b", 0o755))
	writeFile(t, fs, "/a/f", []byte("f"), false)

	// Renaming a path to itself changes nothing (not even the accounting).
	require.NoError(t, fs.Rename("/a/f", "/a/f"))
	require.Equal(t, []byte("f"), readFile(t, fs, "/a/f"))
	require.EqualValues(t, 1, usedBytes(t, fs))
	require.Equal(t, []vfsmem.LifeOp{vfsmem.LifeCreated}, lifeOps(fs.History("/a/f")))

	// Renaming a directory into itself is refused; bare MemFS would unlink
	// the directory and then fail to find the destination's parent.
	err := fs.Rename("/a", "/a/b/c")
	require.ErrorIs(t, err, syscall.EINVAL)
	fi, err := fs.Stat("/a/b")
	require.NoError(t, err)
	require.True(t, fi.IsDir())
	require.Equal(t, []byte("f"), readFile(t, fs, "/a/f"))

	raw := vfs.NewStrictMem()
	require.NoError(t, raw.MkdirAll("/a/b", 0o755))
	require.Error(t, raw.Rename("/a", "/a/b/c"))
	_, err = raw.Stat("/a")
	require.ErrorIs(t, err, os.ErrNotExist, "bare MemFS should have lost the directory")
}
