package wasm

import (
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// fn returns a module with one function of type ft whose body is instrs
// (an end is added), with a memory, a funcref table, one element segment
// and one data segment for the instructions that need them.
func fn(ft FuncType, locals []LocalDecl, instrs ...Instr) *Module {
	return &Module{
		Types:        []FuncType{ft, {}},
		Funcs:        []uint32{0},
		Tables:       []TableType{{FuncRef, Limits{Min: 1}}, {ExternRef, Limits{}}},
		Memories:     []Limits{{Min: 1}},
		Globals:      []Global{{Type: GlobalType{I64, false}, Init: cat(0x42, 0, 0x0b)}, {Type: GlobalType{F32, true}, Init: cat(0x43, 0, 0, 0, 0, 0x0b)}},
		Elements:     []Element{{Mode: Passive, Type: FuncRef, Funcs: []uint32{0}}},
		DataCount:    1,
		HasDataCount: true,
		Code:         []Code{{Locals: locals, Body: EncodeBody(append(instrs, Instr{Op: OpEnd}))}},
		Data:         []Data{{Mode: Passive, Init: []byte("x")}},
	}
}

func i32c(v int32) Instr { return Instr{Op: OpI32Const, Imm: uint64(uint32(v))} }

func TestValidateCode(t *testing.T) {
	void := FuncType{}
	toI32 := FuncType{Results: []ValType{I32}}
	tests := []struct {
		name     string
		m        *Module
		pc       int // the instruction the error points at; -1 if valid
		contains string
	}{
		{"empty", fn(void, nil), -1, ""},
		{"add", fn(toI32, nil, i32c(1), i32c(2), Instr{Op: OpI32Add}), -1, ""},
		{"add one operand", fn(toI32, nil, i32c(1), Instr{Op: OpI32Add}), 1, "type mismatch: operand stack is empty"},
		{"add wrong type", fn(toI32, nil, i32c(1), Instr{Op: OpI64Const}, Instr{Op: OpI32Add}), 2, "expected i32, found i64"},
		{"value left", fn(void, nil, i32c(1)), 1, "1 values left on the stack"},
		{"missing result", fn(toI32, nil), 0, "operand stack is empty"},
		{"unreachable then anything", fn(toI32, nil, Instr{Op: OpUnreachable}, Instr{Op: OpI32Add}), -1, ""},
		{"unreachable keeps types", fn(toI32, nil, Instr{Op: OpUnreachable}, Instr{Op: OpI64Const}, Instr{Op: OpI32Add}), 2, "expected i32, found i64"},
		{"local", fn(FuncType{Params: []ValType{F64}}, []LocalDecl{{3, I64}}, Instr{Op: OpLocalGet, X: 3}, Instr{Op: OpLocalSet, X: 1}), -1, ""},
		{"local type", fn(FuncType{Params: []ValType{F64}}, []LocalDecl{{3, I64}}, Instr{Op: OpLocalGet, X: 0}, Instr{Op: OpLocalSet, X: 1}), 1, "expected i64, found f64"},
		{"unknown local", fn(void, []LocalDecl{{3, I64}}, Instr{Op: OpLocalGet, X: 3}), 0, "unknown local 3"},
		{"global immutable", fn(void, nil, Instr{Op: OpI64Const}, Instr{Op: OpGlobalSet, X: 0}), 1, "global is immutable"},
		{"global mutable", fn(void, nil, Instr{Op: OpF32Const}, Instr{Op: OpGlobalSet, X: 1}), -1, ""},
		{"unknown global", fn(void, nil, Instr{Op: OpGlobalGet, X: 2}), 0, "unknown global 2"},
		{"unknown function", fn(void, nil, Instr{Op: OpCall, X: 1}), 0, "unknown function 1"},
		{"unknown label", fn(void, nil, BlockInstr(OpBlock, BlockEmpty), Instr{Op: OpBr, X: 2}, Instr{Op: OpEnd}), 1, "unknown label 2"},
		{"br to function", fn(toI32, nil, i32c(0), Instr{Op: OpBr, X: 0}), -1, ""},
		{"loop label takes params", fn(void, nil, BlockInstr(OpLoop, BlockOf(I32)), Instr{Op: OpBr, X: 0}, Instr{Op: OpEnd}, Instr{Op: OpDrop}), -1, ""},
		{"if without else changes types", fn(toI32, nil, i32c(1), BlockInstr(OpIf, BlockOf(I32)), i32c(1), Instr{Op: OpEnd}), 3, "if without else"},
		{"if with else", fn(toI32, nil, i32c(1), BlockInstr(OpIf, BlockOf(I32)), i32c(1), Instr{Op: OpElse}, i32c(2), Instr{Op: OpEnd}), -1, ""},
		{"block type index", fn(void, nil, i32c(1), BlockInstr(OpBlock, 2), Instr{Op: OpEnd}), 1, "unknown type 2"},
		{"br_table arity", fn(void, nil, BlockInstr(OpBlock, BlockOf(I32)), i32c(0), i32c(0),
			Instr{Op: OpBrTable, Labels: []uint32{0}, X: 1}, Instr{Op: OpEnd}, Instr{Op: OpDrop}), 3, "br_table targets of 1 and 0 values"},
		{"select numbers", fn(toI32, nil, i32c(1), i32c(2), i32c(0), Instr{Op: OpSelect}), -1, ""},
		{"select refs", fn(void, nil, Instr{Op: OpRefNull, X: uint32(FuncRef)}, Instr{Op: OpRefNull, X: uint32(FuncRef)}, i32c(0), Instr{Op: OpSelect}, Instr{Op: OpDrop}),
			3, "select needs operands of a number or vector type"},
		{"select typed refs", fn(void, nil, Instr{Op: OpRefNull, X: uint32(FuncRef)}, Instr{Op: OpRefNull, X: uint32(FuncRef)}, i32c(0),
			Instr{Op: OpSelectT, Types: []ValType{FuncRef}}, Instr{Op: OpDrop}), -1, ""},
		{"select arity", fn(void, nil, Instr{Op: OpSelectT, Types: []ValType{I32, I32}}), 0, "invalid result arity"},
		{"alignment", fn(void, nil, i32c(0), Instr{Op: OpI32Load, X: 3}, Instr{Op: OpDrop}), 1, "alignment must not be larger than natural"},
		{"lane", fn(void, nil, Instr{Op: OpV128Const}, Instr{Op: OpI32x4ExtractLane, Y: 4}, Instr{Op: OpDrop}), 1, "invalid lane index 4"},
		{"shuffle lane", fn(void, nil, Instr{Op: OpV128Const}, Instr{Op: OpV128Const}, Instr{Op: OpI8x16Shuffle, Imm2: 32 << 56}, Instr{Op: OpDrop}), 2, "invalid lane index 32"},
		{"call_indirect externref table", fn(void, nil, i32c(0), Instr{Op: OpCallIndirect, X: 1, Y: 1}), 1, "table 1 of externref"},
		{"table.copy types", fn(void, nil, i32c(0), i32c(0), i32c(0), Instr{Op: OpTableCopy, X: 0, Y: 1}), 3, "copy of externref into a table of funcref"},
		{"table.init", fn(void, nil, i32c(0), i32c(0), i32c(0), Instr{Op: OpTableInit, X: 0, Y: 0}), -1, ""},
		{"table.init unknown segment", fn(void, nil, i32c(0), i32c(0), i32c(0), Instr{Op: OpTableInit, X: 1, Y: 0}), 3, "unknown elem segment 1"},
		{"memory.init unknown segment", fn(void, nil, i32c(0), i32c(0), i32c(0), Instr{Op: OpMemoryInit, X: 1}), 3, "unknown data segment 1"},
		{"ref.func undeclared", fn(void, nil, Instr{Op: OpRefFunc, X: 0}, Instr{Op: OpDrop}), -1, ""},
		{"ref.is_null of i32", fn(toI32, nil, i32c(0), Instr{Op: OpRefIsNull}), 1, "ref.is_null of i32"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.m)
			if tc.pc < 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate passes; want %q", tc.contains)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not contain %q", err, tc.contains)
			}
			// The code was not decoded: offsets count from its start.
			instrs, _ := tc.m.Code[0].Instructions()
			if want := len(EncodeBody(instrs[:tc.pc])); ve.Offset != want {
				t.Errorf("error %q at offset %d; want %d (instruction %d)", err, ve.Offset, want, tc.pc)
			}
		})
	}
}

func TestValidateModule(t *testing.T) {
	void := FuncType{}
	tests := []struct {
		name     string
		change   func(m *Module)
		contains string
	}{
		{"valid", func(m *Module) {}, ""},
		{"function type", func(m *Module) { m.Funcs[0] = 5 }, "function 0: unknown type 5"},
		{"import type", func(m *Module) { m.Imports = []Import{{Kind: ExternFunc, Type: 9}} }, "unknown type 9"},
		{"two memories", func(m *Module) { m.Memories = append(m.Memories, Limits{}) }, "multiple memories"},
		{"imported and defined memory", func(m *Module) { m.Imports = []Import{{Kind: ExternMemory}} }, "multiple memories"},
		{"memory too large", func(m *Module) { m.Memories[0] = Limits{Min: 65537} }, "at most 65536 pages"},
		{"memory max below min", func(m *Module) { m.Memories[0] = Limits{Min: 2, Max: 1, HasMax: true} }, "below minimum"},
		{"table max below min", func(m *Module) { m.Tables[0].Limits = Limits{Min: 2, Max: 1, HasMax: true} }, "table 0: limits maximum 1 is below minimum 2"},
		{"global init type", func(m *Module) { m.Globals[0].Init = i32Expr(1) }, "type mismatch: constant expression of type [i32], want i64"},
		{"global init not constant", func(m *Module) { m.Globals[0].Init = cat(0x42, 0, 0x42, 0, 0x7c, 0x0b) }, "constant expression required"},
		{"global init reads defined global", func(m *Module) { m.Globals[1].Init = cat(0x23, 0, 0x0b) }, "unknown global 0"},
		{"global init reads mutable import", func(m *Module) {
			m.Imports = []Import{{Kind: ExternGlobal, Global: GlobalType{I64, true}}}
			m.Globals[0].Init = cat(0x23, 0, 0x0b)
		}, "constant expression required: global 0 is mutable"},
		{"global init reads immutable import", func(m *Module) {
			m.Imports = []Import{{Kind: ExternGlobal, Global: GlobalType{I64, false}}}
			m.Globals[0].Init = cat(0x23, 0, 0x0b)
		}, ""},
		{"element table", func(m *Module) {
			m.Elements[0] = Element{Mode: Active, Table: 2, Offset: i32Expr(0), Type: FuncRef}
		}, "unknown table 2"},
		{"element type", func(m *Module) {
			m.Elements[0] = Element{Mode: Active, Table: 1, Offset: i32Expr(0), Type: FuncRef}
		}, "segment of funcref for table 1 of externref"},
		{"element function", func(m *Module) { m.Elements[0].Funcs = []uint32{3} }, "unknown function 3"},
		{"element offset type", func(m *Module) {
			m.Elements[0] = Element{Mode: Active, Offset: cat(0x42, 0, 0x0b), Type: FuncRef}
		}, "want i32"},
		{"element expression type", func(m *Module) {
			m.Elements[0] = Element{Mode: Passive, Type: FuncRef, Exprs: [][]byte{{0xd0, 0x6f, 0x0b}}}
		}, "want funcref"},
		{"data memory", func(m *Module) {
			m.Memories = nil
			m.Data[0] = Data{Mode: Active, Offset: i32Expr(0)}
		}, "unknown memory 0"},
		{"data count", func(m *Module) { m.DataCount = 2 }, "data count 2 but 1 data segments"},
		{"start type", func(m *Module) { m.Types[0].Params = []ValType{I32}; m.Start, m.HasStart = 0, true }, "start function must have type [] -> []"},
		{"start index", func(m *Module) { m.Start, m.HasStart = 1, true }, "unknown function 1"},
		{"export twice", func(m *Module) { m.Exports = []Export{{"a", ExternFunc, 0}, {"a", ExternMemory, 0}} }, "duplicate export name \"a\""},
		{"export global", func(m *Module) { m.Exports = []Export{{"g", ExternGlobal, 2}} }, "unknown global 2"},
		{"export table", func(m *Module) { m.Exports = []Export{{"t", ExternTable, 2}} }, "unknown table 2"},
		{"bodies", func(m *Module) { m.Code = nil }, "1 functions but 0 bodies"},
		{"declared by export", func(m *Module) {
			m.Elements = nil
			m.Exports = []Export{{"f", ExternFunc, 0}}
			m.Code[0].Body = EncodeBody([]Instr{{Op: OpRefFunc, X: 0}, {Op: OpDrop}, {Op: OpEnd}})
		}, ""},
		{"built with a bad value type", func(m *Module) { m.Types[1].Results = []ValType{0x40} }, "type 1: type 0x40 is not a value type"},
		{"built with a bad local type", func(m *Module) { m.Code[0].Locals = []LocalDecl{{1, Unknown}} }, "local type unknown is not a value type"},
		{"built with a bad global type", func(m *Module) { m.Globals[0].Type.Type = 0x60 }, "global 0: type 0x60 is not a value type"},
		{"built with a bad table import", func(m *Module) {
			m.Imports = []Import{{Kind: ExternTable, Table: TableType{Elem: I32}}}
		}, "table element type i32 is not a reference type"},
		{"built with a bad block type", func(m *Module) {
			m.Code[0].Body = EncodeBody([]Instr{BlockInstr(OpBlock, -100), {Op: OpEnd}, {Op: OpEnd}})
		}, "malformed block type -100"},
		{"built with a bad ref.null", func(m *Module) {
			m.Code[0].Body = EncodeBody([]Instr{{Op: OpRefNull, X: uint32(I32)}, {Op: OpDrop}, {Op: OpEnd}})
		}, "malformed reference type 0x7f"}, // EncodeBody writes it, but it does not decode
		{"segment of both forms", func(m *Module) { m.Elements[0].Exprs = [][]byte{{0xd2, 0, 0x0b}} }, "not both"},
		{"data count missing", func(m *Module) {
			m.HasDataCount, m.DataCount = false, 0
			m.Code[0].Body = EncodeBody([]Instr{{Op: OpDataDrop, X: 0}, {Op: OpEnd}})
		}, "data count section required"},
		{"undeclared reference", func(m *Module) {
			m.Elements = nil
			m.Code[0].Body = EncodeBody([]Instr{{Op: OpRefFunc, X: 0}, {Op: OpDrop}, {Op: OpEnd}})
		}, "undeclared function reference 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := fn(void, nil)
			tc.change(m)
			err := Validate(m)
			if tc.contains == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate passes; want %q", tc.contains)
			}
			var ve *ValidationError
			var fe *FormatError
			if !errors.As(err, &ve) && !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is neither a *ValidationError nor a *FormatError", err, err)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not contain %q", err, tc.contains)
			}
		})
	}
}

// TestFuncStack checks the operand stack that FuncStack reports before
// each instruction, in reachable and unreachable code.
func TestFuncStack(t *testing.T) {
	m := fn(FuncType{Params: []ValType{I32}, Results: []ValType{I64}}, nil,
		Instr{Op: OpLocalGet, X: 0},       // 0: []
		Instr{Op: OpI64ExtendI32U},        // 1: [i32]
		BlockInstr(OpBlock, BlockOf(F32)), // 2: [i64]
		Instr{Op: OpF32Const},             // 3: [i64]
		Instr{Op: OpBr, X: 0},             // 4: [i64 f32]
		Instr{Op: OpI32Add},               // 5: [i64], unreachable
		Instr{Op: OpDrop},                 // 6: [i64 i32], unreachable
		Instr{Op: OpEnd},                  // 7: [i64], unreachable
		Instr{Op: OpDrop},                 // 8: [i64 f32]
		BlockInstr(OpLoop, BlockEmpty),    // 9: [i64]
		Instr{Op: OpI64Const},             // 10: [i64]
		Instr{Op: OpReturn},               // 11: [i64 i64]
		Instr{Op: OpSelect},               // 12: [i64], unreachable
		Instr{Op: OpDrop},                 // 13: [i64 unknown], unreachable
		Instr{Op: OpEnd},                  // 14: [i64], unreachable
	) //                                      15: [i64]
	type visit struct {
		pc          int
		op          Opcode
		stack       []ValType
		unreachable bool
	}
	var got []visit
	err := FuncStack(m, 0, func(pc int, in Instr, stack []ValType, unreachable bool) {
		got = append(got, visit{pc, in.Op, append([]ValType{}, stack...), unreachable})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []visit{
		{0, OpLocalGet, []ValType{}, false},
		{1, OpI64ExtendI32U, []ValType{I32}, false},
		{2, OpBlock, []ValType{I64}, false},
		{3, OpF32Const, []ValType{I64}, false},
		{4, OpBr, []ValType{I64, F32}, false},
		{5, OpI32Add, []ValType{I64}, true},
		{6, OpDrop, []ValType{I64, I32}, true},
		{7, OpEnd, []ValType{I64}, true},
		{8, OpDrop, []ValType{I64, F32}, false},
		{9, OpLoop, []ValType{I64}, false},
		{10, OpI64Const, []ValType{I64}, false},
		{11, OpReturn, []ValType{I64, I64}, false},
		{12, OpSelect, []ValType{I64}, true},
		{13, OpDrop, []ValType{I64, Unknown}, true},
		{14, OpEnd, []ValType{I64}, true},
		{15, OpEnd, []ValType{I64}, false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FuncStack visits:\n%v\nwant\n%v", got, want)
	}
	if err := FuncStack(m, 1, func(int, Instr, []ValType, bool) {}); err == nil {
		t.Error("FuncStack of a function that does not exist succeeds")
	}
	m.Imports = []Import{{Module: "env", Name: "f", Kind: ExternFunc}}
	if err := FuncStack(m, 0, func(int, Instr, []ValType, bool) {}); err == nil {
		t.Error("FuncStack of an imported function succeeds")
	}
	if err := FuncStack(m, 1, func(int, Instr, []ValType, bool) {}); err != nil {
		t.Errorf("FuncStack after an import: %v", err)
	}
}

// TestTyper checks a Typer's errors for instruction lists that do not
// make a body; its visits are checked against FuncStack's on the spec
// suite (checkFuncStacks).
func TestTyper(t *testing.T) {
	m := fn(FuncType{Results: []ValType{I32}}, nil, i32c(1))
	typer := NewTyper(m)
	nop := func(int, Instr, []ValType, bool) {}
	for _, tc := range []struct {
		name     string
		index    uint32
		instrs   []Instr
		contains string
	}{
		{"valid", 0, []Instr{i32c(1), {Op: OpEnd}}, ""},
		{"no function", 1, []Instr{i32c(1), {Op: OpEnd}}, "has no body"},
		{"without end", 0, []Instr{i32c(1)}, "body without end"},
		{"after the end", 0, []Instr{i32c(1), {Op: OpEnd}, {Op: OpNop}}, "after the final end"},
		{"illegal opcode", 0, []Instr{{Op: 0xff}, {Op: OpEnd}}, "illegal opcode"},
		{"type mismatch", 0, []Instr{{Op: OpI64Const}, {Op: OpEnd}}, "type mismatch"},
		{"else without if", 0, []Instr{{Op: OpElse}, {Op: OpEnd}}, "else"},
		{"valid again", 0, []Instr{{Op: OpI32Const}, {Op: OpEnd}}, ""},
	} {
		err := typer.FuncStack(tc.index, tc.instrs, nop)
		switch {
		case tc.contains == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.contains != "" && (err == nil || !strings.Contains(err.Error(), tc.contains)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.contains)
		}
	}
}

// TestValidateHostile validates modules made to make the validation
// algorithm spend memory or time out of proportion with their size: it
// must refuse or accept them cheaply.
func TestValidateHostile(t *testing.T) {
	many := func(n int, in ...Instr) []Instr {
		var out []Instr
		for i := 0; i < n; i++ {
			out = append(out, in...)
		}
		return out
	}
	wide := make([]ValType, maxFuncTypeArity)
	for i := range wide {
		wide[i] = I64
	}
	withTypes := func(m *Module) *Module {
		m.Types = append(m.Types, FuncType{Results: wide}, FuncType{Params: wide})
		m.Funcs = append(m.Funcs, 2, 3) // functions 1 and 2: [] -> wide, wide -> []
		m.Code = append(m.Code, Code{Body: cat(0x00, 0x0b)}, Code{Body: cat(0x0b)})
		return m
	}
	void := FuncType{}
	tests := []struct {
		name     string
		m        *Module
		contains string // "" for valid
	}{
		{"wide results pile up", withTypes(fn(void, nil, many(2000, Instr{Op: OpCall, X: 1})...)),
			"operand stack deeper than 1048576 values"},
		{"wide calls in unreachable code", withTypes(fn(void, nil, append([]Instr{{Op: OpUnreachable}},
			many(200000, Instr{Op: OpCall, X: 2})...)...)), ""},
		{"br_table of many labels", withTypes(fn(void, nil, BlockInstr(OpBlock, 2), BlockInstr(OpBlock, 2),
			Instr{Op: OpCall, X: 1}, i32c(0), Instr{Op: OpBrTable, Labels: make([]uint32, 200000), X: 1},
			Instr{Op: OpEnd}, Instr{Op: OpEnd}, Instr{Op: OpCall, X: 2})), ""},
		{"br_table alternating labels", withTypes(fn(void, nil, BlockInstr(OpBlock, 2), BlockInstr(OpBlock, 2),
			Instr{Op: OpCall, X: 1}, i32c(0), Instr{Op: OpBrTable, Labels: alternating(200000), X: 1},
			Instr{Op: OpEnd}, Instr{Op: OpEnd}, Instr{Op: OpCall, X: 2})), ""},
		{"deep nesting", fn(void, nil, many(maxNesting, BlockInstr(OpBlock, BlockEmpty))...),
			"blocks nested deeper than 1048576"},
		{"wide type", func() *Module {
			m := fn(void, nil)
			m.Types = append(m.Types, FuncType{Params: append(wide, I32)})
			return m
		}(), "1001 parameters and 0 results"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := Validate(tc.m)
			runtime.ReadMemStats(&after)
			if tc.contains == "" && err != nil {
				t.Errorf("Validate: %v", err)
			}
			if tc.contains != "" && (err == nil || !strings.Contains(err.Error(), tc.contains)) {
				t.Errorf("Validate: %v; want an error with %q", err, tc.contains)
			}
			// A frame of the control stack takes 16 bytes for the 2 of
			// a block instruction, and the operand stack is limited to a
			// MiB; growing them by append allocates about five times
			// that in all.
			size := len(tc.m.Code[0].Body)
			if n := after.TotalAlloc - before.TotalAlloc; n > 64*uint64(size)+8*maxOperandStack {
				t.Errorf("Validate of a %d-byte body allocated %d bytes", size, n)
			}
		})
	}
}

// alternating returns n labels alternating between 0 and 1.
func alternating(n int) []uint32 {
	l := make([]uint32, n)
	for i := range l {
		l[i] = uint32(i % 2)
	}
	return l
}
