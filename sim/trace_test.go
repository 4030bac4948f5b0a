package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var sampleEvents = []Event{
	{Step: 1, Time: 0, Actor: "writer", Class: ClassAction, Op: "put", Detail: "k=a", Result: "ok"},
	{Step: 2, Time: 1250, Actor: "compactor-1", Class: ClassIO, Op: "create", Detail: "/db/000007.sst", Result: "ok"},
	{Step: 12, Time: 2 * Second, Actor: "gc", Class: ClassIO, Op: "remove", Detail: "/db/000003.sst", Result: "ok"},
	{Step: 130, Time: 2*Second + 7, Actor: "snap-gen", Class: ClassViolation, Op: "open-deleted-file",
		Detail: "/db/000003.sst", Result: "deleted-by=gc@12"},
}

func hashOf(events ...Event) uint64 {
	tr := newTrace(false)
	for _, e := range events {
		tr.Add(e)
	}
	return tr.Hash()
}

func TestTraceKeep(t *testing.T) {
	kept, dropped := newTrace(true), newTrace(false)
	for _, e := range sampleEvents {
		kept.Add(e)
		dropped.Add(e)
	}
	assert.Equal(t, sampleEvents, kept.Events())
	assert.Nil(t, dropped.Events())
	assert.Equal(t, len(sampleEvents), kept.Len())
	assert.Equal(t, len(sampleEvents), dropped.Len())
	assert.Equal(t, kept.Hash(), dropped.Hash())
	assert.NotEqual(t, uint64(fnvOffset64), kept.Hash())
	assert.Equal(t, uint64(fnvOffset64), newTrace(true).Hash(), "empty trace hash")
}

func TestKeepTraceFalseKeepsHashAndCount(t *testing.T) {
	kept := runWorkload(NewPRNG(11), Config{KeepTrace: true})
	bare := runWorkload(NewPRNG(11), Config{KeepTrace: false})
	require.NotEmpty(t, kept.Events)
	assert.Nil(t, bare.Events)
	assert.Equal(t, kept.TraceHash, bare.TraceHash)
	assert.Equal(t, len(kept.Events), kept.EventCount)
	assert.Equal(t, kept.EventCount, bare.EventCount)
	assert.Equal(t, kept.Steps, bare.Steps)
	assert.Equal(t, withoutStacks(kept.Observations), withoutStacks(bare.Observations))
}

func TestHashChangesWithEveryField(t *testing.T) {
	base := Event{Step: 5, Time: 100, Actor: "a", Class: ClassIO, Op: "open", Detail: "/x", Result: "ok"}
	mutations := map[string]func(*Event){
		"step":       func(e *Event) { e.Step++ },
		"time":       func(e *Event) { e.Time++ },
		"actor":      func(e *Event) { e.Actor = "b" },
		"class":      func(e *Event) { e.Class = ClassAction },
		"op":         func(e *Event) { e.Op = "stat" },
		"detail":     func(e *Event) { e.Detail = "/y" },
		"result":     func(e *Event) { e.Result = "ENOENT" },
		"empty-res":  func(e *Event) { e.Result = "" },
		"op-detail":  func(e *Event) { e.Op, e.Detail = "open/", "x" }, // same bytes, other split
		"det-result": func(e *Event) { e.Detail, e.Result = "/xo", "k" },
	}
	seen := map[uint64]string{hashOf(base): "base"}
	for name, mutate := range mutations {
		e := base
		mutate(&e)
		h := hashOf(e)
		prev, dup := seen[h]
		assert.False(t, dup, "mutation %q hashes like %q", name, prev)
		seen[h] = name
	}
	// Order and count matter too.
	a, b := sampleEvents[0], sampleEvents[1]
	assert.NotEqual(t, hashOf(a, b), hashOf(b, a))
	assert.NotEqual(t, hashOf(a), hashOf(a, a))
	assert.Equal(t, hashOf(a, b), hashOf(a, b))
}

func TestHashChangesWithInterleaving(t *testing.T) {
	// Two actors that record nothing: the only difference between the runs
	// is who ran at each step, and the hash must see it.
	run := func(schedule ...string) Result {
		s := New(NewPRNG(1), Config{KeepTrace: true, Strategy: Strategy{Name: "replay", Schedule: schedule}})
		for _, name := range []string{"a", "b"} {
			s.Spawn(name, ActorOptions{}, func(a *Actor) { a.Yield() })
		}
		return s.Run()
	}
	x, y, z := run("a", "a", "b", "b"), run("a", "b", "a", "b"), run("a", "b", "a", "b")
	require.Equal(t, EndDone, x.End)
	require.Equal(t, EndDone, y.End)
	assert.Empty(t, x.Events)
	assert.Empty(t, y.Events)
	assert.NotEqual(t, x.TraceHash, y.TraceHash)
	assert.Equal(t, y.TraceHash, z.TraceHash)
}

func TestFormatHash(t *testing.T) {
	assert.Equal(t, "0000000000000000", FormatHash(0))
	assert.Equal(t, "00000000000000ff", FormatHash(255))
	assert.Equal(t, "ffffffffffffffff", FormatHash(^uint64(0)))
	assert.Regexp(t, `^[0-9a-f]{16}$`, FormatHash(hashOf(sampleEvents...)))
}

func TestWriteTextAlignedColumns(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, sampleEvents))
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Len(t, lines, len(sampleEvents)+1)
	assert.Equal(t, []string{"STEP", "TIME", "ACTOR", "CLASS", "OP", "DETAIL", "RESULT"}, strings.Fields(lines[0]))

	// Every field (none contains spaces here) starts at its header's column.
	field := regexp.MustCompile(`\S+`)
	cols := field.FindAllStringIndex(lines[0], -1)
	require.Len(t, cols, 7)
	for i, line := range lines[1:] {
		got := field.FindAllStringIndex(line, -1)
		require.Len(t, got, 7, "line %d: %q", i+1, line)
		for c := range cols {
			assert.Equal(t, cols[c][0], got[c][0], "line %d column %d: %q", i+1, c, line)
		}
		assert.Equal(t, strings.TrimRight(line, " "), line, "no trailing blanks")
	}
	assert.Equal(t, []string{"2", "1.250ms", "compactor-1", "io", "create", "/db/000007.sst", "ok"}, strings.Fields(lines[2]))
	assert.Equal(t, []string{"130", "2.000007s", "snap-gen", "violation", "open-deleted-file", "/db/000003.sst", "deleted-by=gc@12"},
		strings.Fields(lines[4]))
}

func TestWriteTextEmpty(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, nil))
	assert.Equal(t, []string{"STEP", "TIME", "ACTOR", "CLASS", "OP", "DETAIL", "RESULT"}, strings.Fields(buf.String()))
	assert.Equal(t, 1, strings.Count(buf.String(), "\n"))
}

func TestWriteJSONLines(t *testing.T) {
	events := append([]Event{{Step: 3, Time: 9, Actor: "x", Class: ClassAction, Op: "tick"}}, sampleEvents...)
	var buf bytes.Buffer
	require.NoError(t, WriteJSONLines(&buf, events))
	sc := bufio.NewScanner(&buf)
	var got []Event
	for sc.Scan() {
		line := sc.Bytes()
		require.True(t, json.Valid(line), "not JSON: %s", line)
		var m map[string]any
		require.NoError(t, json.Unmarshal(line, &m))
		want := []string{"step", "time_us", "actor", "class", "op"}
		if len(got) > 0 { // the first event has no detail nor result
			want = append(want, "detail", "result")
		}
		assert.ElementsMatch(t, want, keys(m), "line %s", line)
		var e Event
		require.NoError(t, json.Unmarshal(line, &e))
		got = append(got, e)
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, events, got, "one object per line, in order, round-tripping")

	buf.Reset()
	require.NoError(t, WriteJSONLines(&buf, sampleEvents[3:]))
	assert.JSONEq(t, `{"step":130,"time_us":2000007,"actor":"snap-gen","class":"violation",
		"op":"open-deleted-file","detail":"/db/000003.sst","result":"deleted-by=gc@12"}`, buf.String())
	assert.Equal(t, 1, strings.Count(buf.String(), "\n"))
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, assert.AnError }

func TestWritersReportErrors(t *testing.T) {
	assert.Error(t, WriteText(failWriter{}, sampleEvents))
	err := WriteJSONLines(failWriter{}, sampleEvents)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "encode trace event 0")
}

func TestClassText(t *testing.T) {
	names := map[Class]string{ClassAction: "action", ClassIO: "io", ClassViolation: "violation", ClassInfo: "info"}
	for c, name := range names {
		assert.Equal(t, name, c.String())
		b, err := c.MarshalText()
		require.NoError(t, err)
		assert.Equal(t, name, string(b))
		var back Class
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, c, back)
		j, err := json.Marshal(c)
		require.NoError(t, err)
		assert.Equal(t, `"`+name+`"`, string(j))
		require.NoError(t, json.Unmarshal(j, &back))
		assert.Equal(t, c, back)
	}
	assert.Equal(t, "class(0)", Class(0).String())
	assert.Error(t, new(Class).UnmarshalText([]byte("class(0)")), "the fallback rendering is not a name")
	assert.Equal(t, "class(9)", Class(9).String())

	var c Class = ClassIO
	err := c.UnmarshalText([]byte("IO"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown event class "IO"`)
	for _, name := range names {
		assert.Contains(t, err.Error(), name, "the message lists the valid names")
	}
	assert.Equal(t, ClassIO, c, "unchanged on error")
	assert.Error(t, json.Unmarshal([]byte(`{"class":"bogus"}`), &Event{}))
	assert.Error(t, json.Unmarshal([]byte(`{"class":2}`), &Event{}), "classes are names, not numbers")
}

func TestCountClass(t *testing.T) {
	assert.Equal(t, 1, CountClass(sampleEvents, ClassAction))
	assert.Equal(t, 2, CountClass(sampleEvents, ClassIO))
	assert.Equal(t, 1, CountClass(sampleEvents, ClassViolation))
	assert.Zero(t, CountClass(nil, ClassIO))
}

func TestKinds(t *testing.T) {
	want := []string{"open-deleted-file", "panic", "inconsistent-snapshot", "gc-deleted-pinned-file",
		"file-leak", "snap-file-missing", "liveness", "nondeterminism"}
	require.Len(t, Kinds, len(want))
	for i, k := range Kinds {
		assert.Equal(t, want[i], string(k))
		assert.True(t, ValidKind(k))
	}
	assert.False(t, ValidKind("Panic"))
	assert.False(t, ValidKind(""))
}
