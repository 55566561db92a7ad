package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/runtime"
)

// roomForArgs raises the test process's stack limit, which bounds what
// the kernel lets a process pass to the programs it starts (a quarter
// of it: 2 MiB by default), so that gate can be given more than gate
// itself accepts.
func roomForArgs(t *testing.T) {
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_STACK, &old); err != nil {
		t.Fatal(err)
	}
	room := old
	room.Cur = 32 << 20
	if room.Max != ^uint64(0) && room.Max < room.Cur {
		t.Skipf("the stack's hard limit (%d) leaves no room for the arguments of this test", room.Max)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_STACK, &room); err != nil {
		t.Skipf("cannot raise the stack limit: %v", err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_STACK, &old) })
}

// runQuiet runs the gate binary as gate does, but names only its first
// arguments if it cannot be started: these tests give it megabytes.
func runQuiet(t *testing.T, args ...string) result {
	t.Helper()
	args = append([]string{args[0], "--cache-dir", cacheDir(t)}, args[1:]...)
	cmd := exec.Command(gateBinary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("gate %q… (%d arguments): %v", args[:min(len(args), 4)], len(args), err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// TestArgsLimits gives a program more arguments or environment than
// gate accepts: gate refuses before it starts anything, with status 1
// and one line that names the limit; at the limits, the program runs
// and sees them all.
func TestArgsLimits(t *testing.T) {
	roomForArgs(t)
	prog := testprog.C(t, "internal/testprog/src/c/env.c")
	twoMiB := []string{"run"}
	for range 17 {
		twoMiB = append(twoMiB, "--env", "K="+strings.Repeat("v", 120<<10))
	}
	for _, sandbox := range []string{"on", "off"} {
		for _, c := range []struct {
			name string
			args []string
			want string
		}{
			{"70000 arguments", append([]string{"run", "--sandbox=" + sandbox, prog}, make([]string, 70000)...),
				"gate: run: 70001 arguments and environment variables, more than the limit of 65536\n"},
			{"2 MiB of environment", append(append([]string{"run", "--sandbox=" + sandbox}, twoMiB[1:]...), prog),
				fmt.Sprintf("gate: run: arguments and environment take %d bytes (each string counted with a NUL and a 4-byte pointer), more than the limit of 1048576 (1 MiB)\n", 17*(120<<10+2+5)+len(filepath.Base(prog))+5)},
		} {
			// Refused before the warning of --sandbox=off: nothing
			// was started.
			if r := runQuiet(t, c.args...); r.code != 1 || r.stderr != c.want {
				t.Errorf("%s, sandbox %s: status %d, stderr %q; want 1 and %q", c.name, sandbox, r.code, tail(r.stderr), c.want)
			}
		}
		// No process can be given a string over 128 KiB (the kernel's
		// MAX_ARG_STRLEN): gate's own function is.
		var stdout, stderr bytes.Buffer
		code := execute([]string{"run", "--sandbox=" + sandbox, prog, "x", strings.Repeat("a", 200<<10)}, nil, &stdout, &stderr)
		if want := "gate: run: argument 2 is 204800 bytes, more than the limit of 131072 (128 KiB) per string\n"; code != 1 || stderr.String() != want {
			t.Errorf("an argument of 200 KiB, sandbox %s: status %d, stderr %q; want 1 and %q", sandbox, code, tail(stderr.String()), want)
		}
	}

	// At every limit that a process can be given at once: 65536
	// strings, one of 128 KiB less its NUL, 1 MiB in all (each string
	// counting 5 more bytes than its own).
	long := strings.Repeat("a", runtime.MaxArgString-1)
	env := []string{"A=" + long[:120<<10], "B=" + long[:120<<10], "C=" + long[:120<<10]}
	// The rest of the bytes in 3 arguments of at most 128 KiB.
	const fill = 3
	strs := 2 + len(env) + fill // the program's name, long, env and fill
	total := len(filepath.Base(prog)) + len(long) + 3*len(env[0]) + 5*strs
	empty := runtime.MaxArgStrings - strs
	total += 5 * empty
	args := append([]string{prog, long}, make([]string, empty)...)
	for i := range fill {
		n := (runtime.MaxArgBytes - total) / fill
		if i == 0 {
			n += (runtime.MaxArgBytes - total) % fill
		}
		args = append(args, strings.Repeat("z", n))
	}
	flags := []string{"run"}
	for _, e := range env {
		flags = append(flags, "--env", e)
	}
	r := runQuiet(t, append(flags, args...)...)
	if r.code != 0 || r.stderr != "" {
		t.Errorf("at the limits: status %d, stderr %q; want 0 and nothing", r.code, tail(r.stderr))
	}
	if lines := strings.Count(r.stdout, "\n"); lines != runtime.MaxArgStrings || !strings.Contains(r.stdout, "arg 1="+long+"\n") {
		t.Errorf("at the limits: the program printed %d lines, want %d", lines, runtime.MaxArgStrings)
	}
}

// slowModule writes a module that gate accepts but whose compile takes
// seconds: 32 functions, each a br_table of the most targets the limits
// admit (about 5 s to compile on the project's 2-core machine, in
// process or sandboxed).
func slowModule(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "slow.wasm")
	if err := os.WriteFile(path, testprog.SlowCompile(32), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTimeoutCoversCompile gives gate a module whose compile takes
// seconds and a timeout of 1 s: gate stops at the timeout, while the
// program is being compiled, with the limit's status and one line that
// names it, in process and sandboxed, with and without the transform
// (--snapshot).
func TestTimeoutCoversCompile(t *testing.T) {
	slow := slowModule(t)
	for _, flags := range [][]string{
		{"--sandbox=on"},
		{"--sandbox=off"},
		{"--sandbox=on", "--snapshot", filepath.Join(t.TempDir(), "s.snap")},
		{"--sandbox=off", "--snapshot", filepath.Join(t.TempDir(), "s.snap")},
	} {
		began := time.Now()
		r := gate(t, nil, append(append([]string{"run", "--timeout", "1s"}, flags...), slow)...)
		elapsed := time.Since(began)
		stderr := strings.TrimPrefix(r.stderr, "gate: warning: --sandbox=off: the program runs inside gate's own process, without the sandbox\n")
		t.Logf("%v: status %d after %v", flags, r.code, elapsed.Round(time.Millisecond))
		switch {
		case r.code == exitLimit && stderr == "gate: limit: wall-clock time limit of 1s reached\n":
		default:
			t.Errorf("%v: status %d, stderr %q; want %d and the time limit named", flags, r.code, r.stderr, exitLimit)
		}
		// 1 s for the limit, and a generous bound on what follows it
		// (it takes a few milliseconds here).
		if elapsed > 3*time.Second {
			t.Errorf("%v: gate took %v to stop at a timeout of 1 s", flags, elapsed)
		}
		if len(flags) > 1 {
			// Nothing was suspended: no snapshot, nor its
			// temporary file.
			onlyFiles(t, filepath.Dir(flags[2]))
		}
	}
}

// executorCgroups returns the directories of the cgroup that gate made
// for its executor pid, as /proc/PID/cgroup names them while it lives;
// none where gate could not make one (not root, or a host that does not
// delegate cgroups).
func executorCgroups(t *testing.T, pid int) []string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatalf("the executor's cgroups: %v", err)
	}
	var dirs []string
	for _, line := range strings.Split(string(data), "\n") {
		// hierarchy-ID:controller-list:path
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || filepath.Base(parts[2]) != fmt.Sprintf("gate-executor-%d", pid) {
			continue
		}
		for _, c := range append(strings.Split(parts[1], ","), parts[1]) {
			dir := filepath.Join("/sys/fs/cgroup", c, parts[2])
			if _, err := os.Stat(dir); err == nil {
				dirs = append(dirs, dir)
			}
		}
	}
	return dirs
}

// startGate starts gate with args, its standard input a pipe kept open,
// and returns once its executor is in its cgroup (and ready, if ready
// is set: once it has written a block of its output); it returns the
// command, its stderr, the executor's pid and its cgroup directories.
func startGate(t *testing.T, ready bool, args ...string) (*exec.Cmd, *strings.Builder, int, []string) {
	t.Helper()
	cmd, _, stderr := startGateProcess(t, nil, ready, args...)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if executor := childOf(cmd.Process.Pid); executor != 0 {
			if dirs := executorCgroups(t, executor); len(dirs) > 0 || time.Now().After(deadline) {
				return cmd, stderr, executor, dirs
			}
		} else if time.Now().After(deadline) {
			t.Fatal("gate started no executor within 10 s")
		}
	}
}

// TestSignals sends SIGTERM, SIGINT and SIGHUP to gate while it compiles a
// module that takes seconds (with and without --snapshot: there is
// nothing to snapshot yet), while its program waits for input and
// while it spins in code without stop checks: gate stops within a
// second with status 128 + the signal and one line, and the executor's
// cgroup is gone.
func TestSignals(t *testing.T) {
	slow := slowModule(t)
	filter := testprog.C(t, "examples/c/filter.c")
	spin := testprog.C(t, "internal/testprog/src/c/spin.c")
	snap := filepath.Join(t.TempDir(), "s.snap")
	cgroups := true
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		name := unix.SignalName(sig)
		for _, c := range []struct {
			name  string
			ready bool // wait for the program's output
			wait  time.Duration
			args  []string
			want  string
		}{
			{"compiling", false, 300 * time.Millisecond, []string{slow}, "before the program started"},
			{"compiling with --snapshot", false, 300 * time.Millisecond, []string{"--snapshot", snap, slow}, "before the program started: nothing to snapshot yet"},
			{"reading", true, 0, []string{filter}, "while the program ran"},
			{"spinning", false, time.Second, []string{spin}, "while the program ran"},
		} {
			cmd, stderr, executor, dirs := startGate(t, c.ready, append([]string{"run", "--cache-dir", cacheDir(t)}, c.args...)...)
			cgroups = cgroups && len(dirs) > 0
			time.Sleep(c.wait)
			sent := time.Now()
			cmd.Process.Signal(sig)
			err := cmd.Wait()
			elapsed := time.Since(sent)
			t.Logf("%s %s: stopped %v after the signal", name, c.name, elapsed.Round(time.Millisecond))
			want := fmt.Sprintf("gate: stopped by %s %s\n", name, c.want)
			if c.name == "spinning" && stderr.String() == fmt.Sprintf("gate: stopped by %s before the program started\n", name) {
				// Nothing shows that spin runs: on a loaded
				// machine, its compile may outlast the wait.
				want = stderr.String()
			}
			if code := cmd.ProcessState.ExitCode(); code != 128+int(sig) || stderr.String() != want {
				t.Errorf("%s %s: %v, stderr %q; want status %d and %q", name, c.name, err, stderr.String(), 128+int(sig), want)
			}
			// A generous bound: it takes milliseconds here.
			if elapsed > 2*time.Second {
				t.Errorf("%s %s: gate took %v to stop", name, c.name, elapsed)
			}
			for _, dir := range dirs {
				if _, err := os.Stat(dir); !os.IsNotExist(err) {
					t.Errorf("%s %s: the cgroup of executor %d is left: %s (%v)", name, c.name, executor, dir, err)
				}
			}
			onlyFiles(t, filepath.Dir(snap))
		}
	}
	if !cgroups {
		t.Skip("gate could not make its executor a cgroup here (not root, or a host that does not delegate one): the signals were checked, not the cgroups' removal")
	}
}

// TestStaleCgroupRemoved kills gate with SIGKILL, which leaves its
// executor's cgroup behind (the executor dies with it, and nothing
// removes the empty cgroup): the next gate removes it.
func TestStaleCgroupRemoved(t *testing.T) {
	cmd, _, executor, dirs := startGate(t, true, "run", "--cache-dir", cacheDir(t), testprog.C(t, "examples/c/filter.c"))
	if len(dirs) == 0 {
		t.Skip("gate could not make its executor a cgroup here (not root, or a host that does not delegate one)")
	}
	cmd.Process.Kill()
	cmd.Wait()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		// Gone: a zombie still exists to kill(2).
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", executor)); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("executor %d still exists 10 s after gate was killed", executor)
		}
	}
	gate(t, nil, "run", testprog.C(t, "examples/c/hello.c"), "again").expect(t, 0, "")
	for _, dir := range dirs {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("the cgroup of executor %d, whose gate was killed, is left after the next run: %s (%v)", executor, dir, err)
		}
	}
}
