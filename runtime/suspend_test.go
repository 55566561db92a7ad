package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/runtime"
)

// compileSuspendable compiles the wasm file at path with the transform.
func compileSuspendable(t *testing.T, rt *runtime.Runtime, path string) *runtime.Module {
	t.Helper()
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := rt.CompileSuspendable(context.Background(), bin, 0)
	if err != nil {
		t.Fatalf("CompileSuspendable(%s): %v", path, err)
	}
	return m
}

// suspendAt is when runSuspending suspends a run: after a delay, or at
// the nth check site of the run.
type suspendAt struct {
	delay time.Duration
	check int
}

// runSuspending runs m, suspending it as each of plan says in turn and
// resuming it from its snapshot in a fresh runtime, and returns the whole
// output, the exit status and the number of suspensions.
func runSuspending(t *testing.T, path string, args []string, plan []suspendAt) (string, uint32, int) {
	t.Helper()
	var out bytes.Buffer
	rt := newRuntime(t, runtime.Config{})
	inst, err := rt.Instantiate(context.Background(), compileSuspendable(t, rt, path), runtime.Options{Args: args, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	suspensions := 0
	for n := 0; ; n++ {
		switch {
		case n >= len(plan):
		case plan[n].check > 0:
			runtime.SuspendAtCheck(inst, plan[n].check)
		default:
			timer := time.AfterFunc(plan[n].delay, inst.Suspend)
			defer timer.Stop()
		}
		code, err := inst.Run(context.Background(), 0)
		if !errors.Is(err, runtime.ErrSuspended) {
			inst.Close(context.Background())
			if err != nil {
				t.Fatalf("run %d: %v", n, err)
			}
			return out.String(), code, suspensions
		}
		suspensions++
		snap, err := inst.Snapshot()
		if err != nil {
			t.Fatalf("Snapshot after run %d: %v", n, err)
		}
		inst.Close(context.Background())
		rt = newRuntime(t, runtime.Config{}) // elsewhere
		inst, err = rt.Resume(context.Background(), snap, 0, runtime.Options{Stdout: &out})
		if err != nil {
			t.Fatalf("Resume after run %d: %v", n, err)
		}
	}
}

func TestSuspendResumeC(t *testing.T) {
	prog := testprog.C(t, "internal/testprog/src/c/recurse.c")
	args := []string{"recurse", "60", "20"}
	want, wantCode, _ := runSuspending(t, prog, args, nil)
	if wantCode != 7 || !strings.Contains(want, "checksum") {
		t.Fatalf("uninterrupted run: status %d, output %q", wantCode, want)
	}
	check := func(name string, plan []suspendAt) {
		t.Helper()
		got, code, suspensions := runSuspending(t, prog, args, plan)
		if got != want || code != wantCode {
			t.Fatalf("%s: with %d suspensions: status %d, output\n%s\nwant status %d, output\n%s", name, suspensions, code, got, wantCode, want)
		}
		if suspensions != len(plan) {
			t.Errorf("%s: %d suspensions, want %d", name, suspensions, len(plan))
		}
	}
	// At the 1st, 2nd, ... check site, once; then further apart.
	for n := 1; n <= 2000; n += 1 + n/25 {
		check(fmt.Sprintf("at check %d", n), []suspendAt{{check: n}})
	}
	// Every 97th check site, again and again.
	var plan []suspendAt
	for range 40 {
		plan = append(plan, suspendAt{check: 97})
	}
	check("every 97th check", plan)
}

// TestSuspendResumeTimed suspends a longer run at moments chosen by the
// clock, not by the program.
func TestSuspendResumeTimed(t *testing.T) {
	prog := testprog.C(t, "internal/testprog/src/c/recurse.c")
	args := []string{"recurse", "60", "20000"}
	want, wantCode, _ := runSuspending(t, prog, args, nil)
	plan := []suspendAt{{}, {}, {}, {delay: time.Millisecond}, {delay: 2 * time.Millisecond}, {delay: 5 * time.Millisecond}}
	got, code, suspensions := runSuspending(t, prog, args, plan)
	if got != want || code != wantCode {
		t.Errorf("with %d suspensions: status %d, output\n%s\nwant status %d, output\n%s", suspensions, code, got, wantCode, want)
	}
	if suspensions == 0 {
		t.Errorf("the program was never suspended")
	}
}
