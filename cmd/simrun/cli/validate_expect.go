package cli

// validate as a regression check: --record FILE writes which cells of the
// measured matrix are at zero and which are caught, per violation kind;
// --expect FILE measures again and fails (exit 1) when a cell that must
// stay at zero shows a kind (a protection weakened) or a cell that must
// stay caught no longer shows it (a negative control went blind).
//
// The file is line based, like the corpus files:
//
//	# comment
//	setting NAME VALUE          the validate flags it was measured with
//	cell COLLECTOR PROFILE KIND zero|caught
//	applied COLLECTOR PROFILE MIN%  the cell's applied share must stay >= MIN

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/snapsim/snapsim/sim"
)

// expectFormat is the first line of a matrix expectation file.
const expectFormat = "# simrun validate matrix expectation v1"

// Cell states in an expectation file.
const (
	cellZero   = "zero"
	cellCaught = "caught"
)

// matrixExpectation is a parsed expectation file.
type matrixExpectation struct {
	path string
	// settings are the validate flags the matrix was recorded with, in
	// file order.
	settings [][2]string
	// cells maps "collector profile kind" to zero or caught, lines to the
	// line each was given on.
	cells map[string]string
	lines map[string]int
	// applied maps "collector profile" to the floor of the cell's applied
	// share, in parts per thousand; appliedLines to its line.
	applied      map[string]uint64
	appliedLines map[string]int
}

// appliedFloorShare is the floor --record writes under a cell's applied
// share, as a fraction of the measured share: a design change that ships
// 10% fewer of the requested snapshots is a regression, the noise of a
// changed schedule is not.
const appliedFloorShare = 0.9

// expectSettings lists the settings that must match between the recording
// and the run, from the run's flags.
func expectSettings(base *selection, seeds int64, first uint64) [][2]string {
	variants := base.variantNames()
	vs := "none"
	if len(variants) > 0 {
		vs = strings.Join(variants, ",")
	}
	var out [][2]string
	// A system other than the default, and --set, are recorded when used
	// (matrices recorded before systems have neither).
	if base.system != base.env.defaultSystem {
		out = append(out, [2]string{"system", base.system})
	}
	if len(base.sets) > 0 {
		out = append(out, [2]string{"sets", strings.Join(base.sets, ",")})
	}
	return append(out, [][2]string{
		{"seeds", strconv.FormatInt(seeds, 10)},
		{"seed", strconv.FormatUint(first, 10)},
		{"strategy", base.strategy},
		{"max-steps", strconv.FormatInt(base.maxSteps, 10)},
		{"snap-generators", strconv.FormatInt(base.generators, 10)},
		{"gc-grace-us", strconv.FormatInt(base.gcGraceUS, 10)},
		{"snap-gc-timeout-us", strconv.FormatInt(base.snapGCTimeoutUS, 10)},
		{"thread-churn-us", strconv.FormatInt(base.threadChurnUS, 10)},
		{"variants", vs},
	}...)
}

func cellKey(collector, profile string, k sim.Kind) string {
	return collector + " " + profile + " " + string(k)
}

// renderExpectation is the expectation file of a measured matrix.
func renderExpectation(cells []validCell, settings [][2]string) []byte {
	var b bytes.Buffer
	fmt.Fprintln(&b, expectFormat)
	fmt.Fprintln(&b, "# Written by `simrun validate --record`; checked by `simrun validate --expect`.")
	fmt.Fprintln(&b, "# A cell at zero must stay at zero (a protection holds); a caught cell must")
	fmt.Fprintln(&b, "# stay caught (the negative control still sees the bug). Counts may move.")
	for _, s := range settings {
		fmt.Fprintf(&b, "setting %s %s\n", s[0], s[1])
	}
	for i := range cells {
		c := &cells[i]
		for _, k := range sim.Kinds {
			state := cellZero
			if c.Kinds[k] > 0 {
				state = cellCaught
			}
			fmt.Fprintf(&b, "cell %s %s %s %s\n", c.Collector, c.Profile, k, state)
		}
	}
	fmt.Fprintf(&b, "# The share of requested snapshots each cell must keep applying: %.0f%% of the\n", appliedFloorShare*100)
	fmt.Fprintln(&b, "# share measured (in parentheses).")
	for i := range cells {
		c := &cells[i]
		floor := uint64(float64(c.appliedPermille()) * appliedFloorShare)
		fmt.Fprintf(&b, "applied %s %s %s # (%s: %d of %d)\n", c.Collector, c.Profile, permilleText(floor), c.appliedText(), c.Applied, c.Requested)
	}
	return b.Bytes()
}

// loadExpectation parses an expectation file; every error names FILE:LINE
// and the expected form.
func loadExpectation(path string) (*matrixExpectation, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("--expect: %v", err)
	}
	e := &matrixExpectation{path: path, cells: map[string]string{}, lines: map[string]int{},
		applied: map[string]uint64{}, appliedLines: map[string]int{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	ln := 0
	bad := func(format string, args ...any) error {
		return usagef("%s:%d: %s", path, ln, fmt.Sprintf(format, args...))
	}
	for sc.Scan() {
		ln++
		text := sc.Text()
		if ln == 1 && text != expectFormat {
			return nil, bad("not a matrix expectation file: want the first line %q (write one with simrun validate --record FILE)", expectFormat)
		}
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		w := strings.Fields(text)
		if len(w) == 0 {
			continue
		}
		switch w[0] {
		case "setting":
			if len(w) != 3 {
				return nil, bad("want \"setting NAME VALUE\"")
			}
			e.settings = append(e.settings, [2]string{w[1], w[2]})
		case "cell":
			if len(w) != 5 {
				return nil, bad("want \"cell COLLECTOR PROFILE KIND zero|caught\"")
			}
			if !sim.ValidKind(sim.Kind(w[3])) {
				return nil, bad("unknown kind %q; want one of %s", clip(w[3], 40), kindNames())
			}
			if w[4] != cellZero && w[4] != cellCaught {
				return nil, bad("state %q; want zero or caught", clip(w[4], 40))
			}
			key := cellKey(w[1], w[2], sim.Kind(w[3]))
			if prev, dup := e.lines[key]; dup {
				return nil, bad("cell %s given twice (first at line %d)", key, prev)
			}
			e.cells[key], e.lines[key] = w[4], ln
		case "applied":
			if len(w) != 4 {
				return nil, bad("want \"applied COLLECTOR PROFILE MIN%%\"")
			}
			p, ok := parsePermille(w[3])
			if !ok {
				return nil, bad("applied floor %q; want a percentage with at most one decimal, 0%%..100%% (86.9%%)", clip(w[3], 40))
			}
			key := w[1] + " " + w[2]
			if prev, dup := e.appliedLines[key]; dup {
				return nil, bad("applied %s given twice (first at line %d)", key, prev)
			}
			e.applied[key], e.appliedLines[key] = p, ln
		default:
			return nil, bad("unknown line %q; want \"setting NAME VALUE\", \"cell COLLECTOR PROFILE KIND zero|caught\" or \"applied COLLECTOR PROFILE MIN%%\"", clip(w[0], 40))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, usagef("%s:%d: %v", path, ln+1, err)
	}
	if ln == 0 {
		return nil, usagef("%s: empty; want a matrix expectation file (simrun validate --record FILE)", path)
	}
	return e, nil
}

// parsePermille parses "86.9%" (or "86%") into parts per thousand.
func parsePermille(s string) (uint64, bool) {
	num, ok := strings.CutSuffix(s, "%")
	if !ok || num == "" {
		return 0, false
	}
	whole, frac, dotted := strings.Cut(num, ".")
	if dotted && len(frac) != 1 {
		return 0, false
	}
	w, err := strconv.ParseUint(whole, 10, 64)
	if err != nil || w > 100 {
		return 0, false
	}
	p := w * 10
	if dotted {
		d, err := strconv.ParseUint(frac, 10, 64)
		if err != nil {
			return 0, false
		}
		p += d
	}
	return p, p <= 1000
}

// checkSettings reports a usage error when the run's flags differ from the
// recording's: a comparison of different measurements proves nothing.
func (e *matrixExpectation) checkSettings(run [][2]string) error {
	recorded := map[string]string{}
	for _, s := range e.settings {
		recorded[s[0]] = s[1]
	}
	var diff []string
	for _, s := range run {
		if v, ok := recorded[s[0]]; !ok || v != s[1] {
			if !ok {
				v = "(not recorded)"
			}
			diff = append(diff, fmt.Sprintf("--%s %s (recorded: %s)", s[0], s[1], v))
		}
	}
	if len(diff) > 0 {
		return usagef("--expect %s: this run's flags differ from the recording's: %s; run validate with the recorded flags", e.path, strings.Join(diff, ", "))
	}
	return nil
}

// regression is one cell that left its recorded state.
type regression struct {
	Cell     string `json:"cell"`
	Line     int    `json:"line"`
	Want     string `json:"want"`
	Measured uint64 `json:"measured_seeds"`
	Replay   string `json:"replay,omitempty"`
	// Floor and Share are set for an applied share under its floor (Want
	// "applied"), in parts per thousand; Applied of Requested snapshots.
	Floor, Share       uint64 `json:"-"`
	Applied, Requested uint64 `json:"-"`
}

// wantApplied marks a regression of a cell's applied share.
const wantApplied = "applied"

// compare checks the measured cells against the expectation: the cells
// that regressed, and the measured cells the file does not record.
func (e *matrixExpectation) compare(cells []validCell) (regs []regression, unrecorded []string) {
	for i := range cells {
		c := &cells[i]
		for _, k := range sim.Kinds {
			key := cellKey(c.Collector, c.Profile, k)
			want, ok := e.cells[key]
			if !ok {
				if !slices.Contains(unrecorded, c.Collector+" × "+c.Profile) {
					unrecorded = append(unrecorded, c.Collector+" × "+c.Profile)
				}
				continue
			}
			n := c.Kinds[k]
			if (want == cellZero && n > 0) || (want == cellCaught && n == 0) {
				regs = append(regs, regression{Cell: key, Line: e.lines[key], Want: want, Measured: n, Replay: c.Replays[k]})
			}
		}
		key := c.Collector + " " + c.Profile
		if floor, ok := e.applied[key]; ok && c.appliedPermille() < floor {
			regs = append(regs, regression{Cell: key, Line: e.appliedLines[key], Want: wantApplied, Floor: floor, Share: c.appliedPermille(),
				Applied: c.Applied, Requested: c.Requested})
		}
	}
	return regs, unrecorded
}

// writeComparison prints the regressions (and unrecorded cells) and
// returns errNotMet when there is a regression.
func (e *matrixExpectation) writeComparison(w io.Writer, regs []regression, unrecorded []string, compared int) error {
	fmt.Fprintln(w)
	for _, r := range regs {
		if r.Want == wantApplied {
			fmt.Fprintf(w, "REGRESSION %s:%d: %s must keep applying at least %s of its requested snapshots, measured %s (%d of %d): a design that ships less\n",
				e.path, r.Line, r.Cell, permilleText(r.Floor), permilleText(r.Share), r.Applied, r.Requested)
			continue
		}
		if r.Want == cellZero {
			fmt.Fprintf(w, "REGRESSION %s:%d: %s must stay at zero, measured %d seeds (a protection weakened); first: %s\n", e.path, r.Line, r.Cell, r.Measured, r.Replay)
		} else {
			fmt.Fprintf(w, "REGRESSION %s:%d: %s must stay caught, measured 0 seeds (the negative control no longer sees it)\n", e.path, r.Line, r.Cell)
		}
	}
	for _, u := range unrecorded {
		fmt.Fprintf(w, "note: %s is not in %s (re-record with --record to cover it)\n", u, e.path)
	}
	floors := ""
	if n := len(e.applied); n > 0 {
		floors = fmt.Sprintf(" and %d applied floors", n)
	}
	if len(regs) > 0 {
		fmt.Fprintf(w, "expectation: NOT MET: %d of %d recorded cell kinds%s regressed (%s)\n", len(regs), compared, floors, e.path)
		return errNotMet
	}
	fmt.Fprintf(w, "expectation: met: %d recorded cell kinds%s as recorded (%s)\n", compared, floors, e.path)
	return nil
}
