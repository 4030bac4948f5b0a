package vfsmem_test

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
	"github.com/stretchr/testify/require"
)

// scriptedRun is a small storage-engine-like workload over the FS with every
// fault kind enabled: a flusher writes SSTs, a GC removes old ones, a watched
// snapshot actor lists and then opens them, and a crasher resets the FS once.
type scriptedRun struct {
	Result  sim.Result
	Faults  vfsmem.FaultStats
	Usage   vfsmem.Usage
	Paths   []string
	History map[string][]vfsmem.LifeEvent
	Log     string
}

func runScripted(t *testing.T, seed uint64, strategy sim.Strategy) scriptedRun {
	t.Helper()
	opts := vfsmem.DefaultOptions()
	opts.Faults = vfsmem.Faults{
		OpenEIOPermille: 60, ReadEIOPermille: 60, WriteEIOPermille: 60,
		SpikePermille: 50, SpikeMicros: 2000, StallPermille: 30, StallMicros: 3000,
	}
	opts.QuotaBytes = 64 << 10
	s := sim.New(sim.NewPRNG(seed), sim.Config{KeepTrace: true, Strategy: strategy})
	fs := vfsmem.New(s, opts)
	require.NoError(t, fs.MkdirAll("/db", 0o755))
	require.NoError(t, fs.MkdirAll("/snap", 0o755))
	for i := 0; i < 4; i++ {
		writeFile(t, fs, fmt.Sprintf("/db/%06d.sst", i), make([]byte, 1000+100*i), true)
	}

	var log strings.Builder
	note := func(format string, args ...any) {
		a := s.Current()
		fmt.Fprintf(&log, "%d %s: %s\n", s.Step(), a.Name(), fmt.Sprintf(format, args...))
	}
	s.Spawn("flusher", sim.ActorOptions{}, func(a *sim.Actor) {
		for i := 4; i < 14; i++ {
			p := fmt.Sprintf("/db/%06d.sst", i)
			f, err := fs.Create(p)
			if err != nil {
				note("create %s: %v", p, err)
				continue
			}
			buf := make([]byte, 500+s.Intn(3000))
			for j := range buf {
				buf[j] = byte(i)
			}
			_, err = f.Write(buf)
			note("write %s %d: %v", p, len(buf), err)
			if s.Intn(2) == 0 {
				note("sync %s: %v", p, f.Sync())
			}
			note("close %s: %v", p, f.Close())
			a.Sleep(sim.Micros(100 + s.Intn(400)))
		}
	})
	s.Spawn("gc", sim.ActorOptions{Daemon: true}, func(a *sim.Actor) {
		for n := 0; ; n++ {
			names, err := fs.List("/db")
			if err == nil && len(names) > 3 {
				victim := "/db/" + names[0]
				note("remove %s: %v", victim, fs.RemoveBecause(victim, fmt.Sprintf("obsolete after compaction %d", n)))
			}
			a.Sleep(sim.Micros(300 + s.Intn(700)))
		}
	})
	s.Spawn("snap", sim.ActorOptions{Watched: true}, func(a *sim.Actor) {
		for round := 0; round < 3; round++ {
			names, err := fs.List("/db")
			note("list: %v %v", names, err)
			a.Sleep(sim.Micros(s.Intn(1500)))
			for _, nm := range names {
				f, err := fs.Open("/db/" + nm)
				if err != nil {
					note("open %s: %v", nm, err)
					continue
				}
				b, err := io.ReadAll(f)
				note("read %s: %d %v", nm, len(b), err)
				note("close %s: %v", nm, f.Close())
				err = fs.Link("/db/"+nm, fmt.Sprintf("/snap/%d-%s", round, nm))
				note("link %s: %v", nm, err)
			}
		}
	})
	s.Spawn("crasher", sim.ActorOptions{}, func(a *sim.Actor) {
		a.Sleep(sim.Micros(1000 + s.Intn(3000)))
		fs.Crash()
		note("crashed")
	})
	res := s.Run()
	requireNoPanics(t, res)
	hist := map[string][]vfsmem.LifeEvent{}
	for _, p := range fs.Paths() {
		hist[p] = fs.History(p)
	}
	return scriptedRun{Result: res, Faults: fs.Faults(), Usage: fs.Usage(nil), Paths: fs.Paths(),
		History: hist, Log: log.String()}
}

func TestDeterministicTraceHash(t *testing.T) {
	for _, st := range []sim.Strategy{{Name: "random"}, {Name: "pct", Depth: 3, Horizon: 300}} {
		t.Run(st.String(), func(t *testing.T) {
			a := runScripted(t, 42, st)
			b := runScripted(t, 42, st)
			require.Equal(t, sim.FormatHash(a.Result.TraceHash), sim.FormatHash(b.Result.TraceHash))
			require.Equal(t, a, b, "same seed, different run")

			// The run exercised what it claims to.
			require.Equal(t, sim.EndDone, a.Result.End)
			require.Equal(t, 1, a.Faults.Crashes)
			require.Positive(t, a.Faults.EIO+a.Faults.Spikes+a.Faults.Stalls)
			require.Greater(t, a.Result.Steps, int64(50))

			// Different seeds give different runs.
			distinct := map[uint64]bool{a.Result.TraceHash: true}
			for seed := uint64(43); seed < 48; seed++ {
				distinct[runScripted(t, seed, st).Result.TraceHash] = true
			}
			require.Len(t, distinct, 6)
		})
	}
}

// The trace hash does not depend on how many OS threads run the test: the
// kernel runs one actor at a time, and nothing in vfsmem reads the wall clock
// or iterates a map into the trace.
func TestDeterministicAcrossGOMAXPROCS(t *testing.T) {
	prev := runtime.GOMAXPROCS(1)
	one := runScripted(t, 7, sim.Strategy{})
	runtime.GOMAXPROCS(max(prev, 4))
	many := runScripted(t, 7, sim.Strategy{})
	runtime.GOMAXPROCS(prev)
	require.Equal(t, one, many)
}

// At least one seed in a small range makes the snapshot actor open a file the
// GC removed between its list and its open: the oracle fires, deterministically.
func TestScriptedWorkloadFindsOpenDeletedFile(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		r := runScripted(t, seed, sim.Strategy{})
		obs := observationsOf(r.Result.Observations, sim.KindOpenDeletedFile)
		if len(obs) == 0 {
			continue
		}
		require.Equal(t, "snap", obs[0].Actor)
		require.Contains(t, obs[0].Detail, "/db/")
		require.True(t, strings.Contains(obs[0].Detail, "by gc") || strings.Contains(obs[0].Detail, "by crasher"),
			obs[0].Detail)
		// Replaying the seed finds it again, at the same step.
		again := runScripted(t, seed, sim.Strategy{})
		require.Equal(t, r.Result.Observations, again.Result.Observations)
		return
	}
	t.Fatal("no seed in 1..30 produced an open-deleted-file observation")
}
