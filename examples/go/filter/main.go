// Command filter copies standard input to standard output line by line,
// numbering the lines. Build it with GOOS=wasip1 GOARCH=wasm go build.
package main

import (
	"bufio"
	"fmt"
	"os"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64<<10), 1<<20)
	out := bufio.NewWriter(os.Stdout)
	n := 0
	for in.Scan() {
		n++
		fmt.Fprintf(out, "%d: %s\n", n, in.Text())
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "filter:", err)
		os.Exit(1)
	}
	if err := out.Flush(); err != nil {
		os.Exit(1)
	}
}
