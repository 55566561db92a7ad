package wasm

import "fmt"

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

// Import is one entry of a module's import section. Kind says which of
// the other fields describe what is imported.
type Import struct {
	Module, Name string
	Kind         ExternKind
	Type         uint32     // ExternFunc: the function's type index
	Table        TableType  // ExternTable
	Memory       Limits     // ExternMemory
	Global       GlobalType // ExternGlobal
}

// Imports lists what module imports, in order.
func Imports(module []byte) ([]Import, error) {
	sections, err := ReadSections(module)
	if err != nil {
		return nil, err
	}
	for _, s := range sections {
		if s.ID == SectionImport {
			r := reader{b: s.Payload, base: s.Offset}
			imports := readImports(&r, true)
			r.end(SectionImport)
			if r.err != nil {
				return nil, r.err
			}
			return imports, nil
		}
	}
	return nil, nil
}

// readImports decodes the import section. Strict, it also refuses limits
// that are well-formed but invalid (maximum below minimum, memories over
// 4 GiB), which Decode leaves to Validate as the specification does.
func readImports(r *reader, strict bool) []Import {
	count, c := r.vec("import count", 4)
	var imports []Import
	if c > 0 {
		imports = make([]Import, 0, c)
	}
	for i := uint32(0); i < count && r.err == nil; i++ {
		imp := Import{Module: r.name("import module name"), Name: r.name("import name")}
		kindOff := r.off
		imp.Kind = ExternKind(r.byte("import kind"))
		switch imp.Kind {
		case ExternFunc:
			imp.Type = r.u32("function type index")
		case ExternTable:
			imp.Table.Elem = r.refType("table element type")
			imp.Table.Limits = r.limits(strict)
		case ExternMemory:
			limitsOff := r.off
			imp.Memory = r.limits(strict)
			if err := checkMemoryLimits(imp.Memory); strict && err != nil {
				r.failAt(limitsOff, err)
			}
		case ExternGlobal:
			imp.Global = r.globalType()
		default:
			r.failAt(kindOff, fmt.Errorf("import %d has unknown kind 0x%02x", i, byte(imp.Kind)))
		}
		imports = append(imports, imp)
	}
	return imports
}
