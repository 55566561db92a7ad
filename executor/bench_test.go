//go:build linux

package executor_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gate-wasm/gate/executor"
	"github.com/gate-wasm/gate/internal/testprog"
	gateruntime "github.com/gate-wasm/gate/runtime"
)

// firstWrite records when its first Write came.
type firstWrite struct {
	once sync.Once
	at   chan time.Time
}

func newFirstWrite() *firstWrite { return &firstWrite{at: make(chan time.Time, 1)} }

func (w *firstWrite) Write(p []byte) (int, error) {
	w.once.Do(func() { w.at <- time.Now() })
	return len(p), nil
}

// BenchmarkStartToFirstOutput measures, for each start of hello.c (its
// module already compiled, the executor already running and warm), the
// time from Instantiate to the program's first byte of output reaching
// the parent's writer; it reports the median and the 99th percentile.
// Run it with -benchtime=1000x for docs/PERFORMANCE.md.
func BenchmarkStartToFirstOutput(b *testing.B) {
	binary, err := os.ReadFile(testprog.C(b, "examples/c/hello.c"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("in-process", func(b *testing.B) {
		rt, err := gateruntime.New(ctx, gateruntime.Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer rt.Close(ctx)
		m, err := rt.Compile(ctx, binary, 0)
		if err != nil {
			b.Fatal(err)
		}
		measure(b, func(out io.Writer) error {
			inst, err := rt.Instantiate(ctx, m, gateruntime.Options{Args: []string{"hello", "x"}, Stdout: out})
			if err != nil {
				return err
			}
			defer inst.Close(ctx)
			_, err = inst.Run(ctx, 0)
			return err
		})
	})
	b.Run("executor", func(b *testing.B) {
		ex := newExecutor(b, gateBinary)
		m, err := ex.Compile(ctx, binary, executor.CompileOptions{})
		if err != nil {
			b.Fatal(err)
		}
		measure(b, func(out io.Writer) error {
			inst, err := ex.Instantiate(ctx, m, executor.Options{Args: []string{"hello", "x"}, Stdout: out})
			if err != nil {
				return err
			}
			defer inst.Close(ctx)
			_, err = inst.Run(ctx, 0)
			return err
		})
	})
}

// measure runs start b.N times after 50 warm-up runs and reports the
// median and 99th percentile of start to first output.
func measure(b *testing.B, start func(io.Writer) error) {
	for range 50 {
		if err := start(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		w := newFirstWrite()
		began := time.Now()
		if err := start(w); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-w.at:
			latencies = append(latencies, at.Sub(began))
		default:
			b.Fatal("the program wrote nothing")
		}
	}
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkIdleInstances measures the memory of an executor holding
// 1,000 idle instances of filter.c, each blocked reading its input:
// the growth of its resident memory per instance, linear memory (2
// pages, of which the program touches part) included. Run it with
// -benchtime=1x.
func BenchmarkIdleInstances(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	for range b.N {
		ex := newExecutor(b, gateBinary)
		m := compile(b, ex, testprog.C(b, "examples/c/filter.c"), executor.CompileOptions{})
		// One run first, so the baseline includes a used runtime.
		if _, _, _, err := run(b, ex, m, "x"); err != nil {
			b.Fatal(err)
		}
		pid := ex.PID()
		before := procStatus(b, pid)
		end := make(chan struct{})
		var readers []*blockingReader
		for range n {
			stdin := newBlockingReader(end)
			inst, err := ex.Instantiate(ctx, m, executor.Options{Stdin: stdin})
			if err != nil {
				b.Fatal(err)
			}
			go inst.Run(ctx, 0)
			readers = append(readers, stdin)
		}
		for _, r := range readers {
			<-r.read
		}
		after := procStatus(b, pid)
		// Linear memory is counted too, as far as the program has
		// touched it: what it costs beyond that is less.
		b.ReportMetric(float64(after["VmRSS"]-before["VmRSS"])/n, "rss-KiB/instance")
		b.ReportMetric(float64(after["VmRSS"]), "rss-KiB")
		b.ReportMetric(float64(after["VmSize"]), "vmsize-KiB")
		b.ReportMetric(float64(after["VmPeak"]), "vmpeak-KiB")
		b.ReportMetric(float64(after["Threads"]), "threads")
		close(end)
		ex.Close()
	}
}

// procStatus reads the numeric fields of /proc/PID/status (kB values in
// KiB).
func procStatus(t testing.TB, pid int) map[string]int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	fields := make(map[string]int64)
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
			fields[k] = n
		}
	}
	return fields
}
