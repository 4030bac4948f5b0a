package sim

import (
	"reflect"
	"testing"
)

// TestShrinkFindsMinimal: the failure is "some draw is >= 10"; the minimal
// failing log is one draw of value 10.
func TestShrinkFindsMinimal(t *testing.T) {
	var draws []Draw
	for i := range 40 {
		draws = append(draws, Draw{N: 100, Value: (i*37 + 11) % 100})
	}
	test := func(c []Draw) (bool, []Draw) {
		for _, d := range c {
			if d.Value >= 10 {
				return true, nil
			}
		}
		return false, nil
	}
	got, st := Shrink(draws, 10000, test)
	want := []Draw{{N: 100, Value: 10}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Shrink = %v (stats %+v), want %v", got, st, want)
	}
	if st.Budget {
		t.Fatalf("budget exhausted: %+v", st)
	}
	// Deterministic.
	again, st2 := Shrink(draws, 10000, test)
	if !reflect.DeepEqual(again, got) || st2 != st {
		t.Fatalf("not deterministic: %v %+v vs %v %+v", again, st2, got, st)
	}
}

func TestShrinkBudget(t *testing.T) {
	draws := make([]Draw, 50)
	for i := range draws {
		draws[i] = Draw{N: 1000, Value: 999}
	}
	calls := 0
	test := func(c []Draw) (bool, []Draw) { calls++; return len(c) > 0, nil }
	_, st := Shrink(draws, 7, test)
	if calls != 7 || st.Runs != 7 || !st.Budget {
		t.Fatalf("calls %d, stats %+v; want 7 runs and Budget", calls, st)
	}
}

func TestShrinkUsesCanonical(t *testing.T) {
	draws := []Draw{{N: 4, Value: 3}, {N: 4, Value: 3}, {N: 4, Value: 2}}
	// The "run" only consumes the first draw; it fails when it is odd.
	test := func(c []Draw) (bool, []Draw) {
		l := NewLog(c)
		r := NewRecorder(l)
		v := r.Intn(4)
		return v%2 == 1, Canonical(r.Draws(), len(c))
	}
	got, _ := Shrink(draws, 100, test)
	if want := []Draw{{N: 4, Value: 1}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestCanonicalTrimsTrailingZeros(t *testing.T) {
	rec := []Draw{{2, 1}, {3, 0}, {4, 0}, {5, 2}}
	if got := Canonical(rec, 3); !reflect.DeepEqual(got, []Draw{{2, 1}}) {
		t.Fatalf("got %v", got)
	}
	if got := Canonical(rec, 10); len(got) != 4 {
		t.Fatalf("got %v", got)
	}
}

func TestSimpler(t *testing.T) {
	a := []Draw{{N: 5, Value: 1}}
	b := []Draw{{N: 5, Value: 0}, {N: 5, Value: 0}}
	if !Simpler(a, b) || Simpler(b, a) || Simpler(a, a) {
		t.Fatal("shortlex order wrong")
	}
}

// TestShrinkZeroChunk: two draws that only fail when lowered together reach
// zero through the zero-chunk pass (value passes alone would stop at 1, 1).
func TestShrinkZeroChunk(t *testing.T) {
	draws := []Draw{{N: 10, Value: 5}, {N: 10, Value: 5}}
	test := func(c []Draw) (bool, []Draw) {
		return len(c) == 2 && (c[0].Value == 0) == (c[1].Value == 0), nil
	}
	got, _ := Shrink(draws, 100, test)
	if want := []Draw{{N: 10}, {N: 10}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestShrinkStop: Stop ends the shrink at once with the simplest failing log
// found so far, which still fails.
func TestShrinkStop(t *testing.T) {
	draws := make([]Draw, 50)
	for i := range draws {
		draws[i] = Draw{N: 1000, Value: 999}
	}
	fails := func(c []Draw) bool { return len(c) >= 3 }
	calls := 0
	test := func(c []Draw) (bool, []Draw) { calls++; return fails(c), nil }
	got, st := ShrinkWith(draws, ShrinkOptions{Budget: 10000, Stop: func() bool { return calls >= 5 }}, test)
	if calls != 5 || st.Runs != 5 || !st.Stopped || !st.Budget {
		t.Fatalf("calls %d, stats %+v; want 5 runs, Stopped", calls, st)
	}
	if !fails(got) || !Simpler(got, draws) {
		t.Fatalf("stopped shrink returned %d draws: want a simpler log that still fails", len(got))
	}
}
