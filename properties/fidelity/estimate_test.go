package fidelity

import (
	"testing"

	"github.com/cockroachdb/pebble/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/sstable"
	"github.com/cockroachdb/pebble/vfs"

	"github.com/snapsim/snapsim/model/engine"
	"github.com/snapsim/snapsim/sim"
)

// engine.PebbleEstimatedSize, which the model cuts its output files by, is
// what Pebble v1.1.5's own sstable writer reports (with the options the
// suite opens Pebble with) while the first data block is open: random
// keys, values and tombstones, compared after every entry.
func TestEstimateMatchesPebblesWriter(t *testing.T) {
	rng := sim.NewPRNG(11)
	for round := 0; round < 30; round++ {
		fs := vfs.NewMem()
		f, err := fs.Create("/t.sst")
		if err != nil {
			t.Fatal(err)
		}
		o := PebbleOptions(fs, 2048)
		w := sstable.NewWriter(objstorageprovider.NewFileWritable(f), o.MakeWriterOptions(6, o.FormatMajorVersion.MaxTableFormat()))
		var recs []engine.Record
		key := 0
		for w.EstimatedSize() < 3500 {
			key += 1 + rng.Intn(3)
			r := engine.Record{Key: keyName(key), Kind: engine.KindPut, Value: value(key, 1+rng.Intn(300))}
			if rng.Intn(8) == 0 {
				r.Kind, r.Value = engine.KindDelete, ""
				err = w.Delete([]byte(r.Key))
			} else {
				err = w.Set([]byte(r.Key), []byte(r.Value))
			}
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
			if got, want := engine.PebbleEstimatedSize(recs), int64(w.EstimatedSize()); got != want {
				t.Fatalf("round %d, after %d entries: model estimates %d, Pebble's writer %d", round, len(recs), got, want)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func keyName(i int) string {
	const digits = "0123456789"
	b := []byte{'k', digits[i/100%10], digits[i/10%10], digits[i%10]}
	return string(b)
}
