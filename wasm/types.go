package wasm

import (
	"fmt"
	"strings"
)

// ValType is a value type. Its value is the type's encoding in the binary
// format.
type ValType byte

// The value types of WebAssembly 2.0, and Unknown, which stands for any
// type where the validation algorithm's operand stack is polymorphic
// (after unreachable, br, return...).
const (
	Unknown   ValType = 0
	I32       ValType = 0x7f
	I64       ValType = 0x7e
	F32       ValType = 0x7d
	F64       ValType = 0x7c
	V128      ValType = 0x7b
	FuncRef   ValType = 0x70
	ExternRef ValType = 0x6f
)

func (t ValType) String() string {
	switch t {
	case Unknown:
		return "unknown"
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	case V128:
		return "v128"
	case FuncRef:
		return "funcref"
	case ExternRef:
		return "externref"
	}
	return fmt.Sprintf("type 0x%02x", byte(t))
}

// IsRef reports whether t is a reference type.
func (t ValType) IsRef() bool { return t == FuncRef || t == ExternRef }

// IsNum reports whether t is a number type.
func (t ValType) IsNum() bool { return t == I32 || t == I64 || t == F32 || t == F64 }

func isValType(b byte) bool {
	switch ValType(b) {
	case I32, I64, F32, F64, V128, FuncRef, ExternRef:
		return true
	}
	return false
}

// FuncType is the type of a function.
type FuncType struct {
	Params, Results []ValType
}

func (ft FuncType) String() string {
	return fmt.Sprintf("[%s] -> [%s]", typeList(ft.Params), typeList(ft.Results))
}

func typeList(ts []ValType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.String()
	}
	return strings.Join(s, " ")
}

// Equal reports whether ft and u are the same function type.
func (ft FuncType) Equal(u FuncType) bool {
	return typesEqual(ft.Params, u.Params) && typesEqual(ft.Results, u.Results)
}

func typesEqual(a, b []ValType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TableType is the type of a table: its element type, a reference type,
// and its size limits in elements.
type TableType struct {
	Elem   ValType
	Limits Limits
}

// GlobalType is the type of a global variable.
type GlobalType struct {
	Type    ValType
	Mutable bool
}

// Module is a decoded module. Decode fills it from a binary and Encode
// writes it back; between the two a program may change anything.
//
// Indices are those of the binary format: imported functions, tables,
// memories and globals come first in their index spaces, before the ones
// the module defines (Funcs, Tables, Memories, Globals).
type Module struct {
	Types    []FuncType
	Imports  []Import
	Funcs    []uint32 // the type index of each function the module defines
	Tables   []TableType
	Memories []Limits
	Globals  []Global
	Exports  []Export

	Start    uint32 // the start function, if HasStart
	HasStart bool

	Elements []Element

	// DataCount is the content of the data count section, which must be
	// present if code uses memory.init or data.drop.
	DataCount    uint32
	HasDataCount bool

	Code    []Code // the body of each function of Funcs, in order
	Data    []Data
	Customs []Custom

	// orig holds the original encoding of each non-custom section, by
	// id, so that Encode reproduces unchanged sections byte for byte.
	orig [SectionDataCount + 1]origin
}

// Global is a global variable the module defines.
type Global struct {
	Type GlobalType
	Init []byte // a constant expression, with its final end
}

// Export is one entry of the export section.
type Export struct {
	Name  string
	Kind  ExternKind
	Index uint32
}

// SegmentMode says when an element or data segment is used.
type SegmentMode byte

const (
	// Active segments are copied into a table or memory at instantiation.
	Active SegmentMode = iota
	// Passive segments are copied by table.init or memory.init.
	Passive
	// Declarative element segments only declare function references
	// for ref.func.
	Declarative
)

func (m SegmentMode) String() string {
	switch m {
	case Active:
		return "active"
	case Passive:
		return "passive"
	case Declarative:
		return "declarative"
	}
	return fmt.Sprintf("segment mode %d", byte(m))
}

// Element is an element segment. Its initial values are given either as
// function indices (Funcs) or as constant expressions (Exprs): the binary
// format has both forms.
type Element struct {
	Mode   SegmentMode
	Table  uint32 // for Active segments
	Offset []byte // for Active segments: a constant expression
	Type   ValType
	Funcs  []uint32
	Exprs  [][]byte
	// Flags is the segment's encoding in the binary, 0 to 7. Encode keeps
	// it where it can express the segment and otherwise picks the
	// shortest that can. Segments listing neither Funcs nor Exprs use the
	// expression form if Flags has bit 2 (4) set.
	Flags uint32
}

// Data is a data segment.
type Data struct {
	Mode   SegmentMode // Active or Passive
	Memory uint32      // for Active segments
	Offset []byte      // for Active segments: a constant expression
	Init   []byte
	// Flags is the segment's encoding in the binary, 0 to 2; Encode keeps
	// it where it can express the segment.
	Flags uint32
}

// LocalDecl declares Count locals of type Type.
type LocalDecl struct {
	Count uint32
	Type  ValType
}

// Code is the body of a function: its local declarations and its
// instructions.
type Code struct {
	Locals []LocalDecl
	// Body is the encoded instructions, ending with the end of the
	// function. Decode keeps the bytes of the binary as they are; use
	// Instructions to read them and EncodeBody to write new ones.
	Body []byte
	// Offset is where Body starts in the decoded binary, for error
	// positions; it is 0 for code that was not decoded.
	Offset int
}

// NumLocals returns the number of locals that c declares, beyond the
// function's parameters.
func (c *Code) NumLocals() uint64 {
	var n uint64
	for _, l := range c.Locals {
		n += uint64(l.Count)
	}
	return n
}

// Custom is a custom section.
type Custom struct {
	Name string
	Data []byte
	// After is the id of the non-custom section that this section
	// follows in the binary, or SectionCustom if it comes before all of
	// them. Encode writes it at the same place, after any section that
	// Module gained there.
	After SectionID

	orig origin
}

// NumImports returns how many imports of kind k the module has: the
// index of the first entity of that kind that the module defines.
func (m *Module) NumImports(k ExternKind) int {
	n := 0
	for i := range m.Imports {
		if m.Imports[i].Kind == k {
			n++
		}
	}
	return n
}

// FuncType returns the type of function funcIndex, imported or defined,
// and false if there is no such function or type.
func (m *Module) FuncType(funcIndex uint32) (FuncType, bool) {
	typeIndex, ok := m.funcTypeIndex(funcIndex)
	if !ok || uint64(typeIndex) >= uint64(len(m.Types)) {
		return FuncType{}, false
	}
	return m.Types[typeIndex], true
}

func (m *Module) funcTypeIndex(funcIndex uint32) (uint32, bool) {
	i := uint64(funcIndex)
	for _, imp := range m.Imports {
		if imp.Kind != ExternFunc {
			continue
		}
		if i == 0 {
			return imp.Type, true
		}
		i--
	}
	if i < uint64(len(m.Funcs)) {
		return m.Funcs[i], true
	}
	return 0, false
}
