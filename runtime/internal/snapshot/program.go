package snapshot

import (
	"errors"
	"fmt"

	"github.com/gate-wasm/gate/wasm"
)

// Program is the part of a snapshot that depends only on the program: the
// program after the suspendable transform, in its canonical resume form
// (see NewProgram), encoded once. A Program is not modified after
// NewProgram and may be used by several goroutines at once.
type Program struct {
	module *wasm.Module
	binary []byte
	// sections are those of binary; lastSection is the index of its last
	// non-custom section, after which Write puts a data section if the
	// module has none.
	sections    []wasm.Section
	lastSection int
	// dataIndex is the index of the data section in sections, or -1;
	// segments is the number of data segments the module has, all
	// passive, and segmentBytes their encoding (the data section's
	// payload after its count).
	dataIndex    int
	segments     uint32
	segmentBytes []byte
	// mutable lists the indices of the mutable globals the module
	// defines, but for the transform's scratch globals (those after
	// fuel); state and fuel are the transform's (fuel only if hasFuel).
	mutable     []uint32
	state, fuel uint32
	hasFuel     bool
}

// FuelGlobal is the export name of the transform's fuel global
// (docs/SUSPEND.md), which must be at most 0 while the state is
// rewinding.
const FuelGlobal = "gate_suspend.fuel"

// NewProgram returns the Program of transformed, a module after the
// suspendable transform (a program's, or one derived from a snapshot by
// Snapshot.Program). transformed is not modified.
//
// Its module is the canonical resume module: transformed without its
// start function (it ran when the program was first instantiated), with
// memory 0's minimum set to 0, every active data segment made an empty
// passive one (after instantiation an active segment counts as dropped,
// which an empty passive segment behaves like, and data indices stay the
// same), every mutable global initialized to zero (ref.null for
// references), Gate's custom sections removed and the others placed after
// the nearest section present. Its encoding depends only on the program,
// not on the state of any instance, so that it is compiled once and its
// machine code cached: a resume instantiates it, grows memory to the
// snapshot's size, copies the stored pages in and sets the globals.
func NewProgram(transformed *wasm.Module) (*Program, error) {
	t := transformed
	if t.NumImports(wasm.ExternMemory) > 0 {
		return nil, errors.New("the program imports its memory: a snapshot holds only a memory the program defines")
	}
	if len(t.Memories) > 1 {
		return nil, fmt.Errorf("the program defines %d memories, at most one is allowed", len(t.Memories))
	}
	imported := uint32(t.NumImports(wasm.ExternGlobal))
	p := &Program{dataIndex: -1}
	var ok bool
	if p.state, ok = mutableI32(t, StateGlobal, imported); !ok {
		return nil, fmt.Errorf("the module exports no mutable i32 global %s: it has not been through the suspendable transform", StateGlobal)
	}
	if _, exported := exportedGlobal(t, FuelGlobal); exported {
		if p.fuel, ok = mutableI32(t, FuelGlobal, imported); !ok {
			return nil, fmt.Errorf("the module's export %s is not a mutable i32 global it defines", FuelGlobal)
		}
		p.hasFuel = true
	}
	m := &wasm.Module{
		Types:        t.Types,
		Imports:      t.Imports,
		Funcs:        t.Funcs,
		Tables:       t.Tables,
		Exports:      t.Exports,
		Elements:     t.Elements,
		Code:         t.Code,
		HasDataCount: t.HasDataCount,
	}
	if len(t.Memories) == 1 {
		m.Memories = []wasm.Limits{t.Memories[0]}
		m.Memories[0].Min = 0
	}
	m.Globals = make([]wasm.Global, len(t.Globals))
	for i, g := range t.Globals {
		index := imported + uint32(i)
		if g.Type.Mutable {
			g.Init = zeroExpr(g.Type.Type)
			// The globals after fuel are the transform's scratch,
			// which hold nothing between calls of check: not saved.
			if !p.scratch(index) {
				p.mutable = append(p.mutable, index)
			}
		}
		m.Globals[i] = g
	}
	m.Data = make([]wasm.Data, len(t.Data))
	for i, d := range t.Data {
		if d.Mode == wasm.Active {
			d = wasm.Data{Mode: wasm.Passive}
		}
		d.Flags = 1
		m.Data[i] = d
	}
	m.DataCount = uint32(len(m.Data))
	// A custom section keeps its place whether or not a section before
	// it is written, which a snapshot and its program differ in (start,
	// data).
	for _, c := range t.Customs {
		if !ours(c.Name) {
			m.Customs = append(m.Customs, wasm.Custom{Name: c.Name, Data: c.Data, After: m.NearestSection(c.After)})
		}
	}
	// A fresh Module holds no memory of how it was decoded, so Encode
	// writes every section in its shortest form: the encoding depends on
	// the content only, which is the same whether the module comes from
	// the program or from one of its snapshots.
	p.module = m
	p.binary = wasm.Encode(m)
	sections, err := wasm.ReadSections(p.binary)
	if err != nil { // not expected: Encode wrote it
		return nil, fmt.Errorf("reading the resume module back: %w", err)
	}
	p.sections = sections
	for i, s := range sections {
		if s.ID == wasm.SectionCustom {
			continue
		}
		p.lastSection = i
		if s.ID == wasm.SectionData {
			p.dataIndex = i
			n, k, err := readU32(s.Payload)
			if err != nil { // not expected either
				return nil, fmt.Errorf("reading the resume module back: data count: %w", err)
			}
			p.segments, p.segmentBytes = n, s.Payload[k:]
		}
	}
	return p, nil
}

// Module returns the canonical resume module; it must not be modified.
func (p *Program) Module() *wasm.Module { return p.module }

// Binary returns the encoding of the canonical resume module: the same
// bytes for every snapshot of the program. It must not be modified.
func (p *Program) Binary() []byte { return p.binary }

// MutableGlobals returns the indices (imports included) of the mutable
// globals the module defines, whose values a snapshot holds. It must not
// be modified.
func (p *Program) MutableGlobals() []uint32 { return p.mutable }

// scratch reports whether global index is one of the transform's scratch
// globals, the globals after fuel, which hold a frame's locals only while
// check runs (docs/SUSPEND.md): a snapshot does not hold them.
func (p *Program) scratch(index uint32) bool { return p.hasFuel && index > p.fuel }

// StateIndex and FuelIndex are the indices of the transform's globals;
// FuelIndex's bool is false for a module that exports no fuel global.
func (p *Program) StateIndex() uint32        { return p.state }
func (p *Program) FuelIndex() (uint32, bool) { return p.fuel, p.hasFuel }

// Memory returns the limits of the memory the module defines (its minimum
// is 0) and false if it defines none.
func (p *Program) Memory() (wasm.Limits, bool) {
	if len(p.module.Memories) == 0 {
		return wasm.Limits{}, false
	}
	return p.module.Memories[0], true
}

// mutableI32 returns the index of the global that m exports as name, if
// it is a mutable i32 that m defines.
func mutableI32(m *wasm.Module, name string, imported uint32) (uint32, bool) {
	index, ok := exportedGlobal(m, name)
	if !ok || index < imported || uint64(index-imported) >= uint64(len(m.Globals)) {
		return 0, false
	}
	g := m.Globals[index-imported]
	return index, g.Type.Mutable && g.Type.Type == wasm.I32
}

// zeroExpr is the constant expression of t's zero: T.const 0, or ref.null
// for a reference type.
func zeroExpr(t wasm.ValType) []byte {
	if t.IsRef() {
		return wasm.AppendInstr(wasm.AppendInstr(nil, &wasm.Instr{Op: wasm.OpRefNull, X: uint32(t)}), &wasm.Instr{Op: wasm.OpEnd})
	}
	return constExpr(t, [2]uint64{})
}

func ours(name string) bool {
	return name == sectionHeader || name == sectionFrames || name == sectionABI
}
