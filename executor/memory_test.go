//go:build linux

package executor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/gate-wasm/gate/executor"
	"github.com/gate-wasm/gate/executor/internal/proto"
	"github.com/gate-wasm/gate/internal/testprog"
	gateruntime "github.com/gate-wasm/gate/runtime"
	"github.com/gate-wasm/gate/wasm"
)

// sizeRecorder records what Options.MemoryGrown reports; at, if set, is
// called (on the executor's reading goroutine) with each size.
type sizeRecorder struct {
	mu    sync.Mutex
	sizes []uint64
	at    func(size uint64)
}

func (r *sizeRecorder) grown(size uint64) {
	r.mu.Lock()
	r.sizes = append(r.sizes, size)
	r.mu.Unlock()
	if r.at != nil {
		r.at(size)
	}
}

func (r *sizeRecorder) get() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]uint64(nil), r.sizes...)
}

// check fails t unless the sizes never decrease, start at first and end
// at last.
func (r *sizeRecorder) check(t *testing.T, what string, first, last uint64) {
	t.Helper()
	sizes := r.get()
	if len(sizes) == 0 {
		t.Fatalf("%s: MemoryGrown never called", what)
	}
	if sizes[0] != first || sizes[len(sizes)-1] != last {
		t.Fatalf("%s: MemoryGrown reported %d to %d bytes, want %d to %d", what, sizes[0], sizes[len(sizes)-1], first, last)
	}
	for k := 1; k < len(sizes); k++ {
		if sizes[k] < sizes[k-1] {
			t.Fatalf("%s: MemoryGrown reported %d after %d bytes", what, sizes[k], sizes[k-1])
		}
	}
	t.Logf("%s: %d reports from %d to %d pages", what, len(sizes), first/wasm.PageSize, last/wasm.PageSize)
}

// growProgram compiles src, a C program that grows its memory a page at
// a time as internal/testprog/src/c/grow.c does, and returns its path
// and the size of its memory at the start.
func growProgram(t *testing.T, src string) (path string, initial uint64) {
	t.Helper()
	path = testprog.C(t, src)
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	limits, ok, err := wasm.Memory(bin)
	if err != nil || !ok {
		t.Fatalf("%s's memory: %v (has one: %v)", src, err, ok)
	}
	return path, uint64(limits.Min) * wasm.PageSize
}

// TestMemoryGrown runs grow.c in the executor with Options.MemoryGrown:
// the parent hears the memory's first size before Instantiate returns,
// sizes that never decrease, and the final one (the cap) before Run
// returns, however the executor coalesced the 1000 growths. Without
// MemoryGrown, no size is sent: the parent would stop the executor for
// one it did not ask for.
func TestMemoryGrown(t *testing.T) {
	ex := newExecutor(t, gateBinary)
	path, initial := growProgram(t, "internal/testprog/src/c/grow.c")
	const limit = 1024 * wasm.PageSize
	grow := compile(t, ex, path, executor.CompileOptions{MemoryLimit: limit})
	var rec sizeRecorder
	var out bytes.Buffer
	inst, err := ex.Instantiate(context.Background(), grow, executor.Options{Args: []string{"grow", "100000"}, Stdout: &out, MemoryGrown: rec.grown})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	if sizes := rec.get(); len(sizes) != 1 || sizes[0] != initial {
		t.Fatalf("sizes reported when Instantiate returned: %v, want [%d]", sizes, initial)
	}
	if code, err := inst.Run(context.Background(), 0); err != nil || code != 0 {
		t.Fatalf("Run: status %d, %v", code, err)
	}
	// As Run returns: the final size came before the exit.
	rec.check(t, "grown to the cap", initial, limit)
	if want := "pages=1024 failed=1\n"; out.String() != want {
		t.Errorf("stdout %q, want %q", out.String(), want)
	}

	pid := ex.PID()
	code, stdout, _, err := run(t, ex, grow, "", "100")
	if err != nil || code != 0 || stdout != "pages=100 failed=0\n" {
		t.Errorf("without MemoryGrown: status %d, %q, %v", code, stdout, err)
	}
	if ex.PID() != pid {
		t.Errorf("without MemoryGrown, the executor was replaced (%d, then %d): it sent sizes nobody asked for", pid, ex.PID())
	}
}

// TestMemoryGrownResume suspends a program partway through its growth
// (when the parent hears it has grown 64 pages), then resumes its
// snapshot with Options.MemoryGrown: the suspended run's last size,
// known when Run returns ErrSuspended, is the snapshot's; the resumed
// instance reports the snapshot's size first, before Resume returns,
// and the final size last. The program is executor/testdata's
// grow_slowly.c: grow.c checks for a suspension too rarely to stop
// partway short of a GiB of memory.
func TestMemoryGrownResume(t *testing.T) {
	ex := newExecutor(t, gateBinary)
	path, initial := growProgram(t, "executor/testdata/grow_slowly.c")
	const pages = 1000
	const limit = 1024 * wasm.PageSize
	grow := compile(t, ex, path, executor.CompileOptions{MemoryLimit: limit, Suspendable: true})
	suspend := make(chan struct{})
	var once sync.Once
	rec := sizeRecorder{at: func(size uint64) {
		if size >= initial+64*wasm.PageSize {
			once.Do(func() { close(suspend) })
		}
	}}
	var out bytes.Buffer
	inst, err := ex.Instantiate(context.Background(), grow, executor.Options{Args: []string{"grow", fmt.Sprint(pages)}, Stdout: &out, MemoryGrown: rec.grown})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close(context.Background())
	done := runAsync(inst)
	select {
	case <-suspend:
		// Not from MemoryGrown, which runs on the reading loop and
		// must not call the instance.
		inst.Suspend()
	case err := <-done:
		t.Fatalf("Run ended (%v) before the memory grew 64 pages", err)
	}
	if err := <-done; !errors.Is(err, gateruntime.ErrSuspended) {
		t.Fatalf("Run: %v, want ErrSuspended (did it grow to %d pages before the suspension came?)", err, pages)
	}
	snap, err := inst.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	info, err := gateruntime.InspectSnapshot(snap)
	if err != nil {
		t.Fatal(err)
	}
	at := uint64(info.MemoryPages) * wasm.PageSize
	if at <= initial || at >= pages*wasm.PageSize {
		t.Fatalf("suspended with %d pages; the test means to suspend between %d and %d", info.MemoryPages, initial/wasm.PageSize, pages)
	}
	rec.check(t, "suspended", initial, at)

	var resumedRec sizeRecorder
	resumed, err := ex.Resume(context.Background(), snap, limit, false, executor.Options{Stdout: &out, MemoryGrown: resumedRec.grown})
	if err != nil {
		t.Fatal(err)
	}
	defer resumed.Close(context.Background())
	if sizes := resumedRec.get(); len(sizes) != 1 || sizes[0] != at {
		t.Fatalf("sizes reported when Resume returned: %v, want [%d]", sizes, at)
	}
	if code, err := resumed.Run(context.Background(), 0); err != nil || code != 0 {
		t.Fatalf("resumed Run: status %d, %v", code, err)
	}
	resumedRec.check(t, "resumed", at, pages*wasm.PageSize)
	if want := fmt.Sprintf("pages=%d failed=0\n", pages); out.String() != want {
		t.Errorf("stdout %q, want %q", out.String(), want)
	}
}

// TestForgedMemoryGrown has a compromised executor (the gate_attack
// build) send its parent MemoryGrown frames it would not send: each
// stops the executor with a protocol error, before MemoryGrown sees
// it. A well-formed one goes to MemoryGrown, and the executor goes on.
func TestForgedMemoryGrown(t *testing.T) {
	ex := newExecutor(t, attackBinary)
	path, initial := growProgram(t, "internal/testprog/src/c/grow.c")
	const limit = 40 * wasm.PageSize
	grow := compile(t, ex, path, executor.CompileOptions{MemoryLimit: limit})
	if initial < wasm.PageSize {
		t.Fatalf("grow.c's memory starts with %d bytes; the test shrinks it by a page", initial)
	}
	page := func(n uint64) []byte { return proto.EncodeU64(n * wasm.PageSize) }

	// newVictim makes an instance of grow, which reports its initial
	// size, and runs it to its end if ran.
	newVictim := func(t *testing.T, rec *sizeRecorder, ran bool) *executor.Instance {
		opts := executor.Options{Args: []string{"grow", "30"}}
		if rec != nil {
			opts.MemoryGrown = rec.grown
		}
		inst, err := ex.Instantiate(context.Background(), grow, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { inst.Close(context.Background()) })
		if ran {
			if code, err := inst.Run(context.Background(), 0); err != nil || code != 0 {
				t.Fatalf("Run: status %d, %v", code, err)
			}
		}
		return inst
	}

	t.Run("well-formed", func(t *testing.T) {
		got := make(chan uint64, 2)
		rec := &sizeRecorder{at: func(size uint64) { got <- size }}
		victim := newVictim(t, rec, false)
		<-got // the initial size
		pid := ex.PID()
		if err := ex.Forge(context.Background(), proto.MemoryGrown, victim.ID(), page(39)); err != nil {
			t.Fatal(err)
		}
		if size := <-got; size != 39*wasm.PageSize || ex.PID() != pid {
			t.Errorf("a forged but well-formed size: MemoryGrown got %d, executor %d then %d", size, pid, ex.PID())
		}
	})

	for _, c := range []struct {
		name    string
		asked   bool // the victim has MemoryGrown
		ran     bool // the victim has run to its end
		payload []byte
		want    string // in the reason
	}{
		{"not asked for", false, false, page(2), "memory size of an instance that did not ask for it"},
		{"short payload", true, false, proto.EncodeU32(2 * wasm.PageSize), "payload ends in memory grown"},
		{"long payload", true, false, append(page(2), 0), "bytes left over after memory grown"},
		{"not pages", true, false, proto.EncodeU64(initial + 1), "not a whole number of 64 KiB pages"},
		{"over the limit", true, false, page(41), "more than the limit of 2621440"},
		{"shrinking", true, false, proto.EncodeU64(initial - wasm.PageSize), "less than the"},
		{"after the exit", true, true, page(30), "memory size after the exit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var rec *sizeRecorder
			if c.asked {
				rec = &sizeRecorder{}
			}
			victim := newVictim(t, rec, c.ran)
			var before []uint64
			if rec != nil {
				before = rec.get()
			}
			pid := ex.PID()
			err := ex.Attack(context.Background(), executor.ForgedFrame(proto.MemoryGrown, victim.ID(), c.payload))
			if err == nil || !strings.Contains(err.Error(), "protocol error") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("executor %d after a forged MemoryGrown: %v; want it stopped for a protocol error, %q", pid, err, c.want)
			}
			if rec != nil {
				if after := rec.get(); len(after) != len(before) {
					t.Errorf("MemoryGrown got the forged size: %v after %v", after[len(before):], before)
				}
			}
		})
	}
}
