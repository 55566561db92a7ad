package runtime

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/gate-wasm/gate/runtime/internal/snapshot"
	"github.com/gate-wasm/gate/runtime/internal/wasi"
	"github.com/gate-wasm/gate/suspend"
	"github.com/gate-wasm/gate/wasm"
)

// Module is a compiled program, ready to be instantiated any number of
// times. It belongs to the Runtime that compiled it.
type Module struct {
	compiled    wazero.CompiledModule
	memoryLimit uint64
	hasMemory   bool
	// transformed is the module after the suspendable transform, for a
	// module compiled with CompileSuspendable and for the resume module
	// of a program (see Runtime.Resume); hash is the SHA-256 of the
	// program as first given (CompileSuspendable only: a resume module
	// serves the snapshots of any program with the same code).
	transformed *wasm.Module
	hash        [32]byte
	// program is the part of snapshots that depends on the program
	// only, made from transformed on first use (it copies the code).
	programOnce sync.Once
	program     *snapshot.Program
	programErr  error
	// refs says where frames hold references, and carryErr why the
	// module's state cannot go into a snapshot at all (nil if it can),
	// found from transformed on first use.
	carryOnce sync.Once
	refs      *suspend.Refs
	carryErr  error
}

// snapshotRefs returns where the module's frames hold references, or an
// error if no snapshot of the module can be written: it changes its
// tables at run time (a snapshot carries the tables as the module
// declares them), or it lacks the transform's record of references.
func (m *Module) snapshotRefs() (*suspend.Refs, error) {
	m.carryOnce.Do(func() {
		changes, err := suspend.ChangesTables(m.transformed)
		switch {
		case err != nil:
			m.carryErr = err
		case changes:
			m.carryErr = errors.New("the program changes its tables at run time (table.set, table.grow, table.fill, table.copy, table.init or elem.drop), which a snapshot cannot carry")
		default:
			m.refs, m.carryErr = suspend.ReadRefs(m.transformed)
		}
	})
	return m.refs, m.carryErr
}

// resumeProgram returns the snapshot.Program of a suspendable module.
func (m *Module) resumeProgram() (*snapshot.Program, error) {
	m.programOnce.Do(func() {
		if m.program == nil {
			m.program, m.programErr = snapshot.NewProgram(m.transformed)
		}
	})
	return m.program, m.programErr
}

// ModuleError reports a module that Gate refuses to run: malformed,
// invalid, needing more memory than the cap, or importing what Gate does
// not provide.
type ModuleError struct {
	Reason string
	Err    error // the underlying error, if any
}

func (e *ModuleError) Error() string { return e.Reason }
func (e *ModuleError) Unwrap() error { return e.Err }

// Compile validates and compiles a WebAssembly module. memoryLimit caps
// its linear memory in bytes (rounded down to whole 64 KiB pages; 0 means
// DefaultMemoryLimit): memory.grow beyond it fails, and a module whose
// initial memory exceeds it is refused. Its tables are capped too (see
// tableCap).
func (r *Runtime) Compile(ctx context.Context, binary []byte, memoryLimit uint64) (*Module, error) {
	if _, err := r.decodeProgram(binary); err != nil {
		return nil, err
	}
	return r.compile(ctx, binary, memoryLimit)
}

// decodeProgram decodes and validates binary, a program given to Compile
// or CompileSuspendable, with package wasm before the engine sees it,
// within the runtime's limits, and with its imports checked against the
// ABI before its code is read: refusing a module costs little. wazero's
// own validation is not enough for untrusted input: v1.12 panics (index
// out of range) on a call_indirect whose type index is out of range,
// which a damaged module easily has.
func (r *Runtime) decodeProgram(binary []byte) (*wasm.Module, error) {
	m, err := wasm.DecodeWith(binary, wasm.DecodeOptions{Limits: &r.limits, Imports: r.checkImports})
	if err == nil {
		err = wasm.Validate(m)
	}
	var refusal *ModuleError
	var limit *wasm.LimitError
	switch {
	case err == nil:
		return m, nil
	case errors.As(err, &refusal):
		return nil, refusal
	case errors.As(err, &limit):
		return nil, &ModuleError{Reason: err.Error(), Err: err}
	}
	return nil, &ModuleError{Reason: "invalid module: " + err.Error(), Err: err}
}

// checkImports refuses imports that Gate does not provide: anything but
// the ABI's functions, with their types. A type index out of range is
// left to Validate.
func (r *Runtime) checkImports(types []wasm.FuncType, imports []wasm.Import) error {
	return r.checkImportsOf(types, imports, false)
}

// checkImportsOf is checkImports, which with transformed also admits the
// transform's imports, with their types: a snapshot's module names them,
// and the engine would refuse others only as it instantiates, with an
// error of its own.
func (r *Runtime) checkImportsOf(types []wasm.FuncType, imports []wasm.Import, transformed bool) error {
	for _, imp := range imports {
		if imp.Kind != wasm.ExternFunc {
			return &ModuleError{Reason: fmt.Sprintf("module imports %s %s.%s, which Gate does not provide: a program defines its own",
				imp.Kind, printable(imp.Module), printable(imp.Name))}
		}
		var want string
		f := r.abi[imp.Name]
		ft, ours := suspend.ImportType(imp.Name)
		switch {
		case imp.Module == wasi.ModuleName && f != nil:
			want = signature(abiParams(f), abiResults(f))
		case transformed && imp.Module == suspend.ImportModule && ours:
			want = signature(valueTypes(ft.Params), valueTypes(ft.Results))
		default:
			return &ModuleError{Reason: fmt.Sprintf("module imports function %s.%s, which Gate does not provide", printable(imp.Module), printable(imp.Name))}
		}
		if int(imp.Type) >= len(types) {
			continue
		}
		it := types[imp.Type]
		if have := signature(valueTypes(it.Params), valueTypes(it.Results)); have != want {
			return &ModuleError{Reason: fmt.Sprintf("module imports function %s.%s with type %s, but Gate provides %s",
				printable(imp.Module), printable(imp.Name), have, want)}
		}
	}
	return nil
}

// printable is s as it is if every rune of it prints, else quoted: a
// name in a module is the module's author's, and an error is one line.
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// valueTypes converts value types to the engine's, which share their
// encoding.
func valueTypes(ts []wasm.ValType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		out[i] = api.ValueType(t)
	}
	return out
}

// compile is Compile of a module that package wasm has validated and
// whose imports have been checked.
func (r *Runtime) compile(ctx context.Context, binary []byte, memoryLimit uint64) (*Module, error) {
	pages, err := capPages(memoryLimit)
	if err != nil {
		return nil, err
	}
	capped, err := wasm.CapMemory(binary, uint32(pages))
	if err != nil {
		var capErr *wasm.MemoryCapError
		if errors.As(err, &capErr) {
			return nil, &ModuleError{Reason: err.Error(), Err: err}
		}
		return nil, &ModuleError{Reason: "invalid module: " + err.Error(), Err: err}
	}
	if capped, err = wasm.CapTables(capped, tableCap(pages*wasm.PageSize)); err != nil {
		var capErr *wasm.TableCapError
		if errors.As(err, &capErr) {
			return nil, &ModuleError{Reason: err.Error(), Err: err}
		}
		return nil, &ModuleError{Reason: "invalid module: " + err.Error(), Err: err}
	}
	_, hasMemory, err := wasm.Memory(capped)
	if err != nil { // not expected: CapMemory has read the same section
		return nil, &ModuleError{Reason: "invalid module: " + err.Error(), Err: err}
	}
	compiled, err := r.compileEngine(ctx, capped)
	if err != nil {
		return nil, &ModuleError{Reason: "invalid module: " + firstLine(err.Error()), Err: err}
	}
	m := &Module{compiled: compiled, memoryLimit: pages * wasm.PageSize, hasMemory: hasMemory}
	if err := checkCommand(compiled); err != nil {
		compiled.Close(ctx)
		return nil, err
	}
	return m, nil
}

// compileEngine is the engine's CompileModule, with a panic in the engine
// turned into an error: the module has been validated, so a panic is a bug
// of the engine, and must not take the host down with it.
func (r *Runtime) compileEngine(ctx context.Context, binary []byte) (compiled wazero.CompiledModule, err error) {
	defer func() {
		if p := recover(); p != nil {
			compiled, err = nil, fmt.Errorf("the engine failed on the module: %v", p)
		}
	}()
	return r.engine.CompileModule(ctx, binary)
}

// Table caps, in elements: wazero keeps a table's elements in a slice of
// 8-byte words, outside the linear memory.
const (
	minTableCap = 1 << 16
	maxTableCap = 10_000_000
)

// tableCap is the cap on the elements of a module's tables, all
// together, for a memory cap of memoryLimit bytes: tables take at most
// as many bytes as the memory may (at least 64 Ki elements, which any
// program's function table fits, and at most 10,000,000, V8's limit on
// a table), so that table.grow, which wazero allocates outside the
// linear memory, cannot make an instance take more than twice its
// memory cap.
func tableCap(memoryLimit uint64) uint32 {
	return uint32(min(max(memoryLimit/8, minTableCap), maxTableCap))
}

// capPages returns the cap on a module's memory in pages for a memory
// limit in bytes (0 meaning DefaultMemoryLimit).
func capPages(memoryLimit uint64) (uint64, error) {
	if memoryLimit == 0 {
		memoryLimit = DefaultMemoryLimit
	}
	pages := min(memoryLimit/wasm.PageSize, wasm.MaxPages)
	if pages == 0 {
		return 0, fmt.Errorf("memory limit of %d bytes is less than one page (64 KiB)", memoryLimit)
	}
	return pages, nil
}

// checkCommand refuses modules that are not WASI commands. Their
// imports have been checked before they were compiled (checkImports,
// checkImportsOf).
func checkCommand(compiled wazero.CompiledModule) error {
	start, ok := compiled.ExportedFunctions()["_start"]
	if !ok {
		return &ModuleError{Reason: "module exports no _start function: Gate runs WASI commands (programs with a main)"}
	}
	if len(start.ParamTypes()) != 0 || len(start.ResultTypes()) != 0 {
		return &ModuleError{Reason: fmt.Sprintf("module exports _start with type %s; a WASI command's is () -> ()",
			signature(start.ParamTypes(), start.ResultTypes()))}
	}
	return nil
}

func abiParams(f *wasi.Func) []api.ValueType {
	params := make([]api.ValueType, len(f.Params))
	for i, p := range f.Params {
		params[i] = valueType(p)
	}
	return params
}

func abiResults(f *wasi.Func) []api.ValueType {
	if f.NoResult {
		return nil
	}
	return []api.ValueType{api.ValueTypeI32}
}

// signature formats a function type as "(i32, i64) -> i32".
func signature(params, results []api.ValueType) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return strings.Join(s, ", ")
	}
	res := names(results)
	if len(results) != 1 {
		res = "(" + res + ")"
	}
	return "(" + names(params) + ") -> " + res
}

// MemoryLimit is the cap on the module's linear memory in bytes.
func (m *Module) MemoryLimit() uint64 { return m.memoryLimit }

// Close frees the module's compiled code. Its running instances are not
// affected.
func (m *Module) Close(ctx context.Context) error { return m.compiled.Close(ctx) }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
