package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

// TestSnapshotRefusesReferences suspends programs in a loop: one whose
// frame holds a null reference (carried: it resumes and ends as an
// uninterrupted run does), one whose frame holds a function reference
// and one that has changed its table (both refused with an error that
// says why, since a snapshot would not bring them back).
func TestSnapshotRefusesReferences(t *testing.T) {
	ctx := context.Background()
	refs := testprog.Wat(t, "internal/testprog/src/wat/suspend_refs.wat")
	tableSet := testprog.Wat(t, "internal/testprog/src/wat/suspend_table_set.wat")
	for _, tc := range []struct {
		name     string
		path     string
		args     []string
		wantCode uint32
		refusal  string // "" if the snapshot must be written
	}{
		{"null reference", refs, []string{"refs"}, 41, ""},
		{"function reference", refs, []string{"refs", "hold"}, 40, "holds a reference that is not null"},
		{"table changed", tableSet, []string{"table"}, 0, "changes its tables"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := newRuntime(t, runtime.Config{})
			inst, err := rt.Instantiate(ctx, compileSuspendable(t, rt, tc.path), runtime.Options{Args: tc.args})
			if err != nil {
				t.Fatal(err)
			}
			defer inst.Close(ctx)
			runtime.SuspendAtCheck(inst, 10) // in the loop
			if _, err := inst.Run(ctx, 0); !errors.Is(err, runtime.ErrSuspended) {
				t.Fatalf("Run: %v, want ErrSuspended", err)
			}
			snap, err := inst.Snapshot()
			if tc.refusal != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refusal) {
					t.Fatalf("Snapshot: %v, want an error saying %q", err, tc.refusal)
				}
				return
			}
			if err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
			resumed, err := newRuntime(t, runtime.Config{}).Resume(ctx, snap, 0, runtime.Options{})
			if err != nil {
				t.Fatalf("Resume: %v", err)
			}
			defer resumed.Close(ctx)
			code, err := resumed.Run(ctx, 0)
			if err != nil || code != tc.wantCode {
				t.Fatalf("resumed run: status %d, %v; want %d", code, err, tc.wantCode)
			}
		})
	}
	// Uninterrupted, the programs end with the statuses above.
	for _, args := range [][]string{{"refs"}, {"refs", "hold"}} {
		rt := newRuntime(t, runtime.Config{})
		inst, err := rt.Instantiate(ctx, compileSuspendable(t, rt, refs), runtime.Options{Args: args})
		if err != nil {
			t.Fatal(err)
		}
		code, err := inst.Run(ctx, 0)
		inst.Close(ctx)
		if want := uint32(42 - len(args)); err != nil || code != want {
			t.Errorf("uninterrupted %v: status %d, %v; want %d", args, code, err, want)
		}
	}
}

// TestRemainingStdin suspends a filter while its input is an io.Pipe (a
// reader without deadlines, so the read under way cannot be stopped),
// writes more input after the snapshot, and resumes the program in the
// same process on RemainingStdin: it must see all of its input, as an
// uninterrupted run does.
func TestRemainingStdin(t *testing.T) {
	ctx := context.Background()
	path := testprog.C(t, "examples/c/filter.c")
	const first, second = "hello\n", "world\n"
	var want bytes.Buffer
	rt := newRuntime(t, runtime.Config{})
	inst, err := rt.Instantiate(ctx, compileSuspendable(t, rt, path), runtime.Options{Stdin: strings.NewReader(first + second), Stdout: &want})
	if err != nil {
		t.Fatal(err)
	}
	if code, err := inst.Run(ctx, 0); err != nil || code != 0 {
		t.Fatalf("uninterrupted run: status %d, %v", code, err)
	}
	inst.Close(ctx)

	for round := range 20 {
		pr, pw := io.Pipe()
		var out bytes.Buffer
		inst, err := rt.Instantiate(ctx, compileSuspendable(t, rt, path), runtime.Options{Stdin: pr, Stdout: &out})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			pw.Write([]byte(first))
			time.Sleep(time.Duration(round) * time.Millisecond)
			inst.Suspend()
		}()
		if _, err := inst.Run(ctx, 0); !errors.Is(err, runtime.ErrSuspended) {
			t.Fatalf("round %d: Run: %v, want ErrSuspended", round, err)
		}
		snap, err := inst.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		rest := inst.RemainingStdin()
		inst.Close(ctx)
		go func() {
			pw.Write([]byte(second))
			pw.Close()
		}()
		resumed, err := newRuntime(t, runtime.Config{}).Resume(ctx, snap, 0, runtime.Options{Stdin: rest, Stdout: &out})
		if err != nil {
			t.Fatalf("round %d: Resume: %v", round, err)
		}
		code, err := resumed.Run(ctx, 0)
		resumed.Close(ctx)
		if err != nil || code != 0 || out.String() != want.String() {
			t.Fatalf("round %d: resumed run: status %d, %v, output %q; want %q", round, code, err, out.String(), want.String())
		}
	}
}
