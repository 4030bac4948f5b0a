package engine

import (
	"errors"
	"io"
)

// IsEOF reports whether err is, or wraps, io.EOF (a read that ends at the
// end of a file).
func IsEOF(err error) bool { return errors.Is(err, io.EOF) }
