package realpebble

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// settleTimeout bounds a wait for Pebble's deletions (settle): only a file
// Pebble never deletes should reach it. The longest wait measured was
// 523 ms (docs/realpebble.md), on a 2-core machine shared with other test
// runs; the bound is generous so that a loaded machine cannot make a run
// fail.
const settleTimeout = 30 * time.Second

// settle waits until Pebble has deleted every SST file that is neither in
// the current version nor held by a reference. When DB.Compact returns,
// or an iterator is closed, three things can still be under way (see
// properties/fidelity's settle): the table stats loader holding an old
// read state (table_stats.go: its files stay zombies until it lets go),
// deleteObsoleteFiles queuing the cleanup job after it released the DB
// mutex (compaction.go), and the cleaner deleting on its own goroutine
// (cleaner.go). settle polls until the zombie tables
// (Metrics().Table.ZombieCount) are only the held ones and no obsolete,
// unheld SST is left in DBDir: the condition itself, so no queued
// deletion can be missed (a file queued for deletion is still on disk).
// It gives up after settleTimeout.
//
// properties/fidelity also waits for the cleaner with a scratch
// DB.Checkpoint (its disableFileDeletions waits for queued jobs); that
// copies the MANIFEST, which grows with every compaction, so over a long
// run each wait took longer. Polling the directory is enough here.
func (e *Engine) settle() error {
	start := time.Now()
	defer func() {
		d := time.Since(start)
		e.stats.Settles++
		e.stats.SettleWait += d
		e.stats.SettleWaitMax = max(e.stats.SettleWaitMax, d)
	}()
	deadline := start.Add(settleTimeout)
	for {
		e.stats.SettlePolls++
		held, err := e.held()
		if err != nil {
			return err
		}
		zombies := e.db.Metrics().Table.ZombieCount
		extra, err := e.obsoleteOnDisk(held)
		if err != nil {
			return err
		}
		if zombies <= int64(len(held)) && len(extra) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("settle: after %v, %d zombie tables (%d held by references), obsolete files still on disk: %v",
				settleTimeout, zombies, len(held), extra)
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// held returns the files the references hold that are not in the current
// version.
func (e *Engine) held() (map[uint64]bool, error) {
	cur, err := e.list()
	if err != nil {
		return nil, err
	}
	held := map[uint64]bool{}
	for _, r := range e.refs {
		for _, f := range r.v.files {
			if !cur.Contains(f.Num) {
				held[f.Num] = true
			}
		}
	}
	return held, nil
}

// obsoleteOnDisk returns the SST files in DBDir that are neither in the
// current version nor held.
func (e *Engine) obsoleteOnDisk(held map[uint64]bool) ([]string, error) {
	cur, err := e.list()
	if err != nil {
		return nil, err
	}
	names, err := e.fs.List(DBDir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", DBDir, err)
	}
	sort.Strings(names)
	var out []string
	for _, name := range names {
		num, ok := sstNum(name)
		if ok && !cur.Contains(num) && !held[num] {
			out = append(out, name)
		}
	}
	return out, nil
}

// sstNum parses a table's name, "000012.sst".
func sstNum(name string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, ".sst")
	if !ok || base == "" {
		return 0, false
	}
	var n uint64
	for _, c := range base {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}
