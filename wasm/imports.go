package wasm

import (
	"fmt"
	"unicode/utf8"
)

// ExternKind is the kind of an import or export.
type ExternKind byte

// The extern kinds of WebAssembly 2.0.
const (
	ExternFunc   ExternKind = 0
	ExternTable  ExternKind = 1
	ExternMemory ExternKind = 2
	ExternGlobal ExternKind = 3
)

func (k ExternKind) String() string {
	switch k {
	case ExternFunc:
		return "function"
	case ExternTable:
		return "table"
	case ExternMemory:
		return "memory"
	case ExternGlobal:
		return "global"
	}
	return fmt.Sprintf("extern kind %d", byte(k))
}

// Import is one entry of a module's import section.
type Import struct {
	Module, Name string
	Kind         ExternKind
}

// Imports lists what module imports, in order.
func Imports(module []byte) ([]Import, error) {
	sections, err := ReadSections(module)
	if err != nil {
		return nil, err
	}
	for _, s := range sections {
		if s.ID == SectionImport {
			return readImports(s)
		}
	}
	return nil, nil
}

func readImports(s Section) ([]Import, error) {
	r := reader{b: s.Payload, base: s.Offset}
	count := r.u32("import count")
	var imports []Import
	for i := uint32(0); i < count && r.err == nil; i++ {
		imp := Import{Module: r.name("import module name"), Name: r.name("import name")}
		kindOff := r.off
		imp.Kind = ExternKind(r.byte("import kind"))
		switch imp.Kind {
		case ExternFunc:
			r.u32("function type index")
		case ExternTable:
			r.refType("table element type")
			r.limits()
		case ExternMemory:
			limitsOff := r.off
			if err := checkMemoryLimits(r.limits()); err != nil {
				r.failAt(limitsOff, err)
			}
		case ExternGlobal:
			r.valType("global type")
			if mut := r.byte("global mutability"); mut > 1 {
				r.failAt(r.off-1, fmt.Errorf("global mutability 0x%02x is malformed", mut))
			}
		default:
			r.failAt(kindOff, fmt.Errorf("import %d has unknown kind 0x%02x", i, byte(imp.Kind)))
		}
		imports = append(imports, imp)
	}
	if r.err == nil && r.off != len(r.b) {
		r.fail(fmt.Errorf("import section has %d bytes left over", len(r.b)-r.off))
	}
	if r.err != nil {
		return nil, r.err
	}
	return imports, nil
}

// reader decodes the contents of one section. The first error sticks:
// every later read returns zero values, so that decoding code can read a
// whole record and check once.
type reader struct {
	b    []byte
	off  int
	base int // offset of b in the module, for error positions
	err  error
}

func (r *reader) fail(err error) { r.failAt(r.off, err) }

// failAt records err at offset off of b, for an error found only after
// reading past the bytes it concerns.
func (r *reader) failAt(off int, err error) {
	if r.err == nil {
		r.err = &FormatError{Offset: r.base + off, Err: err}
	}
}

func (r *reader) byte(what string) byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail(fmt.Errorf("%s: %w", what, errTruncated))
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

// The value types of WebAssembly 2.0.
const (
	typeI32       = 0x7f
	typeI64       = 0x7e
	typeF32       = 0x7d
	typeF64       = 0x7c
	typeV128      = 0x7b
	typeFuncref   = 0x70
	typeExternref = 0x6f
)

// refType reads a reference type.
func (r *reader) refType(what string) byte {
	t := r.byte(what)
	if r.err == nil && t != typeFuncref && t != typeExternref {
		r.failAt(r.off-1, fmt.Errorf("%s 0x%02x is not a reference type", what, t))
	}
	return t
}

// valType reads a value type.
func (r *reader) valType(what string) byte {
	t := r.byte(what)
	switch t {
	case typeI32, typeI64, typeF32, typeF64, typeV128, typeFuncref, typeExternref:
	default:
		if r.err == nil {
			r.failAt(r.off-1, fmt.Errorf("%s 0x%02x is not a value type", what, t))
		}
	}
	return t
}

func (r *reader) u32(what string) uint32 {
	if r.err != nil {
		return 0
	}
	v, n, err := readU32(r.b[r.off:])
	if err != nil {
		r.fail(fmt.Errorf("%s: %w", what, err))
		return 0
	}
	r.off += n
	return v
}

func (r *reader) name(what string) string {
	n := r.u32(what)
	if r.err != nil {
		return ""
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		r.fail(fmt.Errorf("%s: %w", what, errTruncated))
		return ""
	}
	s := string(r.b[r.off : r.off+int(n)])
	if !utf8.ValidString(s) {
		r.fail(fmt.Errorf("%s is not valid UTF-8", what))
		return ""
	}
	r.off += int(n)
	return s
}

func (r *reader) limits() Limits {
	if r.err != nil {
		return Limits{}
	}
	l, n, err := readLimits(r.b[r.off:])
	if err != nil {
		r.fail(err)
		return Limits{}
	}
	r.off += n
	return l
}
