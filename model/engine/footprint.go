package engine

import (
	"github.com/cockroachdb/pebble/vfs"
	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// Inside pure I/O loops (writing a new file, reading a file through a
// handle) the engine's code touches nothing but the filesystem and its own
// locals: those steps run under the empty footprint declaration (see
// sim/footprint.go and the declarations of the TiKV system's actors), so
// I/O on different files by different actors commutes under an
// exploration.

// pureIOFootprint is the declaration of a pure I/O loop: nothing besides
// the filesystem's own footprint.
var pureIOFootprint = sim.NewFootprint()

// pureIO puts the running actor under the empty declaration and returns
// what endPureIO needs to restore its own: defer endPureIO(pureIO(s)).
// Outside an actor, or when nothing records footprints, it does nothing.
func pureIO(s *sim.Scheduler) (*sim.Actor, *sim.Footprint) {
	if s == nil || !s.Recording() {
		return nil, nil
	}
	a := s.Current()
	if a == nil {
		return nil, nil
	}
	return a, a.Declare(pureIOFootprint)
}

// endPureIO restores the declaration pureIO replaced.
func endPureIO(a *sim.Actor, prev *sim.Footprint) {
	if a != nil {
		a.Declare(prev)
	}
}

// pureIOFile is pureIO for the scheduler of a file handle's filesystem.
func pureIOFile(f vfs.File) (*sim.Actor, *sim.Footprint) { return pureIO(vfsmem.SchedulerOf(f)) }
