package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// svgElems parses data as XML and returns every element with its attributes
// and direct character data.
type svgElem struct {
	name  string
	attrs map[string]string
	text  string
}

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
			e := svgElem{name: tk.Name.Local, attrs: map[string]string{}}
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
	code := execute([]string{"timeline", "--collector", "naive", "--seed", "2", "-o", out}, &stdout, &stderr)
	if code != exitViolation {
		t.Fatalf("exit %d, want %d (violation); stderr: %s", code, exitViolation, stderr.String())
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
		case e.name == "g" && e.attrs["class"] == "file":
			files++
		case e.name == "g" && e.attrs["id"] == "violation":
			violation = true
			if e.attrs["data-deleter"] != "gc" || e.attrs["data-kind"] != "open-deleted-file" {
				t.Errorf("violation marker attrs %v, want kind open-deleted-file, deleter gc", e.attrs)
			}
		case e.name == "text" && strings.Contains(e.text, "deleted by gc"):
			who = true
		}
	}
	if !violation || !who {
		t.Errorf("no violation marker (%v) or deleter annotation naming gc (%v)", violation, who)
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
	for _, a := range []string{"snap-gen", "gc", "compactor"} {
		if !seen[a] {
			t.Errorf("no lane for %s; lanes %v", a, lanes)
		}
	}
	// The default window leaves out actors only active at the start.
	if seen["setup"] {
		t.Errorf("setup has a lane in the zoomed window: %v", lanes)
	}

	// No overwrite without --force; with it, fine.
	code = execute([]string{"timeline", "--collector", "naive", "--seed", "2", "-o", out}, io.Discard, &stderr)
	if code != exitUsage {
		t.Errorf("overwrite without --force: exit %d, want %d", code, exitUsage)
	}
	code = execute([]string{"timeline", "--collector", "naive", "--seed", "2", "--all", "--force", "-o", out}, io.Discard, io.Discard)
	if code != exitViolation {
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
	if code := execute([]string{"timeline", "--collector", "naive", "--seed", "2", "-o", out}, io.Discard, &stderr); code != exitViolation {
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
		{"timeline", "--collector", "naive", "--seed", "2"},                                    // no -o
		{"timeline", "--collector", "naive", "--seed", "2", "-o", filepath.Join(dir, "x.png")}, // bad extension
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
