package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// Class tells what kind of step an Event records.
type Class uint8

// Event classes. Actions are the high-level story (put, flush, list,
// compact, delete, open...); IO events are individual filesystem operations;
// Violation events mark observations.
const (
	ClassAction Class = iota + 1
	ClassIO
	ClassViolation
	// ClassInfo lines describe the run (its drawn workload, a summary);
	// they are neither actions nor I/O.
	ClassInfo
)

// String returns the class name used in text and JSON traces.
func (c Class) String() string {
	switch c {
	case ClassAction:
		return "action"
	case ClassIO:
		return "io"
	case ClassViolation:
		return "violation"
	case ClassInfo:
		return "info"
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// MarshalText renders the class by name in JSON.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText parses a class name.
func (c *Class) UnmarshalText(b []byte) error {
	switch string(b) {
	case "action":
		*c = ClassAction
	case "io":
		*c = ClassIO
	case "violation":
		*c = ClassViolation
	case "info":
		*c = ClassInfo
	default:
		return fmt.Errorf("unknown event class %q (want action, io, violation or info)", b)
	}
	return nil
}

// Event is one line of a trace: at which step and virtual time, which actor
// did what to what, and with which result.
type Event struct {
	Step   int64  `json:"step"`
	Time   Micros `json:"time_us"`
	Actor  string `json:"actor"`
	Class  Class  `json:"class"`
	Op     string `json:"op"`
	Detail string `json:"detail,omitempty"`
	Result string `json:"result,omitempty"`
}

// Trace accumulates events and their hash. The hash is always kept; the
// events themselves only when Keep is set (sweeps over many seeds need the
// hash, not the text).
type Trace struct {
	// Keep makes the trace retain its events.
	Keep bool
	// noHash skips the hash: an exhaustive exploration's runs need none
	// (a counterexample is re-run to get its hash).
	noHash bool
	events []Event
	count  int
	hash   uint64
}

// FNV-1a, 64 bit. Written out so hashing allocates nothing.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func newTrace(keep bool) *Trace { return &Trace{Keep: keep, hash: fnvOffset64} }

// Add appends e to the trace and folds it into the hash.
func (t *Trace) Add(e Event) {
	t.count++
	if t.noHash {
		if t.Keep {
			t.events = append(t.events, e)
		}
		return
	}
	h := t.hash
	h = hashUint(h, uint64(e.Step))
	h = hashUint(h, uint64(e.Time))
	h = hashString(h, e.Actor)
	h = hashUint(h, uint64(e.Class))
	h = hashString(h, e.Op)
	h = hashString(h, e.Detail)
	h = hashString(h, e.Result)
	t.hash = h
	if t.Keep {
		t.events = append(t.events, e)
	}
}

// Hash returns the trace hash: FNV-1a over a canonical, length-prefixed
// encoding of every event in order.
func (t *Trace) Hash() uint64 { return t.hash }

// Len returns the number of events added, kept or not.
func (t *Trace) Len() int { return t.count }

// Events returns the kept events.
//
// (A director reads them between steps through Scheduler.Events.)
func (t *Trace) Events() []Event { return t.events }

// hashUint folds v's 8 bytes, least significant first. Once the remaining
// bytes are all zero each of them only multiplies h by the prime (h ^= 0 is
// a no-op), so they are folded in one multiplication by the right power of
// it: the result is bit-identical to the byte loop, and most values hashed
// (steps, times, lengths, classes) have five or more zero high bytes.
func hashUint(h, v uint64) uint64 {
	i := 0
	for ; v != 0; i++ {
		h ^= v & 0xff
		h *= fnvPrime64
		v >>= 8
	}
	return h * fnvPrimePow[8-i]
}

// fnvPrimePow[k] is fnvPrime64 to the power k, modulo 2^64.
var fnvPrimePow = func() (p [9]uint64) {
	p[0] = 1
	for k := 1; k < len(p); k++ {
		p[k] = p[k-1] * fnvPrime64
	}
	return p
}()

func hashString(h uint64, s string) uint64 {
	h = hashUint(h, uint64(len(s)))
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime64
	}
	return h
}

// FormatHash renders a trace hash the way the CLI prints it.
func FormatHash(h uint64) string { return fmt.Sprintf("%016x", h) }

// WriteText renders events as aligned, human-readable columns.
func WriteText(w io.Writer, events []Event) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tTIME\tACTOR\tCLASS\tOP\tDETAIL\tRESULT")
	for _, e := range events {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n",
			e.Step, e.Time, e.Actor, e.Class, e.Op, e.Detail, e.Result)
	}
	return tw.Flush()
}

// WriteJSONLines renders events as one JSON object per line.
func WriteJSONLines(w io.Writer, events []Event) error {
	enc := json.NewEncoder(w)
	for i := range events {
		if err := enc.Encode(&events[i]); err != nil {
			return fmt.Errorf("encode trace event %d: %w", i, err)
		}
	}
	return nil
}

// CountClass returns how many events have class c.
func CountClass(events []Event, c Class) int {
	n := 0
	for i := range events {
		if events[i].Class == c {
			n++
		}
	}
	return n
}

// fold mixes scheduling decisions (step, actor id) into the hash without
// adding an event, so two runs that interleave differently but print the
// same events still hash differently.
func (t *Trace) fold(step, actor uint64) {
	if t.noHash {
		return
	}
	t.hash = hashUint(hashUint(t.hash, step), actor)
}

// FirstDifference returns the index of the first event at which a and b
// differ, len of the shorter one if one is a prefix of the other, or -1 if
// they are equal. Two runs of the same seed and configuration must never
// differ (the determinism check reports the first difference).
func FirstDifference(a, b []Event) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return n
	}
	return -1
}
