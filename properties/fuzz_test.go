package properties

import (
	"testing"

	"github.com/snapsim/snapsim/model"
	"pgregory.net/rapid"
)

// FuzzLeaseRetry drives the whole simulation from fuzz bytes (via
// rapid.MakeFuzz): every choice of a run — workload, schedule, faults — comes
// from the fuzzer's input. Its seed corpus (testdata/fuzz/FuzzLeaseRetry)
// runs as an ordinary test; `go test -fuzz=FuzzLeaseRetry ./properties`
// explores further.
func FuzzLeaseRetry(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add([]byte("snapshot lists files while compaction and gc delete them"))
	f.Fuzz(rapid.MakeFuzz(neverOpensDeletedNorPanics(model.DefaultConfig("lease-retry"), nil)))
}
