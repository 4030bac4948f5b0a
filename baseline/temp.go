package baseline

import (
	"fmt"
	"os"
	"path/filepath"
)

// tempDir creates a temporary directory for one stress run. Its name
// carries this process's id (snapsim-KIND-PID-*), so RemoveTemps can find
// the directories of this process, and only them, when it is interrupted
// before the runs' own deferred removals.
func tempDir(kind string) (string, error) {
	dir, err := os.MkdirTemp("", fmt.Sprintf("snapsim-%s-%d-", kind, os.Getpid()))
	if err != nil {
		return "", fmt.Errorf("baseline: temporary directory: %w", err)
	}
	return dir, nil
}

// RemoveTemps removes every temporary directory this process's stress runs
// created and have not removed yet. simrun calls it when a second signal
// aborts a bench; an ordinary run removes its own directory when it ends.
func RemoveTemps() error {
	pattern := filepath.Join(os.TempDir(), fmt.Sprintf("snapsim-*-%d-*", os.Getpid()))
	dirs, err := filepath.Glob(pattern)
	if err != nil {
		return fmt.Errorf("baseline: %s: %w", pattern, err)
	}
	var first error
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil && first == nil {
			first = err
		}
	}
	return first
}
