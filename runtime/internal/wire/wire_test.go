package wire

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
)

// sample encodes one of each and returns it.
func sample() []byte {
	b := []byte{7}
	b = AppendBool(b, true)
	b = AppendBool(b, false)
	b = AppendUvarint(b, math.MaxUint64)
	b = AppendUvarint(b, 300)
	b = AppendBytes(b, []byte("bytes"))
	b = AppendText(b, "text")
	return AppendBytes(b, nil)
}

// readSample reads what sample wrote.
type sampled struct {
	b          byte
	t, f       bool
	big, small uint64
	p          []byte
	s          string
	empty      []byte
}

func readSample(d *Decoder) sampled {
	var s sampled
	s.b = d.Byte("byte")
	s.t = d.Bool("true")
	s.f = d.Bool("false")
	s.big = d.Uvarint("big", math.MaxUint64)
	s.small = d.Uvarint("small", 300)
	s.p = d.Bytes("bytes", 5)
	s.s = d.Text("text", 4)
	s.empty = d.Bytes("empty", 0)
	return s
}

func TestRoundTrip(t *testing.T) {
	data := sample()
	d := NewDecoder(data)
	got := readSample(d)
	if err := d.Finish("the sample"); err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if got.b != 7 || !got.t || got.f || got.big != math.MaxUint64 || got.small != 300 ||
		string(got.p) != "bytes" || got.s != "text" || got.empty != nil {
		t.Errorf("decoded %+v", got)
	}
	// Bytes copies: changing the input does not change what was read.
	data[len(data)-11] = 'X'
	if string(got.p) != "bytes" {
		t.Errorf("Bytes shares the input: %q", got.p)
	}
}

// TestTruncated: every proper prefix fails with io.ErrUnexpectedEOF,
// naming what was cut.
func TestTruncated(t *testing.T) {
	data := sample()
	for n := range len(data) {
		d := NewDecoder(data[:n])
		readSample(d)
		err := d.Finish("the sample")
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("first %d of %d bytes: %v, want an unexpected EOF", n, len(data), err)
		}
	}
}

func TestRefuses(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		read func(d *Decoder)
		want string
	}{
		{"above the limit", AppendUvarint(nil, 301), func(d *Decoder) { d.Uvarint("n", 300) }, "n: 301 exceeds 300"},
		{"malformed", bytes.Repeat([]byte{0xff}, 11), func(d *Decoder) { d.Uvarint("n", math.MaxUint64) }, "n: malformed number"},
		{"not a bool", []byte{2}, func(d *Decoder) { d.Bool("flag") }, "flag: 2 is neither 0 nor 1"},
		{"too long", AppendBytes(nil, []byte("abcdef")), func(d *Decoder) { d.Bytes("name", 5) }, "name length: 6 exceeds 5"},
		{"negative limit", AppendBytes(nil, []byte("a")), func(d *Decoder) { d.Bytes("name", -1) }, "name length: 1 exceeds 0"},
		{"count beyond the data", append(AppendUvarint(nil, 4), 1, 2, 3, 4, 5, 6, 7), func(d *Decoder) { d.Count("items", 100, 2) },
			"items: 4 items cannot fit in the 7 bytes left"},
		{"count of empty items", AppendUvarint(nil, 2), func(d *Decoder) { d.Count("items", 100, 0) }, "items: 2 items cannot fit in the 0 bytes left"},
		{"count above the limit", AppendUvarint(nil, 101), func(d *Decoder) { d.Count("items", 100, 1) }, "items: 101 exceeds 100"},
		{"trailing", []byte{1, 2, 3}, func(d *Decoder) { d.Byte("b") }, "2 bytes after the end"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder(c.data)
			c.read(d)
			if err := d.Finish("the end"); err == nil || err.Error() != c.want {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
	d := NewDecoder(append(AppendUvarint(nil, 3), 1, 2, 3, 4, 5, 6))
	if n := d.Count("items", 100, 2); n != 3 || d.Err() != nil {
		t.Errorf("Count of 3 items of 2 bytes in 6 = %d, %v", n, d.Err())
	}
}

// TestSticky: after a failure every read returns zero and the first
// error stays.
func TestSticky(t *testing.T) {
	d := NewDecoder([]byte{5, 1, 2, 3})
	first := errors.New("the caller found it wrong")
	d.Byte("b")
	d.Fail(first)
	d.Fail(errors.New("second"))
	if d.Len() != 0 {
		t.Errorf("Len after Fail = %d, want 0", d.Len())
	}
	if b, v, p, s, ok := d.Byte("b"), d.Uvarint("n", 10), d.Bytes("p", 10), d.Text("s", 10), d.Bool("f"); b != 0 || v != 0 || p != nil || s != "" || ok {
		t.Errorf("reads after a failure: %d %d %q %q %v", b, v, p, s, ok)
	}
	if n := d.Count("c", 10, 1); n != 0 {
		t.Errorf("Count after a failure = %d", n)
	}
	if err := d.Finish("x"); err != first {
		t.Errorf("Finish = %v, want the first failure", err)
	}
}

// FuzzDecoder reads arbitrary data as the sample: it never panics, and
// whatever decodes re-encodes to a prefix-equivalent that decodes the
// same.
func FuzzDecoder(f *testing.F) {
	f.Add(sample())
	f.Add([]byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(data)
		got := readSample(d)
		if d.Err() != nil {
			if strings.TrimSpace(d.Err().Error()) == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		b := []byte{got.b}
		b = AppendBool(b, got.t)
		b = AppendBool(b, got.f)
		b = AppendUvarint(b, got.big)
		b = AppendUvarint(b, got.small)
		b = AppendBytes(b, got.p)
		b = AppendText(b, got.s)
		b = AppendBytes(b, got.empty)
		again := readSample(NewDecoder(b))
		if again.b != got.b || again.t != got.t || again.f != got.f || again.big != got.big || again.small != got.small ||
			!bytes.Equal(again.p, got.p) || again.s != got.s || !bytes.Equal(again.empty, got.empty) {
			t.Fatalf("re-encoding changed %+v into %+v", got, again)
		}
	})
}
