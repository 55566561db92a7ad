package runtime

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/runtime/internal/globals"
	"github.com/gate-wasm/gate/runtime/internal/snapshot"
	"github.com/gate-wasm/gate/suspend"
	"github.com/gate-wasm/gate/wasm"
)

// transformed decodes the wasm file at path and applies the transform.
func transformed(t *testing.T, path string) *wasm.Module {
	t.Helper()
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := wasm.Decode(bin)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := suspend.Transform(m)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestSuspendableModuleNoV128 checks that a program without a mutable
// v128 global compiles to the bytes it compiled to before the accessors
// existed (the transformed module with its mutable globals exported):
// compiled code is cached by those bytes.
func TestSuspendableModuleNoV128(t *testing.T) {
	for _, path := range []string{
		testprog.C(t, "internal/testprog/src/c/sieve.c"),
		testprog.Wat(t, "internal/testprog/src/wat/suspend_refs.wat"),
	} {
		old := transformed(t, path)
		exportMutableGlobals(old)
		want := wasm.Encode(old)
		tr := transformed(t, path)
		got, err := suspendableModule(tr)
		if err != nil {
			t.Fatal(err)
		}
		if got != tr || len(got.Funcs) != len(old.Funcs) {
			t.Errorf("%s: functions were added", path)
		}
		if !bytes.Equal(wasm.Encode(got), want) {
			t.Errorf("%s: compiles to other bytes than before", path)
		}
	}
}

// TestSuspendableModuleV128 checks what a program with a mutable v128
// global compiles to: its functions, at the same indices, then a getter
// and a setter of the global, exported, and nothing of them in the
// resume module that snapshots are made of.
func TestSuspendableModuleV128(t *testing.T) {
	tr := transformed(t, testprog.Wat(t, "internal/testprog/src/wat/suspend_v128_global.wat"))
	funcs := len(tr.Funcs)
	got, err := suspendableModule(tr)
	if err != nil {
		t.Fatal(err)
	}
	if err := wasm.Validate(got); err != nil {
		t.Fatalf("invalid: %v", err)
	}
	if len(got.Funcs) != funcs+2 || len(tr.Funcs) != funcs {
		t.Fatalf("%d functions, want %d", len(got.Funcs), funcs+2)
	}
	for i := range tr.Code {
		if !bytes.Equal(got.Code[i].Body, tr.Code[i].Body) {
			t.Fatalf("function %d changed", i)
		}
	}
	first := uint32(tr.NumImports(wasm.ExternFunc) + funcs)
	names := map[string]uint32{}
	for _, e := range got.Exports {
		if e.Kind == wasm.ExternFunc {
			names[e.Name] = e.Index
		}
	}
	if names["gate_suspend.v128.get.0"] != first || names["gate_suspend.v128.set.0"] != first+1 {
		t.Fatalf("accessors exported as %v, want get and set of global 0 at %d and %d", names, first, first+1)
	}
	// The accessors are not instrumented: they call nothing (no check,
	// no save) and touch only their global.
	for _, c := range got.Code[funcs:] {
		instrs, err := c.Instructions()
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range instrs {
			switch in.Op {
			case wasm.OpCall, wasm.OpCallIndirect, wasm.OpLoop:
				t.Fatalf("an accessor has %v", in)
			case wasm.OpGlobalGet, wasm.OpGlobalSet:
				if in.X != 0 {
					t.Fatalf("an accessor touches global %d", in.X)
				}
			}
		}
	}
	p, err := snapshot.NewProgram(tr)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.Module().Funcs); n != funcs {
		t.Errorf("the resume module has %d functions, want %d", n, funcs)
	}
	for _, e := range p.Module().Exports {
		if strings.HasPrefix(e.Name, globals.GetPrefix) || strings.HasPrefix(e.Name, globals.SetPrefix) {
			t.Errorf("the resume module exports %s", e.Name)
		}
	}
}
