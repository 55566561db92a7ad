package wasm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gate-wasm/gate/internal/testprog"
)

// benchModules returns the modules to benchmark: $GATE_BENCH_MODULE if
// set, else the medium (4 MiB) and big (10 MiB) Go programs of
// bench/programs, built as bench builds them: Go compiled for wasip1 has
// the size and shape of what Gate runs. Without any, the benchmark is
// skipped.
func benchModules(b *testing.B) []benchMod {
	b.Helper()
	if path := os.Getenv("GATE_BENCH_MODULE"); path != "" {
		bin, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		return []benchMod{{filepath.Base(path), bin}}
	}
	var mods []benchMod
	for _, name := range []string{"medium", "big"} {
		path, err := testprog.BuildGo("bench/programs/" + name)
		if err != nil {
			b.Logf("building the %s Go program: %v", name, err)
			continue
		}
		bin, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		mods = append(mods, benchMod{name, bin})
	}
	if len(mods) == 0 {
		b.Skip("no module to benchmark: set GATE_BENCH_MODULE to a .wasm file, or install Go's wasip1 port")
	}
	return mods
}

type benchMod struct {
	name string
	bin  []byte
}

// eachModule runs bench as a sub-benchmark for each module of
// benchModules, with SetBytes the module's size, so that MB/s is the
// module's bytes per second.
func eachModule(b *testing.B, bench func(b *testing.B, bin []byte)) {
	for _, m := range benchModules(b) {
		b.Run(m.name, func(b *testing.B) {
			b.SetBytes(int64(len(m.bin)))
			bench(b, m.bin)
		})
	}
}

func mustDecode(b *testing.B, bin []byte) *Module {
	m, err := Decode(bin)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkDecode(b *testing.B) {
	eachModule(b, func(b *testing.B, bin []byte) {
		for b.Loop() {
			if _, err := Decode(bin); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkValidate(b *testing.B) {
	eachModule(b, func(b *testing.B, bin []byte) {
		m := mustDecode(b, bin)
		for b.Loop() {
			if err := Validate(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	eachModule(b, func(b *testing.B, bin []byte) {
		m := mustDecode(b, bin)
		for b.Loop() {
			Encode(m)
		}
	})
}

// BenchmarkInstructions decodes every function body into one reused
// buffer, as a transform going through the functions would.
func BenchmarkInstructions(b *testing.B) {
	eachModule(b, func(b *testing.B, bin []byte) {
		m := mustDecode(b, bin)
		var buf []Instr
		for b.Loop() {
			for i := range m.Code {
				var err error
				if buf, err = m.Code[i].AppendInstructions(buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// BenchmarkRewrite decodes, re-encodes every function body and encodes
// the module: the codec's share of a transform that rewrites everything.
func BenchmarkRewrite(b *testing.B) {
	eachModule(b, func(b *testing.B, bin []byte) {
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
	})
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
