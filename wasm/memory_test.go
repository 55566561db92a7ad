package wasm

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestReadLimits(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		want     Limits
		n        int
		contains string // error, when not empty
	}{
		{name: "min 0", in: []byte{0, 0}, want: Limits{}, n: 2},
		{name: "min 1", in: []byte{0, 1, 0xaa}, want: Limits{Min: 1}, n: 2},
		{name: "min max", in: []byte{1, 1, 2}, want: Limits{Min: 1, Max: 2, HasMax: true}, n: 3},
		{name: "min equals max", in: []byte{1, 3, 3}, want: Limits{Min: 3, Max: 3, HasMax: true}, n: 3},
		{name: "max 0", in: []byte{1, 0, 0}, want: Limits{HasMax: true}, n: 3},
		{name: "padded", in: []byte{1, 0x81, 0x80, 0x00, 0x82, 0x80, 0x80, 0x80, 0x00}, want: Limits{Min: 1, Max: 2, HasMax: true}, n: 9},
		{name: "max u32", in: []byte{1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, want: Limits{Max: math.MaxUint32, HasMax: true}, n: 7},
		{name: "empty", in: nil, contains: "unexpected end"},
		{name: "flags only", in: []byte{0}, contains: "limits minimum: unexpected end"},
		{name: "max missing", in: []byte{1, 0}, contains: "limits maximum: unexpected end"},
		{name: "min too long", in: []byte{0, 0x80, 0x80, 0x80, 0x80, 0x80, 0}, contains: "limits minimum: integer representation too long"},
		{name: "max too large", in: []byte{1, 0, 0xff, 0xff, 0xff, 0xff, 0x1f}, contains: "limits maximum: integer too large"},
		{name: "shared", in: []byte{3, 1, 1}, contains: "limits flags 0x03 are not supported"},
		{name: "flags 2", in: []byte{2, 1}, contains: "limits flags 0x02"},
		{name: "memory64 flags", in: []byte{4, 1}, contains: "limits flags 0x04"},
		{name: "max below min", in: []byte{1, 2, 1}, contains: "limits maximum 1 is below minimum 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, n, err := readLimits(tc.in)
			if tc.contains != "" {
				if err == nil || !strings.Contains(err.Error(), tc.contains) {
					t.Fatalf("readLimits(% x) = %+v, %d, %v; want error containing %q", tc.in, l, n, err, tc.contains)
				}
				return
			}
			if err != nil || l != tc.want || n != tc.n {
				t.Fatalf("readLimits(% x) = %+v, %d, %v; want %+v, %d, nil", tc.in, l, n, err, tc.want, tc.n)
			}
			// Re-encoding gives the minimal form, which decodes the same.
			enc := appendLimits(nil, l)
			l2, n2, err := readLimits(enc)
			if err != nil || l2 != l || n2 != len(enc) {
				t.Errorf("readLimits(appendLimits(%+v) = % x) = %+v, %d, %v", l, enc, l2, n2, err)
			}
		})
	}
}

func TestMemory(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		want     Limits
		ok       bool
		contains string // error, when not empty
	}{
		{name: "no sections", in: mod()},
		{name: "no memory", in: mod(typeSec, funcSec, codeSec)},
		{name: "imported memory only", in: mod(importsSec(imp("env", "memory", 2, 0, 1)))},
		{name: "zero memories", in: mod(sec(SectionMemory, 0))},
		{name: "min", in: mod(memMin1), want: Limits{Min: 1}, ok: true},
		{name: "min max", in: mod(memMin1Max2), want: Limits{Min: 1, Max: 2, HasMax: true}, ok: true},
		{name: "zero pages", in: mod(memSec(Limits{HasMax: true})), want: Limits{HasMax: true}, ok: true},
		{name: "4 GiB", in: mod(memSec(Limits{Min: MaxPages, Max: MaxPages, HasMax: true})), want: Limits{Min: MaxPages, Max: MaxPages, HasMax: true}, ok: true},
		{name: "padded", in: mod(paddedSec(SectionMemory, 5, 0x81, 0x00, 0x01, 0x81, 0x00, 0x82, 0x00)), want: Limits{Min: 1, Max: 2, HasMax: true}, ok: true},
		{name: "among others", in: mod(custom("x"), typeSec, funcSec, memMin1Max2, exportSec, codeSec, dataSec),
			want: Limits{Min: 1, Max: 2, HasMax: true}, ok: true},
		{name: "bad framing", in: mod(memMin1, memMin1), contains: "out of order"},
		{name: "not a module", in: []byte{1, 2, 3}, contains: "not a WebAssembly module"},
		{name: "empty section", in: mod(sec(SectionMemory)), contains: "memory count: unexpected end"},
		{name: "two memories", in: mod(sec(SectionMemory, 2, 0, 1, 0, 1)), contains: "2 memories declared; at most one is allowed"},
		{name: "count too long", in: mod(sec(SectionMemory, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00)), contains: "integer representation too long"},
		{name: "limits missing", in: mod(sec(SectionMemory, 1)), contains: "unexpected end"},
		{name: "shared memory", in: mod(sec(SectionMemory, 1, 3, 1, 2)), contains: "flags 0x03"},
		{name: "min over 4 GiB", in: mod(sec(SectionMemory, 1, 0, 0x81, 0x80, 0x04)), contains: "at most 65536 pages"},
		{name: "max over 4 GiB", in: mod(sec(SectionMemory, 1, 1, 0, 0x81, 0x80, 0x04)), contains: "at most 65536 pages"},
		{name: "max below min", in: mod(sec(SectionMemory, 1, 1, 2, 1)), contains: "below minimum"},
		{name: "leftover", in: mod(sec(SectionMemory, 1, 0, 1, 0)), contains: "memory section has 1 bytes left over"},
		{name: "leftover after zero count", in: mod(sec(SectionMemory, 0, 0, 1)), contains: "memory section has 2 bytes left over"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, ok, err := Memory(tc.in)
			if tc.contains != "" {
				if err == nil || !strings.Contains(err.Error(), tc.contains) {
					t.Fatalf("Memory = %+v, %v, %v; want error containing %q", l, ok, err, tc.contains)
				}
				if ok {
					t.Error("Memory reported a memory with its error")
				}
				return
			}
			if err != nil || l != tc.want || ok != tc.ok {
				t.Fatalf("Memory = %+v, %v, %v; want %+v, %v, nil", l, ok, err, tc.want, tc.ok)
			}
		})
	}
}

func TestCapMemory(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		cap  uint32
		want Limits // the memory of the result
		ok   bool   // whether the result defines a memory
		same bool   // the result is the input slice itself
	}{
		{name: "no sections", in: mod(), cap: 16, same: true},
		{name: "no memory", in: mod(typeSec, funcSec, exportSec, codeSec), cap: 16, same: true},
		{name: "zero memories", in: mod(sec(SectionMemory, 0)), cap: 16, same: true},
		{name: "imported memory", in: mod(importsSec(imp("env", "memory", 2, 0, 100))), cap: 16, same: true},
		{name: "min only", in: mod(memMin1), cap: 16, want: Limits{Min: 1, Max: 16, HasMax: true}, ok: true},
		{name: "min only zero", in: mod(memSec(Limits{})), cap: 0, want: Limits{HasMax: true}, ok: true},
		{name: "min equals cap, no max", in: mod(memSec(Limits{Min: 16})), cap: 16, want: Limits{Min: 16, Max: 16, HasMax: true}, ok: true},
		{name: "max above cap", in: mod(memSec(Limits{Min: 1, Max: 1000, HasMax: true})), cap: 16, want: Limits{Min: 1, Max: 16, HasMax: true}, ok: true},
		{name: "max 4 GiB", in: mod(memSec(Limits{Max: MaxPages, HasMax: true})), cap: 1, want: Limits{Max: 1, HasMax: true}, ok: true},
		{name: "max equals cap", in: mod(memSec(Limits{Min: 1, Max: 16, HasMax: true})), cap: 16, want: Limits{Min: 1, Max: 16, HasMax: true}, ok: true, same: true},
		{name: "max below cap", in: mod(memMin1Max2), cap: 16, want: Limits{Min: 1, Max: 2, HasMax: true}, ok: true, same: true},
		{name: "max zero", in: mod(memSec(Limits{HasMax: true})), cap: 0, want: Limits{HasMax: true}, ok: true, same: true},
		{name: "cap 4 GiB, no max", in: mod(memMin1), cap: MaxPages, want: Limits{Min: 1, Max: MaxPages, HasMax: true}, ok: true},
		{name: "cap above 4 GiB, no max", in: mod(memMin1), cap: math.MaxUint32, want: Limits{Min: 1, Max: MaxPages, HasMax: true}, ok: true},
		{name: "cap above 4 GiB, max 4 GiB", in: mod(memSec(Limits{Min: 1, Max: MaxPages, HasMax: true})), cap: MaxPages + 1,
			want: Limits{Min: 1, Max: MaxPages, HasMax: true}, ok: true, same: true},
		{name: "padded section size", in: mod(typeSec, paddedSec(SectionMemory, 5, 1, 0, 1), dataSec), cap: 16,
			want: Limits{Min: 1, Max: 16, HasMax: true}, ok: true},
		{name: "padded limits", in: mod(paddedSec(SectionMemory, 4, 0x81, 0x80, 0x00, 0x01, 0x81, 0x80, 0x80, 0x80, 0x00, 0xff, 0xff, 0x03)), cap: 2,
			want: Limits{Min: 1, Max: 2, HasMax: true}, ok: true},
		{name: "padded limits under cap", in: mod(paddedSec(SectionMemory, 4, 0x81, 0x80, 0x00, 0x01, 0x81, 0x80, 0x80, 0x80, 0x00, 0x82, 0x80, 0x00)), cap: 2,
			want: Limits{Min: 1, Max: 2, HasMax: true}, ok: true, same: true},
		{name: "grows section size to two bytes", in: mod(custom("pad", make([]byte, 200)...), memSec(Limits{Min: 1})), cap: 1 << 15,
			want: Limits{Min: 1, Max: 1 << 15, HasMax: true}, ok: true},
		{name: "every section around", in: mod(custom("first"), typeSec, importsSec(imp("env", "f", 0, 0)), funcSec, tableSec,
			memSec(Limits{Min: 2}), custom("mid", 1, 2, 3), globalSec, exportSec, startSec, elemSec, dataCntSec, codeSec, dataSec, custom("last")),
			cap: 256, want: Limits{Min: 2, Max: 256, HasMax: true}, ok: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := bytes.Clone(tc.in)
			got, err := CapMemory(tc.in, tc.cap)
			if err != nil {
				t.Fatalf("CapMemory: %v", err)
			}
			if !bytes.Equal(tc.in, orig) {
				t.Fatal("CapMemory modified its input")
			}
			same := len(got) > 0 && &got[0] == &tc.in[0] && len(got) == len(tc.in)
			if same != tc.same {
				t.Errorf("CapMemory returned its input itself: %v; want %v", same, tc.same)
			}
			l, ok, err := Memory(got)
			if err != nil {
				t.Fatalf("Memory(CapMemory(...) = % x): %v", got, err)
			}
			if l != tc.want || ok != tc.ok {
				t.Errorf("Memory(CapMemory(...)) = %+v, %v; want %+v, %v", l, ok, tc.want, tc.ok)
			}
			if ok && (!l.HasMax || l.Max > min(tc.cap, MaxPages)) {
				t.Errorf("capped maximum %+v is not at most %d", l, tc.cap)
			}
			checkOnlyMemoryChanged(t, tc.in, got)
		})
	}
}

// checkOnlyMemoryChanged checks that every section of out but the memory
// section is byte-for-byte the one of in, in the same order, and that
// out's memory section, if rewritten, is minimal.
func checkOnlyMemoryChanged(t testing.TB, in, out []byte) {
	t.Helper()
	a, b := sectionsExcept(t, in, SectionMemory), sectionsExcept(t, out, SectionMemory)
	if len(a) != len(b) {
		t.Fatalf("%d sections besides memory before capping, %d after", len(a), len(b))
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Errorf("section %d changed:\n before % x\n after  % x", i, a[i], b[i])
		}
	}
	if !bytes.Equal(out[:8], in[:8]) {
		t.Errorf("header changed: % x", out[:8])
	}
	inSecs, _ := ReadSections(in)
	outSecs, _ := ReadSections(out)
	if len(inSecs) != len(outSecs) {
		t.Fatalf("%d sections before capping, %d after", len(inSecs), len(outSecs))
	}
	for i := range inSecs {
		if inSecs[i].ID != outSecs[i].ID {
			t.Errorf("section %d is %v before capping, %v after", i, inSecs[i].ID, outSecs[i].ID)
		}
	}
}

func TestCapMemoryErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		cap      uint32
		capErr   *MemoryCapError // when the error must be one
		contains string
	}{
		{name: "min above cap", in: mod(memSec(Limits{Min: 17})), cap: 16, capErr: &MemoryCapError{MinPages: 17, CapPages: 16},
			contains: "module needs at least 17 pages (1088 KiB) of memory, more than the cap of 16 pages (1 MiB)"},
		{name: "min above cap with max", in: mod(memSec(Limits{Min: 2, Max: 3, HasMax: true})), cap: 1, capErr: &MemoryCapError{MinPages: 2, CapPages: 1},
			contains: "at least 2 pages (128 KiB) of memory, more than the cap of 1 pages (64 KiB)"},
		{name: "min 4 GiB, cap 0", in: mod(memSec(Limits{Min: MaxPages})), cap: 0, capErr: &MemoryCapError{MinPages: MaxPages, CapPages: 0},
			contains: "at least 65536 pages (4 GiB) of memory, more than the cap of 0 pages (0 B)"},
		{name: "not a module", in: []byte("\x00asm\x02\x00\x00\x00"), cap: 16, contains: "not a WebAssembly module"},
		{name: "empty", in: nil, cap: 16, contains: "empty"},
		{name: "bad framing", in: mod(memMin1, typeSec), cap: 16, contains: "type section out of order"},
		{name: "truncated memory section", in: mod(memMin1)[:12], cap: 16, contains: "unexpected end"},
		{name: "two memories", in: mod(sec(SectionMemory, 2, 0, 1, 0, 1)), cap: 16, contains: "at most one"},
		{name: "min over 4 GiB", in: mod(sec(SectionMemory, 1, 0, 0x81, 0x80, 0x04)), cap: math.MaxUint32, contains: "at most 65536 pages"},
		{name: "max over 4 GiB", in: mod(sec(SectionMemory, 1, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f)), cap: 16, contains: "at most 65536 pages"},
		{name: "leftover", in: mod(sec(SectionMemory, 1, 0, 1, 5)), cap: 16, contains: "left over"},
		{name: "leftover after zero count", in: mod(sec(SectionMemory, 0, 5)), cap: 16, contains: "left over"},
		{name: "max below min", in: mod(sec(SectionMemory, 1, 1, 3, 2)), cap: 16, contains: "below minimum"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CapMemory(tc.in, tc.cap)
			if err == nil {
				t.Fatalf("CapMemory = % x; want an error", got)
			}
			if got != nil {
				t.Errorf("CapMemory returned % x with its error", got)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("error %q does not contain %q", err, tc.contains)
			}
			var ce *MemoryCapError
			isCap := errors.As(err, &ce)
			switch {
			case tc.capErr != nil && !isCap:
				t.Errorf("error %q (%T) is not a *MemoryCapError", err, err)
			case tc.capErr != nil && *ce != *tc.capErr:
				t.Errorf("error = %+v; want %+v", *ce, *tc.capErr)
			case tc.capErr == nil && isCap:
				t.Errorf("malformed module reported as over the cap: %v", err)
			}
		})
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    uint64
		want string
	}{
		{0, "0 B"}, {1, "1 B"}, {1023, "1023 B"}, {1024, "1 KiB"}, {1536, "1536 B"},
		{PageSize, "64 KiB"}, {17 * PageSize, "1088 KiB"}, {1 << 20, "1 MiB"},
		{64 << 20, "64 MiB"}, {1 << 30, "1 GiB"}, {MaxPages * PageSize, "4 GiB"},
		{1 << 40, "1 TiB"}, {1 << 50, "1024 TiB"}, {math.MaxUint64, "18446744073709551615 B"},
	}
	for _, tc := range tests {
		if got := FormatBytes(tc.n); got != tc.want {
			t.Errorf("FormatBytes(%d) = %q; want %q", tc.n, got, tc.want)
		}
	}
}
