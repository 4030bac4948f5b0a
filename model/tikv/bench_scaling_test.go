package tikv

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// scalingFactors are the growth factors of BenchmarkScaling.
var scalingFactors = []int{1, 10, 100}

// scalingBase is the unit of BenchmarkScaling: the default workload of the
// correct design (lease-retry: no violation ends a run early, so every run
// does the whole workload).
func scalingBase() Config { return DefaultConfig("lease-retry") }

// scalingDimension is one axis of BenchmarkScaling: grow returns the
// configuration at factor k (k = 1 is the unit).
type scalingDimension struct {
	name string
	grow func(c *Config, k int)
}

// scalingDimensions are the axes, each grown on its own from scalingBase
// (8 keys, 1 region, at most 24 puts):
//
//   - regions: k regions (Config.InitialRegions) of 8 keys each, so the key
//     space grows with them (8·k keys) and keys per region stay fixed;
//   - regions-fixed-keys: k regions over a fixed key space of 800 keys (800/k
//     keys per region), which separates the cost of more regions from the
//     cost of more keys;
//   - keys-per-region: one region of 8·k keys (Config.KeySpace);
//   - steps: at most 24·k writer operations per seed (Config.MaxPuts), which
//     drives the steps per seed.
//
// The writer's operations stay at most 24 in the first three axes, so they
// grow the state the model keeps per write (region lookup, key ranges a
// snapshot scans), not the work done.
var scalingDimensions = []scalingDimension{
	{"regions", func(c *Config, k int) { c.InitialRegions, c.KeySpace = k, 8*k }},
	{"regions-fixed-keys", func(c *Config, k int) { c.InitialRegions, c.KeySpace = k, 800 }},
	{"keys-per-region", func(c *Config, k int) { c.KeySpace = 8 * k }},
	{"steps", func(c *Config, k int) { c.MaxPuts = 24 * k }},
}

// scalingMaxSteps is the step budget of a scaling run: far above the steps a
// run of cfg takes (about 500 plus 3 to 5 per writer operation), so no run
// is cut by the budget; BenchmarkScaling fails if one is.
func scalingMaxSteps(cfg Config) int64 {
	return sim.DefaultMaxSteps + 100*int64(cfg.MaxPuts)
}

// BenchmarkScaling grows the model along each scalingDimensions axis by
// ×1, ×10 and ×100 and runs one whole seed per iteration (seeds 1..b.N),
// reporting:
//
//   - steps/s and seeds/s: simulated steps and whole seeds per second of wall
//     time (timed loop only);
//   - steps/seed: the mean steps of the seeds run;
//   - B/op (b.ReportAllocs): bytes allocated per seed, everything the run
//     allocated whether it was live for long or not (the allocation rate,
//     not a footprint);
//   - peak-live-B and end-live-B: the live heap of one simulation, from the
//     untimed pass of measureSimHeap over the first scalingMemSeeds seeds
//     (fewer if the timed loop ran fewer), means over those seeds; see
//     measureSimHeap for exactly what they are.
func BenchmarkScaling(b *testing.B) {
	for _, d := range scalingDimensions {
		for _, k := range scalingFactors {
			b.Run(fmt.Sprintf("%s/x%d", d.name, k), func(b *testing.B) {
				cfg := scalingBase()
				d.grow(&cfg, k)
				if err := cfg.Validate(); err != nil {
					b.Fatal(err)
				}
				sc := sim.Config{MaxSteps: scalingMaxSteps(cfg)}
				b.ReportAllocs()
				var seeds uint64
				var steps int64
				for b.Loop() {
					seeds++
					out, err := Run(cfg, sim.NewPRNG(seeds), sc)
					if err != nil {
						b.Fatal(err)
					}
					if out.Result.End == sim.EndBudget {
						b.Fatalf("seed %d was cut by the step budget %d: raise scalingMaxSteps", seeds, sc.MaxSteps)
					}
					steps += out.Result.Steps
				}
				secs := b.Elapsed().Seconds()
				b.ReportMetric(float64(steps)/secs, "steps/s")
				b.ReportMetric(float64(seeds)/secs, "seeds/s")
				b.ReportMetric(float64(steps)/float64(seeds), "steps/seed")

				// At most as many seeds as the timed loop ran (one under
				// -benchtime=1x): a forced GC costs milliseconds.
				memSeeds := min(seeds, scalingMemSeeds)
				var peak, end uint64
				for seed := uint64(1); seed <= memSeeds; seed++ {
					p, e := measureSimHeap(b, cfg, seed, sc)
					peak += p
					end += e
				}
				b.ReportMetric(float64(peak)/float64(memSeeds), "peak-live-B")
				b.ReportMetric(float64(end)/float64(memSeeds), "end-live-B")
			})
		}
	}
}

// scalingMemSeeds is how many seeds the heap figures of BenchmarkScaling
// average over.
const scalingMemSeeds = 3

// heapSamples is about how many live-heap samples measureSimHeap takes
// during one run.
const heapSamples = 32

// measureSimHeap measures the live heap of the simulation of seed under cfg,
// outside any timer. It returns two figures, both relative to a baseline
// taken just before the run (runtime.GC twice, so sync.Pool victims are
// gone, then runtime.MemStats.HeapAlloc):
//
//   - peak: the largest live heap seen during the run. The run's Choice is
//     wrapped so that every stride-th draw forces runtime.GC() and reads
//     HeapAlloc, which right after a forced, completed GC is the heap the GC
//     just marked reachable: everything the simulation holds at that moment
//     (both nodes' in-memory filesystems and their file contents, engines,
//     region table, snapshot manager, the scheduler, its actors and the
//     trace hash state; no retained events, KeepTrace is off). The stride is
//     set from a first, identical run that only counts draws (runs are
//     deterministic, so the second run makes the same draws) so that about
//     heapSamples samples are spread evenly over the run. It is a sampled
//     figure, so a lower bound on the true peak: a transient between two
//     samples is missed. The wrapper returns the draws unchanged, so the run
//     is the one the timed loop ran. Goroutine stacks of the actors'
//     coroutines are not heap and not counted (runtime.MemStats.StackInuse).
//   - end: the live heap once the run has finished, with the cluster kept
//     reachable (through the run hook) so that the whole end state (files
//     the run left, engines, trace state, the Outcome) is counted, but not
//     the halted coroutines. The end figure is also a candidate for the peak.
func measureSimHeap(b *testing.B, cfg Config, seed uint64, sc sim.Config) (peak, end uint64) {
	b.Helper()
	count := &countingChoice{Choice: sim.NewPRNG(seed)}
	if _, err := Run(cfg, count, sc); err != nil {
		b.Fatal(err)
	}
	base := liveHeap()
	sampler := &heapSamplingChoice{Choice: sim.NewPRNG(seed), stride: max(1, count.draws/heapSamples)}
	var keep *Cluster
	out, err := run(cfg, sampler, sc, func(rt model.Runtime) { keep = rt.(scenarioRuntime).c })
	if err != nil {
		b.Fatal(err)
	}
	endHeap := liveHeap()
	runtime.KeepAlive(keep)
	runtime.KeepAlive(&out)
	peakHeap := max(sampler.peak, endHeap)
	if peakHeap < base {
		return 0, 0
	}
	return peakHeap - base, max(endHeap, base) - base
}

// liveHeap forces two garbage collections (the second clears what sync.Pool
// victim caches kept alive through the first) and returns HeapAlloc.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// countingChoice counts the draws of a run.
type countingChoice struct {
	sim.Choice
	draws int
}

// Intn draws from the wrapped Choice and counts the draw.
func (c *countingChoice) Intn(n int) int {
	c.draws++
	return c.Choice.Intn(n)
}

// heapSamplingChoice samples the live heap every stride draws (forcing a GC)
// and keeps the largest HeapAlloc seen. It returns the wrapped Choice's
// draws unchanged.
type heapSamplingChoice struct {
	sim.Choice
	stride, draws int
	peak          uint64
	mem           runtime.MemStats
}

// Intn samples the heap every stride draws, then draws from the wrapped
// Choice.
func (c *heapSamplingChoice) Intn(n int) int {
	c.draws++
	if c.draws%c.stride == 0 {
		runtime.GC()
		runtime.ReadMemStats(&c.mem)
		c.peak = max(c.peak, c.mem.HeapAlloc)
	}
	return c.Choice.Intn(n)
}
