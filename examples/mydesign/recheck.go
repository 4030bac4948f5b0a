// Package mydesign is a user-defined file-collection design for snapsim's
// TiKV-like system, written the way a user writes one: against the model
// package's API only (model.Build, model.Engine, model.FS), registered by
// value (cli.WithDesigns, tikv.New), with no change to snapsim.
//
// The design is "recheck": list the region's files and pin nothing (as
// naive), but just before opening each file check that it is still in the
// engine's current version; a file that left it abandons the attempt,
// which starts over from a fresh listing. It needs nothing beyond the
// engine interface every LSM has, so it would run on real Pebble. Its
// weakness is real and narrow: the check and the open are two steps, and
// a compaction that installs its version and deletes its inputs between
// them makes the open fail. recheck-atomic closes the gap by running the
// check and the open in one step (model.CheckedOpener), which the
// simulator's filesystem can do and a real one cannot.
package mydesign

import (
	"errors"
	"fmt"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// ErrFileGone is the check's verdict: a listed file is no longer in the
// current version (it may be deleted any moment, or already gone).
var ErrFileGone = errors.New("listed file left the current version")

// Designs returns both variants, for cli.WithDesigns or tikv.New.
func Designs() []model.Design { return []model.Design{Recheck(), RecheckAtomic()} }

// ops are the trace ops both variants record (Design.Ops): what "run
// snap-gen until OP" may name.
var ops = []model.Info{
	{Name: "list", Summary: "the region's files listed"},
	{Name: "recheck", Summary: "a listed file found gone from the current version before its open"},
	{Name: "open", Summary: "a listed file opened after the check"},
	{Name: "retry", Summary: "an attempt abandoned"},
}

// Recheck is the design with its check and its open in two steps: a
// scheduling point (the open's) falls between them.
func Recheck() model.Design {
	return model.Design{
		Name:      "recheck",
		Summary:   "user design (examples/mydesign): lists the region's files, pins nothing, checks each is still in the current version just before opening it (check and open are two steps); a failed check or open retries from a fresh listing, up to MaxAttempts; never panics",
		Footprint: &model.Footprint{},
		Ops:       ops,
		New:       func(c model.DesignConfig) model.Collector { return recheck{cfg: c} },
	}
}

// RecheckAtomic is Recheck with the check and the open in one step
// (model.CheckedOpener): no deleter runs between them.
func RecheckAtomic() model.Design {
	return model.Design{
		Name:      "recheck-atomic",
		Summary:   "user design (examples/mydesign): recheck with the check and the open in one step (an open atomic with a check, which a real filesystem does not have); retries from a fresh listing; never panics",
		Needs:     model.NeedCheckedOpen,
		Footprint: &model.Footprint{},
		Ops:       ops,
		New:       func(c model.DesignConfig) model.Collector { return recheck{cfg: c, atomic: true} },
	}
}

type recheck struct {
	cfg    model.DesignConfig
	atomic bool
}

// Collect implements model.Collector: attempts until one succeeds, at
// most cfg.MaxAttempts, each after a backoff of Backoff times the number
// of the attempt that failed.
func (c recheck) Collect(b model.Build) (model.Collected, error) {
	var last error
	for n := 1; n <= max(c.cfg.MaxAttempts, 1); n++ {
		b.SetAttempts(n)
		got, err := c.attempt(b)
		if err == nil {
			return got, nil
		}
		last = err
		b.Record(sim.ClassAction, "retry", fmt.Sprintf("attempt %d of %d abandoned", n, c.cfg.MaxAttempts), err.Error())
		if n < c.cfg.MaxAttempts {
			b.Actor().Sleep(c.cfg.Backoff * sim.Micros(n))
		}
	}
	return model.Collected{}, fmt.Errorf("%w after %d attempts: %w", model.ErrAttemptsSpent, b.Attempts(), last)
}

// attempt lists, then reads every listed file after the rate limiter,
// checking each is still live just before its open.
func (c recheck) attempt(b model.Build) (model.Collected, error) {
	e := b.Engine()
	snapID, seq := e.TakeSnapshot()
	defer e.ReleaseSnapshot(snapID)
	_, files := b.List()
	// Real generation does other work between listing and opening.
	b.Actor().Yield()
	return b.Read(func(f *model.FileMeta) ([]model.Record, error) {
		b.Throttle(f.SizeBytes)
		check := func() error {
			if !e.Current().Contains(f.Num) {
				b.Record(sim.ClassAction, "recheck", f.Path, "gone")
				return fmt.Errorf("%w: %s", ErrFileGone, f.Name())
			}
			return nil
		}
		var h model.Handle
		var err error
		if c.atomic {
			h, err = b.FS().(model.CheckedOpener).OpenChecked(f.Path, check)
		} else if err = check(); err == nil {
			// The open's scheduling point falls here, after the check.
			h, err = b.FS().Open(f.Path)
		}
		if errors.Is(err, ErrFileGone) {
			return nil, err
		}
		b.Record(sim.ClassAction, "open", f.Path, result(err))
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", f.Path, err)
		}
		return e.ReadFile(h, f, 1)
	}, files, seq)
}

// result renders an error for a trace's result column.
func result(err error) string {
	if err != nil {
		return err.Error()
	}
	return "ok"
}
