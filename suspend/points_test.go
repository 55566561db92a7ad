package suspend

import (
	"os"
	"slices"
	"testing"

	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/wasm"
)

// samePoints checks that Points finds the same points in m and in its
// transform out, function by function.
func samePoints(t *testing.T, name string, m, out *wasm.Module) (points int) {
	t.Helper()
	numImports := uint32(m.NumImports(wasm.ExternFunc))
	shift := func(fn uint32) uint32 {
		if fn < numImports {
			return fn
		}
		return fn + uint32(len(importNames))
	}
	before, after := NewPoints(m), NewPoints(out)
	for fn := range numImports + uint32(len(m.Code)) {
		want, err := before.Of(fn)
		if err != nil {
			t.Fatalf("%s: function %d: %v", name, fn, err)
		}
		want = slices.Clone(want)
		for i := range want {
			if want[i].Kind == PointCall {
				want[i].Callee = shift(want[i].Callee)
			}
		}
		have, err := after.Of(shift(fn))
		if err != nil {
			t.Fatalf("%s: transformed function %d: %v", name, shift(fn), err)
		}
		if !slices.Equal(have, want) {
			t.Fatalf("%s: function %d has points %v, transformed %v", name, fn, want, have)
		}
		points += len(want)
	}
	return points
}

// TestPoints checks that the points found in a program before the
// transform are those found after it, for C and Go programs and the spec
// suite's modules: a host that counts them in a snapshot's code finds
// what the transform numbered (the runtime's resume tests check that the
// frames of real suspensions name points it finds).
func TestPoints(t *testing.T) {
	programs := []string{
		testprog.C(t, "internal/testprog/src/c/tiny.c"),
		testprog.C(t, "internal/testprog/src/c/sieve.c"),
		testprog.C(t, "internal/testprog/src/c/recurse.c"),
		testprog.Go(t, "examples/go/sleepers"),
	}
	for _, path := range programs {
		bin, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := wasm.Decode(bin)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Transform(m)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d points", path, samePoints(t, path, m, out))
	}
	mods, err := validSpecModules()
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) == 0 {
		t.Skipf("WebAssembly spec suite not found in %s: set GATE_SPEC_DIR", specDir())
	}
	total := 0
	for _, sm := range mods {
		m, err := wasm.Decode(sm.binary)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Transform(m)
		if err != nil {
			continue // refused: it uses gate_suspend's names
		}
		total += samePoints(t, sm.name, m, out)
	}
	t.Logf("%d spec modules, %d points", len(mods), total)
	// Kinds: a loop, calls of a blocking import (0), another import
	// (1), an instrumented function (2, itself), a leaf (3), a function
	// whose only loop is dead code (4), and a call_indirect.
	m := &wasm.Module{
		Types:   []wasm.FuncType{{}},
		Imports: []wasm.Import{{Module: "wasi_snapshot_preview1", Name: "sched_yield", Kind: wasm.ExternFunc}, {Module: "env", Name: "f", Kind: wasm.ExternFunc}},
		Funcs:   []uint32{0, 0, 0},
		Tables:  []wasm.TableType{{Elem: wasm.FuncRef, Limits: wasm.Limits{Min: 1}}},
		Code: []wasm.Code{
			{Body: wasm.EncodeBody([]wasm.Instr{wasm.BlockInstr(wasm.OpLoop, wasm.BlockEmpty), {Op: wasm.OpCall, X: 0}, {Op: wasm.OpCall, X: 1},
				{Op: wasm.OpCall, X: 2}, {Op: wasm.OpCall, X: 3}, {Op: wasm.OpCall, X: 4}, {Op: wasm.OpEnd}, {Op: wasm.OpI32Const}, {Op: wasm.OpCallIndirect}, {Op: wasm.OpEnd}})},
			{Body: wasm.EncodeBody([]wasm.Instr{{Op: wasm.OpNop}, {Op: wasm.OpEnd}})},
			{Body: wasm.EncodeBody([]wasm.Instr{{Op: wasm.OpReturn}, wasm.BlockInstr(wasm.OpLoop, wasm.BlockEmpty), {Op: wasm.OpEnd}, {Op: wasm.OpEnd}})},
		},
	}
	if err := wasm.Validate(m); err != nil {
		t.Fatal(err)
	}
	p := NewPoints(m)
	have, err := p.Of(2)
	want := []Point{{Kind: PointEntry}, {Kind: PointLoop}, {Kind: PointCall, Callee: 0}, {Kind: PointCall, Callee: 2}, {Kind: PointIndirect}}
	if err != nil || !slices.Equal(have, want) {
		t.Errorf("points: %v, %v; want %v", have, err, want)
	}
	for _, fn := range []uint32{0, 1, 3, 4} {
		if have, err := p.Of(fn); len(have) != 0 || err != nil {
			t.Errorf("function %d (an import, a leaf, dead code only): %v, %v; want no points", fn, have, err)
		}
	}
	if _, err := p.Of(5); err == nil {
		t.Error("function 5 of 5: no error")
	}
	out, err := Transform(m)
	if err != nil {
		t.Fatal(err)
	}
	samePoints(t, "kinds", m, out)
}
