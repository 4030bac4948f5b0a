package bad

import (
	"math/rand"
	"time"
)

// Test files are not checked: none of this is reported.
var _ = time.Now
var _ = rand.Intn

func init() { go func() {}() }
