//go:build linux

package executor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gate-wasm/gate/executor"
	"github.com/gate-wasm/gate/internal/testprog"
)

// blockingReader is a program's standard input that tells when it is
// first read, then blocks until the test ends: the program is running
// and waiting.
type blockingReader struct {
	read chan struct{}
	once bool
	end  chan struct{}
}

func newBlockingReader(end chan struct{}) *blockingReader {
	return &blockingReader{read: make(chan struct{}), end: end}
}

func (r *blockingReader) Read([]byte) (int, error) {
	if !r.once {
		r.once = true
		close(r.read)
	}
	<-r.end
	return 0, io.EOF
}

// TestAttacks has the executor attempt, from inside, each of the system
// calls its sandbox must stop. Each time the executor dies with SIGSYS,
// the instance it was running is reported failed with that reason, and
// the next program runs normally in a new executor.
func TestAttacks(t *testing.T) {
	ex := newExecutor(t, attackBinary)
	filter := compile(t, ex, testprog.C(t, "examples/c/filter.c"), executor.CompileOptions{})
	hello := compile(t, ex, testprog.C(t, "examples/c/hello.c"), executor.CompileOptions{})
	end := make(chan struct{})
	defer close(end)
	for _, attack := range []string{"open", "socket", "execve", "ptrace", "mount", fmt.Sprintf("kill %d", os.Getpid()), "fork"} {
		t.Run(strings.Fields(attack)[0], func(t *testing.T) {
			// A program in the middle of a run when the attack comes.
			stdin := newBlockingReader(end)
			victim, err := ex.Instantiate(context.Background(), filter, executor.Options{Stdin: stdin})
			if err != nil {
				t.Fatal(err)
			}
			done := runAsync(victim)
			<-stdin.read
			pid := ex.PID()
			reason := ex.Attack(context.Background(), attack)
			if reason == nil || !strings.Contains(reason.Error(), "executor killed by signal SIGSYS") {
				t.Fatalf("executor %d after the attack: %v; want it killed by SIGSYS", pid, reason)
			}
			err = <-done
			var crash *executor.CrashError
			if !errors.As(err, &crash) || !strings.Contains(crash.Reason, "SIGSYS") {
				t.Errorf("the running instance ended with %v; want a *CrashError naming SIGSYS", err)
			}
			victim.Close(context.Background())
			// This process, the parent, is still here (the test
			// runs), and the next program runs in a new executor.
			code, out, _, err := run(t, ex, hello, "", "after")
			if err != nil || code != 0 || out != "Hello, after!\n" {
				t.Errorf("the next program: %d %q %v", code, out, err)
			}
			if ex.PID() == pid {
				t.Errorf("the same executor %d runs on", pid)
			}
		})
	}
}

// TestReleaseLacksAttacks checks that the release binary has no attack
// code, and that its executor refuses the attack frame as unknown rather
// than make any call.
func TestReleaseLacksAttacks(t *testing.T) {
	for binary, want := range map[string]bool{gateBinary: false, attackBinary: true} {
		out, err := exec.Command("go", "tool", "nm", binary).Output()
		if err != nil {
			t.Fatal(err)
		}
		has := bytes.Contains(out, []byte("executor/internal/attack.Do")) && bytes.Contains(out, []byte("executor/internal/attack.attacks"))
		if has != want {
			t.Errorf("%s: attack code present: %v, want %v", binary, has, want)
		}
	}
	ex := newExecutor(t, gateBinary)
	reason := ex.Attack(context.Background(), "open")
	if reason == nil || strings.Contains(reason.Error(), "SIGSYS") || !strings.Contains(reason.Error(), "unknown frame type") {
		t.Errorf("release executor sent an attack: %v; want it to stop at the unknown frame, not at the filter", reason)
	}
}

// TestKillExecutor kills the executor (SIGKILL) while 50 instances run:
// the parent stays up, all 50 are reported failed with the reason, and
// the next run works.
func TestKillExecutor(t *testing.T) {
	ex := newExecutor(t, gateBinary)
	filter := compile(t, ex, testprog.C(t, "examples/c/filter.c"), executor.CompileOptions{})
	hello := compile(t, ex, testprog.C(t, "examples/c/hello.c"), executor.CompileOptions{})
	end := make(chan struct{})
	defer close(end)
	const n = 50
	results := make(chan error, n)
	var readers []*blockingReader
	var insts []*executor.Instance
	for range n {
		stdin := newBlockingReader(end)
		inst, err := ex.Instantiate(context.Background(), filter, executor.Options{Stdin: stdin})
		if err != nil {
			t.Fatal(err)
		}
		readers = append(readers, stdin)
		insts = append(insts, inst)
		go func() {
			_, err := inst.Run(context.Background(), 0)
			results <- err
		}()
	}
	for _, r := range readers {
		<-r.read // all 50 are running
	}
	pid := ex.PID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(30 * time.Second)
	for i := range n {
		select {
		case err := <-results:
			var crash *executor.CrashError
			if !errors.As(err, &crash) || !strings.Contains(crash.Reason, "executor killed by signal SIGKILL") {
				t.Errorf("instance %d ended with %v; want a *CrashError naming SIGKILL", i, err)
			}
		case <-timeout:
			t.Fatalf("only %d of %d instances were reported within 30 s", i, n)
		}
	}
	for _, inst := range insts {
		inst.Close(context.Background())
	}
	code, out, _, err := run(t, ex, hello, "", "again")
	if err != nil || code != 0 || out != "Hello, again!\n" {
		t.Errorf("after the kill: %d %q %v", code, out, err)
	}
	if ex.PID() == pid || ex.PID() == 0 {
		t.Errorf("executor pid %d after the kill (was %d)", ex.PID(), pid)
	}
}

// TestExecutorCrash has the executor crash as a Go program does with
// GOTRACEBACK=crash: the parent reports the panic, however long the
// traceback after it. The runtime's last resort is exit(2): the SIGABRT
// it raises on itself is ignored, the executor being its pid
// namespace's init. Without rt_sigaction in the allowlist, the filter
// would kill it on the way and the parent would blame SIGSYS.
func TestExecutorCrash(t *testing.T) {
	ex := newExecutor(t, attackBinary)
	reason := ex.Attack(context.Background(), "crash")
	if reason == nil || !strings.Contains(reason.Error(), "executor exited with status 2: panic: the test asked the executor to crash") {
		t.Errorf("after a crash: %v; want status 2 and the panic", reason)
	}
}

// TestKillStalledExecutor kills a program without stop checks that spins
// while the executor's garbage collector waits for it (started by the
// gate_attack build's "gc"): the executor, every goroutine of which
// waits, cannot report the program's end, so the parent replaces it
// after killGrace; Run returns ErrKilled and the next program runs in a
// new executor.
func TestKillStalledExecutor(t *testing.T) {
	ex := newExecutor(t, attackBinary)
	spin := compile(t, ex, testprog.C(t, "internal/testprog/src/c/spin.c"), executor.CompileOptions{})
	inst, err := ex.Instantiate(context.Background(), spin, executor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	done := runAsync(inst)
	time.Sleep(100 * time.Millisecond)
	pid := ex.PID()
	if err := ex.Stall(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the collection waits by now
	began := time.Now()
	inst.Kill()
	select {
	case err := <-done:
		if !errors.Is(err, executor.ErrKilled) {
			t.Errorf("Run: %v, want ErrKilled", err)
		}
		t.Logf("Run returned %v after %v", err, time.Since(began).Round(time.Millisecond))
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30 s after Kill")
	}
	if ex.PID() == pid {
		t.Errorf("the stalled executor %d was not replaced", pid)
	}
	hello := compile(t, ex, testprog.C(t, "examples/c/hello.c"), executor.CompileOptions{})
	if _, out, _, err := run(t, ex, hello, "", "after"); err != nil || out != "Hello, after!\n" {
		t.Errorf("afterwards: %q, %v", out, err)
	}
}
