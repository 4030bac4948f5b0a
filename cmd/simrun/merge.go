package main

// --out shard files and simrun merge. A shard file is JSON lines: a header
// line {"header":{...}} naming the selection and the shard, one line per
// seed in ascending seed order (seedResult), and a footer line
// {"footer":{...}}. It is written to a temporary file and renamed into
// place only when the sweep completes, so a file that exists is whole.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/snapsim/snapsim/sim"
	"github.com/spf13/cobra"
)

// outFormat names the shard file format in its header.
const outFormat = "simrun-sweep/1"

// outHeader is what a shard file needs to be merged and to print replay
// lines: the selection, the seed range and the shard.
type outHeader struct {
	Format          string   `json:"format"`
	Collector       string   `json:"collector"`
	Profile         string   `json:"profile"`
	Strategy        string   `json:"strategy"`
	MaxSteps        int64    `json:"max_steps"`
	SnapGenerators  int64    `json:"snap_generators"`
	SnapGCTimeoutUS int64    `json:"snap_gc_timeout_us"`
	GCGraceUS       int64    `json:"gc_grace_us"`
	ThreadChurnUS   int64    `json:"thread_churn_us,omitempty"`
	Variants        []string `json:"variants"`
	FirstSeed       uint64   `json:"first_seed"`
	Seeds           uint64   `json:"seeds"`
	Shard           uint64   `json:"shard"`
	Shards          uint64   `json:"shards"`
	KeepGoing       bool     `json:"keep_going"`
}

// outFooter closes a shard file.
type outFooter struct {
	SeedsRun uint64  `json:"seeds_run"`
	Steps    int64   `json:"steps"`
	Elapsed  float64 `json:"elapsed_seconds"`
	// Complete is whether every seed of the shard ran (false when the
	// sweep stopped at a violation without --keep-going).
	Complete bool `json:"complete"`
}

// outLine is any line of a shard file.
type outLine struct {
	Header *outHeader `json:"header,omitempty"`
	Footer *outFooter `json:"footer,omitempty"`
	seedResult
}

func headerOf(sel *selection, plan seedPlan, keepGoing bool) outHeader {
	h := outHeader{
		Format: outFormat, Collector: sel.collector, Profile: sel.profile, Strategy: sel.strategy,
		MaxSteps: sel.maxSteps, SnapGenerators: sel.generators, SnapGCTimeoutUS: sel.snapGCTimeoutUS, GCGraceUS: sel.gcGraceUS, ThreadChurnUS: sel.threadChurnUS,
		Variants:  []string{},
		FirstSeed: plan.first, Seeds: plan.n, Shard: plan.shard, Shards: plan.shards, KeepGoing: keepGoing,
	}
	for _, v := range sel.variantFlags() {
		if *v.value {
			h.Variants = append(h.Variants, v.name)
		}
	}
	return h
}

// selection rebuilds the selection a header was written with.
func (h *outHeader) selection() (*selection, error) {
	s := &selection{collector: h.Collector, profile: h.Profile, strategy: h.Strategy, maxSteps: h.MaxSteps,
		generators: h.SnapGenerators, snapGCTimeoutUS: h.SnapGCTimeoutUS, gcGraceUS: h.GCGraceUS, threadChurnUS: h.ThreadChurnUS}
	for _, name := range h.Variants {
		found := false
		for _, v := range s.variantFlags() {
			if v.name == name {
				*v.value, found = true, true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown variant %q", name)
		}
	}
	if _, _, err := s.resolve(); err != nil {
		return nil, err
	}
	return s, nil
}

// outWriter writes a shard file to a temporary file next to it.
type outWriter struct {
	path string
	tmp  *os.File
	buf  *bufio.Writer
	enc  *json.Encoder
	done bool
}

func createOut(path string, sel *selection, plan seedPlan, keepGoing bool) (*outWriter, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, usagef("--out: %v", err)
	}
	w := &outWriter{path: path, tmp: tmp, buf: bufio.NewWriterSize(tmp, 1<<16)}
	w.enc = json.NewEncoder(w.buf)
	h := headerOf(sel, plan, keepGoing)
	if err := w.enc.Encode(struct {
		Header *outHeader `json:"header"`
	}{&h}); err != nil {
		w.abort()
		return nil, fmt.Errorf("--out %s: %w", path, err)
	}
	return w, nil
}

func (w *outWriter) write(r *seedResult) error {
	if err := w.enc.Encode(r); err != nil {
		return fmt.Errorf("--out %s: %w", w.path, err)
	}
	return nil
}

// commit writes the footer and renames the file into place.
func (w *outWriter) commit(rep *sweepReport, plan seedPlan) error {
	f := outFooter{SeedsRun: rep.SeedsRun, Steps: rep.Steps, Elapsed: rep.Elapsed, Complete: rep.SeedsRun == plan.count()}
	err := w.enc.Encode(struct {
		Footer *outFooter `json:"footer"`
	}{&f})
	if err == nil {
		err = w.buf.Flush()
	}
	if err == nil {
		err = w.tmp.Sync()
	}
	if cerr := w.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.tmp.Name(), w.path)
	}
	if err != nil {
		_ = os.Remove(w.tmp.Name())
		return fmt.Errorf("--out %s: %w", w.path, err)
	}
	w.done = true
	return nil
}

// abort removes the temporary file unless the output was committed.
func (w *outWriter) abort() {
	if w.done {
		return
	}
	w.done = true
	_ = w.tmp.Close()
	_ = os.Remove(w.tmp.Name())
}

func newMergeCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "merge FILE.jsonl...",
		Short: "Combine the --out files of every shard of a sweep into the report one run with --keep-going prints",
		Example: `  simrun run --collector naive --seeds 3000 --shard 0/3 --keep-going --out s0.jsonl
  simrun run --collector naive --seeds 3000 --shard 1/3 --keep-going --out s1.jsonl
  simrun run --collector naive --seeds 3000 --shard 2/3 --keep-going --out s2.jsonl
  simrun merge s0.jsonl s1.jsonl s2.jsonl`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("merge needs the shard files (FILE.jsonl written by run --out)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return mergeShards(cmd.OutOrStdout(), args, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	return cmd
}

// shardReader reads one shard file line by line.
type shardReader struct {
	path   string
	f      *os.File
	sc     *bufio.Scanner
	line   int
	header outHeader
}

func (r *shardReader) next() (outLine, error) {
	var l outLine
	if !r.sc.Scan() {
		if err := r.sc.Err(); err != nil {
			return l, usagef("%s: %v", r.path, err)
		}
		return l, io.EOF
	}
	r.line++
	dec := json.NewDecoder(strings.NewReader(r.sc.Text()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return l, usagef("%s:%d: not a shard line: %v", r.path, r.line, err)
	}
	return l, nil
}

func mergeShards(w io.Writer, paths []string, asJSON bool) error {
	var readers []*shardReader
	defer func() {
		for _, r := range readers {
			_ = r.f.Close()
		}
	}()
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return usagef("merge: %v", err)
		}
		r := &shardReader{path: p, f: f, sc: bufio.NewScanner(f)}
		r.sc.Buffer(make([]byte, 1<<16), 64<<20)
		readers = append(readers, r)
		l, err := r.next()
		if errors.Is(err, io.EOF) || err == nil && l.Header == nil {
			return usagef("%s:1: want a header line (is this a file written by simrun run --out?)", p)
		}
		if err != nil {
			return err
		}
		if l.Header.Format != outFormat {
			return usagef("%s:1: format %q, want %q", p, l.Header.Format, outFormat)
		}
		r.header = *l.Header
	}
	h0 := readers[0].header
	byShard := make([]*shardReader, h0.Shards)
	for _, r := range readers {
		h := r.header
		a, b := h0, h
		a.Shard, b.Shard = 0, 0
		a.KeepGoing, b.KeepGoing = true, true
		if !slices.Equal(a.Variants, b.Variants) {
			return usagef("%s: variants %v differ from %s's %v", r.path, b.Variants, readers[0].path, a.Variants)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			return usagef("%s is from another sweep than %s: %+v vs %+v", r.path, readers[0].path, h, h0)
		}
		if h.Shard >= h.Shards {
			return usagef("%s: shard %d/%d is out of range", r.path, h.Shard, h.Shards)
		}
		if prev := byShard[h.Shard]; prev != nil {
			return usagef("%s and %s are both shard %d/%d", prev.path, r.path, h.Shard, h.Shards)
		}
		byShard[h.Shard] = r
	}
	var missing []string
	for i, r := range byShard {
		if r == nil {
			missing = append(missing, fmt.Sprint(i))
		}
	}
	if len(missing) > 0 {
		more := ""
		if len(missing) > 20 {
			missing, more = missing[:20], ", ..."
		}
		return usagef("merge: missing shards %s%s of %d (each shard's file is needed)", strings.Join(missing, ", "), more, h0.Shards)
	}
	sel, err := h0.selection()
	if err != nil {
		return usagef("%s: header: %v", readers[0].path, err)
	}
	sel.asJSON = asJSON
	st, _ := sim.ParseStrategy(sel.strategy)
	rep := sweepReport{Outcome: "ok", Collector: h0.Collector, Profile: h0.Profile, Strategy: st.String(), FirstSeed: h0.FirstSeed}
	// Seed k is in shard (k-START) mod N, and each file is in seed order:
	// read the files round-robin to fold every seed in order.
	for j := uint64(0); j < h0.Seeds; j++ {
		r := byShard[j%h0.Shards]
		seed := h0.FirstSeed + j
		l, err := r.next()
		if errors.Is(err, io.EOF) {
			return usagef("%s: ends before seed %d (the file is truncated)", r.path, seed)
		}
		if err != nil {
			return err
		}
		if l.Footer != nil {
			return usagef("%s:%d: the shard stopped before seed %d (run shards with --keep-going to merge them)", r.path, r.line, seed)
		}
		if l.Header != nil || l.Seed != seed || (l.Outcome != "ok" && l.Outcome != "violation") {
			return usagef("%s:%d: want seed %d's result", r.path, r.line, seed)
		}
		rep.add(&l.seedResult, sel)
	}
	for _, r := range byShard {
		l, err := r.next()
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if err != nil || l.Footer == nil {
			return usagef("%s:%d: want the footer line after the last seed", r.path, r.line)
		}
		if !l.Footer.Complete {
			return usagef("%s: the shard did not complete (run shards with --keep-going to merge them)", r.path)
		}
		// The shards ran side by side: the merged sweep took as long as
		// the slowest.
		rep.Elapsed = max(rep.Elapsed, l.Footer.Elapsed)
		if _, err := r.next(); !errors.Is(err, io.EOF) {
			return usagef("%s:%d: trailing data after the footer", r.path, r.line)
		}
	}
	return printReport(w, sel, &rep)
}
