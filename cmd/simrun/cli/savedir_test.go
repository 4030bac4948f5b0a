package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSaveDirWritesReplayableSeedFiles: --save-dir writes one seed file per
// distinct (kind, trace hash), each replays to its expected kind, and a
// second sweep leaves the files alone.
func TestSaveDirWritesReplayableSeedFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "found")
	mustExit(t, exitViolation, "run", "--collector", "naive", "--seeds", "12", "--keep-going", "--save-dir", dir, "--workers", "2")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	var names []string
	for _, e := range entries {
		require.False(t, strings.HasPrefix(e.Name(), "."), "temporary file left behind: %s", e.Name())
		require.True(t, strings.HasSuffix(e.Name(), ".seed"), e.Name())
		names = append(names, e.Name())
	}
	first := filepath.Join(dir, names[0])
	body, err := os.ReadFile(first)
	require.NoError(t, err)
	require.Contains(t, string(body), "collector naive\n")
	require.Contains(t, string(body), "expect open-deleted-file\n")
	r := mustExit(t, exitOK, "replay", first)
	require.Contains(t, r.stdout, "expectation: met")

	info, err := os.Stat(first)
	require.NoError(t, err)
	mustExit(t, exitViolation, "run", "--collector", "naive", "--seeds", "12", "--keep-going", "--save-dir", dir)
	again, err := os.Stat(first)
	require.NoError(t, err)
	require.Equal(t, info.ModTime(), again.ModTime(), "an existing seed file was rewritten")
	entries2, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries2, len(entries))
}
