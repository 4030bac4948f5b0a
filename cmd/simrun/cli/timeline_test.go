package cli

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
	"github.com/spf13/cobra"
)

// svgElem is one element of a parsed SVG: its name, attributes, direct
// character data, and the index of its parent (-1 for the root).
type svgElem struct {
	name   string
	attrs  map[string]string
	text   string
	parent int
}

// parseSVG parses data as XML (failing the test if it is not well-formed)
// and returns every element in document order.
func parseSVG(t *testing.T, data []byte) []svgElem {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var elems []svgElem
	var stack []int
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("output is not well-formed XML: %v", err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			e := svgElem{name: tk.Name.Local, attrs: map[string]string{}, parent: -1}
			if len(stack) > 0 {
				e.parent = stack[len(stack)-1]
			}
			for _, a := range tk.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			elems = append(elems, e)
			stack = append(stack, len(elems)-1)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				elems[stack[len(stack)-1]].text += string(tk)
			}
		}
	}
	return elems
}

func TestTimelineSVG(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "seed2.svg")
	var stdout, stderr bytes.Buffer
	code := execute([]string{"timeline", "--collector", "naive", "--seed", "3", "-o", out}, &stdout, &stderr)
	// An artifact command exits 0 once its file is written, whatever the
	// run observed.
	if code != exitOK {
		t.Fatalf("exit %d, want %d (written); stderr: %s", code, exitOK, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	elems := parseSVG(t, data)
	if len(elems) == 0 || elems[0].name != "svg" {
		t.Fatalf("root element is not <svg>")
	}
	var lanes []string
	var ticks, files int
	var violation, who, axisTitle bool
	for _, e := range elems {
		switch {
		case e.name == "rect" && e.attrs["class"] == "lane":
			lanes = append(lanes, e.attrs["data-actor"])
		case e.name == "text" && e.attrs["class"] == "tick":
			ticks++
		case e.name == "text" && e.text == "virtual time":
			axisTitle = true
		case e.name == "g" && hasClass(e, "file"):
			files++
		case e.name == "g" && e.attrs["id"] == "violation":
			violation = true
			if e.attrs["data-deleter"] != "compactor" || e.attrs["data-kind"] != "open-deleted-file" {
				t.Errorf("violation marker attrs %v, want kind open-deleted-file, deleter compactor", e.attrs)
			}
		case e.name == "text" && strings.Contains(e.text, "deleted by compactor"):
			who = true
		}
	}
	if !violation || !who {
		t.Errorf("no violation marker (%v) or deleter annotation naming the compactor (%v)", violation, who)
	}
	if ticks < 3 || !axisTitle {
		t.Errorf("axis: %d tick labels, title %v", ticks, axisTitle)
	}
	if files == 0 || !bytes.Contains(data, []byte("000001.sst")) {
		t.Errorf("no file bar for 000001.sst (%d bars)", files)
	}
	// One lane per actor, each once, and the violating and deleting
	// actors among them.
	seen := map[string]bool{}
	for _, a := range lanes {
		if seen[a] {
			t.Errorf("two lanes for %s", a)
		}
		seen[a] = true
	}
	for _, a := range []string{"snap-gen", "compactor"} {
		if !seen[a] {
			t.Errorf("no lane for %s; lanes %v", a, lanes)
		}
	}
	// The default window leaves out actors only active at the start.
	if seen["setup"] {
		t.Errorf("setup has a lane in the zoomed window: %v", lanes)
	}

	// No overwrite without --force; with it, fine.
	code = execute([]string{"timeline", "--collector", "naive", "--seed", "3", "-o", out}, io.Discard, &stderr)
	if code != exitUsage {
		t.Errorf("overwrite without --force: exit %d, want %d", code, exitUsage)
	}
	code = execute([]string{"timeline", "--collector", "naive", "--seed", "3", "--all", "--force", "-o", out}, io.Discard, io.Discard)
	if code != exitOK {
		t.Errorf("--force: exit %d", code)
	}
	data, _ = os.ReadFile(out)
	lanes = lanes[:0]
	for _, e := range parseSVG(t, data) {
		if e.name == "rect" && e.attrs["class"] == "lane" {
			lanes = append(lanes, e.attrs["data-actor"])
		}
	}
	if len(lanes) == 0 || lanes[0] != "setup" {
		t.Errorf("--all lanes %v, want setup first", lanes)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestTimelineHTML(t *testing.T) {
	out := filepath.Join(t.TempDir(), "seed2.html")
	var stderr bytes.Buffer
	if code := execute([]string{"timeline", "--collector", "naive", "--seed", "3", "-o", out}, io.Discard, &stderr); code != exitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	i, j := strings.Index(s, "<svg"), strings.Index(s, "</svg>")
	if !strings.HasPrefix(s, "<!DOCTYPE html>") || i < 0 || j < i {
		t.Fatalf("no inline <svg> element in the HTML")
	}
	parseSVG(t, []byte(s[i:j+len("</svg>")]))
}

func TestTimelineUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"timeline", "--collector", "naive", "--seed", "3"},                                    // no -o
		{"timeline", "--collector", "naive", "--seed", "3", "-o", filepath.Join(dir, "x.png")}, // bad extension
		{"timeline", "--collector", "naive", "-o", filepath.Join(dir, "x.svg")},                // no seed
		{"timeline", "--collector", "nope", "--seed", "2", "-o", filepath.Join(dir, "y.svg")},  // bad collector
	} {
		if code := execute(args, io.Discard, io.Discard); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

func TestTimelineNoViolation(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ok.svg")
	code := execute([]string{"timeline", "--collector", "lease-retry", "--seed", "2", "-o", out}, io.Discard, io.Discard)
	if code != exitOK {
		t.Fatalf("exit %d, want 0", code)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range parseSVG(t, data) {
		if e.attrs["id"] == "violation" {
			t.Errorf("violation marker in a run without violation")
		}
	}
}

// TestTimelineEOFIsNotFailure checks that a read ending in io.EOF, which
// every whole-file read does, is not drawn as a failed I/O, while real
// errors (a short read among them) are.
func TestTimelineEOFIsNotFailure(t *testing.T) {
	for r, want := range map[string]bool{
		"": false, "ok": false, "EOF": false, "read /proc/1/io: EOF": false,
		"unexpected EOF": true, "open /db/000001.sst: file does not exist": true,
		"write /db/000006.sst: input/output error": true,
	} {
		if got := ioFailed(r); got != want {
			t.Errorf("ioFailed(%q) = %v, want %v", r, got, want)
		}
	}
}

// drawSeed runs the timeline command for naiveDrawn (naive seed 3; seed 2 was the README's
// picture) with extra args into a temporary directory and returns the SVG
// and its parsed elements.
func drawSeed(t *testing.T, args ...string) ([]byte, []svgElem) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "tl.svg")
	var stderr bytes.Buffer
	full := append([]string{"timeline", "-o", out}, args...)
	if code := execute(full, io.Discard, &stderr); code != exitViolation && code != exitOK {
		t.Fatalf("%v: exit %d; stderr %s", full, code, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data, parseSVG(t, data)
}

// naiveDrawn is the seed the timeline tests draw: naive seed 3, whose
// violation is an open of /db/000001.sst that the compactor deleted (seed 2,
// the README's picture, violated until trivial moves and the prompt
// deleter changed the schedules).
var naiveDrawn = []string{"--collector", "naive", "--seed", "3"}

// hasClass reports whether e's class attribute lists c.
func hasClass(e svgElem, c string) bool {
	for _, f := range strings.Fields(e.attrs["class"]) {
		if f == c {
			return true
		}
	}
	return false
}

// child returns the first element whose parent is elems[i] and whose name
// is name.
func child(elems []svgElem, i int, name string) (svgElem, bool) {
	for _, e := range elems[i+1:] {
		if e.parent == i && e.name == name {
			return e, true
		}
	}
	return svgElem{}, false
}

func atof(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return f
}

// naiveDrawnTrace runs naive seed 2 as the command does and returns the
// outcome, to check the picture against the trace.
func naiveDrawnTrace(t *testing.T) *model.Outcome {
	t.Helper()
	// The selection with its flag defaults, as the command builds it.
	var sel selection
	cmd := &cobra.Command{}
	sel.register(cmd)
	if err := cmd.Flags().Parse([]string{"--collector", "naive"}); err != nil {
		t.Fatal(err)
	}
	cfg, sc, err := sel.resolve()
	if err != nil {
		t.Fatal(err)
	}
	sc.KeepTrace = true
	out, err := runSeed(cfg, sc, 3)
	if err != nil {
		t.Fatal(err)
	}
	return &out
}

// TestTimelineLegs checks the violating file's three legs in the naive seed
// 2 picture: the list that named 000001.sst, gc's deletion of it, and the
// failing open, each a line from its actor's lane to the file's bar, in
// that order in time, with the steps the trace and the oracle give.
func TestTimelineLegs(t *testing.T) {
	out := naiveDrawnTrace(t)
	const path = "/db/000001.sst"
	viol := out.Result.Observations[0]
	m := removedRE.FindStringSubmatch(viol.Detail)
	if m == nil || m[1] != path {
		t.Fatalf("seed 2's violation is not an open of %s: %q", path, viol.Detail)
	}
	delStep := atof(t, m[2])

	_, elems := drawSeed(t, naiveDrawn...)
	laneMid := map[string]float64{}
	barY := -1.0
	firstFile := ""
	for _, e := range elems {
		switch {
		case e.name == "rect" && e.attrs["class"] == "lane":
			laneMid[e.attrs["data-actor"]] = atof(t, e.attrs["y"]) + tlLaneH/2 + 6
		case e.name == "g" && hasClass(e, "file"):
			if firstFile == "" {
				firstFile = e.attrs["data-path"]
			}
			if hasClass(e, "violating") {
				if e.attrs["data-path"] != path {
					t.Errorf("violating bar is %s, want %s", e.attrs["data-path"], path)
				}
				barY = atof(t, e.attrs["data-bar-y"])
			}
		}
	}
	if barY < 0 || firstFile != path {
		t.Fatalf("no violating bar for %s first among the files (first %q)", path, firstFile)
	}
	type leg struct {
		actor  string
		step   float64
		x, y1  float64
		y2     float64
		stroke string
	}
	legs := map[string]leg{}
	for i, e := range elems {
		if e.name != "g" || !hasClass(e, "leg") {
			continue
		}
		kind := strings.TrimSpace(strings.TrimPrefix(e.attrs["class"], "leg"))
		if e.attrs["data-path"] != path {
			t.Errorf("leg %s is for %s, want %s", kind, e.attrs["data-path"], path)
		}
		ln, ok := child(elems, i, "line")
		if !ok {
			t.Fatalf("leg %s has no line", kind)
		}
		if ln.attrs["x1"] != ln.attrs["x2"] {
			t.Errorf("leg %s is not vertical: %v", kind, ln.attrs)
		}
		legs[kind] = leg{e.attrs["data-actor"], atof(t, e.attrs["data-step"]), atof(t, ln.attrs["x1"]),
			atof(t, ln.attrs["y1"]), atof(t, ln.attrs["y2"]), ln.attrs["stroke"]}
	}
	list, del, open := legs["list"], legs["delete"], legs["open"]
	if len(legs) != 3 || list.actor == "" || del.actor == "" || open.actor == "" {
		t.Fatalf("want the three legs list, delete, open; got %v", legs)
	}
	if list.actor != "snap-gen" || del.actor != "compactor" || open.actor != "snap-gen" {
		t.Errorf("leg actors list=%s delete=%s open=%s, want snap-gen, compactor, snap-gen", list.actor, del.actor, open.actor)
	}
	if del.step != delStep || open.step != float64(viol.Step) {
		t.Errorf("delete leg step %v, open leg step %v; oracle says %v and %d", del.step, open.step, delStep, viol.Step)
	}
	// The list leg is the snap-gen listing that named the file before it
	// was deleted.
	named := false
	for _, e := range out.Result.Events {
		if float64(e.Step) == list.step && e.Class == sim.ClassAction && e.Op == "list" && e.Actor == "snap-gen" &&
			strings.Contains(e.Detail, "000001.sst") {
			named = true
		}
	}
	if !named || list.step >= del.step {
		t.Errorf("list leg at step %v is not a snap-gen list naming 000001.sst before the deletion (step %v)", list.step, del.step)
	}
	if !(list.x < del.x && del.x < open.x) {
		t.Errorf("legs out of time order: list x=%v delete x=%v open x=%v", list.x, del.x, open.x)
	}
	for kind, l := range legs {
		if l.y1 != laneMid[l.actor] || l.y2 != barY {
			t.Errorf("leg %s runs y %v..%v, want from %s's lane (%v) to the bar (%v)", kind, l.y1, l.y2, l.actor, laneMid[l.actor], barY)
		}
	}
	// Each leg in its own meaning's colour: the open is the violation's.
	if list.stroke != paint(mList) || del.stroke != paint(mDeletion) || open.stroke != paint(mViolation) {
		t.Errorf("leg colours list=%s delete=%s open=%s", list.stroke, del.stroke, open.stroke)
	}
}

// TestTimelineRaceWindow checks that the naive seed 2 picture draws the
// race window from the list to the open, and the limiter wait inside it as
// a span in snap-gen's lane that contains gc's deletion of the file.
func TestTimelineRaceWindow(t *testing.T) {
	out := naiveDrawnTrace(t)
	var wait sim.Event
	for _, e := range out.Result.Events {
		if e.Class == sim.ClassInfo && e.Op == "io-limit" && e.Actor == "snap-gen" {
			wait = e
		}
	}
	d, ok := isLimiterWait(wait)
	if !ok {
		t.Fatalf("naive seed 2 has no snap-gen io-limit wait (last %+v)", wait)
	}

	_, elems := drawSeed(t, naiveDrawn...)
	var laneY0, laneY1 float64
	var legT = map[string]float64{}
	var window, span *svgElem
	var spanRect svgElem
	for i, e := range elems {
		switch {
		case e.name == "rect" && e.attrs["class"] == "lane" && e.attrs["data-actor"] == "snap-gen":
			laneY0 = atof(t, e.attrs["y"])
			laneY1 = laneY0 + atof(t, e.attrs["height"])
		case e.name == "g" && hasClass(e, "leg"):
			legT[strings.Fields(e.attrs["class"])[1]] = atof(t, e.attrs["data-t"])
		case e.name == "g" && e.attrs["id"] == "race-window":
			window = &elems[i]
		case e.name == "g" && hasClass(e, "limiter-wait") && hasClass(e, "race"):
			if span != nil {
				t.Errorf("two limiter waits in the race window; want one")
			}
			span = &elems[i]
			spanRect, _ = child(elems, i, "rect")
		}
	}
	if window == nil || span == nil {
		t.Fatalf("race window %v, limiter-wait span %v: want both", window != nil, span != nil)
	}
	if window.attrs["data-actor"] != "snap-gen" || atof(t, window.attrs["data-t0"]) != legT["list"] || atof(t, window.attrs["data-t1"]) != legT["open"] {
		t.Errorf("race window %v, want snap-gen from the list (t=%v) to the open (t=%v)", window.attrs, legT["list"], legT["open"])
	}
	t0, t1 := atof(t, span.attrs["data-t0"]), atof(t, span.attrs["data-t1"])
	if span.attrs["data-actor"] != "snap-gen" || t0 != float64(wait.Time) || t1 != float64(wait.Time+d) {
		t.Errorf("limiter wait %v, want snap-gen %d..%d", span.attrs, wait.Time, wait.Time+d)
	}
	if !(t0 <= legT["delete"] && legT["delete"] <= t1) {
		t.Errorf("the deletion (t=%v) is not inside the limiter wait %v..%v", legT["delete"], t0, t1)
	}
	if y := atof(t, spanRect.attrs["y"]); y < laneY0 || y+atof(t, spanRect.attrs["height"]) > laneY1 {
		t.Errorf("limiter wait rect %v is not inside snap-gen's lane %v..%v", spanRect.attrs, laneY0, laneY1)
	}
	if spanRect.attrs["fill"] != paint(mRace) {
		t.Errorf("limiter wait fill %s, want the race window's %s", spanRect.attrs["fill"], paint(mRace))
	}

	for in, want := range map[string]sim.Micros{"250us": 250, "3.814ms": 3814, "1.000250s": 1000250, "0us": 0} {
		if got, ok := parseMicros(in); !ok || got != want {
			t.Errorf("parseMicros(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "ms", "3.8x", "1.2345678s", "-1us", "1.5us"} {
		if got, ok := parseMicros(in); ok {
			t.Errorf("parseMicros(%q) = %d, want an error", in, got)
		}
	}
}

// TestTimelineEOFNotDrawnAsFailure checks the naive seed 2 picture, whose
// window holds snap-gen's read of its procfs stats ending in EOF: the read
// is not drawn as a failed I/O, while the failing open is.
func TestTimelineEOFNotDrawnAsFailure(t *testing.T) {
	out := naiveDrawnTrace(t)
	tl := buildTimeline(out, false)
	var eof *sim.Event
	for i, e := range out.Result.Events {
		if e.Class == sim.ClassIO && e.Result == "EOF" && e.Time >= tl.t0 && e.Time <= tl.t1 {
			eof = &out.Result.Events[i]
			break
		}
	}
	if eof == nil {
		t.Fatalf("naive seed 2 has no read ending in EOF in the window %s..%s: the test needs one", tl.t0, tl.t1)
	}
	_, elems := drawSeed(t, naiveDrawn...)
	failedOpen := false
	for _, e := range elems {
		if e.name != "g" || !hasClass(e, "mark") {
			continue
		}
		if e.attrs["data-step"] == strconv.FormatInt(eof.Step, 10) && e.attrs["data-actor"] == eof.Actor && e.attrs["data-op"] == eof.Op {
			t.Errorf("the EOF read at step %d is drawn as a mark (%v)", eof.Step, e.attrs)
		}
		if hasClass(e, "failed-io") {
			if e.attrs["data-op"] == "open" && e.attrs["data-actor"] == "snap-gen" {
				failedOpen = true
			} else {
				t.Errorf("unexpected failed-I/O mark %v", e.attrs)
			}
		}
	}
	if !failedOpen {
		t.Errorf("the failing open of 000001.sst is not drawn as a failed I/O")
	}
}

// TestTimelineGlyphs checks every × in the picture (failed I/O, removed
// file, the violation marker) is two equal, perpendicular diagonals that
// cross at their midpoints: the failed-I/O × used to be a V with a stray
// stroke.
func TestTimelineGlyphs(t *testing.T) {
	num := `(-?[0-9.]+)`
	re := regexp.MustCompile(`^M` + num + ` ` + num + ` l` + num + ` ` + num + ` m` + num + ` ` + num + ` l` + num + ` ` + num + `$`)
	check := func(d string) {
		m := re.FindStringSubmatch(d)
		if m == nil {
			t.Errorf("× path %q is not M x y l dx dy m mx my l ex ey", d)
			return
		}
		var v [8]float64
		for i := range v {
			v[i] = atof(t, m[i+1])
		}
		ax, ay, bx, by := v[0], v[1], v[0]+v[2], v[1]+v[3]
		cx, cy := bx+v[4], by+v[5]
		dx, dy := cx+v[6], cy+v[7]
		mid1x, mid1y, mid2x, mid2y := (ax+bx)/2, (ay+by)/2, (cx+dx)/2, (cy+dy)/2
		dot := v[2]*v[6] + v[3]*v[7]
		l1, l2 := v[2]*v[2]+v[3]*v[3], v[6]*v[6]+v[7]*v[7]
		if math.Abs(mid1x-mid2x) > 0.01 || math.Abs(mid1y-mid2y) > 0.01 || math.Abs(dot) > 0.01 || math.Abs(l1-l2) > 0.01 || l1 == 0 {
			t.Errorf("× path %q: strokes do not cross at their midpoints as equal perpendicular diagonals", d)
		}
	}
	check(crossPath(100, 50, 5))
	_, elems := drawSeed(t, naiveDrawn...)
	n := 0
	for _, e := range elems {
		if e.name == "path" && hasClass(e, "glyph-x") {
			check(e.attrs["d"])
			n++
		}
	}
	if n < 3 {
		t.Errorf("%d × glyphs, want at least the failed open, the removed file and the violation marker", n)
	}
}

// TestTimelineHiddenLanes checks that without --all only lanes with
// something drawn in them are kept, the rest named in the footer, and that
// --all draws every actor's lane.
func TestTimelineHiddenLanes(t *testing.T) {
	out := naiveDrawnTrace(t)
	_, elems := drawSeed(t, naiveDrawn...)
	var lanes []string
	drawn := map[string]bool{}
	var footer *svgElem
	for i, e := range elems {
		switch {
		case e.name == "rect" && e.attrs["class"] == "lane":
			lanes = append(lanes, e.attrs["data-actor"])
		case e.name == "g" && (hasClass(e, "mark") || hasClass(e, "limiter-wait") || hasClass(e, "leg") || e.attrs["id"] == "violation"):
			drawn[e.attrs["data-actor"]] = true
		case e.attrs["id"] == "hidden-lanes":
			footer = &elems[i]
		}
	}
	for _, a := range lanes {
		if !drawn[a] {
			t.Errorf("lane %s has nothing drawn in it", a)
		}
	}
	tl := buildTimeline(out, false)
	if footer == nil || footer.attrs["data-count"] != strconv.Itoa(len(tl.hidden)) || len(tl.hidden) == 0 {
		t.Fatalf("footer %v, want the count of %d hidden lanes %v", footer, len(tl.hidden), tl.hidden)
	}
	for _, a := range tl.hidden {
		if !strings.Contains(footer.text, a) {
			t.Errorf("footer %q does not name hidden lane %s", footer.text, a)
		}
	}
	for _, a := range []string{"snap-gc", "n2-snap-gc"} { // active in the window, nothing drawn
		if drawn[a] || !strings.Contains(footer.text, a) {
			t.Errorf("%s: drawn %v, in the footer %v; want hidden", a, drawn[a], strings.Contains(footer.text, a))
		}
	}

	_, elems = drawSeed(t, append([]string{"--all", "--force"}, naiveDrawn...)...)
	got := map[string]bool{}
	for _, e := range elems {
		if e.name == "rect" && e.attrs["class"] == "lane" {
			got[e.attrs["data-actor"]] = true
		}
		if e.attrs["id"] == "hidden-lanes" && e.attrs["data-count"] != "0" {
			t.Errorf("--all hides lanes: %q", e.text)
		}
	}
	for _, e := range out.Result.Events {
		if !got[e.Actor] {
			t.Errorf("--all: no lane for %s", e.Actor)
			got[e.Actor] = true
		}
	}
}

// svgColours maps each colour used in the picture (fill or stroke, other
// than the neutral ones of structure and text) to the meanings of the
// elements it paints: an element's meaning is the data-meaning of it or of
// its nearest ancestor. Legend swatches are returned apart.
func svgColours(t *testing.T, elems []svgElem) (used map[string]map[string]bool, legend map[string]string) {
	t.Helper()
	neutral := map[string]bool{}
	for _, c := range tlNeutral {
		neutral[c] = true
	}
	used = map[string]map[string]bool{}
	legend = map[string]string{}
	for i, e := range elems {
		meaning, inLegend := "", false
		for j := i; j >= 0; j = elems[j].parent {
			if meaning == "" {
				meaning = elems[j].attrs["data-meaning"]
			}
			if elems[j].attrs["class"] == "legend-item" {
				inLegend = true
			}
		}
		for _, a := range []string{"fill", "stroke"} {
			c, ok := e.attrs[a]
			if !ok || neutral[c] {
				continue
			}
			if meaning == "" {
				t.Errorf("<%s %v>: colour %s with no meaning", e.name, e.attrs, c)
				continue
			}
			if inLegend {
				if prev, ok := legend[meaning]; ok && prev != c {
					t.Errorf("legend shows %s in two colours, %s and %s", meaning, prev, c)
				}
				legend[meaning] = c
				continue
			}
			if used[c] == nil {
				used[c] = map[string]bool{}
			}
			used[c][meaning] = true
		}
	}
	return used, legend
}

// TestTimelineColours checks that each colour means one thing: in the
// palette, in the legend (each colour listed once, with the palette's
// meaning), and in the pictures of a violation, of the same run whole, of a
// run with injected I/O failures, and of a run without violation.
func TestTimelineColours(t *testing.T) {
	colours, keys := map[string]string{}, map[string]bool{}
	for _, m := range tlPalette {
		if prev, ok := colours[m.color]; ok {
			t.Errorf("palette: %s means both %s and %s", m.color, prev, m.key)
		}
		if keys[m.key] {
			t.Errorf("palette: meaning %s twice", m.key)
		}
		colours[m.color], keys[m.key] = m.key, true
		if slices.Contains(tlNeutral, m.color) {
			t.Errorf("palette: %s (%s) is also a neutral colour", m.color, m.key)
		}
	}
	for _, args := range [][]string{
		naiveDrawn,
		append([]string{"--all"}, naiveDrawn...),
		{"--collector", "retry", "--profile", "faults", "--seed", "3"},
		{"--collector", "lease-retry", "--seed", "2"},
	} {
		_, elems := drawSeed(t, args...)
		used, legend := svgColours(t, elems)
		if len(legend) != len(tlPalette) {
			t.Errorf("%v: legend has %d colours, want %d", args, len(legend), len(tlPalette))
		}
		seen := map[string]string{}
		for meaning, c := range legend {
			if c != paint(meaning) {
				t.Errorf("%v: legend shows %s as %s, palette says %s", args, meaning, c, paint(meaning))
			}
			if prev, ok := seen[c]; ok {
				t.Errorf("%v: legend lists %s twice (%s, %s)", args, c, prev, meaning)
			}
			seen[c] = meaning
		}
		for c, meanings := range used {
			if len(meanings) != 1 {
				t.Errorf("%v: colour %s means %v", args, c, meanings)
			}
			for m := range meanings {
				if legend[m] != c {
					t.Errorf("%v: colour %s (%s) is not the legend's colour for %s (%q)", args, c, m, m, legend[m])
				}
			}
		}
		if len(args) == len(naiveDrawn) && args[1] == "naive" {
			// Red is the violation and only that; the picture uses it.
			if !used[paint(mViolation)][mViolation] {
				t.Errorf("naive seed 2: the violation's colour is not used")
			}
		}
	}
}

// TestTimelineDeterministic checks that the same seed draws a byte-identical
// picture.
func TestTimelineDeterministic(t *testing.T) {
	a, _ := drawSeed(t, naiveDrawn...)
	b, _ := drawSeed(t, naiveDrawn...)
	if !bytes.Equal(a, b) {
		t.Errorf("two drawings of naive seed 2 differ")
	}
}
