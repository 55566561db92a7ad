package snapshot

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/gate-wasm/gate/wasm"
)

// castagnoli is the CRC-32C table; crc32 computes with the CPU's
// instructions for it where there are some (SSE 4.2, arm64's CRC32).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Write writes the snapshot of a suspended instance of p, whose original
// binary hashed to moduleHash, to w, and returns the number of bytes
// written. st.Memory is read, not kept or changed: it may be a view of the
// instance's memory. Pages of it that are not all zero are written
// straight from it, so nothing of the size of the memory is allocated.
//
// Everything is checked before the first byte is written.
func (p *Program) Write(w io.Writer, moduleHash [32]byte, st State) (int64, error) {
	if len(st.Memory)%wasm.PageSize != 0 {
		return 0, fmt.Errorf("memory of %d bytes is not a whole number of pages", len(st.Memory))
	}
	pages := uint32(len(st.Memory) / wasm.PageSize)
	limits, hasMemory := p.Memory()
	switch {
	case !hasMemory && pages > 0:
		return 0, errors.New("the program must define exactly one memory")
	case limits.HasMax && limits.Max < pages:
		return 0, fmt.Errorf("memory of %d pages exceeds the module's maximum of %d", pages, limits.Max)
	}
	globals, err := p.globalSection(st.Globals)
	if err != nil {
		return 0, err
	}
	runs := memoryRuns(st.Memory)

	cw := newChecksumWriter(w)
	defer cw.close()
	cw.write(wasm.Magic)
	cw.write(wasm.Version)
	for i, s := range p.sections {
		switch s.ID {
		case wasm.SectionMemory:
			payload := binary.AppendUvarint(nil, 1)
			cw.section(wasm.SectionMemory, appendLimits(payload, pages, limits))
		case wasm.SectionGlobal:
			cw.section(wasm.SectionGlobal, globals)
		case wasm.SectionDataCount:
			cw.section(wasm.SectionDataCount, binary.AppendUvarint(nil, uint64(p.segments)+uint64(len(runs))))
		case wasm.SectionData:
			p.writeData(cw, st.Memory, runs)
		default:
			cw.write(p.binary[s.Start : s.Offset+len(s.Payload)])
		}
		if i == p.lastSection && p.dataIndex < 0 && len(runs) > 0 {
			p.writeData(cw, st.Memory, runs)
		}
	}
	cw.custom(sectionFrames, st.Frames)
	cw.custom(sectionABI, st.ABI)
	h := Header{Version: Version, ModuleHash: moduleHash, MemoryPages: pages, Checksum: cw.close()}
	cw.custom(sectionHeader, h.appendBinary(nil))
	if cw.err == nil {
		cw.err = cw.w.Flush()
	}
	if cw.err != nil {
		return cw.n, fmt.Errorf("writing the snapshot: %w", cw.err)
	}
	return cw.n, nil
}

// globalSection returns the payload of the global section, in which each
// mutable global starts with its value in values (which must hold all of
// them and no other), the state global with "rewinding" and the fuel
// global with 0.
func (p *Program) globalSection(values map[uint32][2]uint64) ([]byte, error) {
	m := p.module
	imported := uint32(m.NumImports(wasm.ExternGlobal))
	b := binary.AppendUvarint(nil, uint64(len(m.Globals)))
	seen := 0
	for i, g := range m.Globals {
		index := imported + uint32(i)
		b = append(b, byte(g.Type.Type), 0)
		if !g.Type.Mutable {
			b = append(b, g.Init...)
			continue
		}
		b[len(b)-1] = 1
		if p.scratch(index) {
			b = append(b, g.Init...) // zero: the scratch holds nothing between calls of check
			continue
		}
		v, ok := values[index]
		if !ok {
			return nil, fmt.Errorf("no value for mutable global %d", index)
		}
		seen++
		if g.Type.Type.IsRef() {
			return nil, fmt.Errorf("mutable global %d holds a reference (%v), which a snapshot cannot carry", index, g.Type.Type)
		}
		switch {
		case index == p.state:
			v = [2]uint64{StateRewinding}
		case p.hasFuel && index == p.fuel:
			v = [2]uint64{0} // fuel is at most 0 while rewinding
		}
		b = append(b, constExpr(g.Type.Type, v)...)
	}
	if seen != len(values) {
		return nil, fmt.Errorf("values for %d globals, the module defines %d mutable ones", len(values), seen)
	}
	return b, nil
}

// run is a run of consecutive pages of memory that are not all zero: the
// bytes [start, end).
type run struct{ start, end int }

// memoryRuns finds the runs of non-zero pages of memory.
func memoryRuns(memory []byte) []run {
	// bytes.Equal compares with vector instructions, many times faster
	// than a loop over the bytes.
	zero := make([]byte, wasm.PageSize)
	var runs []run
	for start := 0; start < len(memory); start += wasm.PageSize {
		if bytes.Equal(memory[start:start+wasm.PageSize], zero) {
			continue
		}
		end := start + wasm.PageSize
		for end < len(memory) && !bytes.Equal(memory[end:end+wasm.PageSize], zero) {
			end += wasm.PageSize
		}
		runs = append(runs, run{start, end})
		start = end
	}
	return runs
}

// writeData writes the data section: the module's (passive) segments,
// then one active segment per run of memory.
func (p *Program) writeData(cw *checksumWriter, memory []byte, runs []run) {
	heads := make([][]byte, len(runs))
	size := uint64(len(p.segmentBytes))
	for i, r := range runs {
		heads[i] = runHead(uint32(r.start), uint32(r.end-r.start))
		size += uint64(len(heads[i])) + uint64(r.end-r.start)
	}
	count := binary.AppendUvarint(nil, uint64(p.segments)+uint64(len(runs)))
	size += uint64(len(count))
	cw.write(binary.AppendUvarint([]byte{byte(wasm.SectionData)}, size))
	cw.write(count)
	cw.write(p.segmentBytes)
	for i, r := range runs {
		cw.write(heads[i])
		cw.write(memory[r.start:r.end])
	}
}

// runHead encodes the start of an active data segment of memory 0 at
// offset, of size bytes: flags 0, "i32.const offset; end", size.
func runHead(offset, size uint32) []byte {
	b := append([]byte{0}, constExpr(wasm.I32, [2]uint64{uint64(offset)})...)
	return binary.AppendUvarint(b, uint64(size))
}

// appendLimits encodes the limits of a memory with min pages.
func appendLimits(b []byte, min uint32, l wasm.Limits) []byte {
	if !l.HasMax {
		return binary.AppendUvarint(append(b, 0), uint64(min))
	}
	b = binary.AppendUvarint(append(b, 1), uint64(min))
	return binary.AppendUvarint(b, uint64(l.Max))
}

// checksumWriter writes to w and computes the CRC-32C of what it writes;
// after the first error it writes nothing more. The CRC is computed by
// another goroutine while the bytes are written, so that a snapshot costs
// one pass over the memory's time, not two, where a second core is free.
// What is written must not change until close: it is read meanwhile.
type checksumWriter struct {
	w    *bufio.Writer
	n    int64
	err  error
	todo chan []byte
	sum  chan uint32
	crc  uint32
	done bool
}

func newChecksumWriter(w io.Writer) *checksumWriter {
	c := &checksumWriter{w: bufio.NewWriterSize(w, 64<<10), todo: make(chan []byte, 64), sum: make(chan uint32, 1)}
	go func() {
		var crc uint32
		for b := range c.todo {
			crc = updateCRC(crc, b)
		}
		c.sum <- crc
	}()
	return c
}

func (c *checksumWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	if !c.done {
		c.todo <- b
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
}

// close ends the checksum and returns the CRC-32C of what was written
// before; what is written afterwards is not part of it. It may be called
// more than once.
func (c *checksumWriter) close() uint32 {
	if !c.done {
		close(c.todo)
		c.crc, c.done = <-c.sum, true
	}
	return c.crc
}

// section writes a section with its id and size.
func (c *checksumWriter) section(id wasm.SectionID, payload []byte) {
	c.write(binary.AppendUvarint([]byte{byte(id)}, uint64(len(payload))))
	c.write(payload)
}

// custom writes a custom section.
func (c *checksumWriter) custom(name string, data []byte) {
	payload := binary.AppendUvarint(nil, uint64(len(name)))
	payload = append(payload, name...)
	c.section(wasm.SectionCustom, append(payload, data...))
}
