// Command bench measures Gate's performance and prints the results as
// markdown: the CPU-bound C program (bench/programs/cpu.c) run natively,
// with gate run (with and without a timeout), with plain wazero and with
// Node.js, and the time to compile and to instantiate a small, a 4 MB and
// a 10 MiB module through package runtime.
//
// Run it from the repository with
//
//	go run ./bench [-n 5] [-size 100]
//
// It needs gcc, clang with wasi-libc, and node. It exits with status 1 if
// the engines disagree on the program's output.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gate-wasm/gate/internal/testprog"
)

func main() {
	n := flag.Int("n", 5, "repetitions of each CPU-bound run")
	size := flag.Int("size", 100, "size argument of the CPU-bound program (100 runs about 1 s natively)")
	skipMicro := flag.Bool("skip-micro", false, "skip the compile and instantiate benchmarks")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run ./bench [flags]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *n < 1 || *size < 1 || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*n, *size, !*skipMicro); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(n, size int, micro bool) error {
	root, err := testprog.Root()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "gate-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	progress("building programs and engines")
	b, err := buildAll(root, tmp)
	if err != nil {
		return err
	}
	info := machineInfo(root)

	engines := cpuEngines(b, tmp, size)
	progress("CPU-bound program: warm-up runs (fill the compiled-code caches, check outputs)")
	if err := warmUp(engines); err != nil {
		return err
	}
	for _, e := range engines {
		e.user, e.sys = nil, nil // CPU times of the measured runs only
	}
	for i := range n {
		progress(fmt.Sprintf("CPU-bound program: round %d of %d", i+1, n))
		for _, e := range engines {
			d, out, err := e.run()
			if err != nil {
				return err
			}
			if err := e.check(out, engines[0]); err != nil {
				return err
			}
			e.times = append(e.times, d)
		}
	}

	var results []microResult
	if micro {
		if results, err = microBenchmarks(b); err != nil {
			return err
		}
	}

	fmt.Print(report(info, b, engines, size, n, results))
	return nil
}

// progress reports on standard error what the benchmark is doing, so that
// standard output holds only the markdown.
func progress(msg string) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), msg)
}

// fileSize is the size of the file at path in bytes, or -1.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return fi.Size()
}

func relTo(root, path string) string {
	if r, err := filepath.Rel(root, path); err == nil {
		return r
	}
	return path
}
