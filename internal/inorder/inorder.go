// Package inorder runs numbered tasks on several goroutines and returns
// what a loop over them in order, stopping at the first error, would
// return: the error of the lowest-numbered task that fails. Decode,
// Validate and the suspendable transform use it to check or rewrite a
// module's functions on all processors with the errors of one.
//
// It must not know what the tasks are, nor hold state between calls.
package inorder

import (
	"sync"
	"sync/atomic"
)

// Do calls do(w, k) for each task k from 0 to n-1, on workers goroutines
// numbered w from 0 (worker 0 is the calling goroutine; one worker runs
// the tasks in order and starts no goroutine). The workers take the tasks
// in increasing order, each the next one when done with its own, so a
// worker can keep state of its own, indexed by w, from task to task. Do
// returns the error of the lowest k whose call failed, or nil; the tasks
// above a failed one may not run. A panic in a call panics again on the
// calling goroutine once all workers have stopped.
func Do(n, workers int, do func(w, k int) error) error {
	workers = min(workers, n)
	if workers <= 1 {
		for k := range n {
			if err := do(0, k); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		next   atomic.Int64 // the next task to take
		failed atomic.Int64 // the lowest task known to fail, or n
		errs   = make([]error, n)
		panics = make([]any, workers)
	)
	failed.Store(int64(n))
	work := func(w int) {
		defer func() {
			if p := recover(); p != nil {
				panics[w] = p
				failed.Store(-1) // stop everyone
			}
		}()
		for {
			k := next.Add(1) - 1
			// Tasks are taken in order: once one is past a failed
			// task, so are all those left.
			if k >= int64(n) || k > failed.Load() {
				return
			}
			if errs[k] = do(w, int(k)); errs[k] != nil {
				for old := failed.Load(); k < old && !failed.CompareAndSwap(old, k); old = failed.Load() {
				}
			}
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Go(func() { work(w) })
	}
	work(0)
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
