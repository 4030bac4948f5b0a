package cli

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/snapsim/snapsim/properties/fidelity"
)

// Defaults of the fidelity command: the measurement the README reports.
const (
	defaultFidelitySeqs = 1000
	defaultFidelityOps  = 50
	defaultMinAgreement = 99.5
	// defaultFidelityShow bounds the disagreements the table lists.
	defaultFidelityShow = 20
)

// fidelityOptions are the fidelity command's flags.
type fidelityOptions struct {
	seqs, ops, keys, maxValue, show int64
	seed, minAgreement, format      string
	control                         string
}

func newFidelityCmd() *cobra.Command {
	var o fidelityOptions
	cmd := &cobra.Command{
		Use:   "fidelity",
		Short: "Hold the model's engine against real Pebble v1.1.5 on the same generated operation sequences",
		Long: `fidelity is a differential test of the model's LSM engine. Each seed in
SEED..SEED+SEQS-1 generates a sequence of operations (puts and deletes,
flushes, range compactions Compact(start, end), listings of the live SST
files, opens of files listed earlier, iterators opened and closed,
checkpoints, opens of checkpointed files). The sequence runs on real
Pebble v1.1.5 over vfs.NewMem() with automatic compactions disabled, and on
the model's engine inside the deterministic kernel; every observable outcome
is compared, by the position of a file in a listing and by its key range
and content (file numbers differ between the systems):

  - list: the live files (L0 or below, key range, content);
  - open: an open of a file listed earlier exists or fails with ENOENT;
  - iterator: which files of an iterator's version exist before and after
    it is closed;
  - checkpoint: the checkpoint's files and readable keys, right after it is
    made and at the end of the sequence;
  - open-checkpoint: an open of a checkpointed file;
  - disk (settled): the SST files on disk after each op that changed them,
    once deletions have settled.

It prints the agreement per observation kind and overall, the three
ground-truth semantics (an unpinned listing goes stale after a compaction;
an open iterator keeps its version's files; checkpoint links outlive the
originals) with how often each system meets them, the distribution of
obsolete files still on disk when an op returned (not compared: Pebble's
cleaner is a goroutine), each class of disagreement with its explanation and
an example, and the disagreements (replay one with --seed SEED --seqs 1,
which prints the whole sequence and both systems' state after every op).

--control runs a deliberately wrong model (a negative control): the suite
must detect it.

Exit codes: 0 when the overall agreement is at least --min-agreement, 1 when
it is below, 2 bad usage or input, 4 when a system or the harness failed (an
API call of either engine returned an error), 130/143 interrupted (the
report covers the sequences that completed).`,
		Example: `  simrun fidelity
  simrun fidelity --seqs 200 --ops 40 --seed 7
  simrun fidelity --seed 657 --seqs 1
  simrun fidelity --control no-trivial-moves --min-agreement 0
  simrun fidelity --format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runFidelity(cmd, o)
		},
	}
	f := cmd.Flags()
	f.Var(newIntValue(&o.seqs, defaultFidelitySeqs), "seqs", "sequences to run, 1..1000000 (decimal or 0x-hex)")
	f.Var(newIntValue(&o.ops, defaultFidelityOps), "ops", "operations per sequence, 1..100000 (decimal or 0x-hex)")
	f.StringVar(&o.seed, "seed", "1", "first sequence's seed (decimal or 0x-hex)")
	f.StringVar(&o.minAgreement, "min-agreement", strconv.FormatFloat(defaultMinAgreement, 'f', -1, 64),
		"exit 0 only if the overall agreement is at least this percentage (0..100)")
	f.StringVar(&o.format, "format", "table", "output format: table or json")
	f.Var(newIntValue(&o.keys, 0), "keys", "key space per sequence, 2..1000 (0: drawn per sequence from 8, 16, 32, 64)")
	f.Var(newIntValue(&o.maxValue, 0), "max-value-bytes", "largest value, 8..65536 (0: drawn per sequence from 64, 160, 400)")
	f.Var(newIntValue(&o.show, defaultFidelityShow), "show", "disagreements the table lists (-1: all)")
	f.StringVar(&o.control, "control", "none", "negative control: none, "+strings.Join(fidelity.ControlNames(), ", "))
	return cmd
}

// parseFidelity checks the flags and builds the measurement; every error
// is a usage error naming the flag and the expected form.
func parseFidelity(o fidelityOptions) (fidelity.Config, float64, error) {
	c := fidelity.DefaultConfig()
	switch {
	case o.seqs < 1 || o.seqs > 1_000_000:
		return c, 0, usagef("--seqs: %d is out of range (want 1..1000000)", o.seqs)
	case o.ops < 1 || o.ops > 100_000:
		return c, 0, usagef("--ops: %d is out of range (want 1..100000)", o.ops)
	case o.keys != 0 && (o.keys < 2 || o.keys > 1000):
		return c, 0, usagef("--keys: %d is out of range (want 2..1000, or 0 to draw it per sequence)", o.keys)
	case o.maxValue != 0 && (o.maxValue < 8 || o.maxValue > 1<<16):
		return c, 0, usagef("--max-value-bytes: %d is out of range (want 8..65536, or 0 to draw it per sequence)", o.maxValue)
	case o.show < -1:
		return c, 0, usagef("--show: %d is out of range (want -1 for all, or a count from 0)", o.show)
	case o.format != "table" && o.format != "json":
		return c, 0, usagef("--format: %q is not a format (want table or json)", clip(o.format, 60))
	}
	seed, err := parseSeed("--seed", o.seed)
	if err != nil {
		return c, 0, err
	}
	min, err := strconv.ParseFloat(strings.TrimSpace(o.minAgreement), 64)
	if err != nil || math.IsNaN(min) || min < 0 || min > 100 {
		return c, 0, usagef("--min-agreement: %q is not a percentage (want a number from 0 to 100, e.g. 99.5)", clip(o.minAgreement, 60))
	}
	if c, err = c.WithControl(o.control); err != nil {
		return c, 0, usagef("--control: %q is not a control (want none or one of %s)", clip(o.control, 60), strings.Join(fidelity.ControlNames(), ", "))
	}
	c.Seqs, c.Seed = int(o.seqs), seed
	c.Params.Ops, c.Params.Keys, c.Params.MaxValueBytes = int(o.ops), int(o.keys), int(o.maxValue)
	c.KeepSequences = o.seqs == 1
	return c, min, nil
}

// runFidelity runs the measurement and prints it.
func runFidelity(cmd *cobra.Command, o fidelityOptions) error {
	c, min, err := parseFidelity(o)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	if ctx != nil {
		c.Stop = func() bool { return ctx.Err() != nil }
	}
	rep, err := fidelity.Measure(c)
	if err != nil {
		return fmt.Errorf("fidelity: %w", err)
	}
	w := cmd.OutOrStdout()
	if err := writeFidelity(w, rep, o, min); err != nil {
		return err
	}
	if ei, ok := interrupted(ctx); ok {
		return ei
	}
	if rep.Overall.Pct < min {
		return errNotMet
	}
	return nil
}

// writeFidelity prints the report in the chosen format, and for a table
// the verdict against min.
func writeFidelity(w io.Writer, rep fidelity.Report, o fidelityOptions, min float64) error {
	if o.format == "json" {
		return rep.WriteJSON(w)
	}
	if err := rep.WriteTable(w, int(o.show)); err != nil {
		return err
	}
	if o.seqs == 1 {
		if err := rep.WriteSequences(w); err != nil {
			return err
		}
	}
	verdict := "ok"
	if rep.Overall.Pct < min {
		verdict = "BELOW"
	}
	_, err := fmt.Fprintf(w, "\n%s: overall agreement %s (%d of %d), --min-agreement %g%%\n",
		verdict, fidelity.Percent(rep.Overall.Agree, rep.Overall.Total), rep.Overall.Agree, rep.Overall.Total, min)
	return err
}
