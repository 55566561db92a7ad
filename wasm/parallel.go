package wasm

import (
	"runtime"
	"sync/atomic"

	"github.com/gate-wasm/gate/internal/inorder"
)

// Decode and Validate check function bodies on several goroutines when
// the code is big enough. The bodies are independent of each other, and
// checking them is most of the time both take on compiled programs (a Go
// program's 4 MiB module has 2.6 MiB of code). The result is the one a
// loop over the bodies in order would give: the error of the first
// failing body, whichever goroutine found it first.

// bytesPerWorker is how many bytes of function bodies it takes for one
// more goroutine to check them: code under twice this much is checked on
// the calling goroutine. Decode checks about 200 MB of code per second
// and Validate about 100, on one core, so 32 KiB take them 0.15 to 0.3
// ms; starting goroutines and waking idle threads for them costs tens of
// microseconds. Measured on 2 cores (BenchmarkBodyWorkers), two
// goroutines break even at about 32 KiB of code for Decode and 16 KiB for
// Validate, and take a third less time at 64 KiB: the margin keeps small
// modules, most of them, on the calling goroutine, and on many cores
// keeps each goroutine's share worth its start.
const bytesPerWorker = 32 << 10

// chunksPerWorker is how many runs of consecutive bodies each goroutine
// takes, on average. Bodies vary in size (a Go program's largest one is 6
// times its 99th percentile, 90 times its median), so each goroutine
// takes the next run when it is done with one, and the runs are small
// enough that the last one to finish leaves the others idle for little
// time.
const chunksPerWorker = 16

// bodyWorkers returns how many goroutines should check size bytes of
// function bodies: at most GOMAXPROCS, each with bytesPerWorker or more.
func bodyWorkers(size int) int {
	return max(1, min(runtime.GOMAXPROCS(0), size/bytesPerWorker))
}

// lowestError calls check(i) for each i from 0 to n-1 and returns the
// error of the lowest i that fails, as a loop that stops at the first
// error would; size(i) is the cost of check(i), in bytes of code. With
// workers above 1, consecutive indices are cut into chunks of about the
// same size, which up to workers goroutines (the calling one among them)
// take in order (inorder.Do); each gets its own check from newCheck, so
// that checks share nothing but what they only read. A panic in a check
// panics again on the calling goroutine.
func lowestError(n, workers int, size func(i int) int, newCheck func() func(i int) error) error {
	if workers <= 1 || n <= 1 {
		check := newCheck()
		for i := range n {
			if err := check(i); err != nil {
				return err
			}
		}
		return nil
	}
	total := 0
	for i := range n {
		total += size(i)
	}
	target := max(total/(workers*chunksPerWorker), 1)
	starts := make([]int, 1, workers*chunksPerWorker+2) // chunk k is [starts[k], starts[k+1])
	for i, acc := 0, 0; i < n; i++ {
		if acc += size(i); acc >= target && i+1 < n {
			starts = append(starts, i+1)
			acc = 0
		}
	}
	starts = append(starts, n)
	checks := make([]func(int) error, workers)
	return inorder.Do(len(starts)-1, workers, func(w, k int) error {
		if checks[w] == nil {
			checks[w] = newCheck()
		}
		for i := starts[k]; i < starts[k+1]; i++ {
			if err := checks[w](i); err != nil {
				return err
			}
		}
		return nil
	})
}

// storeMin sets a to v if v is lower.
func storeMin(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v >= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}
