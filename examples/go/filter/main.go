// Command filter copies standard input to standard output line by line,
// numbering the lines. It answers each line as soon as it has read it
// unless more input is already waiting, so it works interactively and in
// bulk. Build it with GOOS=wasip1 GOARCH=wasm go build.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	in := bufio.NewReaderSize(os.Stdin, 64<<10)
	out := bufio.NewWriter(os.Stdout)
	for n := 1; ; n++ {
		line, err := in.ReadString('\n')
		if line != "" {
			fmt.Fprintf(out, "%d: %s\n", n, strings.TrimSuffix(line, "\n"))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "filter:", err)
			os.Exit(1)
		}
		if in.Buffered() == 0 {
			if err := out.Flush(); err != nil {
				os.Exit(1)
			}
		}
	}
	if err := out.Flush(); err != nil {
		os.Exit(1)
	}
}
