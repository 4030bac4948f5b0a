package engine

import "github.com/snapsim/snapsim/sim"

// Lease is a time-bounded pin on a set of files: GC may not delete them
// before Expiry plus the configured grace period. Unlike a version
// reference, a lease cannot hold space forever if its holder stalls or dies.
type Lease struct {
	ID     uint64
	Holder string
	Files  []uint64
	Expiry sim.Micros
	// released is set when the holder gives the lease back.
	released bool
	// log is the lease's index in the engine's lease log.
	log int
}

// covers reports whether the lease still protects file num at now, given
// GC's grace period.
func (l *Lease) covers(num uint64, now, grace sim.Micros) bool {
	if l.released || now >= l.Expiry+grace {
		return false
	}
	for _, f := range l.Files {
		if f == num {
			return true
		}
	}
	return false
}

// Valid reports whether the holder may still rely on the lease at now.
func (l *Lease) Valid(now sim.Micros) bool { return !l.released && now < l.Expiry }
