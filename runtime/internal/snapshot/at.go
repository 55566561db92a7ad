package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/gate-wasm/gate/wasm"
)

// MaxSize is the size of the largest snapshot ParseAt reads: the largest
// memory a program may have (4 GiB) and 512 MiB for the rest.
const MaxSize = 4<<30 + 512<<20

// maxHeld bounds what ParseAt reads into memory: the snapshot without
// its memory's runs.
const maxHeld = 512 << 20

// maxSections bounds the sections ParseAt walks: a section may take 2
// bytes, and the record of its place 32. A module has at most 13
// sections that are not custom, and programs a few custom ones.
const maxSections = 1 << 16

// ParseAt is Parse of the snapshot of size bytes that r holds, for a
// snapshot too large to be read whole: it reads the sections' headers,
// every section but the data section, and of that only the program's
// segments and the headers of the memory's runs, checking sizes before
// it allocates; the bytes before the header are read once more, in
// pieces, for the checksum. Its Snapshot's Module holds every section
// but the memory's runs (the data section holds only the program's
// segments), and its Memory's runs have no Data (Stored is their total
// size): it describes a snapshot, and cannot resume it.
func ParseAt(r io.ReaderAt, size int64) (*Snapshot, error) {
	if size < 8 {
		b := make([]byte, max(size, 0))
		if err := readAt(r, b, 0); err != nil {
			return nil, err
		}
		return Parse(b)
	}
	if size > MaxSize {
		return nil, fmt.Errorf("snapshot: %d bytes, more than any snapshot (at most %d: 4 GiB of memory and 512 MiB for the rest)", size, int64(MaxSize))
	}
	head := make([]byte, 8)
	if err := readAt(r, head, 0); err != nil {
		return nil, err
	}
	if _, err := wasm.ReadSections(head); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	// The sections' places, from their headers.
	type place struct {
		id             wasm.SectionID
		start, payload int64
		end            int64
	}
	var places []place
	data := -1
	held := int64(8)
	for off := int64(8); off < size; {
		if len(places) == maxSections {
			return nil, fmt.Errorf("snapshot: more than %d sections", maxSections)
		}
		b := make([]byte, min(6, size-off))
		if err := readAt(r, b, off); err != nil {
			return nil, err
		}
		n, k := binary.Uvarint(b[1:])
		if k <= 0 || n > 1<<32-1 {
			return nil, fmt.Errorf("snapshot: malformed module at byte %d: section size", off+1)
		}
		p := place{id: wasm.SectionID(b[0]), start: off, payload: off + 1 + int64(k)}
		p.end = p.payload + int64(n)
		if p.end > size {
			return nil, fmt.Errorf("snapshot: malformed module at byte %d: section of %d bytes past the end of the file", off, n)
		}
		if p.id == wasm.SectionData {
			if data >= 0 {
				return nil, fmt.Errorf("snapshot: malformed module at byte %d: a second data section", off)
			}
			data = len(places)
		} else if held += p.end - p.start; held > maxHeld {
			return nil, fmt.Errorf("snapshot: more than %d bytes besides the memory", maxHeld)
		}
		places = append(places, p)
		off = p.end
	}
	// The header first: it says how large the memory is, against which
	// the data section is checked as it is read.
	if len(places) == 0 {
		return Parse(head) // which says why
	}
	last := places[len(places)-1]
	headerBytes := make([]byte, last.end-last.start)
	if err := readAt(r, headerBytes, last.start); err != nil {
		return nil, err
	}
	hs, err := wasm.ReadSections(append(append([]byte(nil), head...), headerBytes...))
	if err != nil || len(hs) != 1 || hs[0].ID != wasm.SectionCustom {
		return nil, errors.New("snapshot: the header is not the last section")
	}
	name, hdata, err := customSection(hs[0])
	if err != nil || name != sectionHeader {
		return nil, errors.New("snapshot: the header is not the last section")
	}
	h, err := parseHeader(hdata)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	s := &Snapshot{Header: h, data: -1, src: r, srcHeaderStart: last.start}
	// Damage is the likelier cause of any error from here on, and says
	// more.
	fail := func(err error) (*Snapshot, error) {
		if verr := s.Verify(); verr != nil {
			return nil, verr
		}
		return nil, err
	}
	compact := make([]byte, 0, held+64)
	compact = append(compact, head...)
	for i, p := range places {
		if i != data {
			start := len(compact)
			compact = append(compact, make([]byte, p.end-p.start)...)
			if err := readAt(r, compact[start:], p.start); err != nil {
				return nil, err
			}
			continue
		}
		payload, err := s.readData(r, p.payload, p.end, maxHeld-held)
		if err != nil {
			return fail(fmt.Errorf("snapshot: data section: %w", err))
		}
		compact = binary.AppendUvarint(append(compact, byte(wasm.SectionData)), uint64(len(payload)))
		compact = append(compact, payload...)
	}
	sections, err := wasm.ReadSections(compact)
	if err != nil {
		return fail(fmt.Errorf("snapshot: %w", err))
	}
	s.Module, s.sections = compact, sections
	// The header it finds is the one parsed above, from the same bytes.
	if _, err := s.locate(); err != nil {
		return fail(err)
	}
	if err := s.checkLimits(); err != nil {
		return fail(err)
	}
	if err := s.checkDataCount(); err != nil {
		return fail(err)
	}
	if err := s.Verify(); err != nil {
		return nil, err
	}
	return s, nil
}

// readAt fills b from r at off.
func readAt(r io.ReaderAt, b []byte, off int64) error {
	// ReadAt may return io.EOF with all of b read, at the end.
	if n, err := r.ReadAt(b, off); n < len(b) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("snapshot: reading %d bytes at %d: %w", len(b), off, err)
	}
	return nil
}

// readData reads the data section of r from start to end as parseData
// does, but keeps of the memory's runs only their offsets and sizes: it
// returns the payload of a data section that holds the program's
// segments only (at most room bytes), and sets s.Memory (runs without
// Data), s.Stored, s.segments and s.segmentsEnd, which is that
// payload's size.
func (s *Snapshot) readData(r io.ReaderAt, start, end int64, room int64) ([]byte, error) {
	d := &atReader{r: r, off: start, end: end}
	count := d.u32()
	if d.err == nil && uint64(count) > uint64(end-d.off)/3+1 {
		return nil, fmt.Errorf("%d segments in %d bytes", count, end-d.off)
	}
	payload := binary.AppendUvarint(nil, 0) // the count, set below
	memSize := uint64(s.MemoryPages) * wasm.PageSize
	next := uint64(0)
	for i := uint32(0); i < count && d.err == nil; i++ {
		segStart := d.off
		flags := d.u32()
		var offset uint32
		switch {
		case d.err != nil:
		case flags == 1:
			if len(s.Memory) > 0 {
				return nil, fmt.Errorf("segment %d: a passive segment after the memory's segments", i)
			}
		case flags == 0:
			if d.byte() != byte(wasm.OpI32Const) {
				d.fail(fmt.Errorf("segment %d: offset is not i32.const", i))
			}
			offset = uint32(d.s32())
			if d.byte() != byte(wasm.OpEnd) {
				d.fail(fmt.Errorf("segment %d: offset is not i32.const", i))
			}
		default:
			return nil, fmt.Errorf("segment %d: flags %d: a snapshot's memory is data segments of memory 0 with flags 0", i, flags)
		}
		size := d.u32()
		if d.err != nil {
			break
		}
		if int64(size) > end-d.off {
			return nil, fmt.Errorf("segment %d: size exceeds the section", i)
		}
		if flags == 1 {
			if int64(len(payload))+d.off+int64(size)-segStart > room {
				return nil, fmt.Errorf("segment %d: more than %d bytes besides the memory", i, int64(maxHeld))
			}
			seg := make([]byte, d.off+int64(size)-segStart)
			if err := readAt(r, seg, segStart); err != nil {
				return nil, err
			}
			payload = append(payload, seg...)
			d.skip(int64(size))
			s.segments++
			continue
		}
		switch runEnd := uint64(offset) + uint64(size); {
		case offset%wasm.PageSize != 0 || size%wasm.PageSize != 0 || size == 0:
			return nil, fmt.Errorf("segment %d: memory at byte %d, %d bytes: not whole pages", i, offset, size)
		case uint64(offset) < next:
			return nil, fmt.Errorf("segment %d: memory at byte %d overlaps or precedes the segment before", i, offset)
		case runEnd > memSize:
			return nil, fmt.Errorf("segment %d: memory at bytes %d to %d, beyond the memory's %d bytes", i, offset, runEnd, memSize)
		default:
			next = runEnd
		}
		s.Memory = append(s.Memory, Run{Offset: offset})
		s.Stored += uint64(size)
		d.skip(int64(size))
	}
	if d.err != nil {
		return nil, d.err
	}
	if d.off != end {
		return nil, fmt.Errorf("%d bytes after the last segment", end-d.off)
	}
	// The count in its shortest form, as the payload started with a
	// one-byte placeholder.
	payload = append(binary.AppendUvarint(nil, uint64(s.segments)), payload[1:]...)
	s.segmentsEnd = len(payload)
	return payload, nil
}

// atReader reads LEB128 numbers and bytes from r between off and end,
// with a sticky error, through a small window: the headers of the
// memory's runs are a few bytes each, between runs of up to 4 GiB.
type atReader struct {
	r        io.ReaderAt
	off, end int64
	err      error
	window   [64]byte
	at, n    int64 // the window holds the bytes from at, n of them
}

func (d *atReader) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *atReader) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= d.end {
		d.fail(errors.New("truncated segment"))
		return 0
	}
	if d.off < d.at || d.off >= d.at+d.n {
		d.at, d.n = d.off, min(int64(len(d.window)), d.end-d.off)
		if err := readAt(d.r, d.window[:d.n], d.at); err != nil {
			d.fail(err)
			return 0
		}
	}
	b := d.window[d.off-d.at]
	d.off++
	return b
}

// u32 reads an unsigned LEB128 number of at most 32 bits.
func (d *atReader) u32() uint32 {
	var v uint64
	for i := 0; i < 5; i++ {
		b := d.byte()
		if d.err != nil {
			return 0
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			if v > 1<<32-1 {
				break
			}
			return uint32(v)
		}
	}
	d.fail(errors.New("bad or truncated integer"))
	return 0
}

// s32 reads a signed LEB128 number of at most 32 bits.
func (d *atReader) s32() int32 {
	var b [5]byte
	n := 0
	for n < 5 {
		b[n] = d.byte()
		if d.err != nil {
			return 0
		}
		n++
		if b[n-1]&0x80 == 0 {
			break
		}
	}
	v, k := readS32(b[:n])
	if k != n {
		d.fail(errors.New("offset is not i32.const"))
	}
	return v
}

func (d *atReader) skip(n int64) { d.off += n }
