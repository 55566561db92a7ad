package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// engine is one way of running the CPU-bound program, as a process.
type engine struct {
	name  string
	note  string
	args  []string
	env   []string // added to the environment
	times []time.Duration
	user  []time.Duration // CPU time in user mode, per run
	sys   []time.Duration // CPU time in the kernel, per run
}

func cpuEngines(b *builds, tmp string, size int) []*engine {
	arg := strconv.Itoa(size)
	// One directory for every gate run row: package runtime keeps code
	// compiled with and without stop checks in separate subdirectories.
	gateCache := filepath.Join(tmp, "gate-cache")
	return []*engine{
		{
			name: "native (gcc -O2)",
			note: "the same C source built for the host",
			args: []string{b.nativeCPU, arg},
		},
		{
			name: "gate run",
			note: "the gate CLI as a user runs it: the program runs in the sandboxed executor (docs/SECURITY.md), which starts with the run, compiles the module (it keeps no compiled code between runs yet: compilation included) and runs with GODEBUG=asyncpreemptoff=1; no --timeout, so compiled without stop checks",
			args: []string{b.gate, "run", b.cpuWasm, arg},
		},
		{
			name: "gate run --sandbox=off",
			note: "the gate CLI running the program in its own process, no --timeout, so compiled without stop checks; warm compiled-code cache (--cache-dir): compilation excluded",
			args: []string{b.gate, "run", "--sandbox=off", "--cache-dir", gateCache, b.cpuWasm, arg},
		},
		{
			name: "gate run --sandbox=off --timeout 1h",
			note: "as gate run --sandbox=off, with a timeout that never expires: Gate asks wazero for stop checks (runtime.Config.Interruptible), which is what a timeout costs; its compiled code has its own cache subdirectory",
			args: []string{b.gate, "run", "--sandbox=off", "--cache-dir", gateCache, "--timeout", "1h", b.cpuWasm, arg},
		},
		{
			name: "plain wazero",
			note: "wazero's default compiler configuration and its own wasi_snapshot_preview1, warm file compilation cache: compilation excluded",
			args: []string{b.plainWazero, "-cache-dir", filepath.Join(tmp, "wazero-cache"), b.cpuWasm, arg},
		},
		{
			name: "plain wazero + CloseOnContextDone",
			note: "as plain wazero, with WithCloseOnContextDone(true), the wazero option behind gate run --timeout: a diagnostic row",
			args: []string{b.plainWazero, "-cache-dir", filepath.Join(tmp, "wazero-cache-cocd"), "-close-on-context-done", b.cpuWasm, arg},
		},
		{
			name: "plain wazero, GODEBUG=asyncpreemptoff=1",
			note: "as plain wazero, with the Go runtime's asynchronous preemption off: a diagnostic row (the signals it sends to a goroutine stuck in compiled code cost system time)",
			args: []string{b.plainWazero, "-cache-dir", filepath.Join(tmp, "wazero-cache"), b.cpuWasm, arg},
			env:  []string{"GODEBUG=asyncpreemptoff=1"},
		},
		{
			name: "gate run --sandbox=off, GODEBUG=asyncpreemptoff=1",
			note: "as gate run --sandbox=off, with the Go runtime's asynchronous preemption off: a diagnostic row",
			args: []string{b.gate, "run", "--sandbox=off", "--cache-dir", gateCache, b.cpuWasm, arg},
			env:  []string{"GODEBUG=asyncpreemptoff=1"},
		},
		{
			name: "Node.js",
			note: "node with its wasi module (preview1); includes compiling the module, as Node keeps no code cache for it",
			args: []string{"node", "--no-warnings", b.nodeScript, b.cpuWasm, arg},
		},
	}
}

// run runs the engine once and returns the process's wall time and
// standard output. It records the process's CPU times in e.user and e.sys.
func (e *engine) run() (time.Duration, string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(e.args[0], e.args[1:]...)
	if e.env != nil {
		cmd.Env = append(os.Environ(), e.env...)
	}
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, "", fmt.Errorf("%s: %s: %v\n%s", e.name, strings.Join(cmd.Args, " "), err, stderr.Bytes())
	}
	e.user = append(e.user, cmd.ProcessState.UserTime())
	e.sys = append(e.sys, cmd.ProcessState.SystemTime())
	return d, stdout.String(), nil
}

// check fails unless out is what the reference engine printed in its
// warm-up run.
func (e *engine) check(out string, ref *engine) error {
	if out == referenceOutput {
		return nil
	}
	return fmt.Errorf("checksums differ: %s printed\n%s\nbut %s printed\n%s", ref.name, indent(referenceOutput), e.name, indent(out))
}

// referenceOutput is the native program's output in its warm-up run.
var referenceOutput string

func warmUp(engines []*engine) error {
	for i, e := range engines {
		_, out, err := e.run()
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) == "" {
			return fmt.Errorf("%s printed nothing", e.name)
		}
		if i == 0 {
			referenceOutput = out
		}
		if err := e.check(out, engines[0]); err != nil {
			return err
		}
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
