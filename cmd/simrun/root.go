package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes, part of the CLI contract.
const (
	exitOK        = 0
	exitViolation = 1
	exitUsage     = 2
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

// execute runs the CLI with args and returns the process exit code. It is
// what main calls and what the tests call.
func execute(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errViolation):
		return exitViolation
	default:
		fmt.Fprintf(stderr, "simrun: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(stderr, "Run 'simrun --help' or 'simrun COMMAND --help' for usage.")
			return exitUsage
		}
		// Anything else is a failure of the tool itself; it is not a
		// violation, so it is not exit 1.
		return exitUsage
	}
}

func newRoot(stdout io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "simrun",
		Short: "Deterministic simulation of the list-then-open ENOENT bug class",
		Long: `simrun runs snapsim: a single-threaded deterministic simulation of a
TiKV-like node in which snapshot generation lists SST files while flushes,
compactions and GC delete them. Every run is fully determined by its seed and
configuration; a violation prints a replay command that reproduces it exactly.

Exit codes: 0 no violation, 1 violation observed, 2 bad usage or input.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newRunCmd(), newReplayCmd(), newValidateCmd(), newCollectorsCmd(), newProfilesCmd(), newTimelineCmd(), newMergeCmd(), newShrinkCmd(), newBenchCmd())
	return root
}

// noArgs rejects positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no positional arguments, got %q", cmd.Name(), args)
	}
	return nil
}
