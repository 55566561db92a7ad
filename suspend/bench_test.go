package suspend

import (
	"os"
	"testing"

	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/wasm"
)

// mediumGo returns the binary of bench/programs/medium, the 4 MB Go
// program of the benchmarks, built as bench builds it.
func mediumGo(b *testing.B) []byte {
	b.Helper()
	path, err := testprog.BuildGo("bench/programs/medium")
	if err != nil {
		b.Skipf("building the medium Go program: %v", err)
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return bin
}

// BenchmarkTransform measures Transform alone on the medium Go program;
// SetBytes makes its MB/s the input's bytes per second.
func BenchmarkTransform(b *testing.B) {
	bin := mediumGo(b)
	m, err := wasm.Decode(bin)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(bin)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Transform(m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransformBinary measures what the benchmark's throughput
// target is about: decode, validate, transform and encode.
func BenchmarkTransformBinary(b *testing.B) {
	bin := mediumGo(b)
	b.SetBytes(int64(len(bin)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := TransformBinary(bin); err != nil {
			b.Fatal(err)
		}
	}
}
