package snapshot

import (
	"bytes"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/wasm"
)

func program(t *testing.T) *wasm.Module {
	t.Helper()
	bin, err := os.ReadFile(testprog.Wat(t, "runtime/internal/snapshot/testdata/program.wat"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := wasm.Decode(bin)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// state has 3 pages of memory, the middle one zero, and a value for each
// mutable global (indices as in program.wat).
func state() State {
	mem := make([]byte, 3*wasm.PageSize)
	copy(mem[100:], "first page")
	copy(mem[2*wasm.PageSize+5:], "third page")
	return State{
		Memory:  mem,
		Globals: map[uint32][2]uint64{0: {0xfffffff6}, 1: {1 << 40}, 2: {0x400921fb54442d18}, 4: {1}, 5: {7, 9}},
		Frames:  []byte{1, 0},
		ABI:     []byte("abi state"),
	}
}

func TestBuildAndParse(t *testing.T) {
	m := program(t)
	hash := sha256.Sum256([]byte("the original program"))
	snap, err := Build(m, hash, state())
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	validate(t, snap)

	got, err := wasm.Decode(snap)
	if err != nil {
		t.Fatalf("decoding the snapshot: %v", err)
	}
	if got.HasStart {
		t.Errorf("the snapshot has a start function: resuming would run it again")
	}
	if got.Memories[0].Min != 3 || got.Memories[0].Max != 4 {
		t.Errorf("memory limits %+v, want min 3 max 4", got.Memories[0])
	}
	// The original segments keep their indices: the active one is now
	// empty and passive, the passive one is as it was; then one active
	// segment per run of non-zero pages.
	wantData := []struct {
		mode   wasm.SegmentMode
		offset int
		init   []byte
	}{
		{wasm.Passive, 0, nil},
		{wasm.Passive, 0, []byte("passive")},
		{wasm.Active, 0, state().Memory[:wasm.PageSize]},
		{wasm.Active, 2 * wasm.PageSize, state().Memory[2*wasm.PageSize:]},
	}
	if len(got.Data) != len(wantData) {
		t.Fatalf("%d data segments, want %d", len(got.Data), len(wantData))
	}
	for i, want := range wantData {
		d := got.Data[i]
		if d.Mode != want.mode || !bytes.Equal(d.Init, want.init) {
			t.Errorf("data %d: %v with %d bytes, want %v with %d", i, d.Mode, len(d.Init), want.mode, len(want.init))
		}
		if want.mode == wasm.Active && !bytes.Equal(d.Offset, constExpr(wasm.I32, [2]uint64{uint64(want.offset)})) {
			t.Errorf("data %d: offset %x, want i32.const %d", i, d.Offset, want.offset)
		}
	}
	wantInit := map[int][]byte{
		0: constExpr(wasm.I32, [2]uint64{0xfffffff6}),
		1: constExpr(wasm.I64, [2]uint64{1 << 40}),
		2: constExpr(wasm.F64, [2]uint64{0x400921fb54442d18}),
		3: m.Globals[3].Init, // immutable: unchanged
		4: constExpr(wasm.I32, [2]uint64{StateRewinding}),
		5: constExpr(wasm.V128, [2]uint64{7, 9}),
	}
	for i, want := range wantInit {
		if !bytes.Equal(got.Globals[i].Init, want) {
			t.Errorf("global %d: init %x, want %x", i, got.Globals[i].Init, want)
		}
	}

	parsed, err := Parse(snap)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if parsed.Version != Version || parsed.ModuleHash != hash || parsed.MemoryPages != 3 {
		t.Errorf("header %+v", parsed.Header)
	}
	if !bytes.Equal(parsed.Frames, state().Frames) || !bytes.Equal(parsed.ABI, state().ABI) {
		t.Errorf("frames %x, ABI %q", parsed.Frames, parsed.ABI)
	}
	// Sparse: the zero page is not stored.
	if len(snap) > 2*wasm.PageSize+4096 {
		t.Errorf("snapshot of 3 pages, one zero, takes %d bytes", len(snap))
	}
	// A snapshot of a snapshot replaces Gate's sections, not adds to them.
	again, err := Build(got, hash, state())
	if err != nil {
		t.Fatalf("Build from a snapshot: %v", err)
	}
	if _, err := Parse(again); err != nil {
		t.Errorf("Parse of a snapshot built from a snapshot: %v", err)
	}
}

// validate runs wabt's wasm-validate on a snapshot: it must be a valid
// module for any tool, not only for Gate.
func validate(t *testing.T, bin []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "snapshot.wasm")
	if err := os.WriteFile(path, bin, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("wasm-validate", path).CombinedOutput(); err != nil {
		t.Errorf("wasm-validate: %v\n%s", err, out)
	}
	m, err := wasm.Decode(bin)
	if err != nil {
		t.Fatalf("decoding: %v", err)
	}
	if err := wasm.Validate(m); err != nil {
		t.Errorf("wasm.Validate: %v", err)
	}
}

func TestBuildRefuses(t *testing.T) {
	cases := map[string]func(*wasm.Module, *State){
		"partial page":        func(_ *wasm.Module, s *State) { s.Memory = s.Memory[:100] },
		"memory over maximum": func(_ *wasm.Module, s *State) { s.Memory = make([]byte, 5*wasm.PageSize) },
		"global missing":      func(_ *wasm.Module, s *State) { delete(s.Globals, 1) },
		"extra global":        func(_ *wasm.Module, s *State) { s.Globals[3] = [2]uint64{1} },
		"not transformed":     func(m *wasm.Module, _ *State) { m.Exports = nil },
	}
	for name, spoil := range cases {
		m, st := program(t), state()
		spoil(m, &st)
		if _, err := Build(m, [32]byte{}, st); err == nil {
			t.Errorf("%s: Build succeeded", name)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	snap, err := Build(program(t), [32]byte{}, state())
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(snap); n += 1 + n/64 {
		if _, err := Parse(snap[:n]); err == nil {
			t.Errorf("Parse of the first %d of %d bytes succeeded", n, len(snap))
		}
	}
	plain, err := os.ReadFile(testprog.Wat(t, "runtime/internal/snapshot/testdata/program.wat"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(plain); err == nil || !strings.Contains(err.Error(), "is this a snapshot") {
		t.Errorf("Parse of a program: %v", err)
	}
	m, _ := wasm.Decode(snap)
	spoilHeader := func(f func(h []byte) []byte) []byte {
		m2 := *m
		m2.Customs = append([]wasm.Custom(nil), m.Customs...)
		for i := range m2.Customs {
			if m2.Customs[i].Name == sectionHeader {
				m2.Customs[i].Data = f(bytes.Clone(m2.Customs[i].Data))
			}
		}
		return wasm.Encode(&m2)
	}
	cases := map[string][]byte{
		"version 1":        spoilHeader(func(h []byte) []byte { h[0] = 1; return h }),
		"version 3":        spoilHeader(func(h []byte) []byte { h[0] = 3; return h }),
		"wrong page count": spoilHeader(func(h []byte) []byte { h[1+32] = 7; return h }),
		"trailing bytes":   spoilHeader(func(h []byte) []byte { return append(h, 0) }),
		"short hash":       spoilHeader(func(h []byte) []byte { return h[:10] }),
		"wrong checksum":   spoilHeader(func(h []byte) []byte { h[len(h)-1] ^= 1; return h }),
		"header not last":  append(bytes.Clone(snap), 0, 2, 1, 'x', 0),
	}
	// Every single flipped bit is detected.
	for off := 0; off < len(snap); off += 1 + off/16 {
		bad := bytes.Clone(snap)
		bad[off] ^= 1 << (off % 8)
		if _, err := Parse(bad); err == nil {
			t.Errorf("bit %d of byte %d flipped: Parse succeeded", off%8, off)
		}
	}
	for name, bin := range cases {
		if _, err := Parse(bin); err == nil {
			t.Errorf("%s: Parse succeeded", name)
		}
	}
}
