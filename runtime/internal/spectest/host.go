package spectest

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/gate-wasm/gate/runtime/internal/frames"
)

// spectestModule is the "spectest" module that the suite imports, as a
// WebAssembly binary (wazero's host modules can export only functions, and
// this one exports a table, a memory and globals):
//
//	(module
//	  (func (export "print"))
//	  (func (export "print_i32") (param i32))
//	  (func (export "print_i64") (param i64))
//	  (func (export "print_f32") (param f32))
//	  (func (export "print_f64") (param f64))
//	  (func (export "print_i32_f32") (param i32 f32))
//	  (func (export "print_f64_f64") (param f64 f64))
//	  (table (export "table") 10 20 funcref)
//	  (memory (export "memory") 1 2)
//	  (global (export "global_i32") i32 (i32.const 666))
//	  (global (export "global_i64") i64 (i64.const 666))
//	  (global (export "global_f32") f32 (f32.const 666.6))
//	  (global (export "global_f64") f64 (f64.const 666.6)))
//
// The print functions print nothing: the suite checks only that they can
// be imported and called.
var spectestModule = buildSpectest()

func buildSpectest() []byte {
	const (
		i32 = 0x7f
		i64 = 0x7e
		f32 = 0x7d
		f64 = 0x7c
	)
	prints := []struct {
		name   string
		params []byte
	}{
		{"print", nil},
		{"print_i32", []byte{i32}},
		{"print_i64", []byte{i64}},
		{"print_f32", []byte{f32}},
		{"print_f64", []byte{f64}},
		{"print_i32_f32", []byte{i32, f32}},
		{"print_f64_f64", []byte{f64, f64}},
	}
	out := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	section := func(id byte, count int, body []byte) {
		content := binary.AppendUvarint([]byte{}, uint64(count))
		content = append(content, body...)
		out = append(out, id)
		out = binary.AppendUvarint(out, uint64(len(content)))
		out = append(out, content...)
	}
	name := func(b []byte, s string) []byte {
		b = binary.AppendUvarint(b, uint64(len(s)))
		return append(b, s...)
	}

	var types, funcs, code, exports []byte
	for i, p := range prints {
		types = append(types, 0x60, byte(len(p.params)))
		types = append(types, p.params...)
		types = append(types, 0x00) // no results
		funcs = append(funcs, byte(i))
		code = append(code, 0x02, 0x00, 0x0b) // size 2: no locals, end
		exports = name(exports, p.name)
		exports = append(exports, 0x00, byte(i)) // func i
	}
	section(1, len(prints), types)
	section(3, len(prints), funcs)
	section(4, 1, []byte{0x70, 0x01, 10, 20}) // funcref, min 10, max 20
	section(5, 1, []byte{0x01, 1, 2})         // min 1, max 2 pages

	var globals []byte
	globals = append(globals, i32, 0x00, 0x41, 0x9a, 0x05, 0x0b) // i32.const 666
	globals = append(globals, i64, 0x00, 0x42, 0x9a, 0x05, 0x0b) // i64.const 666
	globals = append(globals, f32, 0x00, 0x43)
	globals = binary.LittleEndian.AppendUint32(globals, math.Float32bits(666.6))
	globals = append(globals, 0x0b, f64, 0x00, 0x44)
	globals = binary.LittleEndian.AppendUint64(globals, math.Float64bits(666.6))
	globals = append(globals, 0x0b)
	section(6, 4, globals)

	for i, g := range []string{"global_i32", "global_i64", "global_f32", "global_f64"} {
		exports = name(exports, g)
		exports = append(exports, 0x03, byte(i))
	}
	exports = name(exports, "table")
	exports = append(exports, 0x01, 0x00)
	exports = name(exports, "memory")
	exports = append(exports, 0x02, 0x00)
	section(7, len(prints)+6, exports)
	section(10, len(prints), code)
	return out
}

// Names of what the suspendable transform adds (docs/SUSPEND.md).
const (
	suspendModule = "gate_suspend"
	fuelExport    = "gate_suspend.fuel"
	stateExport   = "gate_suspend.state"
)

// Fuel is the value to which the gate_suspend.check import refills the
// fuel global of the calling instance.
const Fuel = math.MaxInt32

// instantiateSuspend instantiates the host module "gate_suspend" that the
// suspendable transform's output imports.
//
// A call whose context carries no suspender (see withSuspender) is one in
// which no suspension is ever requested: check refills the caller's
// exported fuel global (gate_suspend.fuel, through wazero's
// api.MutableGlobal) and returns without touching gate_suspend.state; the
// functions that save and restore frames are only called while unwinding
// or rewinding, which never happens then, so a call to any of them is a
// trap that fails the command. A call with a suspender (the
// suspend-everywhere mode, suspendall.go) hands check and the frames to
// it.
//
// checks counts the calls of check.
func instantiateSuspend(ctx context.Context, r wazero.Runtime, checks *atomic.Int64) error {
	i32, i64, f32, f64 := api.ValueTypeI32, api.ValueTypeI64, api.ValueTypeF32, api.ValueTypeF64
	b := r.NewHostModuleBuilder(suspendModule)
	check := func(ctx context.Context, m api.Module, stack []uint64) {
		checks.Add(1)
		if sp := suspenderOf(ctx); sp != nil {
			sp.check(m)
			return
		}
		refuel(ctx, m, stack)
	}
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(check), nil, nil).Export("check")
	for _, f := range []struct {
		name            string
		params, results []api.ValueType
		fn              func(sp *suspender, stack []uint64) error
	}{
		{"save_i32", []api.ValueType{i32}, nil, func(sp *suspender, s []uint64) error { return sp.save(frames.I32, s) }},
		{"save_i64", []api.ValueType{i64}, nil, func(sp *suspender, s []uint64) error { return sp.save(frames.I64, s) }},
		{"save_f32", []api.ValueType{f32}, nil, func(sp *suspender, s []uint64) error { return sp.save(frames.F32, s) }},
		{"save_f64", []api.ValueType{f64}, nil, func(sp *suspender, s []uint64) error { return sp.save(frames.F64, s) }},
		{"save_frame", []api.ValueType{i32, i32}, nil, (*suspender).saveFrame},
		{"restore_frame", []api.ValueType{i32}, []api.ValueType{i32}, (*suspender).restoreFrame},
		{"load_i32", nil, []api.ValueType{i32}, func(sp *suspender, s []uint64) error { return sp.load(frames.I32, s) }},
		{"load_i64", nil, []api.ValueType{i64}, func(sp *suspender, s []uint64) error { return sp.load(frames.I64, s) }},
		{"load_f32", nil, []api.ValueType{f32}, func(sp *suspender, s []uint64) error { return sp.load(frames.F32, s) }},
		{"load_f64", nil, []api.ValueType{f64}, func(sp *suspender, s []uint64) error { return sp.load(frames.F64, s) }},
	} {
		name, fn := f.name, f.fn
		host := func(ctx context.Context, _ api.Module, stack []uint64) {
			sp := suspenderOf(ctx)
			if sp == nil {
				panic(fmt.Errorf("%s.%s called, but no suspension was requested", suspendModule, name))
			}
			if err := fn(sp, stack); err != nil {
				// A panic in a host function makes the call fail
				// with this error; the harness reports it.
				panic(fmt.Errorf("%s.%s: %w", suspendModule, name, err))
			}
		}
		b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(host), f.params, f.results).Export(name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

// refuel is gate_suspend.check: it refills the caller's fuel and never
// requests a suspension.
func refuel(_ context.Context, m api.Module, _ []uint64) {
	g, ok := m.ExportedGlobal(fuelExport).(api.MutableGlobal)
	if !ok {
		panic(fmt.Errorf("%s.check: the calling module exports no mutable global %q", suspendModule, fuelExport))
	}
	g.Set(api.EncodeI32(Fuel))
}
