package globals

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/gate-wasm/gate/wasm"
)

// module returns a module with an imported global, one function, and
// globals: i32 mutable (1), v128 mutable (2), v128 immutable (3), v128
// mutable (4).
func module() *wasm.Module {
	v128 := func(lo, hi uint64) []byte {
		return wasm.EncodeBody([]wasm.Instr{{Op: wasm.OpV128Const, Imm: lo, Imm2: hi}, {Op: wasm.OpEnd}})
	}
	return &wasm.Module{
		Types:   []wasm.FuncType{{}},
		Imports: []wasm.Import{{Module: "env", Name: "g", Kind: wasm.ExternGlobal, Global: wasm.GlobalType{Type: wasm.I32}}},
		Funcs:   []uint32{0},
		Globals: []wasm.Global{
			{Type: wasm.GlobalType{Type: wasm.I32, Mutable: true}, Init: wasm.EncodeBody([]wasm.Instr{{Op: wasm.OpI32Const}, {Op: wasm.OpEnd}})},
			{Type: wasm.GlobalType{Type: wasm.V128, Mutable: true}, Init: v128(1, 2)},
			{Type: wasm.GlobalType{Type: wasm.V128}, Init: v128(3, 4)},
			{Type: wasm.GlobalType{Type: wasm.V128, Mutable: true}, Init: v128(5, 6)},
		},
		Exports: []wasm.Export{{Name: "f", Kind: wasm.ExternFunc, Index: 0}},
		Code:    []wasm.Code{{Body: []byte{byte(wasm.OpEnd)}}},
	}
}

func TestNoV128(t *testing.T) {
	m := module()
	before := wasm.Encode(m)
	for _, indices := range [][]uint32{nil, {1}, {0, 1, 3}} { // 0: imported, 3: immutable
		got, err := AddV128Accessors(m, indices)
		if err != nil || got != m {
			t.Fatalf("%v: %p, %v; want the module itself", indices, got, err)
		}
	}
	if !bytes.Equal(wasm.Encode(m), before) {
		t.Errorf("the module changed")
	}
}

func TestAccessors(t *testing.T) {
	m := module()
	before := wasm.Encode(m)
	got, err := AddV128Accessors(m, []uint32{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wasm.Encode(m), before) || len(m.Funcs) != 1 {
		t.Errorf("the module given changed")
	}
	if err := wasm.Validate(got); err != nil {
		t.Fatalf("invalid: %v", err)
	}
	if len(got.Funcs) != 5 || !bytes.Equal(got.Code[0].Body, m.Code[0].Body) || len(got.Types) != 3 {
		t.Fatalf("%d functions, %d types; want the one function first, 4 accessors, 2 new types", len(got.Funcs), len(got.Types))
	}
	want := []wasm.Export{m.Exports[0],
		{Name: "gate_suspend.v128.get.2", Kind: wasm.ExternFunc, Index: 1},
		{Name: "gate_suspend.v128.set.2", Kind: wasm.ExternFunc, Index: 2},
		{Name: "gate_suspend.v128.get.4", Kind: wasm.ExternFunc, Index: 3},
		{Name: "gate_suspend.v128.set.4", Kind: wasm.ExternFunc, Index: 4},
	}
	if !slices.Equal(got.Exports, want) {
		t.Fatalf("exports %v, want %v", got.Exports, want)
	}
	// An identical type is reused.
	m.Types = append(m.Types, setType)
	again, err := AddV128Accessors(m, []uint32{2})
	if err != nil || len(again.Types) != 3 || again.Funcs[1] != 2 || again.Funcs[2] != 1 {
		t.Fatalf("with the setter's type present: %v, types %v, funcs %v", err, again.Types, again.Funcs)
	}
	// A module that has the names already is refused.
	m.Exports = append(m.Exports, wasm.Export{Name: "gate_suspend.v128.set.4", Kind: wasm.ExternFunc})
	if _, err := AddV128Accessors(m, []uint32{4}); err == nil {
		t.Errorf("a module exporting an accessor's name was given accessors")
	}

	// They read and set the whole value.
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	env := wasm.Encode(&wasm.Module{
		Globals: []wasm.Global{{Type: wasm.GlobalType{Type: wasm.I32}, Init: wasm.EncodeBody([]wasm.Instr{{Op: wasm.OpI32Const}, {Op: wasm.OpEnd}})}},
		Exports: []wasm.Export{{Name: "g", Kind: wasm.ExternGlobal}},
	})
	if _, err := r.InstantiateWithConfig(ctx, env, wazero.NewModuleConfig().WithName("env")); err != nil {
		t.Fatal(err)
	}
	mod, err := r.Instantiate(ctx, wasm.Encode(got))
	if err != nil {
		t.Fatal(err)
	}
	get := func(index uint32) [2]uint64 {
		res, err := mod.ExportedFunction(GetName(index)).Call(ctx)
		if err != nil || len(res) != 2 {
			t.Fatalf("get %d: %v, %v", index, res, err)
		}
		return [2]uint64{res[0], res[1]}
	}
	if v := get(2); v != [2]uint64{1, 2} {
		t.Errorf("global 2 is %v, want [1 2]", v)
	}
	if v := get(4); v != [2]uint64{5, 6} {
		t.Errorf("global 4 is %v, want [5 6]", v)
	}
	x := [2]uint64{0x8877665544332211, 0xffeeddccbbaa9900}
	if _, err := mod.ExportedFunction(SetName(4)).Call(ctx, x[0], x[1]); err != nil {
		t.Fatal(err)
	}
	if v := get(4); v != x {
		t.Errorf("global 4 set to %#x is %#x", x, v)
	}
	if v := get(2); v != [2]uint64{1, 2} {
		t.Errorf("global 2 is %v after setting 4, want [1 2]", v)
	}
}
