package tikv

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/snapsim/snapsim/sim"
)

// SnapKey identifies a snapshot as TiKV does: region, raft term, applied
// index.
type SnapKey struct {
	Region uint64 `json:"region"`
	Term   uint64 `json:"term"`
	Index  uint64 `json:"index"`
}

// String renders the key as in TiKV file names: "1_1_23".
func (k SnapKey) String() string { return fmt.Sprintf("%d_%d_%d", k.Region, k.Term, k.Index) }

// parseSnapKey parses "1_1_23".
func parseSnapKey(s string) (SnapKey, bool) {
	parts := strings.Split(s, "_")
	if len(parts) != 3 {
		return SnapKey{}, false
	}
	var v [3]uint64
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return SnapKey{}, false
		}
		v[i] = n
	}
	return SnapKey{Region: v[0], Term: v[1], Index: v[2]}, true
}

// Snapshot file prefixes, as TiKV names them: generated on the sender,
// received on the receiver.
const (
	prefixGen = "gen"
	prefixRev = "rev"
)

// snapFile returns the path of one column family's file of a snapshot
// (default and write are SSTs, lock is a plain file).
func snapFile(prefix string, k SnapKey, cf CF) string {
	ext := ".sst"
	if cf == CFLock {
		ext = ".dat"
	}
	return path.Join(SnapDir, fmt.Sprintf("%s_%s_%s%s", prefix, k, cf, ext))
}

// snapMeta returns the path of a snapshot's meta file.
func snapMeta(prefix string, k SnapKey) string {
	return path.Join(SnapDir, fmt.Sprintf("%s_%s.meta", prefix, k))
}

// parseSnapPath splits a snapshot dir entry into prefix and key; tmp
// reports a ".tmp" suffix (a half-written file).
func parseSnapPath(name string) (prefix string, key SnapKey, tmp, ok bool) {
	base := path.Base(name)
	tmp = strings.HasSuffix(base, ".tmp")
	base = strings.TrimSuffix(base, ".tmp")
	p, rest, found := strings.Cut(base, "_")
	if !found || (p != prefixGen && p != prefixRev) {
		return "", SnapKey{}, false, false
	}
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		rest = rest[:i]
	}
	// rest is "r_t_i" or "r_t_i_cf".
	fields := strings.Split(rest, "_")
	if len(fields) < 3 {
		return "", SnapKey{}, false, false
	}
	key, ok = parseSnapKey(strings.Join(fields[:3], "_"))
	return p, key, tmp, ok
}

// SnapState is what a node is doing with a snapshot; the registry holds
// one entry per (key, state) in progress.
type SnapState uint8

// Snapshot states registered with the SnapManager.
const (
	SnapGenerating SnapState = iota + 1
	SnapSending
	SnapReceiving
	SnapApplying
	// SnapPendingApply: received, waiting for the applier (TiKV keeps such
	// snapshots out of GC too).
	SnapPendingApply
	// SnapPendingSend: generated, waiting for the sender.
	SnapPendingSend
)

// String names the state.
func (s SnapState) String() string {
	switch s {
	case SnapGenerating:
		return "Generating"
	case SnapSending:
		return "Sending"
	case SnapReceiving:
		return "Receiving"
	case SnapApplying:
		return "Applying"
	case SnapPendingApply:
		return "PendingApply"
	case SnapPendingSend:
		return "PendingSend"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

type regEntry struct {
	key   SnapKey
	state SnapState
}

// SnapManager is a node's registry of snapshots in use (TiKV's SnapManager
// with its Generating/Sending/Applying registry). Snapshot GC must not
// delete the files of a registered snapshot.
type SnapManager struct {
	s       *sim.Scheduler
	entries []regEntry
	// created records when each key's files first appeared (for GC by
	// age), applied which keys are done with.
	created []keyTime
	applied []SnapKey
	// NonExclusive disables exclusive generation per key (the TiKV #2923
	// bug); by default a second Generating registration of a key fails.
	NonExclusive bool
}

type keyTime struct {
	key SnapKey
	at  sim.Micros
}

// Register records that key is in state. Generating is exclusive per key
// unless NonExclusive: a second registration returns false.
func (m *SnapManager) Register(key SnapKey, st SnapState) bool {
	if st == SnapGenerating && !m.NonExclusive {
		for _, e := range m.entries {
			if e.key == key && e.state == SnapGenerating {
				return false
			}
		}
	}
	m.entries = append(m.entries, regEntry{key, st})
	m.touch(key)
	return true
}

// Deregister removes one (key, state) entry.
func (m *SnapManager) Deregister(key SnapKey, st SnapState) {
	for i, e := range m.entries {
		if e.key == key && e.state == st {
			m.entries = append(m.entries[:i], m.entries[i+1:]...)
			return
		}
	}
}

// InUse returns the states key is registered in ("" if none).
func (m *SnapManager) InUse(key SnapKey) string {
	var states []string
	for _, e := range m.entries {
		if e.key == key {
			states = append(states, e.state.String())
		}
	}
	return strings.Join(states, "+")
}

// inState reports whether some snapshot is registered in state st.
func (m *SnapManager) inState(st SnapState) bool {
	for _, e := range m.entries {
		if e.state == st {
			return true
		}
	}
	return false
}

// MarkApplied records that key has been applied (its files are stale).
func (m *SnapManager) MarkApplied(key SnapKey) { m.applied = append(m.applied, key) }

// Applied reports whether key was applied.
func (m *SnapManager) Applied(key SnapKey) bool {
	for _, k := range m.applied {
		if k == key {
			return true
		}
	}
	return false
}

func (m *SnapManager) touch(key SnapKey) {
	for _, kt := range m.created {
		if kt.key == key {
			return
		}
	}
	m.created = append(m.created, keyTime{key, m.s.Now()})
}

// age returns how long ago key was first seen (0 if never).
func (m *SnapManager) age(key SnapKey) sim.Micros {
	for _, kt := range m.created {
		if kt.key == key {
			return m.s.Now() - kt.at
		}
	}
	return 0
}

// reset forgets everything (after a crash; the registry is in memory).
func (m *SnapManager) reset() {
	m.entries, m.applied = nil, nil
}
