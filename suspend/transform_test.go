package suspend

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/gate-wasm/gate/wasm"
)

// FuzzTransform transforms every valid module the fuzzer finds (seeded
// with the spec suite's, the hostile shapes of TestTransformLinear, small,
// and random functions of deep stacks from stackGen): Transform must not
// panic, its output must be valid, and the same when the functions are
// shared among workers.
func FuzzTransform(f *testing.F) {
	if mods, err := validSpecModules(); err == nil {
		for i, sm := range mods {
			if i%4 == 0 {
				f.Add(sm.binary)
			}
		}
	}
	for _, s := range hostileShapes {
		for _, ab := range [][2]int{{3, 2}, {70, 5}, {maxLive + 1, 3}, {200, 40}} {
			f.Add(wasm.Encode(hostileModule(s, ab[0], ab[1])))
		}
	}
	for seed := range uint64(8) {
		f.Add(wasm.Encode(stackGenModule(seed)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := wasm.Decode(b)
		if err != nil || wasm.Validate(m) != nil {
			return
		}
		out, err := Transform(m)
		if err != nil {
			if errors.Is(err, ErrRefused) {
				return
			}
			t.Fatalf("valid module refused: %v", err)
		}
		if err := wasm.Validate(out); err != nil {
			t.Fatalf("transformed module invalid: %v", err)
		}
		encoded := wasm.Encode(out)
		if _, err := wasm.Decode(encoded); err != nil {
			t.Fatalf("transformed module does not decode: %v", err)
		}
		// Chunks of one function on three workers: the merge must
		// give the same bytes (see parallel.go).
		tr := &transformer{in: m, workers: 3, chunkBytes: 1}
		many, err := tr.run()
		if err != nil {
			t.Fatalf("in chunks of one function: %v", err)
		}
		if !bytes.Equal(wasm.Encode(many), encoded) {
			t.Fatalf("in chunks of one function on three workers: output differs")
		}
	})
}

func TestRefused(t *testing.T) {
	for _, m := range []*wasm.Module{
		{Types: []wasm.FuncType{{}}, Imports: []wasm.Import{{Module: ImportModule, Name: "check", Kind: wasm.ExternFunc}}},
		{Imports: []wasm.Import{{Module: ImportModule, Name: "x", Kind: wasm.ExternMemory, Memory: wasm.Limits{Min: 1}}}},
		{Memories: []wasm.Limits{{Min: 1}}, Exports: []wasm.Export{{Name: StateExport, Kind: wasm.ExternMemory}}},
		{Memories: []wasm.Limits{{Min: 1}}, Exports: []wasm.Export{{Name: FuelExport, Kind: wasm.ExternMemory}}},
	} {
		if err := wasm.Validate(m); err != nil {
			t.Fatal(err)
		}
		if _, err := Transform(m); !errors.Is(err, ErrRefused) {
			t.Errorf("Transform(%+v) = %v, want ErrRefused", m, err)
		}
	}
}

// TestTransformDoesNotChangeInput checks that the input module is left as
// it was.
func TestTransformDoesNotChangeInput(t *testing.T) {
	mods, err := validSpecModules()
	if err != nil || len(mods) == 0 {
		t.Skip("no spec suite")
	}
	for _, sm := range mods[:min(len(mods), 300)] {
		m, err := wasm.Decode(sm.binary)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Transform(m); err != nil {
			t.Fatal(err)
		}
		if b := wasm.Encode(m); string(b) != string(sm.binary) {
			t.Fatalf("%s: Transform changed its input", sm.name)
		}
	}
}

// TestNames checks that the transform renumbers the name section: each
// function keeps its name at its new index, locals keep theirs.
func TestNames(t *testing.T) {
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm (wabt) not installed")
	}
	out := filepath.Join(t.TempDir(), "m.wasm")
	if o, err := exec.Command(tool, "--debug-names", filepath.Join("testdata", "programs.wat"), "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm: %v\n%s", err, o)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	m, err := wasm.Decode(bin)
	if err != nil {
		t.Fatal(err)
	}
	tm, err := Transform(m)
	if err != nil {
		t.Fatal(err)
	}
	before, after := funcNames(t, m), funcNames(t, tm)
	if len(before) == 0 || before[3] != "rec" {
		t.Fatalf("names of the input: %v", before)
	}
	for i, name := range before {
		if got := after[i+numImports]; got != name {
			t.Errorf("function %d (%s) is named %q in the output", i+numImports, name, got)
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d names in the output, %d in the input", len(after), len(before))
	}
	// A name section that does not decode is dropped.
	m.Customs = []wasm.Custom{{Name: "name", Data: []byte{1, 5, 1, 0}}}
	tm, err = Transform(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tm.Customs {
		if c.Name == "name" {
			t.Errorf("a bad name section is kept: % x", c.Data)
		}
	}
}

// funcNames returns the function names of m's name section.
func funcNames(t *testing.T, m *wasm.Module) map[uint32]string {
	t.Helper()
	names := map[uint32]string{}
	for _, c := range m.Customs {
		if c.Name != "name" {
			continue
		}
		r := refsReader{b: c.Data}
		for r.off < len(r.b) && r.err == nil {
			id := r.b[r.off]
			r.off++
			size := r.count()
			end := r.off + size
			if id == nameFunctions {
				for n := r.count(); n > 0 && r.err == nil; n-- {
					idx := r.u32()
					l := r.count()
					names[idx] = string(r.b[r.off : r.off+l])
					r.off += l
				}
			}
			r.off = end
		}
		if r.err != nil {
			t.Fatal(r.err)
		}
	}
	return names
}
