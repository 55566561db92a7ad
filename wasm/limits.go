package wasm

import (
	"errors"
	"fmt"
	"io"
)

// ModuleLimits bound the size of what DecodeWith accepts, so that what a module
// from an untrusted source costs to decode, validate, transform and
// compile is bounded before its code is read: each count is checked where
// the binary states it, before anything of that size is allocated, and a
// module over a limit is refused with a *LimitError that names it. A zero
// field means no limit.
//
// The defaults (DefaultModuleLimits) follow V8's published implementation
// limits (the JS API's "implementation-defined limits") where V8 has one,
// and are below them where the engine Gate compiles with (wazero) grows
// faster than linearly in the quantity: block and loop nesting and
// br_table targets. docs/SECURITY.md gives each its reason.
type ModuleLimits struct {
	ModuleSize      uint64 // bytes of the whole binary
	Types           uint32 // entries of the type section
	Params          uint32 // parameters of one function type
	Results         uint32 // results of one function type
	Imports         uint32 // entries of the import section
	Functions       uint32 // functions, imported and defined
	Tables          uint32 // tables, imported and defined
	TableSize       uint32 // initial elements of one table
	Globals         uint32 // globals, imported and defined
	Exports         uint32 // entries of the export section
	ElementSegments uint32 // entries of the element section
	Elements        uint32 // elements of one element segment
	DataSegments    uint32 // entries of the data section
	FunctionSize    uint32 // bytes of one function body, its locals included
	Locals          uint32 // locals of one function, its parameters included
	BlockDepth      uint32 // blocks, loops and ifs open at once in one body
	LoopDepth       uint32 // loops open at once in one body
	BrTableTargets  uint32 // labels of one br_table, its default excluded
}

// DefaultModuleLimits are the limits Gate applies to the programs it is given.
func DefaultModuleLimits() ModuleLimits {
	return ModuleLimits{
		ModuleSize:      128 << 20,
		Types:           1_000_000,
		Params:          1_000,
		Results:         1_000,
		Imports:         100_000,
		Functions:       1_000_000,
		Tables:          100,
		TableSize:       10_000_000,
		Globals:         1_000_000,
		Exports:         100_000,
		ElementSegments: 100_000,
		Elements:        10_000_000,
		DataSegments:    100_000,
		FunctionSize:    7_654_321,
		Locals:          50_000,
		BlockDepth:      8_192,
		LoopDepth:       256,
		BrTableTargets:  16_384,
	}
}

// LimitError reports a module over one of its ModuleLimits.
type LimitError struct {
	Limit  string // the name of the limit, as docs/SECURITY.md lists it
	Max    uint64 // its value
	Value  uint64 // what the module has, at least
	Where  string // where, if in one function or segment: "function 12"
	Offset int    // byte offset in the module
}

func (e *LimitError) Error() string {
	where := ""
	if e.Where != "" {
		where = e.Where + ": "
	}
	return fmt.Sprintf("module over a limit at byte %d: %s%d %s, more than the limit of %d",
		e.Offset, where, e.Value, e.Limit, e.Max)
}

// over reports whether v exceeds limit max (0 meaning none).
func over[T uint32 | uint64 | int](v T, max uint32) bool { return max != 0 && uint64(v) > uint64(max) }

// DecodeOptions are what DecodeWith checks besides the binary format.
type DecodeOptions struct {
	// Limits bound the module's counts and sizes; nil means none.
	Limits *ModuleLimits
	// Imports, if set, is called with the type section and the
	// imports as soon as the import section has been read, before any
	// function body: an error it returns is Decode's. It lets a host
	// refuse a module that imports what it does not provide before it
	// pays for the code.
	Imports func(types []FuncType, imports []Import) error
}

// DecodeWith is Decode with the checks of opts.
func DecodeWith(binary []byte, opts DecodeOptions) (*Module, error) {
	if opts.Limits != nil && opts.Limits.ModuleSize != 0 && uint64(len(binary)) > opts.Limits.ModuleSize {
		return nil, &LimitError{Limit: "bytes of module", Max: opts.Limits.ModuleSize, Value: uint64(len(binary))}
	}
	return decodeWith(binary, 0, opts)
}

// HeaderSize is the size of the header that opens every binary module:
// the magic number and the version.
const HeaderSize = 8

// CheckHeader checks that header, the first HeaderSize bytes of a file
// (or fewer if it is shorter), open a WebAssembly 1.0/2.0 binary module:
// a file can be refused on its first bytes, before it is read.
func CheckHeader(header []byte) error { return checkHeader(header) }

// ReadModule reads a module of at most maxSize bytes (0 meaning no
// limit) from r, whose size, if known, is size (-1 if not). It checks
// the header on the first bytes, then the size, before it allocates, so
// that a file that is not a module, or too large, costs nothing to
// refuse. An error is a *LimitError, or wraps ErrNotModule, a
// *FormatError or r's error.
func ReadModule(r io.Reader, size int64, maxSize uint64) ([]byte, error) {
	header := make([]byte, HeaderSize)
	n, err := io.ReadFull(r, header)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := checkHeader(header[:n]); err != nil {
		return nil, err
	}
	if size >= 0 && maxSize != 0 && uint64(size) > maxSize {
		return nil, &LimitError{Limit: "bytes of module", Max: maxSize, Value: uint64(size)}
	}
	if size < 0 {
		// Unknown size: read up to one byte past the limit.
		limit := int64(maxSize) + 1 - HeaderSize
		if maxSize == 0 {
			limit = 1<<63 - 1
		}
		rest, err := io.ReadAll(io.LimitReader(r, limit))
		if err != nil {
			return nil, err
		}
		if maxSize != 0 && uint64(len(rest)+HeaderSize) > maxSize {
			return nil, &LimitError{Limit: "bytes of module", Max: maxSize, Value: uint64(len(rest) + HeaderSize)}
		}
		return append(header, rest...), nil
	}
	// Known size: one buffer, read whole; a file cut short since its
	// size was taken is what remains, which Decode will refuse.
	b := make([]byte, max(size, int64(n)))
	copy(b, header)
	m, err := io.ReadFull(r, b[n:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b[:n+m], nil
}
