package suspend

import (
	"encoding/binary"
	"errors"
)

// The "name" custom section (the WebAssembly specification's appendix)
// names functions and their locals by function index, which the
// transform shifts. Engines show those names in traps and stack traces,
// so a section left as it was would name the wrong functions.

// Subsections of the name section.
const (
	nameModule    = 0
	nameFunctions = 1
	nameLocals    = 2
	nameLabels    = 3 // extended names: label indices, which the transform changes
)

// renumberNames returns the content of a name section with the function
// indices of its function and local names shifted by fn, and without the
// label names, whose labels the transform moves. Other subsections name
// things the transform does not renumber and are kept. An error means
// the section does not decode; it is then better dropped than kept.
func renumberNames(data []byte, fn func(uint32) uint32) ([]byte, error) {
	r := refsReader{b: data}
	var out []byte
	for r.off < len(r.b) && r.err == nil {
		id := r.b[r.off]
		r.off++
		size := r.count()
		if r.err != nil {
			break
		}
		content := r.b[r.off : r.off+size]
		r.off += size
		switch id {
		case nameFunctions, nameLocals:
			c, err := renumberNameMap(content, id == nameLocals, fn)
			if err != nil {
				return nil, err
			}
			content = c
		case nameLabels:
			continue
		}
		out = append(out, id)
		out = binary.AppendUvarint(out, uint64(len(content)))
		out = append(out, content...)
	}
	if r.err != nil {
		return nil, r.err
	}
	return out, nil
}

// renumberNameMap shifts the indices of a name map (index, name) or, if
// indirect, of an indirect name map (index, name map), which must be
// all of b.
func renumberNameMap(b []byte, indirect bool, fn func(uint32) uint32) ([]byte, error) {
	r := refsReader{b: b}
	n := r.count()
	out := binary.AppendUvarint(nil, uint64(n))
	for range n {
		idx := r.u32()
		out = binary.AppendUvarint(out, uint64(fn(idx)))
		start := r.off
		if indirect {
			for m := r.count(); m > 0 && r.err == nil; m-- {
				r.u32()
				r.name()
			}
		} else {
			r.name()
		}
		if r.err != nil {
			break
		}
		out = append(out, r.b[start:r.off]...)
	}
	if r.err == nil && r.off != len(r.b) {
		r.err = errors.New("bytes after a name map")
	}
	if r.err != nil {
		return nil, r.err
	}
	return out, nil
}

// name skips a name: its length and bytes.
func (r *refsReader) name() {
	n := r.u32()
	if r.err == nil && int(n) > len(r.b)-r.off {
		r.err = errors.New("name past the end")
		return
	}
	r.off += int(n)
}
