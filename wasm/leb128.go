package wasm

import "errors"

var (
	errLEBTooLong  = errors.New("integer representation too long")
	errLEBTooLarge = errors.New("integer too large")
)

// readU32 decodes an unsigned LEB128 value of at most 32 bits from b and
// returns it with the number of bytes it took. Non-minimal encodings of
// up to 5 bytes are accepted, as the specification requires. Like the
// specification's test suite, it reports a fifth byte that continues as
// errLEBTooLong and a fifth byte whose unused bits are set as
// errLEBTooLarge.
func readU32(b []byte) (uint32, int, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		if i >= len(b) {
			return 0, 0, errTruncated
		}
		c := b[i]
		if i == 4 {
			if c&0x80 != 0 {
				return 0, 0, errLEBTooLong
			}
			if c&0x70 != 0 {
				// The fifth byte may only carry the top 4 bits of a u32.
				return 0, 0, errLEBTooLarge
			}
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errLEBTooLong
}

// appendU32 appends the shortest unsigned LEB128 encoding of v.
func appendU32(b []byte, v uint32) []byte {
	if v < 0x80 {
		return append(b, byte(v)) // most indices
	}
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

// uleb128Len returns the length of the shortest encoding of v.
func uleb128Len(v uint32) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// readSigned decodes a signed LEB128 value of at most bits bits (32, 33
// or 64) and returns it with the number of bytes it took. As for
// readU32, padding is accepted up to the longest encoding, and the unused
// bits of the last byte must repeat the sign bit.
func readSigned(b []byte, bits int) (int64, int, error) {
	maxLen := (bits + 6) / 7
	var v int64
	for i := 0; i < maxLen; i++ {
		if i >= len(b) {
			return 0, 0, errTruncated
		}
		c := b[i]
		if i == maxLen-1 {
			if c&0x80 != 0 {
				return 0, 0, errLEBTooLong
			}
			used := bits - 7*i // bits of the value in this byte
			unused := byte(0x7f) &^ (1<<used - 1)
			if sign := c&(1<<(used-1)) != 0; sign && c&unused != unused || !sign && c&unused != 0 {
				return 0, 0, errLEBTooLarge
			}
		}
		v |= int64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			if shift := 7 * (i + 1); shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, i + 1, nil
		}
	}
	return 0, 0, errLEBTooLong
}

// appendSigned appends the shortest signed LEB128 encoding of v.
func appendSigned(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
