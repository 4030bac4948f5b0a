package realpebble

import (
	"fmt"
	"sort"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// ScratchDir is the directory a design's own files go in (checkpoint's
// links would; Output's files do), on the database's filesystem, beside
// DBDir.
const ScratchDir = "/snap"

// build is the model.Build of one round: one build of the region by a
// design's Collect, over the real database.
type build struct {
	r      *runner
	actor  *sim.Actor
	round  int
	region *model.Region
	// span is the region as it was at the last listing (TakeSpan).
	span     model.Region
	attempts int
}

var _ model.Build = (*build)(nil)

// Engine implements model.Build: the adapter over the real database.
func (b *build) Engine() model.Engine { return b.r.e }

// FS implements model.Build: the database's filesystem.
func (b *build) FS() model.FS { return b.r.fs }

// Actor implements model.Build: the round's kernel actor.
func (b *build) Actor() *sim.Actor { return b.actor }

// Now implements model.Build: the kernel's virtual time.
func (b *build) Now() sim.Micros { return b.r.s.Now() }

// Record implements model.Build: an event of the kernel's trace.
func (b *build) Record(class sim.Class, op, detail, result string) {
	b.r.s.Record(class, op, detail, result)
}

// Region implements model.Build: the one region of a run (Config.Start,
// Config.End), which nothing splits or merges.
func (b *build) Region() *model.Region { return b.region }

// TakeSpan implements model.Build.
func (b *build) TakeSpan() model.Region {
	b.span = *b.region
	return b.span
}

// List implements model.Build: Current (DB.SSTables), the files that
// overlap the span, and a "list" action. It pins nothing.
func (b *build) List() (model.Version, []*model.FileMeta) {
	v := b.r.e.Current()
	span := b.TakeSpan()
	var files []*model.FileMeta
	names := make([]string, 0, len(v.Files()))
	for _, f := range v.Files() {
		if span.Overlaps(f) {
			files = append(files, f)
			names = append(names, f.Name())
		}
	}
	b.Record(sim.ClassAction, "list", fmt.Sprintf("version %d: %d files: %s", v.ID(), len(files), strings.Join(names, " ")), "ok")
	return v, files
}

// Read implements model.Build: each file through open, then the span's
// live records at seq (the newest record of each key at or below seq, if
// it is a put).
func (b *build) Read(open func(f *model.FileMeta) ([]model.Record, error), files []*model.FileMeta, seq uint64) (model.Collected, error) {
	var all [model.NumCFs][]model.Record
	c := model.Collected{Seq: seq, Epoch: b.span.Epoch, Span: b.span}
	for _, f := range files {
		recs, err := open(f)
		if err != nil {
			return model.Collected{}, err
		}
		all[f.CF] = append(all[f.CF], recs...)
		c.Files = append(c.Files, f.Name())
	}
	for _, cf := range model.CFs {
		c.Data[cf] = visible(all[cf], &b.span, seq)
	}
	return c, nil
}

// visible reduces one column family's records to the live ones of region
// at seq, sorted by key.
func visible(records []model.Record, region *model.Region, seq uint64) []model.Record {
	sorted := append([]model.Record(nil), records...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].Key != sorted[j].Key {
			return sorted[i].Key < sorted[j].Key
		}
		return sorted[i].Seq > sorted[j].Seq
	})
	var out []model.Record
	for i := 0; i < len(sorted); {
		j := i
		var newest *model.Record
		for ; j < len(sorted) && sorted[j].Key == sorted[i].Key; j++ {
			if newest == nil && sorted[j].Seq <= seq {
				newest = &sorted[j]
			}
		}
		if newest != nil && newest.Kind == model.KindPut && region.Contains(newest.Key) {
			out = append(out, *newest)
		}
		i = j
	}
	return out
}

// Throttle implements model.Build: the snapshot I/O rate limiter as a
// virtual-time sleep of sizeBytes at Config.SnapIOBytesPerSec, during
// which the workload runs.
func (b *build) Throttle(sizeBytes int64) {
	rate := b.r.cfg.SnapIOBytesPerSec
	if sizeBytes <= 0 || rate <= 0 {
		return
	}
	d := sim.Micros(sizeBytes * int64(sim.Second) / rate)
	b.Record(sim.ClassInfo, "throttle", fmt.Sprintf("%d bytes at %d B/s", sizeBytes, rate), "wait "+d.String())
	b.actor.Sleep(d)
}

// SliceBytes implements model.Build.
func (b *build) SliceBytes(span sim.Micros) int64 {
	rate := b.r.cfg.SnapIOBytesPerSec
	if rate <= 0 {
		return 1 << 62
	}
	return max(1, rate*int64(span)/int64(sim.Second))
}

// Attempts implements model.Build.
func (b *build) Attempts() int { return b.attempts }

// SetAttempts implements model.Build.
func (b *build) SetAttempts(n int) { b.attempts = n }

// Output implements model.Build: plain files in ScratchDir, one per
// column family and round.
func (b *build) Output() model.Output { return output{fs: b.r.fs, round: b.round} }

// ScratchDir implements model.Build.
func (b *build) ScratchDir() string { return ScratchDir }
