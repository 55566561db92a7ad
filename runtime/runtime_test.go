package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/runtime"
	"github.com/gate-wasm/gate/wasm"
)

// newRuntime returns a runtime that the test closes.
func newRuntime(t *testing.T, cfg runtime.Config) *runtime.Runtime {
	t.Helper()
	rt, err := runtime.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("runtime.New(%+v): %v", cfg, err)
	}
	t.Cleanup(func() {
		if err := rt.Close(context.Background()); err != nil {
			t.Errorf("Runtime.Close: %v", err)
		}
	})
	return rt
}

// compile compiles the wasm file at path with the default memory limit.
func compile(t *testing.T, rt *runtime.Runtime, path string) *runtime.Module {
	t.Helper()
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := rt.Compile(context.Background(), bin, 0)
	if err != nil {
		t.Fatalf("Compile(%s): %v", path, err)
	}
	return m
}

// outcome is how one run ended.
type outcome struct {
	code   uint32
	err    error
	stdout string
	stderr string
}

// run instantiates m with opts (whose Stdout and Stderr it replaces),
// runs it and closes it.
func run(t *testing.T, ctx context.Context, rt *runtime.Runtime, m *runtime.Module, timeout time.Duration, opts runtime.Options) outcome {
	t.Helper()
	var stdout, stderr bytes.Buffer
	opts.Stdout, opts.Stderr = &stdout, &stderr
	inst, err := rt.Instantiate(ctx, m, opts)
	if err != nil {
		return outcome{err: err}
	}
	code, err := inst.Run(ctx, timeout)
	if cerr := inst.Close(context.Background()); cerr != nil {
		t.Errorf("Instance.Close: %v", cerr)
	}
	return outcome{code: code, err: err, stdout: stdout.String(), stderr: stderr.String()}
}

func TestRunHello(t *testing.T) {
	for _, interpreter := range []bool{false, true} {
		t.Run(fmt.Sprintf("interpreter=%v", interpreter), func(t *testing.T) {
			rt := newRuntime(t, runtime.Config{Interpreter: interpreter})
			m := compile(t, rt, testprog.C(t, "examples/c/hello.c"))
			got := run(t, context.Background(), rt, m, 0, runtime.Options{Args: []string{"hello", "Ada", "Grace"}})
			if got.err != nil || got.code != 0 {
				t.Fatalf("Run: code %d, error %v", got.code, got.err)
			}
			if want := "Hello, Ada!\nHello, Grace!\n"; got.stdout != want {
				t.Errorf("stdout %q, want %q", got.stdout, want)
			}
		})
	}
}

// TestInstantiateMany runs one compiled module in many instances at once:
// each has its own arguments, memory and output.
func TestInstantiateMany(t *testing.T) {
	rt := newRuntime(t, runtime.Config{})
	m := compile(t, rt, testprog.C(t, "examples/c/hello.c"))
	const instances = 200
	var wg sync.WaitGroup
	errs := make(chan error, instances)
	for i := range instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("instance-%d", i)
			var stdout bytes.Buffer
			inst, err := rt.Instantiate(context.Background(), m, runtime.Options{Args: []string{"hello", name}, Stdout: &stdout})
			if err != nil {
				errs <- fmt.Errorf("%s: Instantiate: %w", name, err)
				return
			}
			defer inst.Close(context.Background())
			if code, err := inst.Run(context.Background(), 0); err != nil || code != 0 {
				errs <- fmt.Errorf("%s: Run: code %d, error %v", name, code, err)
				return
			}
			if want := "Hello, " + name + "!\n"; stdout.String() != want {
				errs <- fmt.Errorf("%s: stdout %q, want %q", name, stdout.String(), want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestRunTwice(t *testing.T) {
	rt := newRuntime(t, runtime.Config{})
	m := compile(t, rt, testprog.C(t, "examples/c/hello.c"))
	inst, err := rt.Instantiate(context.Background(), m, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	if _, err := inst.Run(context.Background(), 0); err != nil {
		t.Fatalf("first Run: %v", err)
	}
	if _, err := inst.Run(context.Background(), 0); err == nil || !strings.Contains(err.Error(), "already run") {
		t.Errorf("second Run: %v, want an error saying the instance has already run", err)
	}
}

func TestExitStatus(t *testing.T) {
	rt := newRuntime(t, runtime.Config{})
	m := compile(t, rt, testprog.C(t, "internal/testprog/src/c/exit.c"))
	for _, code := range []uint32{0, 1, 42, 255, 256, 70000} {
		got := run(t, context.Background(), rt, m, 0, runtime.Options{Args: []string{"exit", fmt.Sprint(code)}})
		if got.err != nil || got.code != code {
			t.Errorf("exit(%d): code %d, error %v", code, got.code, got.err)
		}
		if got.stdout != "exiting\n" {
			t.Errorf("exit(%d): stdout %q, want the output flushed before exit", code, got.stdout)
		}
	}
}

// TestTrapReasons checks that every trap is recognized and named: the
// engine's trap errors are matched by their type's name, which a wazero
// upgrade could change.
func TestTrapReasons(t *testing.T) {
	rt := newRuntime(t, runtime.Config{})
	m := compile(t, rt, testprog.Wat(t, "internal/testprog/src/wat/traps.wat"))
	reasons := []string{
		1: "integer divide by zero",
		2: "integer overflow",
		3: "invalid conversion to integer",
		4: "unreachable executed",
		5: "out-of-bounds memory access",
		6: "out-of-bounds table access",
		7: "indirect call type mismatch",
		// wazero does not tell a null entry from an index past the end.
		8: "out-of-bounds table access",
		9: "stack exhausted",
	}
	for argc, want := range reasons {
		if argc == 0 {
			continue
		}
		got := run(t, context.Background(), rt, m, 0, runtime.Options{Args: make([]string, argc)})
		var trap *runtime.TrapError
		if !errors.As(got.err, &trap) {
			t.Errorf("argc %d: Run returned code %d, error %v; want a trap (%s)", argc, got.code, got.err, want)
			continue
		}
		if trap.Reason != want {
			t.Errorf("argc %d: trap %q, want %q", argc, trap.Reason, want)
		}
		if len(trap.Stack) == 0 && want != "stack exhausted" {
			t.Errorf("argc %d: trap %q has no wasm stack", argc, trap.Reason)
		}
	}
	if got := run(t, context.Background(), rt, m, 0, runtime.Options{Args: make([]string, 10)}); got.err != nil || got.code != 0 {
		t.Errorf("argc 10: code %d, error %v; want a normal return", got.code, got.err)
	}
}

func TestTimeout(t *testing.T) {
	spin := testprog.C(t, "internal/testprog/src/c/spin.c")
	t.Run("interruptible", func(t *testing.T) {
		rt := newRuntime(t, runtime.Config{Interruptible: true})
		m := compile(t, rt, spin)
		start := time.Now()
		got := run(t, context.Background(), rt, m, 200*time.Millisecond, runtime.Options{Args: []string{"spin"}})
		var limit *runtime.LimitError
		if !errors.As(got.err, &limit) || limit.Limit != "timeout" {
			t.Fatalf("Run: code %d, error %v; want a timeout LimitError", got.code, got.err)
		}
		if want := "limit: wall-clock time limit of 200ms reached"; limit.Error() != want {
			t.Errorf("error %q, want %q", limit.Error(), want)
		}
		if elapsed := time.Since(start); elapsed > 30*time.Second {
			t.Errorf("a 200ms timeout took %v", elapsed)
		}
	})
	t.Run("not interruptible", func(t *testing.T) {
		rt := newRuntime(t, runtime.Config{})
		m := compile(t, rt, spin)
		got := run(t, context.Background(), rt, m, time.Second, runtime.Options{Args: []string{"spin", "1"}})
		if !errors.Is(got.err, runtime.ErrNotInterruptible) {
			t.Errorf("Run with a timeout: %v, want ErrNotInterruptible", got.err)
		}
	})
}

// TestCancelBlocked cancels the context of a program blocked in a read
// (a pipe nobody writes) or a sleep: even without stop checks in compiled
// code, the blocking call ends and Run returns the context's cause.
func TestCancelBlocked(t *testing.T) {
	cases := []struct {
		name string
		prog func(t *testing.T) string
		args []string
	}{
		{"read", func(t *testing.T) string { return testprog.C(t, "examples/c/filter.c") }, []string{"filter"}},
		{"sleep", func(t *testing.T) string { return testprog.Go(t, "examples/go/sleepers") }, []string{"sleepers", "-step", "1h"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rt := newRuntime(t, runtime.Config{})
			m := compile(t, rt, c.prog(t))
			r, w := io.Pipe()
			defer w.Close()
			cause := errors.New("the test is done waiting")
			ctx, cancel := context.WithCancelCause(context.Background())
			time.AfterFunc(200*time.Millisecond, func() { cancel(cause) })
			got := run(t, ctx, rt, m, 0, runtime.Options{Args: c.args, Stdin: r})
			if !errors.Is(got.err, cause) {
				t.Errorf("Run: code %d, error %v; want the context's cause", got.code, got.err)
			}
		})
	}
}

// TestCancelSpinning cancels a program that computes without calling the
// host. An interruptible runtime stops it; any other gives up on it after
// a moment and leaves it to finish (it is bounded here, so that it does).
func TestCancelSpinning(t *testing.T) {
	spin := testprog.C(t, "internal/testprog/src/c/spin.c")
	for _, interruptible := range []bool{true, false} {
		t.Run(fmt.Sprintf("interruptible=%v", interruptible), func(t *testing.T) {
			rt := newRuntime(t, runtime.Config{Interruptible: interruptible})
			m := compile(t, rt, spin)
			args := []string{"spin"} // forever
			if !interruptible {
				args = append(args, "3000000000") // a few seconds
			}
			cause := errors.New("cancelled by the test")
			ctx, cancel := context.WithCancelCause(context.Background())
			time.AfterFunc(100*time.Millisecond, func() { cancel(cause) })
			got := run(t, ctx, rt, m, 0, runtime.Options{Args: args})
			if !errors.Is(got.err, cause) {
				t.Errorf("Run: code %d, error %v; want the context's cause", got.code, got.err)
			}
		})
	}
}

func TestMemoryLimit(t *testing.T) {
	rt := newRuntime(t, runtime.Config{})
	bin, err := os.ReadFile(testprog.C(t, "internal/testprog/src/c/grow.c"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := rt.Compile(context.Background(), bin, 4<<20+1000) // rounded down to 64 pages
	if err != nil {
		t.Fatal(err)
	}
	if m.MemoryLimit() != 4<<20 {
		t.Errorf("MemoryLimit %d, want %d", m.MemoryLimit(), 4<<20)
	}
	var stdout bytes.Buffer
	inst, err := rt.Instantiate(context.Background(), m, runtime.Options{Args: []string{"grow"}, Stdout: &stdout})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	if code, err := inst.Run(context.Background(), 0); err != nil || code != 0 {
		t.Fatalf("Run: code %d, error %v", code, err)
	}
	if want := "pages=64 failed=1\n"; stdout.String() != want {
		t.Errorf("stdout %q, want %q", stdout.String(), want)
	}
	if inst.MemorySize() != 4<<20 {
		t.Errorf("MemorySize %d after growing to the cap, want %d", inst.MemorySize(), 4<<20)
	}

	if _, err := rt.Compile(context.Background(), bin, 1000); err == nil || !strings.Contains(err.Error(), "less than one page") {
		t.Errorf("Compile with a limit under one page: %v", err)
	}
	huge, err := os.ReadFile(testprog.Wat(t, "internal/testprog/src/wat/huge_memory.wat"))
	if err != nil {
		t.Fatal(err)
	}
	var modErr *runtime.ModuleError
	if _, err := rt.Compile(context.Background(), huge, 0); !errors.As(err, &modErr) {
		t.Errorf("Compile of a module declaring 65536 pages: %v, want a ModuleError", err)
	}
}

func TestCompileRefuses(t *testing.T) {
	rt := newRuntime(t, runtime.Config{})
	wat := func(name string) []byte {
		b, err := os.ReadFile(testprog.Wat(t, "internal/testprog/src/wat/"+name+".wat"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name   string
		binary []byte
		want   string
	}{
		{"empty", nil, "invalid module"},
		{"garbage", []byte("#!/bin/sh\necho hi\n"), "invalid module"},
		{"header only", []byte("\x00asm\x01\x00\x00\x00"), "no _start"},
		{"env.nope", wat("import_nope"), "env.nope"},
		{"imported memory", wat("import_memory"), "imports memory"},
		{"bad signature", wat("bad_signature"), "with type"},
		{"no _start", wat("no_start"), "no _start"},
		// call_indirect of type 24 where there is one type: wazero v1.12's
		// validator panics on it (found by TestCorruptModules in cmd/gate).
		{"call_indirect of an unknown type", []byte("\x00asm\x01\x00\x00\x00" +
			"\x01\x04\x01\x60\x00\x00" + // type section: () -> ()
			"\x03\x02\x01\x00" + // function section
			"\x04\x04\x01\x70\x00\x01" + // table section: funcref, min 1
			"\x07\x0a\x01\x06_start\x00\x00" + // export _start
			"\x0a\x09\x01\x07\x00\x41\x00\x11\x18\x00\x0b"), // i32.const 0; call_indirect 24 0; end
			"unknown type 24"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := rt.Compile(context.Background(), c.binary, 0)
			var modErr *runtime.ModuleError
			if !errors.As(err, &modErr) {
				t.Fatalf("Compile: %v, want a ModuleError", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("Compile: %q, want it to mention %q", err, c.want)
			}
		})
	}
}

// TestCacheDir checks that code compiled with and without stop checks is
// kept apart: wazero's cache key does not tell them apart.
func TestCacheDir(t *testing.T) {
	dir := t.TempDir()
	hello := testprog.C(t, "examples/c/hello.c")
	for _, interruptible := range []bool{false, true} {
		for range 2 { // the second time from the cache
			rt := newRuntime(t, runtime.Config{CacheDir: dir, Interruptible: interruptible})
			m := compile(t, rt, hello)
			if got := run(t, context.Background(), rt, m, 0, runtime.Options{Args: []string{"hello", "cache"}}); got.stdout != "Hello, cache!\n" {
				t.Errorf("interruptible=%v: stdout %q, error %v", interruptible, got.stdout, got.err)
			}
		}
	}
	for _, sub := range []string{"plain", "interruptible"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil || len(entries) == 0 {
			t.Errorf("cache directory %s: %v, %d entries; want compiled code in it", sub, err, len(entries))
		}
	}
	// A timeout works on code read back from the cache, even when the
	// same module was compiled without stop checks first.
	spin := testprog.C(t, "internal/testprog/src/c/spin.c")
	for _, interruptible := range []bool{false, true, true} {
		rt := newRuntime(t, runtime.Config{CacheDir: dir, Interruptible: interruptible})
		m := compile(t, rt, spin)
		if !interruptible {
			continue
		}
		got := run(t, context.Background(), rt, m, 100*time.Millisecond, runtime.Options{Args: []string{"spin"}})
		var limit *runtime.LimitError
		if !errors.As(got.err, &limit) {
			t.Errorf("spin with a timeout: code %d, error %v; want a LimitError", got.code, got.err)
		}
	}
}

// TestNoMemory runs a module without linear memory that passes pointers
// to the ABI: they are out of bounds, not a crash.
func TestNoMemory(t *testing.T) {
	rt := newRuntime(t, runtime.Config{})
	m := compile(t, rt, testprog.Wat(t, "internal/testprog/src/wat/no_memory.wat"))
	const efault = 21
	if got := run(t, context.Background(), rt, m, 0, runtime.Options{}); got.err != nil || got.code != efault {
		t.Errorf("fd_write without memory: code %d, error %v; want exit status %d (EFAULT)", got.code, got.err, efault)
	}
}

// grownSizes records what Options.MemoryGrown reports.
type grownSizes struct{ sizes []uint64 }

func (g *grownSizes) grown(size uint64) { g.sizes = append(g.sizes, size) }

// check fails t unless the sizes start at first, grow a page at a time
// and end at last.
func (g *grownSizes) check(t *testing.T, what string, first, last uint64) {
	t.Helper()
	if len(g.sizes) == 0 {
		t.Fatalf("%s: MemoryGrown never called", what)
	}
	if g.sizes[0] != first || g.sizes[len(g.sizes)-1] != last {
		t.Fatalf("%s: MemoryGrown reported %d to %d bytes, want %d to %d", what, g.sizes[0], g.sizes[len(g.sizes)-1], first, last)
	}
	for k := 1; k < len(g.sizes); k++ {
		if g.sizes[k] != g.sizes[k-1]+wasm.PageSize {
			t.Fatalf("%s: MemoryGrown reported %d after %d bytes; grow.c grows a page at a time", what, g.sizes[k], g.sizes[k-1])
		}
	}
}

// TestMemoryGrown checks that Options.MemoryGrown sees the memory's first
// size and every growth, up to the cap (a refused growth is not
// reported), and that a resumed instance reports the snapshot's size
// first and its growth after.
func TestMemoryGrown(t *testing.T) {
	ctx := context.Background()
	rt := newRuntime(t, runtime.Config{})
	bin, err := os.ReadFile(testprog.C(t, "internal/testprog/src/c/grow.c"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := rt.CompileSuspendable(ctx, bin, 40*wasm.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	min, _, err := wasm.Memory(bin)
	if err != nil {
		t.Fatal(err)
	}
	// Uninterrupted, to the cap.
	var g grownSizes
	var out bytes.Buffer
	inst, err := rt.Instantiate(ctx, m, runtime.Options{Args: []string{"grow", "1000"}, Stdout: &out, MemoryGrown: g.grown})
	if err != nil {
		t.Fatal(err)
	}
	if code, err := inst.Run(ctx, 0); err != nil || code != 0 {
		t.Fatalf("Run: code %d, error %v", code, err)
	}
	inst.Close(ctx)
	if want := "pages=40 failed=1\n"; out.String() != want {
		t.Fatalf("stdout %q, want %q", out.String(), want)
	}
	g.check(t, "uninterrupted", uint64(min.Min)*wasm.PageSize, 40*wasm.PageSize)

	// Suspended halfway, then resumed with MemoryGrown: the first check
	// site, of 8, 16, 32, ..., where the memory has grown but not to
	// the end.
	var at uint64
	for n := 8; ; n *= 2 {
		if n > 1<<16 {
			t.Fatal("no suspension between the memory's first and last size")
		}
		g = grownSizes{}
		out.Reset()
		inst, err = rt.Instantiate(ctx, m, runtime.Options{Args: []string{"grow", "30"}, Stdout: &out, MemoryGrown: g.grown})
		if err != nil {
			t.Fatal(err)
		}
		runtime.SuspendAtCheck(inst, n)
		if _, err := inst.Run(ctx, 0); !errors.Is(err, runtime.ErrSuspended) {
			t.Fatalf("Run to check %d: %v, want ErrSuspended", n, err)
		}
		at = inst.MemorySize()
		g.check(t, "before suspending", uint64(min.Min)*wasm.PageSize, at)
		if at > uint64(min.Min)*wasm.PageSize && at < 30*wasm.PageSize {
			break
		}
		inst.Close(ctx)
	}
	snap, err := inst.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	inst.Close(ctx)
	g = grownSizes{}
	resumed, err := newRuntime(t, runtime.Config{}).Resume(ctx, snap, 0, runtime.Options{Stdout: &out, MemoryGrown: g.grown})
	if err != nil {
		t.Fatal(err)
	}
	defer resumed.Close(ctx)
	if code, err := resumed.Run(ctx, 0); err != nil || code != 0 {
		t.Fatalf("resumed Run: code %d, error %v", code, err)
	}
	if want := "pages=30 failed=0\n"; out.String() != want {
		t.Fatalf("stdout %q, want %q", out.String(), want)
	}
	g.check(t, "resumed", at, 30*wasm.PageSize)
}
