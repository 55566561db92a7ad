package spectest

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// value is one value of a command, as wast2json writes it: the type, and
// the bits of the number as a decimal string ("nan:canonical" and
// "nan:arithmetic" for NaN patterns, "null" for a null reference), or, for
// v128, the lanes as such strings with their lane type.
type value struct {
	Type     string          `json:"type"`
	LaneType string          `json:"lane_type"`
	Value    json.RawMessage `json:"value"`
}

// Canonical and arithmetic NaN patterns (spec §4.3.3): a canonical NaN has
// only the most significant bit of the payload set (any sign); an
// arithmetic NaN has that bit set and any other payload.
const (
	f32Canonical = 0x7fc00000
	f64Canonical = 0x7ff8000000000000
)

// laneBits is the width in bits of a v128 lane type.
func laneBits(lane string) (int, error) {
	switch lane {
	case "i8":
		return 8, nil
	case "i16":
		return 16, nil
	case "i32", "f32":
		return 32, nil
	case "i64", "f64":
		return 64, nil
	}
	return 0, fmt.Errorf("unknown lane type %q", lane)
}

// words is how many uint64 wazero uses for a value of type t.
func words(t string) int {
	if t == "v128" {
		return 2
	}
	return 1
}

// scalar returns the string of a non-v128 value, and whether it has one.
func (v value) scalar() (string, bool, error) {
	if len(v.Value) == 0 || string(v.Value) == "null" {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(v.Value, &s); err != nil {
		return "", false, fmt.Errorf("%s value %s: %v", v.Type, v.Value, err)
	}
	return s, true, nil
}

// lanes returns the lane strings of a v128 value.
func (v value) lanes() ([]string, error) {
	var ls []string
	if err := json.Unmarshal(v.Value, &ls); err != nil {
		return nil, fmt.Errorf("v128 value %s: %v", v.Value, err)
	}
	bits, err := laneBits(v.LaneType)
	if err != nil {
		return nil, err
	}
	if len(ls)*bits != 128 {
		return nil, fmt.Errorf("v128 value has %d lanes of %s", len(ls), v.LaneType)
	}
	return ls, nil
}

// encodeRef encodes a reference argument or expectation for wazero, where
// a reference is a uintptr and null is 0. The suite's (ref.extern N) is
// encoded as N+1, so that (ref.extern 0) is not null.
func encodeRef(t, s string) (uint64, error) {
	if s == "null" {
		return 0, nil
	}
	if t != "externref" {
		return 0, fmt.Errorf("a non-null %s cannot be written as a host value", t)
	}
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("externref %q: %v", s, err)
	}
	return n + 1, nil
}

// encode appends the wazero encoding of an argument to args.
func (v value) encode(args []uint64) ([]uint64, error) {
	switch v.Type {
	case "i32", "f32":
		s, ok, err := v.scalar()
		if err != nil || !ok {
			return nil, fmt.Errorf("%s argument without a value (%v)", v.Type, err)
		}
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%s argument %q: %v", v.Type, s, err)
		}
		return append(args, n), nil
	case "i64", "f64":
		s, ok, err := v.scalar()
		if err != nil || !ok {
			return nil, fmt.Errorf("%s argument without a value (%v)", v.Type, err)
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s argument %q: %v", v.Type, s, err)
		}
		return append(args, n), nil
	case "v128":
		ls, err := v.lanes()
		if err != nil {
			return nil, err
		}
		bits, _ := laneBits(v.LaneType)
		var w [2]uint64
		for i, l := range ls {
			n, err := strconv.ParseUint(l, 10, bits)
			if err != nil {
				return nil, fmt.Errorf("v128 lane %q: %v", l, err)
			}
			pos := i * bits
			w[pos/64] |= n << (pos % 64)
		}
		return append(args, w[0], w[1]), nil
	case "externref", "funcref":
		s, ok, err := v.scalar()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%s argument without a value", v.Type)
		}
		n, err := encodeRef(v.Type, s)
		if err != nil {
			return nil, err
		}
		return append(args, n), nil
	}
	return nil, fmt.Errorf("unknown value type %q", v.Type)
}

// matchBits reports whether the bits of a number of the given width (32
// or 64, or a narrower integer lane) match the expected string: exact bits,
// or a NaN pattern for floats.
func matchBits(float bool, width int, want string, got uint64) (bool, error) {
	switch want {
	case "nan:canonical", "nan:arithmetic":
		if !float {
			return false, fmt.Errorf("NaN pattern %s for an integer", want)
		}
		var mask, canon uint64
		if width == 32 {
			got &= math.MaxUint32
			mask, canon = 0x7fffffff, f32Canonical
		} else {
			mask, canon = 0x7fffffffffffffff, f64Canonical
		}
		if want == "nan:canonical" {
			return got&mask == canon, nil
		}
		return got&canon == canon, nil
	}
	n, err := strconv.ParseUint(want, 10, width)
	if err != nil {
		return false, fmt.Errorf("expected value %q: %v", want, err)
	}
	if width < 64 {
		got &= 1<<width - 1
	}
	return n == got, nil
}

// match reports whether the wazero result words (one, or two for v128)
// match the expectation.
func (v value) match(got []uint64) (bool, error) {
	switch v.Type {
	case "i32", "i64", "f32", "f64":
		s, ok, err := v.scalar()
		if err != nil {
			return false, err
		}
		if !ok {
			return true, nil // only the type is given
		}
		width := 32
		if v.Type[1:] == "64" {
			width = 64
		}
		return matchBits(v.Type[0] == 'f', width, s, got[0])
	case "v128":
		if len(v.Value) == 0 {
			return true, nil
		}
		ls, err := v.lanes()
		if err != nil {
			return false, err
		}
		bits, _ := laneBits(v.LaneType)
		for i, l := range ls {
			pos := i * bits
			lane := got[pos/64] >> (pos % 64)
			ok, err := matchBits(v.LaneType[0] == 'f', bits, l, lane)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case "externref", "funcref":
		s, ok, err := v.scalar()
		if err != nil {
			return false, err
		}
		if !ok { // (ref.extern) or (ref.func): any non-null reference
			return got[0] != 0, nil
		}
		if s != "null" && v.Type == "funcref" {
			return false, fmt.Errorf("a particular non-null funcref cannot be compared")
		}
		n, err := encodeRef(v.Type, s)
		if err != nil {
			return false, err
		}
		return got[0] == n, nil
	}
	return false, fmt.Errorf("unknown value type %q", v.Type)
}

// String formats an expectation for messages.
func (v value) String() string {
	if v.Type == "v128" {
		return fmt.Sprintf("v128:%s%s", v.LaneType, strings.ReplaceAll(string(v.Value), " ", ""))
	}
	s, ok, _ := v.scalar()
	if !ok {
		return v.Type
	}
	return v.Type + ":" + s
}

// formatResults formats wazero results of the given types for messages.
func formatResults(types []string, got []uint64) string {
	var b strings.Builder
	b.WriteByte('[')
	k := 0
	for i, t := range types {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch {
		case k+words(t) > len(got):
			b.WriteString(t + ":?")
		case t == "v128":
			fmt.Fprintf(&b, "v128:%#016x:%#016x", got[k], got[k+1])
		case t == "i32" || t == "f32":
			fmt.Fprintf(&b, "%s:%d", t, uint32(got[k]))
		default:
			fmt.Fprintf(&b, "%s:%d", t, got[k])
		}
		k += words(t)
	}
	b.WriteByte(']')
	return b.String()
}
