package properties

import (
	"testing"

	"github.com/snapsim/snapsim/model/tikv"
	"github.com/snapsim/snapsim/sim"
)

// byteChoice draws every decision of a run from fuzz bytes: each Intn
// consumes two bytes (little endian) reduced modulo n; past the end every
// draw is 0 (the "simplest" choice), so any input is a complete, valid run.
// (rapid.MakeFuzz would skip inputs shorter than a run's hundreds of draws,
// which is every seed-corpus entry.)
type byteChoice struct {
	data []byte
	pos  int
}

func (c *byteChoice) Intn(n int) int {
	if n <= 0 {
		panic("byteChoice: Intn with n <= 0")
	}
	if c.pos+2 > len(c.data) {
		c.pos += 2
		return 0
	}
	v := int(c.data[c.pos]) | int(c.data[c.pos+1])<<8
	c.pos += 2
	return v % n
}

// FuzzLeaseRetry drives whole simulations from fuzz bytes: workload,
// profile, schedule and faults. lease-retry must never open a deleted file,
// panic, ship an inconsistent snapshot, let GC delete a pinned file, or
// lose a registered snapshot file. The seed corpus in
// testdata/fuzz/FuzzLeaseRetry runs as an ordinary test;
// `go test -fuzz=FuzzLeaseRetry ./properties` explores further.
func FuzzLeaseRetry(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("snapshot lists files while compaction and gc delete them"))
	f.Fuzz(func(t *testing.T, data []byte) {
		names := tikv.ProfileNames()
		profile := "default"
		if len(data) > 0 {
			profile = names[int(data[0])%len(names)]
			data = data[1:]
		}
		cfg, err := tikv.ProfileConfig("lease-retry", profile)
		if err != nil {
			t.Fatal(err)
		}
		out, err := tikvSys.Simulate(cfg, &byteChoice{data: data}, sim.Config{StopOnViolation: true, KeepTrace: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []sim.Kind{sim.KindOpenDeletedFile, sim.KindPanic, sim.KindInconsistentSnapshot,
			sim.KindGCDeletedPinnedFile, sim.KindSnapFileMissing} {
			if Has(&out, k) {
				t.Fatalf("lease-retry on %s showed %s:\n%s", profile, k, Story(&out))
			}
		}
	})
}
