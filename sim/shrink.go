package sim

// ShrinkTest runs a candidate draw log and reports whether it still fails
// the way the original did. When it does, it also returns the canonical
// form of the candidate: the draws the run actually consumed, with each value
// as the run saw it (reduced modulo its bound); see Canonical. A nil
// canonical log means "use the candidate as is".
type ShrinkTest func(candidate []Draw) (ok bool, canonical []Draw)

// ShrinkStats says what a Shrink did.
type ShrinkStats struct {
	Runs     int  // candidate runs made (the budget counts these)
	Accepted int  // candidates that kept the failure and were simpler
	Passes   int  // full rounds of all passes
	Budget   bool // true if the budget ran out (or Stop said stop) before a fixed point
	Stopped  bool // true if ShrinkOptions.Stop ended the shrink early
}

// ShrinkOptions bound a shrink.
type ShrinkOptions struct {
	// Budget is the maximum number of candidate runs.
	Budget int
	// Stop, when set, is asked before every candidate run; once it
	// returns true the shrink ends and returns the simplest failing log
	// found so far (an interrupted shrink loses nothing).
	Stop func() bool
}

// Simpler reports whether a is strictly simpler than b in the shortlex
// order the shrinker minimises: fewer draws, or as many draws and the first
// differing value smaller.
func Simpler(a, b []Draw) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	for i := range a {
		if a[i].Value != b[i].Value {
			return a[i].Value < b[i].Value
		}
	}
	return false
}

// Canonical is the canonical form of a replayed candidate: the first
// min(consumed, logLen) draws a Recorder saw while replaying a log of logLen
// draws (values already reduced modulo their bounds), without trailing
// zero draws, which a Log supplies anyway past its end.
func Canonical(recorded []Draw, logLen int) []Draw {
	n := min(len(recorded), logLen)
	for n > 0 && recorded[n-1].Value == 0 {
		n--
	}
	return append([]Draw(nil), recorded[:n]...)
}

// Shrink minimises draws while test keeps reporting the failure, with the
// passes rapid and Hypothesis use: delete chunks of 8, 4, 2 and 1 draws
// (from the end towards the start), zero chunks of 8, 4 and 2 values, set
// each value to 0, halve it, and
// binary-search it down; the passes repeat until a whole round makes no
// progress or budget candidate runs have been made. It is deterministic:
// the same draws, test and budget give the same result. draws itself must
// fail (it is not run again) and is not modified.
func Shrink(draws []Draw, budget int, test ShrinkTest) ([]Draw, ShrinkStats) {
	return ShrinkWith(draws, ShrinkOptions{Budget: budget}, test)
}

// ShrinkWith is Shrink with options: a budget and a way to stop early.
func ShrinkWith(draws []Draw, opts ShrinkOptions, test ShrinkTest) ([]Draw, ShrinkStats) {
	budget := opts.Budget
	cur := append([]Draw(nil), draws...)
	var st ShrinkStats
	// try runs cand and adopts it (or its canonical form) if it still fails
	// and is simpler than cur.
	try := func(cand []Draw) bool {
		if st.Budget {
			return false
		}
		if st.Runs >= budget {
			st.Budget = true
			return false
		}
		if opts.Stop != nil && opts.Stop() {
			st.Budget, st.Stopped = true, true
			return false
		}
		if !Simpler(cand, cur) {
			return false
		}
		st.Runs++
		ok, canon := test(cand)
		if !ok {
			return false
		}
		if canon == nil || !Simpler(canon, cand) {
			canon = cand
		}
		cur = append([]Draw(nil), canon...)
		st.Accepted++
		return true
	}
	for !st.Budget {
		st.Passes++
		before := append([]Draw(nil), cur...)
		// Delete chunks.
		for _, size := range []int{8, 4, 2, 1} {
			for i := len(cur) - size; i >= 0 && !st.Budget; i-- {
				if i+size > len(cur) {
					continue
				}
				cand := make([]Draw, 0, len(cur)-size)
				cand = append(append(cand, cur[:i]...), cur[i+size:]...)
				try(cand)
			}
		}
		// Zero chunks of 8, 4 and 2 values at once (a group of draws that
		// only fails when lowered together, such as an actor's run length).
		for _, size := range []int{8, 4, 2} {
			for i := len(cur) - size; i >= 0 && !st.Budget; i-- {
				if i+size > len(cur) {
					continue
				}
				cand := append([]Draw(nil), cur...)
				for j := i; j < i+size; j++ {
					cand[j].Value = 0
				}
				try(cand)
			}
		}
		// Lower values: zero, halve, binary search.
		for i := 0; i < len(cur) && !st.Budget; i++ {
			v := cur[i].Value
			if v <= 0 {
				continue
			}
			if try(withValue(cur, i, 0)) {
				continue
			}
			if v > 1 && try(withValue(cur, i, v/2)) {
				if i >= len(cur) {
					break
				}
				v = cur[i].Value
			}
			// Smallest value in (lo, hi] that still fails, assuming
			// monotonicity; hi is known to fail, lo known (or assumed) not.
			lo, hi := 0, v
			for hi-lo > 1 && !st.Budget && i < len(cur) && cur[i].Value == hi {
				mid := lo + (hi-lo)/2
				if try(withValue(cur, i, mid)) {
					if i >= len(cur) {
						break
					}
					hi = cur[i].Value
				} else {
					lo = mid
				}
			}
		}
		if !Simpler(cur, before) {
			break
		}
	}
	return cur, st
}

// withValue returns a copy of draws with draws[i].Value set to v.
func withValue(draws []Draw, i, v int) []Draw {
	c := append([]Draw(nil), draws...)
	c[i].Value = v
	return c
}
