package wasm

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// paddedModule has padded integers in every section that has any, as a
// linker that reserves five bytes for sizes writes them.
func paddedModule() []byte {
	return mod(
		paddedSec(SectionCustom, 5, cat(padU32(4, 3), "name", 1, 2)...),
		paddedSec(SectionType, 5, cat(padU32(1, 2), 0x60, padU32(1, 3), 0x7f, 0)...),
		paddedSec(SectionImport, 5, cat(1, padU32(3, 2), "env", 1, "f", 0, padU32(0, 4))...),
		paddedSec(SectionFunction, 5, cat(1, padU32(0, 5))...),
		paddedSec(SectionMemory, 5, cat(1, 1, padU32(1, 2), padU32(2, 3))...),
		paddedSec(SectionExport, 5, cat(1, name("f"), 0, padU32(1, 5))...),
		paddedSec(SectionCode, 5, cat(1, padU32(6, 5), 1, padU32(1, 3), 0x7f,
			0x0b)...), // body: one i32 local, end
		paddedSec(SectionData, 5, cat(1, 0, 0x41, 0x80, 0x00, 0x0b, padU32(1, 4), "x")...),
	)
}

func TestEncodeUnchanged(t *testing.T) {
	in := paddedModule()
	m, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(m); err != nil {
		t.Fatal(err)
	}
	if out := Encode(m); !bytes.Equal(out, in) {
		t.Fatalf("Encode =\n% x\nwant\n% x", out, in)
	}
}

// TestEncodeChanged changes one section at a time: only that section is
// written anew, in shortest form, and the others keep their bytes.
func TestEncodeChanged(t *testing.T) {
	tests := []struct {
		name   string
		id     SectionID
		change func(m *Module)
	}{
		{"export added", SectionExport, func(m *Module) { m.Exports = append(m.Exports, Export{"g", ExternFunc, 0}) }},
		{"type changed", SectionType, func(m *Module) { m.Types[0].Results = []ValType{I64} }},
		{"body replaced", SectionCode, func(m *Module) {
			m.Code[0].Body = EncodeBody([]Instr{{Op: OpNop}, {Op: OpEnd}})
		}},
		{"locals changed", SectionCode, func(m *Module) { m.Code[0].Locals[0].Count = 2 }},
		{"memory limits", SectionMemory, func(m *Module) { m.Memories[0].Max = 3 }},
		{"data bytes", SectionData, func(m *Module) { m.Data[0].Init = []byte("y") }},
		{"import renamed", SectionImport, func(m *Module) { m.Imports[0].Name = "g" }},
		{"custom data", SectionCustom, func(m *Module) { m.Customs[0].Data = []byte{3} }},
	}
	in := paddedModule()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode(in)
			if err != nil {
				t.Fatal(err)
			}
			tc.change(m)
			out := Encode(m)
			m2, err := Decode(out)
			if err != nil {
				t.Fatalf("Decode(Encode): %v", err)
			}
			if !reflect.DeepEqual(comparable(m2), comparable(m)) {
				t.Errorf("Decode(Encode(m)) = %+v; want %+v", m2, m)
			}
			if got, want := sectionsExcept(t, out, tc.id), sectionsExcept(t, in, tc.id); !reflect.DeepEqual(got, want) {
				t.Errorf("sections other than %v changed:\n% x\nwant\n% x", tc.id, got, want)
			}
			for _, s := range mustSections(t, out) {
				if s.ID == tc.id && s.Offset-s.Start != 2 {
					t.Errorf("changed %v section has a padded size", tc.id)
				}
			}
		})
	}
}

func mustSections(t *testing.T, m []byte) []Section {
	t.Helper()
	s, err := ReadSections(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestEncodeNew builds a module from scratch, as a transform adds code,
// and checks it with this package and, where installed, with wabt.
func TestEncodeNew(t *testing.T) {
	body := EncodeBody([]Instr{
		{Op: OpLocalGet, X: 0},
		BlockInstr(OpIf, BlockOf(I32)),
		{Op: OpI32Const, Imm: 1},
		{Op: OpElse},
		{Op: OpGlobalGet, X: 0},
		{Op: OpEnd},
		{Op: OpCall, X: 0},
		{Op: OpEnd},
	})
	m := &Module{
		Types:    []FuncType{{Params: []ValType{I32}}, {Params: []ValType{I32}}},
		Imports:  []Import{{Module: "env", Name: "log", Kind: ExternFunc, Type: 0}},
		Funcs:    []uint32{1},
		Tables:   []TableType{{FuncRef, Limits{Min: 1}}},
		Memories: []Limits{{Min: 1, Max: 2, HasMax: true}},
		Globals:  []Global{{Type: GlobalType{I32, true}, Init: i32Expr(7)}},
		Exports:  []Export{{"run", ExternFunc, 1}, {"memory", ExternMemory, 0}},
		Elements: []Element{
			{Mode: Active, Offset: i32Expr(0), Type: FuncRef, Funcs: []uint32{1}},
			{Mode: Declarative, Type: FuncRef, Exprs: [][]byte{EncodeBody([]Instr{{Op: OpRefFunc, X: 0}, {Op: OpEnd}})}},
		},
		DataCount: 1, HasDataCount: true,
		Code:    []Code{{Locals: []LocalDecl{{1, I64}}, Body: body}},
		Data:    []Data{{Mode: Active, Offset: i32Expr(16), Init: []byte("state")}},
		Customs: []Custom{{Name: "gate.snapshot", Data: []byte{1}, After: SectionData}},
	}
	if err := Validate(m); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	out := Encode(m)
	m2, err := Decode(out)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if err := Validate(m2); err != nil {
		t.Fatalf("Validate(Decode(Encode)): %v", err)
	}
	if !reflect.DeepEqual(comparable(m2), comparable(m)) {
		t.Errorf("Decode(Encode(m)) = %+v; want %+v", m2, m)
	}
	wasmValidate(t, out)
}

// wasmValidate runs wabt's wasm-validate on a module, if it is installed.
func wasmValidate(t *testing.T, module []byte) {
	t.Helper()
	tool, err := exec.LookPath("wasm-validate")
	if err != nil {
		t.Log("wasm-validate not on PATH; install wabt to cross-check")
		return
	}
	path := filepath.Join(t.TempDir(), "m.wasm")
	if err := os.WriteFile(path, module, 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(tool, path).CombinedOutput(); err != nil {
		t.Errorf("wasm-validate: %v\n%s", err, msg)
	}
}

// TestEncodeSegmentFlags checks the encoding Encode picks for segments:
// the decoded one where it fits, else the shortest that does.
func TestEncodeSegmentFlags(t *testing.T) {
	off := i32Expr(0)
	tests := []struct {
		e    Element
		want uint32
	}{
		{Element{Mode: Active, Offset: off, Type: FuncRef, Funcs: []uint32{0}}, 0},
		{Element{Mode: Active, Offset: off, Type: FuncRef, Funcs: []uint32{0}, Flags: 2}, 2},
		{Element{Mode: Active, Table: 1, Offset: off, Type: FuncRef, Funcs: []uint32{0}}, 2},
		{Element{Mode: Active, Offset: off, Type: ExternRef, Exprs: [][]byte{{0xd0, 0x6f, 0x0b}}}, 6},
		{Element{Mode: Active, Offset: off, Type: FuncRef, Exprs: [][]byte{{0xd0, 0x70, 0x0b}}, Flags: 0}, 4},
		{Element{Mode: Active, Offset: off, Type: FuncRef, Flags: 4}, 4},
		{Element{Mode: Active, Offset: off, Type: FuncRef, Flags: 0}, 0},
		{Element{Mode: Passive, Type: FuncRef, Funcs: []uint32{0}, Flags: 0}, 1},
		{Element{Mode: Passive, Type: FuncRef, Exprs: [][]byte{{0xd2, 0, 0x0b}}, Flags: 1}, 5},
		{Element{Mode: Declarative, Type: FuncRef, Funcs: []uint32{0}}, 3},
		{Element{Mode: Declarative, Type: FuncRef, Funcs: []uint32{0}, Flags: 7}, 3},
	}
	for i, tc := range tests {
		if got := elementFlags(&tc.e); got != tc.want {
			t.Errorf("%d: elementFlags(%+v) = %d; want %d", i, tc.e, got, tc.want)
		}
	}
	datas := []struct {
		d    Data
		want byte
	}{
		{Data{Mode: Active, Offset: off}, 0},
		{Data{Mode: Active, Offset: off, Flags: 2}, 2},
		{Data{Mode: Active, Memory: 1, Offset: off}, 2},
		{Data{Mode: Passive, Flags: 2}, 1},
	}
	for i, tc := range datas {
		if got := appendData(nil, &tc.d)[0]; got != tc.want {
			t.Errorf("%d: data segment %+v written with flags %d; want %d", i, tc.d, got, tc.want)
		}
	}
}

// TestEncodeCustomPlacement checks where Encode puts custom sections,
// including after sections that are not written.
func TestEncodeCustomPlacement(t *testing.T) {
	m := &Module{
		Types: []FuncType{{}},
		Funcs: []uint32{0},
		Code:  []Code{{Body: []byte{0x0b}}},
		Customs: []Custom{
			{Name: "z", After: SectionData},
			{Name: "a", After: SectionCustom},
			{Name: "m", After: SectionMemory},
			{Name: "c", After: SectionCode},
			{Name: "x", After: SectionDataCount},
			{Name: "end", After: 99},
		},
	}
	sections := mustSections(t, Encode(m))
	var got []string
	for _, s := range sections {
		if s.ID == SectionCustom {
			got = append(got, string(s.Payload[1:]))
		} else {
			got = append(got, s.ID.String())
		}
	}
	want := []string{"a", "type", "function", "m", "x", "code", "c", "z", "end"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sections %q; want %q", got, want)
	}
}

// TestEncodeRemovesOptionalSections clears HasStart and HasDataCount of a
// decoded module: Encode must leave those sections out.
func TestEncodeRemovesOptionalSections(t *testing.T) {
	bin := wat2wasm(t, `(module (memory 1) (func $f) (start $f) (data "x") (func (data.drop 0)))`)
	m, err := Decode(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !m.HasStart || !m.HasDataCount {
		t.Fatalf("the test module has start %v, data count %v", m.HasStart, m.HasDataCount)
	}
	m.HasStart = false
	out, err := Decode(Encode(m))
	if err != nil {
		t.Fatal(err)
	}
	if out.HasStart || !out.HasDataCount {
		t.Errorf("after clearing HasStart: start %v, data count %v", out.HasStart, out.HasDataCount)
	}
	m.HasDataCount = false
	m.Code = m.Code[:1] // without data.drop, which needs the count
	m.Funcs = m.Funcs[:1]
	if out, err = Decode(Encode(m)); err != nil || out.HasDataCount {
		t.Errorf("after clearing HasDataCount: %v, data count %v", err, out != nil && out.HasDataCount)
	}
}
