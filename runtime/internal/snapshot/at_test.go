package snapshot

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

// TestParseAt checks that ParseAt finds in a snapshot what Parse finds,
// but the memory's bytes, and that it refuses what Parse refuses: every
// truncation, and a byte flipped in many places, with the checksum made
// right again or not.
func TestParseAt(t *testing.T) {
	snap, err := Build(program(t), [32]byte{7}, state())
	if err != nil {
		t.Fatal(err)
	}
	want, err := Parse(snap)
	if err != nil {
		t.Fatal(err)
	}
	have, err := ParseAt(bytes.NewReader(snap), int64(len(snap)))
	if err != nil {
		t.Fatalf("ParseAt: %v", err)
	}
	if have.Header != want.Header || !bytes.Equal(have.Frames, want.Frames) || !bytes.Equal(have.ABI, want.ABI) || have.Stored != want.Stored || have.Stored != 2*65536 {
		t.Errorf("ParseAt: header %+v, frames %q, ABI %q, %d bytes stored; Parse: %+v, %q, %q, %d", have.Header, have.Frames, have.ABI, have.Stored,
			want.Header, want.Frames, want.ABI, want.Stored)
	}
	if len(have.Memory) != len(want.Memory) {
		t.Fatalf("ParseAt: %d runs, Parse %d", len(have.Memory), len(want.Memory))
	}
	for i := range have.Memory {
		if have.Memory[i].Offset != want.Memory[i].Offset || have.Memory[i].Data != nil {
			t.Errorf("run %d: offset %d, %d bytes held; want offset %d, none held", i, have.Memory[i].Offset, len(have.Memory[i].Data), want.Memory[i].Offset)
		}
	}
	if len(have.Module) >= len(snap)-2*65536 {
		t.Errorf("ParseAt holds %d bytes of a %d-byte snapshot with 128 KiB of memory", len(have.Module), len(snap))
	}
	pw, vw, err := want.Program(nil)
	if err != nil {
		t.Fatal(err)
	}
	ph, vh, err := have.Program(nil)
	if err != nil || !bytes.Equal(ph.Binary(), pw.Binary()) || !reflect.DeepEqual(vh, vw) {
		t.Errorf("ParseAt's program differs from Parse's (%v)", err)
	}

	same := func(name string, b []byte) {
		_, errWant := Parse(b)
		_, errHave := ParseAt(bytes.NewReader(b), int64(len(b)))
		if (errWant == nil) != (errHave == nil) || errWant == ErrChecksum && errHave != ErrChecksum {
			t.Errorf("%s: Parse: %v; ParseAt: %v", name, errWant, errHave)
		}
	}
	for n := 0; n < len(snap); n += 1 + n/64 {
		same("truncated", snap[:n])
	}
	for off := 0; off < len(snap); off += 1 + off%89 {
		bad := bytes.Clone(snap)
		bad[off] ^= 0x5a
		same("flipped", bad)
		same("flipped and resealed", resealIf(bad))
	}
	if _, err := ParseAt(bytes.NewReader(nil), MaxSize+1); err == nil || !strings.Contains(err.Error(), "more than any snapshot") {
		t.Errorf("a size over MaxSize: %v", err)
	}
	// Sections of 3 bytes (custom, size 1, an empty name), each of
	// which would cost a record of its place.
	many := append(bytes.Clone(snap[:8]), bytes.Repeat([]byte{0, 1, 0}, maxSections+1)...)
	if _, err := ParseAt(bytes.NewReader(many), int64(len(many))); err == nil || !strings.Contains(err.Error(), "more than 65536 sections") {
		t.Errorf("%d sections: %v", maxSections+1, err)
	}
}

// resealIf makes the checksum of an edited snapshot right, if its
// sections still read.
func resealIf(b []byte) []byte {
	s, err := ParseUnverified(b)
	if err != nil {
		return b
	}
	out := bytes.Clone(b)
	binary.LittleEndian.PutUint32(out[len(out)-4:], updateCRC(0, out[:s.headerStart]))
	return out
}
