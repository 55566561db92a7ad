// Package wire is the small binary codec of the custom sections that a
// snapshot carries for the host (gate.frames, gate.wasi; see
// docs/SNAPSHOT.md): bytes, uvarints, and uvarint-length-prefixed byte
// strings.
//
// A Decoder reads untrusted data with a sticky error: after the first
// failure every read returns a zero value and changes nothing, so that a
// parser reads a whole structure and checks Err (or Finish) once. Every
// length and count is checked against a maximum and against the bytes
// left before anything is allocated, so that a hostile input cannot make
// the host allocate much more than its own size.
package wire

import (
	"encoding/binary"
	"fmt"
	"io"
)

// AppendUvarint appends v as an unsigned LEB128 number.
func AppendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

// AppendBytes appends p preceded by its length.
func AppendBytes(b, p []byte) []byte { return append(AppendUvarint(b, uint64(len(p))), p...) }

// AppendText appends s preceded by its length.
func AppendText(b []byte, s string) []byte { return append(AppendUvarint(b, uint64(len(s))), s...) }

// AppendBool appends 1 for true and 0 for false.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// Decoder reads an encoding with a sticky error. Each read names what it
// reads, for the error message.
type Decoder struct {
	data []byte
	err  error
}

// NewDecoder returns a Decoder of data, which it does not modify.
func NewDecoder(data []byte) *Decoder { return &Decoder{data: data} }

// Err is the first failure, or nil.
func (d *Decoder) Err() error { return d.err }

// Len is the number of bytes not read yet (0 after a failure).
func (d *Decoder) Len() int { return len(d.data) }

// Fail records err, unless a failure is recorded already, and drops the
// bytes not read: the caller found the data wrong.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.data = nil
}

// Finish fails, naming after, if bytes are left; it returns Err.
func (d *Decoder) Finish(after string) error {
	if d.err == nil && len(d.data) > 0 {
		d.Fail(fmt.Errorf("%d bytes after %s", len(d.data), after))
	}
	return d.err
}

// Byte reads one byte.
func (d *Decoder) Byte(what string) byte {
	if d.err != nil {
		return 0
	}
	if len(d.data) == 0 {
		d.Fail(fmt.Errorf("%s: %w", what, io.ErrUnexpectedEOF))
		return 0
	}
	b := d.data[0]
	d.data = d.data[1:]
	return b
}

// Bool reads a byte that must be 0 (false) or 1 (true).
func (d *Decoder) Bool(what string) bool {
	switch b := d.Byte(what); b {
	case 0:
		return false
	case 1:
		return true
	default:
		d.Fail(fmt.Errorf("%s: %d is neither 0 nor 1", what, b))
		return false
	}
}

// Uvarint reads an unsigned LEB128 number of at most limit. Non-minimal
// encodings (up to ten bytes) are accepted, as encoding/binary does.
func (d *Decoder) Uvarint(what string, limit uint64) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.data)
	switch {
	case n == 0:
		d.Fail(fmt.Errorf("%s: %w", what, io.ErrUnexpectedEOF))
	case n < 0:
		d.Fail(fmt.Errorf("%s: malformed number", what))
	case v > limit:
		d.Fail(fmt.Errorf("%s: %d exceeds %d", what, v, limit))
	default:
		d.data = d.data[n:]
		return v
	}
	return 0
}

// Count reads the number of items that follow, at most limit, each of
// which takes at least minSize bytes (at least 1): a count that cannot
// fit in the bytes left fails before the caller allocates for it.
func (d *Decoder) Count(what string, limit uint64, minSize int) uint64 {
	n := d.Uvarint(what, limit)
	if d.err == nil && n > uint64(len(d.data))/uint64(max(minSize, 1)) {
		d.Fail(fmt.Errorf("%s: %d items cannot fit in the %d bytes left", what, n, len(d.data)))
		return 0
	}
	return n
}

// Bytes reads a length-prefixed byte string of at most limit bytes and
// returns a copy of it.
func (d *Decoder) Bytes(what string, limit int) []byte {
	return append([]byte(nil), d.view(what, limit)...)
}

// Text reads a length-prefixed string of at most limit bytes.
func (d *Decoder) Text(what string, limit int) string { return string(d.view(what, limit)) }

// view reads a length-prefixed byte string and returns it in place.
func (d *Decoder) view(what string, limit int) []byte {
	n := d.Uvarint(what+" length", uint64(max(limit, 0)))
	if d.err != nil {
		return nil
	}
	if uint64(len(d.data)) < n {
		d.Fail(fmt.Errorf("%s: %d bytes, %d left: %w", what, n, len(d.data), io.ErrUnexpectedEOF))
		return nil
	}
	b := d.data[:n:n]
	d.data = d.data[n:]
	return b
}
