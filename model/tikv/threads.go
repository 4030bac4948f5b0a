package tikv

import (
	"fmt"
	"path"
	"strconv"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// This file models a node's worker threads as the kernel and TiKV's
// file_system crate see them, for TiKV #18030 (docs/domain.md, "TiKV #18030"):
//
//   - Every live worker thread has a procfs stats file
//     /proc/<pid>/task/<tid>/io in the node's filesystem. It is created when
//     the thread starts and removed when the thread exits (the ledger says
//     "thread <tid> exited" and names the actor that ended the thread).
//   - Thread ids come from a small range and are recycled, as Linux recycles
//     pids: a new thread may or may not get the tid of the thread it
//     replaces, or the tid of some other dead thread (TidPolicy).
//   - A per-slot cache of the stats path models TiKV's LOCAL_IO_STATS, a
//     thread_local::ThreadLocal<LocalIoStats> whose entry holds
//     ThreadId{pid, tid} and is created by a thread-start hook with get_or.
//     The thread_local crate recycles its internal per-thread slots when a
//     thread exits and does not drop the entry, so a new thread that gets the
//     recycled slot finds the dead thread's entry: get_or keeps it, and the
//     new thread's stats reads go to the dead thread's tid. That is the bug,
//     and it is deliberate here (see ThreadOptions.FreshCachePerThread for a
//     correct cache, used as a negative control).
//
// A worker slot is both a position in the pool and the thread_local crate's
// recycled slot: when a slot's thread exits, its replacement starts in the
// same slot (the crate hands out the lowest free slot, which is the one
// just freed).

// TidPolicy says how a starting thread's id is chosen among the free ids of
// the pool's range.
type TidPolicy string

// Thread id allocation policies.
const (
	// TidCyclic is Linux's policy (idr_alloc_cyclic): the next free id
	// after the last one handed out, wrapping around the range. A
	// replacement usually gets a new tid; after a wrap it may get an old one.
	TidCyclic TidPolicy = "cyclic"
	// TidLowestFree hands out the lowest free id. With one replacement at a
	// time, a thread's replacement gets the tid it just freed whenever every
	// lower id is taken (the stale cache then happens to be right).
	TidLowestFree TidPolicy = "lowest-free"
	// TidRandom draws uniformly among the free ids from the run's Choice.
	TidRandom TidPolicy = "random"
)

// ThreadOptions configure a node's worker thread pool.
type ThreadOptions struct {
	// Workers is the number of worker slots (default 4).
	Workers int `json:"workers"`
	// TidRange is how many thread ids the workers share, starting at
	// pid+1 (default 2×Workers; at least Workers). A range equal to
	// Workers makes every replacement reuse the freed tid.
	TidRange int `json:"tid_range"`
	// TidPolicy chooses among free ids (default TidCyclic).
	TidPolicy TidPolicy `json:"tid_policy,omitempty"`
	// ChurnInterval is the mean pause between thread replacements made by
	// ChurnLoop; each pause is drawn uniformly in [I/2, 3I/2]. Zero
	// disables churn (ChurnLoop returns at once).
	ChurnInterval sim.Micros `json:"churn_interval_us"`
	// FreshCachePerThread gives each new thread its own stats-path cache
	// entry, as a std thread_local! (destroyed at thread exit) would. It
	// removes the bug: a negative control. The default (false) is TiKV's
	// behaviour before PR #18006: the entry is inherited.
	FreshCachePerThread bool `json:"fresh_cache_per_thread,omitempty"`
}

// DefaultThreadOptions returns 4 workers sharing 8 thread ids, cyclic
// allocation, no churn, and TiKV's inherited cache.
func DefaultThreadOptions() ThreadOptions {
	return ThreadOptions{Workers: 4, TidRange: 8, TidPolicy: TidCyclic}
}

// ThreadInfo describes one worker thread (a copy: it does not change).
type ThreadInfo struct {
	// Serial numbers the pool's threads in start order, from 1.
	Serial int `json:"serial"`
	// Tid is the thread's OS id; Slot its worker slot.
	Tid  int `json:"tid"`
	Slot int `json:"slot"`
	// Started is when the thread started.
	Started sim.Micros `json:"started_us"`
	// The kernel's I/O counters of the thread at the time of the copy
	// (the fields of /proc/<pid>/task/<tid>/io).
	RChar, WChar, SyscR, SyscW, ReadBytes, WriteBytes int64
}

// task is a live (or exiting) worker thread: the kernel's view.
type task struct {
	ThreadInfo
}

// statsCache is one slot of the thread-local cache: TiKV's LocalIoStats
// sentinel, reduced to what matters here (ThreadId{pid, tid}).
type statsCache struct {
	set  bool
	tid  int
	path string
	// creator is the serial of the thread whose start hook created the
	// entry (for traces and tests).
	creator int
}

// Thread states in a slot.
const (
	threadStarting = iota + 1 // procfs entry being created
	threadLive                // can run tasks
	threadExiting             // procfs entry being removed
)

// workerSlot is one position of the pool.
type workerSlot struct {
	th    *task // nil while the slot has no thread
	state int
	// holder is the actor running on the slot's thread (a build or one
	// limiter request); a held thread cannot exit.
	holder *sim.Actor
	cache  statsCache
}

// ThreadPool is one node's worker threads: a fixed number of slots, each
// with at most one live thread, whose procfs stats files live in the node's
// filesystem. Threads exit only when idle (not held): a thread cannot exit
// in the middle of a task it is running.
type ThreadPool struct {
	s     *sim.Scheduler
	fs    *vfsmem.FS
	opts  ThreadOptions
	pid   int
	slots []workerSlot
	// used[i] is true while tid base+i belongs to a thread (from allocation
	// until its procfs entry is gone).
	used   []bool
	cursor int // TidCyclic: index after the last allocated tid
	serial int
	starts int
	exits  int
	// waiters are actors parked until a slot becomes live or idle.
	waiters      []*sim.Actor
	churnStopped bool
	// taskPath is /proc/<pid>/task, built once.
	taskPath string
}

// NewThreadPool builds node nodeID's pool (pid 1000+nodeID): it creates
// /proc/<pid>/task and starts one thread per slot, with tids pid+1,
// pid+2, ... Called before Run (set-up) it takes no scheduling points and
// draws no choices.
func NewThreadPool(s *sim.Scheduler, fs *vfsmem.FS, nodeID int, opts ThreadOptions) (*ThreadPool, error) {
	if opts.Workers == 0 {
		opts.Workers = 4
	}
	if opts.TidRange == 0 {
		opts.TidRange = 2 * opts.Workers
	}
	if opts.TidPolicy == "" {
		opts.TidPolicy = TidCyclic
	}
	switch {
	case opts.Workers < 1:
		return nil, fmt.Errorf("threads: workers must be >= 1 (got %d)", opts.Workers)
	case opts.TidRange < opts.Workers:
		return nil, fmt.Errorf("threads: tid_range (%d) must be >= workers (%d)", opts.TidRange, opts.Workers)
	case opts.ChurnInterval < 0:
		return nil, fmt.Errorf("threads: churn_interval_us must be >= 0")
	case opts.TidPolicy != TidCyclic && opts.TidPolicy != TidLowestFree && opts.TidPolicy != TidRandom:
		return nil, fmt.Errorf("threads: unknown tid policy %q (want %s, %s or %s)", opts.TidPolicy, TidCyclic, TidLowestFree, TidRandom)
	}
	p := &ThreadPool{s: s, fs: fs, opts: opts, pid: 1000 + nodeID,
		slots: make([]workerSlot, opts.Workers), used: make([]bool, opts.TidRange)}
	p.taskPath = "/proc/" + strconv.Itoa(p.pid) + "/task"
	if err := fs.MkdirAll(p.taskDir(), 0o755); err != nil {
		return nil, fmt.Errorf("threads: create %s: %w", p.taskDir(), err)
	}
	for i := range p.slots {
		if err := p.Start(s.Current(), i); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Pid returns the node's process id.
func (p *ThreadPool) Pid() int { return p.pid }

// Workers returns the number of slots.
func (p *ThreadPool) Workers() int { return len(p.slots) }

// Options returns the pool's options with defaults filled in.
func (p *ThreadPool) Options() ThreadOptions { return p.opts }

// Starts counts thread starts (the initial ones included).
func (p *ThreadPool) Starts() int { return p.starts }

// Exits counts thread exits.
func (p *ThreadPool) Exits() int { return p.exits }

// Thread returns slot's live thread, if it has one.
func (p *ThreadPool) Thread(slot int) (ThreadInfo, bool) {
	if p.live(slot) {
		return p.slots[slot].th.ThreadInfo, true
	}
	return ThreadInfo{}, false
}

// live reports whether slot has a thread that can run tasks.
func (p *ThreadPool) live(slot int) bool {
	return p.slots[slot].th != nil && p.slots[slot].state == threadLive
}

// idle reports whether slot has a live thread running no task.
func (p *ThreadPool) idle(slot int) bool { return p.live(slot) && p.slots[slot].holder == nil }

// StatsPath returns the procfs stats path of tid: /proc/<pid>/task/<tid>/io.
func (p *ThreadPool) StatsPath(tid int) string {
	return p.taskPath + "/" + strconv.Itoa(tid) + "/io"
}

// CachedStatsPath returns the stats path slot's thread-local cache holds
// ("" if the entry is empty). With the inherited cache (the default) it
// is the path of the first thread that ever ran in the slot.
func (p *ThreadPool) CachedStatsPath(slot int) string { return p.slots[slot].cache.path }

func (p *ThreadPool) taskDir() string { return p.taskPath }

// owner returns the thread whose tid is tid (nil if none), in any state:
// its procfs entry may exist.
func (p *ThreadPool) owner(tid int) *task {
	for i := range p.slots {
		if th := p.slots[i].th; th != nil && th.Tid == tid {
			return th
		}
	}
	return nil
}

// Start starts a thread in an empty slot: it allocates a tid, creates the
// thread's procfs entry (rendered from its zero counters), then runs the
// thread-start hook that fills the slot's stats-path cache (TiKV's
// LOCAL_IO_STATS.get_or): an existing entry is kept, which is the bug,
// unless FreshCachePerThread. The thread is live (it can run tasks) once
// its procfs entry exists. a is the actor doing it (nil in set-up).
func (p *ThreadPool) Start(a *sim.Actor, slot int) error {
	sl := &p.slots[slot]
	if sl.th != nil {
		return fmt.Errorf("threads: start in slot %d: thread %d is still running", slot, sl.th.Tid)
	}
	idx, ok := p.allocTid()
	if !ok {
		return fmt.Errorf("threads: start in slot %d: no free thread id in %d..%d", slot, p.pid+1, p.pid+len(p.used))
	}
	tid := p.pid + 1 + idx
	p.serial++
	th := &task{ThreadInfo{Serial: p.serial, Tid: tid, Slot: slot, Started: p.s.Now()}}
	sl.th, sl.state = th, threadStarting
	statsPath := p.StatsPath(tid)
	if err := p.writeStatsFile(a, th, statsPath); err != nil {
		sl.th, sl.state = nil, 0
		p.used[idx] = false
		return fmt.Errorf("threads: start thread %d in slot %d: %w", tid, slot, err)
	}
	sl.state = threadLive
	p.starts++
	fresh := !sl.cache.set || p.opts.FreshCachePerThread
	if fresh {
		sl.cache = statsCache{set: true, tid: tid, path: statsPath, creator: th.Serial}
	}
	detail := ""
	if p.s.Tracing() {
		detail = fmt.Sprintf("slot %d: thread #%d tid %d; %s", slot, th.Serial, tid, startHook(sl.cache, tid, fresh))
	}
	p.s.Record(p.class(), "thread-start", detail, "ok")
	p.wakeWaiters()
	return nil
}

// startHook says, for the trace, what the thread-start hook did with the
// slot's stats-path cache c for a new thread tid.
func startHook(c statsCache, tid int, fresh bool) string {
	switch {
	case fresh:
		return "cache " + c.path + " (new)"
	case c.tid != tid:
		return fmt.Sprintf("cache %s inherited from thread #%d (tid %d): stale", c.path, c.creator, c.tid)
	default:
		return fmt.Sprintf("cache %s inherited from thread #%d: same tid, by chance", c.path, c.creator)
	}
}

// writeStatsFile creates /proc/<pid>/task/<tid>/io. Injected faults can
// fail its filesystem calls; it retries a few times (procfs itself does
// not fail) and gives up with the last error.
func (p *ThreadPool) writeStatsFile(a *sim.Actor, th *task, statsPath string) error {
	dir := path.Dir(statsPath)
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		if attempt > 0 && a != nil {
			a.Sleep(10 * sim.Microsecond)
		}
		if err = p.fs.MkdirAll(dir, 0o555); err != nil {
			continue
		}
		f, cerr := p.fs.Create(statsPath)
		if cerr != nil {
			err = cerr
			continue
		}
		_, err = f.Write(appendProcIO(nil, th.ThreadInfo))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			return nil
		}
		_ = p.fs.RemoveBecause(statsPath, "partial write")
	}
	return err
}

// appendProcIO appends the content of a /proc/<pid>/task/<tid>/io file
// (the kernel's format: one "name: value" line per counter).
func appendProcIO(dst []byte, t ThreadInfo) []byte {
	for _, f := range [...]struct {
		name string
		v    int64
	}{{"rchar", t.RChar}, {"wchar", t.WChar}, {"syscr", t.SyscR}, {"syscw", t.SyscW},
		{"read_bytes", t.ReadBytes}, {"write_bytes", t.WriteBytes}, {"cancelled_write_bytes", 0}} {
		dst = append(dst, f.name...)
		dst = append(dst, ": "...)
		dst = strconv.AppendInt(dst, f.v, 10)
		dst = append(dst, '\n')
	}
	return dst
}

// Exit ends slot's thread, which must be idle: its procfs entry is removed
// (the ledger records "thread <tid> exited" by a) and its tid is freed for
// reuse. The slot's stats-path cache is left as it is: the thread_local
// crate does not drop an exited thread's entry. Between Exit and the next
// Start the slot has no thread.
func (p *ThreadPool) Exit(a *sim.Actor, slot int) error {
	sl := &p.slots[slot]
	th := sl.th
	switch {
	case th == nil || sl.state != threadLive:
		return fmt.Errorf("threads: exit in slot %d: no live thread", slot)
	case sl.holder != nil:
		return fmt.Errorf("threads: exit in slot %d: thread %d is running a task of %s", slot, th.Tid, sl.holder.Name())
	}
	// The slot stops taking tasks now. The task disappears with its procfs
	// entry (in the step of the removal); its tid is freed once the task
	// directory is gone too.
	sl.state = threadExiting
	why := fmt.Sprintf("thread %d exited", th.Tid)
	file := p.StatsPath(th.Tid)
	err := p.fs.RemoveBecause(file, why)
	sl.th, sl.state = nil, 0
	if derr := p.fs.RemoveBecause(path.Dir(file), why); err == nil {
		err = derr
	}
	p.used[th.Tid-p.pid-1] = false
	p.exits++
	p.wakeWaiters()
	res := "ok"
	if err != nil {
		// Only a crash can have removed the entry first (MemFS removal
		// injects no faults): the thread is gone all the same.
		res = err.Error()
	}
	p.s.Record(p.class(), "thread-exit", fmt.Sprintf("slot %d: thread #%d tid %d", slot, th.Serial, th.Tid), res)
	return nil
}

// Replace makes slot's (idle) thread exit and starts a new one in its slot.
func (p *ThreadPool) Replace(a *sim.Actor, slot int) error {
	if err := p.Exit(a, slot); err != nil {
		return err
	}
	return p.Start(a, slot)
}

// Restart models the process restarting (after a crash): every thread is
// gone, its procfs entry removed if it survived, the thread-local cache is
// dropped with the old process, holds are forgotten, and every slot starts
// a new thread.
func (p *ThreadPool) Restart(a *sim.Actor) error {
	for i := range p.slots {
		p.slots[i].holder = nil
		p.slots[i].cache = statsCache{}
		if p.live(i) {
			if err := p.Exit(a, i); err != nil {
				return err
			}
		} else if th := p.slots[i].th; th != nil {
			// A thread caught half-started or half-exited by the crash:
			// the process is gone, so is the thread.
			p.used[th.Tid-p.pid-1] = false
			p.slots[i].th, p.slots[i].state = nil, 0
		}
	}
	for i := range p.slots {
		if err := p.Start(a, i); err != nil {
			return err
		}
	}
	return nil
}

// allocTid reserves a free tid index according to the policy. In set-up
// (no running actor) TidRandom falls back to the lowest free id, so set-up
// draws no choices.
func (p *ThreadPool) allocTid() (int, bool) {
	n := len(p.used)
	take := func(i int) (int, bool) {
		p.used[i] = true
		p.cursor = (i + 1) % n
		return i, true
	}
	switch {
	case p.opts.TidPolicy == TidCyclic:
		for k := 0; k < n; k++ {
			if i := (p.cursor + k) % n; !p.used[i] {
				return take(i)
			}
		}
	case p.opts.TidPolicy == TidRandom && p.s.Current() != nil:
		free := 0
		for _, u := range p.used {
			if !u {
				free++
			}
		}
		if free == 0 {
			return 0, false
		}
		pick := p.s.Intn(free)
		for i, u := range p.used {
			if !u {
				if pick == 0 {
					return take(i)
				}
				pick--
			}
		}
	default:
		for i, u := range p.used {
			if !u {
				return take(i)
			}
		}
	}
	return 0, false
}

// Acquire runs a task on some idle live thread: it parks until one exists,
// picks one (drawn from the Choice when several are idle), holds it (it
// cannot exit until Release) and returns its slot. A snapshot build runs
// on one thread from start to end: Acquire before, Release after (defer
// it, so that a panicking build frees its thread).
func (p *ThreadPool) Acquire(a *sim.Actor) int {
	for {
		var idle []int
		for i := range p.slots {
			if p.idle(i) {
				idle = append(idle, i)
			}
		}
		if len(idle) > 0 {
			slot := idle[p.s.Intn(len(idle))]
			p.slots[slot].holder = a
			return slot
		}
		p.park(a)
	}
}

// Release ends a's task on slot. Releasing a slot a does not hold does
// nothing.
func (p *ThreadPool) Release(a *sim.Actor, slot int) {
	if p.slots[slot].holder == a {
		p.slots[slot].holder = nil
		p.wakeWaiters()
	}
}

// hold makes a run on slot's thread for one operation: it returns at once
// if a already holds the slot (and then release is a no-op), otherwise it
// parks until the slot has a live idle thread and holds it.
func (p *ThreadPool) hold(a *sim.Actor, slot int) (release func()) {
	sl := &p.slots[slot]
	if sl.holder == a && p.live(slot) {
		return func() {}
	}
	for !p.idle(slot) {
		p.park(a)
	}
	sl.holder = a
	return func() { p.Release(a, slot) }
}

func (p *ThreadPool) park(a *sim.Actor) {
	p.waiters = append(p.waiters, a)
	a.Park()
}

// wakeWaiters makes every parked waiter re-check its condition.
func (p *ThreadPool) wakeWaiters() {
	for _, w := range p.waiters {
		p.s.Wake(w)
	}
	p.waiters = p.waiters[:0]
}

// StopChurn makes ChurnLoop return after its current pause (the liveness
// phase stops interference).
func (p *ThreadPool) StopChurn() { p.churnStopped = true }

// ChurnLoop is the thread-churn actor (run it as a daemon): after each
// pause (drawn around ThreadOptions.ChurnInterval) it picks a random idle
// thread, makes it exit and starts a new thread in its slot. Held threads
// are never picked; if every thread is busy the round is skipped.
func (p *ThreadPool) ChurnLoop(a *sim.Actor) {
	iv := p.opts.ChurnInterval
	if iv <= 0 {
		return
	}
	for !p.churnStopped {
		a.Sleep(iv/2 + sim.Micros(p.s.Intn(int(iv)+1)))
		if p.churnStopped {
			return
		}
		var idle []int
		for i := range p.slots {
			if p.idle(i) {
				idle = append(idle, i)
			}
		}
		if len(idle) == 0 {
			continue
		}
		slot := idle[p.s.Intn(len(idle))]
		if err := p.Replace(a, slot); err != nil {
			p.s.Record(sim.ClassAction, "thread-churn", fmt.Sprintf("slot %d", slot), err.Error())
		}
	}
}

// class is the trace class of thread lifecycle events: an action when an
// actor does it (churn, a restart), set-up information otherwise.
func (p *ThreadPool) class() sim.Class {
	if p.s.Current() == nil {
		return sim.ClassInfo
	}
	return sim.ClassAction
}
