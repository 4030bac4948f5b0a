package cli

// Interrupts, with real signals against the built binary: a sweep, a
// validation, a shrink and a bench stop on SIGINT/SIGTERM, report what
// completed, write their files whole (a shard marked partial, the best
// shrunk log), leave no temporary file or directory behind, and exit
// 128+N; a second signal aborts without waiting.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// proc is a simrun process started in the background.
type proc struct {
	cmd      *exec.Cmd
	mu       sync.Mutex
	out, err bytes.Buffer
	done     chan struct{}
	code     int
}

// lockedWriter appends to a buffer under the proc's lock.
type lockedWriter struct {
	p   *proc
	buf *bytes.Buffer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.buf.Write(b)
}

// startProc starts the simrun binary with args in dir, with env added.
func startProc(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(simrunBinary(t), args...), done: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = lockedWriter{p, &p.out}, lockedWriter{p, &p.err}
	require.NoError(t, p.cmd.Start())
	go func() {
		err := p.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			p.code = ee.ExitCode()
		case err != nil:
			p.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *proc) stdout() string { p.mu.Lock(); defer p.mu.Unlock(); return p.out.String() }
func (p *proc) stderr() string { p.mu.Lock(); defer p.mu.Unlock(); return p.err.String() }

// waitFor waits until the process's stdout or stderr matches re.
func (p *proc) waitFor(t *testing.T, re string, limit time.Duration) {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if rx.MatchString(p.stdout()) || rx.MatchString(p.stderr()) {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("process exited (%d) before %q appeared:\nstdout:\n%s\nstderr:\n%s", p.code, re, p.stdout(), p.stderr())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%q did not appear within %v:\nstdout:\n%s\nstderr:\n%s", re, limit, p.stdout(), p.stderr())
}

// signal sends sig, then waits for the exit and returns its code.
func (p *proc) signalAndWait(t *testing.T, limit time.Duration, sigs ...syscall.Signal) int {
	t.Helper()
	for i, s := range sigs {
		if err := p.cmd.Process.Signal(s); err != nil {
			// Only a later signal may find the process already gone.
			require.True(t, i > 0 && errors.Is(err, os.ErrProcessDone), "signal %v: %v", s, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-p.done:
		return p.code
	case <-time.After(limit):
		t.Fatalf("process did not exit within %v of the signal:\nstdout:\n%s\nstderr:\n%s", limit, p.stdout(), p.stderr())
	}
	return -1
}

// noHidden fails if dir holds a hidden (temporary) file.
func noHidden(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		require.False(t, strings.HasPrefix(e.Name(), "."), "temporary file left behind in %s: %s", dir, e.Name())
	}
}

// longSweep never finishes on its own within a test.
var longSweep = []string{"run", "--collector", "lease-retry", "--seeds", "100000000", "--keep-going", "--workers", "2", "--quiet"}

func TestSignalInterruptsSweep(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		name string
		code int
	}{{syscall.SIGINT, "SIGINT", 130}, {syscall.SIGTERM, "SIGTERM", 143}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p := startProc(t, dir, nil, append(longSweep, "--out", "x.jsonl")...)
			time.Sleep(700 * time.Millisecond)
			code := p.signalAndWait(t, 30*time.Second, c.sig)
			require.Equal(t, c.code, code, "stdout:\n%s\nstderr:\n%s", p.stdout(), p.stderr())
			require.Regexp(t, `INTERRUPTED by `+c.name+` after \d+ of 100000000 seeds`, p.stdout())
			require.Regexp(t, `(?m)^ok: collector lease-retry, profile default, strategy random, seeds 1\.\.\d+ `, p.stdout())
			require.Contains(t, p.stderr(), "interrupted by "+c.name)
			// The shard file is whole, marked partial, and merge refuses it.
			data, err := os.ReadFile(filepath.Join(dir, "x.jsonl"))
			require.NoError(t, err)
			require.Contains(t, string(data), `"partial":true,"interrupted":"`+c.name+`"`)
			noHidden(t, dir)
			m := runProc(t, dir, nil, simrunBinary(t), "merge", "x.jsonl")
			require.Equal(t, exitUsage, m.code, m.String())
			require.Contains(t, m.stderr, "partial")
		})
	}
}

func TestSecondSignalAborts(t *testing.T) {
	// Two signals in a row: exit 130 whichever one the process acts on,
	// with the shard file whole and nothing temporary left.
	dir := t.TempDir()
	p := startProc(t, dir, nil, append(longSweep, "--out", "x.jsonl")...)
	time.Sleep(700 * time.Millisecond)
	code := p.signalAndWait(t, 15*time.Second, syscall.SIGINT, syscall.SIGINT)
	require.Equal(t, 130, code, "stdout:\n%s\nstderr:\n%s", p.stdout(), p.stderr())
	noHidden(t, dir)
}

// TestAbortStopsWaitingForRunningSeeds: once the abort channel closes, the
// sweep returns with what it has folded, without waiting for a seed that
// never finishes.
func TestAbortStopsWaitingForRunningSeeds(t *testing.T) {
	abort := make(chan struct{})
	ctx, cancel := context.WithCancelCause(context.WithValue(context.Background(), abortKey{}, abort))
	defer cancel(nil)
	block := make(chan struct{})
	defer close(block)
	folded := 0
	done := make(chan error, 1)
	go func() {
		done <- sweepSeeds(ctx, seedPlan{first: 1, n: 100, shards: 1}, 2, false, func(seed uint64) (seedResult, error) {
			if seed == 3 {
				cancel(errInterrupted{syscall.SIGINT})
				<-block // a seed that runs until the test ends
			}
			return seedResult{Seed: seed, Outcome: outcomeOK}, nil
		}, func(seedResult) bool { folded++; return true })
	}()
	select {
	case <-done:
		t.Fatal("the sweep returned before the abort, without the running seed")
	case <-time.After(200 * time.Millisecond):
	}
	close(abort)
	select {
	case err := <-done:
		require.NoError(t, err)
		require.Equal(t, 2, folded, "seeds 1 and 2 folded, 3 abandoned")
	case <-time.After(5 * time.Second):
		t.Fatal("the sweep did not return after the abort")
	}
}

func TestSignalInterruptsValidate(t *testing.T) {
	p := startProc(t, t.TempDir(), nil, "validate", "--collectors", "lease-retry,naive", "--profiles", "default", "--seeds", "100000000")
	time.Sleep(700 * time.Millisecond)
	code := p.signalAndWait(t, 30*time.Second, syscall.SIGINT)
	require.Equal(t, 130, code, p.stderr())
	require.Regexp(t, `(?m)^lease-retry\s+default\s+\d+\s+0\s+0\s+none`, p.stdout())
	require.Contains(t, p.stdout(), "PARTIAL: interrupted by SIGINT")
}

func TestSignalShrinkWritesTheBestSoFar(t *testing.T) {
	dir := t.TempDir()
	// The lease-stall bug's shrink takes seconds: interrupt it midway.
	p := startProc(t, dir, nil, "shrink", "--collector", "lease-retry", "--profile", "slow-disk", "--non-atomic-check", "--seed", "53", "-o", "x.draws")
	p.waitFor(t, `shrinking \d+ draws`, 20*time.Second)
	time.Sleep(500 * time.Millisecond)
	code := p.signalAndWait(t, 30*time.Second, syscall.SIGINT)
	require.Equal(t, 130, code, "stdout:\n%s\nstderr:\n%s", p.stdout(), p.stderr())
	require.Contains(t, p.stdout(), "interrupted: the simplest failing log found so far")
	require.Contains(t, p.stdout(), "wrote x.draws")
	noHidden(t, dir)
	// The log written replays to its recorded failure.
	r := runProc(t, dir, nil, simrunBinary(t), "replay", "x.draws", "--actions-only")
	require.Equal(t, exitOK, r.code, r.String())
	require.Contains(t, r.stdout, "expectation: met (expect open-deleted-file")
}

func TestSignalBenchRemovesItsTempDirs(t *testing.T) {
	tmp := t.TempDir()
	p := startProc(t, t.TempDir(), []string{"TMPDIR=" + tmp}, "bench", "--bugs", "lease-stall", "--reps", "3", "--limit", "60s", "--replays", "0")
	// The model-goroutine runner searches in temporary directories.
	p.waitFor(t, `lease-stall simulator rep 3`, 30*time.Second)
	time.Sleep(1500 * time.Millisecond)
	code := p.signalAndWait(t, 30*time.Second, syscall.SIGINT)
	require.Equal(t, 130, code, "stdout:\n%s\nstderr:\n%s", p.stdout(), p.stderr())
	require.Contains(t, p.stdout(), "PARTIAL: interrupted by SIGINT")
	left, err := filepath.Glob(filepath.Join(tmp, "snapsim-*"))
	require.NoError(t, err)
	require.Empty(t, left, "bench left temporary directories behind")
}
