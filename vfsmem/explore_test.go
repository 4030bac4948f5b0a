package vfsmem_test

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/snapsim/snapsim/sim"
	"github.com/snapsim/snapsim/vfsmem"
)

// fsOp is one filesystem operation of a random program: c(reate) w(rite
// into an open handle) r(ead through a handle opened earlier) o(pen and
// read) x (remove) m(ove: rename) l(ink) s(tat) d (list the directory)
// y (sync a file) p (sync the directory).
type fsOp struct {
	kind byte
	a, b int
}

func randomFSProgram(seed uint64) [][]fsOp {
	p := sim.NewPRNG(seed)
	prog := make([][]fsOp, 2+p.Intn(2))
	for i := range prog {
		for k := 2 + p.Intn(3); k > 0; k-- {
			kinds := "ccwroxmlsdyp"
			prog[i] = append(prog[i], fsOp{kinds[p.Intn(len(kinds))], p.Intn(3), p.Intn(3)})
		}
	}
	return prog
}

// fsProgram runs a random program with every actor declaring that its own
// code touches nothing (the filesystem records its own footprints); each
// complete execution's outcome (the files left and what every actor saw)
// is counted in outcomes.
func fsProgram(ops [][]fsOp, outcomes map[string]int) sim.Program {
	return func(ch sim.Choice, cfg sim.Config) (sim.Result, error) {
		s := sim.New(ch, cfg)
		fs := vfsmem.New(s, vfsmem.DefaultOptions())
		if err := fs.MkdirAll("/d", 0o755); err != nil {
			return sim.Result{}, err
		}
		name := func(i int) string { return fmt.Sprintf("/d/f%d", i) }
		seen := make([]strings.Builder, len(ops))
		for i, list := range ops {
			i, list := i, list
			s.Spawn(fmt.Sprint("a", i), sim.ActorOptions{Footprint: sim.NewFootprint(), Daemon: i > 0}, func(a *sim.Actor) {
				var h interface {
					io.ReadWriter
					Sync() error
				}
				note := func(format string, args ...any) { fmt.Fprintf(&seen[i], format+"; ", args...) }
				for _, op := range list {
					switch op.kind {
					case 'c':
						f, err := fs.Create(name(op.a))
						note("create %d %v", op.a, err)
						if err == nil {
							h = f
						}
					case 'w':
						if h != nil {
							_, err := h.Write([]byte{byte('A' + i)})
							note("write %v", err)
						}
					case 'r':
						if h != nil {
							buf := make([]byte, 8)
							n, err := h.Read(buf)
							note("read %q %v", buf[:n], err)
						}
					case 'o':
						f, err := fs.Open(name(op.a))
						if err == nil {
							b, _ := io.ReadAll(f)
							note("open %d %q", op.a, b)
							h = f
						} else {
							note("open %d failed", op.a)
						}
					case 'x':
						note("remove %d %v", op.a, fs.Remove(name(op.a)) == nil)
					case 'm':
						note("rename %d %d %v", op.a, op.b, fs.Rename(name(op.a), name(op.b)) == nil)
					case 'l':
						note("link %d %d %v", op.a, op.b, fs.Link(name(op.a), name(op.b)) == nil)
					case 's':
						fi, err := fs.Stat(name(op.a))
						if err == nil {
							note("stat %d %d", op.a, fi.Size())
						} else {
							note("stat %d failed", op.a)
						}
					case 'd':
						names, _ := fs.List("/d")
						note("list %v", names)
					case 'y':
						if h != nil {
							note("sync %v", h.Sync())
						}
					case 'p':
						d, err := fs.OpenDir("/d")
						if err == nil {
							note("dirsync %v", d.Sync())
						}
					}
				}
			})
		}
		res := s.Run()
		if outcomes != nil && res.End != sim.EndStopped {
			names, _ := fs.Mem().List("/d")
			sort.Strings(names)
			var out strings.Builder
			for _, n := range names {
				f, err := fs.Mem().Open("/d/" + n)
				if err == nil {
					b, _ := io.ReadAll(f)
					fmt.Fprintf(&out, "%s=%q ", n, b)
				}
			}
			for i := range seen {
				out.WriteString("| " + seen[i].String())
			}
			outcomes[out.String()]++
		}
		return res, nil
	}
}

// TestExploreFilesystemFootprints: the footprints vfsmem records are
// complete enough that the reduced exploration of random file programs
// reaches every outcome plain DFS reaches, and precise enough that it
// prunes.
func TestExploreFilesystemFootprints(t *testing.T) {
	pruned := int64(0)
	for seed := uint64(1); seed <= 300; seed++ {
		ops := randomFSProgram(seed)
		for k := 0; k <= 2; k++ {
			b := sim.Bounds{Delays: k, MaxSteps: 500, Width: sim.DefaultWidth}
			plain, reduced := map[string]int{}, map[string]int{}
			run := func(prog sim.Program, noRed bool) sim.Verdict {
				ex, err := sim.Explore(prog, sim.Options{Bounds: b, NoReduction: noRed})
				if err != nil {
					t.Fatal(err)
				}
				v, err := sim.Conclude([]*sim.Exploration{ex})
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			vp := run(fsProgram(ops, plain), true)
			vr := run(fsProgram(ops, reduced), false)
			if vp.Outcome != sim.OutcomeVerified || vr.Outcome != sim.OutcomeVerified {
				t.Fatalf("seed %d K=%d: %s / %s", seed, k, vp.Outcome, vr.Outcome)
			}
			for o := range plain {
				if reduced[o] == 0 {
					t.Fatalf("seed %d K=%d %v: the reduced exploration (%d executions) never reached\n%s\nwhich plain DFS (%d executions) did",
						seed, k, ops, vr.Counts.Executions, o, vp.Counts.Executions)
				}
			}
			pruned += vr.Counts.Pruned
		}
	}
	if pruned == 0 {
		t.Fatal("nothing was pruned: the filesystem's footprints make every step conflict")
	}
}
