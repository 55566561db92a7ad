package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gate-wasm/gate/internal/testprog"
)

// gateBinary is the gate command built for these tests: they run it as a
// user would, as a separate process.
var gateBinary string

func TestMain(m *testing.M) {
	if os.Getenv(rusageEnv) != "" {
		os.Exit(rusageMain())
	}
	dir, err := os.MkdirTemp("", "gate-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gateBinary = filepath.Join(dir, "gate")
	// CGO_ENABLED=0, as gate is built: a static binary, whose every
	// thread the executor's sandbox can hold.
	build := exec.Command("go", "build", "-o", gateBinary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building gate: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is how one gate process ended.
type result struct {
	code           int
	stdout, stderr string
}

// gate runs the gate binary with args and stdin, with a private compiled
// code cache.
func gate(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	if len(args) > 0 && args[0] == "run" {
		args = append([]string{"run", "--cache-dir", cacheDir(t)}, args[1:]...)
	}
	// No test needs more than a minute; a hung gate fails its test rather
	// than the whole package.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gateBinary, args...)
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errorsAs(err, &exit) {
		t.Fatalf("gate %v: %v", args, err)
	}
	r := result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic:") {
		t.Errorf("gate %v printed a Go panic:\n%s", args, r.stderr)
	}
	return r
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*target = e
	return ok
}

var sharedCacheDir string

func cacheDir(t *testing.T) string {
	if sharedCacheDir == "" {
		sharedCacheDir = filepath.Join(filepath.Dir(gateBinary), "cache")
	}
	return sharedCacheDir
}

// expect checks the exit status and that stderr is exactly the given
// lines (none when stderr is "").
func (r result) expect(t *testing.T, code int, stderr string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit status %d, want %d; stderr:\n%s", r.code, code, r.stderr)
	}
	if r.stderr != stderr {
		t.Errorf("stderr:\n%q\nwant:\n%q", r.stderr, stderr)
	}
}

func TestHelloArgs(t *testing.T) {
	for _, prog := range []string{testprog.C(t, "examples/c/hello.c"), testprog.Go(t, "examples/go/hello")} {
		r := gate(t, nil, "run", prog, "Ada", "Grace Hopper")
		r.expect(t, 0, "")
		if want := "Hello, Ada!\nHello, Grace Hopper!\n"; r.stdout != want {
			t.Errorf("%s: stdout %q, want %q", filepath.Base(prog), r.stdout, want)
		}
	}
}

func TestArgsAndEnv(t *testing.T) {
	prog := testprog.C(t, "internal/testprog/src/c/env.c")
	r := gate(t, nil, "run", "--env", "A=1", "--env", "B=x=y", "--env", "EMPTY=", prog, "--not-a-gate-flag", "", "two words")
	r.expect(t, 0, "")
	want := "arg 0=" + filepath.Base(prog) + "\narg 1=--not-a-gate-flag\narg 2=\narg 3=two words\nenv A=1\nenv B=x=y\nenv EMPTY=\n"
	if r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
	// The host's environment does not leak into the program.
	t.Setenv("GATE_SECRET", "leak")
	if r := gate(t, nil, "run", prog); strings.Contains(r.stdout, "GATE_SECRET") {
		t.Errorf("host environment leaked: %s", r.stdout)
	}
	gate(t, nil, "run", "--env", "NOEQUALS", prog).expect(t, 2, "gate: run: --env \"NOEQUALS\": want KEY=VALUE\n")
}

func TestFilters(t *testing.T) {
	input := "one\ntwo\n\nthree"
	r := gate(t, strings.NewReader(input), "run", testprog.C(t, "examples/c/filter.c"))
	r.expect(t, 0, "filter: 14 bytes\n")
	if r.stdout != strings.ToUpper(input) {
		t.Errorf("C filter: stdout %q", r.stdout)
	}
	r = gate(t, strings.NewReader(input), "run", testprog.Go(t, "examples/go/filter"))
	r.expect(t, 0, "")
	if want := "1: one\n2: two\n3: \n4: three\n"; r.stdout != want {
		t.Errorf("Go filter: stdout %q, want %q", r.stdout, want)
	}
}

// TestFilterLarge sends more than the host buffers at once through both
// filters and checks every byte.
func TestFilterLarge(t *testing.T) {
	var in bytes.Buffer
	for i := 0; in.Len() < 3<<20; i++ {
		fmt.Fprintf(&in, "line %d %x\n", i, i*7919)
	}
	r := gate(t, bytes.NewReader(in.Bytes()), "run", testprog.C(t, "examples/c/filter.c"))
	r.expect(t, 0, fmt.Sprintf("filter: %d bytes\n", in.Len()))
	if r.stdout != strings.ToUpper(in.String()) {
		t.Errorf("C filter corrupted %d bytes of input", in.Len())
	}
	r = gate(t, bytes.NewReader(in.Bytes()), "run", testprog.Go(t, "examples/go/filter"))
	r.expect(t, 0, "")
	if lines := strings.Count(r.stdout, "\n"); lines != strings.Count(in.String(), "\n") {
		t.Errorf("Go filter: %d lines out, want %d", lines, strings.Count(in.String(), "\n"))
	}
}

// TestStdinInteractive feeds the Go filter line by line and reads each
// answer before sending the next line: input is not held back until EOF,
// and the program waits in poll_oneoff between lines.
func TestStdinInteractive(t *testing.T) {
	prog := testprog.Go(t, "examples/go/filter")
	cmd := exec.Command(gateBinary, "run", "--cache-dir", cacheDir(t), prog)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdoutPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	out := bufio.NewReader(stdoutPipe)
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(stdin, "line %d\n", i)
		answer, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the answer to line %d: %v", i, err)
		}
		if want := fmt.Sprintf("%d: line %d\n", i, i); answer != want {
			t.Errorf("answer %q, want %q", answer, want)
		}
	}
	stdin.Close()
	if rest, _ := io.ReadAll(out); len(rest) != 0 {
		t.Errorf("output after the last answer: %q", rest)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestGoroutinesAndSleep(t *testing.T) {
	start := time.Now()
	r := gate(t, nil, "run", testprog.Go(t, "examples/go/sleepers"), "-n", "6", "-step", "30ms")
	r.expect(t, 0, "")
	want := ""
	for i := 5; i >= 0; i-- {
		want += fmt.Sprintf("goroutine %d woke\n", i)
	}
	want += "all 6 woke in at least 180ms: true\n"
	if r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
	if elapsed := time.Since(start); elapsed < 180*time.Millisecond {
		t.Errorf("finished in %v: sleeps did not sleep", elapsed)
	}
}

func TestExitStatus(t *testing.T) {
	prog := testprog.C(t, "internal/testprog/src/c/exit.c")
	for _, code := range []int{0, 1, 3, 42, 255} {
		r := gate(t, nil, "run", prog, strconv.Itoa(code))
		r.expect(t, code, "")
		if r.stdout != "exiting\n" {
			t.Errorf("exit %d: stdout %q (output lost at exit?)", code, r.stdout)
		}
	}
	gate(t, nil, "run", prog, "256").expect(t, 1,
		"gate: program exited with status 256, which does not fit in a process exit status\n")
}

func TestTraps(t *testing.T) {
	prog := testprog.C(t, "internal/testprog/src/c/trap.c")
	for arg, reason := range map[string]string{
		"div0":        "integer divide by zero",
		"overflow":    "integer overflow",
		"oob":         "out-of-bounds memory access",
		"unreachable": "unreachable executed",
		"stack":       "stack exhausted",
		// C keeps large locals on a stack in linear memory: running it
		// off the bottom is an out-of-bounds access.
		"cstack": "out-of-bounds memory access",
	} {
		gate(t, nil, "run", prog, arg).expect(t, 134, "gate: trap: "+reason+"\n")
	}
	gate(t, nil, "run", testprog.Wat(t, "internal/testprog/src/wat/indirect_mismatch.wat")).
		expect(t, 134, "gate: trap: indirect call type mismatch\n")
	gate(t, nil, "run", testprog.Wat(t, "internal/testprog/src/wat/start_trap.wat")).
		expect(t, 134, "gate: trap: unreachable executed\n")
}

func TestTimeout(t *testing.T) {
	start := time.Now()
	gate(t, nil, "run", "--timeout", "300ms", testprog.C(t, "internal/testprog/src/c/spin.c")).
		expect(t, 137, "gate: limit: wall-clock time limit of 300ms reached\n")
	// Blocked in fd_read on a stdin that never ends.
	// A pipe with a real file descriptor: gate reads it directly, and the
	// write end stays open until the test ends.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	gate(t, r, "run", "--timeout", "300ms", testprog.C(t, "examples/c/filter.c")).
		expect(t, 137, "gate: limit: wall-clock time limit of 300ms reached\n")
	// Asleep in poll_oneoff.
	gate(t, nil, "run", "--timeout", "300ms", testprog.Go(t, "examples/go/sleepers"), "-step", "1h").
		expect(t, 137, "gate: limit: wall-clock time limit of 300ms reached\n")
	if elapsed := time.Since(start); elapsed > time.Minute {
		t.Errorf("three 300ms timeouts took %v", elapsed)
	}
}

func TestMemoryCap(t *testing.T) {
	prog := testprog.C(t, "internal/testprog/src/c/grow.c")
	r := gate(t, nil, "run", "--memory", "4MiB", prog)
	r.expect(t, 0, "")
	if r.stdout != "pages=64 failed=1\n" {
		t.Errorf("with a 4 MiB cap: %q, want memory.grow to fail at 64 pages", r.stdout)
	}
	r = gate(t, nil, "run", "--memory", "8MiB", prog, "100")
	if r.stdout != "pages=100 failed=0\n" {
		t.Errorf("growing to 100 pages under an 8 MiB cap: %q", r.stdout)
	}
	// A declared maximum above the cap is lowered to the cap; the program
	// exits with its page count at the failed grow divided by 16.
	gate(t, nil, "run", "--memory", "1MiB", testprog.Wat(t, "internal/testprog/src/wat/max_memory.wat")).expect(t, 1, "")
	gate(t, nil, "run", "--memory", "64MiB", testprog.Wat(t, "internal/testprog/src/wat/max_memory.wat")).expect(t, 0, "")
}

func TestRefusedModules(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	hello, err := os.ReadFile(testprog.C(t, "examples/c/hello.c"))
	if err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 4096)
	rand.Read(random)
	random[0] = 'R' // not \0asm, whatever the draw

	for _, tc := range []struct {
		name, path, stderr string
	}{
		{"empty", write("empty.wasm", nil), "empty.wasm: invalid module: not a WebAssembly module: the file is empty"},
		{"random", write("random.wasm", random), "random.wasm: invalid module: not a WebAssembly module: it does not start with the bytes \\0asm"},
		{"truncated", write("truncated.wasm", hello[:len(hello)*2/3]), "truncated.wasm: invalid module: malformed module at byte "},
		{"header only", write("header.wasm", hello[:6]), "header.wasm: invalid module: malformed module at byte 6: header: unexpected end of data"},
		{"wrong version", write("v2.wasm", append([]byte("\x00asm\x02\x00\x00\x00"), hello[8:]...)), "v2.wasm: invalid module: not a WebAssembly module: binary format version 02000000 is not 1"},
		{"import env.nope", testprog.Wat(t, "internal/testprog/src/wat/import_nope.wat"), "module imports function env.nope, which Gate does not provide"},
		{"65536 pages", testprog.Wat(t, "internal/testprog/src/wat/huge_memory.wat"), "module needs at least 65536 pages (4 GiB) of memory, more than the cap of 4096 pages (256 MiB)"},
		{"imported memory", testprog.Wat(t, "internal/testprog/src/wat/import_memory.wat"), "module imports memory env.memory, which Gate does not provide"},
		{"bad signature", testprog.Wat(t, "internal/testprog/src/wat/bad_signature.wat"), "module imports function wasi_snapshot_preview1.fd_write with type (i32) -> i32, but Gate provides (i32, i32, i32, i32) -> i32"},
		{"no _start", testprog.Wat(t, "internal/testprog/src/wat/no_start.wat"), "module exports no _start function"},
		{"missing file", filepath.Join(dir, "absent.wasm"), "no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := gate(t, nil, "run", tc.path)
			if r.code != 1 {
				t.Errorf("exit status %d, want 1", r.code)
			}
			if !strings.HasPrefix(r.stderr, "gate: ") || !strings.Contains(r.stderr, tc.stderr) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line containing %q", r.stderr, tc.stderr)
			}
		})
	}
}

// TestCorruptModules runs gate on many randomly damaged copies of a real
// module: each must end with a refusal or a program outcome, never a
// crash of gate itself.
func TestCorruptModules(t *testing.T) {
	hello, err := os.ReadFile(testprog.C(t, "examples/c/hello.c"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i := 0; i < 20; i++ {
		damaged := bytes.Clone(hello)
		var pos [4]byte
		rand.Read(pos[:])
		for j := 0; j < 1+i%4; j++ {
			k := (int(pos[j]) << (8 * (j % 2)) * 7919) % len(damaged)
			damaged[k] ^= pos[(j+1)%4] | 1
		}
		path := filepath.Join(dir, fmt.Sprintf("damaged%d.wasm", i))
		os.WriteFile(path, damaged, 0o644)
		r := gate(t, nil, "run", "--timeout", "5s", path)
		switch r.code {
		case 0, 1, 134, 137:
		default:
			t.Errorf("damaged module %d: exit status %d, stderr %q", i, r.code, r.stderr)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	prog := testprog.C(t, "examples/c/hello.c")
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"run"}, "gate: run: missing PROGRAM.wasm (see gate run --help)\n"},
		{[]string{"run", "--memory", "lots", prog}, "gate: run: --memory: \"lots\" is not a size (e.g. 64MiB)\n"},
		{[]string{"run", "--timeout", "-1s", prog}, "gate: run: --timeout must not be negative\n"},
		{[]string{"run", "--bogus", prog}, "gate: unknown flag: --bogus (see gate run --help)\n"},
		{[]string{"frobnicate"}, "gate: unknown command \"frobnicate\" for \"gate\"\n"},
	} {
		gate(t, nil, tc.args...).expect(t, 2, tc.stderr)
	}
}

// TestUnsupportedCallsFail checks that the WASI functions Gate does not
// support answer an errno that libc turns into an ordinary error.
func TestUnsupportedCallsFail(t *testing.T) {
	r := gate(t, nil, "run", testprog.C(t, "internal/testprog/src/c/errno.c"))
	r.expect(t, 0, "")
	want := `open: Capabilities insufficient
opendir: Capabilities insufficient
mkdir: Capabilities insufficient
lseek stdout: Invalid seek
fstat stdin: ok
isatty stdout: ok
close 7: Bad file descriptor
clock realtime: ok
clock monotonic: ok
`
	if r.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
}

// TestSlowReaderBoundedMemory has a program write 1 GiB to standard output
// while the reader first stalls, then reads slowly: gate must hold the
// program back, not buffer its output.
func TestSlowReaderBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 1 GiB")
	}
	cmd := exec.Command(gateBinary, "run", "--cache-dir", cacheDir(t), testprog.C(t, "internal/testprog/src/c/flood.c"), "1024")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	time.Sleep(500 * time.Millisecond) // stalled: the pipe fills
	// Then read at no more than 256 MiB/s, far below what the program
	// could write, sampling gate's peak resident memory every 64 MiB.
	const rate = 256 << 20
	var total, peak int64
	buf := make([]byte, 1<<20)
	began := time.Now()
	for {
		n, err := stdout.Read(buf)
		total += int64(n)
		if total%(64<<20) < int64(n) {
			peak = max(peak, residentKiB(t, cmd.Process.Pid))
		}
		if ahead := time.Duration(total*int64(time.Second)/rate) - time.Since(began); ahead > 0 {
			time.Sleep(ahead)
		}
		if err != nil {
			break
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("gate: %v; stderr: %s", err, stderr.String())
	}
	if total != 1<<30 {
		t.Errorf("read %d bytes, want 1 GiB", total)
	}
	// The program's memory is 2 pages plus the C stack and heap; gate
	// itself needs some tens of MiB. 1 GiB buffered would show.
	if peak == 0 || peak > 150<<10 {
		t.Errorf("gate's peak resident memory while writing 1 GiB: %d KiB, want (0, 150 MiB]", peak)
	}
	t.Logf("peak resident memory: %d KiB", peak)
}

// residentKiB reads VmHWM (peak resident set) of a process.
func residentKiB(t *testing.T, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
