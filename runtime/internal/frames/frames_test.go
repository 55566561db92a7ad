package frames

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gate-wasm/gate/wasm"
)

// sample is a stack as a program of three nested calls would save it:
// innermost first.
func sample() *Stack {
	var s Stack
	s.Save(I32, 0xdead_beef_0000_0007) // upper half is garbage
	s.Save(F64, 0x4009_21fb_5444_2d18)
	s.SaveFrame(7, 3)
	s.SaveFrame(5, 1) // a frame without values
	s.Save(I64, 1<<63)
	s.Save(F32, 0x3f80_0000)
	s.SaveFrame(2, 12)
	return &s
}

func TestRoundTripAndRewind(t *testing.T) {
	s := sample()
	if s.Frames[0].Values[0] != 7 {
		t.Errorf("saved i32 %#x, want the low 32 bits only", s.Frames[0].Values[0])
	}
	parsed, err := Parse(s.AppendBinary(nil))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !reflect.DeepEqual(parsed.Frames, s.Frames) {
		t.Fatalf("parsed %+v, want %+v", parsed.Frames, s.Frames)
	}
	r, err := NewRewinder(parsed)
	if err != nil {
		t.Fatal(err)
	}
	// Outermost first, each frame's values last saved first.
	steps := []struct {
		fn, point uint32
		loads     []Type
		values    []uint64
	}{
		{2, 12, []Type{F32, I64}, []uint64{0x3f80_0000, 1 << 63}},
		{5, 1, nil, nil},
		{7, 3, []Type{F64, I32}, []uint64{0x4009_21fb_5444_2d18, 7}},
	}
	for _, step := range steps {
		point, err := r.RestoreFrame(step.fn)
		if err != nil || point != step.point {
			t.Fatalf("RestoreFrame(%d) = %d, %v; want %d", step.fn, point, err, step.point)
		}
		for i, typ := range step.loads {
			v, err := r.Load(typ)
			if err != nil || v != step.values[i] {
				t.Fatalf("function %d: Load(%v) = %#x, %v; want %#x", step.fn, typ, v, err, step.values[i])
			}
		}
	}
	if err := r.Done(); err != nil {
		t.Errorf("Done: %v", err)
	}
}

// TestRewindMismatch checks that code which does not match the frames is
// stopped with an error that says how.
func TestRewindMismatch(t *testing.T) {
	cases := []struct {
		name string
		run  func(r *Rewinder) error
		want string
	}{
		{"wrong function", func(r *Rewinder) error { _, err := r.RestoreFrame(3); return err }, "frame of function 2 restored by function 3"},
		{"load outside a frame", func(r *Rewinder) error { _, err := r.Load(I32); return err }, "outside a frame"},
		{"wrong type", func(r *Rewinder) error {
			r.RestoreFrame(2)
			_, err := r.Load(I32)
			return err
		}, "loads value 0 (counting from the last saved) as i32, its frame holds f32"},
		{"too many loads", func(r *Rewinder) error {
			r.RestoreFrame(2)
			r.Load(F32)
			r.Load(I64)
			_, err := r.Load(I32)
			return err
		}, "loads 3 values, its frame holds 2"},
		{"values left", func(r *Rewinder) error {
			r.RestoreFrame(2)
			r.Load(F32)
			_, err := r.RestoreFrame(5)
			return err
		}, "restored 1 of the 2 values"},
		{"frames left", func(r *Rewinder) error { return r.Done() }, "3 frames were not restored"},
		{"too many frames", func(r *Rewinder) error {
			for _, fn := range []uint32{2, 5, 7} {
				r.RestoreFrame(fn)
				for r.frame != nil && r.left > 0 {
					r.Load(r.frame.Types[r.left-1])
				}
			}
			_, err := r.RestoreFrame(7)
			return err
		}, "all have been restored"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewRewinder(sample())
			if err != nil {
				t.Fatal(err)
			}
			if err := c.run(r); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := NewRewinder(&Stack{}); err == nil {
		t.Error("NewRewinder of an empty stack succeeded")
	}
	var open Stack
	open.Save(I32, 1)
	if _, err := NewRewinder(&open); err == nil {
		t.Error("NewRewinder with a frame still being saved succeeded")
	}
}

func TestParseRefuses(t *testing.T) {
	valid := sample().AppendBinary(nil)
	for n := range len(valid) {
		if _, err := Parse(valid[:n]); err == nil {
			t.Errorf("Parse of the first %d of %d bytes succeeded", n, len(valid))
		}
	}
	cases := map[string][]byte{
		"version 2":          {2, 0},
		"trailing byte":      append(bytes.Clone(valid), 0),
		"unknown value type": {1, 1, 0, 0, 1, 9, 0},
		"i32 too large":      {1, 1, 0, 0, 1, 1, 0x80, 0x80, 0x80, 0x80, 0x10},
		"huge frame count":   {1, 0xff, 0xff, 0x3f},
		"huge value count":   {1, 1, 0, 0, 0xff, 0xff, 0x3f},
		"malformed number":   {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	}
	for name, data := range cases {
		if _, err := Parse(data); err == nil {
			t.Errorf("%s: Parse succeeded", name)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample().AppendBinary(nil))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		if again := s.AppendBinary(nil); !bytes.Equal(again, data) {
			// Non-minimal uvarints decode but re-encode shorter.
			if s2, err := Parse(again); err != nil || !reflect.DeepEqual(s2.Frames, s.Frames) {
				t.Fatalf("re-encoding changed the stack: %v", err)
			}
		}
	})
}

// TestSaveBounded checks that a program cannot make the host keep more
// than a snapshot may hold.
func TestSaveBounded(t *testing.T) {
	var s Stack
	for range MaxValuesPerFrame {
		if err := s.Save(I32, 1); err != nil {
			t.Fatalf("Save within the limit: %v", err)
		}
	}
	if err := s.Save(I32, 1); err != ErrTooLarge {
		t.Errorf("Save past %d values: %v, want ErrTooLarge", MaxValuesPerFrame, err)
	}
	s = Stack{}
	for range MaxFrames {
		if err := s.SaveFrame(1, 1); err != nil {
			t.Fatalf("SaveFrame within the limit: %v", err)
		}
	}
	if err := s.SaveFrame(1, 1); err != ErrTooLarge {
		t.Errorf("SaveFrame past %d frames: %v, want ErrTooLarge", MaxFrames, err)
	}
}

// TestEncoding pins the encoding that docs/SNAPSHOT.md describes, byte
// for byte: snapshots written by earlier versions of this code, whose
// type codes were 1 to 4, must still read.
func TestEncoding(t *testing.T) {
	want := []byte{
		encodingVersion, 3, // frames
		7, 3, 2, // function 7, point 3, 2 values
		1, 0x07, // i32 7
		4, 0x98, 0xda, 0x90, 0xa2, 0xb5, 0xbf, 0xc8, 0x84, 0x40, // f64 pi
		5, 1, 0, // function 5, point 1, no values
		2, 12, 2, // function 2, point 12, 2 values
		2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, // i64 1<<63
		3, 0x80, 0x80, 0x80, 0xfc, 0x03, // f32 1.0
	}
	if got := sample().AppendBinary(nil); !bytes.Equal(got, want) {
		t.Errorf("encoding\n% x\nwant\n% x", got, want)
	}
	parsed, err := Parse(want)
	if err != nil || !reflect.DeepEqual(parsed.Frames, sample().Frames) {
		t.Errorf("Parse = %+v, %v; want %+v", parsed, err, sample().Frames)
	}
}

// TestSaveRefusesOtherTypes: a frame holds the four number types only,
// and a value of another type that reaches the encoding (by a Stack
// built by hand) is refused when read back.
func TestSaveRefusesOtherTypes(t *testing.T) {
	for _, typ := range []Type{wasm.V128, wasm.FuncRef, wasm.ExternRef, wasm.Unknown, Type(9)} {
		var s Stack
		if err := s.Save(typ, 1); err == nil || !strings.Contains(err.Error(), "cannot be saved") {
			t.Errorf("Save(%v) = %v, want a refusal", typ, err)
		}
		if len(s.current.Values) != 0 {
			t.Errorf("Save(%v) kept the value", typ)
		}
		s.Frames = []Frame{{Func: 1, Types: []Type{typ}, Values: []uint64{1}}}
		if _, err := Parse(s.AppendBinary(nil)); err == nil || !strings.Contains(err.Error(), "unknown type code 0") {
			t.Errorf("a frame holding a %v value: Parse = %v, want a refusal", typ, err)
		}
	}
}

// TestMaxBytes checks that the bytes of the whole stack, not only of one
// frame, are bounded: many small frames reach the limit as one large
// one does.
func TestMaxBytes(t *testing.T) {
	const max = 1000
	s := Stack{MaxBytes: max}
	var err error
	frames := 0
	for err == nil {
		if err = s.Save(I64, 1); err == nil {
			if err = s.SaveFrame(1, 1); err == nil {
				frames++
			}
		}
	}
	var be *BytesError
	if !errors.As(err, &be) || be.Max != max || !strings.Contains(err.Error(), "1000 bytes") {
		t.Fatalf("after %d frames: %v, want a BytesError naming the limit", frames, err)
	}
	if want := max / (ValueBytes + FrameBytes); frames != want || s.Bytes() > max {
		t.Errorf("%d frames of one value saved, %d bytes counted; want %d frames, at most %d bytes", frames, s.Bytes(), want, max)
	}
	one := Stack{MaxBytes: max}
	n := 0
	for one.Save(I32, 1) == nil {
		n++
	}
	if n != max/ValueBytes || !one.Saving() {
		t.Errorf("one frame took %d values, want %d", n, max/ValueBytes)
	}
}
