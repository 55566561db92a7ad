// Command sleepers starts goroutines that sleep for different times and
// report in the order they wake, then prints how long it all took. Build
// it with GOOS=wasip1 GOARCH=wasm go build.
package main

import (
	"flag"
	"fmt"
	"time"
)

func main() {
	count := flag.Int("n", 5, "number of goroutines")
	step := flag.Duration("step", 20*time.Millisecond, "sleep of goroutine i is (n-i) times step")
	flag.Parse()

	start := time.Now()
	woke := make(chan int)
	for i := 0; i < *count; i++ {
		go func() {
			time.Sleep(time.Duration(*count-i) * *step)
			woke <- i
		}()
	}
	for range *count {
		fmt.Printf("goroutine %d woke\n", <-woke)
	}
	elapsed := time.Since(start)
	fmt.Printf("all %d woke in at least %v: %v\n", *count, time.Duration(*count)**step, elapsed >= time.Duration(*count)**step)
}
