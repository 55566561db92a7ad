package main

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gate-wasm/gate/runtime"
)

// microResult is the outcome of one testing.Benchmark.
type microResult struct {
	name   string
	module string
	n      int
	perOp  time.Duration
}

// microBenchmarks measures runtime.Compile without a cache and
// runtime.Instantiate of an already compiled module, for the small
// module, the 4 MB one and the large one.
func microBenchmarks(b *builds) ([]microResult, error) {
	var results []microResult
	for _, m := range []struct{ label, path string }{
		{"hello.c", b.helloWasm},
		{"medium (Go)", b.mediumWasm},
		{"big (Go)", b.bigWasm},
	} {
		binary, err := os.ReadFile(m.path)
		if err != nil {
			return nil, err
		}
		label := fmt.Sprintf("%s, %s", m.label, formatBytes(int64(len(binary))))
		progress("compile benchmark: " + label)
		r, err := benchmark(func(tb *testing.B) { benchCompile(tb, binary) })
		if err != nil {
			return nil, fmt.Errorf("compiling %s: %w", m.label, err)
		}
		results = append(results, microResult{"Compile (no cache)", label, r.N, time.Duration(r.NsPerOp())})
		progress("instantiate benchmark: " + label)
		r, err = benchmark(func(tb *testing.B) { benchInstantiate(tb, binary) })
		if err != nil {
			return nil, fmt.Errorf("instantiating %s: %w", m.label, err)
		}
		results = append(results, microResult{"Instantiate + Close (compiled)", label, r.N, time.Duration(r.NsPerOp())})
	}
	return results, nil
}

// benchmark runs f with testing.Benchmark and turns a failure into an
// error: testing.Benchmark itself only reports it as zero iterations.
func benchmark(f func(*testing.B)) (testing.BenchmarkResult, error) {
	var failure error
	r := testing.Benchmark(func(b *testing.B) {
		defer func() {
			if p := recover(); p != nil {
				failure = fmt.Errorf("%v", p)
				b.FailNow()
			}
		}()
		f(b)
	})
	if failure != nil {
		return r, failure
	}
	if r.N == 0 {
		return r, fmt.Errorf("benchmark failed")
	}
	return r, nil
}

// benchCompile compiles the module b.N times, each time in a fresh runtime
// with an in-memory cache, so nothing is reused. The runtimes are not
// Interruptible (no stop checks), as for gate run without --timeout.
// Creating and closing the runtime are not timed.
func benchCompile(b *testing.B, binary []byte) {
	ctx := context.Background()
	b.StopTimer()
	for range b.N {
		rt, err := runtime.New(ctx, runtime.Config{})
		if err != nil {
			panic(err)
		}
		b.StartTimer()
		m, err := rt.Compile(ctx, binary, 0)
		b.StopTimer()
		if err != nil {
			panic(err)
		}
		m.Close(ctx)
		rt.Close(ctx)
	}
}

// benchInstantiate instantiates a compiled module and closes the instance
// b.N times.
func benchInstantiate(b *testing.B, binary []byte) {
	ctx := context.Background()
	rt, err := runtime.New(ctx, runtime.Config{})
	if err != nil {
		panic(err)
	}
	defer rt.Close(ctx)
	m, err := rt.Compile(ctx, binary, 0)
	if err != nil {
		panic(err)
	}
	defer m.Close(ctx)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		inst, err := rt.Instantiate(ctx, m, runtime.Options{Args: []string{"prog"}})
		if err != nil {
			panic(err)
		}
		inst.Close(ctx)
	}
}
