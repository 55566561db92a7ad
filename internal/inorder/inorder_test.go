package inorder

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// TestDo checks Do against a loop, with tasks that fail at random, on 1
// to 8 workers.
func TestDo(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		n := r.IntN(60)
		fails := make([]bool, n)
		for range r.IntN(4) {
			if n > 0 {
				fails[r.IntN(n)] = true
			}
		}
		var want error
		for k := range n {
			if fails[k] {
				want = fmt.Errorf("task %d", k)
				break
			}
		}
		for workers := 1; workers <= 8; workers++ {
			var ran atomic.Int64
			inUse := make([]atomic.Int32, workers)
			err := Do(n, workers, func(w, k int) error {
				if w < 0 || w >= workers {
					t.Errorf("worker %d of %d", w, workers)
					return nil
				}
				if inUse[w].Add(1) != 1 {
					t.Errorf("worker %d runs two tasks at once", w)
				}
				defer inUse[w].Add(-1)
				ran.Add(1)
				if fails[k] {
					return fmt.Errorf("task %d", k)
				}
				return nil
			})
			if fmt.Sprint(err) != fmt.Sprint(want) {
				t.Fatalf("trial %d, %d tasks, %d workers: %v, want %v", trial, n, workers, err, want)
			}
			if want == nil && ran.Load() != int64(n) {
				t.Fatalf("trial %d: %d of %d tasks ran without an error", trial, ran.Load(), n)
			}
		}
	}
}

// TestDoOrder checks that one worker runs the tasks in order on the
// calling goroutine's turn, and stops at the first error.
func TestDoOrder(t *testing.T) {
	var got []int
	stop := errors.New("stop")
	err := Do(10, 1, func(w, k int) error {
		got = append(got, k)
		if k == 6 {
			return stop
		}
		return nil
	})
	if err != stop || fmt.Sprint(got) != "[0 1 2 3 4 5 6]" {
		t.Fatalf("Do = %v, ran %v; want stop after [0 1 2 3 4 5 6]", err, got)
	}
}

// TestDoPanic checks that a panic in a task reaches the caller.
func TestDoPanic(t *testing.T) {
	defer func() {
		if p := recover(); p != "task 37" {
			t.Fatalf("recovered %v, want the task's panic", p)
		}
	}()
	Do(100, 4, func(w, k int) error {
		if k == 37 {
			panic(fmt.Sprintf("task %d", k))
		}
		return nil
	})
	t.Fatal("Do returned after a task panicked")
}
