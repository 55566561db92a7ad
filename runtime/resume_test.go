package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/gate-wasm/gate/internal/testprog"
	"github.com/gate-wasm/gate/runtime"
	"github.com/gate-wasm/gate/runtime/internal/snapshot"
	"github.com/gate-wasm/gate/runtime/internal/wasi"
	"github.com/gate-wasm/gate/wasm"
)

// cacheFiles counts the files of a compiled-code cache directory: one per
// module compiled into it.
func cacheFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// suspendedAt runs a fresh instance of m until its nth check site and
// returns it suspended, with what it printed.
func suspendedAt(t *testing.T, rt *runtime.Runtime, m *runtime.Module, args []string, n int) (*runtime.Instance, string) {
	t.Helper()
	var out bytes.Buffer
	inst, err := rt.Instantiate(context.Background(), m, runtime.Options{Args: args, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	runtime.SuspendAtCheck(inst, n)
	if _, err := inst.Run(context.Background(), 0); !errors.Is(err, runtime.ErrSuspended) {
		t.Fatalf("run to check %d: %v, want ErrSuspended", n, err)
	}
	return inst, out.String()
}

// TestResumeCompiledOnce checks that resuming compiles only the program's
// code, once: every snapshot of a program has the same resume module,
// which PrepareResume compiles into the cache directory ahead of time,
// where fresh runtimes find it, and which a runtime keeps for its next
// resumes.
func TestResumeCompiledOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := testprog.C(t, "internal/testprog/src/c/recurse.c")
	args := []string{"recurse", "60", "20"}
	want, wantCode, _ := runSuspending(t, path, args, nil)
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := runtime.Config{CacheDir: dir}
	rt := newRuntime(t, cfg)
	m, err := rt.CompileSuspendable(ctx, bin, 0)
	if err != nil {
		t.Fatal(err)
	}
	compiled := cacheFiles(t, dir)
	var snaps [][]byte
	var before []string
	for _, at := range []int{50, 700} {
		inst, out := suspendedAt(t, rt, m, args, at)
		snap, err := inst.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		if at == 50 {
			if err := inst.PrepareResume(ctx, 0); err != nil {
				t.Fatalf("PrepareResume: %v", err)
			}
		}
		inst.Close(ctx)
		snaps, before = append(snaps, snap), append(before, out)
	}
	prepared := cacheFiles(t, dir)
	if prepared != compiled+1 || runtime.ResumeModules(rt) != 1 {
		t.Fatalf("PrepareResume added %d files to the cache, %d resume modules to the runtime; want 1, 1", prepared-compiled, runtime.ResumeModules(rt))
	}
	if err := rt.PrepareResume(ctx, m, 0); err != nil || cacheFiles(t, dir) != prepared {
		t.Errorf("PrepareResume again: %v, %d files compiled", err, cacheFiles(t, dir)-prepared)
	}

	// Fresh runtimes on the same cache directory compile nothing.
	for i, snap := range snaps {
		rt2 := newRuntime(t, cfg)
		var out bytes.Buffer
		inst, err := rt2.Resume(ctx, snap, 0, runtime.Options{Stdout: &out})
		if err != nil {
			t.Fatalf("Resume of snapshot %d: %v", i, err)
		}
		code, err := inst.Run(ctx, 0)
		inst.Close(ctx)
		if err != nil || code != wantCode || before[i]+out.String() != want {
			t.Errorf("snapshot %d resumed: status %d, %v; output\n%s\nwant status %d, output\n%s", i, code, err, before[i]+out.String(), wantCode, want)
		}
		if n := cacheFiles(t, dir); n != prepared {
			t.Errorf("Resume of snapshot %d in a fresh runtime compiled %d modules into the cache, want 0", i, n-prepared)
		}
	}

	// In memory, one runtime compiles the resume module once per
	// memory cap.
	rt3 := newRuntime(t, runtime.Config{})
	for i, limit := range []uint64{0, 0, 64 << 20} {
		inst, err := rt3.Resume(ctx, snaps[i%2], limit, runtime.Options{})
		if err != nil {
			t.Fatal(err)
		}
		inst.Close(ctx)
	}
	if n := runtime.ResumeModules(rt3); n != 2 {
		t.Errorf("three resumes, two memory caps: %d resume modules, want 2", n)
	}
	if err := rt3.PrepareResume(ctx, &runtime.Module{}, 0); err == nil {
		t.Errorf("PrepareResume of a module that is not suspendable succeeded")
	}
}

// failAfter is a writer that fails once it has taken n bytes.
type failAfter struct{ n int }

var errWriter = errors.New("writer failed")

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errWriter
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rt := newRuntime(t, runtime.Config{})
	m := compileSuspendable(t, rt, testprog.C(t, "internal/testprog/src/c/sieve.c"))
	args := []string{"sieve", "100000", "3"}
	fresh, err := rt.Instantiate(ctx, m, runtime.Options{Args: args})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.WriteSnapshot(&bytes.Buffer{}); err == nil {
		t.Errorf("WriteSnapshot of an instance that has not run succeeded")
	}
	fresh.Close(ctx)
	// Late in the run, when it has grown its memory.
	p := &prog{path: testprog.C(t, "internal/testprog/src/c/sieve.c"), args: args}
	inst, _ := suspendedAt(t, rt, m, args, p.checks(t)-100)
	defer inst.Close(ctx)
	var b bytes.Buffer
	n, err := inst.WriteSnapshot(&b)
	if err != nil || n != int64(b.Len()) {
		t.Fatalf("WriteSnapshot: %d bytes, %v; wrote %d", n, err, b.Len())
	}
	snap, err := inst.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	sameSnapshots(t, snap, b.Bytes())
	// A valid module for any tool, not only for Gate.
	file := filepath.Join(t.TempDir(), "sieve.snapshot")
	if err := os.WriteFile(file, snap, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("wasm-validate", file).CombinedOutput(); err != nil {
		t.Errorf("wasm-validate: %v\n%s", err, out)
	}
	// The memory stored is the instance's.
	s, err := snapshot.Parse(snap)
	if err != nil {
		t.Fatal(err)
	}
	mem := make([]byte, int(s.MemoryPages)*wasm.PageSize)
	for _, r := range s.Memory {
		copy(mem[r.Offset:], r.Data)
	}
	if have := runtime.MemoryOf(inst); !bytes.Equal(mem, have) || len(have) < 2<<20 {
		t.Errorf("memory in the snapshot: %d bytes, differs from the instance's %d bytes: %v", len(mem), len(have), !bytes.Equal(mem, have))
	}
	// Resumed, the instance has the same memory before it runs.
	resumed, err := newRuntime(t, runtime.Config{}).Resume(ctx, snap, 0, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if have := runtime.MemoryOf(resumed); !bytes.Equal(have, runtime.MemoryOf(inst)) {
		t.Errorf("resumed instance's memory: %d bytes, differs from the suspended one's", len(have))
	}
	resumed.Close(ctx)
	for _, at := range []int{0, 100, len(snap) / 2, len(snap) - 1} {
		if _, err := inst.WriteSnapshot(&failAfter{at}); !errors.Is(err, errWriter) {
			t.Errorf("writer failing after %d bytes: %v", at, err)
		}
	}
}

// sameSnapshots fails the test unless a and b, two snapshots of one
// suspended instance, are the same but for the monotonic clock in the ABI
// state, which the host reads when it writes the snapshot, and so the
// checksum.
func sameSnapshots(t *testing.T, a, b []byte) {
	t.Helper()
	sa, err := wasm.ReadSections(a)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := wasm.ReadSections(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(sa) != len(sb) {
		t.Fatalf("%d sections and %d", len(sa), len(sb))
	}
	for i := range sa {
		if !bytes.Equal(sa[i].Payload, sb[i].Payload) && i < len(sa)-2 { // the last two: gate.wasi, gate.snapshot
			t.Errorf("section %d (id %d) differs", i, sa[i].ID)
		}
	}
	pa, pb := mustSnapshot(t, a), mustSnapshot(t, b)
	abiA, err := wasi.ParseSnapshot(pa.ABI)
	if err != nil {
		t.Fatal(err)
	}
	abiB, err := wasi.ParseSnapshot(pb.ABI)
	if err != nil {
		t.Fatal(err)
	}
	abiA.Monotonic = abiB.Monotonic
	if !reflect.DeepEqual(abiA, abiB) {
		t.Errorf("ABI states differ: %+v and %+v", abiA, abiB)
	}
}

// withModule returns snap decoded, changed by edit, encoded and resealed.
func withModule(t *testing.T, snap []byte, edit func(m *wasm.Module)) []byte {
	t.Helper()
	m, err := wasm.Decode(snap)
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	return reseal(t, wasm.Encode(m))
}

// tinySuspended returns a snapshot of internal/testprog/src/c/tiny.c
// suspended at its 20th check, in the loop at the bottom of its
// recursion, and the uninterrupted run, after checking that the
// snapshot resumes to it.
func tinySuspended(t *testing.T) ([]byte, progRun) {
	t.Helper()
	p := &prog{path: testprog.C(t, "internal/testprog/src/c/tiny.c"), args: []string{"tiny"}, keepSnaps: true}
	want := p.run(t, nil)
	got := p.run(t, []step{{check: 20}})
	same(t, "suspended at check 20", got, want, true)
	return got.snaps[0], want
}

// TestSuspendProgramBadSnapshotModule resumes snapshots whose module has
// been changed, checksum made right: Resume, which instantiates the
// program's code and copies the snapshot's memory and globals into it,
// must refuse what does not fit, before anything runs.
func TestSuspendProgramBadSnapshotModule(t *testing.T) {
	t.Parallel()
	snap, want := tinySuspended(t)
	pages := mustSnapshot(t, snap).MemoryPages
	exportIndex := func(m *wasm.Module, prefix string) int {
		for i, e := range m.Exports {
			if strings.HasPrefix(e.Name, prefix) {
				return i
			}
		}
		t.Fatalf("no export %s", prefix)
		return -1
	}
	global := func(m *wasm.Module, name string) *wasm.Global {
		e := m.Exports[exportIndex(m, name)]
		return &m.Globals[int(e.Index)-m.NumImports(wasm.ExternGlobal)]
	}
	start := func(m *wasm.Module) uint32 { return m.Exports[exportIndex(m, "_start")].Index }
	refusals := map[string]func(m *wasm.Module){
		"a mutable global's export removed": func(m *wasm.Module) {
			i := exportIndex(m, "gate_suspend.global.")
			m.Exports = append(m.Exports[:i:i], m.Exports[i+1:]...)
		},
		"a mutable global's export renamed": func(m *wasm.Module) {
			e := &m.Exports[exportIndex(m, "gate_suspend.global.")]
			e.Name += "0"
		},
		"a mutable global's export names another global": func(m *wasm.Module) {
			e := &m.Exports[exportIndex(m, "gate_suspend.global.")]
			n, _ := strconv.Atoi(strings.TrimPrefix(e.Name, "gate_suspend.global."))
			e.Name = "gate_suspend.global." + strconv.Itoa(n+1000)
		},
		"fuel export removed": func(m *wasm.Module) {
			i := exportIndex(m, "gate_suspend.fuel")
			m.Exports = append(m.Exports[:i:i], m.Exports[i+1:]...)
		},
		"state global immutable": func(m *wasm.Module) { global(m, "gate_suspend.state").Type.Mutable = false },
		"global initialized by global.get": func(m *wasm.Module) {
			global(m, "gate_suspend.fuel").Init = []byte{byte(wasm.OpGlobalGet), 0, byte(wasm.OpEnd)}
		},
		"memory maximum below its size": func(m *wasm.Module) { m.Memories[0].Max, m.Memories[0].HasMax = pages-1, true },
		"memory beyond its size": func(m *wasm.Module) {
			offset := wasm.AppendInstr(nil, &wasm.Instr{Op: wasm.OpI32Const, Imm: uint64(pages) * wasm.PageSize})
			m.Data = append(m.Data, wasm.Data{Mode: wasm.Active, Offset: append(offset, byte(wasm.OpEnd)),
				Init: bytes.Repeat([]byte{1}, wasm.PageSize)})
			m.DataCount = uint32(len(m.Data))
		},
		"invalid code": func(m *wasm.Module) {
			c := &m.Code[len(m.Code)-1]
			c.Body = []byte{byte(wasm.OpI32Add), byte(wasm.OpEnd)}
		},
		"memory imported": func(m *wasm.Module) {
			m.Imports = append(m.Imports, wasm.Import{Module: "env", Name: "memory", Kind: wasm.ExternMemory, Memory: m.Memories[0]})
			m.Memories = nil
		},
	}
	for name, edit := range refusals {
		outcome, err := tryBad(t, name, withModule(t, snap, edit), 0, want)
		t.Logf("%s: %v", name, err)
		if outcome != refused || !strings.Contains(err.Error(), "snapshot") {
			t.Errorf("%s: outcome %d (%v), want refused by Resume with an error that names the snapshot", name, outcome, err)
		}
	}
	// A start function in a snapshot is not run: the program's ran when
	// it was first instantiated. If _start ran at instantiation, the
	// program would print twice or fail.
	startAdded := withModule(t, snap, func(m *wasm.Module) { m.Start, m.HasStart = start(m), true })
	if outcome, err := tryBad(t, "start function added", startAdded, 0, want); outcome != sameRun {
		t.Errorf("start function added: outcome %d (%v), want it not run and the program resumed", outcome, err)
	}
}
