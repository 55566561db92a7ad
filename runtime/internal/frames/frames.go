// Package frames keeps the call stack of a suspended program in the host:
// the frames that the suspendable transform's code hands over while it
// unwinds (docs/SUSPEND.md), their encoding in a snapshot, and the checks
// made while it rewinds from them.
//
// It sees values only as typed 64-bit words. It must not trust a decoded
// stack: every read while rewinding is checked against what the frame
// holds, so that a snapshot that does not match the code is refused with
// an error rather than executed with wrong values.
package frames

import (
	"errors"
	"fmt"
	"math"

	"github.com/gate-wasm/gate/runtime/internal/wire"
	"github.com/gate-wasm/gate/wasm"
)

// Type is the type of a saved value: one of the four number types, which
// are all the transform's save and load imports carry. It is the wasm
// package's value type, so that the transform, the runtime and the
// frames speak of types in one vocabulary; the encoding keeps codes of
// its own (typeCode).
type Type = wasm.ValType

// The types a frame may hold.
const (
	I32 = wasm.I32
	I64 = wasm.I64
	F32 = wasm.F32
	F64 = wasm.F64
)

// typeCode is the code of t in the encoding, or 0 if a frame cannot hold
// a t. The codes predate the use of wasm.ValType here and stay, so that
// existing snapshots still read.
func typeCode(t Type) byte {
	switch t {
	case I32:
		return 1
	case I64:
		return 2
	case F32:
		return 3
	case F64:
		return 4
	}
	return 0
}

// typeOfCode is the type whose code is c, if any.
func typeOfCode(c byte) (Type, bool) {
	switch c {
	case 1:
		return I32, true
	case 2:
		return I64, true
	case 3:
		return F32, true
	case 4:
		return F64, true
	}
	return wasm.Unknown, false
}

// Frame is one function activation: which function, where it stopped,
// and its values (locals and live operand stack) in the order saved.
type Frame struct {
	Func   uint32
	Point  uint32
	Types  []Type
	Values []uint64
}

// Stack is the frames of a suspended program, innermost first, as they
// were saved.
type Stack struct {
	Frames []Frame
	// MaxBytes, if positive, bounds what the saved frames are counted
	// as taking (ValueBytes, FrameBytes), over the whole stack: the code
	// that saves them is the program's, and a loop of saves must not
	// make the host grow without bound.
	MaxBytes int64
	bytes    int64
	current  Frame // being saved
}

// What a saved stack is counted as taking in the host: a value's bits
// and type, and a frame's record. The slices they are appended to may
// hold up to twice as much while they grow.
const (
	ValueBytes = 9
	FrameBytes = 64
)

// ErrTooLarge is returned when a program saves more frames or values
// than a snapshot may hold (MaxFrames, MaxValuesPerFrame): the code that
// saves them is the program's, and must not make the host grow without
// bound.
var ErrTooLarge = errors.New("the program saves more frames or values than a snapshot may hold")

// BytesError is returned when the frames saved would take more than the
// stack's MaxBytes.
type BytesError struct{ Max int64 }

func (e *BytesError) Error() string {
	return fmt.Sprintf("the suspended call stack takes more than its limit of %d bytes", e.Max)
}

// Bytes is what the frames saved so far, the one being saved included,
// are counted as taking.
func (s *Stack) Bytes() int64 { return s.bytes }

// Saving reports whether a frame is being saved: values have been saved
// that no SaveFrame has closed yet.
func (s *Stack) Saving() bool { return len(s.current.Values) > 0 }

// take counts n more bytes, or fails if they would pass MaxBytes.
func (s *Stack) take(n int64) error {
	if s.MaxBytes > 0 && s.bytes+n > s.MaxBytes {
		return &BytesError{Max: s.MaxBytes}
	}
	s.bytes += n
	return nil
}

// Save adds a value to the frame being saved. Only the low 32 bits of
// an i32 or f32 count: engines may pass garbage above them. A value of a
// type other than the four number types is refused.
func (s *Stack) Save(t Type, v uint64) error {
	if len(s.current.Values) >= MaxValuesPerFrame {
		return ErrTooLarge
	}
	if typeCode(t) == 0 {
		return fmt.Errorf("a %v value cannot be saved in a frame", t)
	}
	if err := s.take(ValueBytes); err != nil {
		return err
	}
	if t == I32 || t == F32 {
		v = uint64(uint32(v))
	}
	s.current.Types = append(s.current.Types, t)
	s.current.Values = append(s.current.Values, v)
	return nil
}

// SaveFrame closes the frame being saved.
func (s *Stack) SaveFrame(fn, point uint32) error {
	if len(s.Frames) >= MaxFrames {
		return ErrTooLarge
	}
	if err := s.take(FrameBytes); err != nil {
		return err
	}
	s.current.Func, s.current.Point = fn, point
	s.Frames = append(s.Frames, s.current)
	s.current = Frame{}
	return nil
}

// Rewinder hands the frames of a Stack back, outermost first.
type Rewinder struct {
	frames []Frame // remaining, innermost first
	frame  *Frame  // being restored
	left   int     // values of frame not loaded yet
}

// NewRewinder rewinds s. It fails if a frame is still being saved.
func NewRewinder(s *Stack) (*Rewinder, error) {
	if len(s.current.Types) > 0 {
		return nil, errors.New("a frame is still being saved")
	}
	if len(s.Frames) == 0 {
		return nil, errors.New("no frames to rewind")
	}
	return &Rewinder{frames: s.Frames}, nil
}

// RestoreFrame opens the outermost frame not yet restored, which must be
// one of function fn and have had all values of the previous frame read,
// and returns its suspension point.
func (r *Rewinder) RestoreFrame(fn uint32) (uint32, error) {
	if err := r.finishFrame(); err != nil {
		return 0, err
	}
	if len(r.frames) == 0 {
		return 0, fmt.Errorf("function %d asks for a frame, but all have been restored", fn)
	}
	f := &r.frames[len(r.frames)-1]
	r.frames = r.frames[:len(r.frames)-1]
	if f.Func != fn {
		return 0, fmt.Errorf("frame of function %d restored by function %d: the snapshot does not match the code", f.Func, fn)
	}
	r.frame, r.left = f, len(f.Values)
	return f.Point, nil
}

// Load returns the next value of the frame being restored, which must be
// of type t. Values come back in the reverse of the order they were saved
// in, as from a stack.
func (r *Rewinder) Load(t Type) (uint64, error) {
	if r.frame == nil {
		return 0, fmt.Errorf("%v value loaded outside a frame", t)
	}
	n := len(r.frame.Values)
	if r.left == 0 {
		return 0, fmt.Errorf("function %d loads %d values, its frame holds %d", r.frame.Func, n+1, n)
	}
	i := r.left - 1
	if have := r.frame.Types[i]; have != t {
		return 0, fmt.Errorf("function %d loads value %d (counting from the last saved) as %v, its frame holds %v", r.frame.Func, n-1-i, t, have)
	}
	r.left--
	return r.frame.Values[i], nil
}

// Done checks that every frame and every value has been restored.
func (r *Rewinder) Done() error {
	if err := r.finishFrame(); err != nil {
		return err
	}
	if len(r.frames) > 0 {
		return fmt.Errorf("%d frames were not restored", len(r.frames))
	}
	return nil
}

func (r *Rewinder) finishFrame() error {
	if r.frame != nil && r.left != 0 {
		n := len(r.frame.Values)
		return fmt.Errorf("function %d restored %d of the %d values of its frame", r.frame.Func, n-r.left, n)
	}
	r.frame = nil
	return nil
}

// encodingVersion is the version of the encoding AppendBinary writes.
const encodingVersion = 1

// Limits on a decoded stack, so that a hostile snapshot cannot make Parse
// allocate much: a frame costs at least three bytes, a value at least two.
const (
	MaxFrames         = 1 << 20
	MaxValuesPerFrame = 1 << 20
)

// AppendBinary appends the encoding of s: a version byte, the frame count,
// then per frame (innermost first) function, point, value count and per
// value its type code (typeCode) and its bits, all numbers as uvarints.
// A value of a type that Save refuses, which only a Stack built by hand
// can hold, is written with code 0, which Parse refuses.
func (s *Stack) AppendBinary(b []byte) []byte {
	b = append(b, encodingVersion)
	b = wire.AppendUvarint(b, uint64(len(s.Frames)))
	for _, f := range s.Frames {
		b = wire.AppendUvarint(b, uint64(f.Func))
		b = wire.AppendUvarint(b, uint64(f.Point))
		b = wire.AppendUvarint(b, uint64(len(f.Values)))
		for i, v := range f.Values {
			b = append(b, typeCode(f.Types[i]))
			b = wire.AppendUvarint(b, v)
		}
	}
	return b
}

// Parse decodes what AppendBinary wrote. It checks the encoding, not that
// the frames match any code: the Rewinder does that.
func Parse(data []byte) (*Stack, error) {
	d := wire.NewDecoder(data)
	if v := d.Byte("version"); d.Err() == nil && v != encodingVersion {
		return nil, fmt.Errorf("frames: version %d, this Gate reads %d", v, encodingVersion)
	}
	// A frame takes at least three bytes, a value at least two.
	n := d.Count("frame count", MaxFrames, 3)
	s := &Stack{Frames: make([]Frame, 0, n)}
	for i := uint64(0); i < n && d.Err() == nil; i++ {
		f := Frame{
			Func:  uint32(d.Uvarint("function", math.MaxUint32)),
			Point: uint32(d.Uvarint("suspension point", math.MaxUint32)),
		}
		count := d.Count("value count", MaxValuesPerFrame, 2)
		if count > 0 {
			f.Types, f.Values = make([]Type, 0, count), make([]uint64, 0, count)
		}
		for j := uint64(0); j < count && d.Err() == nil; j++ {
			code := d.Byte("value type")
			t, ok := typeOfCode(code)
			if !ok && d.Err() == nil {
				d.Fail(fmt.Errorf("frame %d value %d: unknown type code %d", i, j, code))
			}
			f.Types = append(f.Types, t)
			f.Values = append(f.Values, d.Uvarint("value", maxBits(t)))
		}
		s.Frames = append(s.Frames, f)
	}
	if err := d.Finish("the last frame"); err != nil {
		return nil, fmt.Errorf("frames: %w", err)
	}
	return s, nil
}

// maxBits is the largest value of type t.
func maxBits(t Type) uint64 {
	if t == I32 || t == F32 {
		return math.MaxUint32
	}
	return math.MaxUint64
}
