package wasm

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestReadSections(t *testing.T) {
	// part is one section of a test module: width is the number of bytes
	// of its size field (0 for the minimal encoding).
	type part struct {
		id      SectionID
		width   int
		payload []byte
	}
	// p turns an encoded section back into a part.
	p := func(encoded []byte) part {
		_, n, err := readU32(encoded[1:])
		if err != nil {
			panic(err)
		}
		return part{id: SectionID(encoded[0]), payload: encoded[1+n:]}
	}
	tests := []struct {
		name  string
		parts []part
	}{
		{name: "header only"},
		{name: "one empty type section", parts: []part{{SectionType, 0, []byte{0}}}},
		{name: "empty payload", parts: []part{{SectionType, 0, []byte{}}}},
		{name: "all sections in order", parts: []part{p(typeSec), p(importSec), p(funcSec), p(tableSec),
			p(memMin1), p(globalSec), p(exportSec), p(startSec), p(elemSec), p(dataCntSec), p(codeSec), p(dataSec)}},
		{name: "data count between element and code", parts: []part{p(elemSec), p(dataCntSec), p(codeSec)}},
		{name: "data count right before data", parts: []part{p(dataCntSec), p(dataSec)}},
		{name: "data count alone", parts: []part{p(dataCntSec)}},
		{name: "custom sections anywhere", parts: []part{p(custom("a")), p(typeSec), p(custom("b", 1, 2)),
			p(custom("c")), p(memMin1), p(custom("")), p(dataSec), p(custom("z"))}},
		{name: "custom sections only", parts: []part{p(custom("a")), p(custom("a")), p(custom("b"))}},
		{name: "empty custom section", parts: []part{{SectionCustom, 0, []byte{}}}},
		{name: "padded section sizes", parts: []part{{SectionType, 5, []byte{0}}, {SectionMemory, 3, memMin1[2:]},
			{SectionCustom, 2, nil}, {SectionData, 4, []byte{0}}}},
		{name: "padded zero size", parts: []part{{SectionCustom, 5, nil}, {SectionType, 2, nil}}},
		{name: "two-byte size", parts: []part{p(custom("big", make([]byte, 300)...))}},
		{name: "three-byte size", parts: []part{{SectionCustom, 0, make([]byte, 1<<14)}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := mod()
			var starts []int
			for _, pt := range tc.parts {
				starts = append(starts, len(in))
				in = append(in, byte(pt.id))
				if pt.width == 0 {
					in = appendU32(in, uint32(len(pt.payload)))
				} else {
					in = append(in, padU32(uint32(len(pt.payload)), pt.width)...)
				}
				in = append(in, pt.payload...)
			}
			got, err := ReadSections(in)
			if err != nil {
				t.Fatalf("ReadSections: %v", err)
			}
			if len(got) != len(tc.parts) {
				t.Fatalf("ReadSections returned %d sections; want %d: %+v", len(got), len(tc.parts), got)
			}
			for i, s := range got {
				w := tc.parts[i]
				if s.ID != w.id || s.Start != starts[i] || !bytes.Equal(s.Payload, w.payload) {
					t.Errorf("section %d = {%v start %d payload % x}; want {%v start %d payload % x}",
						i, s.ID, s.Start, s.Payload, w.id, starts[i], w.payload)
				}
				if s.Offset+len(s.Payload) > len(in) || !bytes.Equal(in[s.Offset:s.Offset+len(s.Payload)], s.Payload) {
					t.Fatalf("section %d: offset %d does not locate its payload", i, s.Offset)
				}
				if want := len(in); i+1 < len(starts) {
					want = starts[i+1]
					if s.Offset+len(s.Payload) != want {
						t.Errorf("section %d ends at %d; want %d", i, s.Offset+len(s.Payload), want)
					}
				} else if s.Offset+len(s.Payload) != want {
					t.Errorf("last section ends at %d; module has %d bytes", s.Offset+len(s.Payload), want)
				}
				// The payload aliases the module but cannot be appended into
				// what follows it.
				if cap(s.Payload) != len(s.Payload) {
					t.Errorf("section %d: payload capacity %d exceeds its length %d", i, cap(s.Payload), len(s.Payload))
				}
				if len(s.Payload) > 0 && &s.Payload[0] != &in[s.Offset] {
					t.Errorf("section %d: payload does not alias the module", i)
				}
			}
		})
	}
}

func TestReadSectionsErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        []byte
		notModule bool   // errors.Is(err, ErrNotModule)
		offset    int    // FormatError.Offset, when !notModule
		is        error  // wrapped error, if any
		contains  string // in the message
	}{
		{name: "nil", in: nil, notModule: true, contains: "empty"},
		{name: "empty", in: []byte{}, notModule: true, contains: "empty"},
		{name: "one byte", in: []byte{0x00}, notModule: true, contains: `\0asm`},
		{name: "partial magic", in: []byte{0x00, 'a', 's'}, notModule: true, contains: `\0asm`},
		{name: "wrong magic", in: []byte("\x00ASM\x01\x00\x00\x00"), notModule: true, contains: `\0asm`},
		{name: "text format", in: []byte("(module)"), notModule: true, contains: `\0asm`},
		{name: "ELF", in: []byte("\x7fELF\x02\x01\x01\x00"), notModule: true},
		{name: "magic only", in: []byte("\x00asm"), offset: 4, is: errTruncated, contains: "header"},
		{name: "truncated version", in: []byte("\x00asm\x01\x00\x00"), offset: 7, is: errTruncated, contains: "header"},
		{name: "version 2", in: []byte("\x00asm\x02\x00\x00\x00"), notModule: true, contains: "version"},
		{name: "version 0", in: []byte("\x00asm\x00\x00\x00\x00"), notModule: true, contains: "version"},
		{name: "component layer", in: []byte("\x00asm\x0d\x00\x01\x00"), notModule: true, contains: "version"},
		{name: "big-endian version", in: []byte("\x00asm\x00\x00\x00\x01"), notModule: true, contains: "version"},
		{name: "section id without size", in: mod([]byte{byte(SectionType)}), offset: 9, is: errTruncated, contains: "size of type section"},
		{name: "truncated section size", in: mod([]byte{byte(SectionType), 0x80}), offset: 9, is: errTruncated},
		{name: "truncated 4-byte section size", in: mod([]byte{byte(SectionCode), 0xff, 0xff, 0xff}), offset: 9, is: errTruncated, contains: "code section"},
		{name: "section size too long", in: mod([]byte{byte(SectionType), 0x80, 0x80, 0x80, 0x80, 0x80, 0x00}), offset: 9, is: errLEBTooLong},
		{name: "section size too large", in: mod([]byte{byte(SectionType), 0xff, 0xff, 0xff, 0xff, 0x1f}), offset: 9, is: errLEBTooLarge},
		{name: "section size past end", in: mod([]byte{byte(SectionType), 0x02, 0x00}), offset: 8, is: errTruncated, contains: "declares 2 bytes but only 1 remain"},
		{name: "section size past end, empty payload", in: mod([]byte{byte(SectionMemory), 0x01}), offset: 8, is: errTruncated, contains: "memory section"},
		{name: "section size max u32", in: mod([]byte{byte(SectionCustom), 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00}), offset: 8, is: errTruncated},
		{name: "second section past end", in: mod(typeSec, []byte{byte(SectionFunction), 0x05, 0x01}), offset: 14, is: errTruncated},
		{name: "unknown section id 13", in: mod(sec(13)), offset: 8, contains: "unknown section id 13"},
		{name: "unknown section id 0xff", in: mod(sec(0xff)), offset: 8, contains: "unknown section id 255"},
		{name: "unknown section id after others", in: mod(typeSec, sec(0x20, 1, 2)), offset: 14, contains: "unknown section id 32"},
		{name: "repeated type", in: mod(typeSec, typeSec), offset: 14, contains: "type section out of order or repeated"},
		{name: "repeated memory", in: mod(memMin1, memMin1), offset: 13, contains: "memory section out of order"},
		{name: "repeated with custom between", in: mod(memMin1, custom("x"), memMin1), offset: 17, contains: "memory section"},
		{name: "repeated data count", in: mod(dataCntSec, dataCntSec), offset: 11, contains: "data count section"},
		{name: "function before type", in: mod(funcSec, typeSec), offset: 12, contains: "type section out of order"},
		{name: "code before function", in: mod(codeSec, funcSec), offset: 14, contains: "function section"},
		{name: "data before code", in: mod(dataSec, codeSec), offset: 11, contains: "code section"},
		{name: "data count after code", in: mod(codeSec, dataCntSec), offset: 14, contains: "data count section"},
		{name: "data count after data", in: mod(dataSec, dataCntSec), offset: 11, contains: "data count section"},
		{name: "element after data count", in: mod(dataCntSec, elemSec), offset: 11, contains: "element section"},
		{name: "import after memory", in: mod(memMin1, importSec), offset: 13, contains: "import section"},
		{name: "start after element", in: mod(elemSec, startSec), offset: 11, contains: "start section"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadSections(tc.in)
			if err == nil {
				t.Fatalf("ReadSections(% x) = %+v; want an error", tc.in, got)
			}
			if got != nil {
				t.Errorf("ReadSections returned sections with its error: %+v", got)
			}
			if tc.notModule {
				if !errors.Is(err, ErrNotModule) {
					t.Errorf("error %q does not wrap ErrNotModule", err)
				}
			} else {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("error %q (%T) is not a *FormatError", err, err)
				}
				if fe.Offset != tc.offset {
					t.Errorf("error %q at offset %d; want %d", err, fe.Offset, tc.offset)
				}
				if errors.Is(err, ErrNotModule) {
					t.Errorf("error %q wraps ErrNotModule for a module with a valid header", err)
				}
				if !strings.HasPrefix(err.Error(), "malformed module at byte ") {
					t.Errorf("error %q does not say where", err)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %q", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not contain %q", err, tc.contains)
			}
		})
	}
}

// TestReadSectionsTruncations cuts a valid module at every length: each
// prefix must either parse (when it ends between sections) or fail cleanly.
func TestReadSectionsTruncations(t *testing.T) {
	m := mod(custom("name", 1, 2, 3), typeSec, importSec, funcSec, tableSec, memMin1Max2,
		globalSec, exportSec, startSec, elemSec, dataCntSec, codeSec, dataSec)
	full, err := ReadSections(m)
	if err != nil {
		t.Fatal(err)
	}
	boundaries := map[int]int{8: 0} // section end -> sections before it
	for i, s := range full {
		boundaries[s.Offset+len(s.Payload)] = i + 1
	}
	for n := 0; n < len(m); n++ {
		got, err := ReadSections(m[:n])
		count, ok := boundaries[n]
		switch {
		case ok && err != nil:
			t.Errorf("ReadSections(first %d bytes): %v; want %d sections", n, err, count)
		case ok && len(got) != count:
			t.Errorf("ReadSections(first %d bytes) = %d sections; want %d", n, len(got), count)
		case !ok && err == nil:
			t.Errorf("ReadSections(first %d bytes) succeeded; want an error", n)
		}
	}
}

func TestSectionIDString(t *testing.T) {
	tests := []struct {
		id   SectionID
		want string
	}{
		{SectionCustom, "custom"}, {SectionType, "type"}, {SectionImport, "import"},
		{SectionFunction, "function"}, {SectionTable, "table"}, {SectionMemory, "memory"},
		{SectionGlobal, "global"}, {SectionExport, "export"}, {SectionStart, "start"},
		{SectionElement, "element"}, {SectionCode, "code"}, {SectionData, "data"},
		{SectionDataCount, "data count"}, {13, "unknown section 13"}, {255, "unknown section 255"},
	}
	for _, tc := range tests {
		if got := tc.id.String(); got != tc.want {
			t.Errorf("SectionID(%d).String() = %q; want %q", byte(tc.id), got, tc.want)
		}
	}
}

func TestSectionOrder(t *testing.T) {
	// The required order of non-custom sections, data count included.
	order := []SectionID{SectionType, SectionImport, SectionFunction, SectionTable,
		SectionMemory, SectionGlobal, SectionExport, SectionStart, SectionElement,
		SectionDataCount, SectionCode, SectionData}
	for i := range order {
		for j := range order {
			m := mod(sec(order[i]), sec(order[j]))
			_, err := ReadSections(m)
			if (err == nil) != (i < j) {
				t.Errorf("ReadSections(%v then %v): err = %v; want error: %v", order[i], order[j], err, i >= j)
			}
		}
	}
	for id := 0; id < 256; id++ {
		_, known := sectionOrder(SectionID(id))
		if known != (id <= int(SectionDataCount)) {
			t.Errorf("sectionOrder(%d) known = %v", id, known)
		}
	}
}

func TestFormatError(t *testing.T) {
	err := error(&FormatError{Offset: 42, Err: errTruncated})
	if got, want := err.Error(), "malformed module at byte 42: unexpected end of data"; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
	if !errors.Is(err, errTruncated) {
		t.Error("FormatError does not unwrap to its cause")
	}
}
