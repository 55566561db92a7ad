//go:build linux

package executor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gate-wasm/gate/executor"
	"github.com/gate-wasm/gate/executor/internal/proto"
	"github.com/gate-wasm/gate/internal/hostile"
	"github.com/gate-wasm/gate/internal/testprog"
	gateruntime "github.com/gate-wasm/gate/runtime"
)

// The tests run the real gate binary as the executor: the release build
// and one built with the gate_attack tag.
var gateBinary, attackBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gate-executor-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gateBinary = filepath.Join(dir, "gate")
	attackBinary = filepath.Join(dir, "gate-attack")
	for _, b := range []struct {
		out  string
		tags string
	}{{gateBinary, ""}, {attackBinary, "gate_attack"}} {
		cmd := exec.Command("go", "build", "-tags", b.tags, "-o", b.out, "../cmd/gate")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building gate: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func newExecutor(t testing.TB, binary string) *executor.Executor {
	t.Helper()
	return newExecutorConfig(t, executor.Config{Path: binary})
}

func newExecutorConfig(t testing.TB, cfg executor.Config) *executor.Executor {
	t.Helper()
	ex, err := executor.New(context.Background(), cfg)
	var sandboxErr *executor.SandboxError
	if errors.As(err, &sandboxErr) && os.Getuid() != 0 {
		t.Skipf("this host cannot build the sandbox for a non-root user: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close() })
	return ex
}

func compile(t testing.TB, ex *executor.Executor, path string, opts executor.CompileOptions) *executor.Module {
	t.Helper()
	binary, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ex.Compile(context.Background(), binary, opts)
	if err != nil {
		t.Fatalf("compiling %s: %v", filepath.Base(path), err)
	}
	return m
}

// run instantiates m and runs it with stdin, returning its output.
func run(t testing.TB, ex *executor.Executor, m *executor.Module, stdin string, args ...string) (code uint32, stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	inst, err := ex.Instantiate(context.Background(), m, executor.Options{
		Args: append([]string{"prog"}, args...), Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut,
	})
	if err != nil {
		return 0, "", "", err
	}
	defer inst.Close(context.Background())
	code, err = inst.Run(context.Background(), 0)
	return code, out.String(), errOut.String(), err
}

// runAsync runs inst on a goroutine of its own; the channel gets Run's
// error, or one that gives the status if the program exited with another
// than 0.
func runAsync(inst *executor.Instance) <-chan error {
	done := make(chan error, 1)
	go func() {
		code, err := inst.Run(context.Background(), 0)
		if err == nil && code != 0 {
			err = fmt.Errorf("status %d", code)
		}
		done <- err
	}()
	return done
}

// status reads the fields of /proc/PID/status.
func status(t *testing.T, pid int) map[string]string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	fields := make(map[string]string)
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.TrimSpace(v)
		}
	}
	return fields
}

// TestOutsideView looks at a live executor from outside: its seccomp
// mode, privileges, namespaces, root, descriptors and rlimits.
func TestOutsideView(t *testing.T) {
	ex := newExecutor(t, gateBinary)
	// Have it run something first, so that it is looked at in use.
	m := compile(t, ex, testprog.C(t, "examples/c/hello.c"), executor.CompileOptions{})
	if _, out, _, err := run(t, ex, m, "", "Ada"); err != nil || out != "Hello, Ada!\n" {
		t.Fatalf("hello: %q, %v", out, err)
	}
	pid := ex.PID()
	st := status(t, pid)
	for k, want := range map[string]string{
		"Seccomp":    "2",
		"NoNewPrivs": "1",
		"CapInh":     "0000000000000000",
		"CapPrm":     "0000000000000000",
		"CapEff":     "0000000000000000",
		"CapBnd":     "0000000000000000",
		"CapAmb":     "0000000000000000",
	} {
		if st[k] != want {
			t.Errorf("/proc/%d/status: %s: %q, want %q", pid, k, st[k], want)
		}
	}
	// Every thread, not only the first: capabilities and seccomp are
	// per thread.
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, task.Name()))
		if err != nil {
			continue // ended meanwhile
		}
		s := string(data)
		for _, want := range []string{"Seccomp:\t2\n", "NoNewPrivs:\t1\n", "CapEff:\t0000000000000000\n", "CapPrm:\t0000000000000000\n"} {
			if !strings.Contains(s, want) {
				t.Errorf("thread %s lacks %q", task.Name(), want)
			}
		}
	}
	if len(tasks) < 2 {
		t.Errorf("the executor has %d threads; the test means to see several", len(tasks))
	}
	if os.Getuid() == 0 {
		// A root gate makes its executor nobody.
		if !strings.HasPrefix(st["Uid"], "65534\t65534\t65534\t65534") || !strings.HasPrefix(st["Gid"], "65534\t65534\t65534\t65534") {
			t.Errorf("Uid %q, Gid %q: want nobody's (65534)", st["Uid"], st["Gid"])
		}
		if st["Groups"] != "" {
			t.Errorf("supplementary groups %q, want none", st["Groups"])
		}
	}

	t.Run("environment", func(t *testing.T) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			t.Fatal(err)
		}
		if env := strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00"); len(env) != 1 || !strings.HasPrefix(env[0], "GODEBUG=asyncpreemptoff=1,") {
			t.Errorf("its environment is %q; want only its GODEBUG", env)
		}
	})

	t.Run("namespaces", func(t *testing.T) {
		kinds := []string{"pid", "net", "mnt", "ipc", "uts"}
		if os.Getuid() != 0 {
			kinds = append(kinds, "user")
		}
		for _, ns := range kinds {
			mine, err1 := os.Readlink("/proc/self/ns/" + ns)
			its, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
			if err1 != nil || err2 != nil {
				t.Fatalf("reading namespaces: %v, %v", err1, err2)
			}
			if mine == its {
				t.Errorf("the executor shares gate's %s namespace (%s)", ns, its)
			}
		}
		// Its own host name.
		var uts unix.Utsname
		inNamespace(t, pid, "uts", unix.CLONE_NEWUTS, func() error { return unix.Uname(&uts) })
		if name := unix.ByteSliceToString(uts.Nodename[:]); name != "gate-executor" {
			t.Errorf("its host name is %q, want gate-executor", name)
		}
		// In its pid namespace it is process 1.
		if st["NSpid"] == "" || !strings.HasSuffix(st["NSpid"], "\t1") {
			t.Errorf("NSpid %q: want it to be 1 in its own pid namespace", st["NSpid"])
		}
	})

	t.Run("network", func(t *testing.T) {
		ifaces := interfacesIn(t, pid)
		if len(ifaces) != 1 || ifaces[0].Name != "lo" || ifaces[0].Flags&net.FlagUp != 0 {
			t.Errorf("its network namespace holds %v; want only a loopback that is down", ifaces)
		}
	})

	t.Run("root", func(t *testing.T) {
		root := fmt.Sprintf("/proc/%d/root", pid)
		entries, err := os.ReadDir(root)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 0 {
			t.Errorf("its root holds %d entries (%v); want none", len(entries), entries)
		}
		// Read-only, even for root.
		if err := os.WriteFile(filepath.Join(root, "x"), nil, 0o644); !errors.Is(err, syscall.EROFS) {
			t.Errorf("creating a file in its root: %v, want EROFS", err)
		}
		var fs unix.Statfs_t
		if err := unix.Statfs(root, &fs); err != nil {
			t.Fatal(err)
		}
		if fs.Type != unix.TMPFS_MAGIC {
			t.Errorf("its root is a file system of type %#x, want tmpfs", fs.Type)
		}
	})

	t.Run("descriptors", func(t *testing.T) { checkDescriptors(t, pid) })

	t.Run("rlimits", func(t *testing.T) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
		if err != nil {
			t.Fatal(err)
		}
		limits := executor.DefaultLimits()
		for name, want := range map[string]uint64{
			"Max core file size": 0,
			"Max file size":      limits.FileSize,
			"Max open files":     limits.Files,
			"Max processes":      limits.Threads,
			"Max address space":  limits.AddressSpace,
			"Max locked memory":  0,
		} {
			soft, hard := limitOf(t, string(data), name)
			if soft != fmt.Sprint(want) || hard != fmt.Sprint(want) {
				t.Errorf("%s: %s/%s, want %d", name, soft, hard, want)
			}
		}
	})

	t.Run("cgroup", func(t *testing.T) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("gate-executor-%d", pid)
		if !strings.Contains(string(data), name) {
			if os.Getuid() != 0 {
				t.Skipf("not root: the executor has no cgroup of its own (%s)", data)
			}
			t.Fatalf("the executor is not in its cgroup %s:\n%s", name, data)
		}
		// Its limits, as the files of its cgroup say.
		want := map[string]string{ // v1 controller/file, v2 file
			"memory/memory.limit_in_bytes": "4294967296", "pids/pids.max": "1024",
			"memory.max": "4294967296", "pids.max": "1024",
		}
		found := 0
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 || !strings.HasSuffix(parts[2], name) {
				continue
			}
			for _, controller := range strings.Split(parts[1], ",") {
				dir := filepath.Join("/sys/fs/cgroup", controller, parts[2])
				for key, value := range want {
					file, ok := strings.CutPrefix(key, controller+"/")
					if controller == "" && !strings.Contains(key, "/") {
						file, ok = key, true
					}
					if !ok {
						continue
					}
					got, err := os.ReadFile(filepath.Join(dir, file))
					if err != nil {
						t.Errorf("reading %s: %v", file, err)
						continue
					}
					found++
					if strings.TrimSpace(string(got)) != value {
						t.Errorf("%s/%s is %q, want %s", dir, file, strings.TrimSpace(string(got)), value)
					}
				}
			}
		}
		if found != 2 {
			t.Errorf("found %d of the memory and pids limits in its cgroup, want 2", found)
		}
	})
}

// checkDescriptors checks, from /proc/PID/fd, that executor pid holds
// its four descriptors, the Go runtime's poller and nothing else: none
// that its parent passed it.
func checkDescriptors(t *testing.T, pid int) {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"0": "/dev/null", "1": "/dev/null", "2": "pipe:", "3": "socket:"}
	for _, e := range entries {
		target, _ := os.Readlink(filepath.Join(dir, e.Name()))
		if prefix, ok := want[e.Name()]; ok {
			if !strings.HasPrefix(target, prefix) {
				t.Errorf("fd %s is %s, want %s", e.Name(), target, prefix)
			}
			delete(want, e.Name())
			continue
		}
		// The Go runtime's poller is all else it may hold.
		if target != "anon_inode:[eventpoll]" && target != "anon_inode:[eventfd]" {
			t.Errorf("fd %s is %s: the executor should hold nothing else", e.Name(), target)
		}
	}
	if len(want) != 0 {
		t.Errorf("missing descriptors: %v", want)
	}
}

// limitOf finds the soft and hard values of a line of /proc/PID/limits.
func limitOf(t *testing.T, limits, name string) (soft, hard string) {
	for _, line := range strings.Split(limits, "\n") {
		if strings.HasPrefix(line, name+" ") {
			f := strings.Fields(strings.TrimPrefix(line, name))
			if len(f) >= 2 {
				return f[0], f[1]
			}
		}
	}
	t.Fatalf("no %q in /proc/PID/limits", name)
	return "", ""
}

// inNamespace runs fn on a thread that has entered pid's namespace of
// the given kind (a file name of /proc/PID/ns) and is then thrown away.
func inNamespace(t *testing.T, pid int, kind string, flag int, fn func() error) {
	t.Helper()
	c := make(chan error)
	go func() {
		// Never unlocked: the thread, changed, ends with the goroutine.
		runtime.LockOSThread()
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, kind), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			c <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, flag); err != nil {
			c <- fmt.Errorf("setns: %w", err)
			return
		}
		c <- fn()
	}()
	if err := <-c; err != nil {
		t.Fatal(err)
	}
}

// interfacesIn lists the network interfaces in pid's network namespace.
func interfacesIn(t *testing.T, pid int) []net.Interface {
	var ifaces []net.Interface
	inNamespace(t, pid, "net", unix.CLONE_NEWNET, func() (err error) {
		ifaces, err = net.Interfaces()
		return err
	})
	return ifaces
}

// TestPrograms runs C and Go programs through the executor: output,
// input, exit status, traps, timeouts, refusals, many at once.
func TestPrograms(t *testing.T) {
	ex := newExecutor(t, gateBinary)
	hello := compile(t, ex, testprog.C(t, "examples/c/hello.c"), executor.CompileOptions{})
	filter := compile(t, ex, testprog.C(t, "examples/c/filter.c"), executor.CompileOptions{})
	goFilter := compile(t, ex, testprog.Go(t, "examples/go/filter"), executor.CompileOptions{})
	exit := compile(t, ex, testprog.C(t, "internal/testprog/src/c/exit.c"), executor.CompileOptions{})
	trap := compile(t, ex, testprog.C(t, "internal/testprog/src/c/trap.c"), executor.CompileOptions{})

	if code, out, _, err := run(t, ex, hello, "", "Ada", "Grace"); err != nil || code != 0 || out != "Hello, Ada!\nHello, Grace!\n" {
		t.Errorf("hello: %d %q %v", code, out, err)
	}
	// More input than a window and a chunk, through C and Go filters.
	var in strings.Builder
	for i := 0; in.Len() < 3<<20; i++ {
		fmt.Fprintf(&in, "line %d\n", i)
	}
	if code, out, errOut, err := run(t, ex, filter, in.String()); err != nil || code != 0 || out != strings.ToUpper(in.String()) || errOut != fmt.Sprintf("filter: %d bytes\n", in.Len()) {
		t.Errorf("C filter: status %d, %d bytes out (want %d), stderr %q, %v", code, len(out), in.Len(), errOut, err)
	}
	if code, out, _, err := run(t, ex, goFilter, "a\nb\n"); err != nil || code != 0 || out != "1: a\n2: b\n" {
		t.Errorf("Go filter: %d %q %v", code, out, err)
	}
	if code, out, _, err := run(t, ex, exit, "", "42"); err != nil || code != 42 || out != "exiting\n" {
		t.Errorf("exit 42: %d %q %v", code, out, err)
	}
	_, _, _, err := run(t, ex, trap, "", "div0")
	var trapErr *gateruntime.TrapError
	if !errors.As(err, &trapErr) || trapErr.Reason != "integer divide by zero" || len(trapErr.Stack) == 0 {
		t.Errorf("div0: %v, want a trap with a stack", err)
	}

	// A timeout, from an interruptible module.
	spin := compile(t, ex, testprog.C(t, "internal/testprog/src/c/spin.c"), executor.CompileOptions{Interruptible: true})
	inst, err := ex.Instantiate(context.Background(), spin, executor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = inst.Run(context.Background(), 200*time.Millisecond)
	var limit *gateruntime.LimitError
	if !errors.As(err, &limit) || limit.Limit != "timeout" {
		t.Errorf("spin with a timeout: %v, want a timeout", err)
	}
	inst.Close(context.Background())

	// Refused modules are *runtime.ModuleError, and the executor goes on.
	_, err = ex.Compile(context.Background(), []byte("not wasm"), executor.CompileOptions{})
	var moduleErr *gateruntime.ModuleError
	if !errors.As(err, &moduleErr) || !strings.Contains(moduleErr.Reason, "not a WebAssembly module") {
		t.Errorf("compiling garbage: %v", err)
	}

	// Many at once, each with its own input and output.
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			input := strings.Repeat(fmt.Sprintf("instance %d\n", i), 1000+i)
			if code, out, _, err := run(t, ex, filter, input); err != nil || code != 0 || out != strings.ToUpper(input) {
				t.Errorf("instance %d: %d, %d bytes, %v", i, code, len(out), err)
			}
		}()
	}
	wg.Wait()
}

// TestSuspendSnapshotResume suspends a program in the executor, takes
// its snapshot across the socket and resumes it in another executor.
func TestSuspendSnapshotResume(t *testing.T) {
	ex := newExecutor(t, gateBinary)
	pr, pw := io.Pipe()
	defer pw.Close()
	snap, out := suspendFilter(t, ex, pr, pw, 200*time.Millisecond)
	if _, err := gateruntime.InspectSnapshot(snap); err != nil {
		t.Fatalf("the snapshot does not inspect: %v", err)
	}
	out2, err2 := resumeFilter(t, snap, strings.NewReader("after\n"))
	if got := out + out2; got != "BEFORE\nAFTER\n" || err2 != "filter: 13 bytes\n" {
		t.Errorf("output across the suspension %q, stderr %q", got, err2)
	}
}

// suspendFilter runs examples/c/filter.c in ex on stdin, writes a line
// to it through w, waits pause (the program reads the line and waits
// for more), suspends the program and returns its snapshot and output.
func suspendFilter(t *testing.T, ex *executor.Executor, stdin io.Reader, w io.Writer, pause time.Duration) ([]byte, string) {
	t.Helper()
	m := compile(t, ex, testprog.C(t, "examples/c/filter.c"), executor.CompileOptions{Suspendable: true})
	var out bytes.Buffer
	inst, err := ex.Instantiate(context.Background(), m, executor.Options{Args: []string{"filter"}, Stdin: stdin, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	done := runAsync(inst)
	io.WriteString(w, "before\n")
	time.Sleep(pause)
	inst.Suspend()
	if err := <-done; !errors.Is(err, gateruntime.ErrSuspended) {
		t.Fatalf("Run: %v, want ErrSuspended", err)
	}
	snap, err := inst.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return snap, out.String()
}

// resumeFilter resumes a snapshot of suspendFilter in a new executor, on
// stdin, runs it to its end (status 0) and returns its output and
// standard error.
func resumeFilter(t *testing.T, snap []byte, stdin io.Reader) (string, string) {
	t.Helper()
	other := newExecutor(t, gateBinary)
	var out, stderr bytes.Buffer
	resumed, err := other.Resume(context.Background(), snap, 0, false, executor.Options{Stdin: stdin, Stdout: &out, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	if code, err := resumed.Run(context.Background(), 0); err != nil || code != 0 {
		t.Fatalf("resumed: %d, %v", code, err)
	}
	return out.String(), stderr.String()
}

// TestLargeMemory grows a program's memory to 512 MiB, a page at a
// time, in the executor: its address-space limit must leave room for
// that, the Go runtime's own reservations and the copies growth makes
// (wazero reallocates a growing memory; the old copies are freed later,
// so the executor's resident memory peaks at several times the memory's
// size, hence the cgroup's 8 GiB here).
func TestLargeMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("grows a memory to 512 MiB")
	}
	ex := newExecutorConfig(t, executor.Config{Path: gateBinary, Memory: 8 << 30})
	grow := compile(t, ex, testprog.C(t, "internal/testprog/src/c/grow.c"), executor.CompileOptions{MemoryLimit: 512 << 20})
	code, out, _, err := run(t, ex, grow, "", "8192")
	if err != nil || code != 0 || out != "pages=8192 failed=0\n" {
		t.Fatalf("growing to 8192 pages: %d %q %v", code, out, err)
	}
	st := procStatus(t, ex.PID())
	t.Logf("executor after a 512 MiB memory: VmPeak %d MiB, VmHWM %d MiB (address-space limit %d MiB)",
		st["VmPeak"]>>10, st["VmHWM"]>>10, executor.DefaultLimits().AddressSpace>>20)
}

// gatedWriter counts what it is given, and blocks until open is closed.
type gatedWriter struct {
	open chan struct{}
	mu   sync.Mutex
	n    int
}

func (w *gatedWriter) Write(p []byte) (int, error) {
	<-w.open
	w.mu.Lock()
	w.n += len(p)
	w.mu.Unlock()
	return len(p), nil
}

// TestOutputFlowControl has a program write 64 MiB to a writer that
// stalls: the program must be held back (it cannot finish while nothing
// is written out), and every byte arrives once the writer moves.
func TestOutputFlowControl(t *testing.T) {
	ex := newExecutor(t, gateBinary)
	flood := compile(t, ex, testprog.C(t, "internal/testprog/src/c/flood.c"), executor.CompileOptions{})
	w := &gatedWriter{open: make(chan struct{})}
	inst, err := ex.Instantiate(context.Background(), flood, executor.Options{Args: []string{"flood", "64"}, Stdout: w})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	done := runAsync(inst)
	select {
	case err := <-done:
		t.Fatalf("the program finished (%v) while its output was stalled: nothing held it back", err)
	case <-time.After(500 * time.Millisecond):
	}
	close(w.open)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if w.n != 64<<20 {
		t.Errorf("%d bytes written out, want 64 MiB", w.n)
	}
}

// TestStartFunctionReads instantiates, again and again, a module whose
// start function reads its input and then traps: the failed
// instantiation and the input still on its way must not confuse the
// protocol (the executor would die of it).
func TestStartFunctionReads(t *testing.T) {
	ex := newExecutor(t, gateBinary)
	m := compile(t, ex, testprog.Wat(t, "executor/testdata/start_read.wat"), executor.CompileOptions{})
	pid := ex.PID()
	for i := range 50 {
		_, err := ex.Instantiate(context.Background(), m, executor.Options{Stdin: strings.NewReader(strings.Repeat("x", i))})
		var trap *gateruntime.TrapError
		if !errors.As(err, &trap) || trap.Reason != "unreachable executed" {
			t.Fatalf("instantiation %d: %v, want the start function's trap", i, err)
		}
	}
	hello := compile(t, ex, testprog.C(t, "examples/c/hello.c"), executor.CompileOptions{})
	if _, out, _, err := run(t, ex, hello, "", "still"); err != nil || out != "Hello, still!\n" {
		t.Errorf("afterwards: %q, %v", out, err)
	}
	if ex.PID() != pid {
		t.Errorf("the executor was replaced (%d, then %d): it died", pid, ex.PID())
	}
}

// TestKill kills running instances: one in interruptible code, which
// stops, and one in code without stop checks, which does not (the
// runtime abandons it after 100 ms, still running): both end with
// ErrKilled; the first executor goes on, the second is replaced, since
// the abandoned program would stall it at its next garbage collection.
func TestKill(t *testing.T) {
	ex := newExecutor(t, gateBinary)
	spin := testprog.C(t, "internal/testprog/src/c/spin.c")
	for _, interruptible := range []bool{true, false} {
		m := compile(t, ex, spin, executor.CompileOptions{Interruptible: interruptible})
		inst, err := ex.Instantiate(context.Background(), m, executor.Options{})
		if err != nil {
			t.Fatal(err)
		}
		done := runAsync(inst)
		time.Sleep(100 * time.Millisecond)
		pid := ex.PID()
		inst.Kill()
		select {
		case err := <-done:
			if !errors.Is(err, executor.ErrKilled) {
				t.Errorf("interruptible %v: Run returned %v, want ErrKilled", interruptible, err)
			}
			if replaced := ex.PID() != pid; replaced == interruptible {
				t.Errorf("interruptible %v: executor replaced: %v (%v)", interruptible, replaced, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("interruptible %v: still running 30 s after Kill", interruptible)
		}
		inst.Close(context.Background())
	}
	hello := compile(t, ex, testprog.C(t, "examples/c/hello.c"), executor.CompileOptions{})
	if _, out, _, err := run(t, ex, hello, "", "after"); err != nil || out != "Hello, after!\n" {
		t.Errorf("afterwards: %q, %v", out, err)
	}
}

// TestCgroupMemory runs a program that fills 300 MiB in an executor whose
// cgroup allows 128 MiB: the kernel kills the executor, and the parent
// says so. Skipped where gate cannot make the executor a cgroup.
func TestCgroupMemory(t *testing.T) {
	ex := newExecutorConfig(t, executor.Config{Path: gateBinary, Memory: 128 << 20})
	if !inOwnCgroup(t, ex.PID()) {
		t.Skip("the executor has no cgroup of its own here (not root, or the host does not delegate one)")
	}
	mem := compile(t, ex, testprog.C(t, "bench/programs/mem.c"), executor.CompileOptions{MemoryLimit: 512 << 20})
	_, _, _, err := run(t, ex, mem, "", "300", "1")
	var crash *executor.CrashError
	if !errors.As(err, &crash) || !strings.Contains(crash.Reason, "executor killed by signal SIGKILL") {
		t.Errorf("filling 300 MiB under a 128 MiB cgroup: %v; want the executor killed", err)
	}
}

// TestCgroupBoundsCompile compiles, in an executor whose cgroup allows
// 128 MiB, a module whose compile takes about 470 MiB (a million empty
// functions, the most the limits admit): the cgroup
// applies from the executor's start, compiles included, so the kernel
// kills the executor, and the parent says so. Skipped where gate cannot
// make the executor a cgroup.
func TestCgroupBoundsCompile(t *testing.T) {
	ex := newExecutorConfig(t, executor.Config{Path: gateBinary, Memory: 128 << 20})
	if !inOwnCgroup(t, ex.PID()) {
		t.Skip("the executor has no cgroup of its own here (not root, or the host does not delegate one)")
	}
	began := time.Now()
	_, err := ex.Compile(context.Background(), hostile.Functions(1_000_000-3), executor.CompileOptions{})
	var crash *executor.CrashError
	if !errors.As(err, &crash) || !strings.Contains(crash.Reason, "executor killed by signal SIGKILL") {
		t.Errorf("compiling a module that needs 470 MiB under a 128 MiB cgroup: %v after %v; want the executor killed", err, time.Since(began))
	}
	t.Logf("%v after %v", err, time.Since(began).Round(time.Millisecond))
}

// inOwnCgroup tells whether pid is in the cgroup gate made for it.
func inOwnCgroup(t *testing.T, pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(data), fmt.Sprintf("gate-executor-%d", pid))
}

// TestSuspendLosesNoInput suspends a filter that waits for more of its
// input, a pipe, with the executor's request for it under way; then
// writes more to the pipe and resumes the snapshot in another executor
// on the same pipe. The read under way must have been interrupted at the
// snapshot: otherwise the first executor's parent would take the new
// bytes, and they would be lost.
func TestSuspendLosesNoInput(t *testing.T) {
	ex := newExecutor(t, gateBinary)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	snap, out := suspendFilter(t, ex, pr, pw, 300*time.Millisecond)
	io.WriteString(pw, "after\n")
	pw.Close()
	out2, err2 := resumeFilter(t, snap, pr)
	if got := out + out2; got != "BEFORE\nAFTER\n" || err2 != "filter: 13 bytes\n" {
		t.Errorf("output across the suspension %q, stderr %q: input was lost", got, err2)
	}
}

// chunkRecorder records a snapshot as it is written, and the size of
// each write; failAt > 0 makes the write that would take it past failAt
// bytes fail.
type chunkRecorder struct {
	bytes.Buffer
	writes, largest int
	failAt          int
}

var errRecorderFull = errors.New("recorder full")

func (r *chunkRecorder) Write(p []byte) (int, error) {
	if r.failAt > 0 && r.Len()+len(p) > r.failAt {
		return 0, errRecorderFull
	}
	r.writes++
	r.largest = max(r.largest, len(p))
	return r.Buffer.Write(p)
}

// TestWriteSnapshotStreams takes the snapshot of a program with MiBs of
// memory in use: it reaches the writer in chunks as the executor
// sends them, not whole; a writer that fails gets its error back, and
// the instance's snapshot can then be taken again, and resumes.
func TestWriteSnapshotStreams(t *testing.T) {
	ex := newExecutor(t, gateBinary)
	inst, before, want := suspendedSieve(t, ex)

	failing := &chunkRecorder{failAt: 3 << 20}
	if n, err := inst.WriteSnapshot(failing); !errors.Is(err, errRecorderFull) || n != int64(failing.Len()) {
		t.Errorf("WriteSnapshot into a writer that fails after 3 MiB: %d bytes, %v; want %d bytes and its error", n, err, failing.Len())
	}

	var rec chunkRecorder
	n, err := inst.WriteSnapshot(&rec)
	if err != nil || n != int64(rec.Len()) {
		t.Fatalf("WriteSnapshot: %d bytes, %v; wrote %d", n, err, rec.Len())
	}
	info, err := gateruntime.InspectSnapshot(rec.Bytes())
	if err != nil {
		t.Fatalf("the snapshot does not inspect: %v", err)
	}
	if info.MemoryStored < 4<<20 {
		t.Fatalf("the snapshot stores %d bytes of memory; the test wants at least 4 MiB", info.MemoryStored)
	}
	if rec.largest > proto.MaxChunk || rec.writes < rec.Len()/proto.MaxChunk {
		t.Errorf("%d bytes written in %d writes of at most %d bytes; want writes of at most a chunk, %d bytes", rec.Len(), rec.writes, rec.largest, proto.MaxChunk)
	}
	if !bytes.HasPrefix(rec.Bytes(), failing.Bytes()) {
		t.Errorf("the failed snapshot's first %d bytes differ from the snapshot's", failing.Len())
	}
	t.Logf("%d bytes in %d writes", rec.Len(), rec.writes)

	var out2 bytes.Buffer
	resumed, err := ex.Resume(context.Background(), rec.Bytes(), 0, false, executor.Options{Stdout: &out2})
	if err != nil {
		t.Fatal(err)
	}
	defer resumed.Close(context.Background())
	if code, err := resumed.Run(context.Background(), 0); err != nil || code != 5 || before+out2.String() != want {
		t.Errorf("resumed: status %d, %v, output %q; want 5, %q", code, err, before+out2.String(), want)
	}
}

// TestArgsRefused gives an instance more arguments than
// runtime.CheckArgs allows: the parent refuses them without sending
// anything (the executor would stop at a protocol error), and the same
// executor then runs a program given arguments at the bounds.
func TestArgsRefused(t *testing.T) {
	ex := newExecutor(t, gateBinary)
	env := compile(t, ex, testprog.C(t, "internal/testprog/src/c/env.c"), executor.CompileOptions{})
	pid := ex.PID()
	if _, err := ex.Instantiate(context.Background(), env, executor.Options{Args: make([]string, 70000)}); !errors.Is(err, gateruntime.ErrArgs) {
		t.Errorf("70000 arguments: %v; want ErrArgs", err)
	}
	long := strings.Repeat("a", gateruntime.MaxArgString)
	args := []string{"prog", long}
	for range gateruntime.MaxArgStrings - 2 - 4 {
		args = append(args, "")
	}
	vars := []string{"A=" + long[2:], "B=" + long[2:], "C=" + long[2:], "F=x"}
	if err := gateruntime.CheckArgs(args, vars); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	inst, err := ex.Instantiate(context.Background(), env, executor.Options{Args: args, Env: vars, Stdout: &out})
	if err != nil {
		t.Fatalf("arguments at the bounds: %v", err)
	}
	defer inst.Close(context.Background())
	if code, err := inst.Run(context.Background(), 0); err != nil || code != 0 {
		t.Fatalf("arguments at the bounds: status %d, %v", code, err)
	}
	if lines := strings.Count(out.String(), "\n"); lines != len(args)+len(vars) || !strings.Contains(out.String(), "arg 1="+long+"\n") {
		t.Errorf("the program printed %d lines, want %d", lines, len(args)+len(vars))
	}
	if ex.PID() != pid {
		t.Errorf("the executor was replaced (%d, then %d)", pid, ex.PID())
	}
}

// TestCompileAbandoned gives up on a compile that takes seconds (its
// context ends): Compile returns at once, the executor goes on serving
// (another program compiles and runs meanwhile), and closing it does
// not wait for the compile.
func TestCompileAbandoned(t *testing.T) {
	// Not newExecutor's: this test closes it itself, and times that.
	ex, err := executor.New(context.Background(), executor.Config{Path: gateBinary})
	var sandboxErr *executor.SandboxError
	if errors.As(err, &sandboxErr) && os.Getuid() != 0 {
		t.Skipf("this host cannot build the sandbox for a non-root user: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			ex.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err = ex.Compile(ctx, testprog.SlowCompile(32), executor.CompileOptions{})
	if elapsed := time.Since(began); !errors.Is(err, context.DeadlineExceeded) || elapsed > 2*time.Second {
		t.Fatalf("Compile of a module that takes seconds, given 300 ms: %v after %v; want the deadline, at once", err, elapsed)
	}
	pid := ex.PID()
	hello := compile(t, ex, testprog.C(t, "examples/c/hello.c"), executor.CompileOptions{})
	if _, out, _, err := run(t, ex, hello, "", "meanwhile"); err != nil || out != "Hello, meanwhile!\n" {
		t.Errorf("a program run while the abandoned compile goes on: %q, %v", out, err)
	}
	if ex.PID() != pid {
		t.Errorf("the executor was replaced (%d, then %d)", pid, ex.PID())
	}
	began = time.Now()
	ex.Close()
	closed = true
	if elapsed := time.Since(began); elapsed > 2*time.Second {
		t.Errorf("closing an executor that compiles took %v", elapsed)
	}
}

// TestKillWhileCompiling kills an executor that is compiling a module
// that takes seconds: Kill returns at once, the compile fails with the
// executor's death, and its cgroup is gone.
func TestKillWhileCompiling(t *testing.T) {
	ex := newExecutor(t, gateBinary)
	pid := ex.PID()
	var dirs []string
	if inOwnCgroup(t, pid) {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		for _, line := range strings.Split(string(data), "\n") {
			if parts := strings.SplitN(line, ":", 3); len(parts) == 3 && strings.HasSuffix(parts[2], fmt.Sprintf("/gate-executor-%d", pid)) {
				for _, c := range append(strings.Split(parts[1], ","), parts[1]) {
					if dir := filepath.Join("/sys/fs/cgroup", c, parts[2]); exists(dir) {
						dirs = append(dirs, dir)
					}
				}
			}
		}
	}
	if len(dirs) == 0 {
		t.Log("the executor has no cgroup of its own here: its removal is not checked")
	}
	compiled := make(chan error, 1)
	go func() {
		_, err := ex.Compile(context.Background(), testprog.SlowCompile(32), executor.CompileOptions{})
		compiled <- err
	}()
	time.Sleep(300 * time.Millisecond)
	began := time.Now()
	ex.Kill()
	if elapsed := time.Since(began); elapsed > 2*time.Second {
		t.Errorf("Kill took %v", elapsed)
	}
	err := <-compiled
	var crash *executor.CrashError
	if !errors.As(err, &crash) {
		t.Errorf("the compile under way: %v; want the executor's death", err)
	}
	for _, dir := range dirs {
		if exists(dir) {
			t.Errorf("the killed executor's cgroup is left: %s", dir)
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
