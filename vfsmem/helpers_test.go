package vfsmem_test

import (
	"io"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
	"github.com/stretchr/testify/require"
)

// newFS returns a scheduler (trace kept) and an FS over it.
func newFS(seed uint64, opts vfsmem.Options) (*sim.Scheduler, *vfsmem.FS) {
	s := sim.New(sim.NewPRNG(seed), sim.Config{KeepTrace: true})
	return s, vfsmem.New(s, opts)
}

// writeFile creates p with data; if sync is set it syncs the file and its
// parent directory so both survive a crash. It works in set-up mode and
// inside actors.
func writeFile(t testing.TB, fs *vfsmem.FS, p string, data []byte, sync bool) {
	t.Helper()
	f, err := fs.Create(p)
	require.NoError(t, err, "create %s", p)
	n, err := f.Write(data)
	require.NoError(t, err, "write %s", p)
	require.Equal(t, len(data), n)
	if sync {
		require.NoError(t, f.Sync())
		syncDir(t, fs, fs.PathDir(p))
	}
	require.NoError(t, f.Close())
}

func syncDir(t testing.TB, fs *vfsmem.FS, dir string) {
	t.Helper()
	d, err := fs.OpenDir(dir)
	require.NoError(t, err, "open dir %s", dir)
	require.NoError(t, d.Sync())
	require.NoError(t, d.Close())
}

// readFile returns p's contents.
func readFile(t testing.TB, fs vfs.FS, p string) []byte {
	t.Helper()
	f, err := fs.Open(p)
	require.NoError(t, err, "open %s", p)
	defer func() { require.NoError(t, f.Close()) }()
	b, err := io.ReadAll(f)
	require.NoError(t, err, "read %s", p)
	return b
}

// ioEvents returns the IO-class events of a trace.
func ioEvents(evs []sim.Event) []sim.Event {
	var out []sim.Event
	for _, e := range evs {
		if e.Class == sim.ClassIO {
			out = append(out, e)
		}
	}
	return out
}

// observationsOf returns the observations of kind k.
func observationsOf(obs []sim.Observation, k sim.Kind) []sim.Observation {
	var out []sim.Observation
	for _, o := range obs {
		if o.Kind == k {
			out = append(out, o)
		}
	}
	return out
}

// requireNoPanics fails if any actor panicked during the run.
func requireNoPanics(t testing.TB, res sim.Result) {
	t.Helper()
	for _, o := range res.Observations {
		if o.Kind == sim.KindPanic {
			require.Failf(t, "actor panicked", "%s: %s\n%s", o.Actor, o.Detail, o.Stack)
		}
	}
}

// runDone runs s and requires that every actor finished without panicking.
func runDone(t testing.TB, s *sim.Scheduler) sim.Result {
	t.Helper()
	res := s.Run()
	requireNoPanics(t, res)
	require.Equal(t, sim.EndDone, res.End, "run ended early")
	return res
}

// ops returns the op names of events.
func ops(evs []sim.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Op
	}
	return out
}

func join(ss []string) string { return strings.Join(ss, ",") }
