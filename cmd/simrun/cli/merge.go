package cli

// --out shard files and simrun merge. A shard file is JSON lines: a header
// line {"header":{...}} naming the selection and the shard, one line per
// seed in ascending seed order (seedResult), and a footer line
// {"footer":{...}}. It is written to a temporary file and renamed into
// place only when the sweep ends (completed, stopped at a violation, or
// interrupted: the footer says which), so a file that exists is whole.
//
// Integrity: every line ends with "sum":"XXXXXXXX", the CRC-32C of the
// line's bytes before that member (with the closing brace), and the footer
// carries "digest", the SHA-256 of every line before it (newlines
// included). merge checks both, so an edited line is named by FILE:LINE and
// a removed, duplicated or reordered line by the digest.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
	"github.com/spf13/cobra"
)

// outFormat names the shard file format in its header.
const outFormat = "simrun-sweep/2"

// outHeader is what a shard file needs to be merged and to print replay
// lines: the selection, the seed range and the shard.
type outHeader struct {
	Format string `json:"format"`
	// System names the system (absent in files from before systems:
	// tikv).
	System          string   `json:"system,omitempty"`
	Collector       string   `json:"collector"`
	Profile         string   `json:"profile"`
	Strategy        string   `json:"strategy"`
	MaxSteps        int64    `json:"max_steps"`
	SnapGenerators  int64    `json:"snap_generators"`
	SnapGCTimeoutUS int64    `json:"snap_gc_timeout_us"`
	GCGraceUS       int64    `json:"gc_grace_us"`
	ThreadChurnUS   int64    `json:"thread_churn_us,omitempty"`
	Variants        []string `json:"variants"`
	Sets            []string `json:"sets,omitempty"`
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
	// sweep stopped at a violation without --keep-going, or was
	// interrupted).
	Complete bool `json:"complete"`
	// Partial is set when a signal interrupted the sweep: the file holds
	// the seeds that completed before it, and merge refuses it.
	Partial     bool   `json:"partial,omitempty"`
	Interrupted string `json:"interrupted,omitempty"`
	// Violating, Incomplete and OK count the shard's seeds by outcome.
	Violating  uint64 `json:"violating_seeds"`
	Incomplete uint64 `json:"incomplete_seeds"`
	OK         uint64 `json:"ok_seeds"`
	// Digest is the SHA-256 (hex) of every line before the footer.
	Digest string `json:"digest"`
}

// outLine is any line of a shard file.
type outLine struct {
	Header *outHeader `json:"header,omitempty"`
	Footer *outFooter `json:"footer,omitempty"`
	seedResult
	Sum string `json:"sum,omitempty"`
}

// sumSuffix is how every line of a shard file ends: the checksum member.
const sumPrefix = `,"sum":"`

// sealLine appends the checksum member to a JSON object's encoding (no
// trailing newline) and a newline.
func sealLine(obj []byte) []byte {
	if len(obj) < 2 || obj[len(obj)-1] != '}' {
		panic("simrun: sealLine: not a JSON object")
	}
	sum := crc32.Checksum(obj, castagnoli)
	line := append([]byte(nil), obj[:len(obj)-1]...)
	line = fmt.Appendf(line, `%s%08x"}`, sumPrefix, sum)
	return append(line, '\n')
}

// checkSeal verifies a line's checksum member; line has no newline.
func checkSeal(line []byte) error {
	i := bytes.LastIndex(line, []byte(sumPrefix))
	if i < 0 || len(line) != i+len(sumPrefix)+10 || !bytes.HasSuffix(line, []byte(`"}`)) {
		return errors.New(`the line does not end with its checksum ("sum":"XXXXXXXX")`)
	}
	want := string(line[i+len(sumPrefix) : len(line)-2])
	obj := append(append([]byte(nil), line[:i]...), '}')
	if got := fmt.Sprintf("%08x", crc32.Checksum(obj, castagnoli)); got != want {
		return fmt.Errorf("checksum mismatch (the line says %s, its content gives %s): the line was edited or damaged", want, got)
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func headerOf(sel *selection, plan seedPlan, keepGoing bool) outHeader {
	h := outHeader{
		Format: outFormat, System: sel.system, Collector: sel.collector, Profile: sel.profile, Strategy: sel.strategy,
		MaxSteps: sel.maxSteps, SnapGenerators: sel.generators, SnapGCTimeoutUS: sel.snapGCTimeoutUS, GCGraceUS: sel.gcGraceUS, ThreadChurnUS: sel.threadChurnUS,
		Variants: append([]string{}, sel.variantNames()...), Sets: sel.sets,
		FirstSeed: plan.first, Seeds: plan.n, Shard: plan.shard, Shards: plan.shards, KeepGoing: keepGoing,
	}
	return h
}

// selection rebuilds the selection a header was written with.
func (h *outHeader) selection(e *env) (*selection, error) {
	system := h.System
	if system == "" {
		system = tikv.Name // files from before systems
	}
	s := &selection{env: e, system: system, collector: h.Collector, profile: h.Profile, strategy: h.Strategy, maxSteps: h.MaxSteps,
		generators: h.SnapGenerators, snapGCTimeoutUS: h.SnapGCTimeoutUS, gcGraceUS: h.GCGraceUS, threadChurnUS: h.ThreadChurnUS, sets: h.Sets}
	if err := s.setVariants(h.Variants); err != nil {
		return nil, err
	}
	if _, _, err := s.resolve(); err != nil {
		return nil, err
	}
	return s, nil
}

// outWriter writes a shard file to a temporary file next to it.
type outWriter struct {
	path    string
	force   bool
	tmp     *os.File
	untrack func()
	buf     *bufio.Writer
	digest  hash.Hash
	done    bool
}

// createOut checks the --out path and opens the temporary file the shard is
// written to, before any seed runs: an existing file (without force), a
// directory, or a directory that is missing or not writable is a usage
// error now rather than after the work.
func createOut(path string, sel *selection, plan seedPlan, keepGoing, force bool) (*outWriter, error) {
	if err := checkOutput("--out", path, force); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, usagef("--out: %v", err)
	}
	w := &outWriter{path: path, force: force, tmp: tmp, untrack: trackTemp(tmp.Name()), buf: bufio.NewWriterSize(tmp, 1<<16), digest: sha256.New()}
	h := headerOf(sel, plan, keepGoing)
	if err := w.encode(struct {
		Header *outHeader `json:"header"`
	}{&h}); err != nil {
		w.abort()
		return nil, err
	}
	return w, nil
}

// encode writes v as one sealed line.
func (w *outWriter) encode(v any) error {
	obj, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("--out %s: %w", w.path, err)
	}
	line := sealLine(obj)
	w.digest.Write(line)
	if _, err := w.buf.Write(line); err != nil {
		return fmt.Errorf("--out %s: %w", w.path, err)
	}
	return nil
}

func (w *outWriter) write(r *seedResult) error { return w.encode(r) }

// commit writes the footer and renames the file into place (mode 0644).
func (w *outWriter) commit(rep *sweepReport, plan seedPlan) error {
	f := outFooter{SeedsRun: rep.SeedsRun, Steps: rep.Steps, Elapsed: rep.Elapsed, Complete: rep.SeedsRun == plan.count(),
		Partial: rep.Interrupted != "", Interrupted: rep.Interrupted,
		Violating: rep.ViolatingSeeds, Incomplete: rep.IncompleteSeeds, OK: rep.OKSeeds,
		Digest: hex.EncodeToString(w.digest.Sum(nil))}
	err := w.encode(struct {
		Footer *outFooter `json:"footer"`
	}{&f})
	if err == nil {
		err = w.buf.Flush()
	}
	if err == nil {
		err = w.tmp.Chmod(0o644)
	}
	if err == nil {
		err = w.tmp.Sync()
	}
	if cerr := w.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = placeFile(w.tmp.Name(), w.path, w.force)
	}
	if err != nil {
		_ = os.Remove(w.tmp.Name())
		w.untrack()
		if isUsage(err) {
			return usagef("--out: %v", errors.Unwrap(err))
		}
		return fmt.Errorf("--out %s: %w", w.path, err)
	}
	w.untrack()
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
	w.untrack()
}

func newMergeCmd(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "merge FILE.jsonl...",
		Short: "Combine the --out files of every shard of a sweep (or of a check) into the report one unsplit run prints",
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
			if isCheckOut(args[0]) {
				if asJSON {
					return usagef("merge: --json is for sweep shards; check shards print the verdict as text")
				}
				return mergeChecks(cmd.Context(), e, cmd.OutOrStdout(), args)
			}
			return mergeShards(e, cmd.OutOrStdout(), args, asJSON)
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
	digest hash.Hash // of the lines read so far
}

func (r *shardReader) next() (outLine, error) {
	var l outLine
	if !r.sc.Scan() {
		if err := r.sc.Err(); err != nil {
			return l, usagef("%s:%d: %v", r.path, r.line+1, err)
		}
		return l, io.EOF
	}
	r.line++
	raw := r.sc.Bytes()
	if err := checkSeal(raw); err != nil {
		return l, usagef("%s:%d: %v", r.path, r.line, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return l, usagef("%s:%d: not a shard line: %v", r.path, r.line, err)
	}
	if l.Footer != nil {
		if got := hex.EncodeToString(r.digest.Sum(nil)); got != l.Footer.Digest {
			return l, usagef("%s:%d: the footer's digest %s does not match the lines before it (%s): lines were removed, duplicated or reordered", r.path, r.line, clip(l.Footer.Digest, 64), got)
		}
	}
	r.digest.Write(raw)
	r.digest.Write([]byte{'\n'})
	return l, nil
}

// headerDiff names the fields in which two shard headers differ (the shard
// index and --keep-going aside), e.g. "collector naive vs lease-retry".
func headerDiff(a, b outHeader) []string {
	a.Shard, b.Shard = 0, 0
	a.KeepGoing, b.KeepGoing = true, true
	var ma, mb map[string]any
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	_ = json.Unmarshal(ja, &ma)
	_ = json.Unmarshal(jb, &mb)
	keys := make([]string, 0, len(ma)+len(mb))
	for k := range ma {
		keys = append(keys, k)
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		va, _ := json.Marshal(ma[k])
		vb, _ := json.Marshal(mb[k])
		if string(va) != string(vb) {
			out = append(out, fmt.Sprintf("%s %s vs %s", k, clip(string(va), 60), clip(string(vb), 60)))
		}
	}
	return out
}

func mergeShards(e *env, w io.Writer, paths []string, asJSON bool) error {
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
		r := &shardReader{path: p, f: f, sc: bufio.NewScanner(f), digest: sha256.New()}
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
			return usagef("%s:1: format %q, want %q (re-run the shard with this simrun)", p, clip(l.Header.Format, 40), outFormat)
		}
		r.header = *l.Header
	}
	h0 := readers[0].header
	byShard := make([]*shardReader, h0.Shards)
	for _, r := range readers {
		h := r.header
		if diff := headerDiff(h0, h); len(diff) > 0 {
			return usagef("%s:1 is from another sweep than %s:1: %s", r.path, readers[0].path, strings.Join(diff, ", "))
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
	sel, err := h0.selection(e)
	if err != nil {
		return usagef("%s: header: %v", readers[0].path, err)
	}
	sel.asJSON = asJSON
	st, _ := sim.ParseStrategy(sel.strategy)
	rep := sweepReport{Outcome: outcomeOK, System: sel.system, otherSystem: sel.system != e.defaultSystem, Collector: h0.Collector, Profile: h0.Profile, Strategy: st.String(), FirstSeed: h0.FirstSeed, SeedsPlanned: h0.Seeds}
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
			if l.Footer.Partial {
				return usagef("%s:%d: the shard is partial: it was interrupted by %s after %d seeds, before seed %d; re-run it (merge takes only whole shards)", r.path, r.line, clip(l.Footer.Interrupted, 20), l.Footer.SeedsRun, seed)
			}
			return usagef("%s:%d: the shard stopped before seed %d (run shards with --keep-going to merge them)", r.path, r.line, seed)
		}
		if l.Header != nil || l.Seed != seed {
			return usagef("%s:%d: want seed %d's result", r.path, r.line, seed)
		}
		switch l.Outcome {
		case outcomeOK, outcomeViolation, outcomeIncomplete:
		default:
			return usagef("%s:%d: outcome %q is not one of ok, violation, incomplete", r.path, r.line, clip(l.Outcome, 30))
		}
		if l.violated() != (len(l.Kinds) > 0) {
			return usagef("%s:%d: outcome %q disagrees with kinds %v", r.path, r.line, clip(l.Outcome, 30), l.Kinds)
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
		if l.Footer.Partial {
			return usagef("%s:%d: the shard is partial (interrupted by %s); re-run it", r.path, r.line, clip(l.Footer.Interrupted, 20))
		}
		if !l.Footer.Complete {
			return usagef("%s:%d: the shard did not complete (run shards with --keep-going to merge them)", r.path, r.line)
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
