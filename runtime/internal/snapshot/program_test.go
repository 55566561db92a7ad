package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
	"unsafe"

	"github.com/gate-wasm/gate/wasm"
)

// reseal makes the checksum of an edited snapshot right again: the
// CRC-32C at the end of the header, the last section, of everything
// before it.
func reseal(t *testing.T, snap []byte) []byte {
	t.Helper()
	sections, err := wasm.ReadSections(snap)
	if err != nil {
		t.Fatal(err)
	}
	last := sections[len(sections)-1]
	out := bytes.Clone(snap)
	binary.LittleEndian.PutUint32(out[len(out)-4:], crc32.Checksum(out[:last.Start], castagnoli))
	return out
}

// edited returns snap decoded, changed by edit, encoded and resealed.
func edited(t *testing.T, snap []byte, edit func(m *wasm.Module)) []byte {
	t.Helper()
	m, err := wasm.Decode(snap)
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	return reseal(t, wasm.Encode(m))
}

// failingWriter accepts n bytes, then fails.
type failingWriter struct{ n int }

var errFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWrite(t *testing.T) {
	p, err := NewProgram(program(t))
	if err != nil {
		t.Fatal(err)
	}
	hash := [32]byte{1, 2, 3}
	want, err := Build(program(t), hash, state())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	n, err := p.Write(&b, hash, state())
	if err != nil || n != int64(len(want)) || !bytes.Equal(b.Bytes(), want) {
		t.Fatalf("Write: %d bytes, %v; differs from Build's %d bytes: %v", n, err, len(want), !bytes.Equal(b.Bytes(), want))
	}
	// A writer that fails: the error is returned, wrapped.
	for _, at := range []int{0, 10, len(want) / 2, len(want) - 1} {
		if _, err := p.Write(&failingWriter{at}, hash, state()); !errors.Is(err, errFull) {
			t.Errorf("writer failing after %d bytes: %v", at, err)
		}
	}
	// A state that cannot be written is refused before anything is.
	st := state()
	delete(st.Globals, 0)
	var none bytes.Buffer
	if _, err := p.Write(&none, hash, st); err == nil || none.Len() != 0 {
		t.Errorf("global missing: %v, %d bytes written", err, none.Len())
	}
	// Memory without zero pages, and no memory stored at all.
	for _, mem := range [][]byte{bytes.Repeat([]byte{7}, 4*wasm.PageSize), make([]byte, 4*wasm.PageSize), nil} {
		st := state()
		st.Memory = mem
		snap, err := Build(program(t), hash, st)
		if err != nil {
			t.Fatal(err)
		}
		validate(t, snap)
		s, err := Parse(snap)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if got := restore(s); !bytes.Equal(got, mem) {
			t.Errorf("memory of %d bytes read back as %d bytes, differing", len(mem), len(got))
		}
	}
}

// restore returns the memory a parsed snapshot holds.
func restore(s *Snapshot) []byte {
	mem := make([]byte, int(s.MemoryPages)*wasm.PageSize)
	for _, r := range s.Memory {
		copy(mem[r.Offset:], r.Data)
	}
	return mem
}

func TestParseMemory(t *testing.T) {
	snap, err := Build(program(t), [32]byte{}, state())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(snap)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Memory) != 2 || s.Memory[0].Offset != 0 || s.Memory[1].Offset != 2*wasm.PageSize {
		t.Fatalf("%d runs, want pages 0 and 2", len(s.Memory))
	}
	if !bytes.Equal(restore(s), state().Memory) {
		t.Errorf("memory read back differs")
	}
	// Not copied: the runs are in the input.
	for _, r := range s.Memory {
		p := uintptr(unsafe.Pointer(&r.Data[0]))
		if base := uintptr(unsafe.Pointer(&snap[0])); p < base || p >= base+uintptr(len(snap)) {
			t.Errorf("run at %d is a copy", r.Offset)
		}
	}
}

func TestProgram(t *testing.T) {
	direct, err := NewProgram(program(t))
	if err != nil {
		t.Fatal(err)
	}
	validate(t, direct.Binary())
	m := direct.Module()
	if m.HasStart || m.Memories[0].Min != 0 || m.Memories[0].Max != 4 {
		t.Errorf("resume module: start %v, memory %+v; want no start, min 0, max 4", m.HasStart, m.Memories[0])
	}
	if len(m.Data) != 2 || len(m.Data[0].Init) != 0 || string(m.Data[1].Init) != "passive" || m.Data[0].Mode != wasm.Passive || m.Data[1].Mode != wasm.Passive {
		t.Errorf("resume module's data: %+v, want an empty passive segment and the passive one", m.Data)
	}
	for i, g := range m.Globals {
		if g.Type.Mutable && !bytes.Equal(g.Init, zeroExpr(g.Type.Type)) {
			t.Errorf("global %d: init %x, want zero", i, g.Init)
		}
	}
	if got := direct.MutableGlobals(); len(got) != 5 || direct.StateIndex() != 4 {
		t.Errorf("mutable globals %v, state %d", got, direct.StateIndex())
	}
	// Every snapshot of the program gives the same resume module,
	// whatever its memory and globals, and the snapshot's values.
	for i, st := range []State{state(), {Memory: make([]byte, 4*wasm.PageSize), Globals: map[uint32][2]uint64{0: {1}, 1: {2}, 2: {3}, 4: {0}, 5: {4, 5}}}} {
		snap, err := Build(program(t), [32]byte{}, st)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Parse(snap)
		if err != nil {
			t.Fatal(err)
		}
		p, values, err := s.Program(nil)
		if err != nil {
			t.Fatalf("snapshot %d: Program: %v", i, err)
		}
		if !bytes.Equal(p.Binary(), direct.Binary()) {
			t.Errorf("snapshot %d: resume module differs from the program's", i)
		}
		for index, v := range st.Globals {
			if index == 4 {
				v = [2]uint64{StateRewinding}
			}
			if values[index] != v {
				t.Errorf("snapshot %d: global %d: %v, want %v", i, index, values[index], v)
			}
		}
		if len(values) != len(st.Globals) {
			t.Errorf("snapshot %d: %d values, want %d", i, len(values), len(st.Globals))
		}
		// A snapshot of the resume module is the same snapshot.
		again, err := Build(p.Module(), [32]byte{}, st)
		if err != nil || !bytes.Equal(again, snap) {
			t.Errorf("snapshot %d: built from the resume module: %v, same bytes: %v", i, err, bytes.Equal(again, snap))
		}
	}
}

func TestProgramCustomSections(t *testing.T) {
	// A custom section after the start section keeps its place relative
	// to the others when the start section goes.
	m := program(t)
	m.Customs = append(m.Customs,
		wasm.Custom{Name: "first", Data: []byte{1}, After: wasm.SectionCustom},
		wasm.Custom{Name: "after start", Data: []byte{2}, After: wasm.SectionStart},
		wasm.Custom{Name: "after data", Data: []byte{3}, After: wasm.SectionData},
		wasm.Custom{Name: sectionFrames, Data: []byte{4}, After: wasm.SectionData},
	)
	direct, err := NewProgram(m)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range direct.Module().Customs {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "first,after start,after data" {
		t.Errorf("custom sections %v", names)
	}
	snap, err := Build(m, [32]byte{}, state())
	if err != nil {
		t.Fatal(err)
	}
	validate(t, snap)
	s, err := Parse(snap)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := s.Program(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Binary(), direct.Binary()) {
		t.Errorf("resume module from the snapshot differs from the program's")
	}
}

func TestParseRefusesMemory(t *testing.T) {
	snap, err := Build(program(t), [32]byte{}, state())
	if err != nil {
		t.Fatal(err)
	}
	page := func(n int) []byte { return bytes.Repeat([]byte{byte(n + 1)}, wasm.PageSize) }
	active := func(offset int, init []byte) wasm.Data {
		return wasm.Data{Mode: wasm.Active, Offset: constExpr(wasm.I32, [2]uint64{uint64(offset)}), Init: init}
	}
	// The program's two segments, then runs; the data count follows.
	withData := func(runs ...wasm.Data) func(m *wasm.Module) {
		return func(m *wasm.Module) {
			m.Data = append(m.Data[:2:2], runs...)
			m.DataCount = uint32(len(m.Data))
		}
	}
	cases := map[string]func(m *wasm.Module){
		"run not at a page":     withData(active(100, page(0))),
		"run of a partial page": withData(active(0, page(0)[:100])),
		"empty run":             withData(active(0, nil)),
		"run beyond memory":     withData(active(3*wasm.PageSize, page(0))),
		"run across the end":    withData(active(2*wasm.PageSize, append(page(0), page(1)...))),
		"runs overlapping":      withData(active(0, append(page(0), page(1)...)), active(wasm.PageSize, page(2))),
		"runs out of order":     withData(active(2*wasm.PageSize, page(0)), active(0, page(1))),
		"passive after a run":   withData(active(0, page(0)), wasm.Data{Mode: wasm.Passive, Init: []byte("x")}),
		"run of memory 1":       withData(wasm.Data{Mode: wasm.Active, Memory: 1, Offset: constExpr(wasm.I32, [2]uint64{0}), Init: page(0)}),
		"offset not a constant": withData(wasm.Data{Mode: wasm.Active, Offset: []byte{byte(wasm.OpGlobalGet), 3, byte(wasm.OpEnd)}, Init: page(0)}),
		"data count wrong":      func(m *wasm.Module) { m.DataCount++ },
		"memory over maximum":   func(m *wasm.Module) { m.Memories[0].Max = 2 },
	}
	for name, edit := range cases {
		if _, err := Parse(edited(t, snap, edit)); err == nil {
			t.Errorf("%s: Parse succeeded", name)
		}
	}
	// The same edits that are right pass.
	if s, err := Parse(edited(t, snap, withData(active(wasm.PageSize, append(page(0), page(1)...))))); err != nil || len(s.Memory) != 1 {
		t.Errorf("two pages at page 1: %v", err)
	}
}

func TestProgramRefuses(t *testing.T) {
	snap, err := Build(program(t), [32]byte{}, state())
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(m *wasm.Module){
		"global initialized by global.get": func(m *wasm.Module) {
			m.Globals[0].Init = []byte{byte(wasm.OpGlobalGet), 3, byte(wasm.OpEnd)}
		},
		"global initialized with another type": func(m *wasm.Module) { m.Globals[1].Init = constExpr(wasm.I32, [2]uint64{1}) },
		"mutable reference global": func(m *wasm.Module) {
			m.Globals = append(m.Globals, wasm.Global{Type: wasm.GlobalType{Type: wasm.FuncRef, Mutable: true}, Init: zeroExpr(wasm.FuncRef)})
		},
		"state global not exported": func(m *wasm.Module) { m.Exports = nil },
		"state global immutable":    func(m *wasm.Module) { m.Globals[4].Type.Mutable = false },
	}
	for name, edit := range cases {
		s, err := Parse(edited(t, snap, edit))
		if err != nil {
			t.Errorf("%s: Parse: %v", name, err)
			continue
		}
		if _, _, err := s.Program(nil); err == nil {
			t.Errorf("%s: Program succeeded", name)
		}
	}
}

// TestI32Offset reads back the offsets Write encodes, up to 4 GiB, where
// i32.const holds a negative number.
func TestI32Offset(t *testing.T) {
	for _, off := range []uint32{0, 63, 64, 8191, 8192, wasm.PageSize, 1 << 30, 1<<31 - wasm.PageSize, 1 << 31, 0xffff0000} {
		b := append(constExpr(wasm.I32, [2]uint64{uint64(off)}), 0xff)
		got, n, err := i32Offset(b)
		if err != nil || got != off || n != len(b)-1 {
			t.Errorf("offset %d: read %d, %d bytes of %d, %v", off, got, n, len(b)-1, err)
		}
	}
	for _, bad := range [][]byte{{0x41}, {0x41, 0x80}, {0x41, 0x00}, {0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b}, {0x42, 0x00, 0x0b}} {
		if _, _, err := i32Offset(bad); err == nil {
			t.Errorf("%x: no error", bad)
		}
	}
}

// TestLargeMemory writes and reads a memory larger than the pieces the
// checksum is computed in.
func TestLargeMemory(t *testing.T) {
	m := program(t)
	m.Memories[0].Max = 64
	st := state()
	st.Memory = make([]byte, 40*wasm.PageSize)
	for i := range st.Memory {
		st.Memory[i] = byte(i*7 + i>>11)
	}
	snap, err := Build(m, [32]byte{}, st)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(snap)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got := restore(s); !bytes.Equal(got, st.Memory) {
		t.Errorf("memory read back differs")
	}
	if want := crc32.Checksum(snap[:s.headerStart], castagnoli); s.Checksum != want {
		t.Errorf("checksum %08x, want %08x", s.Checksum, want)
	}
	snap[len(snap)/2] ^= 1
	if _, err := Parse(snap); !errors.Is(err, ErrChecksum) {
		t.Errorf("a bit flipped in the middle: %v, want ErrChecksum", err)
	}
}
