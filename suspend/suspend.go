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
	"slices"

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

// importType is the type of the transform's import i (see importNames).
func importType(i int) wasm.FuncType {
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
	return ft
}

// ImportType returns the type of the transform's import of module
// ImportModule named name, and false if the transform adds no import of
// that name: a host can check a snapshot's imports, which whoever wrote
// the snapshot wrote, against what the transform would have written.
func ImportType(name string) (wasm.FuncType, bool) {
	for i, n := range importNames {
		if n == name {
			return importType(i), true
		}
	}
	return wasm.FuncType{}, false
}

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
	// typeIndex indexes the output's types by typeKey: those before any
	// function's while functions are instrumented (when workers only
	// read it), all of them after.
	typeIndex  map[string]uint32
	nBaseTypes int // the output's types before any function's

	// workers and chunkBytes, if not 0, set how many goroutines
	// instrument functions and the size of their chunks (see code).
	workers, chunkBytes int
	rewritten           int // bodies the merge rewrote (for tests)

	// The rest is a worker's own: each goroutine that instruments
	// functions has a copy of the transformer (see worker).
	typer *wasm.Typer

	// Scratch memory, reused from function to function: a module's
	// functions are many and mostly small, and allocating for each
	// was most of the transform's time.
	instrs   []wasm.Instr           // the function's decoded body
	starts   []int                  // where each instruction starts in the body
	spans    []span                 // where each instruction without dead code is
	pcs      []pcInfo               // per instruction
	types    []wasm.ValType         // operand stacks and type lists (see stackAt)
	u32s     []uint32               // local indices
	temps    [numTypeSlots][]uint32 // scratch locals by type (see tempsFor)
	locals   []wasm.ValType
	opens    []open
	labels   []uint32 // br_table labels being relabelled
	body     []byte   // encoded code of the function being instrumented
	prologue []byte
	key      []byte // see typeOf

	// arena holds the output's function bodies: one allocation for many.
	arena []byte

	// Per chunk (see chunk): the types it adds, the refs section of its
	// functions, the instructions the merge may change.
	newTypes     []wasm.FuncType
	newTypeIndex map[string]uint32
	refs         refsWriter
	fixups       []fixup

	sets       localSets // see analyzeLocals
	openers    []int32
	liveFrames []liveFrame
	stash      localSet
	shadowOf   []int32 // see function.shadowOf
	bases      []int   // see structure
	// See spillDeep.
	spillInstrs []wasm.Instr
	spillSpans  []span
	spillLocals [numTypeSlots][]int32
	spillFrames []spillFrame
	spillStacks []spillStack
	mirror      []wasm.ValType
	restored    []uint32 // per local, the last chunk that restoreWritten set it in
	chunkMark   uint32
	shadow      []bool
	// scratch are the indices of the scratch globals by type slot,
	// scratchTypes their types in the order of their indices, from
	// fuelGlobal+1 on (see scratchGlobal).
	scratch      [numTypeSlots][]uint32
	scratchTypes []wasm.ValType
}

// FirstScratchGlobal returns the index of the first of the transform's
// scratch globals in m, a module the transform wrote: the globals from it
// on, after the fuel global (exported as FuelExport), hold a frame's
// locals only while check runs, so that a snapshot need not hold them.
// For a module that exports no fuel global it is the number of globals:
// none is scratch.
func FirstScratchGlobal(m *wasm.Module) uint32 {
	for _, e := range m.Exports {
		if e.Name == FuelExport && e.Kind == wasm.ExternGlobal {
			return e.Index + 1
		}
	}
	return uint32(m.NumImports(wasm.ExternGlobal) + len(m.Globals))
}

// scratchSet returns live ∩ writes in a buffer of t's, valid until the
// next call.
func (t *transformer) scratchSet(live, writes localSet) localSet {
	t.stash = append(t.stash[:0], live...)
	for i, w := range writes {
		t.stash[i] &= w
	}
	return t.stash
}

// scratchGlobal returns the index of the k-th scratch global of type vt,
// adding it if needed. The scratch globals come after the fuel global,
// last of all, so that adding one changes no index already emitted.
// They hold a frame's locals only while check runs (see function.stash):
// a snapshot does not hold them (docs/SUSPEND.md).
func (t *transformer) scratchGlobal(vt wasm.ValType, k uint32) uint32 {
	slot := typeSlot(vt)
	for uint32(len(t.scratch[slot])) <= k {
		t.scratch[slot] = append(t.scratch[slot], t.fuelGlobal+1+uint32(len(t.scratchTypes)))
		t.scratchTypes = append(t.scratchTypes, vt)
	}
	return t.scratch[slot][k]
}

// open is a block, loop or if not yet closed, as the instrumentation
// finds the structure of a function.
type open struct {
	pc    int
	first uint32 // the first point in it
}

// arenaChunk is the size of the allocations that hold the output's
// function bodies.
const arenaChunk = 1 << 20

// alloc returns n bytes of the output arena.
func (t *transformer) alloc(n int) []byte {
	if cap(t.arena)-len(t.arena) < n {
		t.arena = make([]byte, 0, max(n, arenaChunk))
	}
	start := len(t.arena)
	t.arena = t.arena[:start+n]
	return t.arena[start : start+n : start+n]
}

func (t *transformer) run() (*wasm.Module, error) {
	in := t.in
	out := *in
	t.out = &out
	out.Types = append([]wasm.FuncType(nil), in.Types...)
	t.typeIndex = make(map[string]uint32)
	for i, ft := range out.Types {
		k := string(t.typeKey(ft.Params, ft.Results))
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
		ft := importType(i)
		out.Imports = append(out.Imports, wasm.Import{Module: ImportModule, Name: name, Kind: wasm.ExternFunc, Type: t.baseType(ft.Params, ft.Results)})
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

	// Code: the functions are instrumented in chunks, on as many
	// goroutines as there are processors (see parallel.go).
	t.nBaseTypes = len(out.Types)
	out.Code = make([]wasm.Code, len(in.Code))
	if err := t.code(out.Code); err != nil {
		return nil, err
	}

	for _, vt := range t.scratchTypes {
		out.Globals = append(out.Globals, wasm.Global{Type: wasm.GlobalType{Type: vt, Mutable: true}, Init: zeroConst(vt)})
	}

	// Custom sections: the refs section replaces any of that name; the
	// name section names functions by their new indices (or goes, if it
	// does not decode: wrong names are worse than none).
	out.Customs = nil
	for _, c := range in.Customs {
		switch c.Name {
		case RefsSection:
			continue
		case "name":
			data, err := renumberNames(c.Data, t.fn)
			if err != nil {
				continue
			}
			c.Data = data
		}
		out.Customs = append(out.Customs, c)
	}
	out.Customs = append(out.Customs, t.refs.section())
	return t.out, nil
}

// decode decodes the body of function i (of the input's code section)
// into the transformer's instruction buffer, and where each instruction
// starts into t.starts.
func (t *transformer) decode(i int) ([]wasm.Instr, error) {
	instrs, starts, err := t.in.Code[i].AppendInstructionStarts(t.instrs[:0], t.starts[:0])
	if err != nil {
		return nil, fmt.Errorf("function %d: %w", t.numImpFuncs+uint32(i), err)
	}
	t.instrs, t.starts = instrs, starts
	return instrs, nil
}

// encode encodes instrs into the output arena.
func (t *transformer) encode(instrs []wasm.Instr) []byte {
	b := t.body[:0]
	for i := range instrs {
		b = wasm.AppendInstr(b, &instrs[i])
	}
	t.body = b
	out := t.alloc(len(b))
	copy(out, b)
	return out
}

var numTypes = []wasm.ValType{wasm.I32, wasm.I64, wasm.F32, wasm.F64}

// singleType holds a one-type list for each value type, read only, so
// that block types need no allocation.
var singleType = func() (s [256][]wasm.ValType) {
	for _, t := range []wasm.ValType{wasm.I32, wasm.I64, wasm.F32, wasm.F64, wasm.V128, wasm.FuncRef, wasm.ExternRef} {
		s[t] = []wasm.ValType{t}
	}
	return s
}()

// fn maps a function index of the input to the output.
func (t *transformer) fn(i uint32) uint32 {
	if i < t.numImpFuncs {
		return i
	}
	return i + numImports
}

// renumber shifts the function indices of instrs, in place, and returns
// instrs.
func (t *transformer) renumber(instrs []wasm.Instr) []wasm.Instr {
	for i := range instrs {
		if instrs[i].Op == wasm.OpCall || instrs[i].Op == wasm.OpRefFunc {
			instrs[i].X = t.fn(instrs[i].X)
		}
	}
	return instrs
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

// zeroConst is the constant expression of vt's zero (ref.null for a
// reference type).
func zeroConst(vt wasm.ValType) []byte {
	in := wasm.Instr{Op: wasm.OpRefNull, X: uint32(vt)}
	switch vt {
	case wasm.I32:
		in = wasm.Instr{Op: wasm.OpI32Const}
	case wasm.I64:
		in = wasm.Instr{Op: wasm.OpI64Const}
	case wasm.F32:
		in = wasm.Instr{Op: wasm.OpF32Const}
	case wasm.F64:
		in = wasm.Instr{Op: wasm.OpF64Const}
	case wasm.V128:
		in = wasm.Instr{Op: wasm.OpV128Const}
	}
	return wasm.EncodeBody([]wasm.Instr{in, {Op: wasm.OpEnd}})
}

func constI32(v int32) []byte {
	return wasm.EncodeBody([]wasm.Instr{{Op: wasm.OpI32Const, Imm: uint64(uint32(v))}, {Op: wasm.OpEnd}})
}

// baseType returns the index of the function type params -> results,
// adding it to the output module if needed, before any function is
// instrumented.
func (t *transformer) baseType(params, results []wasm.ValType) uint32 {
	if i, ok := t.typeIndex[string(t.typeKey(params, results))]; ok {
		return i
	}
	i := uint32(len(t.out.Types))
	t.out.Types = append(t.out.Types, wasm.FuncType{Params: slices.Clone(params), Results: slices.Clone(results)})
	t.typeIndex[string(t.key)] = i
	return i
}

// typeOf returns the index of the function type params -> results for
// code of the chunk being instrumented: a type of the output before any
// function's, or one the chunk adds (see chunk.newTypes), whose index
// the merge may change.
func (t *transformer) typeOf(params, results []wasm.ValType) uint32 {
	// Looking up string(key) does not allocate.
	key := t.typeKey(params, results)
	if i, ok := t.typeIndex[string(key)]; ok {
		return i
	}
	if i, ok := t.newTypeIndex[string(key)]; ok {
		return i
	}
	i := uint32(t.nBaseTypes + len(t.newTypes))
	t.newTypes = append(t.newTypes, wasm.FuncType{Params: slices.Clone(params), Results: slices.Clone(results)})
	t.newTypeIndex[string(key)] = i
	return i
}

// typeKey returns, in t.key, a key of the function type params ->
// results for typeIndex: the types' bytes, with a byte that is no value
// type between the lists.
func (t *transformer) typeKey(params, results []wasm.ValType) []byte {
	k := t.key[:0]
	for _, vt := range params {
		k = append(k, byte(vt))
	}
	k = append(k, 0)
	for _, vt := range results {
		k = append(k, byte(vt))
	}
	t.key = k
	return k
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
		return nil, singleType[r]
	}
	if i, ok := bt.TypeIndex(); ok && int(i) < len(t.in.Types) {
		ft := t.in.Types[i]
		return ft.Params, ft.Results
	}
	return nil, nil
}

// liveness tells, instruction after instruction, which ones
// removeDeadCode keeps.
type liveness struct {
	dead  bool
	depth int // blocks opened in dead code
}

// next reports whether the instruction of opcode op, which follows those
// already seen, is live.
func (l *liveness) next(op wasm.Opcode) bool {
	if l.dead {
		switch op {
		case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
			l.depth++
			return false
		case wasm.OpElse:
			if l.depth > 0 {
				return false
			}
		case wasm.OpEnd:
			if l.depth > 0 {
				l.depth--
				return false
			}
		default:
			return false
		}
		l.dead = false
	}
	switch op {
	case wasm.OpBr, wasm.OpBrTable, wasm.OpReturn, wasm.OpUnreachable:
		l.dead, l.depth = true, 0
	}
	return true
}

// removeDeadCode drops the instructions that follow an unconditional
// branch up to the end or else that closes its block: they never run, and
// without them the operand stack is known everywhere.
//
// It works in place: the result shares instrs' array. starts are where
// the instructions start in their encoded body of size size; spans of
// the instructions kept are appended to spans.
func removeDeadCode(instrs []wasm.Instr, starts []int, size int, spans []span) ([]wasm.Instr, []span) {
	out := instrs[:0]
	var live liveness
	for i := range instrs {
		if live.next(instrs[i].Op) {
			out = append(out, instrs[i])
			end := size
			if i+1 < len(starts) {
				end = starts[i+1]
			}
			spans = append(spans, span{int32(starts[i]), int32(end)})
		}
	}
	return out, spans
}

// span is where an instruction is in its encoded body: [start, end).
type span struct{ start, end int32 }
