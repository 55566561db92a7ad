package proto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestFramesRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	in := Instantiate{Module: 7, Flags: FlagStdinDeadlines, Args: []string{"prog", "", "two words"}, Env: []string{"A=1"}}
	if err := w.Write(TInstantiate, 42, in.Encode()); err != nil {
		t.Fatal(err)
	}
	res := Result{Kind: Trap, Reason: "integer divide by zero", Stack: []string{"f", "g"}}
	if err := w.Write(Exit, 43, res.Encode()); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(Output, 44, []byte{2}, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	r := NewReader(&buf)
	f, err := r.Read()
	if err != nil || f.Type != TInstantiate || f.ID != 42 {
		t.Fatalf("first frame: %+v, %v", f, err)
	}
	if got, err := DecodeInstantiate(f.Payload); err != nil || !reflect.DeepEqual(got, in) {
		t.Errorf("instantiate: %+v, %v", got, err)
	}
	f, _ = r.Read()
	if got, err := DecodeResult(f.Payload); err != nil || !reflect.DeepEqual(got, res) {
		t.Errorf("result: %+v, %v", got, err)
	}
	f, _ = r.Read()
	if stream, data, err := DecodeOutput(f.Payload); err != nil || stream != 2 || string(data) != "hello" {
		t.Errorf("output: %d %q %v", stream, data, err)
	}
	if _, err := r.Read(); err != io.EOF {
		t.Errorf("after the last frame: %v, want io.EOF", err)
	}
}

// TestBadFrames feeds the reader and the decoders what a misbehaving
// peer could send: each is a protocol error, never a panic or a large
// allocation.
func TestBadFrames(t *testing.T) {
	frame := func(n uint32, rest string) *Reader {
		return NewReader(strings.NewReader(string(binary.LittleEndian.AppendUint32(nil, n)) + rest))
	}
	for name, r := range map[string]*Reader{
		"too long":  frame(MaxFrame+1, ""),
		"too short": frame(4, "abcd"),
		"truncated": frame(10, "abc"),
	} {
		if _, err := r.Read(); err == nil || errors.Is(err, io.EOF) {
			t.Errorf("%s: %v, want an error other than io.EOF", name, err)
		}
	}
	good := Result{Kind: Limit, Limit: "timeout", Reason: "r"}.Encode()
	for name, check := range map[string]error{
		"result truncated":      second(DecodeResult(good[:len(good)-1])),
		"result left over":      second(DecodeResult(append(good, 0))),
		"result kind":           second(DecodeResult(append([]byte{99}, good[1:]...))),
		"strings count":         second(DecodeInstantiate(binary.LittleEndian.AppendUint32(append(binary.LittleEndian.AppendUint32(nil, 1), 0), 1<<30))),
		"string length":         second(DecodeInstantiate(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(append(binary.LittleEndian.AppendUint32(nil, 1), 0), 1), 1<<31))),
		"instantiate flags":     second(DecodeInstantiate(Instantiate{Flags: FlagSuspendable}.Encode())),
		"compile flags":         second(DecodeLoad(TCompile, Load{Flags: 0x80}.Encode())),
		"resume flags":          second(DecodeLoad(TResume, Load{Flags: FlagSuspendable}.Encode())),
		"credit stream":         third(DecodeCredit(EncodeCredit(3, 1))),
		"credit zero":           third(DecodeCredit(EncodeCredit(1, 0))),
		"credit over":           third(DecodeCredit(EncodeCredit(1, Window+1))),
		"output stream":         third(DecodeOutput([]byte{0, 'x'})),
		"output empty":          third(DecodeOutput([]byte{1})),
		"output over":           third(DecodeOutput(append([]byte{1}, make([]byte, Window+1)...))),
		"empty has payload":     Empty(Frame{Type: Kill, Payload: []byte{1}}),
		"compile memory flag":   second(DecodeLoad(TCompile, Load{Flags: FlagMemoryGrown}.Encode())),
		"memory grown short":    second(DecodeMemoryGrown(EncodeU32(PageSize))),
		"memory grown long":     second(DecodeMemoryGrown(append(EncodeU64(PageSize), 0))),
		"memory grown empty":    second(DecodeMemoryGrown(nil)),
		"memory grown partial":  second(DecodeMemoryGrown(EncodeU64(PageSize + 1))),
		"memory grown odd":      second(DecodeMemoryGrown(EncodeU64(1))),
		"memory grown over max": second(DecodeMemoryGrown(EncodeU64(MaxMemory + PageSize))),
		"memory grown huge":     second(DecodeMemoryGrown(EncodeU64(1<<64 - PageSize))),
	} {
		if !errors.Is(check, ErrProtocol) {
			t.Errorf("%s: %v, want a protocol error", name, check)
		}
	}
	if err := NewWriter(io.Discard).Write(Chunk, 1, make([]byte, MaxFrame)); err == nil {
		t.Error("writing a frame over MaxFrame succeeded")
	}
}

// TestMemoryGrownPayload checks what MemoryGrown and its flag accept:
// any whole number of pages up to wasm32's 4 GiB, the flag on a new
// instance (Instantiate, Resume) only.
func TestMemoryGrownPayload(t *testing.T) {
	for _, size := range []uint64{0, PageSize, 1000 * PageSize, MaxMemory} {
		if got, err := DecodeMemoryGrown(EncodeU64(size)); err != nil || got != size {
			t.Errorf("memory grown %d: %d, %v", size, got, err)
		}
	}
	in := Instantiate{Module: 1, Flags: FlagStdinDeadlines | FlagMemoryGrown}
	if got, err := DecodeInstantiate(in.Encode()); err != nil || !reflect.DeepEqual(got, Instantiate{Module: 1, Flags: in.Flags, Args: []string{}, Env: []string{}}) {
		t.Errorf("instantiate with FlagMemoryGrown: %+v, %v", got, err)
	}
	l := Load{Blob: 1, Flags: FlagInterruptible | FlagStdinDeadlines | FlagMemoryGrown}
	if got, err := DecodeLoad(TResume, l.Encode()); err != nil || got != l {
		t.Errorf("resume with FlagMemoryGrown: %+v, %v", got, err)
	}
}

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }

// FuzzDecode checks that no payload makes a decoder panic, and that
// what decodes encodes back to the same bytes.
func FuzzDecode(f *testing.F) {
	f.Add(Result{Kind: Trap, Reason: "x", Stack: []string{"a"}}.Encode())
	f.Add(Instantiate{Module: 1, Args: []string{"a", "b"}}.Encode())
	f.Fuzz(func(t *testing.T, p []byte) {
		if r, err := DecodeResult(p); err == nil && !bytes.Equal(r.Encode(), p) {
			t.Errorf("result %+v does not encode back to its payload", r)
		}
		if m, err := DecodeInstantiate(p); err == nil && !bytes.Equal(m.Encode(), p) {
			t.Errorf("instantiate %+v does not encode back to its payload", m)
		}
		DecodeLoad(TCompile, p)
		DecodeLoad(TResume, p)
		DecodeCredit(p)
		DecodeOutput(p)
		if size, err := DecodeMemoryGrown(p); err == nil && !bytes.Equal(EncodeU64(size), p) {
			t.Errorf("memory grown %d does not encode back to its payload", size)
		}
		if r, err := DecodeResumeFile(p); err == nil && !bytes.Equal(r.Encode(), p) {
			t.Errorf("resume file %+v does not encode back to its payload", r)
		}
		if e, err := DecodeSnapshotEnd(p); err == nil && !bytes.Equal(e.Encode(), p) {
			t.Errorf("snapshot end %+v does not encode back to its payload", e)
		}
	})
}
