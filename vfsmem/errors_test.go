package vfsmem_test

import (
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Error paths return errors (never panic), are recorded in the trace, and
// leave the ledger and the accounting alone.
func TestErrorPaths(t *testing.T) {
	s, fs := newFS(41, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/db/sub", 0o755))
	writeFile(t, fs, "/db/f", []byte("data"), false)

	type result struct {
		name string
		err  error
	}
	var results []result
	s.Spawn("a", sim.ActorOptions{Watched: true}, func(a *sim.Actor) {
		add := func(name string, err error) { results = append(results, result{name, err}) }
		_, err := fs.Create("/missing/f")
		add("create in missing dir", err)
		_, err = fs.OpenDir("/missing")
		add("open-dir missing", err)
		_, err = fs.OpenReadWrite("/missing/f")
		add("open-rw in missing dir", err)
		add("remove missing", fs.Remove("/db/none"))
		add("link to existing", fs.Link("/db/f", "/db/f"))
		_, err = fs.ReuseForWrite("/db/none", "/db/g")
		add("reuse missing", err)
		add("mkdir through a file", fs.MkdirAll("/db/f/x", 0o755))
		add("remove-all root", fs.RemoveAll("/"))
		_, err = fs.Lock("/missing/LOCK")
		add("lock in missing dir", err)
	})
	res := runDone(t, s)
	require.Empty(t, res.Observations, "no path here was ever deleted")
	for _, r := range results {
		require.Error(t, r.err, r.name)
	}
	byName := map[string]error{}
	for _, r := range results {
		byName[r.name] = r.err
	}
	for _, name := range []string{"create in missing dir", "open-dir missing", "open-rw in missing dir", "remove missing", "reuse missing"} {
		require.ErrorIs(t, byName[name], os.ErrNotExist, name)
	}
	require.ErrorIs(t, byName["link to existing"], os.ErrExist)
	// MemFS's bare ErrNotExist from Remove gets the path.
	require.Equal(t, "remove /db/none: file does not exist", byName["remove missing"].Error())

	// Failed operations are in the trace with their error.
	var failed int
	for _, e := range ioEvents(res.Events) {
		if e.Step > 0 && e.Result != "ok" {
			failed++
		}
	}
	require.Equal(t, len(results), failed)

	// The FS is intact.
	require.Equal(t, []byte("data"), readFile(t, fs, "/db/f"))
	names, err := fs.List("/db")
	require.NoError(t, err)
	require.Equal(t, []string{"f", "sub"}, names)
	require.Equal(t, []string{"/db/f"}, fs.Paths())
	require.EqualValues(t, 4, fs.Usage(nil).TotalBytes)
}

func TestHandleMisuse(t *testing.T) {
	_, fs := newFS(42, vfsmem.DefaultOptions())
	require.NoError(t, fs.MkdirAll("/db", 0o755))
	writeFile(t, fs, "/db/f", []byte("data"), false)

	// Writing through a read-only handle fails and changes nothing.
	r, err := fs.Open("/db/f")
	require.NoError(t, err)
	_, err = r.Write([]byte("x"))
	require.Error(t, err)
	require.NoError(t, r.Close())
	require.Equal(t, []byte("data"), readFile(t, fs, "/db/f"))
	require.EqualValues(t, 4, fs.Usage(nil).TotalBytes)

	// Writing to a directory handle is EISDIR; reading one is an error.
	d, err := fs.OpenDir("/db")
	require.NoError(t, err)
	_, err = d.Write([]byte("x"))
	require.ErrorIs(t, err, syscall.EISDIR)
	_, err = d.Read(make([]byte, 1))
	require.Error(t, err)
	fi, err := d.Stat()
	require.NoError(t, err)
	require.True(t, fi.IsDir())
	require.Equal(t, "db", fi.Name())
	require.NoError(t, d.Close())

	// Removing a non-empty directory fails; the files stay.
	err = fs.Remove("/db")
	require.Error(t, err)
	require.Equal(t, []byte("data"), readFile(t, fs, "/db/f"))

	// A held lock cannot be taken twice; released, it can.
	l, err := fs.Lock("/db/LOCK")
	require.NoError(t, err)
	_, err = fs.Lock("/db/LOCK")
	require.ErrorIs(t, err, syscall.EAGAIN)
	require.NoError(t, l.Close())
	l, err = fs.Lock("/db/LOCK")
	require.NoError(t, err)
	require.NoError(t, l.Close())

	// FileInfo renders for debugging.
	fi, err = fs.Stat("/db/f")
	require.NoError(t, err)
	require.Equal(t, "f (4 bytes)", fmt.Sprint(fi))
	require.EqualValues(t, 4, fi.Size())
	require.False(t, fi.IsDir())

	// Read-write reuse of a file keeps working after a rename.
	f, err := fs.ReuseForWrite("/db/f", "/db/g")
	require.NoError(t, err)
	_, err = f.Write([]byte("DA"))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Equal(t, []byte("DAta"), readFile(t, fs, "/db/g"))
}

// A file created directly on the underlying MemFS (white-box set-up) is
// found again by a crash's rebuild, including its hard links.
func TestCrashRebuildFindsUnaccountedFiles(t *testing.T) {
	_, fs := newFS(43, vfsmem.DefaultOptions())
	mem := fs.Mem()
	require.NoError(t, mem.MkdirAll("/raw", 0o755))
	f, err := mem.Create("/raw/x")
	require.NoError(t, err)
	_, err = f.Write(make([]byte, 64))
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
	require.NoError(t, mem.Link("/raw/x", "/raw/y"))
	for _, p := range []string{"/raw", "/"} {
		d, err := mem.OpenDir(p)
		require.NoError(t, err)
		require.NoError(t, d.Sync())
		require.NoError(t, d.Close())
	}
	require.Zero(t, fs.Usage(nil).TotalBytes, "not accounted before the rebuild")
	fs.Crash()
	u := fs.Usage(nil)
	require.Equal(t, 1, u.Files)
	require.EqualValues(t, 64, u.TotalBytes)
	require.Equal(t, []vfsmem.LifeOp{vfsmem.LifeBackFromCr}, lifeOps(fs.History("/raw/y")))
	assert.Equal(t, []string{"/raw/x", "/raw/y"}, fs.Paths())
}
