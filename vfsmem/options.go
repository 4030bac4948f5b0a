package vfsmem

import (
	"github.com/cockroachdb/pebble/vfs"
	"github.com/snapsim/snapsim/sim"
)

// Costs are the modeled virtual-time costs of filesystem operations (an SSD
// class device). They advance the kernel's clock when an operation runs.
type Costs struct {
	Open, Create, Close, Remove, Rename, Link, List, Stat, Sync sim.Micros
	// ReadBase and WriteBase are per call; ReadPerKiB and WritePerKiB per
	// KiB transferred (rounded up).
	ReadBase, ReadPerKiB, WriteBase, WritePerKiB sim.Micros
}

// DefaultCosts are SSD-like latencies.
var DefaultCosts = Costs{
	Open: 10, Create: 20, Close: 1, Remove: 10, Rename: 20, Link: 10, List: 10, Stat: 5, Sync: 500,
	ReadBase: 10, ReadPerKiB: 5, WriteBase: 10, WritePerKiB: 10,
}

// Faults are per-operation fault rates in parts per thousand, drawn from
// the kernel's Choice. A zero rate draws nothing, so a fault-free
// configuration consumes no choices for faults (which keeps shrunk
// counterexamples short).
type Faults struct {
	// EIO rates: a transient I/O error instead of the operation.
	OpenEIOPermille, ReadEIOPermille, WriteEIOPermille int
	// SpikePermille is the rate of latency spikes: the operation costs an
	// extra SpikeMicros of virtual time (the whole device is slow).
	SpikePermille int
	SpikeMicros   sim.Micros
	// StallPermille is the rate of thread stalls: before the operation the
	// calling actor sleeps StallMicros while everyone else runs (a
	// descheduled thread, a GC pause). A stall can fall between a lease
	// check and the open that follows it.
	StallPermille int
	StallMicros   sim.Micros
}

// Options configure an FS.
type Options struct {
	Costs  Costs
	Faults Faults
	// QuotaBytes, when positive, makes writes that would grow the total
	// past it fail with ENOSPC.
	QuotaBytes int64
	// NewInner, when set, supplies the filesystem the FS wraps instead of a
	// fresh strict MemFS: the stress-test baseline runs the model over the
	// OS filesystem (a directory under a temp dir per FS). It is called
	// once per FS. Crash needs a MemFS and panics over anything else.
	NewInner func() vfs.FS `json:"-"`
}

// DefaultOptions are DefaultCosts, no faults and no quota.
func DefaultOptions() Options { return Options{Costs: DefaultCosts} }

// Quiet returns the faults with every rate set to zero.
func (f Faults) Quiet() Faults { return Faults{SpikeMicros: f.SpikeMicros, StallMicros: f.StallMicros} }
