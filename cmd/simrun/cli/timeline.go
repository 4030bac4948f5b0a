package cli

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
	"github.com/spf13/cobra"
)

// newTimelineCmd is `simrun timeline`: run one seed as replay does and
// write the picture a postmortem can use (SVG, or HTML with it inline).
func newTimelineCmd() *cobra.Command {
	var sel selection
	var seedS, outPath string
	var all, force bool
	cmd := &cobra.Command{
		Use:   "timeline (--seed SEED | FILE.draws) -o FILE.svg|FILE.html",
		Short: "Draw one run as a timeline picture (SVG, or HTML with the SVG inline)",
		Long: `Run one seed exactly as replay does and draw it: one lane per actor, the
x axis in virtual time, each SST and snapshot file's lifetime as a bar from
its creation to its removal, high-level actions as marks in their actor's
lane, failed filesystem calls as × (a read ending in EOF is not a failure),
and each I/O-limiter wait as a shaded span in its actor's lane.

For an open of a deleted file the picture tells the story in three legs,
each a dashed line from its event to the file's bar: (1) the list that put
the file in the collector's hands, (2) the deletion that ended the bar, (3)
the open that found it gone, in red, with who deleted it and when. The span
from (1) to (3) is shaded as the race window, the limiter wait inside it
solid: the time in which the file could vanish.

Every colour means one thing, and the legend lists each once: red is only
the violation.

By default the picture zooms to the window around the first violation: from
the start of the violating actor's last snapshot generation (its list) before
the violation, to a little after it, and leaves out the lanes of actors with
nothing drawn in that window (the footer names them). --all draws the whole
run and every lane. A run without a violation is drawn whole.

The file is written atomically (a temporary file renamed into place) and an
existing file is not overwritten without --force.

Exit codes (the rule of the artifact commands, shrink and timeline): 0 the
picture was written, whatever the run observed (the title and the picture
say it); 2 bad usage, or an unusable output path (checked before the run:
an existing file without --force, a directory, a missing or read-only
directory).`,
		Example: `  simrun timeline --collector naive --seed 2 -o seed2.svg
  simrun timeline --collector naive --seed 2 --all -o seed2.html --force
  simrun timeline naive-report.draws -o naive-report.svg`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 || len(args) == 1 && !strings.HasSuffix(args[0], ".draws") {
				return usagef("timeline takes no positional arguments but one FILE.draws (written by shrink or check), got %d (first: %q)", len(args), clip(args[0], 60))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var df *drawsFile
			seed := uint64(0)
			if len(args) == 1 {
				if cmd.Flags().Changed("seed") {
					return usagef("timeline %s: the file replaces --seed; give one or the other", clip(args[0], 60))
				}
				f, fsel, err := loadDrawsFile(args[0])
				if err != nil {
					return err
				}
				df, sel = f, *fsel
			} else {
				if !cmd.Flags().Changed("seed") {
					return usagef("--seed is required (a decimal or 0x-hex unsigned 64-bit integer), or a FILE.draws")
				}
				var err error
				if seed, err = parseSeed("--seed", seedS); err != nil {
					return err
				}
			}
			if outPath == "" {
				return usagef("-o is required (FILE.svg or FILE.html)")
			}
			ext := strings.ToLower(filepath.Ext(outPath))
			if ext != ".svg" && ext != ".html" && ext != ".htm" {
				return usagef("-o %s: want a name ending in .svg or .html", outPath)
			}
			if err := checkOutput("-o", outPath, force); err != nil {
				return err
			}
			var cfg model.Config
			var sc sim.Config
			var err error
			if df != nil {
				cfg, sc, err = drawsConfig(df, &sel)
			} else {
				cfg, sc, err = sel.resolve()
			}
			if err != nil {
				return err
			}
			sc.KeepTrace = true
			var out model.Outcome
			title := ""
			if df != nil {
				out, err = modelRun(cfg, sim.NewLog(df.Draws), sc)
				from := fmt.Sprintf("shrunk from seed %d", df.FromSeed)
				if df.Scope != "" {
					from = "scope " + df.Scope + ", found by simrun check"
				}
				title = fmt.Sprintf("snapsim timeline: collector %s, %s, %s (%s)", sel.collector, filepath.Base(args[0]), from, outcomeWord(&out))
			} else {
				out, err = runSeed(cfg, sc, seed)
				title = fmt.Sprintf("snapsim timeline: collector %s, profile %s, strategy %s, seed %d (%s)",
					sel.collector, sel.profile, sel.strategy, seed, outcomeWord(&out))
			}
			if err != nil {
				return err
			}
			tl := buildTimeline(&out, all)
			svg := tl.svg(title)
			data := svg
			if ext != ".svg" {
				data = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + html.EscapeString(title) +
					"</title></head>\n<body style=\"margin:0;background:#fff\">\n" + svg + "</body></html>\n"
			}
			if err := writeFileAtomic("-o", outPath, []byte(data), force); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %s\n", outPath, tl.summary())
			return nil
		},
	}
	sel.register(cmd)
	// --json selects replay's output format; a picture has none.
	_ = cmd.Flags().MarkHidden("json")
	cmd.Flags().StringVar(&seedS, "seed", "", "seed to draw (decimal or 0x-hex)")
	cmd.Flags().StringVarP(&outPath, "output", "o", "", "output file: FILE.svg, or FILE.html for HTML with the SVG inline")
	cmd.Flags().BoolVar(&all, "all", false, "draw the whole run and every lane, instead of the window around the first violation and the lanes with something drawn in it")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite the output file if it exists")
	return cmd
}

// ---- the model of the picture ----

// tlFile is one SST or snapshot file's lifetime: a bar from its creation to
// its removal (or to the end of the run).
type tlFile struct {
	path       string
	start, end sim.Micros
	open       bool // still alive at the end of the run (or window)
	creator    string
	how        string // "create", "link" or "rename"
	deleter    string
	endHow     string
	deleted    bool // removed (not renamed away)
}

// tlMark is one event drawn as a glyph in its actor's lane: an action, an
// info, a violation, or a filesystem call that failed (or stalled).
type tlMark struct {
	t      sim.Micros
	step   int64
	actor  string
	op     string
	detail string
	class  sim.Class
	result string
	failed bool // an I/O error (ioFailed); drawn as ×
}

// tlWait is one limiter wait: the generator asked the snapshot I/O limiter
// for bytes and slept from t0 to t1 while holding the files it had listed.
// That sleep is the window in which a listed, unpinned file can vanish.
type tlWait struct {
	actor  string
	step   int64
	t0, t1 sim.Micros
	detail string
	race   bool // inside the violation's race window (between its list and its open)
}

// tlLeg is one leg of the violating file's story, linking an event in a
// lane to the file's bar: the list that handed the file to the collector,
// the deletion, and the open that failed.
type tlLeg struct {
	kind   string // "list", "delete" or "open"
	actor  string
	step   int64
	t      sim.Micros
	detail string
}

// tlViolation is the first observation, and for an open of a deleted file
// the three legs behind it (whichever the trace lets us find).
type tlViolation struct {
	obs      sim.Observation
	path     string
	delStep  int64
	delTime  string
	delActor string
	delWhy   string
	list     *tlLeg // the list that named path, if found
	del      *tlLeg // the remove of path, if found
	open     *tlLeg // the failing open (the observation itself)
}

// timeline is everything the picture draws, already clipped to the window
// [t0, t1]; actors are the visible lanes, hidden the lanes left out because
// nothing in the window would be drawn in them (all of them shown by --all).
type timeline struct {
	t0, t1 sim.Micros
	actors []string
	hidden []string
	files  []tlFile
	marks  []tlMark
	waits  []tlWait
	viol   *tlViolation
	all    bool
}

// removedRE parses the oracle's open-deleted-file detail: the path, the
// step and time of its removal, who removed it and why.
var removedRE = regexp.MustCompile(`^open (\S+): removed at step (\d+) \(t=([^)]+)\) by ([^:]+)(?::\s*(.*))?$`)

// trackedFile reports whether the timeline draws a bar for path: SSTs and
// snapshot files.
func trackedFile(p string) bool {
	return strings.Contains(filepath.Base(p), ".sst") || strings.HasPrefix(p, "/snap/") ||
		strings.Contains(p, "/snap/")
}

// isLimiterWait reports whether e is a limiter (or plain throttle) wait,
// "wait D" in the result, and returns D.
func isLimiterWait(e sim.Event) (sim.Micros, bool) {
	if e.Class != sim.ClassInfo || (e.Op != "io-limit" && e.Op != "throttle") {
		return 0, false
	}
	d, ok := parseMicros(strings.TrimPrefix(e.Result, "wait "))
	return d, ok && strings.HasPrefix(e.Result, "wait ") && d > 0
}

// parseMicros reads a span as sim.Micros.String writes it: "250us",
// "3.814ms", "1.000250s".
func parseMicros(s string) (sim.Micros, bool) {
	var unit sim.Micros
	switch {
	case strings.HasSuffix(s, "us"):
		s, unit = strings.TrimSuffix(s, "us"), sim.Microsecond
	case strings.HasSuffix(s, "ms"):
		s, unit = strings.TrimSuffix(s, "ms"), sim.Millisecond
	case strings.HasSuffix(s, "s"):
		s, unit = strings.TrimSuffix(s, "s"), sim.Second
	default:
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 6 || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, false
	}
	var v sim.Micros
	for _, c := range whole {
		v = v*10 + sim.Micros(c-'0')
	}
	v *= unit
	scale := unit
	for _, c := range frac {
		scale /= 10
		if scale == 0 {
			return 0, false // finer than a microsecond
		}
		v += sim.Micros(c-'0') * scale
	}
	return v, true
}

// listNames reports whether a list action's detail ("version 2: 2 files:
// 000001.sst 000002.sst") names the file base.
func listNames(detail, base string) bool {
	_, files, ok := strings.Cut(detail, "files:")
	if !ok {
		files = detail
	}
	for _, f := range strings.Fields(files) {
		if f == base {
			return true
		}
	}
	return false
}

// buildTimeline turns a run's trace into what the picture draws: file
// lifetimes from the io events, marks, limiter waits, the first violation
// with its legs, the window (around the violation unless all), and the
// lanes (without all, only those with something drawn in the window). It
// reads only the trace, in trace order, so the same seed gives the same
// timeline.
func buildTimeline(out *model.Outcome, all bool) *timeline {
	events := out.Result.Events
	tl := &timeline{all: all}
	var endT sim.Micros
	if n := len(events); n > 0 {
		endT = events[n-1].Time
	}
	if out.Result.Time > endT {
		endT = out.Result.Time
	}

	// File lifetimes from the io events.
	live := map[string]int{}
	begin := func(p string, t sim.Micros, actor, how string) {
		if !trackedFile(p) {
			return
		}
		if _, ok := live[p]; ok {
			return // e.g. a create over an existing file: keep the first bar
		}
		live[p] = len(tl.files)
		tl.files = append(tl.files, tlFile{path: p, start: t, creator: actor, how: how, open: true})
	}
	finish := func(p string, t sim.Micros, actor, how string, deleted bool) {
		i, ok := live[p]
		if !ok {
			return
		}
		delete(live, p)
		f := &tl.files[i]
		f.end, f.open, f.deleter, f.endHow, f.deleted = t, false, actor, how, deleted
	}
	for _, e := range events {
		if e.Class != sim.ClassIO || !okResult(e.Result) {
			continue
		}
		switch e.Op {
		case "create":
			begin(e.Detail, e.Time, e.Actor, "create")
		case "link":
			if _, np, ok := strings.Cut(e.Detail, " -> "); ok {
				begin(np, e.Time, e.Actor, "link")
			}
		case "rename":
			if op, np, ok := strings.Cut(e.Detail, " -> "); ok {
				finish(np, e.Time, e.Actor, "replaced by rename", true)
				finish(op, e.Time, e.Actor, "renamed to "+filepath.Base(np), false)
				begin(np, e.Time, e.Actor, "rename from "+filepath.Base(op))
			}
		case "remove":
			finish(e.Detail, e.Time, e.Actor, "remove", true)
		case "remove-all":
			// Map order does not matter: each file is finished on its own.
			prefix := strings.TrimSuffix(e.Detail, "/") + "/"
			for p := range live {
				if p == e.Detail || strings.HasPrefix(p, prefix) {
					finish(p, e.Time, e.Actor, "remove-all "+e.Detail, true)
				}
			}
		}
	}
	for i := range tl.files {
		if tl.files[i].open {
			tl.files[i].end = endT
		}
	}

	// Marks: actions, infos, violations, and filesystem calls that failed
	// or stalled (an ordinary EOF is neither). Limiter waits as spans.
	for _, e := range events {
		if d, ok := isLimiterWait(e); ok {
			tl.waits = append(tl.waits, tlWait{actor: e.Actor, step: e.Step, t0: e.Time, t1: e.Time + d, detail: e.Detail + ": " + e.Result})
		}
		failed := false
		if e.Class == sim.ClassIO {
			if e.Op == "open?" || (e.Op != "stall" && !ioFailed(e.Result)) {
				continue
			}
			failed = e.Op != "stall"
		}
		tl.marks = append(tl.marks, tlMark{t: e.Time, step: e.Step, actor: e.Actor, op: e.Op, detail: e.Detail, class: e.Class, result: e.Result, failed: failed})
	}

	// The first violation, and for an open of a deleted file its legs.
	if len(out.Result.Observations) > 0 {
		o := out.Result.Observations[0]
		v := &tlViolation{obs: o}
		if m := removedRE.FindStringSubmatch(o.Detail); m != nil {
			v.path, v.delTime, v.delActor, v.delWhy = m[1], m[3], m[4], m[5]
			fmt.Sscan(m[2], &v.delStep)
			base := filepath.Base(v.path)
			v.open = &tlLeg{kind: "open", actor: o.Actor, step: o.Step, t: o.Time, detail: o.Detail}
			for _, e := range events {
				if e.Step > o.Step {
					break
				}
				switch {
				case e.Class == sim.ClassIO && e.Step == v.delStep && e.Actor == v.delActor &&
					(e.Op == "remove" || e.Op == "rename" || e.Op == "remove-all"):
					v.del = &tlLeg{kind: "delete", actor: e.Actor, step: e.Step, t: e.Time, detail: e.Op + " " + e.Detail}
				case e.Class == sim.ClassAction && e.Op == "list" && e.Actor == o.Actor &&
					e.Step <= v.delStep && listNames(e.Detail, base):
					// The last listing by the violating actor that named the
					// file before it was deleted: the one that put it in the
					// collector's hands.
					v.list = &tlLeg{kind: "list", actor: e.Actor, step: e.Step, t: e.Time, detail: e.Detail}
				}
			}
		}
		tl.viol = v
	}

	// The window.
	tl.t0, tl.t1 = 0, endT
	if tl.viol != nil && !all {
		vt := tl.viol.obs.Time
		start := vt - 5*sim.Millisecond
		// From the violating actor's last generation start (or list)
		// before the violation.
		for _, e := range events {
			if e.Time > vt || e.Actor != tl.viol.obs.Actor {
				continue
			}
			if (e.Class == sim.ClassInfo && e.Op == "generate" && strings.HasSuffix(e.Result, "start")) ||
				(e.Class == sim.ClassAction && e.Op == "list") {
				start = e.Time
			}
		}
		// The legs are the point of the picture: keep them in it.
		for _, l := range []*tlLeg{tl.viol.list, tl.viol.del} {
			if l != nil && l.t < start {
				start = l.t
			}
		}
		span := vt - start
		if span < sim.Millisecond {
			span = sim.Millisecond
		}
		tl.t0 = start - span/10
		if tl.t0 < 0 {
			tl.t0 = 0
		}
		tl.t1 = vt + span/6
	}
	if tl.t1 <= tl.t0 {
		tl.t1 = tl.t0 + sim.Millisecond
	}

	// A limiter wait between the violation's list and its open is the race
	// window: the file is listed, not pinned, and the collector is asleep.
	if v := tl.viol; v != nil && v.list != nil && v.open != nil {
		for i := range tl.waits {
			w := &tl.waits[i]
			if w.actor == v.open.actor && w.t0 >= v.list.t && w.t0 <= v.open.t {
				w.race = true
			}
		}
	}

	// Keep what touches the window; the violating file's bar comes first,
	// next to the lanes its legs come from.
	var files []tlFile
	for _, f := range tl.files {
		if f.end >= tl.t0 && f.start <= tl.t1 {
			files = append(files, f)
		}
	}
	sort.SliceStable(files, func(i, j int) bool {
		return tl.isViolFile(files[i]) && !tl.isViolFile(files[j])
	})
	tl.files = files
	var marks []tlMark
	drawn := map[string]bool{} // actors with something drawn in their lane
	for _, m := range tl.marks {
		if m.t >= tl.t0 && m.t <= tl.t1 {
			marks = append(marks, m)
			drawn[m.actor] = true
		}
	}
	tl.marks = marks
	var waits []tlWait
	for _, w := range tl.waits {
		if w.t1 >= tl.t0 && w.t0 <= tl.t1 {
			waits = append(waits, w)
			drawn[w.actor] = true
		}
	}
	tl.waits = waits
	if v := tl.viol; v != nil {
		drawn[v.obs.Actor] = true
		for _, l := range []*tlLeg{v.list, v.del, v.open} {
			if l != nil {
				drawn[l.actor] = true
			}
		}
		if v.delActor != "" {
			drawn[v.delActor] = true
		}
	}

	// Lanes, in order of the actors' first appearance in the run: every
	// actor active in the window; without --all, only those with something
	// drawn in their lane (the rest are counted as hidden).
	active := map[string]bool{}
	for _, e := range events {
		if e.Time >= tl.t0 && e.Time <= tl.t1 {
			active[e.Actor] = true
		}
	}
	seen := map[string]bool{}
	for _, e := range events {
		a := e.Actor
		if seen[a] {
			continue
		}
		seen[a] = true
		switch {
		case drawn[a] || (all && active[a]):
			tl.actors = append(tl.actors, a)
		case active[a]:
			tl.hidden = append(tl.hidden, a)
		}
	}
	// A deleter named by the oracle but absent from the trace (it should
	// not happen) still gets its lane, last.
	if v := tl.viol; v != nil && v.delActor != "" && !seen[v.delActor] {
		tl.actors = append(tl.actors, v.delActor)
	}
	return tl
}

// isViolFile reports whether f is the bar the violation is about: the
// opened path, and of its bars (a path can be created again) the one the
// deletion leg ended.
func (tl *timeline) isViolFile(f tlFile) bool {
	v := tl.viol
	if v == nil || v.path == "" || f.path != v.path {
		return false
	}
	return v.del == nil || (f.deleted && f.end == v.del.t)
}

// okResult reports whether a trace result is a plain success.
func okResult(r string) bool { return r == "" || r == "ok" }

// ioFailed reports whether a filesystem call's trace result is a failure
// worth a mark. A read that reaches the end of its file returns io.EOF,
// which the trace shows as "EOF": that is how every whole-file read ends,
// not a failed I/O. io.ErrUnexpectedEOF ("unexpected EOF", a short read) is
// a failure.
func ioFailed(r string) bool {
	return !okResult(r) && r != "EOF" && !strings.HasSuffix(r, ": EOF")
}

// ---- colours ----

// tlMeaning is one colour of the picture and the one thing it means. Every
// coloured element carries its meaning's key (data-meaning on it or on its
// group), the legend shows each colour once, and no colour means two
// things: a reader can trust red to be the violation and nothing else.
type tlMeaning struct{ key, color, label string }

// The meanings, in legend order.
const (
	mViolation = "violation"
	mList      = "list"
	mDeletion  = "deletion"
	mRace      = "race-window"
	mOpen      = "open"
	mSnapshot  = "snapshot"
	mFlush     = "flush"
	mCompact   = "compact"
	mProtect   = "protect"
	mWrite     = "write"
	mFailedIO  = "failed-io"
	mFile      = "file"
	mOther     = "other"
)

// tlPalette is every colour the picture uses for meaning, in legend order.
var tlPalette = []tlMeaning{
	{mViolation, "#d62728", "violation: the failing open and its leg"},
	{mList, "#1f77b4", "list (leg ①: the listing that named the file)"},
	{mDeletion, "#8c564b", "deletion: a delete (the compactor's or GC's), × removed, leg ②"},
	{mRace, "#e6b000", "race window: listed → opened, the file can vanish (solid: limiter wait)"},
	{mOpen, "#17becf", "open"},
	{mSnapshot, "#9467bd", "generate / send / apply / snap-gc"},
	{mFlush, "#2ca02c", "flush"},
	{mCompact, "#ff7f0e", "compact"},
	{mProtect, "#bcbd22", "lease / renew / pin / checkpoint link"},
	{mWrite, "#b5b5b5", "put / delete-key"},
	{mFailedIO, "#e377c2", "failed I/O (an EOF is not one)"},
	{mFile, "#9fb3c8", "file lifetime (pale: .tmp)"},
	{mOther, "#7f7f7f", "other (thread, split, crash, stats, …)"},
}

// tlNeutral are the colours of structure, not meaning: background, lane
// stripes, grid, axis, outlines and ordinary text.
var tlNeutral = []string{"none", "#fff", "#fafafa", "#f0f3f7", "#e5e5e5", "#333", "#555", "#222", "#000"}

// paint returns the colour of a meaning. An unknown key is a bug in this
// file, so it panics rather than drawing an unexplained colour.
func paint(key string) string {
	for _, m := range tlPalette {
		if m.key == key {
			return m.color
		}
	}
	panic("timeline: no colour for meaning " + key)
}

// markMeaning is the meaning (and so the colour) of a mark, from its op.
func markMeaning(m tlMark) string {
	if m.failed {
		return mFailedIO
	}
	switch m.op {
	case "list":
		return mList
	case "delete":
		return mDeletion
	case "io-limit", "throttle":
		return mRace
	case "open":
		return mOpen
	case "flush":
		return mFlush
	case "compact":
		return mCompact
	case "put", "delete-key":
		return mWrite
	case "lease", "renew", "pin", "unpin", "checkpoint", "link", "unlink":
		return mProtect
	case "generate", "send", "apply", "ingest", "snap-gc":
		return mSnapshot
	}
	switch {
	case strings.Contains(m.op, "snap"):
		return mSnapshot
	case strings.Contains(m.op, "lease") || strings.Contains(m.op, "pin"):
		return mProtect
	}
	return mOther
}

// ---- drawing ----

// Layout, in SVG user units (pixels), and fonts.
const (
	tlLeft     = 150.0
	tlRight    = 40.0
	tlWidth    = 1400.0
	tlLaneH    = 46.0
	tlFileH    = 17.0
	tlLegH     = 30.0 // room above the violating file's bar for the legs' labels
	tlFontMono = "font-family=\"DejaVu Sans Mono,Menlo,Consolas,monospace\""
	tlFont     = "font-family=\"DejaVu Sans,Helvetica,Arial,sans-serif\""
)

// esc makes s safe as XML text or attribute value: control characters XML
// 1.0 forbids are dropped, whitespace becomes a space, markup is escaped.
func esc(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteRune(' ')
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF:
			// not allowed in XML 1.0
		default:
			b.WriteRune(r)
		}
	}
	return html.EscapeString(b.String())
}

// trunc shortens s to n runes with an ellipsis.
func trunc(s string, n int) (string, bool) {
	r := []rune(s)
	if len(r) <= n {
		return s, false
	}
	if n < 2 {
		n = 2
	}
	return string(r[:n-1]) + "…", true
}

// label writes a text element, truncated to n runes; the full text goes in
// a <title> tooltip.
func label(b *bytes.Buffer, x, y float64, s string, n int, attrs string) {
	short, cut := trunc(s, n)
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" %s>`, x, y, attrs)
	if cut {
		fmt.Fprintf(b, `<title>%s</title>`, esc(s))
	}
	fmt.Fprintf(b, "%s</text>\n", esc(short))
}

// textW estimates the width of s at 11px.
func textW(s string) float64 { return float64(len([]rune(s)))*6.4 + 4 }

// niceStep picks a tick spacing of 1, 2 or 5 × 10^k microseconds giving
// about want ticks over span.
func niceStep(span sim.Micros, want int) sim.Micros {
	raw := float64(span) / float64(want)
	if raw < 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return sim.Micros(m * p)
		}
	}
	return sim.Micros(10 * p)
}

// fmtTime renders a virtual time for axis ticks and labels: "0", "250µs",
// "6ms", "5.974ms".
func fmtTime(t sim.Micros) string {
	switch {
	case t == 0:
		return "0"
	case t%1000 == 0:
		return fmt.Sprintf("%dms", t/1000)
	case t < 1000:
		return fmt.Sprintf("%dµs", t)
	default:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", float64(t)/1000), "0"), ".") + "ms"
	}
}

// crossPath is the SVG path of an × centred on (cx, cy) with half-width r:
// two diagonals of the square [cx-r, cx+r] × [cy-r, cy+r], crossing at the
// centre.
func crossPath(cx, cy, r float64) string {
	return fmt.Sprintf("M%.1f %.1f l%g %g m0 %g l%g %g", cx-r, cy-r, 2*r, 2*r, -2*r, -2*r, 2*r)
}

// diamondPath is the SVG path of a diamond centred on (cx, cy).
func diamondPath(cx, cy, r float64) string {
	return fmt.Sprintf("M%.1f %.1f l%g %g l%g %g l%g %g z", cx, cy-r, r, r, -r, r, -r, -r)
}

// raceWindow returns the violation's race window, list to open, if the
// picture has both legs.
func (tl *timeline) raceWindow() (from, to *tlLeg, ok bool) {
	v := tl.viol
	if v == nil || v.list == nil || v.open == nil {
		return nil, nil, false
	}
	return v.list, v.open, true
}

// svg draws the timeline as one standalone SVG document, top to bottom:
// title and violation banner, the race window's bracket, the lanes (limiter
// waits, legs, marks), the file bars with the legs' ends, the axis, the
// legend and the hidden-lanes footer. Every coloured element names its
// meaning (data-meaning); classes and data- attributes let tests and
// scripts find the legs, waits and marks.
func (tl *timeline) svg(title string) string {
	plotW := tlWidth - tlLeft - tlRight
	x := func(t sim.Micros) float64 {
		if t < tl.t0 {
			t = tl.t0
		}
		if t > tl.t1 {
			t = tl.t1
		}
		return tlLeft + plotW*float64(t-tl.t0)/float64(tl.t1-tl.t0)
	}
	raceFrom, raceTo, haveRace := tl.raceWindow()
	top := 70.0
	if tl.viol != nil {
		top += 34
	}
	if haveRace {
		top += 22 // the race window's bracket
	}
	lane := map[string]int{}
	for i, a := range tl.actors {
		lane[a] = i
	}
	laneY := func(a string) float64 { return top + float64(lane[a])*tlLaneH }
	laneMid := func(a string) float64 { return laneY(a) + tlLaneH/2 + 6 }
	lanesBottom := top + float64(len(tl.actors))*tlLaneH
	filesTop := lanesBottom + 34
	// Row tops; the violating file's row (first) has room above its bar
	// for the legs' labels.
	rowY := make([]float64, len(tl.files))
	violRow := -1
	y := filesTop
	for i, f := range tl.files {
		if tl.isViolFile(f) && violRow < 0 {
			violRow = i
			y += tlLegH
		}
		rowY[i] = y
		y += tlFileH
	}
	filesBottom := y
	axisY := filesBottom + 8

	var b bytes.Buffer
	label(&b, 12, 24, title, 150, `font-size="16" font-weight="bold"`)
	scope := "whole run"
	if !tl.all && tl.viol != nil {
		scope = "window around the first violation (--all for the whole run)"
	}
	label(&b, 12, 44, fmt.Sprintf("virtual time %s .. %s, %s", fmtTime(tl.t0), fmtTime(tl.t1), scope), 160, `fill="#555"`)

	// Violation banner.
	if tl.viol != nil {
		v := tl.viol
		text := fmt.Sprintf("VIOLATION %s at step %d (t=%s) by %s", v.obs.Kind, v.obs.Step, fmtTime(v.obs.Time), v.obs.Actor)
		if v.delActor != "" {
			text += fmt.Sprintf(": opened %s, deleted by %s at step %d (t=%s)", v.path, v.delActor, v.delStep, v.delTime)
			if v.delWhy != "" {
				text += ": " + v.delWhy
			}
		} else {
			text += ": " + v.obs.Detail
		}
		red := paint(mViolation)
		fmt.Fprintf(&b, `<g id="violation-banner" data-meaning="%s"><rect x="10" y="56" width="%.0f" height="26" rx="4" fill="%s" fill-opacity="0.08" stroke="%s"/>`,
			mViolation, tlWidth-20, red, red)
		label(&b, 18, 74, text, 180, `fill="`+red+`" font-weight="bold" font-size="13"`)
		b.WriteString("</g>\n")
	}

	// Grid and ticks.
	step := niceStep(tl.t1-tl.t0, 10)
	first := (tl.t0 + step - 1) / step * step
	b.WriteString(`<g id="axis">` + "\n")
	for t := first; t <= tl.t1; t += step {
		xx := x(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`+"\n", xx, top, xx, axisY)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`+"\n", xx, axisY, xx, axisY+5)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", xx, axisY+18, esc(fmtTime(t)))
	}
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`+"\n", tlLeft, axisY, tlLeft+plotW, axisY)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-weight="bold">virtual time</text>`+"\n", tlLeft+plotW/2, axisY+34)
	b.WriteString("</g>\n")

	// Lanes.
	b.WriteString(`<g id="lanes">` + "\n")
	for i, a := range tl.actors {
		y := laneY(a)
		fill := "#fafafa"
		if i%2 == 1 {
			fill = "#f0f3f7"
		}
		fmt.Fprintf(&b, `<rect class="lane" data-actor="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", esc(a), 10.0, y, tlWidth-20, tlLaneH, fill)
		label(&b, 16, y+tlLaneH/2+4, a, 18, `class="lane-label" font-weight="bold"`)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`+"\n", tlLeft, laneMid(a), tlLeft+plotW, laneMid(a))
	}
	b.WriteString("</g>\n")

	// The race window: from the list that named the file to the open that
	// failed, the collector held the file by name only. Shaded faintly
	// across the lanes and the files, bracketed above the lanes; the
	// limiter waits inside it (and every other limiter wait) are solid in
	// their actor's lane.
	gold := paint(mRace)
	if haveRace {
		x0, x1 := x(raceFrom.t), x(raceTo.t)
		span := raceTo.t - raceFrom.t
		var waited sim.Micros
		for _, w := range tl.waits {
			if w.race {
				waited += w.t1 - w.t0
			}
		}
		tip := fmt.Sprintf("race window %s (t=%s..%s): %s listed by %s at step %d, held by name; %s of it asleep in the I/O limiter; opened at step %d",
			span, fmtTime(raceFrom.t), fmtTime(raceTo.t), filepath.Base(tl.viol.path), raceFrom.actor, raceFrom.step, waited, raceTo.step)
		fmt.Fprintf(&b, `<g id="race-window" class="race-window" data-meaning="%s" data-actor="%s" data-t0="%d" data-t1="%d"><title>%s</title>`+"\n",
			mRace, esc(raceFrom.actor), raceFrom.t, raceTo.t, esc(tip))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.10"/>`+"\n", x0, top, x1-x0, filesBottom-top, gold)
		by := top - 8
		fmt.Fprintf(&b, `<path d="M%.1f %.1f v-6 H%.1f v6" stroke="%s" stroke-width="2" fill="none"/>`+"\n", x0, by, x1, gold)
		text := fmt.Sprintf("race window %s: %s listed at step %d, gone when opened at step %d; %s of it the I/O limiter's wait",
			span, filepath.Base(tl.viol.path), raceFrom.step, raceTo.step, waited)
		lx, anchor := (x0+x1)/2, "middle"
		if w := textW(text); lx-w/2 < tlLeft {
			lx, anchor = x0, "start"
		} else if lx+w/2 > tlWidth-10 {
			lx, anchor = x1, "end"
		}
		label(&b, lx, by-10, text, 130, `text-anchor="`+anchor+`" font-size="11" font-weight="bold" fill="#555"`)
		b.WriteString("</g>\n")
	}
	b.WriteString(`<g id="limiter-waits">` + "\n")
	for _, w := range tl.waits {
		if _, ok := lane[w.actor]; !ok {
			continue
		}
		x0, x1 := x(w.t0), x(w.t1)
		y := laneY(w.actor)
		cls := "limiter-wait"
		what := "limiter wait"
		if w.race {
			cls += " race"
			what = "race window: limiter wait"
		}
		tip := fmt.Sprintf("%s %s, step %d t=%s..%s, %s: %s", what, w.t1-w.t0, w.step, fmtTime(w.t0), fmtTime(w.t1), w.actor, w.detail)
		fmt.Fprintf(&b, `<g class="%s" data-meaning="%s" data-actor="%s" data-t0="%d" data-t1="%d"><title>%s</title>`, cls, mRace, esc(w.actor), w.t0, w.t1, esc(tip))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" fill-opacity="0.45"/>`, x0, y+1, math.Max(x1-x0, 1), tlLaneH-3, gold)
		// The span's label sits at the top of the lane, clear of the
		// marks' labels above the lane line (the violation's callout,
		// drawn later with a halo, stays legible over it).
		if text := fmt.Sprintf("%s %s", what, w.t1-w.t0); x1-x0 > textW(text)+8 {
			label(&b, x0+4, y+10, text, 60, `font-size="10" fill="#222"`)
		}
		b.WriteString("</g>\n")
	}
	b.WriteString("</g>\n")

	// The legs' lines, from their events in the lanes down to the
	// violating file's bar; drawn under the marks.
	v := tl.viol
	var legs []*tlLeg
	barY := 0.0
	if v != nil && violRow >= 0 {
		barY = rowY[violRow] + tlFileH/2
		for _, l := range []*tlLeg{v.list, v.del, v.open} {
			if l == nil {
				continue
			}
			if _, ok := lane[l.actor]; ok && l.t >= tl.t0 && l.t <= tl.t1 {
				legs = append(legs, l)
			}
		}
	}
	legMeaning := map[string]string{"list": mList, "delete": mDeletion, "open": mViolation}
	legNum := map[string]string{"list": "①", "delete": "②", "open": "③"}
	b.WriteString(`<g id="legs">` + "\n")
	for _, l := range legs {
		col := paint(legMeaning[l.kind])
		xx := x(l.t)
		fmt.Fprintf(&b, `<g class="leg %s" data-meaning="%s" data-actor="%s" data-path="%s" data-step="%d" data-t="%d"><title>%s</title>`,
			l.kind, legMeaning[l.kind], esc(l.actor), esc(v.path), l.step, l.t, esc(fmt.Sprintf("%s %s: step %d t=%s %s: %s", legNum[l.kind], l.kind, l.step, fmtTime(l.t), l.actor, l.detail)))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5" stroke-dasharray="4 2"/>`, xx, laneMid(l.actor), xx, barY, col)
		b.WriteString("</g>\n")
	}
	b.WriteString("</g>\n")

	// Marks, with labels alternating above and below the lane line and
	// skipped when they would collide with the previous one (the tooltip
	// keeps the text). Failed I/O goes last, so an action at the same
	// moment does not cover its ×.
	b.WriteString(`<g id="marks">` + "\n")
	lastLabelEnd := map[string][2]float64{}
	ordered := make([]tlMark, 0, len(tl.marks))
	for pass := 0; pass < 2; pass++ {
		for _, m := range tl.marks {
			if m.failed == (pass == 1) {
				ordered = append(ordered, m)
			}
		}
	}
	for _, m := range ordered {
		if m.class == sim.ClassViolation {
			continue
		}
		xx := x(m.t)
		cy := laneMid(m.actor)
		mean := markMeaning(m)
		col := paint(mean)
		full := fmt.Sprintf("step %d t=%s %s %s %s: %s %s", m.step, fmtTime(m.t), m.actor, m.class, m.op, m.detail, m.result)
		cls := "mark"
		if m.failed {
			cls += " failed-io"
		}
		fmt.Fprintf(&b, `<g class="%s" data-meaning="%s" data-op="%s" data-actor="%s" data-step="%d"><title>%s</title>`, cls, mean, esc(m.op), esc(m.actor), m.step, esc(full))
		switch {
		case m.failed:
			// A white halo keeps the × readable over another mark.
			fmt.Fprintf(&b, `<path d="%s" stroke="#fff" stroke-width="4"/><path class="glyph-x" d="%s" stroke="%s" stroke-width="2"/>`, crossPath(xx, cy, 5), crossPath(xx, cy, 5), col)
		case m.class == sim.ClassInfo || m.class == sim.ClassIO:
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="#fff" stroke="%s" stroke-width="2"/>`, xx, cy, col)
		case m.op == "put" || m.op == "delete-key":
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="3" height="8" fill="%s"/>`, xx-1.5, cy-4, col)
		default:
			fmt.Fprintf(&b, `<path d="%s" fill="%s" stroke="#333" stroke-width="0.5"/>`, diamondPath(xx, cy, 6), col)
		}
		b.WriteString("</g>\n")
		if m.op == "put" || m.op == "delete-key" || m.op == "thread-start" || mean == mRace {
			continue // too many to label, or labelled by its wait's span
		}
		if v != nil && m.actor == v.obs.Actor && m.step == v.obs.Step {
			continue // the violation callout labels it
		}
		text := m.op
		if m.class == sim.ClassInfo && m.result != "" {
			text += " " + m.result
		}
		w := float64(len([]rune(text)))*6.6 + 6
		prev := lastLabelEnd[m.actor]
		level := -1
		for lv := 0; lv < 2; lv++ {
			if xx-w/2 > prev[lv] {
				level = lv
				break
			}
		}
		if level < 0 {
			continue
		}
		prev[level] = xx + w/2
		lastLabelEnd[m.actor] = prev
		ly := cy - 10
		if level == 1 {
			ly = cy + 18
		}
		label(&b, xx, ly, text, 24, `text-anchor="middle" font-size="11" fill="#222"`)
	}
	b.WriteString("</g>\n")

	// File bars.
	fileCol, delCol := paint(mFile), paint(mDeletion)
	fmt.Fprintf(&b, `<g id="files"><text x="16" y="%.1f" font-weight="bold">files</text>`+"\n", filesTop-10)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#555" font-size="11">SST and snapshot file lifetimes, creation → removal (× removed; ‹ created before the window; pale: .tmp; hover a bar for who created and removed it)</text>`+"\n", tlLeft, filesTop-10)
	for i, f := range tl.files {
		y := rowY[i]
		x0, x1 := x(f.start), x(f.end)
		if x1-x0 < 2 {
			x1 = x0 + 2
		}
		isViol := i == violRow
		endTxt := "alive at end"
		if !f.open {
			endTxt = fmt.Sprintf("%s by %s at %s", f.endHow, f.deleter, fmtTime(f.end))
		}
		full := fmt.Sprintf("%s: %s by %s at %s; %s", f.path, f.how, f.creator, fmtTime(f.start), endTxt)
		cls := "file"
		if isViol {
			cls += " violating"
		}
		fmt.Fprintf(&b, `<g class="%s" data-meaning="%s" data-path="%s" data-bar-y="%.1f"><title>%s</title>`, cls, mFile, esc(f.path), y+tlFileH/2, esc(full))
		op := "0.9"
		if strings.HasSuffix(f.path, ".tmp") {
			op = "0.4"
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="2" fill="%s" fill-opacity="%s"/>`,
			x0, y+2, x1-x0, tlFileH-4, fileCol, op)
		if f.start < tl.t0 {
			// Created before the window: a chevron at the clipped edge.
			fmt.Fprintf(&b, `<path d="M%.1f %.1f l-6 %.1f l6 %.1f" stroke="#fff" stroke-width="2" fill="none"/>`, x0+8, y+4, (tlFileH-8)/2, (tlFileH-8)/2)
		}
		if f.deleted && f.end <= tl.t1 {
			fmt.Fprintf(&b, `<path class="glyph-x removed" data-meaning="%s" d="%s" stroke="%s" stroke-width="2"/>`, mDeletion, crossPath(x1, y+tlFileH/2, 4), delCol)
		}
		b.WriteString("</g>\n")
		name := filepath.Base(f.path)
		if strings.HasPrefix(f.path, "/snap/") {
			name = "snap/" + name
		}
		// Label right of the bar if it fits, else left of it, else inside;
		// the violating file's inside, at its start (its legs and the
		// gap to the open take the space after it).
		lw := float64(len([]rune(name)))*6.6 + 8
		attrs := `font-size="11" ` + tlFontMono
		switch {
		case isViol:
			label(&b, x0+12, y+tlFileH-5, name, 40, attrs+` fill="#000" font-weight="bold"`)
		case x1+lw < tlWidth-10:
			label(&b, x1+6, y+tlFileH-5, name, 40, attrs)
		case x0-lw > tlLeft:
			label(&b, x0-6, y+tlFileH-5, name, 40, attrs+` text-anchor="end"`)
		default:
			label(&b, x0+4, y+tlFileH-5, name, 40, attrs+` fill="#000"`)
		}
	}
	b.WriteString("</g>\n")

	// The legs' ends on the violating file's row, numbered and labelled
	// above the bar: ① listed, ② deleted, ③ opened after the bar ended
	// (a dashed gap: the collector still holds the name, the file is gone).
	if len(legs) > 0 {
		b.WriteString(`<g id="leg-ends">` + "\n")
		prevEnd := [2]float64{-1e9, -1e9}
		for _, l := range legs {
			mean := legMeaning[l.kind]
			col := paint(mean)
			xx := x(l.t)
			fmt.Fprintf(&b, `<g class="leg-end %s" data-meaning="%s">`, l.kind, mean)
			switch l.kind {
			case "list":
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s" stroke="#fff" stroke-width="1"/>`, xx, barY, col)
			case "delete":
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="7" fill="none" stroke="%s" stroke-width="1.5"/>`, xx, barY, col)
			case "open":
				end := xx
				if v.del != nil {
					end = x(v.del.t)
				}
				fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2" stroke-dasharray="3 3"/>`, end, barY, xx, barY, col)
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="5" fill="#fff" stroke="%s" stroke-width="2"/>`, xx, barY, col)
			}
			var text string
			switch l.kind {
			case "list":
				text = fmt.Sprintf("① %s lists it (step %d)", l.actor, l.step)
			case "delete":
				text = fmt.Sprintf("② %s deletes it (step %d)", l.actor, l.step)
			case "open":
				text = fmt.Sprintf("③ %s opens it (step %d): gone", l.actor, l.step)
			}
			// The deletion's label goes left of its leg (over the bar's
			// last stretch), the others right of theirs, unless they would
			// leave the picture.
			w := textW(text)
			lx, anchor := xx+5, "start"
			if l.kind == "delete" && xx-5-w > tlLeft || lx+w > tlWidth-10 {
				lx, anchor = xx-5, "end"
			}
			lo := lx
			if anchor == "end" {
				lo = lx - w
			}
			level := 0
			if lo < prevEnd[0] {
				level = 1
			}
			prevEnd[level] = lo + w
			ly := rowY[violRow] - 4 - float64(1-level)*13
			label(&b, lx, ly, text, 60, `text-anchor="`+anchor+`" font-size="11" font-weight="bold" fill="`+col+`"`)
			b.WriteString("</g>\n")
		}
		b.WriteString("</g>\n")
	}

	// The violation: a red marker in the violating lane with a callout
	// naming who deleted the file. Without legs (another kind of
	// violation), a dashed line marks its moment across the picture.
	if v != nil {
		if _, ok := lane[v.obs.Actor]; ok && v.obs.Time >= tl.t0 && v.obs.Time <= tl.t1 {
			red := paint(mViolation)
			vx := x(v.obs.Time)
			vy := laneMid(v.obs.Actor)
			who := ""
			if v.delActor != "" {
				who = fmt.Sprintf("deleted by %s at t=%s (step %d)", v.delActor, v.delTime, v.delStep)
			}
			fmt.Fprintf(&b, `<g id="violation" class="violation" data-meaning="%s" data-actor="%s" data-kind="%s" data-deleter="%s"><title>%s</title>`+"\n",
				mViolation, esc(v.obs.Actor), esc(string(v.obs.Kind)), esc(v.delActor), esc(fmt.Sprintf("%s at step %d by %s: %s", v.obs.Kind, v.obs.Step, v.obs.Actor, v.obs.Detail)))
			if len(legs) == 0 {
				fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.5" stroke-dasharray="4 3"/>`+"\n", vx, top, vx, filesBottom, red)
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="9" fill="%s" stroke="#fff" stroke-width="1.5"/>`+"\n", vx, vy, red)
			fmt.Fprintf(&b, `<path class="glyph-x" d="%s" stroke="#fff" stroke-width="2.5"/>`+"\n", crossPath(vx, vy, 4))
			anchor, ax := "end", vx-14
			if vx-tlLeft < 420 {
				anchor, ax = "start", vx+14
			}
			what := v.obs.Kind
			// A white halo keeps the callout legible over whatever it
			// crosses (marks' labels, a limiter wait).
			const halo = ` stroke="#fff" stroke-width="3" paint-order="stroke"`
			if v.path != "" {
				label(&b, ax, vy-14, fmt.Sprintf("%s: open %s", what, filepath.Base(v.path)), 60, `text-anchor="`+anchor+`" fill="`+red+`" font-weight="bold"`+halo)
			} else {
				label(&b, ax, vy-14, string(what), 60, `text-anchor="`+anchor+`" fill="`+red+`" font-weight="bold"`+halo)
			}
			if who != "" {
				label(&b, ax, vy+22, who, 70, `class="violation-who" text-anchor="`+anchor+`" fill="`+red+`"`+halo)
			}
			b.WriteString("</g>\n")
		}
	}

	// Legend: each colour once, with its one meaning; then the shapes (in
	// a neutral colour: a shape is not a colour); then the hidden lanes.
	var lg bytes.Buffer
	legendY := axisY + 62
	lg.WriteString(`<g id="legend">` + "\n")
	fmt.Fprintf(&lg, `<text x="16" y="%.1f" font-weight="bold">colours</text>`+"\n", legendY)
	lx := tlLeft
	for _, m := range tlPalette {
		w := 16 + textW(m.label) + 14
		if lx+w > tlWidth-10 {
			lx, legendY = tlLeft, legendY+20
		}
		fmt.Fprintf(&lg, `<g class="legend-item" data-meaning="%s"><rect x="%.1f" y="%.1f" width="12" height="10" fill="%s"/>`, m.key, lx, legendY-9, m.color)
		fmt.Fprintf(&lg, `<text x="%.1f" y="%.1f" font-size="11">%s</text></g>`+"\n", lx+16, legendY, esc(m.label))
		lx += w
	}
	legendY += 24
	fmt.Fprintf(&lg, `<text x="16" y="%.1f" font-weight="bold">shapes</text>`+"\n", legendY)
	lx = tlLeft
	shape := func(sym, text string) {
		lg.WriteString(`<g class="legend-shape">` + sym)
		fmt.Fprintf(&lg, `<text x="%.1f" y="%.1f" font-size="11">%s</text></g>`+"\n", lx+14, legendY, esc(text))
		lx += 14 + textW(text) + 18
	}
	shape(fmt.Sprintf(`<path d="%s" fill="#555"/>`, diamondPath(lx+4, legendY-4, 6)), "action")
	shape(fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="4" fill="#fff" stroke="#555" stroke-width="2"/>`, lx+4, legendY-4), "info (hollow)")
	shape(fmt.Sprintf(`<rect x="%.1f" y="%.1f" width="3" height="8" fill="#555"/>`, lx+3, legendY-8), "write")
	shape(fmt.Sprintf(`<path d="%s" stroke="#555" stroke-width="2"/>`, crossPath(lx+4, legendY-4, 4)), "× in a lane: failed I/O; at a bar's end: file removed")
	shape(fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="6" fill="#555"/>`, lx+4, legendY-4), "filled circle: the violation")
	shape(fmt.Sprintf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#555" stroke-width="1.5" stroke-dasharray="4 2"/>`, lx, legendY-4, lx+10, legendY-4), "dashed: a leg, event → the violating file")
	lg.WriteString("</g>\n")
	legendY += 22
	switch {
	case len(tl.hidden) > 0:
		text := fmt.Sprintf("%d lanes hidden, nothing drawn in them in this window: %s (--all draws every lane)", len(tl.hidden), strings.Join(tl.hidden, ", "))
		if len(tl.hidden) == 1 {
			text = fmt.Sprintf("1 lane hidden, nothing drawn in it in this window: %s (--all draws every lane)", tl.hidden[0])
		}
		fmt.Fprintf(&lg, `<text id="hidden-lanes" data-count="%d" x="16" y="%.1f" font-size="11" fill="#555">`, len(tl.hidden), legendY)
		fmt.Fprintf(&lg, "%s</text>\n", esc(text))
	case !tl.all:
		fmt.Fprintf(&lg, `<text id="hidden-lanes" data-count="0" x="16" y="%.1f" font-size="11" fill="#555">no lanes hidden</text>`+"\n", legendY)
	}
	height := legendY + 16

	var s bytes.Buffer
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" %s font-size="12">`+"\n",
		tlWidth, height, tlWidth, height, tlFont)
	fmt.Fprintf(&s, `<rect x="0" y="0" width="%.0f" height="%.0f" fill="#fff"/>`+"\n", tlWidth, height)
	s.Write(b.Bytes())
	s.Write(lg.Bytes())
	s.WriteString("</svg>\n")
	return s.String()
}

// summary is the one-line account the command prints: what was drawn,
// what was left out, and the window.
func (tl *timeline) summary() string {
	legs := 0
	if v := tl.viol; v != nil {
		for _, l := range []*tlLeg{v.list, v.del, v.open} {
			if l != nil {
				legs++
			}
		}
	}
	return fmt.Sprintf("%s (%d hidden), %s, %s, %s, %s, window %s..%s",
		tlPlural(len(tl.actors), "lane"), len(tl.hidden), tlPlural(len(tl.files), "file"), tlPlural(len(tl.marks), "mark"),
		tlPlural(len(tl.waits), "limiter wait"), tlPlural(legs, "leg"), tl.t0, tl.t1)
}

// tlPlural is "1 lane", "3 lanes".
func tlPlural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
