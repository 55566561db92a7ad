package main

// The suspend part of the benchmark: run time of the CPU-bound
// program plain, after Gate's suspendable transform and after Binaryen's
// asyncify; the transform's throughput on the Go modules; suspend and
// resume latency and snapshot size against the memory a program uses.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gate-wasm/gate/internal/snapfile"
	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/runtime"
	"github.com/gate-wasm/gate/suspend"
	"github.com/gate-wasm/gate/wasm"
)

const memSource = "bench/programs/mem.c"

// memSizes are the amounts of memory (MiB) the mem program fills for the
// snapshot size and latency measurements.
var memSizes = []int{0, 1, 16, 64}

// cpuVariant is one build of the CPU-bound program run in a child process.
type cpuVariant struct {
	name, note string
	path       string
	kind       string // "plain" (runtime.Compile) or "suspendable" (runtime.CompileSuspendable)
	env        []string
	times      []time.Duration
	out        string
}

// childResult is what a child process (-cpu-child) prints.
type childResult struct {
	NS  int64  `json:"ns"`
	Out string `json:"out"`
}

// runCPUChild is the child process: it compiles the program at path with
// package runtime (compilation not timed), runs it once and prints the run
// time of Instance.Run and the program's output as JSON.
func runCPUChild(path, kind string, size int) error {
	ctx := context.Background()
	binary, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	rt, err := runtime.New(ctx, runtime.Config{})
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	var m *runtime.Module
	switch kind {
	case "plain":
		m, err = rt.Compile(ctx, binary, 0)
	case "suspendable":
		m, err = rt.CompileSuspendable(ctx, binary, 0)
	default:
		err = fmt.Errorf("unknown -cpu-kind %q", kind)
	}
	if err != nil {
		return err
	}
	var out bytes.Buffer
	inst, err := rt.Instantiate(ctx, m, runtime.Options{Args: []string{"cpu", strconv.Itoa(size)}, Stdout: &out})
	if err != nil {
		return err
	}
	defer inst.Close(ctx)
	start := time.Now()
	code, err := inst.Run(ctx, 0)
	d := time.Since(start)
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("exit status %d", code)
	}
	return json.NewEncoder(os.Stdout).Encode(childResult{NS: d.Nanoseconds(), Out: out.String()})
}

func (v *cpuVariant) run(self string, size int) error {
	cmd := exec.Command(self, "-cpu-child", v.path, "-cpu-kind", v.kind, "-size", strconv.Itoa(size))
	cmd.Env = append(os.Environ(), v.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s: %v\n%s", v.name, err, stderr.Bytes())
	}
	var r childResult
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("%s: %v", v.name, err)
	}
	if v.out != "" && r.Out != v.out {
		return fmt.Errorf("%s printed %q, before %q", v.name, r.Out, v.out)
	}
	v.out = r.Out
	v.times = append(v.times, time.Duration(r.NS))
	return nil
}

// transformResult is the transform's throughput on one module.
type transformResult struct {
	module                                   string
	size                                     int64
	outSize                                  int
	decode, validate, transform, encode, all time.Duration // medians
}

// memResult is the suspend and resume measurements of the mem program
// with one amount of memory filled.
type memResult struct {
	mib               int
	memSize, snapSize int64
	// Suspend: from the request to the snapshot in the page cache
	// (unwind + written), and to the snapshot durable (+ fsync).
	suspend, durable []time.Duration
	unwind, written  []time.Duration // parts of suspend: Run returning; WriteSnapshot to the file
	fsync            []time.Duration
	encode           []time.Duration // WriteSnapshot to io.Discard: the encoding alone
	// Resume in a fresh runtime whose cache directory holds what the
	// program's run compiled and prepared: from reading the file to the
	// program's first output.
	resume                 []time.Duration
	read, resumeCall, wait []time.Duration // parts of resume
	// cold is the same resume in a fresh runtime with an empty cache
	// directory: the resume module compiled from scratch.
	cold, coldCall []time.Duration
	// prepare is PrepareResume in the program's runtime after its first
	// snapshot, which compiles the resume module into the cache.
	prepare time.Duration
}

type suspendResults struct {
	variants   []*cpuVariant
	size       int
	transforms []transformResult
	mems       []*memResult
	cli        []*cliResult
	sandboxed  *sandboxedResult
	loadBefore string
	loadAfter  string
}

func suspendBenchmarks(tmp, cpuWasm, mediumWasm, bigWasm string, n, size int) (*suspendResults, error) {
	res := &suspendResults{size: size, loadBefore: loadAverage()}
	memWasm, err := testprog.BuildC(memSource)
	if err != nil {
		return nil, err
	}
	asyncify := filepath.Join(tmp, "cpu-asyncify.wasm")
	asyncifyO2 := filepath.Join(tmp, "cpu-asyncify-O2.wasm")
	for _, s := range []struct {
		out  string
		args []string
	}{
		{asyncify, []string{"--asyncify"}},
		{asyncifyO2, []string{"--asyncify", "-O2"}},
	} {
		cmd := exec.Command("wasm-opt", append(append([]string{cpuWasm}, s.args...), "-o", s.out)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("wasm-opt (Debian package binaryen): %v: %v\n%s", cmd.Args, err, out)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	for _, env := range [][]string{nil, {"GODEBUG=asyncpreemptoff=1"}} {
		suffix := ""
		if env != nil {
			suffix = ", asyncpreemptoff=1"
		}
		res.variants = append(res.variants,
			&cpuVariant{name: "plain" + suffix, path: cpuWasm, kind: "plain", env: env,
				note: fmt.Sprintf("runtime.Compile of the clang -O2 module (%s)", formatBytes(fileSize(cpuWasm)))},
			&cpuVariant{name: "transformed" + suffix, path: cpuWasm, kind: "suspendable", env: env,
				note: "runtime.CompileSuspendable of the same module: Gate's suspendable transform, never suspended"},
			&cpuVariant{name: "wasm-opt --asyncify" + suffix, path: asyncify, kind: "plain", env: env,
				note: fmt.Sprintf("runtime.Compile of the module after Binaryen's wasm-opt --asyncify (%s)", formatBytes(fileSize(asyncify)))},
			&cpuVariant{name: "wasm-opt --asyncify -O2" + suffix, path: asyncifyO2, kind: "plain", env: env,
				note: fmt.Sprintf("the same, optimized after asyncify as Binaryen advises (%s)", formatBytes(fileSize(asyncifyO2)))},
		)
	}
	progress("suspend: CPU-bound program, warm-up run of each variant")
	for _, v := range res.variants {
		if err := v.run(self, size); err != nil {
			return nil, err
		}
		v.times = nil
	}
	for _, v := range res.variants[1:] {
		if v.out != res.variants[0].out {
			return nil, fmt.Errorf("%s printed %q but %s printed %q", v.name, v.out, res.variants[0].name, res.variants[0].out)
		}
	}
	for i := range n {
		progress(fmt.Sprintf("suspend: CPU-bound program, round %d of %d", i+1, n))
		for _, v := range res.variants {
			if err := v.run(self, size); err != nil {
				return nil, err
			}
		}
	}

	for _, m := range []struct{ label, path string }{{"medium (Go)", mediumWasm}, {"big (Go)", bigWasm}} {
		progress("suspend: transform time, " + m.label)
		r, err := transformTimes(m.label, m.path, n)
		if err != nil {
			return nil, err
		}
		res.transforms = append(res.transforms, r)
	}

	for _, mib := range memSizes {
		progress(fmt.Sprintf("suspend: suspend and resume with %d MiB in use", mib))
		r, err := memBenchmark(tmp, memWasm, mib, max(n, 7))
		if err != nil {
			return nil, fmt.Errorf("mem %d MiB: %w", mib, err)
		}
		res.mems = append(res.mems, r)
	}
	progress("suspend: gate run --snapshot and gate resume, 64 MiB")
	root, err := testprog.Root()
	if err != nil {
		return nil, err
	}
	gate := filepath.Join(tmp, "gate")
	build := exec.Command("go", "build", "-o", gate, "./cmd/gate")
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0") // the sandbox wants a static binary
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building gate: %v\n%s", err, out)
	}
	progress("suspend: suspend and resume with 64 MiB in use, sandboxed executor")
	if res.sandboxed, err = sandboxedBenchmark(tmp, gate, memWasm, 64, max(n, 7)+1); err != nil {
		return nil, fmt.Errorf("sandboxed: %w", err)
	}
	if res.cli, err = cliBenchmark(tmp, gate, memWasm, 64, max(n, 7)); err != nil {
		return nil, err
	}
	res.loadAfter = loadAverage()
	return res, nil
}

// transformTimes measures decoding, validating, transforming and encoding
// the module at path, n times each, and returns the medians.
func transformTimes(label, path string, n int) (transformResult, error) {
	binary, err := os.ReadFile(path)
	if err != nil {
		return transformResult{}, err
	}
	r := transformResult{module: label, size: int64(len(binary))}
	var dec, val, tr, enc, all []time.Duration
	for range max(n, 5) {
		goruntime.GC()
		t0 := time.Now()
		m, err := wasm.Decode(binary)
		if err != nil {
			return r, err
		}
		t1 := time.Now()
		if err := wasm.Validate(m); err != nil {
			return r, err
		}
		t2 := time.Now()
		t, err := suspend.Transform(m)
		if err != nil {
			return r, err
		}
		t3 := time.Now()
		out := wasm.Encode(t)
		t4 := time.Now()
		r.outSize = len(out)
		dec, val, tr, enc, all = append(dec, t1.Sub(t0)), append(val, t2.Sub(t1)), append(tr, t3.Sub(t2)), append(enc, t4.Sub(t3)), append(all, t4.Sub(t0))
	}
	r.decode, r.validate, r.transform, r.encode, r.all = median(dec), median(val), median(tr), median(enc), median(all)
	return r, nil
}

// tickWriter is the mem program's standard output: it records when the
// first write arrives and when "ready" has been printed.
type tickWriter struct {
	mu     sync.Mutex
	buf    []byte
	first  time.Time
	writes int
	ready  chan struct{}
	ticked chan struct{} // closed at the first tick after ready
}

func newTickWriter() *tickWriter {
	return &tickWriter{ready: make(chan struct{}), ticked: make(chan struct{})}
}

func (w *tickWriter) Write(p []byte) (int, error) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.writes == 0 {
		w.first = now
	}
	w.writes++
	if len(w.buf) < 1<<12 {
		w.buf = append(w.buf, p...)
	}
	s := string(w.buf)
	if strings.Contains(s, "ready") {
		select {
		case <-w.ready:
		default:
			close(w.ready)
		}
	}
	if strings.Contains(s, "tick") {
		select {
		case <-w.ticked:
		default:
			close(w.ticked)
		}
	}
	return len(p), nil
}

func (w *tickWriter) firstWrite() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.first
}

// memBenchmark suspends the mem program with mib MiB filled, runs times,
// and resumes each snapshot in a fresh runtime, as gate run --snapshot
// and gate resume would: the program's runtime and every resuming runtime
// share a compiled-code cache directory, into which the program's runtime
// compiles the resume module after the first snapshot (PrepareResume).
// Each snapshot is also resumed with an empty cache directory (cold).
func memBenchmark(tmp, memWasm string, mib, runs int) (*memResult, error) {
	ctx := context.Background()
	binary, err := os.ReadFile(memWasm)
	if err != nil {
		return nil, err
	}
	cacheDir := filepath.Join(tmp, fmt.Sprintf("cache-mem-%d", mib))
	cfg := runtime.Config{CacheDir: cacheDir}
	rt, err := runtime.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer rt.Close(ctx)
	m, err := rt.CompileSuspendable(ctx, binary, 0)
	if err != nil {
		return nil, err
	}
	defer m.Close(ctx)
	r := &memResult{mib: mib}
	file := filepath.Join(tmp, fmt.Sprintf("mem-%d.snapshot", mib))
	args := []string{"mem", strconv.Itoa(mib), "1000000"}
	for i := range runs {
		w := newTickWriter()
		// As gate run --snapshot does: the snapshot file's pages are
		// reserved as the memory grows (internal/snapfile).
		sf, err := snapfile.Create(file, nil)
		if err != nil {
			return nil, err
		}
		inst, err := rt.Instantiate(ctx, m, runtime.Options{Args: args, Stdout: w, MemoryGrown: reserveAsGate(sf, binary)})
		if err != nil {
			sf.Discard()
			return nil, err
		}
		// Suspend at varying moments of the loop.
		t0, t1, err := suspendWhenTicked(ctx, inst, w, time.Duration(5+7*i%20)*time.Millisecond)
		if err != nil {
			sf.Discard()
			return nil, err
		}
		n, err := inst.WriteSnapshot(sf)
		if err != nil {
			sf.Discard()
			return nil, err
		}
		t2 := time.Now()
		// Sync and rename.
		if err := sf.Commit(); err != nil {
			return nil, err
		}
		t3 := time.Now()
		// The encoding alone, once more, to nowhere.
		t4 := time.Now()
		if _, err := inst.WriteSnapshot(io.Discard); err != nil {
			return nil, err
		}
		r.encode = append(r.encode, time.Since(t4))
		if i == 0 {
			// What gate run would do after writing its snapshot.
			t := time.Now()
			if err := inst.PrepareResume(ctx, 0); err != nil {
				return nil, err
			}
			r.prepare = time.Since(t)
		}
		r.memSize, r.snapSize = int64(inst.MemorySize()), n
		inst.Close(ctx)
		r.unwind, r.written, r.fsync = append(r.unwind, t1.Sub(t0)), append(r.written, t2.Sub(t1)), append(r.fsync, t3.Sub(t2))
		r.suspend, r.durable = append(r.suspend, t2.Sub(t0)), append(r.durable, t3.Sub(t0))

		// Resume in a fresh runtime, as gate resume would, with the
		// cache directory, then cold.
		for _, cold := range []bool{false, true} {
			c := cfg
			if cold {
				c.CacheDir = filepath.Join(tmp, fmt.Sprintf("cache-cold-%d-%d", mib, i))
			}
			total, read, call, wait, err := resumeOnce(ctx, c, file)
			if err != nil {
				return nil, err
			}
			if cold {
				r.cold, r.coldCall = append(r.cold, total), append(r.coldCall, call)
				os.RemoveAll(c.CacheDir)
				continue
			}
			r.resume = append(r.resume, total)
			r.read, r.resumeCall, r.wait = append(r.read, read), append(r.resumeCall, call), append(r.wait, wait)
		}
	}
	return r, nil
}

// suspendable is a program the mem benchmarks run and suspend: a
// runtime.Instance, or an executor.Instance in the sandbox.
type suspendable interface {
	Run(ctx context.Context, timeout time.Duration) (uint32, error)
	Suspend()
}

// suspendWhenTicked runs inst until its first output to w, waits wait,
// suspends it and waits for Run to return ErrSuspended. It returns when
// it asked for the suspension and when Run returned.
func suspendWhenTicked(ctx context.Context, inst suspendable, w *tickWriter, wait time.Duration) (asked, returned time.Time, err error) {
	done := make(chan error, 1)
	go func() {
		_, err := inst.Run(ctx, 0)
		done <- err
	}()
	select {
	case <-w.ticked:
	case err := <-done:
		return asked, returned, fmt.Errorf("program ended before it was suspended: %v", err)
	case <-time.After(time.Minute):
		return asked, returned, errors.New("no output within a minute")
	}
	time.Sleep(wait)
	goruntime.GC() // the collector's work from the run should not count
	asked = time.Now()
	inst.Suspend()
	if err := <-done; !errors.Is(err, runtime.ErrSuspended) {
		return asked, returned, fmt.Errorf("run returned %v, not ErrSuspended", err)
	}
	return asked, time.Now(), nil
}

// reserveAsGate returns the Options.MemoryGrown with which gate run
// --snapshot reserves the pages of the snapshot file sf of the program
// binary (cmd/gate's runProgram): the memory's size and one and a half
// times the program's.
func reserveAsGate(sf *snapfile.File, binary []byte) func(uint64) {
	headroom := int64(len(binary)) * 3 / 2
	return func(size uint64) { sf.Reserve(int64(size) + headroom) }
}

// resumeOnce resumes the snapshot in file in a fresh runtime with cfg
// (created before the clock starts), runs it until its first output and
// suspends it again. It returns the time from reading the file to that
// output, and its parts: os.ReadFile, Runtime.Resume, Run to the output.
func resumeOnce(ctx context.Context, cfg runtime.Config, file string) (total, read, call, wait time.Duration, err error) {
	rt, err := runtime.New(ctx, cfg)
	if err != nil {
		return
	}
	defer rt.Close(ctx)
	goruntime.GC()
	w := newTickWriter()
	t0 := time.Now()
	b, err := os.ReadFile(file)
	if err != nil {
		return
	}
	t1 := time.Now()
	inst, err := rt.Resume(ctx, b, 0, runtime.Options{Stdout: w})
	if err != nil {
		return
	}
	defer inst.Close(ctx)
	t2 := time.Now()
	if _, _, err = suspendWhenTicked(ctx, inst, w, 0); err != nil {
		err = fmt.Errorf("resumed: %w", err)
		return
	}
	t3 := w.firstWrite()
	return t3.Sub(t0), t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), nil
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// reportSuspend formats the suspend part as markdown.
func reportSuspend(r *suspendResults, n int) string {
	var w strings.Builder
	fmt.Fprintf(&w, "\n### Suspendable transform\n\n")
	fmt.Fprintf(&w, "wasm-opt: %s. Load average (1, 5, 15 min) before this part: %s; after: %s.\n\n",
		firstLine(command("wasm-opt", "--version")), r.loadBefore, r.loadAfter)

	fmt.Fprintf(&w, "#### CPU-bound program: plain, transformed, asyncify\n\n")
	fmt.Fprintf(&w, "`%s %d` compiled with package runtime in a child process (the benchmark binary itself), "+
		"time of `Instance.Run` only (compilation excluded), %d runs each after a warm-up run, the variants taking turns; "+
		"all printed the same checksums. Each variant runs with the Go runtime's defaults and with `GODEBUG=asyncpreemptoff=1`.\n\n",
		cpuSource, r.size, n)
	fmt.Fprintf(&w, "| Variant | Runs (s) | Median | vs plain |\n|---|---|---|---|\n")
	var plain time.Duration
	for _, v := range r.variants {
		if v.kind == "plain" && strings.HasPrefix(v.name, "plain") {
			plain = median(v.times)
		}
		runs := make([]string, len(v.times))
		for i, d := range v.times {
			runs[i] = fmt.Sprintf("%.2f", d.Seconds())
		}
		med := median(v.times)
		fmt.Fprintf(&w, "| %s | %s | %.3f s | %.2fx |\n", v.name, strings.Join(runs, " "), med.Seconds(), ratio(med, plain))
	}
	fmt.Fprintf(&w, "\n(vs plain: against the plain row with the same GODEBUG; target for transformed: at most 1.25x.)\n\n")
	for _, v := range r.variants[:4] {
		fmt.Fprintf(&w, "- %s: %s\n", v.name, v.note)
	}

	fmt.Fprintf(&w, "\n#### Transform time\n\n")
	fmt.Fprintf(&w, "`wasm.Decode`, `wasm.Validate`, `suspend.Transform`, `wasm.Encode` of the Go modules, in this process, median of %d runs each (a GC before each run). MB/s: input size in 10^6 bytes per second.\n\n", max(n, 5))
	fmt.Fprintf(&w, "| Module | Output | Decode | Validate | Transform | Encode | All four | MB/s, all four | MB/s, transform alone |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, t := range r.transforms {
		mbps := func(d time.Duration) float64 { return float64(t.size) / 1e6 / d.Seconds() }
		fmt.Fprintf(&w, "| %s, %s | %s | %s | %s | %s | %s | %s | **%.1f** | %.1f |\n", t.module, formatBytes(t.size), formatBytes(int64(t.outSize)),
			formatDuration(t.decode), formatDuration(t.validate), formatDuration(t.transform), formatDuration(t.encode), formatDuration(t.all),
			mbps(t.all), mbps(t.transform))
	}
	fmt.Fprintf(&w, "\n(target: at least 20 MB/s)\n")

	fmt.Fprintf(&w, "\n#### Suspend and resume latency, snapshot size\n\n")
	fmt.Fprintf(&w, "`%s MIB`: fills MIB MiB with non-zero data, then reads it in 64 KiB chunks, printing a flushed line per chunk. "+
		"Suspend: from `Instance.Suspend` (at a varying moment of the loop) to the snapshot written by `Instance.WriteSnapshot` "+
		"(in the page cache) into a temporary file whose pages were reserved as the memory grew (`internal/snapfile`, as `gate run --snapshot` does), "+
		"and to the file fsync'd and renamed to its path (durable); the parts: the unwind (until `Run` returns `ErrSuspended`), `WriteSnapshot` to the file, fsync and rename; "+
		"and, after it, `WriteSnapshot` to `io.Discard`: the encoding alone. "+
		"Resume: in a fresh `runtime.New` whose `CacheDir` is the one the program ran with, into which `PrepareResume` compiled the resume module after the first snapshot "+
		"(as `gate run --snapshot` then `gate resume` with the default cache directory would), "+
		"from reading the file to the program's first output: `os.ReadFile`, `Runtime.Resume` (parse, check, instantiate the compiled resume module, copy the memory in), then `Run` until its first write. "+
		"Cold: the same in a fresh runtime with an empty cache directory (the resume module compiled from scratch). "+
		"p50 (min–max) over %d runs each.\n\n", memSource, max(n, 7))
	fmt.Fprintf(&w, "| In use | Memory | Snapshot | Suspend p50, to page cache | to disk (fsync) p50 | unwind, WriteSnapshot, fsync + rename (p50) | encoding alone (p50) | Resume p50, warm cache | read, Resume, to 1st output (p50) | Resume p50, cold | PrepareResume |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	span := func(ds []time.Duration) string {
		return fmt.Sprintf("**%s** (%s–%s)", formatDuration(median(ds)), formatDuration(slices.Min(ds)), formatDuration(slices.Max(ds)))
	}
	for _, m := range r.mems {
		fmt.Fprintf(&w, "| %d MiB | %s | %s | %s | %s | %s, %s, %s | %s | %s | %s, %s, %s | %s | %s |\n",
			m.mib, formatBytes(m.memSize), formatBytes(m.snapSize),
			span(m.suspend), span(m.durable),
			formatDuration(median(m.unwind)), formatDuration(median(m.written)), formatDuration(median(m.fsync)),
			formatDuration(median(m.encode)),
			span(m.resume),
			formatDuration(median(m.read)), formatDuration(median(m.resumeCall)), formatDuration(median(m.wait)),
			span(m.cold), formatDuration(m.prepare))
	}
	fmt.Fprintf(&w, "\n(targets at 64 MiB: suspend and resume each at most 50 ms.)\n")

	fmt.Fprintf(&w, "\n#### The same in the sandboxed executor\n\n")
	sb := r.sandboxed
	fmt.Fprintf(&w, "`mem.c %d` in one sandboxed executor started from the gate binary (`executor.New`), as `gate run --snapshot` and a server run it; "+
		"suspend: from `Instance.Suspend` to `WriteSnapshotTo` (the executor writes the snapshot from the instance's memory into the descriptor of a `snapfile.File` reserved through `MemoryGrown`, passed to it over its socket; the snapshot does not cross the socket), and to it synced and renamed; "+
		"resume: `os.Open`, `Executor.ResumeFile` (the file's descriptor passed to the executor, which reads the snapshot from it into one buffer, and keeps the compiled resume module after the first resume) and `Run` to the first output. p50 (min–max) over %d runs (resume: the first, cold, apart).\n\n", sb.mib, len(sb.suspend))
	fmt.Fprintf(&w, "| In use | Snapshot | Suspend p50, to page cache | to disk (fsync) p50 | Resume p50, warm | open, Executor.ResumeFile (p50) | First resume (compiles) |\n|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&w, "| %d MiB | %s | %s | %s | %s | %s, %s | %s |\n", sb.mib, formatBytes(sb.snapSize), span(sb.suspend), span(sb.durable), span(sb.resume),
		formatDuration(median(sb.open)), formatDuration(median(sb.resumed)), formatDuration(sb.firstResume))

	fmt.Fprintf(&w, "\n#### gate run --snapshot and gate resume, 64 MiB, end to end\n\n")
	fmt.Fprintf(&w, "The gate binary (`CGO_ENABLED=0`) runs `mem.c 64` with `--snapshot` and a `--cache-dir`; after its first line of output "+
		"and 5–25 ms, SIGTERM, timed to gate's `suspended: snapshot written` line (the snapshot synced and renamed: durable). "+
		"Then `gate resume` of that snapshot, timed from starting the process to the program's first line, and suspended again the same way. "+
		"The sandboxed executor has no compiled-code cache: it compiles the resume module on every resume. p50 (min–max) over %d runs each.\n\n", len(r.cli[0].suspendRun))
	fmt.Fprintf(&w, "| --sandbox | gate run: SIGTERM to snapshot written | gate resume: start to first output | gate resume: SIGTERM to snapshot written |\n|---|---|---|---|\n")
	for _, c := range r.cli {
		fmt.Fprintf(&w, "| %s | %s | %s | %s |\n", c.sandbox, span(c.suspendRun), span(c.resume), span(c.suspendResumed))
	}
	return w.String()
}
