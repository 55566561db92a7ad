package wasm

import (
	"bytes"
	"errors"
	"fmt"
)

// Magic and Version open every WebAssembly 1.0/2.0 binary module.
var (
	Magic   = []byte{0x00, 'a', 's', 'm'}
	Version = []byte{0x01, 0x00, 0x00, 0x00}
)

// PageSize is the size of a WebAssembly linear-memory page in bytes.
const PageSize = 65536

// MaxPages is the largest number of pages a 32-bit memory can have (4 GiB).
const MaxPages = 65536

// SectionID identifies a section of a binary module.
type SectionID byte

// The section identifiers of WebAssembly 2.0.
const (
	SectionCustom    SectionID = 0
	SectionType      SectionID = 1
	SectionImport    SectionID = 2
	SectionFunction  SectionID = 3
	SectionTable     SectionID = 4
	SectionMemory    SectionID = 5
	SectionGlobal    SectionID = 6
	SectionExport    SectionID = 7
	SectionStart     SectionID = 8
	SectionElement   SectionID = 9
	SectionCode      SectionID = 10
	SectionData      SectionID = 11
	SectionDataCount SectionID = 12
)

var sectionNames = [...]string{"custom", "type", "import", "function", "table",
	"memory", "global", "export", "start", "element", "code", "data", "data count"}

func (id SectionID) String() string {
	if int(id) < len(sectionNames) {
		return sectionNames[id]
	}
	return fmt.Sprintf("unknown section %d", byte(id))
}

var errTruncated = errors.New("unexpected end of data")

// Section is one section of a module as it appears in the binary.
type Section struct {
	ID SectionID
	// Start is the offset of the section's id byte in the module.
	Start int
	// Offset is where the section's payload starts in the module.
	Offset int
	// Payload is the section's content, without its id and size. It
	// aliases the module's bytes.
	Payload []byte
}

// FormatError reports malformed input: what is wrong and at which byte
// offset of the module.
type FormatError struct {
	Offset int
	Err    error
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("malformed module at byte %d: %v", e.Offset, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// ErrNotModule is wrapped by the error that ReadSections returns for input
// that does not start like a WebAssembly binary module at all.
var ErrNotModule = errors.New("not a WebAssembly module")

// ReadSections checks the header of module and splits the rest into its
// sections. It checks the framing only: every section size fits, ids are
// known and non-custom sections appear in the order the specification
// requires, at most once each. The sections' contents are not decoded.
func ReadSections(module []byte) ([]Section, error) {
	if err := checkHeader(module); err != nil {
		return nil, err
	}
	var sections []Section
	lastOrder := 0
	for off := len(Magic) + len(Version); off < len(module); {
		s, err := nextSection(module, off, &lastOrder)
		if err != nil {
			return nil, err
		}
		sections = append(sections, s)
		off = s.Offset + len(s.Payload)
	}
	return sections, nil
}

func checkHeader(module []byte) error {
	switch {
	case len(module) == 0:
		return fmt.Errorf("%w: the file is empty", ErrNotModule)
	case len(module) < len(Magic) || !bytes.Equal(module[:4], Magic):
		return fmt.Errorf("%w: it does not start with the bytes \\0asm", ErrNotModule)
	case len(module) < 8:
		return &FormatError{len(module), fmt.Errorf("header: %w", errTruncated)}
	case !bytes.Equal(module[4:8], Version):
		return fmt.Errorf("%w: binary format version %x is not 1", ErrNotModule, module[4:8])
	}
	return nil
}

// nextSection reads the section that starts at offset off of module.
// lastOrder is the order of the last non-custom section read, which it
// updates.
func nextSection(module []byte, off int, lastOrder *int) (Section, error) {
	id := SectionID(module[off])
	order, known := sectionOrder(id)
	if !known {
		return Section{}, &FormatError{off, fmt.Errorf("unknown section id %d", byte(id))}
	}
	size, n, err := readU32(module[off+1:])
	if err != nil {
		return Section{}, &FormatError{off + 1, fmt.Errorf("size of %s section: %w", id, err)}
	}
	start := off + 1 + n
	if uint64(size) > uint64(len(module)-start) {
		return Section{}, &FormatError{off, fmt.Errorf("%s section declares %d bytes but only %d remain: %w",
			id, size, len(module)-start, errTruncated)}
	}
	if id != SectionCustom {
		if order <= *lastOrder {
			return Section{}, &FormatError{off, fmt.Errorf("%s section out of order or repeated", id)}
		}
		*lastOrder = order
	}
	end := start + int(size)
	return Section{ID: id, Start: off, Offset: start, Payload: module[start:end:end]}, nil
}

// sectionOrder returns the position a non-custom section must have
// relative to the others; the data count section sits between element
// and code although its id is larger.
func sectionOrder(id SectionID) (int, bool) {
	switch {
	case id == SectionCustom:
		return 0, true
	case id == SectionDataCount:
		return int(SectionElement) + 1, true
	case id >= SectionCode && id <= SectionData:
		return int(id) + 1, true
	case id <= SectionElement:
		return int(id), true
	}
	return 0, false
}
