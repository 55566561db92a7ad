package wasm

import (
	"os"
	"testing"
)

// benchModule returns the module to benchmark: $GATE_BENCH_MODULE, such
// as a Go program compiled for wasip1, which has the size and shape of
// what Gate runs; the benchmark is skipped without it.
func benchModule(b *testing.B) []byte {
	path := os.Getenv("GATE_BENCH_MODULE")
	if path == "" {
		b.Skip("set GATE_BENCH_MODULE to a .wasm file")
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(bin)))
	return bin
}

func benchDecoded(b *testing.B) *Module {
	m, err := Decode(benchModule(b))
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkDecode(b *testing.B) {
	bin := benchModule(b)
	for b.Loop() {
		if _, err := Decode(bin); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	m := benchDecoded(b)
	for b.Loop() {
		if err := Validate(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	m := benchDecoded(b)
	for b.Loop() {
		Encode(m)
	}
}

// BenchmarkInstructions decodes every function body into one reused
// buffer, as a transform going through the functions would.
func BenchmarkInstructions(b *testing.B) {
	m := benchDecoded(b)
	var buf []Instr
	for b.Loop() {
		for i := range m.Code {
			var err error
			if buf, err = m.Code[i].AppendInstructions(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkRewrite decodes, re-encodes every function body and encodes
// the module: the codec's share of a transform that rewrites everything.
func BenchmarkRewrite(b *testing.B) {
	bin := benchModule(b)
	var buf []Instr
	for b.Loop() {
		m, err := Decode(bin)
		if err != nil {
			b.Fatal(err)
		}
		for i := range m.Code {
			if buf, err = m.Code[i].AppendInstructions(buf[:0]); err != nil {
				b.Fatal(err)
			}
			m.Code[i].Body = EncodeBody(buf)
		}
		Encode(m)
	}
}

func BenchmarkSpecSuite(b *testing.B) {
	var mods [][]byte
	size := 0
	specs, err := readSpecModules(specDirOrEmpty())
	if err != nil || len(specs) == 0 {
		b.Skip("spec suite not found")
	}
	for _, sm := range specs {
		if sm.kind == "valid" {
			mods = append(mods, sm.binary)
			size += len(sm.binary)
		}
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, bin := range mods {
			m, err := Decode(bin)
			if err != nil {
				b.Fatal(err)
			}
			if err := Validate(m); err != nil {
				b.Fatal(err)
			}
			Encode(m)
		}
	}
}
