package wasm

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestReadU32(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		want  uint32
		n     int
		error error
	}{
		{name: "zero", in: []byte{0x00}, want: 0, n: 1},
		{name: "one", in: []byte{0x01}, want: 1, n: 1},
		{name: "max one byte", in: []byte{0x7f}, want: 127, n: 1},
		{name: "min two bytes", in: []byte{0x80, 0x01}, want: 128, n: 2},
		{name: "624485", in: []byte{0xe5, 0x8e, 0x26}, want: 624485, n: 3},
		{name: "max two bytes", in: []byte{0xff, 0x7f}, want: 1<<14 - 1, n: 2},
		{name: "max four bytes", in: []byte{0xff, 0xff, 0xff, 0x7f}, want: 1<<28 - 1, n: 4},
		{name: "min five bytes", in: []byte{0x80, 0x80, 0x80, 0x80, 0x01}, want: 1 << 28, n: 5},
		{name: "max u32", in: []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, want: math.MaxUint32, n: 5},
		{name: "trailing bytes ignored", in: []byte{0x05, 0xff, 0xff}, want: 5, n: 1},
		{name: "padded zero", in: []byte{0x80, 0x00}, want: 0, n: 2},
		{name: "padded zero five bytes", in: []byte{0x80, 0x80, 0x80, 0x80, 0x00}, want: 0, n: 5},
		{name: "padded one five bytes", in: []byte{0x81, 0x80, 0x80, 0x80, 0x00}, want: 1, n: 5},
		{name: "padded 127 three bytes", in: []byte{0xff, 0x80, 0x00}, want: 127, n: 3},

		{name: "empty", in: nil, error: errTruncated},
		{name: "truncated after one", in: []byte{0x80}, error: errTruncated},
		{name: "truncated after four", in: []byte{0xff, 0xff, 0xff, 0xff}, error: errTruncated},
		{name: "too long", in: []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, error: errLEBTooLong},
		{name: "too long with value", in: []byte{0x82, 0x80, 0x80, 0x80, 0x80, 0x00}, error: errLEBTooLong},
		{name: "too long truncated", in: []byte{0x80, 0x80, 0x80, 0x80, 0x80}, error: errLEBTooLong},
		{name: "too long all ones", in: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x0f}, error: errLEBTooLong},
		{name: "too large 0x10", in: []byte{0xff, 0xff, 0xff, 0xff, 0x10}, error: errLEBTooLarge},
		{name: "too large 0x70", in: []byte{0x82, 0x80, 0x80, 0x80, 0x70}, error: errLEBTooLarge},
		{name: "too large 0x1f", in: []byte{0xff, 0xff, 0xff, 0xff, 0x1f}, error: errLEBTooLarge},
		{name: "too large 0x40", in: []byte{0x80, 0x80, 0x80, 0x80, 0x40}, error: errLEBTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, n, err := readU32(tc.in)
			if tc.error != nil {
				if !errors.Is(err, tc.error) {
					t.Fatalf("readU32(% x) = %d, %d, %v; want error %v", tc.in, v, n, err, tc.error)
				}
				if v != 0 || n != 0 {
					t.Errorf("readU32(% x) returned %d, %d with its error; want 0, 0", tc.in, v, n)
				}
				return
			}
			if err != nil || v != tc.want || n != tc.n {
				t.Fatalf("readU32(% x) = %d, %d, %v; want %d, %d, nil", tc.in, v, n, err, tc.want, tc.n)
			}
		})
	}
}

func TestAppendU32(t *testing.T) {
	tests := []struct {
		v    uint32
		want []byte
	}{
		{0, []byte{0x00}},
		{1, []byte{0x01}},
		{63, []byte{0x3f}},
		{64, []byte{0x40}},
		{127, []byte{0x7f}},
		{128, []byte{0x80, 0x01}},
		{255, []byte{0xff, 0x01}},
		{1<<14 - 1, []byte{0xff, 0x7f}},
		{1 << 14, []byte{0x80, 0x80, 0x01}},
		{624485, []byte{0xe5, 0x8e, 0x26}},
		{65536, []byte{0x80, 0x80, 0x04}},
		{1<<21 - 1, []byte{0xff, 0xff, 0x7f}},
		{1 << 21, []byte{0x80, 0x80, 0x80, 0x01}},
		{1<<28 - 1, []byte{0xff, 0xff, 0xff, 0x7f}},
		{1 << 28, []byte{0x80, 0x80, 0x80, 0x80, 0x01}},
		{math.MaxUint32, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}},
	}
	for _, tc := range tests {
		got := appendU32(nil, tc.v)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("appendU32(nil, %d) = % x; want % x", tc.v, got, tc.want)
		}
		// Appending keeps what is already there.
		prefix := []byte{0xaa, 0xbb}
		got = appendU32(prefix[:2:2], tc.v)
		if !bytes.Equal(got[:2], prefix) || !bytes.Equal(got[2:], tc.want) {
			t.Errorf("appendU32(% x, %d) = % x; want prefix kept", prefix, tc.v, got)
		}
	}
}

func TestU32RoundTrip(t *testing.T) {
	values := []uint32{0, 1, 2, 126, 127, 128, 129, 255, 256, 300, 16383, 16384,
		65535, 65536, 65537, 1<<21 - 1, 1 << 21, 1<<28 - 1, 1 << 28,
		1<<31 - 1, 1 << 31, math.MaxUint32 - 1, math.MaxUint32}
	for shift := 0; shift < 32; shift++ {
		values = append(values, 1<<shift, 1<<shift-1, 1<<shift+1)
	}
	for _, v := range values {
		b := appendU32(nil, v)
		got, n, err := readU32(b)
		if err != nil || got != v || n != len(b) {
			t.Errorf("readU32(appendU32(%d) = % x) = %d, %d, %v; want %d, %d, nil", v, b, got, n, err, v, len(b))
		}
		// Minimal length: 1 byte per started group of 7 bits.
		want := 1
		for x := v >> 7; x != 0; x >>= 7 {
			want++
		}
		if len(b) != want {
			t.Errorf("appendU32(%d) took %d bytes; want %d", v, len(b), want)
		}
		// Every padded encoding up to 5 bytes decodes to the same value.
		for w := len(b); w <= 5; w++ {
			p := padU32(v, w)
			got, n, err := readU32(p)
			if err != nil || got != v || n != w {
				t.Errorf("readU32(% x) = %d, %d, %v; want %d, %d, nil", p, got, n, err, v, w)
			}
		}
	}
}

func FuzzReadU32(f *testing.F) {
	f.Add([]byte{0x00})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := readU32(b)
		if err != nil {
			return
		}
		if n < 1 || n > 5 || n > len(b) {
			t.Fatalf("readU32(% x) took %d bytes", b, n)
		}
		if w := len(appendU32(nil, v)); w > n {
			t.Fatalf("readU32(% x) = %d in %d bytes, shorter than its minimal encoding of %d", b, v, n, w)
		}
		if b[n-1]&0x80 != 0 {
			t.Fatalf("readU32(% x) stopped at a continuation byte", b)
		}
	})
}

func TestReadSigned(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		bits  int
		want  int64
		n     int
		error error
	}{
		{name: "zero", in: []byte{0x00}, bits: 32, want: 0, n: 1},
		{name: "minus one", in: []byte{0x7f}, bits: 32, want: -1, n: 1},
		{name: "63", in: []byte{0x3f}, bits: 32, want: 63, n: 1},
		{name: "64", in: []byte{0xc0, 0x00}, bits: 32, want: 64, n: 2},
		{name: "-64", in: []byte{0x40}, bits: 32, want: -64, n: 1},
		{name: "-65", in: []byte{0xbf, 0x7f}, bits: 32, want: -65, n: 2},
		{name: "max s32", in: []byte{0xff, 0xff, 0xff, 0xff, 0x07}, bits: 32, want: math.MaxInt32, n: 5},
		{name: "min s32", in: []byte{0x80, 0x80, 0x80, 0x80, 0x78}, bits: 32, want: math.MinInt32, n: 5},
		{name: "padded minus one", in: []byte{0xff, 0xff, 0xff, 0xff, 0x7f}, bits: 32, want: -1, n: 5},
		{name: "padded zero", in: []byte{0x80, 0x80, 0x00}, bits: 32, want: 0, n: 3},
		{name: "max s33", in: []byte{0xff, 0xff, 0xff, 0xff, 0x0f}, bits: 33, want: 1<<32 - 1, n: 5},
		{name: "min s33", in: []byte{0x80, 0x80, 0x80, 0x80, 0x70}, bits: 33, want: -1 << 32, n: 5},
		{name: "max s64", in: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}, bits: 64, want: math.MaxInt64, n: 10},
		{name: "min s64", in: []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f}, bits: 64, want: math.MinInt64, n: 10},
		{name: "s64 minus one padded", in: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, bits: 64, want: -1, n: 10},

		{name: "empty", in: nil, bits: 32, error: errTruncated},
		{name: "truncated", in: []byte{0x80}, bits: 64, error: errTruncated},
		{name: "s32 too long", in: []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, bits: 32, error: errLEBTooLong},
		{name: "s32 too large", in: []byte{0x80, 0x80, 0x80, 0x80, 0x08}, bits: 32, error: errLEBTooLarge},
		{name: "s32 negative too large", in: []byte{0xff, 0xff, 0xff, 0xff, 0x77}, bits: 32, error: errLEBTooLarge},
		{name: "s33 too large", in: []byte{0x80, 0x80, 0x80, 0x80, 0x20}, bits: 33, error: errLEBTooLarge},
		{name: "s64 too large", in: []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, bits: 64, error: errLEBTooLarge},
		{name: "s64 negative too large", in: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7e}, bits: 64, error: errLEBTooLarge},
		{name: "s64 too long", in: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}, bits: 64, error: errLEBTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, n, err := readSigned(tc.in, tc.bits)
			if tc.error != nil {
				if !errors.Is(err, tc.error) || v != 0 || n != 0 {
					t.Fatalf("readSigned(% x, %d) = %d, %d, %v; want error %v", tc.in, tc.bits, v, n, err, tc.error)
				}
				return
			}
			if err != nil || v != tc.want || n != tc.n {
				t.Fatalf("readSigned(% x, %d) = %d, %d, %v; want %d, %d, nil", tc.in, tc.bits, v, n, err, tc.want, tc.n)
			}
		})
	}
}

func TestAppendSigned(t *testing.T) {
	values := []int64{0, 1, -1, 63, 64, -64, -65, 127, 128, -128, math.MaxInt32, math.MinInt32,
		1<<32 - 1, -1 << 32, math.MaxInt64, math.MinInt64}
	for _, v := range values {
		b := appendSigned(nil, v)
		got, n, err := readSigned(b, 64)
		if err != nil || got != v || n != len(b) {
			t.Errorf("readSigned(appendSigned(%d) = % x) = %d, %d, %v", v, b, got, n, err)
		}
		// Shortest: without its last byte, the encoding would not end or
		// would stand for another number.
		if len(b) > 1 {
			if shorter, _, err := readSigned(append(b[:len(b)-2:len(b)-2], b[len(b)-2]&0x7f), 64); err == nil && shorter == v {
				t.Errorf("appendSigned(%d) = % x is not the shortest", v, b)
			}
		}
	}
}

func TestULEB128Len(t *testing.T) {
	for _, v := range []uint32{0, 1, 127, 128, 1<<14 - 1, 1 << 14, 1<<21 - 1, 1 << 21, 1<<28 - 1, 1 << 28, math.MaxUint32} {
		if got, want := uleb128Len(v), len(appendU32(nil, v)); got != want {
			t.Errorf("uleb128Len(%d) = %d; want %d", v, got, want)
		}
	}
}
