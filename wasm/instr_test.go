package wasm

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestInstrEncoding(t *testing.T) {
	seq := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	tests := []struct {
		name string
		enc  []byte // canonical encoding
		want Instr
	}{
		{"nop", cat(0x01), Instr{Op: OpNop}},
		{"block empty", cat(0x02, 0x40), BlockInstr(OpBlock, BlockEmpty)},
		{"block i32", cat(0x02, 0x7f), BlockInstr(OpBlock, BlockOf(I32))},
		{"loop v128", cat(0x03, 0x7b), BlockInstr(OpLoop, BlockOf(V128))},
		{"if funcref", cat(0x04, 0x70), BlockInstr(OpIf, BlockOf(FuncRef))},
		{"block type 5", cat(0x02, 0x05), Instr{Op: OpBlock, Imm: 5}},
		{"block type 200", cat(0x02, 0xc8, 0x01), Instr{Op: OpBlock, Imm: 200}},
		{"br 3", cat(0x0c, 0x03), Instr{Op: OpBr, X: 3}},
		{"br_table", cat(0x0e, 0x02, 0x01, 0x02, 0x00), Instr{Op: OpBrTable, Labels: []uint32{1, 2}}},
		{"br_table default only", cat(0x0e, 0x00, 0x05), Instr{Op: OpBrTable, X: 5}},
		{"call 300", cat(0x10, 0xac, 0x02), Instr{Op: OpCall, X: 300}},
		{"call_indirect", cat(0x11, 0x02, 0x01), Instr{Op: OpCallIndirect, X: 2, Y: 1}},
		{"select", cat(0x1b), Instr{Op: OpSelect}},
		{"select i64", cat(0x1c, 0x01, 0x7e), Instr{Op: OpSelectT, Types: []ValType{I64}}},
		{"select two types", cat(0x1c, 0x02, 0x7f, 0x6f), Instr{Op: OpSelectT, Types: []ValType{I32, ExternRef}}},
		{"local.tee", cat(0x22, 0x81, 0x01), Instr{Op: OpLocalTee, X: 129}},
		{"global.set", cat(0x24, 0x01), Instr{Op: OpGlobalSet, X: 1}},
		{"table.get", cat(0x25, 0x02), Instr{Op: OpTableGet, X: 2}},
		{"i32.load", cat(0x28, 0x02, 0x10), Instr{Op: OpI32Load, X: 2, Imm: 16}},
		{"i64.store32 max offset", cat(0x3e, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f), Instr{Op: OpI64Store32, X: 2, Imm: 0xffffffff}},
		{"memory.size", cat(0x3f, 0x00), Instr{Op: OpMemorySize}},
		{"memory.grow", cat(0x40, 0x00), Instr{Op: OpMemoryGrow}},
		{"i32.const -1", cat(0x41, 0x7f), Instr{Op: OpI32Const, Imm: 0xffffffff}},
		{"i32.const 64", cat(0x41, 0xc0, 0x00), Instr{Op: OpI32Const, Imm: 64}},
		{"i32.const max", cat(0x41, 0xff, 0xff, 0xff, 0xff, 0x07), Instr{Op: OpI32Const, Imm: 0x7fffffff}},
		{"i32.const min", cat(0x41, 0x80, 0x80, 0x80, 0x80, 0x78), Instr{Op: OpI32Const, Imm: 0x80000000}},
		{"i64.const -1", cat(0x42, 0x7f), Instr{Op: OpI64Const, Imm: 0xffffffffffffffff}},
		{"i64.const min", cat(0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f), Instr{Op: OpI64Const, Imm: 1 << 63}},
		{"f32.const 1", cat(0x43, 0x00, 0x00, 0x80, 0x3f), Instr{Op: OpF32Const, Imm: 0x3f800000}},
		{"f64.const NaN payload", cat(0x44, 1, 0, 0, 0, 0, 0, 0xf8, 0x7f), Instr{Op: OpF64Const, Imm: 0x7ff8000000000001}},
		{"i64.extend32_s", cat(0xc4), Instr{Op: OpI64Extend32S}},
		{"ref.null externref", cat(0xd0, 0x6f), Instr{Op: OpRefNull, X: uint32(ExternRef)}},
		{"ref.is_null", cat(0xd1), Instr{Op: OpRefIsNull}},
		{"ref.func", cat(0xd2, 0x07), Instr{Op: OpRefFunc, X: 7}},
		{"i32.trunc_sat_f32_s", cat(0xfc, 0x00), Instr{Op: OpI32TruncSatF32S}},
		{"memory.init", cat(0xfc, 0x08, 0x03, 0x00), Instr{Op: OpMemoryInit, X: 3}},
		{"data.drop", cat(0xfc, 0x09, 0x02), Instr{Op: OpDataDrop, X: 2}},
		{"memory.copy", cat(0xfc, 0x0a, 0x00, 0x00), Instr{Op: OpMemoryCopy}},
		{"memory.fill", cat(0xfc, 0x0b, 0x00), Instr{Op: OpMemoryFill}},
		{"table.init", cat(0xfc, 0x0c, 0x04, 0x01), Instr{Op: OpTableInit, X: 4, Y: 1}},
		{"elem.drop", cat(0xfc, 0x0d, 0x04), Instr{Op: OpElemDrop, X: 4}},
		{"table.copy", cat(0xfc, 0x0e, 0x01, 0x02), Instr{Op: OpTableCopy, X: 1, Y: 2}},
		{"table.grow", cat(0xfc, 0x0f, 0x00), Instr{Op: OpTableGrow}},
		{"table.size", cat(0xfc, 0x10, 0x01), Instr{Op: OpTableSize, X: 1}},
		{"table.fill", cat(0xfc, 0x11, 0x00), Instr{Op: OpTableFill}},
		{"v128.load", cat(0xfd, 0x00, 0x04, 0x00), Instr{Op: OpV128Load, X: 4}},
		{"v128.const", cat(0xfd, 0x0c, seq), Instr{Op: OpV128Const, Imm: 0x0706050403020100, Imm2: 0x0f0e0d0c0b0a0908}},
		{"i8x16.shuffle", cat(0xfd, 0x0d, seq), Instr{Op: OpI8x16Shuffle, Imm: 0x0706050403020100, Imm2: 0x0f0e0d0c0b0a0908}},
		{"i8x16.extract_lane_s", cat(0xfd, 0x15, 0x0f), Instr{Op: OpI8x16ExtractLaneS, Y: 15}},
		{"f64x2.replace_lane", cat(0xfd, 0x22, 0x01), Instr{Op: OpF64x2ReplaceLane, Y: 1}},
		{"v128.load8_lane", cat(0xfd, 0x54, 0x00, 0x01, 0x0f), Instr{Op: OpV128Load8Lane, Imm: 1, Y: 15}},
		{"v128.store64_lane", cat(0xfd, 0x5b, 0x03, 0x00, 0x01), Instr{Op: OpV128Store64Lane, X: 3, Y: 1}},
		{"i32x4.dot_i16x8_s", cat(0xfd, 0xba, 0x01), Instr{Op: OpI32x4DotI16x8S}},
		{"f64x2.convert_low_i32x4_u", cat(0xfd, 0xff, 0x01), Instr{Op: OpF64x2ConvertLowI32x4U}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := append(bytes.Clone(tc.enc), 0x0b)
			want := []Instr{tc.want, {Op: OpEnd}}
			if op := tc.want.Op; op == OpBlock || op == OpLoop || op == OpIf {
				body = append(body, 0x0b)
				want = append(want, Instr{Op: OpEnd})
			}
			got, err := DecodeBody(body)
			if err != nil {
				t.Fatalf("DecodeBody(% x): %v", body, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("DecodeBody(% x) = %v; want %v", body, got, want)
			}
			if enc := EncodeBody(want); !bytes.Equal(enc, body) {
				t.Errorf("EncodeBody(%v) = % x; want % x", want, enc, body)
			}
		})
	}
}

// TestInstrPadded checks that padded immediates decode to the same
// instruction and are written back in shortest form.
func TestInstrPadded(t *testing.T) {
	tests := []struct {
		name        string
		padded, enc []byte
	}{
		{"call", cat(0x10, 0x85, 0x80, 0x80, 0x80, 0x00), cat(0x10, 0x05)},
		{"i32.const -1", cat(0x41, 0xff, 0xff, 0xff, 0xff, 0x7f), cat(0x41, 0x7f)},
		{"i64.const 0", cat(0x42, 0x80, 0x80, 0x00), cat(0x42, 0x00)},
		{"memarg", cat(0x28, 0x82, 0x00, 0x80, 0x80, 0x80, 0x80, 0x00), cat(0x28, 0x02, 0x00)},
		{"prefixed sub-opcode", cat(0xfc, 0x80, 0x00), cat(0xfc, 0x00)},
		{"SIMD sub-opcode", cat(0xfd, 0x8c, 0x80, 0x80, 0x80, 0x00), cat(0xfd, 0x0c, make([]byte, 16))},
		{"block type index", cat(0x02, 0x81, 0x80, 0x80, 0x80, 0x00, 0x0b), cat(0x02, 0x01, 0x0b)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "SIMD sub-opcode" {
				tc.padded = append(tc.padded, make([]byte, 16)...)
			}
			got, err := DecodeBody(append(tc.padded, 0x0b))
			if err != nil {
				t.Fatal(err)
			}
			if enc := EncodeBody(got); !bytes.Equal(enc, append(tc.enc, 0x0b)) {
				t.Errorf("EncodeBody = % x; want % x", enc, append(tc.enc, 0x0b))
			}
		})
	}
}

// TestEveryOpcode encodes and decodes every opcode of the table with
// immediates of its kind: the decoder and encoder must agree on all.
func TestEveryOpcode(t *testing.T) {
	seen := map[string]bool{}
	for _, info := range opcodeTable {
		in := Instr{Op: info.op}
		switch info.imm {
		case immBlock:
			in = BlockInstr(in.Op, BlockOf(F64))
		case immIndex, immMemoryInit:
			in.X = 1000
		case immBrTable:
			in.Labels, in.X = []uint32{3, 2, 1}, 4
		case immCallIndirect, immTableInit, immTableCopy:
			in.X, in.Y = 7, 300
		case immSelectT:
			in.Types = []ValType{V128}
		case immMemArg:
			in.X, in.Imm = info.align, 1<<20
		case immMemArgLane:
			in.X, in.Imm, in.Y = info.align, 8, info.lanes-1
		case immLane:
			in.Y = info.lanes - 1
		case immI32:
			in.Imm = 0x80000000
		case immI64, immF64:
			in.Imm = 0x8000000000000001
		case immF32:
			in.Imm = 0x7fc00001
		case immV128:
			in.Imm, in.Imm2 = 0x1f1e1d1c1b1a1918, 0x0706050403020100
		case immRefNull:
			in.X = uint32(FuncRef)
		}
		instrs := []Instr{in}
		if info.op == OpBlock || info.op == OpLoop || info.op == OpIf {
			instrs = append(instrs, Instr{Op: OpEnd})
		}
		if info.op == OpElse {
			instrs = []Instr{BlockInstr(OpIf, BlockEmpty), in, {Op: OpEnd}}
		}
		if info.op != OpEnd {
			instrs = append(instrs, Instr{Op: OpEnd})
		}
		got, err := DecodeBody(EncodeBody(instrs))
		if err != nil {
			t.Errorf("%v: %v", info.op, err)
			continue
		}
		if !reflect.DeepEqual(got, instrs) {
			t.Errorf("%v: decoded %v; want %v", info.op, got, instrs)
		}
		name := info.op.String()
		if info.op != OpSelectT && seen[name] {
			t.Errorf("%v: name used twice", info.op)
		}
		seen[name] = true
	}
	if len(opcodeTable) != 437 {
		t.Errorf("%d opcodes; WebAssembly 2.0 has 437 (201 plain or 0xFC-prefixed, 236 SIMD)", len(opcodeTable))
	}
}

func TestDecodeBodyErrors(t *testing.T) {
	tests := []struct {
		name     string
		body     []byte
		offset   int
		is       error
		contains string
	}{
		{"empty", nil, 0, errTruncated, "expression without end"},
		{"no end", cat(0x01), 1, errTruncated, "expression without end"},
		{"block not closed", cat(0x02, 0x40, 0x0b), 3, errTruncated, "expression without end"},
		{"bytes after end", cat(0x0b, 0x01), 1, nil, "1 bytes after the final end"},
		{"illegal opcode", cat(0x06, 0x0b), 0, errIllegalOpcode, "0x06"},
		{"illegal 0xff", cat(0x01, 0xff), 1, errIllegalOpcode, "0xff"},
		{"illegal 0xFC sub-opcode", cat(0xfc, 0x12, 0x0b), 0, errIllegalOpcode, "0xfc 0x12"},
		{"reserved SIMD opcode", cat(0xfd, 0x9a, 0x01, 0x0b), 0, errIllegalOpcode, "0xfd 0x9a"},
		{"relaxed SIMD opcode", cat(0xfd, 0x80, 0x02, 0x0b), 0, errIllegalOpcode, "0xfd 256"},
		{"sub-opcode too long", cat(0xfc, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), 1, errLEBTooLong, "sub-opcode"},
		{"else outside if", cat(0x02, 0x40, 0x05, 0x0b, 0x0b), 2, nil, "else outside an if"},
		{"else twice", cat(0x04, 0x40, 0x05, 0x05, 0x0b, 0x0b), 3, nil, "else outside an if"},
		{"memory.size byte", cat(0x3f, 0x01, 0x0b), 1, nil, "zero byte expected"},
		{"memory.size LEB zero", cat(0x3f, 0x80, 0x00, 0x0b), 1, nil, "zero byte expected"},
		{"memory.copy second byte", cat(0xfc, 0x0a, 0x00, 0x01, 0x0b), 3, nil, "zero byte expected"},
		{"memory.init byte", cat(0xfc, 0x08, 0x00, 0x01, 0x0b), 3, nil, "zero byte expected"},
		{"alignment 2^32", cat(0x28, 0x20, 0x00, 0x0b), 1, nil, "malformed memop flags"},
		{"block type -63", cat(0x02, 0x41, 0x0b), 1, nil, "malformed block type"},
		{"block type too long", cat(0x02, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), 1, errLEBTooLong, "block type"},
		{"ref.null i32", cat(0xd0, 0x7f, 0x0b), 1, nil, "malformed reference type"},
		{"select bad type", cat(0x1c, 0x01, 0x00, 0x0b), 2, nil, "select type 0x00 is not a value type"},
		{"i32.const too long", cat(0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), 1, errLEBTooLong, "i32 constant"},
		{"i32.const too large", cat(0x41, 0x80, 0x80, 0x80, 0x80, 0x70, 0x0b), 1, errLEBTooLarge, "i32.const"},
		{"i32.const negative unused bits", cat(0x41, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0b), 1, errLEBTooLarge, ""},
		{"i64.const too large", cat(0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x0b), 1, errLEBTooLarge, ""},
		{"f64.const truncated", cat(0x44, 0x00, 0x00), 1, errTruncated, "f64 constant"},
		{"v128.const truncated", cat(0xfd, 0x0c, 0x00), 2, errTruncated, "v128.const"},
		{"lane missing", cat(0xfd, 0x15), 2, errTruncated, "lane index"},
		{"br_table count past end", cat(0x0e, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00), 7, errTruncated, "br_table label"},
		{"select count past end", cat(0x1c, 0xff, 0xff, 0xff, 0xff, 0x0f), 6, errTruncated, "select type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeBody(tc.body)
			if err == nil {
				t.Fatalf("DecodeBody(% x) = %v; want an error", tc.body, got)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *FormatError", err, err)
			}
			if fe.Offset != tc.offset {
				t.Errorf("error %q at offset %d; want %d", err, fe.Offset, tc.offset)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %q", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not contain %q", err, tc.contains)
			}
		})
	}
}

func TestBlockType(t *testing.T) {
	if _, ok := BlockEmpty.Result(); ok {
		t.Error("BlockEmpty has a result")
	}
	if _, ok := BlockEmpty.TypeIndex(); ok {
		t.Error("BlockEmpty has a type index")
	}
	for _, vt := range []ValType{I32, I64, F32, F64, V128, FuncRef, ExternRef} {
		bt := BlockOf(vt)
		if r, ok := bt.Result(); !ok || r != vt {
			t.Errorf("BlockOf(%v).Result() = %v, %v", vt, r, ok)
		}
		if _, ok := bt.TypeIndex(); ok {
			t.Errorf("BlockOf(%v) has a type index", vt)
		}
	}
	if x, ok := BlockType(7).TypeIndex(); !ok || x != 7 {
		t.Errorf("BlockType(7).TypeIndex() = %d, %v", x, ok)
	}
	if _, ok := BlockType(1 << 32).TypeIndex(); ok {
		t.Error("BlockType(1<<32) has a type index")
	}
}

func TestInstrString(t *testing.T) {
	tests := []struct {
		in   Instr
		want string
	}{
		{Instr{Op: OpI32Add}, "i32.add"},
		{BlockInstr(OpBlock, BlockOf(I64)), "block (result i64)"},
		{Instr{Op: OpLoop, Imm: 3}, "loop (type 3)"},
		{Instr{Op: OpBrTable, Labels: []uint32{0, 1}, X: 2}, "br_table 0 1 2"},
		{Instr{Op: OpCallIndirect, X: 4, Y: 1}, "call_indirect 1 (type 4)"},
		{Instr{Op: OpI32Const, Imm: 0xffffffff}, "i32.const -1"},
		{Instr{Op: OpI64Load, X: 3, Imm: 8}, "i64.load offset=8 align=8"},
		{Instr{Op: OpSelectT, Types: []ValType{F32}}, "select (result f32)"},
		{Instr{Op: OpRefNull, X: uint32(ExternRef)}, "ref.null externref"},
		{Instr{Op: OpI8x16ExtractLaneU, Y: 3}, "i8x16.extract_lane_u 3"},
		{Instr{Op: 0x06}, "opcode 0x06"},
		{Instr{Op: 0xfd9a}, "opcode 0xfd 0x9a"},
	}
	for _, tc := range tests {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("String() = %q; want %q", got, tc.want)
		}
	}
}

// TestAppendInstructions checks that a reused buffer gives the same
// instructions as a fresh one.
func TestAppendInstructions(t *testing.T) {
	bodies := [][]byte{
		cat(0x0e, 0x02, 0x00, 0x00, 0x00, 0x1c, 0x01, 0x7f, 0x0b),
		cat(0x41, 0x01, 0x0e, 0x01, 0x00, 0x00, 0x0b),
		cat(0x0b),
	}
	var buf []Instr
	for _, b := range bodies {
		c := Code{Body: b}
		var err error
		buf, err = c.AppendInstructions(buf[:0])
		if err != nil {
			t.Fatal(err)
		}
		want, _ := c.Instructions()
		if !reflect.DeepEqual(buf, want) {
			t.Errorf("AppendInstructions(% x) = %v; want %v", b, buf, want)
		}
	}
}

// TestOpcodesErrors checks that Opcodes refuses what Instructions refuses,
// with the same error.
func TestOpcodesErrors(t *testing.T) {
	for _, body := range [][]byte{
		{},                                   // no end
		{0x41},                               // truncated i32.const
		{0x41, 0x80},                         // truncated LEB
		{0x0b, 0x01},                         // bytes after the end
		{0x02, 0x40, 0x0b},                   // block without the function's end
		{0x05, 0x0b},                         // else outside an if
		{0xff, 0x0b},                         // illegal opcode
		{0x0e, 0x80, 0x80, 0x80, 0x80, 0x10}, // br_table count too large
	} {
		c := &Code{Body: body, Offset: 7}
		_, want := c.Instructions()
		got := c.Opcodes(func(Opcode) {})
		if want == nil || got == nil || got.Error() != want.Error() {
			t.Errorf("body % x: Opcodes: %v, Instructions: %v", body, got, want)
		}
	}
}
