package tikv

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The pin collector holds space in some seed, and the figure is
// deterministic.
func TestOutcomePeakPinnedBytes(t *testing.T) {
	var pin int64
	cfg := collectorConfig(t, "pin")
	for seed := uint64(1); seed <= 20; seed++ {
		got := mustRun(t, cfg, seed).PeakPinnedBytes
		assert.Equal(t, got, mustRun(t, cfg, seed).PeakPinnedBytes, "seed %d", seed)
		pin = max(pin, got)
	}
	assert.Positive(t, pin)
}

func collectorConfig(t *testing.T, name string) Config {
	t.Helper()
	cfg, err := ProfileConfig(name, "default")
	require.NoError(t, err)
	return cfg
}
