package realpebble

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/model/designs"
	"github.com/snapsim/snapsim/sim"
)

// design returns the built-in design named name.
func design(t *testing.T, name string) model.Design {
	t.Helper()
	for _, d := range designs.All() {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no built-in design %q", name)
	return model.Design{}
}

// run runs d over real Pebble with DefaultConfig at seed and rounds.
func run(t *testing.T, d model.Design, seed uint64, rounds int) Report {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Seed, cfg.Rounds = seed, rounds
	rep, err := Run(d, cfg)
	if err != nil {
		t.Fatalf("Run(%s, seed %d): %v", d.Name, seed, err)
	}
	if len(rep.Rounds) != rounds {
		t.Fatalf("%s seed %d: %d rounds reported, want %d", d.Name, seed, len(rep.Rounds), rounds)
	}
	if n := rep.Count("unfinished") + rep.Count("not started"); n > 0 {
		t.Fatalf("%s seed %d: %d rounds unfinished or not started (kernel end %s after %d steps)\n%s", d.Name, seed, n, rep.Kernel.End, rep.Kernel.Steps, rep)
	}
	return rep
}

// TestNaiveHitsENOENT: naive, unchanged, over real Pebble: a file it
// listed is compacted away and deleted by Pebble's cleaner before the
// open, which fails with ENOENT, and the design panics with TiKV's
// message. Every round, at every seed tried.
func TestNaiveHitsENOENT(t *testing.T) {
	d := design(t, "naive")
	for seed := uint64(1); seed <= 3; seed++ {
		rep := run(t, d, seed, 4)
		for _, x := range rep.Rounds {
			if x.Outcome != "panic" || !strings.Contains(x.Detail, "open: No such file or directory (os error 2)") {
				t.Errorf("seed %d round %d: %s %q, want a panic with TiKV's ENOENT message\n%s", seed, x.N, x.Outcome, x.Detail, rep)
			}
			if len(x.ENOENTs) != 1 || !strings.HasPrefix(x.ENOENTs[0].Path, DBDir+"/") || !strings.HasSuffix(x.ENOENTs[0].Path, ".sst") {
				t.Errorf("seed %d round %d: ENOENT opens %v, want one open of an SST in %s", seed, x.N, x.ENOENTs, DBDir)
			}
		}
		if rep.Workload.Compactions == 0 {
			t.Errorf("seed %d: no compaction ran", seed)
		}
	}
}

// TestPinNeverFails: pin, unchanged: the version it lists is referenced
// by an open pebble.Iterator for the whole build, so no listed file is
// deleted, however many compactions run; and what it collects is exactly
// what Pebble's own iterator reads.
func TestPinNeverFails(t *testing.T) {
	d := design(t, "pin")
	for seed := uint64(1); seed <= 2; seed++ {
		rep := run(t, d, seed, 8)
		if len(rep.ENOENTs) != 0 {
			t.Errorf("seed %d: %d ENOENT opens, want none: %v", seed, len(rep.ENOENTs), rep.ENOENTs)
		}
		for _, x := range rep.Rounds {
			if x.Outcome != "ok" || !x.Matches || x.Attempts != 1 || x.Keys != DefaultConfig().Keys {
				t.Errorf("seed %d round %d: %s, attempts %d, %d keys, matches %v %s; want ok at the first attempt with every key, matching Pebble", seed, x.N, x.Outcome, x.Attempts, x.Keys, x.Matches, x.Detail)
			}
		}
		// The pin was under pressure: compactions made listed files
		// obsolete while the build held them.
		if rep.Workload.Compactions < 8 {
			t.Errorf("seed %d: %d compactions during 8 pinned builds, want at least 8", seed, rep.Workload.Compactions)
		}
	}
}

// TestPinReleasedEarlyIsCaught is the negative control of
// TestPinNeverFails: the same design but the reference is dropped right
// after it is taken, before the opens. Pebble then deletes the listed
// files and the opens fail, so the pin test above is not vacuous: it is
// the iterator that keeps the files.
func TestPinReleasedEarlyIsCaught(t *testing.T) {
	rep := run(t, pinReleasedEarly(), 1, 4)
	if len(rep.ENOENTs) == 0 || rep.Count("ok") == len(rep.Rounds) {
		t.Fatalf("a reference dropped before the opens went unnoticed: %d ENOENTs, %d of %d rounds ok\n%s", len(rep.ENOENTs), rep.Count("ok"), len(rep.Rounds), rep)
	}
}

// pinReleasedEarly is pin with the reference dropped before the opens (a
// design written against model only, as a user's would be).
func pinReleasedEarly() model.Design {
	return model.Design{
		Name:  "pin-released-early",
		Needs: model.NeedPins,
		New: func(model.DesignConfig) model.Collector {
			return collectorFunc(func(b model.Build) (model.Collected, error) {
				e := b.Engine().(model.Pinner)
				b.SetAttempts(1)
				id, seq := e.TakeSnapshot()
				defer e.ReleaseSnapshot(id)
				v, files := b.List()
				e.Ref(v)
				e.Unref(v)
				b.Actor().Yield()
				return b.Read(func(f *model.FileMeta) ([]model.Record, error) {
					b.Throttle(f.SizeBytes)
					h, err := b.FS().Open(f.Path)
					if err != nil {
						return nil, err
					}
					return e.ReadFile(h, f, 1)
				}, files, seq)
			})
		},
	}
}

type collectorFunc func(model.Build) (model.Collected, error)

func (f collectorFunc) Collect(b model.Build) (model.Collected, error) { return f(b) }

// TestRetrySurvivesButLoses: retry, unchanged, meets the same ENOENTs as
// naive but never panics: each lost file discards the attempt.
func TestRetrySurvivesButLoses(t *testing.T) {
	rep := run(t, design(t, "retry"), 1, 3)
	if rep.Count("panic") != 0 {
		t.Errorf("retry panicked:\n%s", rep)
	}
	if len(rep.ENOENTs) == 0 {
		t.Errorf("retry met no ENOENT under this compaction rate; the workload is not exercising it:\n%s", rep)
	}
	for _, x := range rep.Rounds {
		if x.Outcome == "error" && !strings.Contains(x.Detail, model.ErrAttemptsSpent.Error()) {
			t.Errorf("round %d: error %q, want one wrapping %q", x.N, x.Detail, model.ErrAttemptsSpent)
		}
		if x.Outcome == "ok" && !x.Matches {
			t.Errorf("round %d: collected data differs from Pebble's: %s", x.N, x.Detail)
		}
	}
}

// TestScanReadsWhatPebbleReads: scan, unchanged, pins per column family
// with an iterator, writes its files through Output, and collects exactly
// Pebble's view.
func TestScanReadsWhatPebbleReads(t *testing.T) {
	rep := run(t, design(t, "scan"), 1, 4)
	if len(rep.ENOENTs) != 0 {
		t.Errorf("scan met ENOENTs: %v", rep.ENOENTs)
	}
	// Its Output: one file per column family and round, nothing temporary.
	if want := 4 * 3; len(rep.Scratch) != want || !strings.HasSuffix(rep.Scratch[0], ".kv") {
		t.Errorf("left in %s: %v, want %d .kv files", ScratchDir, rep.Scratch, want)
	}
	for _, x := range rep.Rounds {
		if x.Outcome != "ok" || !x.Matches {
			t.Errorf("round %d: %s, matches %v: %s", x.N, x.Outcome, x.Matches, x.Detail)
		}
	}
}

// scanSeeds are seeds and rounds at which scan, given an engine snapshot
// that does not protect its sequence number, collects other data than
// Pebble's (TestScanSnapshotControl).
var scanSeeds = []struct {
	seed   uint64
	rounds int
}{{17, 3}, {25, 3}, {37, 8}, {40, 3}}

// TestScanSnapshotControl: scan yields between its engine snapshot and
// each column family's iterator, so the workload flushes and compacts in
// between. The engine snapshot must be a pebble.Snapshot at the flushed
// sequence number scan reduces at: then scan collects Pebble's data at
// these seeds. The negative control takes the snapshot at the newest write
// instead (a fresh DB.NewSnapshot): compaction may then keep only a newer
// version of a key and zero its sequence number (maybeZeroSeqnum), scan
// takes it, and the check against Pebble's iterator must catch it.
func TestScanSnapshotControl(t *testing.T) {
	caught := 0
	for _, c := range scanSeeds {
		for _, control := range []bool{false, true} {
			cfg := DefaultConfig()
			cfg.Seed, cfg.Rounds, cfg.snapshotAtNewestWrite = c.seed, c.rounds, control
			rep, err := Run(design(t, "scan"), cfg)
			if err != nil {
				t.Fatalf("seed %d: %v", c.seed, err)
			}
			wrong := rep.Count("ok") - matching(rep)
			switch {
			case !control && (wrong > 0 || rep.Count("ok") != c.rounds):
				t.Errorf("seed %d: %d of %d rounds ok, %d of them with other data than Pebble's\n%s", c.seed, rep.Count("ok"), c.rounds, wrong, rep)
			case control:
				caught += wrong
			}
		}
	}
	if caught == 0 {
		t.Errorf("the negative control (snapshot at the newest write) went unnoticed at every seed")
	}
	t.Logf("negative control caught in %d rounds", caught)
}

// matching counts the rounds whose data matched Pebble's.
func matching(rep Report) int {
	n := 0
	for _, x := range rep.Rounds {
		if x.Matches {
			n++
		}
	}
	return n
}

// TestRefused: a design that needs what Pebble v1.1.5 lacks is refused
// before anything runs, naming the design, the capability and why.
func TestRefused(t *testing.T) {
	cases := []struct {
		name    string
		missing model.Needs
		want    []string
	}{
		{"lease", model.NeedLeases, []string{
			"realpebble: design lease needs file leases (model.Leaser), which engine pebble v1.1.5 does not have: ",
			"Pebble v1.1.5 has no file leases",
			"read_state.go",
		}},
		{"lease-retry", model.NeedLeases | model.NeedCheckedOpen, []string{
			"realpebble: design lease-retry needs file leases (model.Leaser), an open atomic with a check (model.CheckedOpener), which engine pebble v1.1.5 does not have: ",
			"Pebble v1.1.5 has no file leases",
			"a check and an open in one step exist only on the kernel's vfsmem",
		}},
		{"checkpoint", model.NeedDeletionHold, []string{
			"realpebble: design checkpoint needs a disable-deletions counter (model.DeletionHolder), which engine pebble v1.1.5 does not have: ",
			"disable-deletions counter is unexported (disableFileDeletions and enableFileDeletions in compaction.go",
		}},
	}
	for _, c := range cases {
		_, err := Run(design(t, c.name), DefaultConfig())
		var re *RefusedError
		if !errors.As(err, &re) {
			t.Fatalf("%s: Run returned %v, want a *RefusedError", c.name, err)
		}
		if re.Design != c.name || re.Missing != c.missing {
			t.Errorf("%s: refused %s for %s, want %s for %s", c.name, re.Design, re.Missing, c.name, c.missing)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
	}
	// Negative control: what the adapter has is not refused.
	for _, name := range []string{"naive", "retry", "pin", "scan"} {
		e, err := Open(1 << 10)
		if err != nil {
			t.Fatal(err)
		}
		if err := Check(design(t, name), e, NewFS(e.VFS(), nil)); err != nil {
			t.Errorf("%s refused: %v", name, err)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSameSeedSameRun: with deletions settled inside each step, a run is
// a function of its seed: twice the same seed gives the same trace hash
// and the same report; another seed another trace.
func TestSameSeedSameRun(t *testing.T) {
	a := run(t, design(t, "naive"), 7, 3)
	b := run(t, design(t, "naive"), 7, 3)
	if a.Kernel.TraceHash != b.Kernel.TraceHash || fmt.Sprint(a.Rounds) != fmt.Sprint(b.Rounds) {
		t.Fatalf("seed 7 twice: traces %016x and %016x\n%s\n%s", a.Kernel.TraceHash, b.Kernel.TraceHash, a, b)
	}
	c := run(t, design(t, "naive"), 8, 3)
	if c.Kernel.TraceHash == a.Kernel.TraceHash {
		t.Fatalf("seeds 7 and 8 gave one trace %016x: the seed does not reach the run", a.Kernel.TraceHash)
	}
}

// TestReadFileDecodesPebbleTables: ReadFile on a table Pebble wrote
// returns its records with Pebble's sequence numbers and kinds.
func TestReadFileDecodesPebbleTables(t *testing.T) {
	e, err := Open(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	for _, step := range []func() error{
		func() error { return e.Put("a", "1") },
		func() error { return e.Put("b", "2") },
		func() error { return e.Delete("a") },
		e.Flush,
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	files := e.Current().Files()
	if len(files) != 1 || files[0].Level != 0 || files[0].Smallest != "a" || files[0].Largest != "b" {
		t.Fatalf("after one flush: %+v, want one L0 file [a, b]", files)
	}
	fs := NewFS(e.VFS(), nil)
	h, err := fs.Open(files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := e.ReadFile(h, files[0], 1)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(recs)
	// Pebble numbers writes from 10 (base.SeqNumStart); a flush keeps the
	// tombstone and drops the put it shadows (no snapshot needs it).
	if want := "[a@12 del b@11=2]"; got != want {
		t.Fatalf("records %s, want %s", got, want)
	}
	if id, seq := e.TakeSnapshot(); seq != 12 {
		t.Fatalf("snapshot %d at seq %d, want the flushed seq 12", id, seq)
	} else {
		e.ReleaseSnapshot(id)
	}
}

// TestRefHoldsFilesUnrefLetsGo: a reference keeps a compacted-away file on
// disk; closing it lets Pebble delete the file, within the Unref.
func TestRefHoldsFilesUnrefLetsGo(t *testing.T) {
	e, err := Open(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	for i := 0; i < 2; i++ {
		if err := e.Put("k", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	v := e.Current()
	if len(v.Files()) != 2 {
		t.Fatalf("%d files, want 2 L0 files", len(v.Files()))
	}
	e.Ref(v)
	if v.Refs() != 1 {
		t.Fatalf("refs %d after Ref, want 1", v.Refs())
	}
	if err := e.Compact("a", "z"); err != nil {
		t.Fatal(err)
	}
	fs := NewFS(e.VFS(), nil)
	for _, f := range v.Files() {
		if e.Current().Contains(f.Num) {
			t.Fatalf("file %s still current after the compaction", f.Name())
		}
		h, err := fs.Open(f.Path)
		if err != nil {
			t.Fatalf("referenced file %s gone: %v", f.Name(), err)
		}
		_ = h.Close()
	}
	e.Unref(v)
	for _, f := range v.Files() {
		if _, err := fs.Open(f.Path); !isNotExist(err) {
			t.Fatalf("open of %s after Unref: %v, want ENOENT", f.Name(), err)
		}
	}
	if n := len(fs.ENOENTs()); n != len(v.Files()) {
		t.Fatalf("FS logged %d ENOENTs, want %d", n, len(v.Files()))
	}
}

// TestConfigValidate names the field that cannot work.
func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		set  func(*Config)
		want string
	}{
		{func(c *Config) { c.Rounds = 0 }, "Rounds 0"},
		{func(c *Config) { c.Keys = 0 }, "Keys 0"},
		{func(c *Config) { c.OpIntervalUs = 0 }, "OpIntervalUs 0"},
		{func(c *Config) { c.Start, c.End = "k9", "k1" }, "End must be after Start"},
		{func(c *Config) { c.Design.MaxAttempts = 0 }, "Design.MaxAttempts 0"},
	} {
		cfg := DefaultConfig()
		c.set(&cfg)
		_, err := Run(design(t, "naive"), cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Run: %v, want an error naming %q", err, c.want)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig: %v", err)
	}
}

// TestCheckpointDesign: the checkpoint design as Pebble allows it
// (DB.Checkpoint in the listing's step, reads through the links) never
// loses a file and collects Pebble's view; the checkpoint directories are
// gone afterwards.
func TestCheckpointDesign(t *testing.T) {
	rep := run(t, CheckpointDesign(), 1, 6)
	if len(rep.ENOENTs) != 0 {
		t.Errorf("ENOENTs: %v", rep.ENOENTs)
	}
	for _, x := range rep.Rounds {
		if x.Outcome != "ok" || !x.Matches || len(x.Files) == 0 {
			t.Errorf("round %d: %s, %d files, matches %v: %s", x.N, x.Outcome, len(x.Files), x.Matches, x.Detail)
		}
	}
	if len(rep.Scratch) != 0 {
		t.Errorf("left in %s: %v, want nothing", ScratchDir, rep.Scratch)
	}
}

// TestBudgetEndsRunCleanly: a run the step budget ends reports the round
// in progress as unfinished and the rest as not started, and the halted
// design's deferred releases still run (Close finds no reference or
// snapshot left, or Run would fail).
func TestBudgetEndsRunCleanly(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxSteps, cfg.Rounds = 60, 3
	rep, err := Run(design(t, "pin"), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := []string{rep.Rounds[0].Outcome, rep.Rounds[1].Outcome, rep.Rounds[2].Outcome}
	if rep.Kernel.End != sim.EndBudget || fmt.Sprint(got) != "[unfinished not started not started]" || rep.Rounds[0].Attempts != 1 {
		t.Fatalf("end %s, outcomes %v, attempts %d; want budget, [unfinished not started not started], 1\n%s", rep.Kernel.End, got, rep.Rounds[0].Attempts, rep)
	}
}

// TestRefOfAStaleVersionPanics: Ref must be called in the step that got
// the version from Current (an iterator references the version current
// when it opens, which may be another); the adapter refuses a version
// that is no longer the one Current returned last.
func TestRefOfAStaleVersionPanics(t *testing.T) {
	e, err := Open(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}()
	stale := e.Current()
	if err := e.Put("k", "v"); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if cur := e.Current(); cur.ID() == stale.ID() {
		t.Fatalf("a flush left the version at %d", cur.ID())
	}
	defer func() {
		r := recover()
		if msg, _ := r.(string); !strings.Contains(msg, "realpebble: Ref of version 1, which is not the version Current returned last") {
			t.Fatalf("recovered %v, want the adapter's refusal of a stale version", r)
		}
		if stale.Refs() != 0 {
			t.Fatalf("refs %d after a refused Ref", stale.Refs())
		}
	}()
	e.Ref(stale)
}
