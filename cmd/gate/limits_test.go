package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

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
