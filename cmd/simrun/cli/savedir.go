package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/snapsim/snapsim/seeds"
	"github.com/snapsim/snapsim/sim"
)

// seedSaver writes each distinct violation of a sweep (by kind and trace
// hash) as a seed file in a directory (--save-dir), in the corpus format of
// seeds/README.md, so `simrun replay FILE` and `go test ./seeds` can replay
// it. Files are written atomically; an existing file of the same name (the
// same configuration, seed and kind) is left alone.
type seedSaver struct {
	dir   string
	sel   *selection
	seen  map[string]bool
	saved []string
}

func newSeedSaver(dir string, sel *selection) (*seedSaver, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, usagef("--save-dir: %v", err)
	}
	if err := checkDir("--save-dir", dir); err != nil {
		return nil, err
	}
	return &seedSaver{dir: dir, sel: sel, seen: map[string]bool{}}, nil
}

// save records r's first violation if its kind and trace hash are new.
func (s *seedSaver) save(r *seedResult) error {
	if !r.violated() {
		return nil
	}
	key := string(r.Kind) + "/" + r.TraceHash
	if s.seen[key] {
		return nil
	}
	s.seen[key] = true
	name := fmt.Sprintf("%s-%s-%s-%d.seed", s.sel.collector, s.sel.profile, r.Kind, r.Seed)
	p := filepath.Join(s.dir, name)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := writeFileAtomic("--save-dir", p, []byte(s.render(r)), false); err != nil {
		return err
	}
	s.saved = append(s.saved, p)
	return nil
}

// render is the seed file for r.
func (s *seedSaver) render(r *seedResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s at step %d: %s\n", r.Kind, r.Step, oneLine(r.Detail))
	fmt.Fprintf(&b, "# trace hash %s; found by simrun run, replay: %s\n", r.TraceHash, s.sel.replayLine(r.Seed))
	if s.sel.system != seeds.DefaultSystem {
		fmt.Fprintf(&b, "system %s\n", s.sel.system)
	}
	fmt.Fprintf(&b, "collector %s\n", s.sel.collector)
	fmt.Fprintf(&b, "profile %s\n", s.sel.profile)
	for _, v := range s.sel.variantNames() {
		fmt.Fprintf(&b, "variant %s\n", v)
	}
	for _, kv := range s.sel.sets {
		field, value, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&b, "set %s %s\n", field, value)
	}
	if s.sel.generators != 1 {
		fmt.Fprintf(&b, "set snap_generators %d\n", s.sel.generators)
	}
	if s.sel.gcGraceUS != 0 {
		fmt.Fprintf(&b, "set gc_grace_us %d\n", s.sel.gcGraceUS)
	}
	if s.sel.snapGCTimeoutUS != 0 {
		fmt.Fprintf(&b, "set snap_gc_timeout_us %d\n", s.sel.snapGCTimeoutUS)
	}
	if s.sel.threadChurnUS != 0 {
		fmt.Fprintf(&b, "set thread_churn_interval_us %d\n", s.sel.threadChurnUS)
	}
	if s.sel.maxSteps != sim.DefaultMaxSteps {
		fmt.Fprintf(&b, "set max_steps %d\n", s.sel.maxSteps)
	}
	if s.sel.strategy != "random" {
		fmt.Fprintf(&b, "strategy %s\n", s.sel.strategy)
	}
	fmt.Fprintf(&b, "seed %s\n", strconv.FormatUint(r.Seed, 10))
	fmt.Fprintf(&b, "expect %s\n", r.Kind)
	return b.String()
}

func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}
