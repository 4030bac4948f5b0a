package proptest

import (
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// captureTB is the rapid.TB the helper hands rapid: it keeps rapid's
// report (log) and whether it failed, and turns rapid's FailNow into a
// panic rapidCheck recovers, so the helper can add the failure story and
// the replay lines after rapid is done. With forward, everything is passed
// on to t as well (failures as t.Errorf); without, nothing reaches t (a
// negative control, whose failure is expected).
type captureTB struct {
	t       *testing.T
	forward bool
	failed  bool
	log     strings.Builder
}

var _ rapid.TB = (*captureTB)(nil)

// stopCheck is captureTB's FailNow, recovered by rapidCheck.
type stopCheck struct{}

// rapidCheck runs rapid.Check over tb and returns when rapid does,
// whether it passed or failed.
func rapidCheck(tb *captureTB, prop func(*rapid.T)) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stopCheck); !ok {
				panic(r)
			}
		}
	}()
	rapid.Check(tb, prop)
}

func (c *captureTB) Helper()      { c.t.Helper() }
func (c *captureTB) Name() string { return c.t.Name() }
func (c *captureTB) Logf(format string, args ...any) {
	fmt.Fprintf(&c.log, format+"\n", args...)
	if c.forward {
		c.t.Helper()
		c.t.Logf(format, args...)
	}
}
func (c *captureTB) Log(args ...any) { c.Logf("%s", fmt.Sprint(args...)) }
func (c *captureTB) Errorf(format string, args ...any) {
	c.failed = true
	fmt.Fprintf(&c.log, format+"\n", args...)
	if c.forward {
		c.t.Helper()
		c.t.Errorf(format, args...)
	}
}
func (c *captureTB) Error(args ...any) { c.Errorf("%s", fmt.Sprint(args...)) }
func (c *captureTB) Fatalf(format string, args ...any) {
	c.Errorf(format, args...)
	panic(stopCheck{})
}
func (c *captureTB) Fatal(args ...any) { c.Error(args...); panic(stopCheck{}) }
func (c *captureTB) FailNow()          { c.failed = true; panic(stopCheck{}) }
func (c *captureTB) Fail()             { c.failed = true }
func (c *captureTB) Failed() bool      { return c.failed }
func (c *captureTB) Skipf(format string, args ...any) {
	c.Logf("skip: "+format, args...)
	panic(stopCheck{})
}
func (c *captureTB) Skip(args ...any) { c.Log(args...); panic(stopCheck{}) }
func (c *captureTB) SkipNow()         { panic(stopCheck{}) }
