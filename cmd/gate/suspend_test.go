package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/runtime"
	"github.com/gate-wasm/gate/wasm"
)

// resumeUntilDone resumes snap again and again, suspending each run after
// d, until the program ends; it returns the output of all the runs and
// the final result.
func resumeUntilDone(t *testing.T, snap string, d time.Duration) (string, result) {
	t.Helper()
	var out strings.Builder
	for range 100 {
		r := gate(t, nil, "resume", "--suspend-after", d.String(), snap)
		out.WriteString(r.stdout)
		if r.code != exitSuspended {
			return out.String(), r
		}
	}
	t.Fatalf("still suspended after 100 resumptions")
	return "", result{}
}

// TestSuspendAfterAndResume suspends a CPU-bound program with a deep call
// stack by time, again and again, and checks that the pieces of output
// make up the output of an uninterrupted run.
func TestSuspendAfterAndResume(t *testing.T) {
	prog := testprog.C(t, "internal/testprog/src/c/recurse.c")
	args := []string{prog, "60", "30000000"}
	full := gate(t, nil, append([]string{"run"}, args...)...)
	full.expect(t, 7, "")

	snap := filepath.Join(t.TempDir(), "recurse.snap")
	first := gate(t, nil, append([]string{"run", "--snapshot", snap, "--suspend-after", "100ms"}, args...)...)
	if first.code != exitSuspended || !strings.HasPrefix(first.stderr, "gate: suspended: snapshot written to "+snap) {
		t.Fatalf("run --suspend-after: status %d, stderr %q; want %d and the snapshot's name", first.code, first.stderr, exitSuspended)
	}
	// The snapshot file was prepared beside it as the program ran
	// (internal/snapfile): nothing else is left.
	onlyFiles(t, filepath.Dir(snap), "recurse.snap")
	rest, last := resumeUntilDone(t, snap, 100*time.Millisecond)
	last.expect(t, 7, "")
	onlyFiles(t, filepath.Dir(snap), "recurse.snap")
	if first.stdout+rest != full.stdout {
		t.Errorf("output across suspensions differs from an uninterrupted run:\n%s\nwant:\n%s", first.stdout+rest, full.stdout)
	}
}

// TestSuspendOnSignal suspends a program blocked on its standard input
// with SIGTERM, and resumes it with the rest of the input.
func TestSuspendOnSignal(t *testing.T) {
	prog := testprog.C(t, "examples/c/filter.c")
	snap := filepath.Join(t.TempDir(), "filter.snap")
	cmd := exec.Command(gateBinary, "run", "--cache-dir", cacheDir(t), "--snapshot", snap, prog)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
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
	// filter writes what it read in blocks of 4096 bytes: give it more
	// than one block, keep the pipe open, and once the first block is
	// out, it is running and waiting for the rest.
	first := strings.Repeat("abcdefgh", 1000)
	io.WriteString(stdin, first)
	before := make([]byte, 4096)
	if _, err := io.ReadFull(stdout, before); err != nil {
		t.Fatalf("reading the first block: %v; stderr %q", err, stderr.String())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	rest, _ := io.ReadAll(stdout)
	err = cmd.Wait()
	stdin.Close()
	if code := cmd.ProcessState.ExitCode(); code != exitSuspended {
		t.Fatalf("after SIGTERM: %v, stderr %q; want status %d", err, stderr.String(), exitSuspended)
	}
	r := gate(t, strings.NewReader("ijkl"), "resume", snap)
	r.expect(t, 0, "filter: 8004 bytes\n")
	if got, want := string(before)+string(rest)+r.stdout, strings.ToUpper(first+"ijkl"); got != want {
		t.Errorf("output %d bytes, want %d: input was lost or repeated across the suspension", len(got), len(want))
	}
}

func TestInspect(t *testing.T) {
	prog := testprog.C(t, "examples/c/filter.c")
	snap := suspendFilter(t, filepath.Join(t.TempDir(), "filter.snap"), "", []string{"--suspend-after", "200ms"}, "an arg")
	out := gate(t, nil, "inspect", snap)
	out.expect(t, 0, "")
	info, err := runtime.InspectSnapshot(mustRead(t, snap))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("snapshot format: version %d\n", info.Version),
		"module:          sha256:",
		"memory:          128 KiB (2 pages)",
		`arguments:       ["` + filepath.Base(prog) + `" "an arg"]`,
		"pending input:   0 bytes\n",
		"services:        none\n",
		"function ",
	} {
		if !strings.Contains(out.stdout, want) {
			t.Errorf("gate inspect does not say %q:\n%s", want, out.stdout)
		}
	}
}

func sizeOf(t *testing.T, path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return wasm.FormatBytes(uint64(fi.Size()))
}

// suspendedFilter returns a snapshot of examples/c/filter.c suspended
// while it waits for input, after reading some.
func suspendedFilter(t *testing.T, dir string) string {
	return suspendFilter(t, filepath.Join(dir, "filter.snap"), "", []string{"--suspend-after", "100ms"})
}

// suspendFilter runs examples/c/filter.c with gate run --snapshot snap,
// flags before the program and args after it, its standard input a pipe
// that holds "some input" and stays open, so that the suspension finds it
// waiting for more; gate's standard error must be stderr and then the
// line that says it was suspended. It returns snap.
func suspendFilter(t *testing.T, snap, stderr string, flags []string, args ...string) string {
	t.Helper()
	prog := testprog.C(t, "examples/c/filter.c")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	w.WriteString("some input")
	cmd := append(append(append([]string{"run"}, flags...), "--snapshot", snap, prog), args...)
	gate(t, r, cmd...).expect(t, exitSuspended, stderr+"gate: suspended: snapshot written to "+snap+" ("+sizeOf(t, snap)+")\n")
	return snap
}

// TestBadSnapshots gives resume and inspect files that are not good
// snapshots: each is refused with one line and status 1.
func TestBadSnapshots(t *testing.T) {
	dir := t.TempDir()
	good := suspendedFilter(t, dir)
	data := mustRead(t, good)
	if r := gate(t, nil, "resume", "--snapshot", filepath.Join(dir, "unused"), good); r.code != 0 || r.stderr != "filter: 10 bytes\n" {
		t.Fatalf("the good snapshot does not resume: status %d, stderr %q", r.code, r.stderr)
	}
	write := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	version := bytes.Clone(data)
	i := bytes.Index(version, []byte("gate.snapshot"))
	version[i+len("gate.snapshot")] = 9 // the header's version
	cases := []struct {
		name, path, want string
		flags            []string
	}{
		{"truncated", write("truncated", data[:len(data)/2]), "", nil},
		{"no Gate sections", write("program", mustRead(t, testprog.C(t, "examples/c/filter.c"))), "is this a snapshot", nil},
		{"empty", write("empty", nil), "not a WebAssembly module", nil},
		{"version 9", write("version", version), "snapshot format version 9", nil},
		{"memory over the cap", good, "more than the cap", []string{"--memory", "64KiB"}},
		{"missing", filepath.Join(dir, "missing"), "no such file", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append(append([]string{"resume"}, c.flags...), c.path)
			r := gate(t, nil, args...)
			if r.code != exitRefused || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("gate %v: status %d, stderr %q; want status 1 and one line containing %q", args, r.code, r.stderr, c.want)
			}
			if c.flags == nil {
				if r := gate(t, nil, "inspect", c.path); r.code != exitRefused {
					t.Errorf("gate inspect %s: status %d, stderr %q", c.name, r.code, r.stderr)
				}
			}
		})
	}
	// A flipped byte anywhere is refused before anything runs.
	for off := 0; off < len(data); off += len(data)/30 + 1 {
		bad := bytes.Clone(data)
		bad[off] ^= 0x5a
		r := gate(t, nil, "resume", "--snapshot", filepath.Join(dir, "unused"), write("flipped", bad))
		if r.code != exitRefused || r.stdout != "" || !strings.Contains(r.stderr, "snapshot") {
			t.Errorf("byte %d flipped: status %d, stdout %q, stderr %q; want status 1 and no output", off, r.code, r.stdout, r.stderr)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSuspendUsage(t *testing.T) {
	hello := testprog.C(t, "examples/c/hello.c")
	gate(t, nil, "run", "--suspend-after", "1s", hello).expect(t, exitUsage, "gate: run: --suspend-after needs --snapshot FILE\n")
	gate(t, nil, "resume").expect(t, exitUsage, "gate: resume: want one SNAPSHOT file (see gate resume --help)\n")
	gate(t, nil, "inspect").expect(t, exitUsage, "gate: inspect: want one SNAPSHOT file (see gate inspect --help)\n")
	// A program that ends before any suspension writes no snapshot, and
	// leaves no file behind, nor does one that cannot start.
	dir := t.TempDir()
	snap := filepath.Join(dir, "never.snap")
	gate(t, nil, "run", "--snapshot", snap, hello, "x").expect(t, 0, "")
	onlyFiles(t, dir)
	bad := filepath.Join(dir, "bad.wasm")
	if err := os.WriteFile(bad, []byte("\x00asm\x01\x00\x00\x00\x01"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := gate(t, nil, "run", "--snapshot", snap, bad); r.code != exitRefused {
		t.Fatalf("run of a truncated module: status %d, want %d", r.code, exitRefused)
	}
	onlyFiles(t, dir, "bad.wasm")
	// A snapshot directory that does not exist is refused before the
	// program runs.
	missing := filepath.Join(dir, "no", "such.snap")
	r := gate(t, nil, "run", "--snapshot", missing, hello, "x")
	if r.code != exitRefused || r.stdout != "" || !strings.Contains(r.stderr, filepath.Join(dir, "no")) {
		t.Fatalf("run --snapshot into a missing directory: status %d, stdout %q, stderr %q; want %d, no output and the directory named", r.code, r.stdout, r.stderr, exitRefused)
	}
}

// onlyFiles fails t unless dir holds exactly the files named.
func onlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, e := range entries {
		have = append(have, e.Name())
	}
	if strings.Join(have, "\n") != strings.Join(names, "\n") {
		t.Fatalf("%s holds %q, want %q", dir, have, names)
	}
}

// TestSuspendPreparesResume suspends a program in gate's own process:
// once the snapshot is written, the resume module is compiled into the
// cache directory, where gate resume with the same --memory finds it and
// compiles nothing.
func TestSuspendPreparesResume(t *testing.T) {
	prog := testprog.C(t, "examples/c/filter.c")
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	const warning = "gate: warning: --sandbox=off: the program runs inside gate's own process, without the sandbox\n"
	// A run that ends before any suspension compiles the program alone.
	// (A later --cache-dir overrides the one gate() adds.)
	gate(t, strings.NewReader("x"), "run", "--sandbox=off", "--cache-dir", cache, "--memory", "64MiB", "--snapshot", filepath.Join(dir, "never.snap"), prog).expect(t, 0, warning+"filter: 1 bytes\n")
	compiled := cacheFiles(t, cache)
	if compiled == 0 {
		t.Fatalf("compiling the program put nothing in the cache directory %s", cache)
	}

	snap := suspendFilter(t, filepath.Join(dir, "filter.snap"), warning, []string{"--sandbox=off", "--cache-dir", cache, "--memory", "64MiB", "--suspend-after", "100ms"})
	prepared := cacheFiles(t, cache)
	if prepared != compiled+1 {
		t.Fatalf("the suspension added %d files to the cache directory, want 1 (the resume module)", prepared-compiled)
	}

	res := gate(t, strings.NewReader(""), "resume", "--sandbox=off", "--cache-dir", cache, "--memory", "64MiB", "--snapshot", filepath.Join(dir, "unused"), snap)
	res.expect(t, 0, warning+"filter: 10 bytes\n")
	if res.stdout != "SOME INPUT" {
		t.Errorf("resumed: stdout %q, want %q", res.stdout, "SOME INPUT")
	}
	if n := cacheFiles(t, cache); n != prepared {
		t.Errorf("gate resume compiled %d modules into the cache directory, want 0", n-prepared)
	}
}

// cacheFiles counts the files under a compiled-code cache directory.
func cacheFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSuspendStreamingInput suspends a filter twice while its standard
// input, a pipe, keeps receiving lines, and resumes it each time in a new
// gate on the same pipe: no line may be lost or repeated, also one that
// arrives while a gate is writing its snapshot and exiting (gate reads a
// pipe through a pollable copy of its descriptor, whose read a
// suspension interrupts).
func TestSuspendStreamingInput(t *testing.T) {
	for _, sandbox := range []string{"on", "off"} {
		t.Run("sandbox "+sandbox, func(t *testing.T) { testSuspendStreamingInput(t, "--sandbox="+sandbox) })
	}
}

func testSuspendStreamingInput(t *testing.T, sandbox string) {
	prog := testprog.C(t, "examples/c/filter.c")
	snap := filepath.Join(t.TempDir(), "filter.snap")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var sent strings.Builder // the writer's own until done is closed
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer w.Close()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			line := fmt.Sprintf("line %d\n", i)
			if _, err := w.WriteString(line); err != nil {
				return
			}
			sent.WriteString(line)
			time.Sleep(200 * time.Microsecond)
		}
	}()
	var out bytes.Buffer
	step := func(wantCode int, args ...string) {
		t.Helper()
		cmd := exec.Command(gateBinary, args...)
		cmd.Stdin, cmd.Stdout = r, &out
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != wantCode {
			t.Fatalf("gate %v: status %d, want %d; stderr %q", args, code, wantCode, stderr.String())
		}
	}
	step(75, "run", sandbox, "--cache-dir", cacheDir(t), "--snapshot", snap, "--suspend-after", "300ms", prog)
	step(75, "resume", sandbox, "--cache-dir", cacheDir(t), "--suspend-after", "300ms", snap)
	time.AfterFunc(300*time.Millisecond, func() { close(stop) })
	step(0, "resume", sandbox, "--cache-dir", cacheDir(t), snap)
	<-done
	if want := strings.ToUpper(sent.String()); out.String() != want {
		t.Errorf("output of %d bytes differs from the %d bytes sent, upper-cased:\ngot  ...%q\nwant ...%q",
			out.Len(), len(want), tail(out.String()), tail(want))
	}
}

func tail(s string) string { return s[max(0, len(s)-200):] }

// TestInspectLarge inspects a sparse file of 12 GB that starts like a
// module: refused at once for its size, without reading it.
func TestInspectLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "large")
	if err := os.WriteFile(path, []byte("\x00asm\x01\x00\x00\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 12<<30); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := gate(t, nil, "inspect", path)
	elapsed := time.Since(start)
	if r.code != exitRefused || !strings.Contains(r.stderr, "more than any snapshot") || elapsed > 10*time.Second {
		t.Errorf("gate inspect of 12 GB: status %d, stderr %q, after %v; want status 1 and the size refused", r.code, r.stderr, elapsed)
	}
}
