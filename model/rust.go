package model

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// RustErrorText renders err as Rust's io::Error Display does for an OS
// error — "No such file or directory (os error 2)" — or err.Error() when
// it carries no errno. Designs that unwrap an error as TiKV's code did
// panic with it.
func RustErrorText(err error) string {
	errno, ok := errnoOf(err)
	if !ok {
		return err.Error()
	}
	msg := errno.Error()
	if msg != "" && msg[0] >= 'a' && msg[0] <= 'z' {
		msg = string(msg[0]-'a'+'A') + msg[1:]
	}
	return fmt.Sprintf("%s (os error %d)", msg, int(errno))
}

// RustOpenError renders an open error the way TiKV's panic printed it:
// "open: No such file or directory (os error 2)".
func RustOpenError(err error) string {
	if _, ok := errnoOf(err); !ok {
		return err.Error()
	}
	return "open: " + RustErrorText(err)
}

// errnoOf returns the OS error number err stands for.
func errnoOf(err error) (syscall.Errno, bool) {
	var errno syscall.Errno
	switch {
	case errors.Is(err, os.ErrNotExist):
		return syscall.ENOENT, true
	case errors.As(err, &errno):
		return errno, true
	}
	return 0, false
}
