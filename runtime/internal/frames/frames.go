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
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Type is the type of a saved value, as the transform's save and load
// imports name it.
type Type byte

const (
	I32 Type = 1
	I64 Type = 2
	F32 Type = 3
	F64 Type = 4
)

func (t Type) String() string {
	switch t {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	}
	return fmt.Sprintf("type %d", byte(t))
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
	Frames  []Frame
	current Frame // being saved
}

// ErrTooLarge is returned when a program saves more frames or values
// than a snapshot may hold (MaxFrames, MaxValuesPerFrame): the code that
// saves them is the program's, and must not make the host grow without
// bound.
var ErrTooLarge = errors.New("the program saves more frames or values than a snapshot may hold")

// Save adds a value to the frame being saved. Only the low 32 bits of
// an i32 or f32 count: engines may pass garbage above them.
func (s *Stack) Save(t Type, v uint64) error {
	if len(s.current.Values) >= MaxValuesPerFrame {
		return ErrTooLarge
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
// value its type byte and its bits, all numbers as uvarints.
func (s *Stack) AppendBinary(b []byte) []byte {
	b = append(b, encodingVersion)
	b = binary.AppendUvarint(b, uint64(len(s.Frames)))
	for _, f := range s.Frames {
		b = binary.AppendUvarint(b, uint64(f.Func))
		b = binary.AppendUvarint(b, uint64(f.Point))
		b = binary.AppendUvarint(b, uint64(len(f.Values)))
		for i, v := range f.Values {
			b = append(b, byte(f.Types[i]))
			b = binary.AppendUvarint(b, v)
		}
	}
	return b
}

// Parse decodes what AppendBinary wrote. It checks the encoding, not that
// the frames match any code: the Rewinder does that.
func Parse(data []byte) (*Stack, error) {
	p := parser{data: data}
	if v := p.byte(); p.err == nil && v != encodingVersion {
		return nil, fmt.Errorf("frames: version %d, this Gate reads %d", v, encodingVersion)
	}
	n := p.uvarint("frame count", MaxFrames)
	if p.err == nil && n > uint64(len(p.data))/3 {
		p.fail(fmt.Errorf("%d frames cannot fit in %d bytes", n, len(p.data)))
	}
	s := &Stack{Frames: make([]Frame, 0, n)}
	for i := uint64(0); i < n && p.err == nil; i++ {
		f := Frame{
			Func:  uint32(p.uvarint("function", 1<<32-1)),
			Point: uint32(p.uvarint("suspension point", 1<<32-1)),
		}
		count := p.uvarint("value count", MaxValuesPerFrame)
		if p.err == nil && count > uint64(len(p.data))/2 {
			p.fail(fmt.Errorf("frame %d: %d values cannot fit in %d bytes", i, count, len(p.data)))
		}
		for j := uint64(0); j < count && p.err == nil; j++ {
			t := Type(p.byte())
			if p.err == nil && (t < I32 || t > F64) {
				p.fail(fmt.Errorf("frame %d value %d: unknown type %d", i, j, byte(t)))
			}
			v := p.uvarint("value", maxBits(t))
			f.Types, f.Values = append(f.Types, t), append(f.Values, v)
		}
		s.Frames = append(s.Frames, f)
	}
	if p.err == nil && len(p.data) > 0 {
		p.fail(fmt.Errorf("%d bytes after the last frame", len(p.data)))
	}
	if p.err != nil {
		return nil, fmt.Errorf("frames: %w", p.err)
	}
	return s, nil
}

// maxBits is the largest value of type t.
func maxBits(t Type) uint64 {
	if t == I32 || t == F32 {
		return 1<<32 - 1
	}
	return 1<<64 - 1
}

type parser struct {
	data []byte
	err  error
}

func (p *parser) fail(err error) {
	if p.err == nil {
		p.err = err
	}
	p.data = nil
}

func (p *parser) byte() byte {
	if p.err != nil {
		return 0
	}
	if len(p.data) == 0 {
		p.fail(io.ErrUnexpectedEOF)
		return 0
	}
	b := p.data[0]
	p.data = p.data[1:]
	return b
}

func (p *parser) uvarint(what string, max uint64) uint64 {
	if p.err != nil {
		return 0
	}
	v, n := binary.Uvarint(p.data)
	switch {
	case n == 0:
		p.fail(fmt.Errorf("%s: %w", what, io.ErrUnexpectedEOF))
	case n < 0:
		p.fail(fmt.Errorf("%s: malformed number", what))
	case v > max:
		p.fail(fmt.Errorf("%s: %d exceeds %d", what, v, max))
	default:
		p.data = p.data[n:]
		return v
	}
	return 0
}
