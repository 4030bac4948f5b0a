// Package opensearch models OpenSearch #11328 (remote-backed storage): a
// replica reads the newest segment metadata file in the remote segment
// store, then downloads the segments it lists one by one; the primary,
// after each refresh uploads its new segments and a new metadata file,
// deletes the segments referenced only by metadata files older than the
// newest 10. The protection is a reservation by count, and a replica
// slower than ten refreshes outlasts it: a segment of the metadata it
// read is deleted before it is downloaded. PR 11329 made the count
// configurable; a follow-up proposes tolerating the missing file: re-read
// the newest metadata and download again.
//
// It is built with model/kit only: the primary (refreshes, merges, the
// uploads and the stale-segment cleanup, a deleter honouring a
// kit.CountReservation), the replica (a reader the oracle watches), the
// kinds metadata and segment. See README.md for what is modelled and what
// is simplified.
package opensearch

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/kit"
	"github.com/snapsim/snapsim/sim"
)

// Name is the system's name (--system opensearch, "system opensearch").
const Name = "opensearch"

// The designs: the replica's download of a missing segment before and
// after the follow-up's proposal.
const (
	// FailOnMissing downloads every segment of the metadata it read; a
	// segment the primary deleted meanwhile fails the replication (the
	// NoSuchFileException of #11328).
	FailOnMissing = "fail-on-missing"
	// RetryOnMissing treats a missing segment as stale metadata: it
	// re-reads the newest metadata file and downloads again, at most
	// max_retries times (the follow-up's proposal).
	RetryOnMissing = "retry-on-missing"
)

// VariantIgnoreRetention makes the primary's cleanup delete segments the
// newest metadata files still reference: a negative control for the
// deleter's oracle.
const VariantIgnoreRetention = "ignore-retention"

// The remote segment store and the replica's local directory.
const (
	remoteDir = "/remote/index/0/segments"
	localDir  = "/replica/index/0"
)

// The remote store's file kinds: a metadata file per refresh, and the
// segment files (one number per file, across refreshes).
var (
	Metadata = kit.Kind{Name: "metadata", Dir: remoteDir, Prefix: "metadata__"}
	Segment  = kit.Kind{Name: "segment", Dir: remoteDir, Prefix: "_", Ext: ".si"}
)

func op(name, summary string) model.Info { return model.Info{Name: name, Summary: summary} }

// System returns the OpenSearch system.
func System() *kit.System { return kit.MustNewSystem(Definition()) }

// Definition is the system's definition.
func Definition() kit.Definition {
	return kit.Definition{
		Name:    Name,
		Summary: "OpenSearch #11328: a replica reads the newest remote metadata file and downloads its segments; the primary deletes segments referenced only by metadata older than the newest metadata_keep",
		Designs: []model.Info{
			{Name: FailOnMissing, Summary: "the replica downloads every segment of the metadata it read; a deleted one fails the replication (#11328)"},
			{Name: RetryOnMissing, Summary: "a missing segment means the metadata went stale: re-read the newest metadata and download again, up to max_retries (the follow-up's proposal)"},
		},
		DefaultDesign: RetryOnMissing,
		Variants:      []model.Info{{Name: VariantIgnoreRetention, Summary: "the primary's cleanup deletes segments the newest metadata files reference (a negative control)"}},
		Settings: []kit.Setting{
			{Name: "metadata_keep", Summary: "metadata files whose segments the cleanup keeps (10 before PR 11329; configurable after it)", Default: 10, Min: 1, Max: 1000},
			{Name: "refreshes", Summary: "refreshes the primary uploads after the first", Default: 30, Min: 1, Max: 200},
			{Name: "refresh_interval_us", Summary: "pause before each refresh", Default: 1000, Min: 1, Max: 1e9},
			{Name: "max_segments", Summary: "a refresh that leaves more segments than this merges them all into one", Default: 4, Min: 1, Max: 50},
			{Name: "segment_kib", Summary: "each segment file's size", Default: 8, Min: 1, Max: 1024},
			{Name: "syncs", Summary: "replications the replica runs", Default: 4, Min: 1, Max: 50},
			{Name: "poll_interval_us", Summary: "the replica's pause before each replication", Default: 2000, Min: 1, Max: 1e9},
			{Name: "max_download_delay_us", Summary: "the replica's delay after each downloaded segment is drawn in 0..this (a slow replica)", Default: 12000, Min: 0, Max: 1e9},
			{Name: "max_retries", Summary: "re-reads of the newest metadata in one replication before it fails (retry-on-missing)", Default: 10, Min: 0, Max: 1000},
		},
		Groups: []string{"primary", "replica"}, GroupWord: "NODE",
		Actors: actors,
		Setup:  setup,
	}
}

func actors(kit.Config) []kit.Actor {
	fp := kit.Declared()
	return []kit.Actor{
		{Name: "primary", Summary: "the primary shard: each refresh uploads its new segments and a metadata file, then deletes segments referenced only by metadata older than the newest metadata_keep", FS: true, Group: "primary", Footprint: fp,
			Ops: append([]model.Info{op("refresh", "a refresh uploaded (and merged, past max_segments)"), op("cleanup", "the stale-segment cleanup after an upload")}, kit.DeleterOps...)},
		{Name: "replica", Summary: "a replica: reads the newest metadata file and downloads the segments it lists (watched by the oracle)", FS: true, Watched: true, Group: "replica", Footprint: fp,
			Ops: []model.Info{op("list", "the newest metadata file read"), op("download", "a segment downloaded"), op("retry", "a segment was missing: the newest metadata is read again"), op("sync", "a replication done or failed")}},
	}
}

// shard is one run's state.
type shard struct {
	w   *kit.World
	cfg kit.Config
	// segments is the primary's current segment set, nextSeg numbers
	// segment files, gen the newest metadata generation.
	segments *kit.Var[[]string]
	nextSeg  *kit.Var[uint64]
	gen      *kit.Var[uint64]
	// retention is the count reservation the cleanup honours; del the
	// cleanup's deleter.
	retention *kit.CountReservation
	del       *kit.Deleter
	// done, failed, retries are the replica's counts for the summary.
	done, failed, retries int
}

func setup(w *kit.World, cfg kit.Config) error {
	for _, d := range []string{remoteDir, localDir} {
		if err := w.MkdirAll(d); err != nil {
			return err
		}
	}
	s := &shard{w: w, cfg: cfg, retention: kit.NewCountReservation(w, "metadata retention", int(cfg.Int("metadata_keep")))}
	s.segments = kit.NewVar(w, "segments", []string(nil))
	s.nextSeg = kit.NewVar(w, "next-segment", uint64(0))
	s.gen = kit.NewVar(w, "generation", uint64(0))
	honours, ignores := []kit.Protection{s.retention}, []kit.Protection(nil)
	if cfg.Variant(VariantIgnoreRetention) {
		honours, ignores = nil, []kit.Protection{s.retention}
	}
	s.del = kit.NewDeleter(w, "cleanup", honours, ignores)
	for range 2 {
		if err := s.writeSegment(); err != nil {
			return err
		}
	}
	if err := s.upload(); err != nil {
		return err
	}
	w.Spawn("primary", s.primaryLoop)
	w.Spawn("replica", s.replicaLoop)
	return nil
}

// writeSegment uploads one new segment file and adds it to the segment
// set.
func (s *shard) writeSegment() error {
	n := s.nextSeg.Get()
	s.nextSeg.Set(n + 1)
	p := Segment.Path(n)
	if err := kit.WriteFile(s.w.FS(), p, make([]byte, s.cfg.Int("segment_kib")*1024)); err != nil {
		return err
	}
	s.segments.Set(append(slices.Clone(s.segments.Get()), p))
	return nil
}

// upload writes the next metadata file, listing the current segments, and
// records its generation with the retention.
func (s *shard) upload() error {
	g := s.gen.Get() + 1
	segs := s.segments.Get()
	p := Metadata.Path(g)
	if err := kit.WriteFile(s.w.FS(), p, []byte(strings.Join(segs, "\n"))); err != nil {
		return err
	}
	s.gen.Set(g)
	s.retention.Add(g, append(slices.Clone(segs), p))
	return nil
}

// primaryLoop refreshes: a new segment, or, when that would leave more
// than max_segments, one merged segment replacing them all; then the
// metadata file, then the cleanup.
func (s *shard) primaryLoop(a *sim.Actor) {
	for i := int64(0); i < s.cfg.Int("refreshes"); i++ {
		a.Sleep(s.cfg.Micros("refresh_interval_us"))
		merged := ""
		if old := s.segments.Get(); int64(len(old)+1) > s.cfg.Int("max_segments") {
			s.segments.Set(nil)
			merged = fmt.Sprintf(" (merged %d segments and the refresh's into one)", len(old))
		}
		err := s.writeSegment()
		if err == nil {
			err = s.upload()
		}
		if err != nil {
			s.w.Record(sim.ClassAction, "refresh", fmt.Sprintf("generation %d", s.gen.Get()+1), "failed: "+err.Error())
			continue
		}
		s.w.Record(sim.ClassAction, "refresh", fmt.Sprintf("metadata %d: %s%s", s.gen.Get(), strings.Join(s.segments.Get(), " "), merged), "ok")
		s.cleanup()
	}
}

// cleanup is RemoteSegmentStoreDirectory's stale-segment deletion after an
// upload: every metadata file older than the newest metadata_keep, and
// every segment no kept metadata file references, is deleted (the deleter
// re-checks the retention in the removal's own step).
func (s *shard) cleanup() {
	var stale []string
	for _, k := range []kit.Kind{Segment, Metadata} {
		files, err := kit.List(s.w.FS(), k)
		if err != nil {
			s.w.Record(sim.ClassAction, "cleanup", "", "failed: "+err.Error())
			return
		}
		for _, f := range files {
			if s.stale(k, f) {
				stale = append(stale, f)
			}
		}
	}
	deleted := 0
	for _, f := range stale {
		if ok, _ := s.del.Delete(f, fmt.Sprintf("referenced only by metadata older than the newest %d", s.cfg.Int("metadata_keep"))); ok {
			deleted++
		}
	}
	s.w.Record(sim.ClassAction, "cleanup", fmt.Sprintf("kept generations %v", s.retention.Newest()), fmt.Sprintf("%d deleted", deleted))
}

// stale reports whether the cleanup deletes f, of kind k: a metadata file
// older than the newest metadata_keep, or a segment no kept metadata file
// references (with ignore-retention: any segment not in the current set).
func (s *shard) stale(k kit.Kind, f string) bool {
	if k.Name == Metadata.Name {
		gen, _ := Metadata.Gen(f)
		return !s.retention.Kept(gen)
	}
	if s.cfg.Variant(VariantIgnoreRetention) {
		return !slices.Contains(s.segments.Get(), f)
	}
	_, _, kept := kit.Protected([]kit.Protection{s.retention}, f)
	return !kept
}

// replicaLoop polls and replicates.
func (s *shard) replicaLoop(a *sim.Actor) {
	var local uint64
	for i := int64(0); i < s.cfg.Int("syncs"); i++ {
		a.Sleep(s.cfg.Micros("poll_interval_us"))
		local = s.sync(a, local)
	}
	s.w.Summarize("replications: %d done, %d failed, %d retries", s.done, s.failed, s.retries)
}

// errMissing is a segment the remote store no longer has.
var errMissing = errors.New("segment missing from the remote store")

// sync replicates the newest metadata generation if it is newer than
// local, and returns the generation the replica has afterwards.
func (s *shard) sync(a *sim.Actor, local uint64) uint64 {
	for attempt := int64(0); attempt <= s.cfg.Int("max_retries"); attempt++ {
		gen, segs, err := s.readNewest()
		if err != nil {
			s.failed++
			s.w.Record(sim.ClassAction, "sync", "", "failed: "+err.Error())
			return local
		}
		if gen <= local {
			return local
		}
		err = s.download(a, segs)
		if err == nil {
			s.done++
			s.w.Record(sim.ClassAction, "sync", fmt.Sprintf("metadata %d", gen), "ok")
			return gen
		}
		if !errors.Is(err, errMissing) || s.cfg.Design != RetryOnMissing {
			s.failed++
			s.w.Record(sim.ClassAction, "sync", fmt.Sprintf("metadata %d", gen), "failed: "+err.Error())
			return local
		}
		s.retries++
		s.w.Record(sim.ClassAction, "retry", fmt.Sprintf("metadata %d is stale", gen), err.Error())
	}
	// The replication gives up: the replica stays behind (a liveness
	// failure, as a build that spends its attempts is in the TiKV model).
	s.failed++
	s.w.Record(sim.ClassAction, "sync", "", "failed: retries spent")
	s.w.Observe(sim.KindLiveness, fmt.Sprintf("replication gave up after %d re-reads of the newest metadata", s.cfg.Int("max_retries")))
	return local
}

// readNewest lists the metadata files and reads the newest: its
// generation and the segments it lists.
func (s *shard) readNewest() (uint64, []string, error) {
	files, err := kit.List(s.w.FS(), Metadata)
	if err != nil {
		return 0, nil, err
	}
	if len(files) == 0 {
		return 0, nil, fmt.Errorf("no metadata file in %s", remoteDir)
	}
	newest := files[len(files)-1]
	gen, _ := Metadata.Gen(newest)
	data, err := kit.ReadFile(s.w.FS(), newest)
	if err != nil {
		return 0, nil, fmt.Errorf("read %s: %w", newest, err)
	}
	segs := strings.Split(string(data), "\n")
	s.w.Record(sim.ClassAction, "list", fmt.Sprintf("metadata %d: %s", gen, strings.Join(segs, " ")), "ok")
	return gen, segs, nil
}

// download copies each listed segment the replica does not have yet,
// each followed by the replica's own delay. retry-on-missing opens a
// segment expecting that it may be gone (the oracle does not flag it: the
// design handles it); fail-on-missing opens it as the incident's code did.
func (s *shard) download(a *sim.Actor, segs []string) error {
	fs := s.w.FS()
	for _, seg := range segs {
		local := localDir + "/" + strings.TrimPrefix(seg, remoteDir+"/")
		if _, err := fs.Stat(local); err == nil {
			continue
		}
		var data []byte
		var err error
		if s.cfg.Design == RetryOnMissing {
			data, err = readExpectMissing(s.w, seg)
		} else {
			data, err = kit.ReadFile(fs, seg)
		}
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: %s", errMissing, seg)
		}
		if err != nil {
			return fmt.Errorf("download %s: %w", seg, err)
		}
		if err := kit.WriteFile(fs, local, data); err != nil {
			return err
		}
		s.w.Record(sim.ClassAction, "download", seg, "ok")
		if d := s.cfg.Int("max_download_delay_us"); d > 0 {
			a.Sleep(sim.Micros(s.w.Scheduler().Intn(int(d) + 1)))
		}
	}
	return nil
}

// readExpectMissing reads p whole, opened as a caller that handles a
// missing file (vfsmem's OpenExpectMissing).
func readExpectMissing(w *kit.World, p string) ([]byte, error) {
	f, err := w.FS().OpenExpectMissing(p)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", p, err)
	}
	buf := make([]byte, info.Size())
	if _, err := f.ReadAt(buf, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return buf, nil
}
