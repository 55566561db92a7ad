package wasm

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// reader decodes the contents of one section. The first error sticks:
// every later read returns zero values, so that decoding code can read a
// whole record and check once.
type reader struct {
	b    []byte
	off  int
	base int // offset of b in the module, for error positions
	err  error
	// padded records that a u32 was not in its shortest encoding, so
	// that Encode knows it cannot reproduce these bytes by encoding.
	padded bool
}

func (r *reader) fail(err error) { r.failAt(r.off, err) }

// failAt records err at offset off of b, for an error found only after
// reading past the bytes it concerns.
func (r *reader) failAt(off int, err error) {
	if r.err == nil {
		r.err = &FormatError{Offset: r.base + off, Err: err}
	}
}

// overLimit records, unless an error came first, that the input has
// value of what limit max bounds, at offset off of b.
func (r *reader) overLimit(off int, limit string, max uint32, value uint64) {
	if r.err == nil {
		r.err = &LimitError{Limit: limit, Max: uint64(max), Value: value, Offset: r.base + off}
	}
}

// count checks a count read at offset off against limit max.
func (r *reader) count(off int, n uint64, limit string, max uint32) {
	if over(n, max) {
		r.overLimit(off, limit, max, n)
	}
}

func (r *reader) byte(what string) byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail(fmt.Errorf("%s: %w", what, errTruncated))
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

// refType reads a reference type.
func (r *reader) refType(what string) ValType {
	t := ValType(r.byte(what))
	if r.err == nil && !t.IsRef() {
		r.failAt(r.off-1, fmt.Errorf("%s 0x%02x is not a reference type", what, byte(t)))
	}
	return t
}

// valType reads a value type.
func (r *reader) valType(what string) ValType {
	t := r.byte(what)
	if r.err == nil && !isValType(t) {
		r.failAt(r.off-1, fmt.Errorf("%s 0x%02x is not a value type", what, t))
	}
	return ValType(t)
}

func (r *reader) globalType() GlobalType {
	t := r.valType("global type")
	mut := r.byte("global mutability")
	if mut > 1 {
		r.failAt(r.off-1, fmt.Errorf("global mutability 0x%02x is malformed", mut))
	}
	return GlobalType{Type: t, Mutable: mut == 1}
}

func (r *reader) u32(what string) uint32 {
	if r.err != nil {
		return 0
	}
	if r.off < len(r.b) && r.b[r.off] < 0x80 {
		// One byte, as most indices are: the fast path.
		r.off++
		return uint32(r.b[r.off-1])
	}
	v, n, err := readU32(r.b[r.off:])
	if err != nil {
		r.fail(fmt.Errorf("%s: %w", what, err))
		return 0
	}
	if n > 1 && r.b[r.off+n-1] == 0 {
		r.padded = true
	}
	r.off += n
	return v
}

func (r *reader) name(what string) string {
	n := r.u32(what)
	if r.err != nil {
		return ""
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		r.fail(fmt.Errorf("%s: %w", what, errTruncated))
		return ""
	}
	s := string(r.b[r.off : r.off+int(n)])
	if !utf8.ValidString(s) {
		r.fail(fmt.Errorf("%s is not valid UTF-8", what))
		return ""
	}
	r.off += int(n)
	return s
}

// limits reads limits; strict, it also refuses a maximum below the
// minimum.
func (r *reader) limits(strict bool) Limits {
	if r.err != nil {
		return Limits{}
	}
	l, n, err := decodeLimits(r.b[r.off:])
	if err == nil && strict {
		err = checkLimitsOrder(l)
	}
	if err == nil && n != len(appendLimits(nil, l)) {
		r.padded = true
	}
	if err != nil {
		r.fail(err)
		return Limits{}
	}
	r.off += n
	return l
}

func (r *reader) s32(what string) int32 { return int32(r.signed(what, 32)) }
func (r *reader) s64(what string) int64 { return r.signed(what, 64) }

func (r *reader) signed(what string, bits int) int64 {
	if r.err != nil {
		return 0
	}
	v, n, err := readSigned(r.b[r.off:], bits)
	if err != nil {
		r.fail(fmt.Errorf("%s: %w", what, err))
		return 0
	}
	r.off += n
	return v
}

// bytes reads n bytes, which alias the input.
func (r *reader) bytes(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b)-r.off {
		r.fail(fmt.Errorf("%s: %w", what, errTruncated))
		return nil
	}
	r.off += n
	return r.b[r.off-n : r.off : r.off]
}

// vec reads the length of a vector whose elements take at least
// minSize bytes each, and returns it with a capacity to allocate for it:
// no more elements than the bytes left could hold, so that a length near
// 2^32 in a small input cannot make the decoder allocate gigabytes.
// Reading the elements then fails when the input runs out.
func (r *reader) vec(what string, minSize int) (n uint32, capacity int) {
	n = r.u32(what)
	return n, int(min(uint64(n), uint64((len(r.b)-r.off)/minSize)))
}

func (r *reader) u64le(what string) uint64 {
	if b := r.bytes(8, what); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (r *reader) u32le(what string) uint32 {
	if b := r.bytes(4, what); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

// end checks that the whole payload of section id was read.
func (r *reader) end(id SectionID) {
	if r.err == nil && r.off != len(r.b) {
		r.fail(fmt.Errorf("%s section has %d bytes left over", id, len(r.b)-r.off))
	}
}
