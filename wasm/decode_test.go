package wasm

import (
	"bytes"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// vec encodes a vector: its length, then its encoded elements.
func vec(elems ...[]byte) []byte {
	return cat(appendU32(nil, uint32(len(elems))), bytes.Join(elems, nil))
}

// i32Expr is the constant expression (i32.const v) with its end.
func i32Expr(v int32) []byte { return cat(appendSigned([]byte{0x41}, int64(v)), 0x0b) }

func TestDecode(t *testing.T) {
	in := mod(
		custom("first", 1, 2),
		sec(SectionType, vec(cat(0x60, vec([]byte{0x7f}, []byte{0x7e}), vec([]byte{0x7f})), cat(0x60, 0, 0))...),
		importsSec(imp("env", "f", 0, 1), imp("env", "t", 1, 0x6f, 1, 0, 9), imp("env", "m", 2, 0, 1),
			imp("env", "g", 3, 0x7d, 1)),
		custom("after imports"),
		sec(SectionFunction, vec([]byte{0}, []byte{1})...),
		sec(SectionTable, vec(cat(0x70, 0, 2))...),
		sec(SectionGlobal, vec(cat(0x7f, 0, i32Expr(-5)), cat(0x70, 1, 0xd2, 0x01, 0x0b))...),
		sec(SectionExport, vec(cat(name("f"), 0, 1), cat(name("g"), 3, 1))...),
		sec(SectionStart, 2),
		sec(SectionElement, vec(cat(2, 1, i32Expr(0), 0, vec([]byte{1})))...),
		sec(SectionDataCount, 1),
		sec(SectionCode, vec(
			cat(8, vec(cat(2, 0x7f), cat(1, 0x7c)), 0x20, 0x00, 0x0b),
			cat(2, 0, 0x0b))...),
		sec(SectionData, vec(cat(1, 3, "abc"))...),
		custom("last", 9),
	)
	m, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	want := &Module{
		Types: []FuncType{{Params: []ValType{I32, I64}, Results: []ValType{I32}}, {}},
		Imports: []Import{
			{Module: "env", Name: "f", Kind: ExternFunc, Type: 1},
			{Module: "env", Name: "t", Kind: ExternTable, Table: TableType{ExternRef, Limits{Min: 0, Max: 9, HasMax: true}}},
			{Module: "env", Name: "m", Kind: ExternMemory, Memory: Limits{Min: 1}},
			{Module: "env", Name: "g", Kind: ExternGlobal, Global: GlobalType{F32, true}},
		},
		Funcs:  []uint32{0, 1},
		Tables: []TableType{{FuncRef, Limits{Min: 2}}},
		Globals: []Global{
			{Type: GlobalType{I32, false}, Init: i32Expr(-5)},
			{Type: GlobalType{FuncRef, true}, Init: cat(0xd2, 0x01, 0x0b)},
		},
		Exports:      []Export{{"f", ExternFunc, 1}, {"g", ExternGlobal, 1}},
		Start:        2,
		HasStart:     true,
		Elements:     []Element{{Mode: Active, Table: 1, Offset: i32Expr(0), Type: FuncRef, Funcs: []uint32{1}, Flags: 2}},
		DataCount:    1,
		HasDataCount: true,
		Code: []Code{
			{Locals: []LocalDecl{{2, I32}, {1, F64}}, Body: cat(0x20, 0x00, 0x0b)},
			{Body: cat(0x0b)},
		},
		Data: []Data{{Mode: Passive, Init: []byte("abc"), Flags: 1}},
		Customs: []Custom{
			{Name: "first", Data: []byte{1, 2}, After: SectionCustom},
			{Name: "after imports", Data: []byte{}, After: SectionImport},
			{Name: "last", Data: []byte{9}, After: SectionData},
		},
	}
	got := comparable(m)
	if !reflect.DeepEqual(got, comparable(want)) {
		t.Errorf("Decode =\n%+v\nwant\n%+v", got, want)
	}
	if m.Code[0].Offset == 0 || !bytes.Equal(in[m.Code[0].Offset:m.Code[0].Offset+3], m.Code[0].Body) {
		t.Errorf("Code[0].Offset %d does not point at its body", m.Code[0].Offset)
	}
	if err := Validate(m); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if out := Encode(m); !bytes.Equal(out, in) {
		t.Errorf("Encode =\n% x\nwant\n% x", out, in)
	}
	if n := m.NumImports(ExternGlobal); n != 1 {
		t.Errorf("NumImports(global) = %d", n)
	}
	if ft, ok := m.FuncType(2); !ok || !ft.Equal(FuncType{}) {
		t.Errorf("FuncType(2) = %v, %v", ft, ok)
	}
	if ft, ok := m.FuncType(0); !ok || ft.String() != "[] -> []" {
		t.Errorf("FuncType(0) = %v, %v", ft, ok)
	}
	if _, ok := m.FuncType(3); ok {
		t.Error("FuncType(3) exists")
	}
}

// TestDecodeSegments decodes the eight encodings of element segments and
// the three of data segments, and encodes them back.
func TestDecodeSegments(t *testing.T) {
	off := i32Expr(1)
	refFunc := cat(0xd2, 0x00, 0x0b)
	refNull := cat(0xd0, 0x6f, 0x0b)
	elems := []struct {
		enc  []byte
		want Element
	}{
		{cat(0, off, vec([]byte{0})), Element{Mode: Active, Offset: off, Type: FuncRef, Funcs: []uint32{0}, Flags: 0}},
		{cat(1, 0, vec([]byte{0})), Element{Mode: Passive, Type: FuncRef, Funcs: []uint32{0}, Flags: 1}},
		{cat(2, 1, off, 0, vec([]byte{0})), Element{Mode: Active, Table: 1, Offset: off, Type: FuncRef, Funcs: []uint32{0}, Flags: 2}},
		{cat(3, 0, vec([]byte{0})), Element{Mode: Declarative, Type: FuncRef, Funcs: []uint32{0}, Flags: 3}},
		{cat(4, off, vec(refFunc)), Element{Mode: Active, Offset: off, Type: FuncRef, Exprs: [][]byte{refFunc}, Flags: 4}},
		{cat(5, 0x6f, vec(refNull)), Element{Mode: Passive, Type: ExternRef, Exprs: [][]byte{refNull}, Flags: 5}},
		{cat(6, 2, off, 0x6f, vec(refNull, refNull)), Element{Mode: Active, Table: 2, Offset: off, Type: ExternRef, Exprs: [][]byte{refNull, refNull}, Flags: 6}},
		{cat(7, 0x70, vec(refFunc)), Element{Mode: Declarative, Type: FuncRef, Exprs: [][]byte{refFunc}, Flags: 7}},
	}
	datas := []struct {
		enc  []byte
		want Data
	}{
		{cat(0, off, 2, "hi"), Data{Mode: Active, Offset: off, Init: []byte("hi")}},
		{cat(1, 0), Data{Mode: Passive, Init: []byte{}, Flags: 1}},
		{cat(2, 0, off, 1, "x"), Data{Mode: Active, Offset: off, Init: []byte("x"), Flags: 2}},
	}
	var elemEnc, dataEnc [][]byte
	for _, e := range elems {
		elemEnc = append(elemEnc, e.enc)
	}
	for _, d := range datas {
		dataEnc = append(dataEnc, d.enc)
	}
	in := mod(typeSec, funcSec, sec(SectionElement, vec(elemEnc...)...), codeSec, sec(SectionData, vec(dataEnc...)...))
	m, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range elems {
		if !reflect.DeepEqual(m.Elements[i], e.want) {
			t.Errorf("element segment %d = %+v; want %+v", i, m.Elements[i], e.want)
		}
	}
	for i, d := range datas {
		if !reflect.DeepEqual(m.Data[i], d.want) {
			t.Errorf("data segment %d = %+v; want %+v", i, m.Data[i], d.want)
		}
	}
	if out := Encode(m); !bytes.Equal(out, in) {
		t.Errorf("Encode =\n% x\nwant\n% x", out, in)
	}
	// Written again from scratch, each segment keeps its encoding.
	if out := Encode(canonical(m)); !bytes.Equal(out, in) {
		t.Errorf("Encode(canonical) =\n% x\nwant\n% x", out, in)
	}
}

func TestDecodeErrors(t *testing.T) {
	body := func(b ...byte) []byte { return sec(SectionCode, vec(cat(appendU32(nil, uint32(len(b))), b))...) }
	tests := []struct {
		name     string
		in       []byte
		offset   int // -1 not to check
		is       error
		contains string
	}{
		{"not a module", []byte("\x00asn"), -1, ErrNotModule, ""},
		{"more functions than bodies", mod(typeSec, funcSec), 18, nil, "function and code section have inconsistent lengths"},
		{"more bodies than functions", mod(typeSec, codeSec), 14, nil, "inconsistent lengths: 0 functions, 1 bodies"},
		{"data count above segments", mod(sec(SectionDataCount, 2), dataSec), 11, nil, "data count and data section have inconsistent lengths"},
		{"data count without data section", mod(sec(SectionDataCount, 1)), 11, nil, "inconsistent lengths"},
		{"data count required", mod(typeSec, funcSec, memMin1, body(0, 0xfc, 0x09, 0, 0x0b), sec(SectionData, vec(cat(1, 0))...)),
			28, nil, "data count section required"},
		{"type form", mod(sec(SectionType, 1, 0x61, 0, 0)), 11, nil, "form 0x61 is not a function type"},
		{"value type", mod(sec(SectionType, 1, 0x60, 1, 0x7a, 0)), 13, nil, "parameter type 0x7a is not a value type"},
		{"table element type", mod(sec(SectionTable, 1, 0x7f, 0, 1)), 11, nil, "not a reference type"},
		{"memory flags", mod(sec(SectionMemory, 1, 3, 1, 1)), 11, nil, "limits flags 0x03"},
		{"global init not closed", mod(sec(SectionGlobal, 1, 0x7f, 0, 0x41, 0)), 15, errTruncated, "expression without end"},
		{"global init illegal opcode", mod(sec(SectionGlobal, 1, 0x7f, 0, 0x06, 0x0b)), 13, errIllegalOpcode, ""},
		{"export kind", mod(sec(SectionExport, cat(1, name("x"), 4, 0)...)), 13, nil, "export 0 has unknown kind 0x04"},
		{"export name UTF-8", mod(sec(SectionExport, cat(1, 1, 0xff, 0, 0)...)), 12, nil, "export name is not valid UTF-8"},
		{"element flags", mod(sec(SectionElement, 1, 8)), 11, nil, "malformed element segment flags 8"},
		{"element kind", mod(sec(SectionElement, 1, 1, 1, 0)), 12, nil, "malformed element kind 0x01"},
		{"element reference type", mod(sec(SectionElement, 1, 5, 0x7f, 0)), 12, nil, "element reference type 0x7f"},
		{"data flags", mod(sec(SectionData, 1, 3)), 11, nil, "malformed data segment flags 3"},
		{"data past section", mod(sec(SectionData, 1, 1, 5, 'a')), 12, errTruncated, "data segment of 5 bytes"},
		{"body size past section", mod(typeSec, funcSec, sec(SectionCode, 1, 9, 0, 0x0b)), 21, errTruncated, "function body of 9 bytes"},
		{"body without end", mod(typeSec, funcSec, body(0, 0x01)), 24, errTruncated, "expression without end"},
		{"bytes after body end", mod(typeSec, funcSec, body(0, 0x0b, 0x01)), 24, nil, "function body has 1 bytes after its end"},
		{"too many locals", mod(typeSec, funcSec, body(2, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x01, 0x7e, 0x0b)),
			29, nil, "too many locals"},
		{"local type", mod(typeSec, funcSec, body(1, 1, 0x40, 0x0b)), 24, nil, "local type 0x40 is not a value type"},
		{"custom name past end", mod(sec(SectionCustom, 5, 'a')), 11, errTruncated, "custom section name"},
		{"custom name UTF-8", mod(sec(SectionCustom, 1, 0xc0)), 11, nil, "custom section name is not valid UTF-8"},
		{"section left over", mod(sec(SectionFunction, 1, 0, 0)), 12, nil, "function section has 1 bytes left over"},
		{"start index too long", mod(sec(SectionStart, 0x80, 0x80, 0x80, 0x80, 0x80, 0)), 10, errLEBTooLong, "start function index"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode(tc.in)
			if err == nil {
				t.Fatalf("Decode(% x) = %+v; want an error", tc.in, m)
			}
			if m != nil {
				t.Errorf("Decode returned a module with its error")
			}
			if tc.offset >= 0 {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("error %q (%T) is not a *FormatError", err, err)
				}
				if fe.Offset != tc.offset {
					t.Errorf("error %q at offset %d; want %d", err, fe.Offset, tc.offset)
				}
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

// TestDecodeAllocation checks that lengths near 2^32 in a small input do
// not make Decode allocate for them: every vector of the format, claimed
// huge in a module of a few bytes, must cost less than 64 KiB.
func TestDecodeAllocation(t *testing.T) {
	huge := []byte{0xff, 0xff, 0xff, 0xff, 0x0f}
	body := func(b ...byte) []byte { return sec(SectionCode, cat(1, appendU32(nil, uint32(len(b))), b)...) }
	tests := map[string][]byte{
		"types":         mod(sec(SectionType, huge...)),
		"params":        mod(sec(SectionType, cat(1, 0x60, huge)...)),
		"imports":       mod(sec(SectionImport, huge...)),
		"import name":   mod(sec(SectionImport, cat(1, huge)...)),
		"functions":     mod(sec(SectionFunction, huge...)),
		"tables":        mod(sec(SectionTable, huge...)),
		"memories":      mod(sec(SectionMemory, huge...)),
		"globals":       mod(sec(SectionGlobal, huge...)),
		"exports":       mod(sec(SectionExport, huge...)),
		"elements":      mod(sec(SectionElement, huge...)),
		"element init":  mod(sec(SectionElement, cat(1, 1, 0, huge)...)),
		"element exprs": mod(sec(SectionElement, cat(1, 5, 0x70, huge)...)),
		"bodies":        mod(typeSec, funcSec, sec(SectionCode, huge...)),
		"body size":     mod(typeSec, funcSec, sec(SectionCode, cat(1, huge)...)),
		"locals":        mod(typeSec, funcSec, body(huge...)),
		"br_table":      mod(typeSec, funcSec, body(cat(0, 0x0e, huge)...)),
		"select types":  mod(typeSec, funcSec, body(cat(0, 0x1c, huge)...)),
		"data":          mod(sec(SectionData, huge...)),
		"data bytes":    mod(sec(SectionData, cat(1, 1, huge)...)),
		"custom name":   mod(sec(SectionCustom, huge...)),
	}
	for name, in := range tests {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Decode(in)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("%s: decoded", name)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
			t.Errorf("%s: Decode of %d bytes allocated %d bytes", name, len(in), n)
		}
	}
}

// TestDecodeProportional checks that Decode's memory stays in proportion
// with its input for the records that decode into the largest structures
// for their size: a module of n bytes costs less than 40n bytes.
func TestDecodeProportional(t *testing.T) {
	const n = 100000
	repeat := func(count int, rec []byte) []byte {
		return cat(appendU32(nil, uint32(count)), bytes.Repeat(rec, count))
	}
	shapes := map[string][]byte{
		"types":             mod(sec(SectionType, repeat(n/3, []byte{0x60, 0, 0})...)),
		"imports":           mod(typeSec, sec(SectionImport, repeat(n/4, []byte{0, 0, 0, 0})...)),
		"functions":         mod(typeSec, sec(SectionFunction, repeat(n, []byte{0})...), sec(SectionCode, repeat(n, []byte{2, 0, 0x0b})...)),
		"globals":           mod(sec(SectionGlobal, repeat(n/5, []byte{0x7f, 0, 0x41, 0, 0x0b})...)),
		"exports":           mod(sec(SectionExport, repeat(n/3, []byte{0, 0, 0})...)),
		"element segments":  mod(sec(SectionElement, repeat(n/3, []byte{1, 0, 0})...)),
		"element functions": mod(sec(SectionElement, cat(1, 1, 0, repeat(n, []byte{0}))...)),
		"element exprs":     mod(sec(SectionElement, cat(1, 5, 0x70, repeat(n/3, []byte{0xd0, 0x70, 0x0b}))...)),
		"data segments":     mod(sec(SectionData, repeat(n/2, []byte{1, 0})...)),
		"custom sections":   bytes.Repeat(custom(""), n/3),
		"locals": func() []byte {
			entry := cat(repeat(n/2, []byte{1, 0x7f}), 0x0b)
			return mod(typeSec, funcSec, sec(SectionCode, cat(1, appendU32(nil, uint32(len(entry))), entry)...))
		}(),
	}
	for name, in := range shapes {
		if name == "custom sections" {
			in = mod(in)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Decode(in)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if a := after.TotalAlloc - before.TotalAlloc; a > 40*uint64(len(in)) {
			t.Errorf("%s: decoding %d bytes allocated %d (%.0f per byte)", name, len(in), a, float64(a)/float64(len(in)))
		} else {
			t.Logf("%s: %.1f bytes allocated per byte", name, float64(a)/float64(len(in)))
		}
	}
}
