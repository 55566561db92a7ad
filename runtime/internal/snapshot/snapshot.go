// Package snapshot writes and reads Gate's snapshot format: a suspended
// program as a valid WebAssembly module (docs/SNAPSHOT.md). The module is
// the program after the suspendable transform, with its memory as data
// segments (pages of zeros left out), its globals' current values as their
// initializers, the transform's state global set to "rewinding", and
// custom sections that hold the unwound frames and the ABI's state.
//
// It knows nothing of engines or of how the values were obtained. It must
// not trust a snapshot: Parse checks the format version, every custom
// section and the module's structure before anything of it is used, and
// says what is wrong.
package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gate-wasm/gate/wasm"
)

// Version is the snapshot format version this package writes and reads.
const Version = 1

// Custom section names.
const (
	sectionHeader = "gate.snapshot"
	sectionFrames = "gate.frames"
	sectionABI    = "gate.wasi"
)

// StateGlobal is the export name of the transform's state global
// (docs/SUSPEND.md), and StateRewinding its value while rewinding.
const (
	StateGlobal    = "gate_suspend.state"
	StateRewinding = 2
)

// State is what a snapshot holds besides the program's code.
type State struct {
	// Memory is the content of linear memory; its length is a whole
	// number of pages.
	Memory []byte
	// Globals are the current values of the module's mutable globals,
	// by global index (imports included): the bits of a number, the low
	// and high halves of a v128.
	Globals map[uint32][2]uint64
	// Frames and ABI are the encodings of the unwound call stack and of
	// the ABI's state, from their own packages, which check them when
	// they are parsed.
	Frames []byte
	ABI    []byte
}

// Header is what a snapshot says of itself.
type Header struct {
	Version uint32
	// ModuleHash is the SHA-256 of the program as it was first given to
	// Gate, before any transform.
	ModuleHash [sha256.Size]byte
	// MemoryPages is the size of linear memory at suspension.
	MemoryPages uint32
	// Checksum is the SHA-256 of the snapshot up to the header, which is
	// its last section: any change to a snapshot is detected.
	Checksum [sha256.Size]byte
}

// Build returns the snapshot of a suspended instance of transformed (the
// program after the suspendable transform; it is not modified), whose
// original binary hashed to moduleHash.
func Build(transformed *wasm.Module, moduleHash [sha256.Size]byte, st State) ([]byte, error) {
	if len(st.Memory)%wasm.PageSize != 0 {
		return nil, fmt.Errorf("memory of %d bytes is not a whole number of pages", len(st.Memory))
	}
	m := *transformed
	// The start function ran when the program was first instantiated;
	// resuming must not run it again.
	m.HasStart, m.Start = false, 0
	pages := uint32(len(st.Memory) / wasm.PageSize)
	if err := setMemory(&m, pages, st.Memory); err != nil {
		return nil, err
	}
	if err := setGlobals(&m, st.Globals); err != nil {
		return nil, err
	}
	m.Customs = append(withoutOurs(m.Customs),
		wasm.Custom{Name: sectionFrames, Data: st.Frames, After: wasm.SectionData},
		wasm.Custom{Name: sectionABI, Data: st.ABI, After: wasm.SectionData},
	)
	for _, c := range m.Customs {
		if c.After > wasm.SectionData {
			// Encode writes these last: they would follow the header.
			return nil, fmt.Errorf("custom section %q after the data count section", c.Name)
		}
	}
	body := wasm.Encode(&m)
	h := Header{Version: Version, ModuleHash: moduleHash, MemoryPages: pages, Checksum: sha256.Sum256(body)}
	return append(body, headerSection(h.appendBinary(nil))...), nil
}

// headerSection encodes the header's custom section.
func headerSection(data []byte) []byte {
	payload := binary.AppendUvarint(nil, uint64(len(sectionHeader)))
	payload = append(append(payload, sectionHeader...), data...)
	section := binary.AppendUvarint([]byte{byte(wasm.SectionCustom)}, uint64(len(payload)))
	return append(section, payload...)
}

// setMemory makes memory 0 start with the given content: its minimum
// becomes pages, the module's active data segments become empty passive
// ones (after instantiation an active segment is dropped, which an empty
// passive one behaves like, and data indices stay the same), and each run
// of non-zero pages becomes an active segment.
func setMemory(m *wasm.Module, pages uint32, memory []byte) error {
	if m.NumImports(wasm.ExternMemory) > 0 || len(m.Memories) != 1 {
		if len(memory) == 0 && len(m.Memories) == 0 {
			return nil
		}
		return errors.New("the program must define exactly one memory")
	}
	mems := append([]wasm.Limits(nil), m.Memories...)
	mems[0].Min = pages
	if mems[0].HasMax && mems[0].Max < pages {
		return fmt.Errorf("memory of %d pages exceeds the module's maximum of %d", pages, mems[0].Max)
	}
	m.Memories = mems
	data := make([]wasm.Data, 0, len(m.Data))
	for _, d := range m.Data {
		if d.Mode == wasm.Active {
			d = wasm.Data{Mode: wasm.Passive, Flags: 1}
		}
		data = append(data, d)
	}
	for start := 0; start < len(memory); {
		start = nextNonZeroPage(memory, start)
		if start == len(memory) {
			break
		}
		end := start + wasm.PageSize
		for end < len(memory) && !zeroPage(memory[end:end+wasm.PageSize]) {
			end += wasm.PageSize
		}
		data = append(data, wasm.Data{
			Mode:   wasm.Active,
			Offset: constExpr(wasm.I32, [2]uint64{uint64(start)}),
			Init:   memory[start:end],
		})
		start = end
	}
	m.Data = data
	if m.HasDataCount {
		m.DataCount = uint32(len(data))
	}
	return nil
}

func nextNonZeroPage(memory []byte, from int) int {
	for from < len(memory) && zeroPage(memory[from:from+wasm.PageSize]) {
		from += wasm.PageSize
	}
	return from
}

func zeroPage(page []byte) bool {
	for _, b := range page {
		if b != 0 {
			return false
		}
	}
	return true
}

// setGlobals makes each mutable global the module defines start with its
// value in values, which must hold all of them and no other, and sets the
// transform's state global to rewinding.
func setGlobals(m *wasm.Module, values map[uint32][2]uint64) error {
	state, ok := exportedGlobal(m, StateGlobal)
	if !ok {
		return fmt.Errorf("the module exports no global %s: it has not been through the suspendable transform", StateGlobal)
	}
	imported := uint32(m.NumImports(wasm.ExternGlobal))
	globals := append([]wasm.Global(nil), m.Globals...)
	seen := 0
	for i := range globals {
		index := imported + uint32(i)
		if !globals[i].Type.Mutable {
			continue
		}
		v, ok := values[index]
		if !ok {
			return fmt.Errorf("no value for mutable global %d", index)
		}
		seen++
		if index == state {
			v = [2]uint64{StateRewinding}
		}
		if !globals[i].Type.Type.IsNum() && globals[i].Type.Type != wasm.V128 {
			return fmt.Errorf("mutable global %d holds a reference (%v), which a snapshot cannot carry", index, globals[i].Type.Type)
		}
		globals[i].Init = constExpr(globals[i].Type.Type, v)
	}
	if seen != len(values) {
		return fmt.Errorf("values for %d globals, the module defines %d mutable ones", len(values), seen)
	}
	m.Globals = globals
	return nil
}

func exportedGlobal(m *wasm.Module, name string) (uint32, bool) {
	for _, e := range m.Exports {
		if e.Name == name && e.Kind == wasm.ExternGlobal {
			return e.Index, true
		}
	}
	return 0, false
}

// constExpr encodes "T.const v; end".
func constExpr(t wasm.ValType, v [2]uint64) []byte {
	in := wasm.Instr{Imm: v[0]}
	switch t {
	case wasm.I32:
		in.Op, in.Imm = wasm.OpI32Const, uint64(uint32(v[0]))
	case wasm.I64:
		in.Op = wasm.OpI64Const
	case wasm.F32:
		in.Op, in.Imm = wasm.OpF32Const, uint64(uint32(v[0]))
	case wasm.F64:
		in.Op = wasm.OpF64Const
	case wasm.V128:
		in.Op, in.Imm2 = wasm.OpV128Const, v[1]
	}
	b := wasm.AppendInstr(nil, &in)
	return wasm.AppendInstr(b, &wasm.Instr{Op: wasm.OpEnd})
}

func withoutOurs(customs []wasm.Custom) []wasm.Custom {
	var out []wasm.Custom
	for _, c := range customs {
		if c.Name != sectionHeader && c.Name != sectionFrames && c.Name != sectionABI {
			out = append(out, c)
		}
	}
	return out
}

func (h *Header) appendBinary(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(h.Version))
	b = append(b, h.ModuleHash[:]...)
	b = binary.AppendUvarint(b, uint64(h.MemoryPages))
	return append(b, h.Checksum[:]...)
}

// Snapshot is a parsed snapshot.
type Snapshot struct {
	Header
	// Module is the snapshot as a module to instantiate: it resumes the
	// program when its _start is called.
	Module []byte
	Frames []byte
	ABI    []byte
}

// Parse reads a snapshot. It checks that it is a module of this format's
// version, with each of Gate's sections exactly once and a memory as
// large as the header says; the frames and ABI state are left to their
// packages' parsers, and the module to the runtime's compiler.
func Parse(binary []byte) (*Snapshot, error) {
	m, err := wasm.Decode(binary)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	s := &Snapshot{Module: binary}
	found := map[string]int{}
	for _, c := range m.Customs {
		switch c.Name {
		case sectionHeader:
			s.Header, err = parseHeader(c.Data)
		case sectionFrames:
			s.Frames = c.Data
		case sectionABI:
			s.ABI = c.Data
		default:
			continue
		}
		found[c.Name]++
		if err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
	}
	for _, name := range []string{sectionHeader, sectionFrames, sectionABI} {
		if found[name] != 1 {
			return nil, fmt.Errorf("snapshot: %d custom sections %q, want 1 (is this a snapshot?)", found[name], name)
		}
	}
	if err := s.verify(binary); err != nil {
		return nil, err
	}
	if len(m.Memories) != 1 || m.Memories[0].Min != s.MemoryPages {
		return nil, fmt.Errorf("snapshot: header says %d pages of memory, the module does not declare them", s.MemoryPages)
	}
	if _, ok := exportedGlobal(m, StateGlobal); !ok {
		return nil, fmt.Errorf("snapshot: the module exports no global %s", StateGlobal)
	}
	return s, nil
}

// verify checks that the header is the last section and that the
// checksum it holds is that of everything before it.
func (s *Snapshot) verify(binary []byte) error {
	header := headerSection(s.Header.appendBinary(nil))
	if !bytes.HasSuffix(binary, header) {
		return errors.New("snapshot: the header is not the last section")
	}
	if sha256.Sum256(binary[:len(binary)-len(header)]) != s.Checksum {
		return errors.New("snapshot: checksum mismatch: the file has been changed or damaged")
	}
	return nil
}

func parseHeader(data []byte) (Header, error) {
	var h Header
	v, n := binary.Uvarint(data)
	if n <= 0 {
		return h, errors.New("snapshot header: bad version")
	}
	if v != Version {
		return h, fmt.Errorf("snapshot format version %d, this Gate reads version %d", v, Version)
	}
	h.Version = uint32(v)
	data = data[n:]
	if len(data) < sha256.Size {
		return h, errors.New("snapshot header: truncated module hash")
	}
	copy(h.ModuleHash[:], data)
	data = data[sha256.Size:]
	pages, n := binary.Uvarint(data)
	if n <= 0 || pages > wasm.MaxPages {
		return h, errors.New("snapshot header: bad memory size")
	}
	h.MemoryPages = uint32(pages)
	data = data[n:]
	if len(data) != sha256.Size {
		return h, fmt.Errorf("snapshot header: %d bytes of checksum, want %d", len(data), sha256.Size)
	}
	copy(h.Checksum[:], data)
	return h, nil
}
