package properties

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
	"github.com/stretchr/testify/require"
)

// determinismSeeds are the seeds whose trace hashes the determinism tests
// compare: enough to cover violating and clean runs of both collectors.
const determinismSeeds = 40

// traceHashes runs seeds 1..determinismSeeds of each collector and returns
// "collector/seed hash" lines.
func traceHashes(t testing.TB) []string {
	var lines []string
	for _, c := range tikvSys.DesignNames() {
		for seed := uint64(1); seed <= determinismSeeds; seed++ {
			out, err := tikvSys.Simulate(tikv.DefaultConfig(c), sim.NewPRNG(seed), sim.Config{StopOnViolation: true})
			if err != nil {
				t.Fatalf("%s seed %d: %v", c, seed, err)
			}
			lines = append(lines, fmt.Sprintf("%s/%d %s", c, seed, sim.FormatHash(out.Result.TraceHash)))
		}
	}
	return lines
}

// TestSameSeedSameTraceHash: same seed and config give the same trace hash,
// twice in one process and under GOMAXPROCS=1 and the default.
func TestSameSeedSameTraceHash(t *testing.T) {
	first := traceHashes(t)
	require.Equal(t, first, traceHashes(t), "second run in the same process differs")
	old := runtime.GOMAXPROCS(1)
	single := traceHashes(t)
	runtime.GOMAXPROCS(old)
	require.Equal(t, first, single, "GOMAXPROCS=1 differs from GOMAXPROCS=%d", old)
	distinct := map[string]bool{}
	for _, l := range first {
		distinct[strings.Fields(l)[1]] = true
	}
	require.Greater(t, len(distinct), len(first)*9/10, "different seeds should give different traces")
}

// TestTraceHashAcrossProcesses: a fresh process (this test binary run
// again, with GOMAXPROCS=1) computes the same hashes.
func TestTraceHashAcrossProcesses(t *testing.T) {
	if os.Getenv("SNAPSIM_HASH_CHILD") == "1" {
		for _, l := range traceHashes(t) {
			fmt.Println("HASH", l)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTraceHashAcrossProcesses$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SNAPSIM_HASH_CHILD=1", "GOMAXPROCS=1")
	out, err := cmd.Output()
	require.NoError(t, err, "child process failed: %s", out)
	var child []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if l, ok := strings.CutPrefix(sc.Text(), "HASH "); ok {
			child = append(child, l)
		}
	}
	require.Equal(t, traceHashes(t), child, "another process computed different trace hashes")
}
