package runtime_test

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/gate-wasm/gate/runtime"
	"github.com/gate-wasm/gate/wasm"
)

// appendCustom appends a custom section name holding data.
func appendCustom(b []byte, name string, data []byte) []byte {
	payload := append(binary.AppendUvarint(nil, uint64(len(name))), name...)
	payload = append(payload, data...)
	b = binary.AppendUvarint(append(b, byte(wasm.SectionCustom)), uint64(len(payload)))
	return append(b, payload...)
}

// sparseSnapshot writes to a new file a snapshot of tiny suspended (as
// suspendedSnapshot), but with a memory of memory bytes stored whole as
// one run, which is a hole in the file: a snapshot of that size that
// takes no disk space. It returns the file's path.
func sparseSnapshot(t *testing.T, memory uint32) string {
	t.Helper()
	snap := suspendedSnapshot(t)
	m, err := wasm.Decode(snap)
	if err != nil {
		t.Fatal(err)
	}
	frames, abi := customPayload(snap, "gate.frames"), customPayload(snap, "gate.wasi")
	pages := memory / wasm.PageSize
	m.Memories[0] = wasm.Limits{Min: pages, Max: wasm.MaxPages, HasMax: true}
	// The program's segments, then the run; the module's other custom
	// sections left out.
	var passive []wasm.Data
	for _, d := range m.Data {
		if d.Mode == wasm.Passive {
			passive = append(passive, d)
		}
	}
	m.Customs, m.Data = nil, nil
	m.DataCount = uint32(len(passive) + 1)
	encoded := wasm.Encode(m)
	sections, err := wasm.ReadSections(encoded)
	if err != nil {
		t.Fatal(err)
	}
	prefix := append([]byte(nil), encoded[:8]...)
	for _, s := range sections {
		if s.ID != wasm.SectionData { // written below
			prefix = append(prefix, encoded[s.Start:s.Offset+len(s.Payload)]...)
		}
	}
	var payload []byte
	payload = binary.AppendUvarint(payload, uint64(len(passive)+1))
	for _, d := range passive {
		payload = append(binary.AppendUvarint(append(payload, 1), uint64(len(d.Init))), d.Init...)
	}
	payload = append(payload, 0, byte(wasm.OpI32Const), 0, byte(wasm.OpEnd))
	payload = binary.AppendUvarint(payload, uint64(memory))
	prefix = binary.AppendUvarint(append(prefix, byte(wasm.SectionData)), uint64(len(payload))+uint64(memory))
	prefix = append(prefix, payload...)
	suffix := appendCustom(appendCustom(nil, "gate.frames", frames), "gate.wasi", abi)

	table := crc32.MakeTable(crc32.Castagnoli)
	sum := crc32.Update(0, table, prefix)
	zeros := make([]byte, 1<<20)
	for n := uint32(0); n < memory; n += uint32(len(zeros)) {
		sum = crc32.Update(sum, table, zeros)
	}
	sum = crc32.Update(sum, table, suffix)
	header := append(binary.AppendUvarint(nil, 2), make([]byte, 32)...)
	header = binary.LittleEndian.AppendUint32(binary.AppendUvarint(header, uint64(pages)), sum)
	suffix = appendCustom(suffix, "gate.snapshot", header)

	path := filepath.Join(t.TempDir(), "sparse.snapshot")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(prefix); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(suffix, int64(len(prefix))+int64(memory)); err != nil {
		t.Fatal(err)
	}
	return path
}

// inspectFile inspects the file at path as gate inspect does, and
// returns what it found, how long it took and how many bytes it
// allocated.
func inspectFile(t *testing.T, path string) (*runtime.SnapshotInfo, error, time.Duration, uint64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	start := time.Now()
	info, err := runtime.InspectSnapshotAt(f, fi.Size())
	elapsed := time.Since(start)
	goruntime.ReadMemStats(&after)
	return info, err, elapsed, after.TotalAlloc - before.TotalAlloc
}

// TestInspectSparse inspects sparse files of many GB: one with a memory
// of 3 GiB stored whole, described; one of 12 GB, refused at once. Each
// with little memory: nothing of the memory is held.
func TestInspectSparse(t *testing.T) {
	// Not parallel: allocations are measured.
	const memory = 3 << 30
	path := sparseSnapshot(t, memory)
	info, err, elapsed, allocated := inspectFile(t, path)
	t.Logf("%d-byte snapshot, memory stored whole: %v in %v, %.1f MiB allocated", memory, err, elapsed, float64(allocated)/(1<<20))
	if err != nil {
		t.Fatalf("InspectSnapshotAt: %v", err)
	}
	want, err := runtime.InspectSnapshot(suspendedSnapshot(t))
	if err != nil {
		t.Fatal(err)
	}
	if info.MemoryPages != memory/wasm.PageSize || info.MemoryStored != memory || len(info.Frames) != len(want.Frames) || info.Frames[0] != want.Frames[0] {
		t.Errorf("InspectSnapshotAt: %d pages, %d bytes stored, frames %v; want %d, %d, %v", info.MemoryPages, info.MemoryStored, info.Frames,
			memory/wasm.PageSize, memory, want.Frames)
	}
	if allocated > 32<<20 {
		t.Errorf("inspecting a snapshot of %d bytes allocated %d MiB", memory, allocated>>20)
	}

	// 12 GB: a good snapshot at its start, a hole after.
	huge := filepath.Join(t.TempDir(), "huge")
	if err := os.WriteFile(huge, suspendedSnapshot(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 12<<30); err != nil {
		t.Fatal(err)
	}
	_, err, elapsed, allocated = inspectFile(t, huge)
	t.Logf("12 GB file: %v in %v, %d bytes allocated", err, elapsed, allocated)
	if err == nil || !strings.Contains(err.Error(), "more than any snapshot") || elapsed > time.Second || allocated > 1<<20 {
		t.Errorf("12 GB file: %v in %v, %d bytes allocated; want refused at once", err, elapsed, allocated)
	}
	// The damage of one byte of the hole is found.
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{1}, memory/2); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err, _, _ := inspectFile(t, path); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("a byte of the memory changed: %v, want a checksum mismatch", err)
	}
}
