package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes, part of the CLI contract (README "Exit codes"). An
// interrupted command exits 128+N for signal N: 130 for SIGINT, 143 for
// SIGTERM (errInterrupted).
const (
	// exitOK: the run was clean, the file's expectation was met, the
	// artifact was written.
	exitOK = 0
	// exitViolation: a violation was observed, or a file's expectation was
	// not met (a mismatch, including seed drift).
	exitViolation = 1
	// exitUsage: bad usage or input (a flag, a seed, a file); the message
	// names the flag or FILE:LINE and the expected form.
	exitUsage = 2
	// exitIncomplete: nothing was observed, but at least one seed ran out
	// of its step budget (--max-steps) before it finished: not a clean
	// result.
	exitIncomplete = 3
	// exitInternal: simrun itself failed (an I/O error writing a report,
	// or a bug in snapsim); it is neither a violation nor bad input.
	exitInternal = 4
)

// usageError is bad input from the user: a flag, a seed, a file. It exits 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// errViolation reports that a run observed a violation (exit 1); the
// details have already been printed.
var errViolation = errors.New("violation observed")

// errNotMet reports that a corpus or .draws file's expectation was not met
// (exit 1); the mismatch has already been printed.
var errNotMet = errors.New("expectation not met")

// errIncomplete reports that nothing was observed but some seed exhausted
// its step budget (exit 3); the report has already said which.
var errIncomplete = errors.New("incomplete: a seed ran out of its step budget")

// errNothingToDo reports that an artifact command had nothing to write
// (shrink of a seed without a violation): exit 1, the reason printed.
var errNothingToDo = errors.New("nothing to write")

// execute runs the CLI with args and returns the process exit code; it is
// what the tests call (no signal handling).
func execute(args []string, stdout, stderr io.Writer) int {
	return executeContext(context.Background(), args, stdout, stderr)
}

// executeContext runs the CLI under ctx (which watchSignals cancels on
// SIGINT/SIGTERM) and returns the process exit code.
func executeContext(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	return executeEnv(ctx, defaultEnv(), args, stdout, stderr)
}

// executeEnv is executeContext over e's systems.
func executeEnv(ctx context.Context, e *env, args []string, stdout, stderr io.Writer) (code int) {
	// A panic in simrun itself (never an actor's: those are observations)
	// is reported as the tool's failure, not a crash.
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "simrun: internal error (a snapsim bug, please report it): %v\n%s", r, debug.Stack())
			code = exitInternal
		}
	}()
	root := newRoot(stdout, e)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	// Anything cobra rejects before a command starts (an unknown command,
	// arguments its Args check refuses) is bad usage.
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	err := root.ExecuteContext(ctx)
	if err != nil && !started && !isUsage(err) {
		err = usageError{err}
	}
	code = ExitCode(err)
	var ei errInterrupted
	switch {
	case err == nil, code == exitViolation, code == exitIncomplete:
		// The report has said it all.
	case errors.As(err, &ei):
		fmt.Fprintf(stderr, "simrun: %v: the report covers only what completed\n", ei)
	default:
		fmt.Fprintf(stderr, "simrun: %v\n", err)
		if code == exitUsage {
			fmt.Fprintln(stderr, "Run 'simrun --help' or 'simrun COMMAND --help' for usage.")
		}
	}
	return code
}

// ExitCode is the process exit code a command's error means (README "Exit
// codes"): 0 for nil; 1 a violation was observed, an expectation not met,
// or an artifact command had nothing to write; 2 bad usage or input; 3
// incomplete seeds; 128+N interrupted by signal N; 4 for anything else (a
// failure of simrun itself, neither a verdict nor bad input). A caller that
// mounts Command in its own tree maps the error of Execute with it.
func ExitCode(err error) int {
	var ei errInterrupted
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errViolation), errors.Is(err, errNotMet), errors.Is(err, errNothingToDo):
		return exitViolation
	case errors.Is(err, errIncomplete):
		return exitIncomplete
	case errors.As(err, &ei):
		return ei.exitCode()
	case isUsage(err):
		return exitUsage
	}
	return exitInternal
}

// isUsage reports whether err is bad usage or input (exit 2).
func isUsage(err error) bool {
	var ue usageError
	return errors.As(err, &ue)
}

// pflagInvalid matches pflag's message for a flag value it could not parse:
// invalid argument "V" for "-x, --name" flag: REASON.
var pflagInvalid = regexp.MustCompile(`^invalid argument (".*") for "(?:-\w, )?(--[\w-]+)" flag: (.*)$`)

// flagError rewrites pflag's parse errors in the CLI's form, "--flag: what
// is wrong (want the form)", without Go's strconv or time internals.
func flagError(err error) error {
	m := pflagInvalid.FindStringSubmatch(err.Error())
	if m == nil {
		// "unknown flag: --x" and the like echo the user's word: bound it.
		if msg := err.Error(); len(msg) > 200 {
			return errors.New(clip(msg, 200))
		}
		return err
	}
	value, flag, reason := m[1], m[2], m[3]
	switch {
	case strings.Contains(reason, "strconv.ParseBool"):
		reason = "want true or false (the bare flag means true)"
	case strings.Contains(reason, "time: "):
		reason = "want a Go duration such as 500ms, 60s or 2m"
	}
	return fmt.Errorf("%s: %s is not valid: %s", flag, clip(value, 60), reason)
}

func newRoot(stdout io.Writer, e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "simrun",
		Short: "Deterministic simulation of the list-then-open ENOENT bug class",
		Long: `simrun runs snapsim: a single-threaded deterministic simulation of a
TiKV-like node in which snapshot generation lists SST files while flushes,
compactions and GC delete them. Every run is fully determined by its seed and
configuration; a violation prints a replay command that reproduces it exactly.

Exit codes: 0 clean (or a file's expectation met, or the artifact written);
1 a violation observed (or an expectation not met); 2 bad usage or input;
3 incomplete (nothing observed, but a seed ran out of --max-steps, or a
check did not finish);
4 simrun itself failed; 130/143 interrupted by SIGINT/SIGTERM (the report
covers what completed).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{flagError(err)} })

	root.AddCommand(newRunCmd(e), newReplayCmd(e), newValidateCmd(e), newCollectorsCmd(e), newProfilesCmd(e), newTimelineCmd(e), newMergeCmd(e), newShrinkCmd(e), newBenchCmd())
	root.AddCommand(newFidelityCmd(), newCheckCmd(e), newScopesCmd(e), newOpsCmd(e), newSystemsCmd(e))
	root.AddCommand(newPebbleCmd(e))
	return root
}

// noArgs rejects positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no positional arguments, got %d (first: %q)", cmd.Name(), len(args), clip(args[0], 60))
	}
	return nil
}
