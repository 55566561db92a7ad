package spectest

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// fuelModule, from wat2wasm:
//
//	(module
//	  (import "gate_suspend" "check" (func $check))
//	  (import "gate_suspend" "save_i32" (func $save (param i32)))
//	  (global $fuel (export "gate_suspend.fuel") (mut i32) (i32.const 1))
//	  (func (export "run") (result i32) call $check global.get $fuel)
//	  (func (export "save") i32.const 1 call $save))
var fuelModule = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0c, 0x03, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7f, 0x00,
	0x60, 0x00, 0x01, 0x7f, 0x02, 0x2e, 0x02, 0x0c, 0x67, 0x61, 0x74, 0x65, 0x5f, 0x73, 0x75, 0x73, 0x70, 0x65,
	0x6e, 0x64, 0x05, 0x63, 0x68, 0x65, 0x63, 0x6b, 0x00, 0x00, 0x0c, 0x67, 0x61, 0x74, 0x65, 0x5f, 0x73, 0x75,
	0x73, 0x70, 0x65, 0x6e, 0x64, 0x08, 0x73, 0x61, 0x76, 0x65, 0x5f, 0x69, 0x33, 0x32, 0x00, 0x01, 0x03, 0x03,
	0x02, 0x02, 0x00, 0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x01, 0x0b, 0x07, 0x22, 0x03, 0x11, 0x67, 0x61, 0x74,
	0x65, 0x5f, 0x73, 0x75, 0x73, 0x70, 0x65, 0x6e, 0x64, 0x2e, 0x66, 0x75, 0x65, 0x6c, 0x03, 0x00, 0x03, 0x72,
	0x75, 0x6e, 0x00, 0x02, 0x04, 0x73, 0x61, 0x76, 0x65, 0x00, 0x03, 0x0a, 0x0f, 0x02, 0x06, 0x00, 0x10, 0x00,
	0x23, 0x00, 0x0b, 0x06, 0x00, 0x41, 0x01, 0x10, 0x01, 0x0b,
}

// noFuelModule imports check but exports no fuel global:
//
//	(module (import "gate_suspend" "check" (func $check)) (func (export "run") call $check))
var noFuelModule = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x02, 0x16, 0x01, 0x0c,
	0x67, 0x61, 0x74, 0x65, 0x5f, 0x73, 0x75, 0x73, 0x70, 0x65, 0x6e, 0x64, 0x05, 0x63, 0x68, 0x65, 0x63, 0x6b,
	0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x07, 0x07, 0x01, 0x03, 0x72, 0x75, 0x6e, 0x00, 0x01, 0x0a, 0x06, 0x01,
	0x04, 0x00, 0x10, 0x00, 0x0b,
}

// TestSuspendHost checks the gate_suspend host module of the transformed
// run: check refills the caller's exported mutable fuel global (wazero
// lets a host function set it), and the functions that only unwinding or
// rewinding calls trap.
func TestSuspendHost(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	var checks atomic.Int64
	if err := instantiateSuspend(ctx, r, &checks); err != nil {
		t.Fatal(err)
	}
	mod, err := r.InstantiateWithConfig(ctx, fuelModule, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	res, err := mod.ExportedFunction("run").Call(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := api.DecodeI32(res[0]); got != Fuel {
		t.Errorf("fuel after check = %d, want %d", got, Fuel)
	}
	if n := checks.Load(); n != 1 {
		t.Errorf("%d checks counted, want 1", n)
	}
	_, err = mod.ExportedFunction("save").Call(ctx)
	if err == nil || !strings.Contains(err.Error(), "save_i32 called, but no suspension was requested") {
		t.Errorf("save_i32: err = %v", err)
	}

	mod, err = r.InstantiateWithConfig(ctx, noFuelModule, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mod.ExportedFunction("run").Call(ctx); err == nil || !strings.Contains(err.Error(), fuelExport) {
		t.Errorf("check without a fuel global: err = %v", err)
	}
}

// TestSpectestModule checks the exports of the "spectest" module.
func TestSpectestModule(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	mod, err := r.InstantiateWithConfig(ctx, spectestModule, wazero.NewModuleConfig().WithName("spectest"))
	if err != nil {
		t.Fatal(err)
	}
	globals := map[string]uint64{
		"global_i32": 666,
		"global_i64": 666,
		"global_f32": api.EncodeF32(666.6),
		"global_f64": api.EncodeF64(666.6),
	}
	for name, want := range globals {
		g := mod.ExportedGlobal(name)
		if g == nil || g.Get() != want {
			t.Errorf("%s = %v, want %#x", name, g, want)
		}
	}
	if m := mod.ExportedMemory("memory"); m == nil || m.Size() != 65536 {
		t.Errorf("memory = %v", m)
	} else if max, ok := m.Definition().Max(); !ok || max != 2 {
		t.Errorf("memory max = %d, %v", max, ok)
	}
	defs := mod.ExportedFunctionDefinitions()
	for _, name := range []string{"print", "print_i32", "print_i64", "print_f32", "print_f64", "print_i32_f32", "print_f64_f64"} {
		if defs[name] == nil {
			t.Errorf("no function %s", name)
		}
	}
}

// TestMatch checks the comparison of results with expectations.
func TestMatch(t *testing.T) {
	for _, c := range []struct {
		v    value
		got  []uint64
		want bool
	}{
		{value{Type: "i32", Value: []byte(`"4294967295"`)}, []uint64{0xffffffff}, true},
		{value{Type: "i32", Value: []byte(`"1"`)}, []uint64{2}, false},
		{value{Type: "f32", Value: []byte(`"nan:canonical"`)}, []uint64{0x7fc00000}, true},
		{value{Type: "f32", Value: []byte(`"nan:canonical"`)}, []uint64{0xffc00000}, true},
		{value{Type: "f32", Value: []byte(`"nan:canonical"`)}, []uint64{0x7fc00001}, false},
		{value{Type: "f32", Value: []byte(`"nan:arithmetic"`)}, []uint64{0x7fc00001}, true},
		{value{Type: "f32", Value: []byte(`"nan:arithmetic"`)}, []uint64{0x7f800001}, false},
		{value{Type: "f64", Value: []byte(`"nan:canonical"`)}, []uint64{0xfff8000000000000}, true},
		{value{Type: "f64", Value: []byte(`"nan:arithmetic"`)}, []uint64{0x7ff8000000000001}, true},
		{value{Type: "f64", Value: []byte(`"nan:arithmetic"`)}, []uint64{0x7ff0000000000001}, false},
		{value{Type: "v128", LaneType: "i16", Value: []byte(`["1","2","3","4","5","6","7","65535"]`)},
			[]uint64{0x0004000300020001, 0xffff000700060005}, true},
		{value{Type: "v128", LaneType: "f32", Value: []byte(`["nan:canonical","0","1","2"]`)},
			[]uint64{0x000000007fc00000, 0x0000000200000001}, true},
		{value{Type: "v128", LaneType: "f64", Value: []byte(`["0","nan:arithmetic"]`)},
			[]uint64{0, 0x7ff4000000000000}, false},
		{value{Type: "externref", Value: []byte(`"null"`)}, []uint64{0}, true},
		{value{Type: "externref", Value: []byte(`"0"`)}, []uint64{1}, true},
		{value{Type: "externref", Value: []byte(`"0"`)}, []uint64{0}, false},
		{value{Type: "funcref"}, []uint64{0}, false},
		{value{Type: "funcref"}, []uint64{1234}, true},
	} {
		got, err := c.v.match(c.got)
		if err != nil || got != c.want {
			t.Errorf("%v match %#x = %v, %v; want %v", c.v, c.got, got, err, c.want)
		}
	}
}
