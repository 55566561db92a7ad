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
	raw []byte // the section as decoded: id, size and payload; nil if absent
	// sum is the hash of the shortest encoding of the section as decoded,
	// if that differs from raw, and sumLen its length: an encoding of
	// another length differs without hashing it.
	sum    *[32]byte
	sumLen int
}

// newOrigin records raw, a section as decoded, and payload, the content
// Encode would write for it.
func newOrigin(raw []byte, id SectionID, payload []byte) origin {
	o := origin{raw: raw}
	head := sectionHeader(id, payload)
	if len(raw) != len(head)+len(payload) || !bytes.Equal(raw[:len(head)], head) || !bytes.Equal(raw[len(head):], payload) {
		sum := sectionSum(head, payload)
		o.sum, o.sumLen = &sum, len(head)+len(payload)
	}
	return o
}

func sectionHeader(id SectionID, payload []byte) []byte {
	return appendU32([]byte{byte(id)}, uint32(len(payload)))
}

func sectionSum(head, payload []byte) [32]byte {
	h := sha256.New()
	h.Write(head)
	h.Write(payload)
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// appendSection appends section id with content payload to b: as it was
// decoded if that content did not change, else in shortest form.
func (o *origin) appendSection(b []byte, id SectionID, payload []byte) []byte {
	head := sectionHeader(id, payload)
	if o.sum != nil && len(head)+len(payload) == o.sumLen && sectionSum(head, payload) == *o.sum {
		return append(b, o.raw...)
	}
	return append(append(b, head...), payload...)
}

// recordOrigin notes the encoding of section s of binary, after Decode
// has read it into m. Only a section that had padded integers, in its
// size or its content, is encoded to compare: the others are already in
// shortest form (function bodies and constant expressions are kept as
// they are).
func (m *Module) recordOrigin(binary []byte, s Section, padded bool) {
	raw := binary[s.Start : s.Offset+len(s.Payload)]
	short := !padded && s.Offset-s.Start-1 == uleb128Len(uint32(len(s.Payload)))
	o := origin{raw: raw}
	if s.ID == SectionCustom {
		c := &m.Customs[len(m.Customs)-1]
		if !short {
			o = newOrigin(raw, s.ID, c.payload(nil))
		}
		c.orig = o
		return
	}
	if !short {
		o = newOrigin(raw, s.ID, m.payload(make([]byte, 0, len(raw)), s.ID))
	}
	m.orig[s.ID] = o
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
	out := make([]byte, 0, m.sizeHint())
	out = append(append(out, Magic...), Version...)
	var buf []byte
	out = m.appendCustoms(out, SectionCustom, buf)
	for _, id := range sectionSequence {
		if m.HasSection(id) {
			if n := m.payloadHint(id); cap(buf) < n {
				buf = make([]byte, 0, n) // rather than grow it many times
			}
			buf = m.payload(buf[:0], id)
			out = m.orig[id].appendSection(out, id, buf)
		}
		out = m.appendCustoms(out, id, buf)
	}
	// Custom sections that follow no known section id go last.
	for i := range m.Customs {
		if c := &m.Customs[i]; c.After > SectionDataCount {
			buf = c.payload(buf[:0])
			out = c.orig.appendSection(out, SectionCustom, buf)
		}
	}
	return out
}

func (m *Module) appendCustoms(out []byte, after SectionID, buf []byte) []byte {
	for i := range m.Customs {
		if c := &m.Customs[i]; c.After == after {
			buf = c.payload(buf[:0])
			out = c.orig.appendSection(out, SectionCustom, buf)
		}
	}
	return out
}

func (c *Custom) payload(b []byte) []byte {
	return append(appendName(b, c.Name), c.Data...)
}

// sizeHint estimates the size of m's encoding, to allocate it at once.
func (m *Module) sizeHint() int {
	n := 1024
	for i := range m.orig {
		n += len(m.orig[i].raw)
	}
	for i := range m.Customs {
		n += len(m.Customs[i].Data)
	}
	for i := range m.Code {
		n += len(m.Code[i].Body)
	}
	for i := range m.Data {
		n += len(m.Data[i].Init)
	}
	return n
}

// payloadHint returns about the size of the content of the code and data
// sections (at least), 0 for the others, which are small.
func (m *Module) payloadHint(id SectionID) int {
	n := 0
	switch id {
	case SectionCode:
		for i := range m.Code {
			c := &m.Code[i]
			n += len(c.Body) + 2*len(c.Locals) + 10
		}
	case SectionData:
		for i := range m.Data {
			n += len(m.Data[i].Init) + len(m.Data[i].Offset) + 10
		}
	}
	return n
}

// NearestSection returns the section that a custom section placed after
// section id follows when m is encoded: id itself if Encode writes it,
// else the nearest section before it that Encode writes (SectionCustom if
// none, or for id SectionCustom). A custom section after an unknown
// section id follows the last section Encode writes. With it, a custom
// section can keep its place in a module that lacks sections the module
// it came from had.
func (m *Module) NearestSection(id SectionID) SectionID {
	if id == SectionCustom {
		return id
	}
	pos := len(sectionSequence) - 1
	for i, s := range sectionSequence {
		if s == id {
			pos = i
		}
	}
	for ; pos >= 0; pos-- {
		if m.HasSection(sectionSequence[pos]) {
			return sectionSequence[pos]
		}
	}
	return SectionCustom
}

// HasSection tells whether Encode writes section id of m: a start or
// data count section if HasStart or HasDataCount says so, any other if it
// has content or was in the binary m was decoded from.
func (m *Module) HasSection(id SectionID) bool {
	// These two say themselves whether they are there: a program that
	// clears HasStart removes the start section.
	switch id {
	case SectionStart:
		return m.HasStart
	case SectionDataCount:
		return m.HasDataCount
	}
	if m.orig[id].raw != nil {
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
	case SectionElement:
		return len(m.Elements) > 0
	case SectionCode:
		return len(m.Code) > 0
	case SectionData:
		return len(m.Data) > 0
	}
	return false
}

// payload appends the shortest encoding of the content of section id to
// p.
func (m *Module) payload(p []byte, id SectionID) []byte {
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
	return p
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

// dataFlags returns the encoding to write d in, as elementFlags does.
func dataFlags(d *Data) uint32 {
	switch {
	case d.Mode == Passive:
		return 1
	case d.Flags == 2 || d.Memory != 0:
		return 2
	}
	return 0
}

func appendData(b []byte, d *Data) []byte {
	f := dataFlags(d)
	b = appendU32(b, f)
	if f == 2 {
		b = appendU32(b, d.Memory)
	}
	if f != 1 {
		b = append(b, d.Offset...)
	}
	return append(appendU32(b, uint32(len(d.Init))), d.Init...)
}

func appendCode(b []byte, c *Code) []byte {
	size := uleb128Len(uint32(len(c.Locals))) + len(c.Body)
	for _, l := range c.Locals {
		size += uleb128Len(l.Count) + 1
	}
	b = appendU32(appendU32(b, uint32(size)), uint32(len(c.Locals)))
	for _, l := range c.Locals {
		b = append(appendU32(b, l.Count), byte(l.Type))
	}
	return append(b, c.Body...)
}
