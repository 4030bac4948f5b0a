package baseline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble/vfs"
	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
)

// FreeRun runs one seed of cfg with the model's own actors as free
// goroutines (sim free mode, Gate) over the OS filesystem: each node's
// files live in a directory under dir. The seed fixes the workload draws
// only; the interleaving and every duration are real. Crashes are turned
// off (a real power loss cannot be simulated on the OS filesystem).
func FreeRun(cfg tikv.Config, seed uint64, dir string, maxSteps int64) (tikv.Outcome, error) {
	n := 0
	var innerErr error
	cfg.MaxCrashes = 0
	cfg.FS.NewInner = func() vfs.FS {
		n++
		fs, err := newDirFS(filepath.Join(dir, fmt.Sprintf("node-%d", n)))
		if err != nil && innerErr == nil {
			innerErr = err
		}
		return fs
	}
	out, err := tikvSys.Simulate(cfg, sim.NewPRNG(seed), sim.Config{Gate: NewGate(), StopOnViolation: true, MaxSteps: maxSteps})
	if err == nil {
		err = innerErr
	}
	return out, err
}

// FreeSearch runs seeds first, first+1, ... of bug.Config in free mode,
// each in a fresh temp dir, until the bug shows or limit passes.
func FreeSearch(ctx context.Context, bug Bug, first uint64, limit time.Duration) (SearchResult, error) {
	return search(ctx, bug, first, limit, func(seed uint64) (tikv.Outcome, error) {
		return freeRunTemp(bug.Config, seed)
	})
}

// FreeReproduce re-runs seed n times in free mode and counts the runs that
// show the same failure as want (FailureKey: the same kind, file and cause,
// whatever the step or time).
func FreeReproduce(bug Bug, seed uint64, want sim.Observation, n int) (same int, err error) {
	for i := 0; i < n; i++ {
		out, err := freeRunTemp(bug.Config, seed)
		if err != nil {
			return same, err
		}
		if o, ok := bug.Hit(out.Result.Observations); ok && FailureKey(o) == FailureKey(want) {
			same++
		}
	}
	return same, nil
}

func freeRunTemp(cfg tikv.Config, seed uint64) (tikv.Outcome, error) {
	dir, err := tempDir("free")
	if err != nil {
		return tikv.Outcome{}, err
	}
	defer os.RemoveAll(dir)
	return FreeRun(cfg, seed, dir, sim.DefaultMaxSteps)
}
