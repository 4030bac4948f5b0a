package baseline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cockroachdb/pebble"
)

// Options configures one stress run.
type Options struct {
	// Dir is the database directory; a fresh temp dir (removed afterwards)
	// is used when empty.
	Dir string
	// TimeLimit bounds the run; zero means 10s.
	TimeLimit time.Duration
	// Seed seeds the snapshot goroutine's sleep jitter (its own *rand.Rand).
	Seed int64
}

// Result is the outcome of one stress run.
type Result struct {
	// Found reports whether an open of a listed SST failed with ENOENT.
	Found bool
	// Elapsed is the time from DB open to the first ENOENT, or to the end of
	// the run when nothing was found.
	Elapsed time.Duration
	// Iterations counts the snapshot rounds (list, sleep, open all) started.
	Iterations int
	// File is the path of the file that vanished (empty if not found).
	File string
	// Err is the text of the ENOENT error (empty if not found).
	Err string
}

const (
	keySpace      = 5000
	flushEvery    = 200
	maxSnapJitter = 5 * time.Millisecond
)

// Run runs the stress test until the first ENOENT or opts.TimeLimit.
func Run(ctx context.Context, opts Options) (res Result, err error) {
	limit := opts.TimeLimit
	if limit <= 0 {
		limit = 10 * time.Second
	}
	dir := opts.Dir
	if dir == "" {
		tmp, terr := tempDir("baseline")
		if terr != nil {
			return res, terr
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	db, err := pebble.Open(dir, &pebble.Options{
		MemTableSize:          64 << 10,
		L0CompactionThreshold: 2,
		DisableWAL:            true,
	})
	if err != nil {
		return res, err
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()

	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()

	var (
		mu      sync.Mutex
		found   bool
		failure error
		wg      sync.WaitGroup
	)
	fail := func(e error) {
		mu.Lock()
		if failure == nil && !found {
			failure = e
		}
		mu.Unlock()
		cancel()
	}

	// Writer: random keys in a bounded key space so compactions overlap.
	wg.Add(1)
	go func() {
		defer wg.Done()
		wrng := rand.New(rand.NewSource(opts.Seed + 1))
		val := make([]byte, 128)
		for i := 0; ctx.Err() == nil; i++ {
			key := fmt.Appendf(nil, "k%08d", wrng.Intn(keySpace))
			wrng.Read(val)
			if e := db.Set(key, val, pebble.NoSync); e != nil {
				fail(fmt.Errorf("set: %w", e))
				return
			}
			if i%flushEvery == flushEvery-1 {
				if e := db.Flush(); e != nil {
					fail(fmt.Errorf("flush: %w", e))
					return
				}
			}
		}
	}()

	// Compactor: manual compaction of the whole key space in a loop.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if e := db.Compact([]byte("k"), []byte("l"), true); e != nil {
				fail(fmt.Errorf("compact: %w", e))
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()

	// Naive snapshot: list, sleep (rate limiter), open each listed file.
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewSource(opts.Seed))
		buf := make([]byte, 4096)
		for ctx.Err() == nil {
			mu.Lock()
			res.Iterations++
			mu.Unlock()
			levels, e := db.SSTables()
			if e != nil {
				fail(fmt.Errorf("sstables: %w", e))
				return
			}
			time.Sleep(time.Duration(rng.Int63n(int64(maxSnapJitter))))
			for _, level := range levels {
				for _, t := range level {
					path := filepath.Join(dir, t.FileNum.String()+".sst")
					f, oerr := os.Open(path)
					if oerr != nil {
						if errors.Is(oerr, fs.ErrNotExist) {
							mu.Lock()
							if !found && failure == nil {
								found = true
								res.Found = true
								res.Elapsed = time.Since(start)
								res.File = path
								res.Err = oerr.Error()
							}
							mu.Unlock()
							cancel()
							return
						}
						fail(fmt.Errorf("open: %w", oerr))
						return
					}
					_, rerr := f.Read(buf)
					f.Close()
					if rerr != nil && rerr != io.EOF {
						fail(fmt.Errorf("read %s: %w", path, rerr))
						return
					}
				}
			}
		}
	}()

	wg.Wait()
	if !res.Found {
		res.Elapsed = time.Since(start)
	}
	if failure != nil {
		return res, failure
	}
	return res, nil
}
