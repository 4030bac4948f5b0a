package tikv

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

// transientTries is the shared retry policy's tries of a transient EIO
// (model/designs).
const transientTries = 3

// retryingDesigns are the designs that share retryPolicy; unwrapping the
// designs that panic on an error, as the report's code did.
var (
	retryingDesigns  = []string{"retry", "pin", "lease-retry", "checkpoint", "scan"}
	unwrappingDesign = []string{"naive", "lease"}
)

// Every registered design is one or the other: a new design must say how
// it handles errors.
func TestEveryDesignIsRetryingOrUnwrapping(t *testing.T) {
	all := append(append([]string(nil), retryingDesigns...), unwrappingDesign...)
	assert.ElementsMatch(t, all, CollectorNames())
}

// Every retrying design handles the same I/O error the same way: with
// every open of an engine file (or of checkpoint's link to one), or every
// chunk read of it, failing with EIO, the open or the first chunk read is
// tried transientTries times in place, each attempt costs one counted
// failure, the backoffs grow alike, and the build gives up after
// MaxAttempts with the same error. The designs differ only in which path
// they open and what protects it.
func TestRetryingDesignsHandleTransientEIOAlike(t *testing.T) {
	for _, fault := range []string{"open", "read"} {
		reSpent := regexp.MustCompile(`^snapshot attempts exhausted after 3 attempts \(3 failures\): ` + map[string]string{
			"open": `open (/db/\d{6}|/snap/ckpt_snap-gen_\d+_\d+_\d{6})\.sst: input/output error$`,
			"read": `read (/db/\d{6}|/snap/ckpt_snap-gen_\d+_\d+_\d{6})\.sst at 0: read (/db/\d{6}|/snap/ckpt_snap-gen_\d+_\d+_\d{6})\.sst: input/output error$`,
		}[fault])
		for _, name := range retryingDesigns {
			t.Run(fault+"/"+name, func(t *testing.T) {
				cfg := DefaultConfig(name)
				cfg.MaxAttempts = 3
				if fault == "open" {
					cfg.FS.Faults.OpenEIOPermille = 1000
				} else {
					cfg.FS.Faults.ReadEIOPermille = 1000
				}
				w := runCollect(t, cfg, sim.Config{}, 20, nil)
				require.True(t, w.done)
				require.ErrorIs(t, w.err, model.ErrAttemptsSpent)
				assert.Regexp(t, reSpent, w.err.Error())
				assert.Equal(t, 3, w.g.attempts)
				assert.Empty(t, w.res.Observations, "an EIO is no deleted file, and nothing panics")

				retries := eventsOf(w.res.Events, "retry")
				require.Len(t, retries, 3)
				opens := eventsOf(w.res.Events, "open")
				require.Len(t, opens, 3, "one open per attempt: the attempt ends at its first lost file")
				for i, r := range retries {
					assert.Equal(t, fmt.Sprintf("attempt %d aborted (%d of 3 failures)", i+1, i+1), r.Detail)
					// The io events of this attempt: transientTries tries of
					// the failing operation on the opened path.
					from := int64(-1)
					if i > 0 {
						from = retries[i-1].Step
					}
					tries := 0
					for _, ev := range w.res.Events {
						if ev.Class == sim.ClassIO && ev.Op == fault && ev.Detail == opens[i].Detail && ev.Step > from && ev.Step <= r.Step {
							tries++
						}
					}
					assert.Equal(t, transientTries, tries, "attempt %d: %s tries of %s", i+1, fault, opens[i].Detail)
					if i > 0 {
						assert.GreaterOrEqual(t, opens[i].Time-retries[i-1].Time, cfg.Backoff*sim.Micros(i), "backoff × %d before attempt %d", i, i+1)
					}
				}
				assert.Equal(t, retries[2].Time, w.doneAt, "no backoff after the last attempt")
				checkReleased(t, w)
			})
		}
	}
}

// The designs without the policy unwrap the first EIO: one try, then the
// panic with TiKV's message.
func TestUnwrappingDesignsDoNotRetry(t *testing.T) {
	for _, name := range unwrappingDesign {
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig(name)
			cfg.FS.Faults.OpenEIOPermille = 1000
			s := sim.New(sim.NewPRNG(1), sim.Config{KeepTrace: true})
			c, err := newCluster(s, cfg, Workload{FlushThreshold: 1000, CompactTrigger: 1000})
			require.NoError(t, err)
			e := c.Leader.Engine
			e.Put("k000", "v")
			require.NoError(t, e.Flush())
			var g *Gen
			s.Spawn("snap-gen", sim.ActorOptions{Watched: true}, func(a *sim.Actor) {
				g = c.NewBuild(a, c.Regions.All()[0])
				_, _ = c.collector.Collect(g)
			})
			res := s.Run()
			p := ofKind(res.Observations, sim.KindPanic)
			require.Len(t, p, 1)
			assert.Contains(t, p[0].Detail, "open: Input/output error (os error 5)")
			tries := 0
			for _, ev := range res.Events {
				if ev.Class == sim.ClassIO && ev.Op == "open" && ev.Detail == e.Current().Files()[0].Path {
					tries++
				}
			}
			assert.Equal(t, 1, tries)
			assert.Equal(t, 1, g.attempts)
		})
	}
}
