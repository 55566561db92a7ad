// Command workers is a suspension test program: goroutines that take
// jobs from a channel, recurse 60 frames deep for each and sleep at the
// bottom (so that the program often waits in poll_oneoff), a
// sync.WaitGroup that closes the results, and output that does not
// depend on scheduling: results are printed in job order. It ends with
// exit status 3 and a line on standard error.
package main

import (
	"fmt"
	"os"
	"sync"
	"time"
)

const (
	workers = 4
	jobs    = 12
	depth   = 60
)

// descend recurses n frames deep and sleeps at the bottom.
func descend(n int, acc uint64) uint64 {
	if n == 0 {
		time.Sleep(3 * time.Millisecond)
		return acc
	}
	return descend(n-1, acc*6364136223846793005+uint64(n)) ^ uint64(n)<<7
}

func main() {
	work := make(chan int)
	results := make(chan [2]uint64, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				results <- [2]uint64{uint64(j), descend(depth, uint64(j)+1)}
			}
		}()
	}
	go func() {
		for j := range jobs {
			work <- j
		}
		close(work)
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	var got [jobs]uint64
	n := 0
	for r := range results {
		got[r[0]] = r[1]
		n++
	}
	var sum uint64
	for j, v := range got {
		fmt.Printf("job %d: %016x\n", j, v)
		sum = sum*31 + v
	}
	time.Sleep(5 * time.Millisecond)
	fmt.Printf("%d results, checksum %016x\n", n, sum)
	fmt.Fprintln(os.Stderr, "workers: done")
	os.Exit(3)
}
