// Command bench measures Gate's performance and prints the results as
// markdown: the CPU-bound C program (bench/programs/cpu.c) run natively,
// with gate run (with and without a timeout), with plain wazero and with
// Node.js, the time to compile and to instantiate a small, a 4 MB and a
// 10 MiB module through package runtime, and the suspendable transform
// (bench/suspend.go): the CPU-bound program plain, transformed and after
// Binaryen's asyncify, the transform's throughput, suspend and resume
// latency and snapshot size.
//
// Run it from the repository with
//
//	go run ./bench [-n 5] [-size 100] [-skip-micro] [-skip-suspend]
//	go run ./bench -only suspend
//
// It needs gcc, clang with wasi-libc, node and wasm-opt (binaryen). It
// exits with status 1 if the engines disagree on the program's output.
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
	only := flag.String("only", "", `run only one part: "suspend" (the suspendable transform's benchmarks)`)
	skipSuspend := flag.Bool("skip-suspend", false, "skip the suspendable transform's benchmarks")
	cpuChild := flag.String("cpu-child", "", "internal: run this module once with package runtime and print the run time")
	cpuKind := flag.String("cpu-kind", "plain", `internal: with -cpu-child, "plain" or "suspendable"`)
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run ./bench [flags]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *n < 1 || *size < 1 || flag.NArg() > 0 || (*only != "" && *only != "suspend") {
		flag.Usage()
		os.Exit(2)
	}
	if *cpuChild != "" {
		if err := runCPUChild(*cpuChild, *cpuKind, *size); err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		return
	}
	var err error
	if *only == "suspend" {
		err = runSuspendOnly(*n, *size)
	} else {
		err = run(*n, *size, !*skipMicro, !*skipSuspend)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(n, size int, micro, susp bool) error {
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

	var sr *suspendResults
	if susp {
		if sr, err = suspendBenchmarks(tmp, b.cpuWasm, b.mediumWasm, b.bigWasm, n, size); err != nil {
			return err
		}
	}

	fmt.Print(report(info, b, engines, size, n, results))
	if sr != nil {
		fmt.Print(reportSuspend(sr, n))
	}
	return nil
}

// runSuspendOnly runs only the suspendable transform's benchmarks
// (-only suspend): it needs clang with wasi-libc, Go and wasm-opt.
func runSuspendOnly(n, size int) error {
	root, err := testprog.Root()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "gate-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	progress("building programs")
	var cpuWasm, mediumWasm, bigWasm string
	if cpuWasm, err = testprog.BuildC(cpuSource); err != nil {
		return err
	}
	if mediumWasm, err = testprog.BuildGo(mediumSource); err != nil {
		return err
	}
	if bigWasm, err = testprog.BuildGo(bigSource); err != nil {
		return err
	}
	sr, err := suspendBenchmarks(tmp, cpuWasm, mediumWasm, bigWasm, n, size)
	if err != nil {
		return err
	}
	m := machineInfo(root)
	fmt.Printf("## Gate benchmark (suspend part only), %s\n\n", time.Now().UTC().Format("2006-01-02"))
	fmt.Printf("Machine: %s, %d cores, %s\n\n- Go: %s\n- wazero: %s (from go.mod)\n- clang: %s\n",
		m.cpu, m.cores, m.kernel, m.goVersion, m.wazeroVersion, m.clangVersion)
	fmt.Print(reportSuspend(sr, n))
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
