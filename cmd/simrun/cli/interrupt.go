package cli

// Interrupts. The first SIGINT or SIGTERM cancels the command's context:
// sweeps stop dispatching seeds, let the running ones finish, print the
// report of what completed, write --out with a footer that marks it
// partial, and exit 130 (SIGINT) or 143 (SIGTERM); shrink writes the best
// log found so far. A second signal aborts: the sweep stops waiting for the
// seeds still running, and if the command has not returned within
// abortGrace, every temporary file this process registered is removed and
// the process exits with the same code.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/snapsim/snapsim/baseline"
)

// abortGrace is how long a second signal waits for the command to return
// before the process exits on its own.
const abortGrace = 3 * time.Second

// errInterrupted is the cause of a context cancelled by a signal; the exit
// code is 128 + the signal number.
type errInterrupted struct{ sig os.Signal }

func (e errInterrupted) Error() string {
	if e.sig == nil {
		return "interrupted: the context was cancelled"
	}
	return fmt.Sprintf("interrupted by %s", signalName(e.sig))
}

// exitCode is 130 for SIGINT, 143 for SIGTERM (the shell's 128+N).
func (e errInterrupted) exitCode() int {
	if s, ok := e.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

func signalName(sig os.Signal) string {
	switch sig {
	case nil:
		return "cancellation"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// interrupted returns the signal that cancelled ctx, if ctx was cancelled
// (a caller's own cancellation, with no signal, counts as an interrupt
// too: the work stopped early all the same).
func interrupted(ctx context.Context) (errInterrupted, bool) {
	if ctx == nil || ctx.Err() == nil {
		return errInterrupted{}, false
	}
	var ei errInterrupted
	if errors.As(context.Cause(ctx), &ei) {
		return ei, true
	}
	return errInterrupted{}, true
}

// abortKey is the context key of the abort channel.
type abortKey struct{}

// abortChan is closed by a second signal; nil when signals are not watched
// (a context built by a test).
func abortChan(ctx context.Context) <-chan struct{} {
	if ctx == nil {
		return nil
	}
	ch, _ := ctx.Value(abortKey{}).(chan struct{})
	return ch
}

// watchSignals returns a context that the first SIGINT/SIGTERM cancels
// (cause errInterrupted), and a function that stops watching. A second
// signal closes the context's abort channel and, after abortGrace, removes
// every registered temporary file and exits the process.
func watchSignals(stderr io.Writer) (context.Context, func()) {
	abort := make(chan struct{})
	ctx, cancel := context.WithCancelCause(context.WithValue(context.Background(), abortKey{}, abort))
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case <-done:
				return
			case sig := <-sigs:
				n++
				ei := errInterrupted{sig}
				if n == 1 {
					fmt.Fprintf(stderr, "\nsimrun: %s: finishing the seeds already running, then reporting what completed (send it again to abort)\n", signalName(sig))
					cancel(ei)
					continue
				}
				fmt.Fprintf(stderr, "\nsimrun: %s again: aborting\n", signalName(sig))
				close(abort)
				go func() {
					time.Sleep(abortGrace)
					removeTemps()
					os.Exit(ei.exitCode())
				}()
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// temps are the temporary files and directories this process has created
// and not yet renamed into place or removed: an abort removes them.
var temps struct {
	sync.Mutex
	paths map[string]bool
}

// trackTemp registers path as a temporary file; call the returned function
// once it has been renamed into place or removed.
func trackTemp(path string) (untrack func()) {
	temps.Lock()
	defer temps.Unlock()
	if temps.paths == nil {
		temps.paths = map[string]bool{}
	}
	temps.paths[path] = true
	return func() {
		temps.Lock()
		defer temps.Unlock()
		delete(temps.paths, path)
	}
}

// removeTemps removes every registered temporary file, and the baseline's
// temporary directories of this process (bench's stress runs).
func removeTemps() {
	temps.Lock()
	defer temps.Unlock()
	for p := range temps.paths {
		_ = os.RemoveAll(p)
	}
	temps.paths = nil
	_ = baseline.RemoveTemps()
}
