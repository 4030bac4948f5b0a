// Package cli is simrun's command line as a library: every simrun command
// (run, replay, shrink, timeline, validate, merge, bench, ...) for a user's
// own main package, or mounted as a cobra command in a larger tool.
//
// Exit codes (README "Exit codes"): 0 clean (or a file's expectation met,
// or the artifact written), 1 a violation observed (or an expectation not
// met), 2 bad usage or input, 3 incomplete (a seed ran out of its step
// budget), 4 simrun itself failed, 130/143 interrupted by SIGINT/SIGTERM.
package cli

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// defaultGCPercent is simrun's GOGC unless the environment sets one. A
// simulation holds well under 1 MB live (docs/scaling.md), so with Go's
// default of 100 the collector runs every few seeds and its background
// worker takes a quarter of the CPUs from the sweep's workers; 400 trades a
// few MB of heap for 25% more seeds/s on one worker and near-linear scaling
// on two (README "Performance").
const defaultGCPercent = 400

// Main runs simrun on os.Args[1:] with os.Stdout and os.Stderr, handling
// SIGINT and SIGTERM (the first stops the work and reports what completed,
// a second aborts), and returns the process exit code. Options add a
// user's designs and systems; every command works over them:
//
//	func main() { os.Exit(cli.Main()) }
//	func main() { os.Exit(cli.Main(cli.WithDesigns(mine), cli.WithSystems(purger.System()), cli.WithGoRun("./cmd/mysim"))) }
func Main(opts ...Option) int {
	e, err := newEnv(opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return exitInternal
	}
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := watchSignals(os.Stderr)
	defer stop()
	return executeEnv(ctx, e, os.Args[1:], os.Stdout, os.Stderr)
}

// Command returns simrun's root command, to mount under a user's own cobra
// tree, over the options' designs and systems. Its commands return errors
// whose exit code ExitCode gives, and honour the command's context
// (cobra's ExecuteContext): cancelling it stops a sweep as a signal would.
// An unusable option (two systems of one name, a design without a name)
// makes every command fail with the error (exit code 4).
func Command(opts ...Option) *cobra.Command {
	e, err := newEnv(opts...)
	if err != nil {
		return &cobra.Command{Use: "simrun", SilenceUsage: true, SilenceErrors: true,
			RunE: func(*cobra.Command, []string) error { return err }}
	}
	return newRoot(os.Stdout, e)
}
