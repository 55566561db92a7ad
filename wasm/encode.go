package wasm

import (
	"bytes"
	"crypto/sha256"
)

// origin remembers how a section was encoded in the decoded binary.
// Encode writes sections in their shortest form, which a decoded section
// need not have had (LEB128 integers may be padded, for one). So Decode
// notes the sections whose encoding differs from the one Encode would
// write, and a hash of what Encode would write; when Encode later writes
// the same, the section is unchanged and its original bytes are used.
type origin struct {
	present bool   // the section was in the binary
	raw     []byte // the section then: id, size and payload
	sum     [32]byte
	padded  bool // raw differs from the shortest encoding; sum is set
}

func newOrigin(raw, fresh []byte) origin {
	o := origin{present: true, raw: raw}
	if !bytes.Equal(raw, fresh) {
		o.padded, o.sum = true, sha256.Sum256(fresh)
	}
	return o
}

// encoding returns the section to write: fresh, the shortest encoding of
// its current content, or the original bytes if that content did not
// change.
func (o *origin) encoding(fresh []byte) []byte {
	if o.padded && sha256.Sum256(fresh) == o.sum {
		return o.raw
	}
	return fresh
}

// recordOrigins notes the encoding of each section of binary, after
// Decode has filled m from it.
func (m *Module) recordOrigins(binary []byte, sections []Section) {
	custom := 0
	for _, s := range sections {
		raw := binary[s.Start : s.Offset+len(s.Payload)]
		if s.ID == SectionCustom {
			c := &m.Customs[custom]
			c.orig = newOrigin(raw, c.encode(nil))
			custom++
			continue
		}
		m.orig[s.ID] = newOrigin(raw, m.encodeSection(nil, s.ID))
	}
}

// sectionSequence lists the non-custom sections in the order they take
// in a binary.
var sectionSequence = [...]SectionID{SectionType, SectionImport, SectionFunction, SectionTable,
	SectionMemory, SectionGlobal, SectionExport, SectionStart, SectionElement, SectionDataCount,
	SectionCode, SectionData}

// Encode encodes m as a binary module. Sections that Decode read and
// that did not change since are written as they were, so that decoding
// and encoding an unchanged module gives back the same bytes. Other
// sections are written in their shortest form. A section is written if
// it has content or was in the decoded binary; custom sections go where
// their After field says.
//
// Encode does not check m: validate a module before encoding it.
func Encode(m *Module) []byte {
	out := append(append([]byte{}, Magic...), Version...)
	out = m.appendCustoms(out, SectionCustom)
	var buf []byte
	for _, id := range sectionSequence {
		if m.hasSection(id) {
			buf = m.encodeSection(buf[:0], id)
			out = append(out, m.orig[id].encoding(buf)...)
		}
		out = m.appendCustoms(out, id)
	}
	// Custom sections that follow no known section id go last.
	for i := range m.Customs {
		if c := &m.Customs[i]; c.After > SectionDataCount {
			out = append(out, c.orig.encoding(c.encode(nil))...)
		}
	}
	return out
}

func (m *Module) appendCustoms(out []byte, after SectionID) []byte {
	for i := range m.Customs {
		if c := &m.Customs[i]; c.After == after {
			out = append(out, c.orig.encoding(c.encode(nil))...)
		}
	}
	return out
}

func (c *Custom) encode(b []byte) []byte {
	payload := append(appendU32(nil, uint32(len(c.Name))), c.Name...)
	payload = append(payload, c.Data...)
	return appendSection(b, SectionCustom, payload)
}

func appendSection(b []byte, id SectionID, payload []byte) []byte {
	b = appendU32(append(b, byte(id)), uint32(len(payload)))
	return append(b, payload...)
}

func (m *Module) hasSection(id SectionID) bool {
	if m.orig[id].present {
		return true
	}
	switch id {
	case SectionType:
		return len(m.Types) > 0
	case SectionImport:
		return len(m.Imports) > 0
	case SectionFunction:
		return len(m.Funcs) > 0
	case SectionTable:
		return len(m.Tables) > 0
	case SectionMemory:
		return len(m.Memories) > 0
	case SectionGlobal:
		return len(m.Globals) > 0
	case SectionExport:
		return len(m.Exports) > 0
	case SectionStart:
		return m.HasStart
	case SectionElement:
		return len(m.Elements) > 0
	case SectionDataCount:
		return m.HasDataCount
	case SectionCode:
		return len(m.Code) > 0
	case SectionData:
		return len(m.Data) > 0
	}
	return false
}

// encodeSection appends the shortest encoding of section id, with its id
// and size, to b.
func (m *Module) encodeSection(b []byte, id SectionID) []byte {
	var p []byte
	switch id {
	case SectionType:
		p = appendU32(p, uint32(len(m.Types)))
		for _, t := range m.Types {
			p = appendValTypes(appendValTypes(append(p, 0x60), t.Params), t.Results)
		}
	case SectionImport:
		p = appendU32(p, uint32(len(m.Imports)))
		for i := range m.Imports {
			p = appendImport(p, &m.Imports[i])
		}
	case SectionFunction:
		p = appendIndices(p, m.Funcs)
	case SectionTable:
		p = appendU32(p, uint32(len(m.Tables)))
		for _, t := range m.Tables {
			p = appendLimits(append(p, byte(t.Elem)), t.Limits)
		}
	case SectionMemory:
		p = appendU32(p, uint32(len(m.Memories)))
		for _, l := range m.Memories {
			p = appendLimits(p, l)
		}
	case SectionGlobal:
		p = appendU32(p, uint32(len(m.Globals)))
		for _, g := range m.Globals {
			p = append(appendGlobalType(p, g.Type), g.Init...)
		}
	case SectionExport:
		p = appendU32(p, uint32(len(m.Exports)))
		for _, e := range m.Exports {
			p = appendU32(append(appendName(p, e.Name), byte(e.Kind)), e.Index)
		}
	case SectionStart:
		p = appendU32(p, m.Start)
	case SectionElement:
		p = appendU32(p, uint32(len(m.Elements)))
		for i := range m.Elements {
			p = appendElement(p, &m.Elements[i])
		}
	case SectionDataCount:
		p = appendU32(p, m.DataCount)
	case SectionCode:
		p = appendU32(p, uint32(len(m.Code)))
		for i := range m.Code {
			p = appendCode(p, &m.Code[i])
		}
	case SectionData:
		p = appendU32(p, uint32(len(m.Data)))
		for i := range m.Data {
			p = appendData(p, &m.Data[i])
		}
	}
	return appendSection(b, id, p)
}

func appendValTypes(b []byte, ts []ValType) []byte {
	b = appendU32(b, uint32(len(ts)))
	for _, t := range ts {
		b = append(b, byte(t))
	}
	return b
}

func appendIndices(b []byte, xs []uint32) []byte {
	b = appendU32(b, uint32(len(xs)))
	for _, x := range xs {
		b = appendU32(b, x)
	}
	return b
}

func appendName(b []byte, s string) []byte {
	return append(appendU32(b, uint32(len(s))), s...)
}

func appendGlobalType(b []byte, t GlobalType) []byte {
	mut := byte(0)
	if t.Mutable {
		mut = 1
	}
	return append(b, byte(t.Type), mut)
}

func appendImport(b []byte, imp *Import) []byte {
	b = append(appendName(appendName(b, imp.Module), imp.Name), byte(imp.Kind))
	switch imp.Kind {
	case ExternFunc:
		b = appendU32(b, imp.Type)
	case ExternTable:
		b = appendLimits(append(b, byte(imp.Table.Elem)), imp.Table.Limits)
	case ExternMemory:
		b = appendLimits(b, imp.Memory)
	case ExternGlobal:
		b = appendGlobalType(b, imp.Global)
	}
	return b
}

// elementFlags returns the encoding to write e in: its Flags where they
// can express it, else the shortest that can.
func elementFlags(e *Element) uint32 {
	var f uint32
	switch e.Mode {
	case Passive:
		f = 1
	case Declarative:
		f = 3
	default:
		if e.Flags&3 == 2 || e.Table != 0 || e.Type != FuncRef {
			f = 2
		}
	}
	if len(e.Exprs) > 0 || len(e.Funcs) == 0 && e.Flags&4 != 0 {
		f |= 4
	}
	return f
}

func appendElement(b []byte, e *Element) []byte {
	f := elementFlags(e)
	b = appendU32(b, f)
	if f&1 == 0 {
		if f&2 != 0 {
			b = appendU32(b, e.Table)
		}
		b = append(b, e.Offset...)
	}
	if f&4 == 0 {
		if f&3 != 0 {
			b = append(b, 0) // element kind funcref
		}
		return appendIndices(b, e.Funcs)
	}
	if f&3 != 0 {
		b = append(b, byte(e.Type))
	}
	b = appendU32(b, uint32(len(e.Exprs)))
	for _, x := range e.Exprs {
		b = append(b, x...)
	}
	return b
}

func appendData(b []byte, d *Data) []byte {
	switch {
	case d.Mode == Passive:
		b = appendU32(b, 1)
	case d.Flags == 2 || d.Memory != 0:
		b = append(appendU32(appendU32(b, 2), d.Memory), d.Offset...)
	default:
		b = append(appendU32(b, 0), d.Offset...)
	}
	return append(appendU32(b, uint32(len(d.Init))), d.Init...)
}

func appendCode(b []byte, c *Code) []byte {
	var locals []byte
	locals = appendU32(locals, uint32(len(c.Locals)))
	for _, l := range c.Locals {
		locals = append(appendU32(locals, l.Count), byte(l.Type))
	}
	b = appendU32(b, uint32(len(locals)+len(c.Body)))
	return append(append(b, locals...), c.Body...)
}
