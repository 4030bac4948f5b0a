package sim

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMicrosString(t *testing.T) {
	for _, tc := range []struct {
		in   Micros
		want string
	}{
		{0, "0us"},
		{1, "1us"},
		{42, "42us"},
		{999, "999us"},
		{Millisecond, "1.000ms"},
		{1250, "1.250ms"},
		{1001, "1.001ms"},
		{999999, "999.999ms"},
		{Second, "1.000000s"},
		{1500 * Millisecond, "1.500000s"},
		{61*Second + 5, "61.000005s"},
		{3600 * Second, "3600.000000s"},
		{-1, "-1us"},
		{-1250, "-1.250ms"},
		{-2 * Second, "-2.000000s"},
		{math.MaxInt64, "9223372036854.775807s"},
		{math.MinInt64, "-9223372036854.775808s"},
	} {
		assert.Equal(t, tc.want, tc.in.String(), "Micros(%d)", int64(tc.in))
	}
}

func TestMicrosUnits(t *testing.T) {
	assert.Equal(t, Micros(1), Microsecond)
	assert.Equal(t, Micros(1000), Millisecond)
	assert.Equal(t, Micros(1000000), Second)
	// Micros is a plain integer of microseconds in JSON.
	b, err := json.Marshal(struct {
		T Micros `json:"t"`
	}{1500})
	require.NoError(t, err)
	assert.JSONEq(t, `{"t":1500}`, string(b))
}

func TestClock(t *testing.T) {
	var c Clock
	assert.Equal(t, Micros(0), c.Now())
	c.Advance(5)
	c.Advance(0)
	c.Advance(Millisecond)
	assert.Equal(t, Micros(1005), c.Now())
	assert.PanicsWithValue(t, "sim: Clock.Advance(-1): negative span", func() { c.Advance(-1) })
	assert.Equal(t, Micros(1005), c.Now())
	c.advanceTo(10) // never backwards
	assert.Equal(t, Micros(1005), c.Now())
	c.advanceTo(2 * Second)
	assert.Equal(t, 2*Second, c.Now())
}
