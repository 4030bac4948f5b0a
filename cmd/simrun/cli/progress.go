package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows a sweep's progress: seeds done, seeds/s, violations so
// far and ETA, as a bar on a terminal; nothing anywhere else.
type progress interface {
	update(done, violations uint64)
	finish()
}

type noProgress struct{}

func (noProgress) update(uint64, uint64) {}
func (noProgress) finish()               {}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// newProgress returns a progress bar over total seeds on w when w is a
// terminal and quiet is off, else a no-op.
func newProgress(w io.Writer, total uint64, quiet bool) progress {
	if quiet || total == 0 || !isTerminal(w) {
		return noProgress{}
	}
	bar := progressbar.NewOptions64(int64(total),
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("violations 0"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("seeds"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionFullWidth(),
	)
	return &barProgress{bar: bar}
}

type barProgress struct {
	bar        *progressbar.ProgressBar
	violations uint64
}

func (p *barProgress) update(done, violations uint64) {
	if violations != p.violations {
		p.violations = violations
		p.bar.Describe(fmt.Sprintf("violations %d", violations))
	}
	_ = p.bar.Set64(int64(done))
}

func (p *barProgress) finish() {
	_ = p.bar.Clear()
	_ = p.bar.Exit()
}
