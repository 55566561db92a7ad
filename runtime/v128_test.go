package runtime_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/runtime"
	"github.com/gate-wasm/gate/wasm"
)

// v128Steps returns the values of the mutable v128 global of
// suspend_v128_global.wat after 0, 1, ..., n of its steps, computed as
// the program does: v128Steps(60)[60] is what it prints.
func v128Steps(n int) [][2]uint64 {
	v := [2]uint64{0x0123456789abcdef, 0x7edcba9876543210}
	out := [][2]uint64{v}
	for k := range n {
		x := [2]uint64{v[0]*6364136223846793005 + 1442695040888963407, v[1]*6364136223846793005 + 0x9e3779b97f4a7c15}
		var b, r [16]byte
		binary.LittleEndian.PutUint64(b[:8], x[0])
		binary.LittleEndian.PutUint64(b[8:], x[1])
		for j := range r {
			r[j] = b[(j+3)%16]
		}
		x[0] += binary.LittleEndian.Uint64(r[:8])
		x[1] += binary.LittleEndian.Uint64(r[8:])
		v = [2]uint64{x[0] ^ uint64(k), x[1] ^ uint64(k)}
		out = append(out, v)
	}
	return out
}

// TestSuspendV128Global suspends a program whose mutable v128 global a
// loop updates, at every check site in turn and at every 7th again and
// again, resuming it from its snapshot in a fresh runtime each time: it
// must print and return what the uninterrupted run does. The snapshot
// must hold the global's whole 128 bits.
func TestSuspendV128Global(t *testing.T) {
	t.Parallel()
	path := testprog.Wat(t, "internal/testprog/src/wat/suspend_v128_global.wat")
	p := &prog{path: path, args: []string{"v128"}}
	want := p.run(t, nil)
	final := v128Steps(60)[60]
	if w := fmt.Sprintf("%016x%016x\n", final[1], final[0]); want.stdout != w {
		t.Fatalf("uninterrupted run prints %q, want %q", want.stdout, w)
	}
	if w := uint32(60 + (final[0]^final[1])%61); want.code != w {
		t.Fatalf("uninterrupted run: status %d, want %d", want.code, w)
	}
	checks := p.checks(t)
	if checks < 120 {
		t.Fatalf("%d check sites, want at least 2 per step", checks)
	}
	for n := 1; n <= checks; n++ {
		got := p.run(t, []step{{check: n}})
		same(t, fmt.Sprintf("at check %d", n), got, want, true)
		if got.suspensions != 1 {
			t.Fatalf("at check %d: %d suspensions, want 1", n, got.suspensions)
		}
	}
	var plan []step
	for range checks / 7 {
		plan = append(plan, step{check: 7})
	}
	p.keepSnaps = true
	got := p.run(t, plan)
	same(t, "every 7th check", got, want, true)
	if got.suspensions != len(plan) {
		t.Fatalf("every 7th check: %d suspensions, want %d", got.suspensions, len(plan))
	}

	// Each snapshot holds the global's value after as many steps as its
	// count global (global 1) says, both halves.
	steps := v128Steps(60)
	seen := map[uint64]bool{}
	for k, snap := range got.snaps {
		s := mustSnapshot(t, snap)
		_, values, err := s.Program(nil)
		if err != nil {
			t.Fatal(err)
		}
		count := uint32(values[1][0])
		if count > 60 {
			t.Fatalf("snapshot %d: count global %d", k, count)
		}
		if v := values[0]; v != steps[count] {
			t.Fatalf("snapshot %d, after %d steps: global 0 is %#016x:%016x, want %#016x:%016x",
				k, count, v[1], v[0], steps[count][1], steps[count][0])
		}
		seen[uint64(count)] = true
		if bits.OnesCount64(values[0][1]) == 0 {
			t.Fatalf("snapshot %d: high half of the v128 global is 0", k)
		}
		m, err := wasm.Decode(snap)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range m.Exports {
			if strings.HasPrefix(e.Name, "gate_suspend.v128.") {
				t.Fatalf("snapshot %d exports %s: the accessors are the host's, not the snapshot's", k, e.Name)
			}
		}
	}
	if len(seen) < 10 {
		t.Errorf("the snapshots hold only %d different step counts", len(seen))
	}
	// A valid module for any tool.
	file := filepath.Join(t.TempDir(), "v128.snapshot")
	if err := os.WriteFile(file, got.snaps[len(got.snaps)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("wasm-validate", file).CombinedOutput(); err != nil {
		t.Errorf("wasm-validate: %v\n%s", err, out)
	}
	// InspectSnapshot reads it.
	if _, err := runtime.InspectSnapshot(got.snaps[0]); err != nil {
		t.Errorf("InspectSnapshot: %v", err)
	}
	// A snapshot that exports an accessor's name itself is refused: the
	// host gives the accessors, the snapshot cannot.
	bad := withModule(t, got.snaps[0], func(m *wasm.Module) {
		m.Exports = append(m.Exports, wasm.Export{Name: "gate_suspend.v128.set.0", Kind: wasm.ExternGlobal, Index: 0})
	})
	var merr *runtime.ModuleError
	if _, err := newRuntime(t, runtime.Config{}).Resume(context.Background(), bad, 0, runtime.Options{}); !errors.As(err, &merr) || !strings.Contains(err.Error(), "gate_suspend.v128.set.0") {
		t.Errorf("Resume of a snapshot exporting an accessor's name: %v", err)
	}
}
