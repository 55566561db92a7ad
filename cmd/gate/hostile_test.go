package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gate-wasm/gate/internal/hostile"
	"github.com/gate-wasm/gate/wasm"
)

// The bounds of docs/SECURITY.md's hostile-input suite: every input is
// run within its limits or refused with one line, in at most this much
// wall time and memory (gate's peak resident set and its executor's).
// They are far above what each case takes (docs/SECURITY.md lists
// them): a case that comes near has lost its bound, not met noise.
const (
	hostileWall   = 2 * time.Second
	hostileMemory = 256 << 20
)

// measured runs gate with args and reports how it ended, its wall time
// and the largest resident set of gate and of its executor. It runs gate
// from a fresh process (this test binary again, see rusageMain): a
// process's peak resident set, as wait4 reports it, starts at that of
// the process it was forked from, and this one holds the test's large
// modules.
func measured(t *testing.T, args ...string) (result, time.Duration, int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{gateBinary}, args...)...)
	cmd.Env = append(os.Environ(), rusageEnv+"=1")
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	report, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer report.Close()
	cmd.ExtraFiles = []*os.File{w}
	start := time.Now()
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	reported, _ := io.ReadAll(report)
	err = cmd.Wait()
	wall := time.Since(start)
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("gate %v: %v", args, err)
	}
	rss, perr := strconv.ParseInt(strings.TrimSpace(string(reported)), 10, 64)
	if perr != nil {
		t.Fatalf("gate %v: no resident set reported (%q): %v", args, reported, err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}, wall, rss
}

// rusageEnv, set, makes the test binary rusageMain.
const rusageEnv = "GATE_TEST_RUSAGE"

// rusageMain runs the command of its arguments with its standard
// streams, writes the command's peak resident set in bytes (that of it
// or of any child it waited for: gate's executor) to descriptor 3, and
// exits with its status.
func rusageMain() int {
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		fmt.Fprintln(os.Stderr, err)
		return 125
	}
	report := os.NewFile(3, "report")
	fmt.Fprintln(report, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss<<10)
	report.Close()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return cmd.ProcessState.ExitCode()
}

// hostileCase is one input of the suite and what gate must do with it:
// exit with code, and, if want is set, print one line containing it.
type hostileCase struct {
	name string
	args []string // gate's arguments; FILE stands for the input's path
	file func(path string) error
	code int
	want string
}

// writeModule returns a file function that writes bin.
func writeModule(bin []byte) func(string) error {
	return func(path string) error { return os.WriteFile(path, bin, 0o644) }
}

func sparse(size int64, prefix []byte) func(string) error {
	return func(path string) error { return hostile.SparseFile(path, size, prefix) }
}

func runHostile(t *testing.T, cases []hostileCase) {
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
			if err := c.file(path); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(path)
			args := make([]string, len(c.args))
			for i, a := range c.args {
				args[i] = strings.ReplaceAll(a, "FILE", path)
			}
			r, wall, rss := measured(t, args...)
			t.Logf("%s: gate %s: status %d in %v, %d MiB; %s", c.name, strings.Join(c.args, " "), r.code, wall.Round(time.Millisecond), rss>>20, strings.TrimSpace(r.stderr))
			if r.code != c.code {
				t.Errorf("status %d, want %d; stderr %q", r.code, c.code, r.stderr)
			}
			// Besides --sandbox=off's warning.
			r.stderr = strings.TrimPrefix(r.stderr, "gate: warning: --sandbox=off: the program runs inside gate's own process, without the sandbox\n")
			if c.want != "" && (strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, c.want)) {
				t.Errorf("stderr %q, want one line containing %q", r.stderr, c.want)
			}
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "fatal error") {
				t.Errorf("a Go crash:\n%s", r.stderr)
			}
			if wall > hostileWall {
				t.Errorf("took %v, more than %v", wall, hostileWall)
			}
			if rss > hostileMemory {
				t.Errorf("peak resident set %d MiB, more than %d MiB", rss>>20, hostileMemory>>20)
			}
		})
	}
}

// TestHostileModules gives gate run the modules an attacker would: each
// is refused on the limit it is over, or runs within its limits.
func TestHostileModules(t *testing.T) {
	header := append(append([]byte{}, wasm.Magic...), wasm.Version...)
	var cases []hostileCase
	for _, sandbox := range []string{"on", "off"} {
		run := func(extra ...string) []string {
			return append(append([]string{"run", "--sandbox=" + sandbox, "--cache-dir="}, extra...), "FILE")
		}
		refused := func(name string, bin []byte, want string) {
			for _, snap := range [][]string{nil, {"--snapshot", "FILE.snap"}} {
				n := name
				if snap != nil {
					n += " suspendable"
				}
				cases = append(cases, hostileCase{n + " sandbox " + sandbox, run(snap...), writeModule(bin), exitRefused, want})
			}
		}
		refused("br_table of 1,000,000 targets", hostile.BrTable(1_000_000), "br_table targets, more than the limit of 16384")
		refused("100,000 nested blocks", hostile.NestedBlocks(100_000, false), "blocks nested, more than the limit of 8192")
		refused("1,000,000 nested blocks", hostile.NestedBlocks(1_000_000, false), "blocks nested, more than the limit of 8192")
		refused("100,000 nested loops", hostile.NestedLoops(100_000, true, 0), "257 loops nested, more than the limit of 256")
		refused("1,000,000 nested loops", hostile.NestedLoops(1_000_000, false, 0), "257 loops nested, more than the limit of 256")
		refused("50,001 locals", hostile.LocalsLoops(50_001, 1), "50001 locals, more than the limit of 50000")
		refused("30 MB importing env.nope", hostile.ImportingNope(30<<20), "module imports function env.nope, which Gate does not provide")
		// Accepted, and compiled: in process, their compile is
		// gate's; sandboxed, the executor's.
		ran := func(name string, bin []byte, suspendable bool) {
			args := run()
			if suspendable {
				name += " suspendable"
				args = run("--snapshot", "FILE.snap")
			}
			cases = append(cases, hostileCase{name + " sandbox " + sandbox, args, writeModule(bin), 0, ""})
		}
		for _, suspendable := range []bool{false, true} {
			ran("100,000 functions", hostile.Functions(100_000), suspendable)
			ran("8,192 nested blocks", hostile.NestedBlocks(8_192, false), suspendable)
			ran("br_table of 16,384 targets", hostile.BrTable(16_384), suspendable)
			ran("256 nested loops with calls", hostile.NestedLoops(256, true, 0), suspendable)
		}
		ran("50,000 locals × 5,000 loops", hostile.LocalsLoops(50_000, 5_000), false)
		ran("50,000 locals × 5,000 calls", hostile.LocalsCalls(50_000, 5_000), false)
		ran("256 nested loops × 50,000 locals", hostile.NestedLoops(256, true, 50_000), false)
		// Suspendable, wazero would take minutes and gigabytes to
		// compile their transformed code.
		suspendableRefused := func(name string, bin []byte, want string) {
			cases = append(cases, hostileCase{name + " suspendable sandbox " + sandbox, run("--snapshot", "FILE.snap"), writeModule(bin), exitRefused, want})
		}
		suspendableRefused("50,000 locals × 5,000 loops", hostile.LocalsLoops(50_000, 5_000), "function 1: 5000 suspension points, more than the limit of 4096")
		suspendableRefused("50,000 locals × 5,000 calls", hostile.LocalsCalls(50_000, 5_000), "function 1: 5001 suspension points, more than the limit of 4096")
		suspendableRefused("256 nested loops × 50,000 locals", hostile.NestedLoops(256, true, 50_000), "locals, more than the limit of 4096")
		suspendableRefused("50,000 locals × 50 calls", hostile.LocalsCalls(50_000, 50), "function 1: 50000 locals, more than the limit of 4096")
		suspendableRefused("300 functions × 4,000 calls", hostile.CallsInFunctions(300, 4_000), "more than 1048576 suspension points in all functions together")
		// What no limit short of refusing real programs bounds,
		// --timeout does: compile included.
		cases = append(cases, hostileCase{"40,000 ifs in a row with a timeout sandbox " + sandbox, run("--timeout", "1s"), writeModule(hostile.SequentialIfs(40_000)),
			exitLimit, "wall-clock time limit of 1s reached"})
		cases = append(cases,
			hostileCase{"table.grow 10^8 sandbox " + sandbox, run("--memory", "16MiB"), writeModule(hostile.TableGrow(100_000_000, false)), 0, ""},
			hostileCase{"table.grow 2^32-2 sandbox " + sandbox, run("--memory", "16MiB"), writeModule(hostile.TableGrow(0xfffffffe, false)), 0, ""},
			hostileCase{"table.grow 10^8 in a loop sandbox " + sandbox, run("--memory", "16MiB"), writeModule(hostile.TableGrow(100_000_000, true)), 0, ""},
			hostileCase{"table.grow 2^32-2 in a loop sandbox " + sandbox, run("--memory", "16MiB"), writeModule(hostile.TableGrow(0xfffffffe, true)), 0, ""},
			hostileCase{"table.grow 10^6 in a loop sandbox " + sandbox, run("--memory", "16MiB"), writeModule(hostile.TableGrow(1_000_000, true)), 0, ""},
			hostileCase{"3 GB of zeros sandbox " + sandbox, run(), sparse(3<<30, nil), exitRefused, "invalid module: not a WebAssembly module"},
			hostileCase{"12 GB of zeros sandbox " + sandbox, run(), sparse(12<<30, nil), exitRefused, "invalid module: not a WebAssembly module"},
			hostileCase{"3 GB after a header sandbox " + sandbox, run(), sparse(3<<30, header), exitRefused, "3221225472 bytes of module, more than the limit of 134217728"},
			hostileCase{"12 GB after a header sandbox " + sandbox, run(), sparse(12<<30, header), exitRefused, "12884901888 bytes of module, more than the limit of 134217728"},
		)
	}
	runHostile(t, cases)
}

// TestHostileSnapshotFiles gives gate resume and gate inspect files an
// attacker would: each is refused on its first bytes or its size.
func TestHostileSnapshotFiles(t *testing.T) {
	header := append(append([]byte{}, wasm.Magic...), wasm.Version...)
	var cases []hostileCase
	for _, size := range []int64{3 << 30, 12 << 30} {
		gb := strings.TrimSuffix(strings.TrimSuffix(wasm.FormatBytes(uint64(size)), " GiB"), " B")
		for _, sandbox := range []string{"on", "off"} {
			cases = append(cases,
				hostileCase{gb + " GiB of zeros resumed sandbox " + sandbox, []string{"resume", "--sandbox=" + sandbox, "--snapshot", "FILE.next", "FILE"},
					sparse(size, nil), exitRefused, "invalid snapshot: not a WebAssembly module"},
				hostileCase{gb + " GiB after a header resumed sandbox " + sandbox, []string{"resume", "--sandbox=" + sandbox, "--snapshot", "FILE.next", "FILE"},
					sparse(size, header), exitRefused, "more than any snapshot"},
			)
		}
		cases = append(cases,
			hostileCase{gb + " GiB of zeros inspected", []string{"inspect", "FILE"}, sparse(size, nil), exitRefused, "invalid snapshot: not a WebAssembly module"},
		)
		if size > 5<<30 {
			cases = append(cases,
				hostileCase{gb + " GiB after a header inspected", []string{"inspect", "FILE"}, sparse(size, header), exitRefused, "more than any snapshot"})
		}
	}
	runHostile(t, cases)
}
