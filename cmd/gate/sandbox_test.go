package main

import (
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

	"github.com/gate-wasm/gate/internal/testprog"
)

// TestSandboxOff runs a program in gate's own process: same output and
// status, and a warning on stderr.
func TestSandboxOff(t *testing.T) {
	prog := testprog.C(t, "internal/testprog/src/c/exit.c")
	r := gate(t, nil, "run", "--sandbox=off", prog, "42")
	r.expect(t, 42, "gate: warning: --sandbox=off: the program runs inside gate's own process, without the sandbox\n")
	if r.stdout != "exiting\n" {
		t.Errorf("stdout %q", r.stdout)
	}
	gate(t, nil, "run", "--sandbox=maybe", prog).expect(t, 2, "gate: run: --sandbox must be on or off, not \"maybe\"\n")
}

// TestSandboxRefused runs a gate that cannot build the sandbox (built
// with cgo, whose threads the sandbox cannot hold): it refuses with
// status 1 and says what is missing, and runs with --sandbox=off.
func TestSandboxRefused(t *testing.T) {
	binary := filepath.Join(t.TempDir(), "gate-cgo")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if _, err := exec.LookPath("gcc"); err != nil {
		// CI installs clang, which serves cgo as well.
		build.Env = append(build.Env, "CC=clang")
	}
	if out, err := build.CombinedOutput(); err != nil {
		t.Skipf("cannot build gate with cgo here (no C compiler?): %v\n%s", err, out)
	}
	prog := testprog.C(t, "examples/c/hello.c")
	out, err := exec.Command(binary, "run", prog, "Ada").CombinedOutput()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() != 1 || strings.Count(string(out), "\n") != 1 ||
		!strings.Contains(string(out), "gate: cannot build the sandbox: ") || !strings.Contains(string(out), "built with cgo") ||
		!strings.Contains(string(out), "--sandbox=off") {
		t.Errorf("gate built with cgo: %v, output %q; want status 1 and one line naming cgo and --sandbox=off", err, out)
	}
	out, err = exec.Command(binary, "run", "--sandbox=off", prog, "Ada").Output()
	if err != nil || string(out) != "Hello, Ada!\n" {
		t.Errorf("with --sandbox=off: %v, %q", err, out)
	}
}

// TestUnprivileged runs gate as an unprivileged user (nobody), when the
// tests run as root: its executor then enters a user namespace rather
// than take nobody's uid, and works the same.
func TestUnprivileged(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("the tests run unprivileged already: every other test takes this path")
	}
	// nobody must reach the binary and the program.
	dir := filepath.Dir(gateBinary)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	prog := testprog.C(t, "internal/testprog/src/c/exit.c")
	nobody := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd := exec.Command(gateBinary, "run", prog, "7")
	cmd.SysProcAttr = nobody
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 7 || stdout.String() != "exiting\n" || stderr.String() != "" {
		t.Errorf("gate as nobody: %v, stdout %q, stderr %q; want status 7, \"exiting\" and nothing on stderr", err, stdout.String(), stderr.String())
	}

	// Its executor, looked at while its program waits for input: in a
	// user namespace of its own, and as locked down as root's.
	cmd, stdin, executor, _ := startWaitingFilter(t, nobody)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", executor))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Seccomp:\t2\n", "NoNewPrivs:\t1\n", "CapEff:\t0000000000000000\n", "CapPrm:\t0000000000000000\n", "CapBnd:\t0000000000000000\n", "Uid:\t65534\t65534\t65534\t65534\n"} {
		if !strings.Contains(string(status), want) {
			t.Errorf("the executor of an unprivileged gate lacks %q in its status:\n%s", want, status)
		}
	}
	mine, _ := os.Readlink("/proc/self/ns/user")
	its, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", executor))
	if mine == "" || mine == its {
		t.Errorf("user namespace %q, gate's %q: want one of its own", its, mine)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("gate: %v", err)
	}
}

// startWaitingFilter starts gate running examples/c/filter.c (as attr
// says, if not nil), and returns once the program runs in its executor
// and waits for more input: the command, its input, the executor's pid
// and gate's standard error (to read after Wait). filter writes in
// blocks of 4096 bytes: once one is out, it runs.
func startWaitingFilter(t *testing.T, attr *syscall.SysProcAttr) (*exec.Cmd, io.WriteCloser, int, *strings.Builder) {
	t.Helper()
	cmd, stdin, stderr := startGateProcess(t, attr, true, "run", testprog.C(t, "examples/c/filter.c"))
	executor := childOf(cmd.Process.Pid)
	if executor == 0 {
		t.Fatal("gate has no child process")
	}
	return cmd, stdin, executor, stderr
}

// startGateProcess starts gate with args (as attr says, if not nil), its
// standard input a pipe kept open until the test ends, and its standard
// error to read after Wait. With running, it writes 5000 bytes to its
// input and returns once gate has written a first block of 4096 bytes:
// a filter program then runs and waits for more; without, gate's output
// is discarded. The process is killed at the test's end.
func startGateProcess(t *testing.T, attr *syscall.SysProcAttr, running bool, args ...string) (*exec.Cmd, io.WriteCloser, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(gateBinary, args...)
	cmd.SysProcAttr = attr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close() })
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := new(strings.Builder)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if !running {
		go io.Copy(io.Discard, stdout)
		return cmd, stdin, stderr
	}
	io.WriteString(stdin, strings.Repeat("x", 5000))
	if _, err := io.ReadFull(stdout, make([]byte, 4096)); err != nil {
		t.Fatalf("reading the first block: %v; stderr %q", err, stderr.String())
	}
	return cmd, stdin, stderr
}

// TestExecutorKilled kills gate's executor while its program waits for
// input: gate reports it on one line with status 1, rather than hang or
// crash.
func TestExecutorKilled(t *testing.T) {
	cmd, _, executor, stderr := startWaitingFilter(t, nil)
	syscall.Kill(executor, syscall.SIGKILL)
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 1 || stderr.String() != "gate: executor killed by signal SIGKILL\n" {
		t.Errorf("gate after its executor was killed: %v, stderr %q; want status 1 and the reason", err, stderr.String())
	}
}

// childOf returns a child process of pid, or 0.
func childOf(pid int) int {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, task.Name()))
		if f := strings.Fields(string(data)); len(f) > 0 {
			n, _ := strconv.Atoi(f[0])
			return n
		}
	}
	return 0
}

// TestGateKilled kills gate (SIGKILL, no chance to clean up) while its
// program runs: its executor must not outlive it.
func TestGateKilled(t *testing.T) {
	cmd, _, executor, _ := startWaitingFilter(t, nil)
	cmd.Process.Kill()
	cmd.Wait()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", executor))
		// Gone, or a zombie (its reaper, init, has not waited yet).
		if err != nil || strings.Contains(string(data), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("executor %d still runs 10 s after gate was killed", executor)
		}
	}
}
