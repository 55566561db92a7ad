// Package suspend is the suspendable transform: it rewrites a valid
// WebAssembly 2.0 module into one whose running call stack can be unwound
// into the host, frame by frame, and later rewound, in a fresh instance,
// into the same state. docs/SUSPEND.md is its contract with the runtime
// (imports and globals of module gate_suspend, point numbering, the order
// in which values are saved and loaded).
//
// Transform works on a decoded *wasm.Module and returns a new one; it never
// changes its argument. The package must not execute code, depend on an
// engine (wazero or other), or trust its input: any module that
// wasm.Validate accepts must transform into a module that wasm.Validate
// accepts, and no input may make it panic. It must not change what a module
// computes while no suspension is requested, nor let the program see the
// saved frames: they go to the host through imports, never into linear
// memory.
package suspend

import (
	"errors"
	"fmt"

	"github.com/gate-wasm/gate/wasm"
)

// ImportModule is the module name of the imports the transform adds.
const ImportModule = "gate_suspend"

// The names of the globals the transform exports.
const (
	StateExport = "gate_suspend.state"
	FuelExport  = "gate_suspend.fuel"
)

// Values of the state global.
const (
	StateNormal    = 0
	StateUnwinding = 1
	StateRewinding = 2
)

// InitialFuel is the initial value of the fuel global: the first check site
// calls check, which lets the host set the fuel it wants.
const InitialFuel = 1

// The imports the transform adds, in this order, after the module's own
// imports.
var importNames = []string{"check", "save_i32", "save_i64", "save_f32", "save_f64",
	"save_frame", "restore_frame", "load_i32", "load_i64", "load_f32", "load_f64"}

const (
	impCheck = iota
	impSaveI32
	impSaveI64
	impSaveF32
	impSaveF64
	impSaveFrame
	impRestoreFrame
	impLoadI32
	impLoadI64
	impLoadF32
	impLoadF64
	numImports
)

// blockingImports are the imports of wasi_snapshot_preview1 that may
// suspend the program (the host makes them return at once, without effect,
// after setting state to unwinding).
var blockingImports = map[string]bool{"fd_read": true, "poll_oneoff": true, "sched_yield": true}

// ErrRefused is wrapped by the error Transform returns for a module that
// already uses the names of gate_suspend.
var ErrRefused = errors.New("module uses the reserved names of gate_suspend")

// Transform returns a suspendable version of m, which must be valid
// (wasm.Validate). m is not changed; the result shares no slice that
// Transform changes with it.
func Transform(m *wasm.Module) (*wasm.Module, error) {
	for _, im := range m.Imports {
		if im.Module == ImportModule {
			return nil, fmt.Errorf("%w: it imports %s.%s", ErrRefused, im.Module, im.Name)
		}
	}
	for _, ex := range m.Exports {
		if ex.Name == StateExport || ex.Name == FuelExport {
			return nil, fmt.Errorf("%w: it exports %q", ErrRefused, ex.Name)
		}
	}
	t := &transformer{in: m}
	return t.run()
}

// TransformBinary decodes, validates and transforms a binary module and
// returns the encoded result.
func TransformBinary(b []byte) ([]byte, error) {
	m, err := wasm.Decode(b)
	if err != nil {
		return nil, err
	}
	if err := wasm.Validate(m); err != nil {
		return nil, err
	}
	out, err := Transform(m)
	if err != nil {
		return nil, err
	}
	return wasm.Encode(out), nil
}

type transformer struct {
	in, out      *wasm.Module
	numImpFuncs  uint32
	firstImport  uint32 // function index of check
	stateGlobal  uint32
	fuelGlobal   uint32
	instrumented []bool // per function index of the input module
	blocking     []bool // per imported function
	typeIndex    map[string]uint32
}

func (t *transformer) run() (*wasm.Module, error) {
	in := t.in
	out := *in
	t.out = &out
	out.Types = append([]wasm.FuncType(nil), in.Types...)
	t.typeIndex = make(map[string]uint32)
	for i, ft := range out.Types {
		k := ft.String()
		if _, ok := t.typeIndex[k]; !ok {
			t.typeIndex[k] = uint32(i)
		}
	}
	t.numImpFuncs = uint32(in.NumImports(wasm.ExternFunc))
	t.firstImport = t.numImpFuncs
	t.blocking = make([]bool, t.numImpFuncs)
	fi := 0
	for _, im := range in.Imports {
		if im.Kind == wasm.ExternFunc {
			t.blocking[fi] = im.Module == "wasi_snapshot_preview1" && blockingImports[im.Name]
			fi++
		}
	}

	// Imports.
	out.Imports = append([]wasm.Import(nil), in.Imports...)
	for i, name := range importNames {
		var ft wasm.FuncType
		switch {
		case i == impCheck:
		case i >= impSaveI32 && i <= impSaveF64:
			ft.Params = []wasm.ValType{numTypes[i-impSaveI32]}
		case i == impSaveFrame:
			ft.Params = []wasm.ValType{wasm.I32, wasm.I32}
		case i == impRestoreFrame:
			ft.Params = []wasm.ValType{wasm.I32}
			ft.Results = []wasm.ValType{wasm.I32}
		default:
			ft.Results = []wasm.ValType{numTypes[i-impLoadI32]}
		}
		out.Imports = append(out.Imports, wasm.Import{Module: ImportModule, Name: name, Kind: wasm.ExternFunc, Type: t.typeOf(ft.Params, ft.Results)})
	}

	// Globals.
	nGlobals := uint32(in.NumImports(wasm.ExternGlobal) + len(in.Globals))
	t.stateGlobal, t.fuelGlobal = nGlobals, nGlobals+1
	out.Globals = append([]wasm.Global(nil), in.Globals...)
	for i, g := range out.Globals {
		out.Globals[i].Init = t.fixConst(g.Init)
	}
	out.Globals = append(out.Globals,
		wasm.Global{Type: wasm.GlobalType{Type: wasm.I32, Mutable: true}, Init: constI32(StateNormal)},
		wasm.Global{Type: wasm.GlobalType{Type: wasm.I32, Mutable: true}, Init: constI32(InitialFuel)})

	// Exports, start, elements.
	out.Exports = append([]wasm.Export(nil), in.Exports...)
	for i, ex := range out.Exports {
		if ex.Kind == wasm.ExternFunc {
			out.Exports[i].Index = t.fn(ex.Index)
		}
	}
	out.Exports = append(out.Exports,
		wasm.Export{Name: StateExport, Kind: wasm.ExternGlobal, Index: t.stateGlobal},
		wasm.Export{Name: FuelExport, Kind: wasm.ExternGlobal, Index: t.fuelGlobal})
	if out.HasStart {
		out.Start = t.fn(in.Start)
	}
	out.Elements = append([]wasm.Element(nil), in.Elements...)
	for i := range out.Elements {
		e := &out.Elements[i]
		if e.Funcs != nil {
			fs := make([]uint32, len(e.Funcs))
			for j, f := range e.Funcs {
				fs[j] = t.fn(f)
			}
			e.Funcs = fs
		}
		if e.Exprs != nil {
			xs := make([][]byte, len(e.Exprs))
			for j, x := range e.Exprs {
				xs[j] = t.fixConst(x)
			}
			e.Exprs = xs
		}
	}

	// Which functions are instrumented: those with a loop or a call.
	bodies := make([][]wasm.Instr, len(in.Code))
	t.instrumented = make([]bool, int(t.numImpFuncs)+len(in.Code))
	for i := range in.Code {
		instrs, err := in.Code[i].Instructions()
		if err != nil {
			return nil, err
		}
		instrs = removeDeadCode(instrs)
		bodies[i] = instrs
		for _, in := range instrs {
			if in.Op == wasm.OpLoop || in.Op == wasm.OpCall || in.Op == wasm.OpCallIndirect {
				t.instrumented[int(t.numImpFuncs)+i] = true
				break
			}
		}
	}

	// Code. FuncStack runs on a copy of the input whose bodies are the
	// ones without dead code.
	stackMod := *in
	stackMod.Code = append([]wasm.Code(nil), in.Code...)
	out.Code = make([]wasm.Code, len(in.Code))
	for i := range in.Code {
		stackMod.Code[i] = wasm.Code{Locals: in.Code[i].Locals, Body: wasm.EncodeBody(bodies[i])}
		fidx := t.numImpFuncs + uint32(i)
		var code wasm.Code
		var err error
		if t.instrumented[fidx] {
			code, err = t.instrument(&stackMod, fidx, bodies[i], in.Code[i].Locals)
		} else {
			code = wasm.Code{Locals: in.Code[i].Locals, Body: wasm.EncodeBody(t.renumber(bodies[i]))}
		}
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", fidx, err)
		}
		out.Code[i] = code
	}
	return t.out, nil
}

var numTypes = []wasm.ValType{wasm.I32, wasm.I64, wasm.F32, wasm.F64}

// fn maps a function index of the input to the output.
func (t *transformer) fn(i uint32) uint32 {
	if i < t.numImpFuncs {
		return i
	}
	return i + numImports
}

// renumber returns instrs with function indices shifted (in a new slice).
func (t *transformer) renumber(instrs []wasm.Instr) []wasm.Instr {
	out := make([]wasm.Instr, len(instrs))
	copy(out, instrs)
	for i := range out {
		if out[i].Op == wasm.OpCall || out[i].Op == wasm.OpRefFunc {
			out[i].X = t.fn(out[i].X)
		}
	}
	return out
}

func (t *transformer) fixConst(b []byte) []byte {
	instrs, err := wasm.DecodeBody(b)
	if err != nil {
		return b
	}
	changed := false
	for _, in := range instrs {
		if in.Op == wasm.OpRefFunc {
			changed = true
		}
	}
	if !changed {
		return b
	}
	return wasm.EncodeBody(t.renumber(instrs))
}

func constI32(v int32) []byte {
	return wasm.EncodeBody([]wasm.Instr{{Op: wasm.OpI32Const, Imm: uint64(uint32(v))}, {Op: wasm.OpEnd}})
}

// typeOf returns the index of the function type params -> results, adding
// it to the output module if needed.
func (t *transformer) typeOf(params, results []wasm.ValType) uint32 {
	ft := wasm.FuncType{Params: params, Results: results}
	k := ft.String()
	if i, ok := t.typeIndex[k]; ok {
		return i
	}
	ft.Params = append([]wasm.ValType(nil), params...)
	ft.Results = append([]wasm.ValType(nil), results...)
	i := uint32(len(t.out.Types))
	t.out.Types = append(t.out.Types, ft)
	t.typeIndex[k] = i
	return i
}

// blockType returns the block type params -> results.
func (t *transformer) blockType(params, results []wasm.ValType) wasm.BlockType {
	if len(params) == 0 {
		switch len(results) {
		case 0:
			return wasm.BlockEmpty
		case 1:
			return wasm.BlockOf(results[0])
		}
	}
	return wasm.BlockType(t.typeOf(params, results))
}

// blockSig returns the parameters and results of a block type.
func (t *transformer) blockSig(bt wasm.BlockType) (params, results []wasm.ValType) {
	if bt == wasm.BlockEmpty {
		return nil, nil
	}
	if r, ok := bt.Result(); ok {
		return nil, []wasm.ValType{r}
	}
	if i, ok := bt.TypeIndex(); ok && int(i) < len(t.in.Types) {
		ft := t.in.Types[i]
		return ft.Params, ft.Results
	}
	return nil, nil
}

// removeDeadCode drops the instructions that follow an unconditional
// branch up to the end or else that closes its block: they never run, and
// without them the operand stack is known everywhere.
func removeDeadCode(instrs []wasm.Instr) []wasm.Instr {
	out := instrs[:0:0]
	dead, depth := false, 0
	for _, in := range instrs {
		if dead {
			switch in.Op {
			case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
				depth++
				continue
			case wasm.OpElse:
				if depth > 0 {
					continue
				}
			case wasm.OpEnd:
				if depth > 0 {
					depth--
					continue
				}
			default:
				continue
			}
			dead = false
		}
		out = append(out, in)
		switch in.Op {
		case wasm.OpBr, wasm.OpBrTable, wasm.OpReturn, wasm.OpUnreachable:
			dead, depth = true, 0
		}
	}
	return out
}
