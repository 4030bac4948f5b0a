package tikv

import "sort"

// Reference is the checker's independent model of the data: a log of every
// write, from which the state of any key range at any sequence number is
// derived. It shares no code path with the engine's files or versions.
type Reference struct {
	log []Record
}

// Append records a write.
func (r *Reference) Append(rec Record) { r.log = append(r.log, rec) }

// At returns the live key/value records of region at sequence seq, sorted
// by key.
func (r *Reference) At(region *Region, seq uint64) []Record {
	return visible(r.log, region, seq)
}

// visible reduces records to the newest version of each (column family,
// key) in region with sequence ≤ seq, dropping deletions; the result is
// sorted by column family, then key.
func visible(records []Record, region *Region, seq uint64) []Record {
	sorted := append([]Record(nil), records...)
	sort.Slice(sorted, func(i, j int) bool { return less(sorted[i], sorted[j]) })
	var out []Record
	for i := 0; i < len(sorted); {
		j := i
		var newest *Record
		for ; j < len(sorted) && sorted[j].Key == sorted[i].Key && sorted[j].CF == sorted[i].CF; j++ {
			if newest == nil && sorted[j].Seq <= seq {
				newest = &sorted[j]
			}
		}
		if newest != nil && newest.Kind == KindPut && region.Contains(newest.Key) {
			out = append(out, *newest)
		}
		i = j
	}
	return out
}

// AtCF returns the live records of one column family of region at seq.
func (r *Reference) AtCF(cf CF, region *Region, seq uint64) []Record {
	var recs []Record
	for _, rec := range r.log {
		if rec.CF == cf {
			recs = append(recs, rec)
		}
	}
	return visible(recs, region, seq)
}

// Log returns every write, in order (the raft log).
func (r *Reference) Log() []Record { return r.log }
