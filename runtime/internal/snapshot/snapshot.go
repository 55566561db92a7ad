// Package snapshot writes and reads Gate's snapshot format: a suspended
// program as a valid WebAssembly module (docs/SNAPSHOT.md). The module is
// the program after the suspendable transform, with its memory as data
// segments (pages of zeros left out), its globals' current values as their
// initializers, the transform's state global set to "rewinding", and
// custom sections that hold the unwound frames and the ABI's state.
//
// A Program is the part that depends only on the program: its canonical
// resume module, which a runtime compiles once and instantiates for every
// snapshot of the program, copying the snapshot's memory and globals in,
// instead of compiling each snapshot as a module of its own.
//
// It knows nothing of engines or of how the values were obtained. It must
// not trust a snapshot: Parse checks the format version, every custom
// section and the memory's segments before anything of it is used, and
// says what is wrong.
package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"github.com/gate-wasm/gate/wasm"
)

// Version is the snapshot format version this package writes and reads.
// Version 1 had a SHA-256 checksum; 2 has a CRC-32C, and the fuel global
// starts at 0.
const Version = 2

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
	// Checksum is the CRC-32C (Castagnoli) of the snapshot up to the
	// header, which is its last section: damage is detected (every
	// change of up to 32 consecutive bits, and others with a chance of
	// 1 in 2^32 of going unnoticed), forgery is not.
	Checksum uint32
}

// Build returns the snapshot of a suspended instance of transformed (the
// program after the suspendable transform; it is not modified), whose
// original binary hashed to moduleHash. It is NewProgram and
// Program.Write into memory.
func Build(transformed *wasm.Module, moduleHash [sha256.Size]byte, st State) ([]byte, error) {
	p, err := NewProgram(transformed)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(p.binary) + len(st.Memory) + len(st.Frames) + len(st.ABI) + 4096)
	if _, err := p.Write(&b, moduleHash, st); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
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

func (h *Header) appendBinary(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(h.Version))
	b = append(b, h.ModuleHash[:]...)
	b = binary.AppendUvarint(b, uint64(h.MemoryPages))
	return binary.LittleEndian.AppendUint32(b, h.Checksum)
}

// Snapshot is a parsed snapshot.
type Snapshot struct {
	Header
	// Module is the whole snapshot, a module that resumes the program
	// when instantiated and its _start called (docs/SNAPSHOT.md).
	Module []byte
	Frames []byte
	ABI    []byte
	// Memory is the content of linear memory that the snapshot stores,
	// in runs of whole pages, in order of their offsets, which do not
	// overlap; the rest of memory is zero. The runs' data are
	// sub-slices of Module.
	Memory []Run

	sections []wasm.Section
	// data is the index of the data section in sections, or -1;
	// segments is the number of data segments before the runs (the
	// program's, all passive), whose encoding ends at segmentsEnd in the
	// data section's payload.
	data        int
	segments    uint32
	segmentsEnd int
	// headerStart is where the header section starts: the checksum is
	// that of the bytes before it.
	headerStart int
	// Stored is the number of bytes of memory the runs hold.
	Stored uint64
	// src, for a snapshot read by ParseAt, holds the whole snapshot, its
	// header starting at srcHeaderStart: Module holds only part of it.
	src            io.ReaderAt
	srcHeaderStart int64
}

// Run is a run of pages of memory that a snapshot stores.
type Run struct {
	Offset uint32 // in bytes, a multiple of the page size
	Data   []byte // a whole number of pages
}

// Parse reads a snapshot. It walks the module's sections without decoding
// them, and checks what makes it a snapshot of this format's version:
// each of Gate's custom sections exactly once, the header last and its
// checksum that of the rest, so that any damaged byte is refused as such
// (the checksum error comes first); the memory as large as the header says; the
// data section made of passive segments followed by the runs of memory,
// all within it. Nothing is copied: the frames, ABI state and memory runs
// are sub-slices of binary. The frames and ABI state are left to their
// packages' parsers, and the program to Snapshot.Program and the
// runtime's compiler.
func Parse(binary []byte) (*Snapshot, error) {
	s, err := ParseUnverified(binary)
	if err != nil {
		return nil, err
	}
	if err := s.Verify(); err != nil {
		return nil, err
	}
	return s, nil
}

// ParseUnverified is Parse without the checksum: Verify checks it. It is
// for a caller that checks the checksum on another goroutine while it
// prepares the resumption; nothing of the snapshot may run before Verify
// has succeeded. If ParseUnverified fails, Parse says whether the file is
// damaged, which is the more useful error.
func ParseUnverified(binary []byte) (*Snapshot, error) {
	sections, err := wasm.ReadSections(binary)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	s := &Snapshot{Module: binary, sections: sections, data: -1}
	headerData, err := s.locate()
	if err != nil {
		return nil, err
	}
	if s.Header, err = parseHeader(headerData); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	if err := s.parseMemory(); err != nil {
		// Damage is the likelier cause, and says more.
		if verr := s.Verify(); verr != nil {
			return nil, verr
		}
		return nil, err
	}
	return s, nil
}

// locate finds the data section and Gate's custom sections among
// s.sections, sets Frames, ABI and headerStart, and returns the header's
// data.
func (s *Snapshot) locate() ([]byte, error) {
	sections := s.sections
	found := map[string]int{}
	header := -1
	var headerData []byte
	for i, sec := range sections {
		switch sec.ID {
		case wasm.SectionData:
			s.data = i
			continue
		case wasm.SectionCustom:
		default:
			continue
		}
		name, data, err := customSection(sec)
		if err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
		switch name {
		case sectionHeader:
			header, headerData = i, data
		case sectionFrames:
			s.Frames = data
		case sectionABI:
			s.ABI = data
		default:
			continue
		}
		found[name]++
	}
	for _, name := range []string{sectionHeader, sectionFrames, sectionABI} {
		if found[name] != 1 {
			return nil, fmt.Errorf("snapshot: %d custom sections %q, want 1 (is this a snapshot?)", found[name], name)
		}
	}
	if header != len(sections)-1 {
		return nil, errors.New("snapshot: the header is not the last section")
	}
	s.headerStart = sections[header].Start
	return headerData, nil
}

// ErrChecksum is the error of a snapshot whose checksum is wrong.
var ErrChecksum = errors.New("snapshot: checksum mismatch: the file has been changed or damaged")

// Verify checks that the snapshot's checksum is that of its bytes before
// the header.
func (s *Snapshot) Verify() error {
	if s.src != nil {
		return s.verifyAt()
	}
	if updateCRC(0, s.Module[:s.headerStart]) != s.Checksum {
		return ErrChecksum
	}
	return nil
}

// verifyAt is Verify of a snapshot read by ParseAt, reading it in pieces.
// The holes of a sparse file, which the file system says are zeros
// (lseek's SEEK_HOLE and SEEK_DATA, where it answers them), are not
// read: their checksum is computed from zeros, without touching the
// disk or filling the page cache with them.
func (s *Snapshot) verifyAt() error {
	buf := make([]byte, min(1<<20, s.srcHeaderStart))
	seeker, _ := s.src.(io.Seeker)
	var sum uint32
	dataEnd := int64(-1) // no hole before it, where known
	for off := int64(0); off < s.srcHeaderStart; {
		n := min(int64(len(buf)), s.srcHeaderStart-off)
		if seeker != nil && off >= dataEnd {
			data, err1 := seeker.Seek(off, seekData)
			hole, err2 := seeker.Seek(max(data, off), seekHole)
			switch {
			case err1 != nil || err2 != nil:
				seeker = nil // not known: read it all
			case data > off:
				zeros := min(data, s.srcHeaderStart) - off
				clear(buf)
				for ; zeros > 0; zeros -= int64(len(buf)) {
					sum = crc32.Update(sum, castagnoli, buf[:min(zeros, int64(len(buf)))])
				}
				off = min(data, s.srcHeaderStart)
				continue
			default:
				dataEnd = hole
			}
		}
		if dataEnd > off {
			n = min(n, dataEnd-off)
		}
		b := buf[:n]
		if err := readAt(s.src, b, off); err != nil {
			return err
		}
		sum = crc32.Update(sum, castagnoli, b)
		off += n
	}
	if sum != s.Checksum {
		return ErrChecksum
	}
	return nil
}

// The whence of lseek that finds the next data and the next hole of a
// file (Linux, FreeBSD, Solaris); elsewhere Seek fails and the file is
// read.
const (
	seekData = 3
	seekHole = 4
)

// updateCRC updates a CRC-32C with b, in pieces: one call over many MiB cannot
// be preempted, and the garbage collector would signal the thread again
// and again until it returns; a function call between pieces is a
// preemption point.
func updateCRC(sum uint32, b []byte) uint32 {
	const piece = 1 << 20
	for len(b) > piece {
		sum = crc32.Update(sum, castagnoli, b[:piece])
		b = b[piece:]
	}
	return crc32.Update(sum, castagnoli, b)
}

// parseMemory checks the memory against the header and reads the data
// section's runs of memory.
func (s *Snapshot) parseMemory() error {
	if err := s.checkLimits(); err != nil {
		return err
	}
	if s.data >= 0 {
		if err := s.parseData(s.sections[s.data]); err != nil {
			return fmt.Errorf("snapshot: data section: %w", err)
		}
	}
	return s.checkDataCount()
}

// checkLimits checks the memory the module declares against the header.
func (s *Snapshot) checkLimits() error {
	limits, hasMemory, err := wasm.Memory(s.Module)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	switch {
	case !hasMemory && s.MemoryPages > 0, hasMemory && limits.Min != s.MemoryPages:
		return fmt.Errorf("snapshot: header says %d pages of memory, the module does not declare them", s.MemoryPages)
	case limits.HasMax && limits.Max < limits.Min:
		return fmt.Errorf("snapshot: memory of %d pages exceeds the module's maximum of %d", limits.Min, limits.Max)
	}
	return nil
}

// checkDataCount checks the data count section, if any, against the
// segments read.
func (s *Snapshot) checkDataCount() error {
	for _, sec := range s.sections {
		if sec.ID != wasm.SectionDataCount {
			continue
		}
		n, k, err := readU32(sec.Payload)
		if err != nil || k != len(sec.Payload) || uint64(n) != uint64(s.segments)+uint64(len(s.Memory)) {
			return fmt.Errorf("snapshot: the data count section does not count the %d data segments", uint64(s.segments)+uint64(len(s.Memory)))
		}
	}
	return nil
}

// customSection splits a custom section into its name and data.
func customSection(sec wasm.Section) (string, []byte, error) {
	n, k, err := readU32(sec.Payload)
	if err != nil || uint64(len(sec.Payload)-k) < uint64(n) {
		return "", nil, fmt.Errorf("custom section at byte %d: malformed name", sec.Start)
	}
	return string(sec.Payload[k : k+int(n)]), sec.Payload[k+int(n):], nil
}

// parseData reads the data section: first the program's segments, all
// passive, then the memory's runs, each an active segment of memory 0 at
// "i32.const offset", both offset and size whole pages, in increasing
// order, within the memory.
func (s *Snapshot) parseData(sec wasm.Section) error {
	b := sec.Payload
	count, off, err := readU32(b)
	if err != nil {
		return fmt.Errorf("segment count: %w", err)
	}
	// Each segment takes at least 3 bytes: no count can make the runs
	// take more memory than the section's size suggests.
	if uint64(count) > uint64(len(b)-off)/3+1 {
		return fmt.Errorf("%d segments in %d bytes", count, len(b)-off)
	}
	memSize := uint64(s.MemoryPages) * wasm.PageSize
	next := uint64(0) // the lowest offset the next run may have
	s.segmentsEnd = off
	for i := uint32(0); i < count; i++ {
		flags, k, err := readU32(b[off:])
		if err != nil {
			return fmt.Errorf("segment %d: flags: %w", i, err)
		}
		off += k
		var offset uint32
		switch flags {
		case 1: // passive
			if len(s.Memory) > 0 {
				return fmt.Errorf("segment %d: a passive segment after the memory's segments", i)
			}
		case 0:
			if offset, k, err = i32Offset(b[off:]); err != nil {
				return fmt.Errorf("segment %d: %w", i, err)
			}
			off += k
		default:
			return fmt.Errorf("segment %d: flags %d: a snapshot's memory is data segments of memory 0 with flags 0", i, flags)
		}
		size, k, err := readU32(b[off:])
		if err != nil || uint64(size) > uint64(len(b)-off-k) {
			return fmt.Errorf("segment %d: size exceeds the section", i)
		}
		off += k
		data := b[off : off+int(size)]
		off += int(size)
		if flags == 1 {
			s.segments++
			s.segmentsEnd = off
			continue
		}
		switch end := uint64(offset) + uint64(size); {
		case offset%wasm.PageSize != 0 || size%wasm.PageSize != 0 || size == 0:
			return fmt.Errorf("segment %d: memory at byte %d, %d bytes: not whole pages", i, offset, size)
		case uint64(offset) < next:
			return fmt.Errorf("segment %d: memory at byte %d overlaps or precedes the segment before", i, offset)
		case end > memSize:
			return fmt.Errorf("segment %d: memory at bytes %d to %d, beyond the memory's %d bytes", i, offset, end, memSize)
		default:
			next = end
		}
		s.Memory = append(s.Memory, Run{Offset: offset, Data: data})
		s.Stored += uint64(size)
	}
	if off != len(b) {
		return fmt.Errorf("%d bytes after the last segment", len(b)-off)
	}
	return nil
}

// i32Offset reads the constant expression "i32.const offset; end".
func i32Offset(b []byte) (uint32, int, error) {
	if len(b) == 0 || b[0] != byte(wasm.OpI32Const) {
		return 0, 0, errors.New("offset is not i32.const")
	}
	v, k := readS32(b[1:])
	if k <= 0 || len(b) < 2+k || b[1+k] != byte(wasm.OpEnd) {
		return 0, 0, errors.New("offset is not i32.const")
	}
	return uint32(v), 2 + k, nil
}

// readS32 reads a signed LEB128 integer of at most 32 bits, and returns
// its size, or 0 if it is malformed or truncated.
func readS32(b []byte) (int32, int) {
	var v int64
	for i := 0; i < 5 && i < len(b); i++ {
		v |= int64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 != 0 {
			continue
		}
		if shift := 7 * (i + 1); shift < 64 && b[i]&0x40 != 0 {
			v |= -1 << shift // sign extension
		}
		if v < math.MinInt32 || v > math.MaxInt32 {
			return 0, 0
		}
		return int32(v), i + 1
	}
	return 0, 0
}

// readU32 reads an unsigned LEB128 integer of at most 32 bits.
func readU32(b []byte) (uint32, int, error) {
	v, k := binary.Uvarint(b)
	if k <= 0 || k > 5 || v > math.MaxUint32 {
		return 0, 0, errors.New("bad or truncated integer")
	}
	return uint32(v), k, nil
}

// Program returns the program of the snapshot in the form of NewProgram,
// and the values of its mutable globals at suspension, by index. It
// decodes the module without the memory's segments (nothing of the size
// of the memory is read or copied), and checks that every mutable global
// is initialized with a constant of its type. The module is decoded
// within lim (nil: none). It is not validated: that is the compiler's
// part.
func (s *Snapshot) Program(lim *wasm.ModuleLimits) (*Program, map[uint32][2]uint64, error) {
	size := 8
	for _, sec := range s.sections {
		if sec.ID != wasm.SectionData {
			size += sec.Offset + len(sec.Payload) - sec.Start
		}
	}
	b := make([]byte, 0, size+s.segmentsEnd)
	b = append(append(b, wasm.Magic...), wasm.Version...)
	for _, sec := range s.sections {
		switch sec.ID {
		case wasm.SectionCustom:
			if name, _, _ := customSection(sec); ours(name) {
				continue
			}
		case wasm.SectionData:
			// The program's segments only: the count, then their
			// bytes as they are.
			_, k, _ := readU32(sec.Payload)
			payload := binary.AppendUvarint(nil, uint64(s.segments))
			payload = append(payload, sec.Payload[k:s.segmentsEnd]...)
			b = binary.AppendUvarint(append(b, byte(wasm.SectionData)), uint64(len(payload)))
			b = append(b, payload...)
			continue
		case wasm.SectionDataCount:
			payload := binary.AppendUvarint(nil, uint64(s.segments))
			b = binary.AppendUvarint(append(b, byte(wasm.SectionDataCount)), uint64(len(payload)))
			b = append(b, payload...)
			continue
		}
		b = append(b, s.Module[sec.Start:sec.Offset+len(sec.Payload)]...)
	}
	m, err := wasm.DecodeWith(b, wasm.DecodeOptions{Limits: lim})
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot: %w", err)
	}
	p, err := NewProgram(m)
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot: %w", err)
	}
	values := make(map[uint32][2]uint64)
	imported := uint32(m.NumImports(wasm.ExternGlobal))
	for _, index := range p.MutableGlobals() {
		v, err := constValue(m.Globals[index-imported])
		if err != nil {
			return nil, nil, fmt.Errorf("snapshot: mutable global %d: %w", index, err)
		}
		values[index] = v
	}
	return p, values, nil
}

// constValue returns the value of a global initialized with "T.const v;
// end" of its own type T.
func constValue(g wasm.Global) ([2]uint64, error) {
	if g.Type.Type.IsRef() {
		return [2]uint64{}, fmt.Errorf("holds a reference (%v), which a snapshot cannot carry", g.Type.Type)
	}
	want := map[wasm.ValType]wasm.Opcode{wasm.I32: wasm.OpI32Const, wasm.I64: wasm.OpI64Const,
		wasm.F32: wasm.OpF32Const, wasm.F64: wasm.OpF64Const, wasm.V128: wasm.OpV128Const}[g.Type.Type]
	instrs, err := wasm.DecodeBody(g.Init)
	if err != nil || len(instrs) != 2 || instrs[0].Op != want || instrs[1].Op != wasm.OpEnd {
		return [2]uint64{}, fmt.Errorf("its initializer is not a %v constant", g.Type.Type)
	}
	return [2]uint64{instrs[0].Imm, instrs[0].Imm2}, nil
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
	if len(data) != 4 {
		return h, fmt.Errorf("snapshot header: %d bytes of checksum, want 4", len(data))
	}
	h.Checksum = binary.LittleEndian.Uint32(data)
	return h, nil
}
