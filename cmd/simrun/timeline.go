package main

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

func newTimelineCmd() *cobra.Command {
	var sel selection
	var seedS, outPath string
	var all, force bool
	cmd := &cobra.Command{
		Use:   "timeline --seed SEED -o FILE.svg|FILE.html",
		Short: "Draw one run as a timeline picture (SVG, or HTML with the SVG inline)",
		Long: `Run one seed exactly as replay does and draw it: one lane per actor, the
x axis in virtual time, each SST and snapshot file's lifetime as a bar from
its creation to its deletion, high-level actions as marks in their actor's
lane, and the violating operation in red, annotated with who deleted the file
and when.

By default the picture zooms to the window around the first violation: from
the start of the violating actor's last snapshot generation (its list) before
the violation, to a little after it. --all draws the whole run. A run
without a violation is drawn whole.

The file is written atomically (a temporary file renamed into place) and an
existing file is not overwritten without --force. Exit 1 if the run
observed a violation (the picture is still written), 2 on bad usage.`,
		Example: `  simrun timeline --collector naive --seed 2 -o seed2.svg
  simrun timeline --collector naive --seed 2 --all -o seed2.html --force`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("seed") {
				return usagef("--seed is required (a decimal or 0x-hex unsigned 64-bit integer)")
			}
			seed, err := parseSeed("--seed", seedS)
			if err != nil {
				return err
			}
			if outPath == "" {
				return usagef("-o is required (FILE.svg or FILE.html)")
			}
			ext := strings.ToLower(filepath.Ext(outPath))
			if ext != ".svg" && ext != ".html" && ext != ".htm" {
				return usagef("-o %s: want a name ending in .svg or .html", outPath)
			}
			cfg, sc, err := sel.resolve()
			if err != nil {
				return err
			}
			sc.KeepTrace = true
			out, err := runSeed(cfg, sc, seed)
			if err != nil {
				return err
			}
			title := fmt.Sprintf("snapsim timeline: collector %s, profile %s, strategy %s, seed %d (%s)",
				sel.collector, sel.profile, sel.strategy, seed, outcomeWord(&out))
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
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d actors, %d files, %d marks, window %s..%s\n",
				outPath, len(tl.actors), len(tl.files), len(tl.marks), tl.t0, tl.t1)
			if out.Violated() {
				return errViolation
			}
			return nil
		},
	}
	sel.register(cmd)
	// --json selects replay's output format; a picture has none.
	_ = cmd.Flags().MarkHidden("json")
	cmd.Flags().StringVar(&seedS, "seed", "", "seed to draw (decimal or 0x-hex)")
	cmd.Flags().StringVarP(&outPath, "output", "o", "", "output file: FILE.svg, or FILE.html for HTML with the SVG inline")
	cmd.Flags().BoolVar(&all, "all", false, "draw the whole run instead of the window around the first violation")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite the output file if it exists")
	return cmd
}

// ---- the model of the picture ----

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

type tlMark struct {
	t      sim.Micros
	step   int64
	actor  string
	op     string
	detail string
	class  sim.Class
	result string
}

type tlViolation struct {
	obs      sim.Observation
	path     string
	delStep  int64
	delTime  string
	delActor string
	delWhy   string
	delT     sim.Micros // time of the remove event, if found
	haveDelT bool
}

type timeline struct {
	t0, t1 sim.Micros
	actors []string
	files  []tlFile
	marks  []tlMark
	viol   *tlViolation
	all    bool
}

var removedRE = regexp.MustCompile(`^open (\S+): removed at step (\d+) \(t=([^)]+)\) by ([^:]+)(?::\s*(.*))?$`)

// trackedFile reports whether the timeline draws a bar for path: SSTs and
// snapshot files.
func trackedFile(p string) bool {
	return strings.Contains(filepath.Base(p), ".sst") || strings.HasPrefix(p, "/snap/") ||
		strings.Contains(p, "/snap/")
}

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

	// Marks: actions, infos and violations.
	for _, e := range events {
		if e.Class == sim.ClassIO && !ioFailed(e.Result) {
			continue
		}
		if e.Class == sim.ClassIO && e.Op == "open?" {
			continue
		}
		tl.marks = append(tl.marks, tlMark{t: e.Time, step: e.Step, actor: e.Actor, op: e.Op, detail: e.Detail, class: e.Class, result: e.Result})
	}

	// The first violation.
	if len(out.Result.Observations) > 0 {
		o := out.Result.Observations[0]
		v := &tlViolation{obs: o}
		if m := removedRE.FindStringSubmatch(o.Detail); m != nil {
			v.path, v.delTime, v.delActor, v.delWhy = m[1], m[3], m[4], m[5]
			fmt.Sscan(m[2], &v.delStep)
			for _, e := range events {
				if e.Class == sim.ClassIO && e.Step == v.delStep && e.Actor == v.delActor && (e.Op == "remove" || e.Op == "rename" || e.Op == "remove-all") {
					v.delT, v.haveDelT = e.Time, true
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
		// Only a list: use the generate/start that precedes it, if any.
		if tl.viol.haveDelT && tl.viol.delT < start {
			start = tl.viol.delT
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

	// Keep what touches the window.
	var files []tlFile
	for _, f := range tl.files {
		if f.end >= tl.t0 && f.start <= tl.t1 {
			files = append(files, f)
		}
	}
	tl.files = files
	var marks []tlMark
	seen := map[string]bool{}
	for _, m := range tl.marks {
		if m.t >= tl.t0 && m.t <= tl.t1 {
			marks = append(marks, m)
			if !seen[m.actor] {
				seen[m.actor] = true
				tl.actors = append(tl.actors, m.actor)
			}
		}
	}
	tl.marks = marks
	// Actors whose io falls in the window get a lane too (their file bars
	// and I/O are drawn there), in order of first appearance.
	for _, e := range events {
		if e.Time >= tl.t0 && e.Time <= tl.t1 && !seen[e.Actor] {
			seen[e.Actor] = true
			tl.actors = append(tl.actors, e.Actor)
		}
	}
	if tl.viol != nil && tl.viol.delActor != "" && !seen[tl.viol.delActor] {
		seen[tl.viol.delActor] = true
		tl.actors = append(tl.actors, tl.viol.delActor)
	}
	order := map[string]int{}
	for _, e := range events {
		if _, ok := order[e.Actor]; !ok {
			order[e.Actor] = len(order)
		}
	}
	sort.SliceStable(tl.actors, func(i, j int) bool { return order[tl.actors[i]] < order[tl.actors[j]] })
	return tl
}

func okResult(r string) bool { return r == "" || r == "ok" }

// ioFailed reports whether a filesystem call's trace result is a failure
// worth a mark. A read that reaches the end of its file returns io.EOF,
// which the trace shows as "EOF": that is how every whole-file read ends,
// not a failed I/O. io.ErrUnexpectedEOF ("unexpected EOF", a short read) is
// a failure.
func ioFailed(r string) bool {
	return !okResult(r) && r != "EOF" && !strings.HasSuffix(r, ": EOF")
}

// ---- drawing ----

const (
	tlLeft     = 150.0
	tlRight    = 40.0
	tlWidth    = 1400.0
	tlLaneH    = 46.0
	tlFileH    = 17.0
	tlFontMono = "font-family=\"DejaVu Sans Mono,Menlo,Consolas,monospace\""
	tlFont     = "font-family=\"DejaVu Sans,Helvetica,Arial,sans-serif\""
)

var opColors = []struct{ op, color, label string }{
	{"list", "#1f77b4", "list"},
	{"generate", "#9467bd", "generate / apply"},
	{"flush", "#2ca02c", "flush"},
	{"compact", "#ff7f0e", "compact"},
	{"delete", "#8c564b", "delete (GC)"},
	{"open", "#17becf", "open"},
	{"lease", "#bcbd22", "lease / pin / unpin"},
	{"put", "#c7c7c7", "put / delete-key"},
	{"", "#7f7f7f", "other"},
}

func opColor(op string) string {
	switch {
	case op == "list":
		return opColors[0].color
	case strings.Contains(op, "generate") || strings.Contains(op, "apply") || strings.Contains(op, "send") || strings.Contains(op, "snap"):
		return opColors[1].color
	case strings.Contains(op, "flush"):
		return opColors[2].color
	case strings.Contains(op, "compact"):
		return opColors[3].color
	case op == "delete" || strings.Contains(op, "gc"):
		return opColors[4].color
	case strings.HasPrefix(op, "open"):
		return opColors[5].color
	case strings.Contains(op, "lease") || strings.Contains(op, "pin") || strings.Contains(op, "epoch") || strings.Contains(op, "retry"):
		return opColors[6].color
	case op == "put" || op == "delete-key":
		return opColors[7].color
	}
	return opColors[8].color
}

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
	top := 70.0
	if tl.viol != nil {
		top += 34
	}
	lane := map[string]int{}
	for i, a := range tl.actors {
		lane[a] = i
	}
	laneY := func(a string) float64 { return top + float64(lane[a])*tlLaneH }
	lanesBottom := top + float64(len(tl.actors))*tlLaneH
	filesTop := lanesBottom + 34
	filesBottom := filesTop + float64(len(tl.files))*tlFileH
	axisY := filesBottom + 8
	legendY := axisY + 44
	height := legendY + 50

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" %s font-size="12">`+"\n",
		tlWidth, height, tlWidth, height, tlFont)
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%.0f" height="%.0f" fill="#ffffff"/>`+"\n", tlWidth, height)
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
		fmt.Fprintf(&b, `<g id="violation-banner"><rect x="10" y="56" width="%.0f" height="26" rx="4" fill="#fdecea" stroke="#d62728"/>`, tlWidth-20)
		label(&b, 18, 74, text, 180, `fill="#b00" font-weight="bold" font-size="13"`)
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

	actorColor := map[string]string{}
	palette := []string{"#4e79a7", "#59a14f", "#f28e2b", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#bab0ac", "#e15759"}
	for i, a := range tl.actors {
		actorColor[a] = palette[i%len(palette)]
	}

	// Lanes.
	b.WriteString(`<g id="lanes">` + "\n")
	for i, a := range tl.actors {
		y := laneY(a)
		fill := "#fafafa"
		if i%2 == 1 {
			fill = "#f0f3f7"
		}
		fmt.Fprintf(&b, `<rect class="lane" data-actor="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", esc(a), 10.0, y, tlWidth-20, tlLaneH, fill)
		fmt.Fprintf(&b, `<rect x="16" y="%.1f" width="8" height="12" fill="%s"><title>colour of the files %s creates</title></rect>`+"\n", y+tlLaneH/2-6, actorColor[a], esc(a))
		label(&b, 30, y+tlLaneH/2+4, a, 17, `class="lane-label" font-weight="bold"`)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ccc"/>`+"\n", tlLeft, y+tlLaneH/2+6, tlLeft+plotW, y+tlLaneH/2+6)
	}
	b.WriteString("</g>\n")

	// Marks, with labels alternating above and below the lane line and
	// skipped when they would collide with the previous one (the tooltip
	// keeps the text).
	b.WriteString(`<g id="marks">` + "\n")
	lastLabelEnd := map[string][2]float64{}
	for _, m := range tl.marks {
		if m.class == sim.ClassViolation {
			continue
		}
		xx := x(m.t)
		cy := laneY(m.actor) + tlLaneH/2 + 6
		col := opColor(m.op)
		full := fmt.Sprintf("step %d t=%s %s %s %s: %s %s", m.step, fmtTime(m.t), m.actor, m.class, m.op, m.detail, m.result)
		fmt.Fprintf(&b, `<g class="mark" data-op="%s"><title>%s</title>`, esc(m.op), esc(full))
		switch {
		case m.class == sim.ClassIO:
			// A failed filesystem call.
			fmt.Fprintf(&b, `<path d="%s" stroke="#d62728" stroke-width="2"/>`, crossPath(xx, cy, 5))
		case m.class == sim.ClassInfo:
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="#fff" stroke="%s" stroke-width="2"/>`, xx, cy, col)
		case m.op == "put" || m.op == "delete-key":
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="3" height="8" fill="%s"/>`, xx-1.5, cy-4, col)
		default:
			fmt.Fprintf(&b, `<path d="M%.1f %.1f l6 6 l-6 6 l-6 -6 z" fill="%s" stroke="#333" stroke-width="0.5"/>`, xx, cy-6, col)
		}
		b.WriteString("</g>\n")
		if m.op == "put" || m.op == "delete-key" || m.op == "thread-start" {
			continue
		}
		if tl.viol != nil && m.actor == tl.viol.obs.Actor && m.step == tl.viol.obs.Step {
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
	fmt.Fprintf(&b, `<g id="files"><text x="16" y="%.1f" font-weight="bold">files</text>`+"\n", filesTop-10)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="#555" font-size="11">SST and snapshot file lifetimes: creation → deletion (× at the end: removed; ‹ created before the window; colour: creating actor, see the lane swatches; pale: .tmp)</text>`+"\n", tlLeft, filesTop-10)
	for i, f := range tl.files {
		y := filesTop + float64(i)*tlFileH
		x0, x1 := x(f.start), x(f.end)
		if x1-x0 < 2 {
			x1 = x0 + 2
		}
		col := actorColor[f.creator]
		if col == "" {
			col = "#999"
		}
		isViol := tl.viol != nil && f.path == tl.viol.path
		stroke := "none"
		if isViol {
			stroke = "#d62728"
		}
		endTxt := "alive at end"
		if !f.open {
			endTxt = fmt.Sprintf("%s by %s at %s", f.endHow, f.deleter, fmtTime(f.end))
		}
		full := fmt.Sprintf("%s: %s by %s at %s; %s", f.path, f.how, f.creator, fmtTime(f.start), endTxt)
		fmt.Fprintf(&b, `<g class="file" data-path="%s"><title>%s</title>`, esc(f.path), esc(full))
		op := "0.85"
		if strings.HasSuffix(f.path, ".tmp") {
			op = "0.4"
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="2" fill="%s" fill-opacity="%s" stroke="%s" stroke-width="2"/>`,
			x0, y+2, x1-x0, tlFileH-4, col, op, stroke)
		if f.start < tl.t0 {
			// Created before the window: a chevron at the clipped edge.
			fmt.Fprintf(&b, `<path d="M%.1f %.1f l-6 %.1f l6 %.1f" stroke="#fff" stroke-width="2" fill="none"/>`, x0+8, y+4, (tlFileH-8)/2, (tlFileH-8)/2)
		}
		if f.deleted && f.end <= tl.t1 {
			fmt.Fprintf(&b, `<path d="M%.1f %.1f l6 6 m0 -6 l-6 6" stroke="#000" stroke-width="1.5"/>`, x1-3, y+tlFileH/2-3)
		}
		b.WriteString("</g>\n")
		name := filepath.Base(f.path)
		if strings.HasPrefix(f.path, "/snap/") {
			name = "snap/" + name
		}
		// Label right of the bar if it fits, else left of it, else inside.
		lw := float64(len([]rune(name)))*6.6 + 8
		attrs := `font-size="11" ` + tlFontMono
		if isViol {
			attrs += ` fill="#b00" font-weight="bold"`
		}
		switch {
		case x1+lw < tlWidth-10:
			label(&b, x1+6, y+tlFileH-5, name, 40, attrs)
		case x0-lw > tlLeft:
			label(&b, x0-6, y+tlFileH-5, name, 40, attrs+` text-anchor="end"`)
		default:
			label(&b, x0+4, y+tlFileH-5, name, 40, attrs+` fill="#000"`)
		}
	}
	b.WriteString("</g>\n")

	// The violation: red marker in the violating lane, deletion in the
	// deleter's lane, a dashed link between them, and a callout.
	if tl.viol != nil {
		v := tl.viol
		if _, ok := lane[v.obs.Actor]; ok && v.obs.Time >= tl.t0 && v.obs.Time <= tl.t1 {
			vx := x(v.obs.Time)
			vy := laneY(v.obs.Actor) + tlLaneH/2 + 6
			who := ""
			if v.delActor != "" {
				who = fmt.Sprintf("deleted by %s at t=%s (step %d)", v.delActor, v.delTime, v.delStep)
			}
			fmt.Fprintf(&b, `<g id="violation" class="violation" data-kind="%s" data-deleter="%s"><title>%s</title>`+"\n",
				esc(string(v.obs.Kind)), esc(v.delActor), esc(fmt.Sprintf("%s at step %d by %s: %s", v.obs.Kind, v.obs.Step, v.obs.Actor, v.obs.Detail)))
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#d62728" stroke-width="1.5" stroke-dasharray="4 3"/>`+"\n", vx, top, vx, filesBottom)
			if v.delActor != "" && v.haveDelT {
				if _, ok := lane[v.delActor]; ok && v.delT >= tl.t0 {
					dx := x(v.delT)
					dy := laneY(v.delActor) + tlLaneH/2 + 6
					fmt.Fprintf(&b, `<path d="M%.1f %.1f L%.1f %.1f" stroke="#d62728" stroke-width="1.5" stroke-dasharray="5 3" fill="none"/>`+"\n", dx, dy, vx, vy)
					fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="8" fill="none" stroke="#d62728" stroke-width="2"/>`+"\n", dx, dy)
					label(&b, dx-10, dy+19, fmt.Sprintf("%s deletes %s", v.delActor, filepath.Base(v.path)), 40, `text-anchor="end" fill="#b00" font-size="11" font-weight="bold"`)
				}
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="9" fill="#d62728" stroke="#fff" stroke-width="1.5"/>`+"\n", vx, vy)
			fmt.Fprintf(&b, `<path d="M%.1f %.1f l8 8 m0 -8 l-8 8" stroke="#fff" stroke-width="2.5"/>`+"\n", vx-4, vy-4)
			anchor, ax := "end", vx-14
			if vx-tlLeft < 420 {
				anchor, ax = "start", vx+14
			}
			label(&b, ax, vy-14, fmt.Sprintf("%s: open %s", v.obs.Kind, filepath.Base(v.path)), 60, `text-anchor="`+anchor+`" fill="#b00" font-weight="bold"`)
			if who != "" {
				label(&b, ax, vy+22, who, 70, `class="violation-who" text-anchor="`+anchor+`" fill="#b00"`)
			}
			b.WriteString("</g>\n")
		}
	}

	// Legend.
	b.WriteString(`<g id="legend">` + "\n")
	lx := 16.0
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-weight="bold">legend</text>`+"\n", lx, legendY)
	lx = tlLeft
	item := func(sym, text string) {
		b.WriteString(sym)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11">%s</text>`+"\n", lx+12, legendY, esc(text))
		lx += 12 + float64(len([]rune(text)))*6.4 + 18
	}
	for _, c := range opColors {
		item(fmt.Sprintf(`<path d="M%.1f %.1f l6 6 l-6 6 l-6 -6 z" fill="%s"/>`, lx+2, legendY-10, c.color), c.label)
	}
	lx = tlLeft
	legendY += 22
	item(fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="4" fill="#fff" stroke="#555" stroke-width="2"/>`, lx+2, legendY-4), "info (hollow)")
	item(fmt.Sprintf(`<path d="M%.1f %.1f l8 8 m0 -8 l-8 8" stroke="#d62728" stroke-width="2"/>`, lx-2, legendY-8), "failed I/O")
	item(fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="6" fill="#d62728"/>`, lx+2, legendY-4), "violation")
	item(fmt.Sprintf(`<rect x="%.1f" y="%.1f" width="10" height="8" fill="#4e79a7"/>`, lx-3, legendY-8), "file lifetime")
	item(fmt.Sprintf(`<path d="M%.1f %.1f l6 6 m0 -6 l-6 6" stroke="#000" stroke-width="1.5"/>`, lx-1, legendY-8), "file removed")
	b.WriteString("</g>\n</svg>\n")
	return b.String()
}

// crossPath is the SVG path of an × centred on (cx, cy) with half-width r:
// two diagonals of the square [cx-r, cx+r] × [cy-r, cy+r], crossing at the
// centre.
func crossPath(cx, cy, r float64) string {
	return fmt.Sprintf("M%.1f %.1f l%g %g m0 %g l%g %g", cx-r, cy-r, 2*r, 2*r, -2*r, -2*r, 2*r)
}
