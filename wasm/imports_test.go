package wasm

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// imp encodes one import entry: module and field names, then kind and
// type description.
func imp(module, field string, desc ...byte) []byte {
	return cat(name(module), name(field), desc)
}

// importsSec encodes an import section whose count is len(entries).
func importsSec(entries ...[]byte) []byte {
	return sec(SectionImport, cat(appendU32(nil, uint32(len(entries))), cat(anySlice(entries)...))...)
}

func anySlice(bs [][]byte) []any {
	out := make([]any, len(bs))
	for i, b := range bs {
		out[i] = b
	}
	return out
}

func TestImports(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want []Import
	}{
		{name: "no sections", in: mod()},
		{name: "no import section", in: mod(typeSec, funcSec, memMin1, codeSec)},
		{name: "zero imports", in: mod(sec(SectionImport, 0x00))},
		{name: "zero imports padded count", in: mod(sec(SectionImport, 0x80, 0x80, 0x00))},
		{
			name: "function",
			in:   mod(typeSec, importsSec(imp("env", "f", 0x00, 0x00))),
			want: []Import{{Module: "env", Name: "f", Kind: ExternFunc}},
		},
		{
			name: "function with large type index",
			in:   mod(importsSec(imp("env", "f", 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f))),
			want: []Import{{Module: "env", Name: "f", Kind: ExternFunc, Type: 0xffffffff}},
		},
		{
			name: "table funcref min",
			in:   mod(importsSec(imp("spectest", "table", 0x01, 0x70, 0x00, 0x0a))),
			want: []Import{{Module: "spectest", Name: "table", Kind: ExternTable, Table: TableType{FuncRef, Limits{Min: 10}}}},
		},
		{
			name: "table externref min max",
			in:   mod(importsSec(imp("m", "t", 0x01, 0x6f, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f))),
			want: []Import{{Module: "m", Name: "t", Kind: ExternTable, Table: TableType{ExternRef, Limits{Max: 0xffffffff, HasMax: true}}}},
		},
		{
			name: "memory min",
			in:   mod(importsSec(imp("env", "memory", 0x02, 0x00, 0x01))),
			want: []Import{{Module: "env", Name: "memory", Kind: ExternMemory, Memory: Limits{Min: 1}}},
		},
		{
			name: "memory min max 4 GiB",
			in:   mod(importsSec(imp("env", "memory", 0x02, 0x01, 0x00, 0x80, 0x80, 0x04))),
			want: []Import{{Module: "env", Name: "memory", Kind: ExternMemory, Memory: Limits{Max: 65536, HasMax: true}}},
		},
		{
			name: "global const i32",
			in:   mod(importsSec(imp("spectest", "global_i32", 0x03, 0x7f, 0x00))),
			want: []Import{{Module: "spectest", Name: "global_i32", Kind: ExternGlobal, Global: GlobalType{I32, false}}},
		},
		{
			name: "globals of every value type",
			in: mod(importsSec(imp("g", "a", 3, 0x7f, 0), imp("g", "b", 3, 0x7e, 1), imp("g", "c", 3, 0x7d, 0),
				imp("g", "d", 3, 0x7c, 1), imp("g", "e", 3, 0x7b, 0), imp("g", "f", 3, 0x70, 0), imp("g", "g", 3, 0x6f, 1))),
			want: []Import{{Module: "g", Name: "a", Kind: ExternGlobal, Global: GlobalType{I32, false}}, {Module: "g", Name: "b", Kind: ExternGlobal, Global: GlobalType{I64, true}}, {Module: "g", Name: "c", Kind: ExternGlobal, Global: GlobalType{F32, false}},
				{Module: "g", Name: "d", Kind: ExternGlobal, Global: GlobalType{F64, true}}, {Module: "g", Name: "e", Kind: ExternGlobal, Global: GlobalType{V128, false}}, {Module: "g", Name: "f", Kind: ExternGlobal, Global: GlobalType{FuncRef, false}}, {Module: "g", Name: "g", Kind: ExternGlobal, Global: GlobalType{ExternRef, true}}},
		},
		{
			name: "global mutable f64",
			in:   mod(importsSec(imp("g", "x", 0x03, 0x7c, 0x01))),
			want: []Import{{Module: "g", Name: "x", Kind: ExternGlobal, Global: GlobalType{F64, true}}},
		},
		{
			name: "every kind in order",
			in: mod(typeSec, importsSec(
				imp("wasi_snapshot_preview1", "fd_write", 0x00, 0x00),
				imp("env", "table", 0x01, 0x70, 0x00, 0x01),
				imp("env", "memory", 0x02, 0x00, 0x01),
				imp("env", "g", 0x03, 0x7e, 0x00),
				imp("env", "f2", 0x00, 0x00),
			), funcSec, codeSec),
			want: []Import{
				{Module: "wasi_snapshot_preview1", Name: "fd_write", Kind: ExternFunc},
				{Module: "env", Name: "table", Kind: ExternTable, Table: TableType{FuncRef, Limits{Min: 1}}},
				{Module: "env", Name: "memory", Kind: ExternMemory, Memory: Limits{Min: 1}},
				{Module: "env", Name: "g", Kind: ExternGlobal, Global: GlobalType{I64, false}},
				{Module: "env", Name: "f2", Kind: ExternFunc},
			},
		},
		{
			name: "empty names",
			in:   mod(importsSec(imp("", "", 0x00, 0x00))),
			want: []Import{{Module: "", Name: "", Kind: ExternFunc}},
		},
		{
			name: "UTF-8 names",
			in:   mod(importsSec(imp("模块", "función 🙂", 0x00, 0x00))),
			want: []Import{{Module: "模块", Name: "función 🙂", Kind: ExternFunc}},
		},
		{
			name: "names with NUL",
			in:   mod(importsSec(imp("a\x00b", "\x00", 0x00, 0x00))),
			want: []Import{{Module: "a\x00b", Name: "\x00", Kind: ExternFunc}},
		},
		{
			name: "padded name length",
			in:   mod(sec(SectionImport, cat(1, 0x83, 0x80, 0x00, "env", 1, "f", 0, 0)...)),
			want: []Import{{Module: "env", Name: "f", Kind: ExternFunc}},
		},
		{
			name: "custom sections around",
			in:   mod(custom("a"), importsSec(imp("env", "f", 0x00, 0x00)), custom("b")),
			want: []Import{{Module: "env", Name: "f", Kind: ExternFunc}},
		},
		{
			name: "padded section size",
			in:   mod(paddedSec(SectionImport, 5, cat(1, imp("env", "f", 0x00, 0x00))...)),
			want: []Import{{Module: "env", Name: "f", Kind: ExternFunc}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Imports(tc.in)
			if err != nil {
				t.Fatalf("Imports: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Imports = %#v; want %#v", got, tc.want)
			}
		})
	}
}

func TestImportsErrors(t *testing.T) {
	// The import section's payload starts at byte 10 when the section is
	// first and its size takes one byte. An error points at the item that
	// is wrong: the start of an integer, name or limits, the bytes of a
	// name, the kind byte, or the first byte left over.
	tests := []struct {
		name     string
		in       []byte
		offset   int // FormatError.Offset; -1 not to check
		is       error
		contains string
	}{
		{name: "not a module", in: []byte("nope"), offset: -1, is: ErrNotModule},
		{name: "bad framing", in: mod(importSec, importSec), offset: -1, contains: "import section out of order"},
		{name: "empty payload", in: mod(sec(SectionImport)), offset: 10, is: errTruncated, contains: "import count"},
		{name: "count too long", in: mod(sec(SectionImport, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00)), offset: 10, is: errLEBTooLong},
		{name: "count larger than entries", in: mod(sec(SectionImport, cat(2, imp("env", "f", 0, 0))...)), is: errTruncated, offset: 19, contains: "import module name"},
		{name: "huge count", in: mod(sec(SectionImport, cat(0xff, 0xff, 0xff, 0xff, 0x0f, imp("env", "f", 0, 0))...)), offset: 23, is: errTruncated},
		{name: "module name length truncated", in: mod(sec(SectionImport, 1, 0x80)), offset: 11, is: errTruncated, contains: "import module name"},
		{name: "module name past end", in: mod(sec(SectionImport, cat(1, 5, "env")...)), offset: 12, is: errTruncated, contains: "import module name"},
		{name: "module name length max u32", in: mod(sec(SectionImport, cat(1, 0xff, 0xff, 0xff, 0xff, 0x0f, "env")...)), offset: 16, is: errTruncated},
		{name: "field name missing", in: mod(sec(SectionImport, cat(1, name("env"))...)), offset: 15, is: errTruncated, contains: "import name"},
		{name: "field name past end", in: mod(sec(SectionImport, cat(1, name("env"), 3, "f")...)), offset: 16, is: errTruncated, contains: "import name"},
		{name: "kind missing", in: mod(sec(SectionImport, cat(1, name("env"), name("f"))...)), offset: 17, is: errTruncated, contains: "import kind"},
		{name: "function index missing", in: mod(sec(SectionImport, cat(1, imp("env", "f", 0))...)), offset: 18, is: errTruncated, contains: "function type index"},
		{name: "function index truncated", in: mod(sec(SectionImport, cat(1, imp("env", "f", 0, 0x80))...)), offset: 18, is: errTruncated},
		{name: "function index too large", in: mod(sec(SectionImport, cat(1, imp("env", "f", 0, 0xff, 0xff, 0xff, 0xff, 0x7f))...)), offset: 18, is: errLEBTooLarge},
		{name: "table type missing", in: mod(sec(SectionImport, cat(1, imp("env", "t", 1))...)), offset: 18, is: errTruncated, contains: "table element type"},
		{name: "table limits missing", in: mod(sec(SectionImport, cat(1, imp("env", "t", 1, 0x70))...)), offset: 19, is: errTruncated},
		{name: "table limits max truncated", in: mod(sec(SectionImport, cat(1, imp("env", "t", 1, 0x70, 1, 0))...)), offset: 19, is: errTruncated, contains: "limits maximum"},
		{name: "table max below min", in: mod(sec(SectionImport, cat(1, imp("env", "t", 1, 0x70, 1, 2, 1))...)), offset: 19, contains: "maximum 1 is below minimum 2"},
		{name: "table shared flags", in: mod(sec(SectionImport, cat(1, imp("env", "t", 1, 0x70, 3, 1, 1))...)), offset: 19, contains: "flags 0x03"},
		{name: "memory limits missing", in: mod(sec(SectionImport, cat(1, imp("env", "m", 2))...)), offset: 18, is: errTruncated},
		{name: "memory min truncated", in: mod(sec(SectionImport, cat(1, imp("env", "m", 2, 0))...)), offset: 18, is: errTruncated, contains: "limits minimum"},
		{name: "memory flags 2", in: mod(sec(SectionImport, cat(1, imp("env", "m", 2, 2, 1))...)), offset: 18, contains: "flags 0x02"},
		{name: "memory flags 0x80", in: mod(sec(SectionImport, cat(1, imp("env", "m", 2, 0x80, 1))...)), offset: 18, contains: "flags 0x80"},
		{name: "memory min over 4 GiB", in: mod(sec(SectionImport, cat(1, imp("env", "m", 2, 0, 0x81, 0x80, 0x04))...)), offset: 18, contains: "at most 65536 pages"},
		{name: "memory max over 4 GiB", in: mod(sec(SectionImport, cat(1, imp("env", "m", 2, 1, 0, 0x81, 0x80, 0x04))...)), offset: 18, contains: "at most 65536 pages"},
		{name: "memory max below min", in: mod(sec(SectionImport, cat(1, imp("env", "m", 2, 1, 2, 1))...)), offset: 18, contains: "below minimum"},
		{name: "global type missing", in: mod(sec(SectionImport, cat(1, imp("env", "g", 3))...)), offset: 18, is: errTruncated, contains: "global type"},
		{name: "global mutability missing", in: mod(sec(SectionImport, cat(1, imp("env", "g", 3, 0x7f))...)), offset: 19, is: errTruncated, contains: "global mutability"},
		{name: "table element type i32", in: mod(sec(SectionImport, cat(1, imp("env", "t", 1, 0x7f, 0, 1))...)), offset: 18, contains: "table element type 0x7f is not a reference type"},
		{name: "table element type 0x40", in: mod(sec(SectionImport, cat(1, imp("env", "t", 1, 0x40, 0, 1))...)), offset: 18, contains: "not a reference type"},
		{name: "global type 0x40", in: mod(sec(SectionImport, cat(1, imp("env", "g", 3, 0x40, 0))...)), offset: 18, contains: "global type 0x40 is not a value type"},
		{name: "global type 0x00", in: mod(sec(SectionImport, cat(1, imp("env", "g", 3, 0x00, 0))...)), offset: 18, contains: "not a value type"},
		{name: "global mutability 2", in: mod(sec(SectionImport, cat(1, imp("env", "g", 3, 0x7f, 2))...)), offset: 19, contains: "global mutability 0x02 is malformed"},
		{name: "global mutability 0xff", in: mod(sec(SectionImport, cat(1, imp("env", "g", 3, 0x7f, 0xff))...)), offset: 19, contains: "global mutability 0xff"},
		{name: "unknown kind 4", in: mod(sec(SectionImport, cat(1, imp("env", "x", 4, 0))...)), offset: 17, contains: "import 0 has unknown kind 0x04"},
		{name: "unknown kind 0xff", in: mod(sec(SectionImport, cat(2, imp("env", "f", 0, 0), imp("env", "x", 0xff))...)), offset: 25, contains: "import 1 has unknown kind 0xff"},
		{name: "module name invalid UTF-8", in: mod(sec(SectionImport, cat(1, 2, 0xc3, 0x28, name("f"), 0, 0)...)), offset: 12, contains: "import module name is not valid UTF-8"},
		{name: "field name invalid UTF-8", in: mod(sec(SectionImport, cat(1, name("env"), 1, 0xff, 0, 0)...)), offset: 16, contains: "import name is not valid UTF-8"},
		{name: "name lone continuation byte", in: mod(sec(SectionImport, cat(1, name("env"), 1, 0x80, 0, 0)...)), offset: 16, contains: "not valid UTF-8"},
		{name: "name truncated multibyte", in: mod(sec(SectionImport, cat(1, name("env"), 2, "a", 0xe2, 0, 0)...)), offset: 16, contains: "not valid UTF-8"},
		{name: "name overlong encoding", in: mod(sec(SectionImport, cat(1, name("env"), 2, 0xc0, 0x80, 0, 0)...)), offset: 16, contains: "not valid UTF-8"},
		{name: "name surrogate", in: mod(sec(SectionImport, cat(1, name("env"), 3, 0xed, 0xa0, 0x80, 0, 0)...)), offset: 16, contains: "not valid UTF-8"},
		{name: "leftover byte", in: mod(sec(SectionImport, cat(1, imp("env", "f", 0, 0), 0)...)), offset: 19, contains: "import section has 1 bytes left over"},
		{name: "leftover entry", in: mod(sec(SectionImport, cat(1, imp("env", "f", 0, 0), imp("env", "g", 0, 0))...)), offset: 19, contains: "8 bytes left over"},
		{name: "zero count with leftover", in: mod(sec(SectionImport, 0, 0, 0)), offset: 11, contains: "2 bytes left over"},
		{name: "offset after custom section", in: mod(custom("ab"), sec(SectionImport, 1, 0xc0)), offset: 5 + 10 + 1, is: errTruncated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Imports(tc.in)
			if err == nil {
				t.Fatalf("Imports(% x) = %#v; want an error", tc.in, got)
			}
			if got != nil {
				t.Errorf("Imports returned %#v with its error", got)
			}
			if tc.offset >= 0 {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("error %q (%T) is not a *FormatError", err, err)
				}
				if fe.Offset != tc.offset {
					t.Errorf("error %q at offset %d; want %d", err, fe.Offset, tc.offset)
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

// TestImportsTruncatedEntries cuts the import section of a module with
// every kind of import at every length (keeping the section framing
// consistent): every cut must fail with an error, never panic.
func TestImportsTruncatedEntries(t *testing.T) {
	payload := cat(4,
		imp("env", "f", 0x00, 0x80, 0x00),
		imp("env", "t", 0x01, 0x70, 0x01, 0x00, 0x02),
		imp("env", "m", 0x02, 0x01, 0x01, 0x02),
		imp("env", "g", 0x03, 0x7f, 0x01))
	if _, err := Imports(mod(sec(SectionImport, payload...))); err != nil {
		t.Fatalf("full section: %v", err)
	}
	for n := 0; n < len(payload); n++ {
		m := mod(sec(SectionImport, payload[:n]...))
		if got, err := Imports(m); err == nil {
			t.Errorf("Imports(payload cut to %d bytes) = %#v; want an error", n, got)
		} else if !errors.Is(err, errTruncated) {
			t.Errorf("Imports(payload cut to %d bytes): %v; want it to wrap %v", n, err, errTruncated)
		}
	}
}

func TestExternKindString(t *testing.T) {
	tests := []struct {
		k    ExternKind
		want string
	}{
		{ExternFunc, "function"}, {ExternTable, "table"}, {ExternMemory, "memory"},
		{ExternGlobal, "global"}, {4, "extern kind 4"}, {255, "extern kind 255"},
	}
	for _, tc := range tests {
		if got := tc.k.String(); got != tc.want {
			t.Errorf("ExternKind(%d).String() = %q; want %q", byte(tc.k), got, tc.want)
		}
	}
}
