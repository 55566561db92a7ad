// Package hostile builds the modules and files an attacker would give
// Gate to make it spend time or memory: many locals times many
// suspension points, deep nesting, huge br_tables, many functions, huge
// table growth, multi-gigabyte files. The tests of every layer that
// accepts modules and snapshots use it (docs/SECURITY.md lists the
// shapes and what each does now).
//
// Each module is a valid WASI command: a memory of one page and a
// _start that runs the shape once and returns, so that what Gate does
// not refuse it can run. It must not be imported by anything in the
// gate binary.
package hostile

import (
	"fmt"
	"os"

	"github.com/gate-wasm/gate/wasm"
)

// The functions of every module, by index: _start calls shape, which
// calls leaf where the shape has calls. leaf has a loop, so that the
// suspendable transform instruments it and a call to it is a
// suspension point.
const (
	fnStart = 0
	fnShape = 1
	fnLeaf  = 2
)

func ins(op wasm.Opcode) wasm.Instr { return wasm.Instr{Op: op} }

func block(op wasm.Opcode) wasm.Instr { return wasm.BlockInstr(op, wasm.BlockEmpty) }

func call(fn uint32) wasm.Instr { return wasm.Instr{Op: wasm.OpCall, X: fn} }

// command encodes a module whose shape function has locals of type i64
// and the body shape (without its final end), and whose table, if
// table is not nil, has those limits.
func command(locals uint32, shape []wasm.Instr, table *wasm.Limits) []byte {
	m := &wasm.Module{
		Types:    []wasm.FuncType{{}},
		Funcs:    []uint32{0, 0, 0},
		Memories: []wasm.Limits{{Min: 1}},
		Exports:  []wasm.Export{{Name: "_start", Kind: wasm.ExternFunc, Index: fnStart}, {Name: "memory", Kind: wasm.ExternMemory}},
	}
	if table != nil {
		m.Tables = []wasm.TableType{{Elem: wasm.FuncRef, Limits: *table}}
	}
	var decl []wasm.LocalDecl
	if locals > 0 {
		decl = []wasm.LocalDecl{{Count: locals, Type: wasm.I64}}
	}
	m.Code = []wasm.Code{
		{Body: wasm.EncodeBody([]wasm.Instr{call(fnShape), ins(wasm.OpEnd)})},
		{Locals: decl, Body: wasm.EncodeBody(append(shape, ins(wasm.OpEnd)))},
		// leaf: one loop that runs once.
		{Body: wasm.EncodeBody([]wasm.Instr{block(wasm.OpLoop), ins(wasm.OpEnd), ins(wasm.OpEnd)})},
	}
	return wasm.Encode(m)
}

// LocalsLoops is a function with locals i64 locals and loops loops one
// after the other, each run once: locals × loop headers.
func LocalsLoops(locals uint32, loops int) []byte {
	shape := make([]wasm.Instr, 0, 2*loops)
	for range loops {
		shape = append(shape, block(wasm.OpLoop), ins(wasm.OpEnd))
	}
	return command(locals, shape, nil)
}

// LocalsCalls is a function with locals i64 locals and calls calls of
// a function that can be suspended: locals × call sites.
func LocalsCalls(locals uint32, calls int) []byte {
	shape := make([]wasm.Instr, 0, calls)
	for range calls {
		shape = append(shape, call(fnLeaf))
	}
	return command(locals, shape, nil)
}

// NestedLoops is depth loops nested in each other, each run once and
// starting with a call if withCall, in a function with locals i64
// locals.
func NestedLoops(depth int, withCall bool, locals uint32) []byte {
	return command(locals, nested(wasm.OpLoop, depth, withCall), nil)
}

// NestedBlocks is depth blocks nested in each other, each starting with
// a call if withCall.
func NestedBlocks(depth int, withCall bool) []byte {
	return command(0, nested(wasm.OpBlock, depth, withCall), nil)
}

func nested(op wasm.Opcode, depth int, withCall bool) []wasm.Instr {
	shape := make([]wasm.Instr, 0, 3*depth)
	for range depth {
		shape = append(shape, block(op))
		if withCall {
			shape = append(shape, call(fnLeaf))
		}
	}
	for range depth {
		shape = append(shape, ins(wasm.OpEnd))
	}
	return shape
}

// SequentialIfs is n ifs one after the other, each empty: a function
// that wazero v1.12 compiles in time that grows as the square of n or
// faster (40,000, a body of 160 KB: over two minutes), whatever limits
// short of refusing real programs' functions.
func SequentialIfs(n int) []byte {
	shape := make([]wasm.Instr, 0, 3*n)
	for range n {
		shape = append(shape, wasm.Instr{Op: wasm.OpI32Const}, block(wasm.OpIf), ins(wasm.OpEnd))
	}
	return command(0, shape, nil)
}

// BrTable is a br_table of targets labels (all to the same block), run
// once.
func BrTable(targets int) []byte {
	labels := make([]uint32, targets)
	shape := []wasm.Instr{block(wasm.OpBlock), {Op: wasm.OpI32Const}, {Op: wasm.OpBrTable, Labels: labels}, ins(wasm.OpEnd)}
	return command(0, shape, nil)
}

// Functions is a module of n more functions besides the command's
// three, each empty.
func Functions(n int) []byte {
	m, err := wasm.Decode(command(0, nil, nil))
	if err != nil {
		panic(fmt.Sprintf("hostile: %v", err))
	}
	empty := wasm.EncodeBody([]wasm.Instr{ins(wasm.OpEnd)})
	for range n {
		m.Funcs = append(m.Funcs, 0)
		m.Code = append(m.Code, wasm.Code{Body: empty})
	}
	return wasm.Encode(m)
}

// TableGrow is a module whose table (initially empty, with no maximum)
// is grown by delta elements, once, or, with loop, until table.grow
// fails or 10,000 times. _start traps (unreachable) if the last grow
// did not fail: a run that returns normally has seen table.grow
// return -1.
func TableGrow(delta uint32, loop bool) []byte {
	grow := []wasm.Instr{
		{Op: wasm.OpRefNull, X: uint32(wasm.FuncRef)}, {Op: wasm.OpI32Const, Imm: uint64(delta)},
		{Op: wasm.OpTableGrow}, {Op: wasm.OpI32Const, Imm: 0xffffffff}, ins(wasm.OpI32Ne),
	}
	var shape []wasm.Instr
	if !loop {
		// if grow != -1: unreachable
		shape = append(grow, block(wasm.OpIf), ins(wasm.OpUnreachable), ins(wasm.OpEnd))
	} else {
		// local 0 counts down from 10,000; the loop goes on while
		// the grow succeeds and the count is not out.
		shape = []wasm.Instr{
			{Op: wasm.OpI64Const, Imm: 10_000}, {Op: wasm.OpLocalSet},
			block(wasm.OpLoop),
		}
		shape = append(shape, grow...)
		shape = append(shape, block(wasm.OpIf),
			wasm.Instr{Op: wasm.OpLocalGet}, wasm.Instr{Op: wasm.OpI64Const, Imm: 1}, ins(wasm.OpI64Sub),
			wasm.Instr{Op: wasm.OpLocalTee}, ins(wasm.OpI64Eqz),
			block(wasm.OpIf), ins(wasm.OpUnreachable), ins(wasm.OpEnd),
			wasm.Instr{Op: wasm.OpBr, X: 1}, ins(wasm.OpEnd),
			ins(wasm.OpEnd))
	}
	return command(1, shape, &wasm.Limits{})
}

// CallsInFunctions is a module of functions more functions besides the
// command's, each calls calls of one that can be suspended: many
// suspension points in all, few in each function.
func CallsInFunctions(functions, calls int) []byte {
	m, err := wasm.Decode(command(0, nil, nil))
	if err != nil {
		panic(fmt.Sprintf("hostile: %v", err))
	}
	shape := make([]wasm.Instr, 0, calls+1)
	for range calls {
		shape = append(shape, call(fnLeaf))
	}
	body := wasm.EncodeBody(append(shape, ins(wasm.OpEnd)))
	for range functions {
		m.Funcs = append(m.Funcs, 0)
		m.Code = append(m.Code, wasm.Code{Body: body})
	}
	return wasm.Encode(m)
}

// ImportingNope is a module of about codeBytes bytes of code (in
// functions of at most 1 MiB each, calls one after the other) that
// imports env.nope, which Gate does not provide. Its import section
// comes before its code: a host that refuses it should not have to
// read the code.
func ImportingNope(codeBytes int) []byte {
	m, err := wasm.Decode(command(0, nil, nil))
	if err != nil {
		panic(fmt.Sprintf("hostile: %v", err))
	}
	m.Imports = []wasm.Import{{Module: "env", Name: "nope", Kind: wasm.ExternFunc}}
	// The import is function 0 now: shift the calls and the export.
	m.Exports[0].Index++
	calls := make([]wasm.Instr, 0, 1<<19)
	for range 1 << 19 { // 2 bytes each
		calls = append(calls, call(fnLeaf+1))
	}
	body := wasm.EncodeBody(append(calls, ins(wasm.OpEnd)))
	for i := range m.Code {
		instrs, err := m.Code[i].Instructions()
		if err != nil {
			panic(fmt.Sprintf("hostile: %v", err))
		}
		for j := range instrs {
			if instrs[j].Op == wasm.OpCall {
				instrs[j].X++
			}
		}
		m.Code[i].Body = wasm.EncodeBody(instrs)
	}
	for n := 0; n < codeBytes; n += len(body) {
		m.Funcs = append(m.Funcs, 0)
		m.Code = append(m.Code, wasm.Code{Body: body})
	}
	return wasm.Encode(m)
}

// SparseFile creates a file of size bytes at path that takes no room on
// disk: a hole, read as zeros, after prefix.
func SparseFile(path string, size int64, prefix []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(prefix); err != nil {
		f.Close()
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
