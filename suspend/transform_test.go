package suspend

import (
	"errors"
	"testing"

	"github.com/gate-wasm/gate/wasm"
)

// FuzzTransform transforms every valid module the fuzzer finds (seeded
// with the spec suite's): Transform must not panic, and its output must be
// valid.
func FuzzTransform(f *testing.F) {
	if mods, err := validSpecModules(); err == nil {
		for i, sm := range mods {
			if i%4 == 0 {
				f.Add(sm.binary)
			}
		}
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
		if _, err := wasm.Decode(wasm.Encode(out)); err != nil {
			t.Fatalf("transformed module does not decode: %v", err)
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
