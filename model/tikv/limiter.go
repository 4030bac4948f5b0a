package tikv

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble/vfs"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// This file is TiKV's snapshot I/O limiter with its per-thread I/O stats
// tracker (raftstore snap/io.rs, PR #17958, and the fix of TiKV #18030, PR
// #18006). Before each limiter check the snapshot builder reads its own
// thread's I/O counters, get_thread_io_bytes_total(), which opens
// /proc/<pid>/task/<tid>/io for the tid held in the thread-local cache.
//
//   - unwrap (PR #17958, the bug): the read is unwrapped. When the cache
//     was inherited from a dead thread whose tid is gone from procfs, the
//     open fails and the builder panics with
//     called `Result::unwrap()` on an `Err` value: "open: No such file or directory (os error 2)"
//     The open goes through FS.Open, so for a Watched actor the oracle also
//     raises open-deleted-file naming the thread exit that removed the path.
//   - graceful (PR #18006, IoBytesTracker): the open goes through
//     FS.OpenExpectMissing (a vanished entry is expected), a failed read
//     returns no stats, and the limiter skips that interval's accounting.
//
// Two simplifications, both documented where they matter:
//   - TiKV's ThreadId keeps its procfs reader open after the first
//     successful open; a later read through the descriptor of an exited
//     task fails with ESRCH, which TiKV reads as "no more data" (zero
//     counters, no panic). The model opens, reads and closes on every
//     check, which is TiKV's path for an inherited entry whose reader was
//     never opened: the path that panicked.
//   - In TiKV the quota charged is the measured read delta, so a skipped
//     interval also goes unthrottled (after the fix, a thread with a stale
//     cache is never throttled again). The model always waits for the
//     requested bytes at the configured rate, so the two variants have the
//     same timing and differ only in how they handle the failed read.

// LimiterOptions configure an IOLimiter.
type LimiterOptions struct {
	// BytesPerSec is the rate (TiKV's snap-io-max-bytes-per-sec); 0 means
	// unlimited (the stats are still read).
	BytesPerSec int64 `json:"bytes_per_sec"`
	// Unwrap selects TiKV before PR #18006: a failed stats read panics.
	// false is the fix (IoBytesTracker): it is skipped.
	Unwrap bool `json:"unwrap,omitempty"`
}

// IOStats is one successful read of a thread's procfs I/O stats.
type IOStats struct {
	// Tid is the tid whose entry was read; Owner the serial of the thread
	// that owns that tid now (0 if no thread does).
	Tid   int `json:"tid"`
	Owner int `json:"owner"`
	// ReadBytes and WriteBytes are the read_bytes and write_bytes fields.
	ReadBytes  int64 `json:"read_bytes"`
	WriteBytes int64 `json:"write_bytes"`
}

// LimiterStats count what an IOLimiter did.
type LimiterStats struct {
	// Requests counts completed requests (a panicking request is not
	// counted); Waited is the virtual time they slept.
	Requests int        `json:"requests"`
	Waited   sim.Micros `json:"waited_us"`
	// Accounted is the read bytes measured through procfs deltas.
	Accounted int64 `json:"accounted_bytes"`
	// Skipped counts intervals whose stats were unavailable (graceful).
	Skipped int `json:"skipped"`
	// Rebased counts reads whose entry belonged to another thread than the
	// slot's previous read (a recycled tid): the delta is meaningless and
	// is discarded (TiKV would subtract anyway; see Request).
	Rebased int `json:"rebased"`
	// Foreign counts reads that returned the stats of a thread other than
	// the requester: the cached tid was recycled to a thread in another
	// slot. (After a same-tid recycle in the requester's own slot the
	// stats are the requester's: Rebased, not Foreign.)
	Foreign int `json:"foreign"`
}

// tracker is IoBytesTracker's state for one slot.
type tracker struct {
	init bool
	prev IOStats
}

// IOLimiter is the snapshot I/O limiter of one node, with a stats tracker
// per worker slot.
type IOLimiter struct {
	p     *ThreadPool
	opts  LimiterOptions
	track []tracker
	stats LimiterStats
	buf   []byte
}

// NewIOLimiter returns a limiter whose requests run on p's threads.
func NewIOLimiter(p *ThreadPool, opts LimiterOptions) *IOLimiter {
	return &IOLimiter{p: p, opts: opts, track: make([]tracker, p.Workers()), buf: make([]byte, 512)}
}

// Pool returns the thread pool the limiter's requests run on.
func (l *IOLimiter) Pool() *ThreadPool { return l.p }

// Stats returns what the limiter has done so far.
func (l *IOLimiter) Stats() LimiterStats { return l.stats }

// Variant names the limiter's error handling: "unwrap" or "graceful".
func (l *IOLimiter) Variant() string {
	if l.opts.Unwrap {
		return "unwrap"
	}
	return "graceful"
}

// Request accounts bytes of snapshot read I/O by a on slot's thread and
// makes a wait for them at the configured rate. If a does not hold the
// slot (Acquire), Request holds it for its own duration, parking until the
// slot has a live idle thread. Then:
//
//  1. the thread's kernel counters grow by bytes (the I/O it just did);
//  2. the stats are read through the slot's cached path (open, read,
//     close: three scheduling points). unwrap panics on any failure with
//     TiKV's message; graceful records "stats unavailable, skipped" and
//     skips the interval. A successful read updates the slot's tracker;
//  3. a sleeps bytes/BytesPerSec.
//
// The cache is never refreshed by a read (TiKV's ThreadId{pid, tid} is
// fixed when the entry is created). A read whose entry exists but belongs
// to another thread (the cached tid was recycled) succeeds and returns that
// thread's counters: the model records it and discards the delta (Rebased,
// Foreign), where TiKV's u64 subtraction would have produced garbage.
func (l *IOLimiter) Request(a *sim.Actor, slot int, bytes int64) {
	release := l.p.hold(a, slot)
	defer release()
	s := l.p.s
	me := l.p.slots[slot].th
	if bytes > 0 {
		me.RChar += bytes
		me.ReadBytes += bytes
		me.SyscR++
	}
	st, err := l.readStats(slot, me)
	switch {
	case err != nil && l.opts.Unwrap:
		// snap/io.rs:227 — get_thread_io_bytes_total().unwrap()
		panic(fmt.Sprintf("called `Result::unwrap()` on an `Err` value: %q [%s]", err.rust, err.goText()))
	case err != nil:
		l.stats.Skipped++
		s.Record(sim.ClassAction, "io-stats", fmt.Sprintf("slot %d thread #%d: %s", slot, me.Serial, err.rust), "stats unavailable, skipped")
	default:
		l.account(slot, me, st)
	}
	var wait sim.Micros
	if l.opts.BytesPerSec > 0 && bytes > 0 {
		wait = sim.Micros(bytes * int64(sim.Second) / l.opts.BytesPerSec)
	}
	s.Record(sim.ClassInfo, "io-limit", fmt.Sprintf("%d bytes at %d B/s (%s)", bytes, l.opts.BytesPerSec, l.Variant()), "wait "+wait.String())
	if wait > 0 {
		a.Sleep(wait)
	}
	l.stats.Requests++
	l.stats.Waited += wait
}

// account is IoBytesTracker::update after a successful read.
func (l *IOLimiter) account(slot int, me *task, st IOStats) {
	s := l.p.s
	t := &l.track[slot]
	detail := fmt.Sprintf("slot %d thread #%d: tid %d read_bytes=%d", slot, me.Serial, st.Tid, st.ReadBytes)
	result := "ok"
	switch {
	case !t.init:
		result = "baseline"
	case st.Owner != t.prev.Owner:
		l.stats.Rebased++
		result = fmt.Sprintf("entry now belongs to thread #%d (was #%d): delta discarded", st.Owner, t.prev.Owner)
	default:
		d := max(st.ReadBytes-t.prev.ReadBytes, 0)
		l.stats.Accounted += d
		result = fmt.Sprintf("+%d", d)
	}
	if st.Owner != me.Serial {
		l.stats.Foreign++
		result += fmt.Sprintf("; stats of thread #%d, not of the requester #%d", st.Owner, me.Serial)
	}
	t.init, t.prev = true, st
	// A successful stats read is plumbing (info); a failed one is part of
	// the story (an action, above).
	s.Record(sim.ClassInfo, "io-stats", detail, result)
}

// statsError is a failed stats read: the Go error and TiKV's rendering of
// it ("open: No such file or directory (os error 2)").
type statsError struct {
	rust string
	path string
	err  error
}

// goText renders the Go error with the full path ("open
// /proc/1001/task/1002/io: file does not exist"). MemFS names only the
// part of the path below the first missing directory ("open 1002/io: ...")
// when the task directory is gone too.
func (e *statsError) goText() string {
	var pe *os.PathError
	if errors.As(e.err, &pe) && e.path != "" {
		return fmt.Sprintf("%s %s: %v", pe.Op, e.path, pe.Err)
	}
	return e.err.Error()
}

// readStats is get_thread_io_bytes_total for the thread me in slot: it
// opens the path of the slot's cache entry, reads it, closes it, and
// returns the counters of the thread that owns the entry's tid.
//
// procfs content is generated at read time. The file in the filesystem
// holds the rendering of the thread's counters at its start; the model
// reads it (the read is a scheduling point and must parse) and returns the
// owner's live counters, as the kernel would have rendered them.
func (l *IOLimiter) readStats(slot int, me *task) (IOStats, *statsError) {
	fs := l.p.fs
	c := l.p.slots[slot].cache
	if !c.set {
		e := errors.New("thread local io stats is None")
		return IOStats{}, &statsError{rust: e.Error(), err: e}
	}
	open := fs.OpenExpectMissing
	if l.opts.Unwrap {
		open = func(name string) (vfs.File, error) { return fs.Open(name) }
	}
	f, err := open(c.path)
	if err != nil {
		return IOStats{}, &statsError{rust: "open: " + model.RustErrorText(err), path: c.path, err: err}
	}
	n, err := f.ReadAt(l.buf, 0)
	_ = f.Close() // dropping a File ignores close errors
	if err != nil && !errors.Is(err, io.EOF) {
		return IOStats{}, &statsError{rust: "read: " + model.RustErrorText(err), path: c.path, err: err}
	}
	me.RChar += int64(n) // reading procfs counts in rchar (not read_bytes)
	me.SyscR++
	st, err := parseProcIO(l.buf[:n])
	if err != nil {
		return IOStats{}, &statsError{rust: err.Error(), err: err}
	}
	st.Tid = c.tid
	if owner := l.p.owner(c.tid); owner != nil {
		st.Owner, st.ReadBytes, st.WriteBytes = owner.Serial, owner.ReadBytes, owner.WriteBytes
	}
	return st, nil
}

// parseProcIO parses read_bytes and write_bytes as TiKV does (other fields
// are ignored; a missing field reads as zero).
func parseProcIO(b []byte) (IOStats, error) {
	var st IOStats
	for _, line := range strings.Split(string(b), "\n") {
		field, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *int64
		switch strings.TrimSpace(field) {
		case "read_bytes":
			dst = &st.ReadBytes
		case "write_bytes":
			dst = &st.WriteBytes
		default:
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if err != nil {
			return IOStats{}, fmt.Errorf("parse %s: %v", strings.TrimSpace(field), err)
		}
		*dst = v
	}
	return st, nil
}
