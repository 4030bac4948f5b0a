package cli

// Cross-process tests: the built simrun binary, run as separate processes
// under different GOMAXPROCS, replays bit-for-bit, and the replay line it
// prints can be pasted into a shell as is.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binDir  string // temporary directory of the built binary; removed by TestMain
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// simrunBinary builds ./cmd/simrun once per test binary and returns its
// path. It skips the test when no go command is available.
func simrunBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the simrun binary; skipped in -short mode")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not on PATH; cannot build simrun")
	}
	binOnce.Do(func() {
		root, err := filepath.Abs(filepath.Join("..", "..", ".."))
		if err != nil {
			binErr = err
			return
		}
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
			binErr = fmt.Errorf("module root not found at %s: %w", root, err)
			return
		}
		binDir, binErr = os.MkdirTemp("", "simrun-test-")
		if binErr != nil {
			return
		}
		bin := filepath.Join(binDir, "simrun")
		cmd := exec.Command(goCmd, "build", "-o", bin, "./cmd/simrun")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build ./cmd/simrun: %v\n%s", err, out)
			return
		}
		binPath = bin
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// procResult is what one process produced.
type procResult struct {
	cliResult
}

// runProc runs name with args and extra environment, in dir when set.
func runProc(t *testing.T, dir string, env []string, name string, args ...string) procResult {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s %q: %v", name, args, err)
	}
	return procResult{cliResult{code: code, stdout: out.String(), stderr: errb.String()}}
}

func mustProcExit(t *testing.T, want int, env []string, name string, args ...string) procResult {
	t.Helper()
	r := runProc(t, "", env, name, args...)
	if r.code != want {
		t.Fatalf("%s %q (env %q): want exit %d, got:\n%s", name, args, env, want, r)
	}
	return r
}

// replayDigest is the part of replay --json that must not depend on the
// process: everything but the replay line (which names the binary).
type replayDigest struct {
	Outcome    string          `json:"outcome"`
	Seed       uint64          `json:"seed"`
	TraceHash  string          `json:"trace_hash"`
	Steps      int64           `json:"steps"`
	Violations json.RawMessage `json:"violations"`
	Events     json.RawMessage `json:"events"`
	Snapshots  json.RawMessage `json:"snapshots"`
	Workload   json.RawMessage `json:"workload"`
}

func TestProcessReplayDeterministic(t *testing.T) {
	bin := simrunBinary(t)
	sweep := mustProcExit(t, exitViolation, nil, bin, "run", "--collector", "naive", "--seeds", "2000", "--json")
	var sw jsonSweep
	decodeStrict(t, sweep.stdout, &sw)
	if sw.Violation == nil {
		t.Fatalf("no violation object:\n%s", sweep.stdout)
	}
	seed := strconv.FormatUint(sw.Violation.Seed, 10)

	var digests []replayDigest
	for _, procs := range []string{"1", "4"} {
		r := mustProcExit(t, exitViolation, []string{"GOMAXPROCS=" + procs}, bin, "replay", "--collector", "naive", "--seed", seed, "--json")
		if r.stderr != "" {
			t.Errorf("GOMAXPROCS=%s: stderr %q", procs, r.stderr)
		}
		var d replayDigest
		decodeStrict(t, r.stdout, &d)
		if d.Outcome != "violation" || len(d.Events) == 0 || string(d.Events) == "[]" || string(d.Violations) == "[]" {
			t.Fatalf("GOMAXPROCS=%s: no violation or no events:\n%s", procs, r.stdout)
		}
		digests = append(digests, d)
	}
	a, b := digests[0], digests[1]
	if a.TraceHash != b.TraceHash {
		t.Errorf("trace hash %s under GOMAXPROCS=1, %s under GOMAXPROCS=4", a.TraceHash, b.TraceHash)
	}
	if !bytes.Equal(a.Violations, b.Violations) {
		t.Errorf("violations differ across processes:\n%s\nvs\n%s", a.Violations, b.Violations)
	}
	if !bytes.Equal(a.Events, b.Events) {
		t.Errorf("events differ across processes")
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("replay reports differ across processes")
	}
	if a.TraceHash != sw.Violation.TraceHash {
		t.Errorf("replay trace hash %s, the sweep process reported %s", a.TraceHash, sw.Violation.TraceHash)
	}

	// And the same as in this test process.
	var inProc replayDigest
	decodeStrict(t, mustExit(t, exitViolation, "replay", "--collector", "naive", "--seed", seed, "--json").stdout, &inProc)
	if !reflect.DeepEqual(inProc, a) {
		t.Errorf("in-process replay differs from the built binary's (hash %s vs %s)", inProc.TraceHash, a.TraceHash)
	}
}

var (
	runHeadRE   = regexp.MustCompile(`(?m)^VIOLATION (\S+) at seed (\d+), step (\d+)$`)
	runHashRE   = regexp.MustCompile(`(?m)^  trace hash ([0-9a-f]{16})$`)
	replayHash  = regexp.MustCompile(`(?m)^trace hash: ([0-9a-f]{16}) `)
	replayFirst = regexp.MustCompile(`(?m)^VIOLATION (\S+) at step (\d+) `)
)

// checkPastedReplay runs the sweep with bin, checks the replay line starts
// with want, pastes it into sh -c from an unrelated directory, and checks
// that it shows the same first violation and trace hash.
func checkPastedReplay(t *testing.T, bin, want string) {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on PATH")
	}
	r := mustProcExit(t, exitViolation, nil, bin, "run", "--collector", "naive", "--seeds", "2000")
	head := runHeadRE.FindStringSubmatch(r.stdout)
	hash := runHashRE.FindStringSubmatch(r.stdout)
	lines := replayLines(r.stdout)
	if head == nil || hash == nil || len(lines) != 1 {
		t.Fatalf("run output lacks the violation line, the trace hash or one replay line:\n%s", r.stdout)
	}
	line := lines[0]
	if !strings.HasPrefix(line, want+" replay ") {
		t.Errorf("replay line %q does not start with %q", line, want+" replay ")
	}
	if strings.HasPrefix(line, "go run") {
		t.Errorf("a built binary printed a go run replay line: %q", line)
	}

	p := runProc(t, t.TempDir(), nil, sh, "-c", line)
	if p.code != exitViolation {
		t.Fatalf("pasted %q: want exit 1, got:\n%s", line, p)
	}
	got := replayFirst.FindStringSubmatch(p.stdout)
	gotHash := replayHash.FindStringSubmatch(p.stdout)
	if got == nil || gotHash == nil {
		t.Fatalf("pasted %q printed no violation or no trace hash:\n%s", line, p.stdout)
	}
	if got[1] != head[1] || got[2] != head[3] {
		t.Errorf("pasted %q: first violation %s at step %s, run reported %s at step %s", line, got[1], got[2], head[1], head[3])
	}
	if gotHash[1] != hash[1] {
		t.Errorf("pasted %q: trace hash %s, run reported %s", line, gotHash[1], hash[1])
	}
}

func TestProcessPastedReplayLine(t *testing.T) {
	bin := simrunBinary(t)
	checkPastedReplay(t, bin, bin)
}

// A binary whose path needs quoting still prints a line that pastes.
func TestProcessPastedReplayLineQuotedPath(t *testing.T) {
	bin := simrunBinary(t)
	dir := filepath.Join(t.TempDir(), "it's a dir")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	quoted := filepath.Join(dir, "simrun")
	copyFile(t, bin, quoted)
	checkPastedReplay(t, quoted, shellQuote(quoted))
	if shellQuote(quoted) == quoted {
		t.Fatalf("%q should need quoting", quoted)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// Usage errors are exit 2 from the process too, with nothing on stdout.
func TestProcessUsageExit(t *testing.T) {
	bin := simrunBinary(t)
	for _, args := range [][]string{
		{"run", "--collector", "bogus", "--json"},
		{"replay", "--collector", "naive", "--json"},
		{"run", "--seed", "0x10000000000000000"},
	} {
		r := mustProcExit(t, exitUsage, nil, bin, args...)
		if r.stdout != "" || !strings.HasPrefix(r.stderr, "simrun: ") {
			t.Errorf("%q: want empty stdout and a 'simrun: ' error, got:\n%s", args, r)
		}
	}
	mustProcExit(t, exitOK, nil, bin, "run", "--collector", "lease-retry", "--seeds", "300")
}
