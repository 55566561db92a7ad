//go:build linux

package executor_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gate-wasm/gate/executor"
	"github.com/gate-wasm/gate/executor/internal/proto"
	"github.com/gate-wasm/gate/internal/testprog"
	gateruntime "github.com/gate-wasm/gate/runtime"
)

// suspendedSieve runs sieve.c with MiBs of memory in use in ex,
// suspends it, and returns the instance, its output until then and the
// output of an uninterrupted run (which ends with status 5).
func suspendedSieve(t *testing.T, ex *executor.Executor) (inst *executor.Instance, out, want string) {
	t.Helper()
	prog := testprog.C(t, "internal/testprog/src/c/sieve.c")
	args := []string{"sieve", "40000000", "0"}
	_, want, _, err := run(t, ex, compile(t, ex, prog, executor.CompileOptions{}), "", args[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	m := compile(t, ex, prog, executor.CompileOptions{Suspendable: true})
	var buf bytes.Buffer
	inst, err = ex.Instantiate(context.Background(), m, executor.Options{Args: args, Stdout: &buf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Close(context.Background()) })
	done := runAsync(inst)
	time.Sleep(300 * time.Millisecond)
	inst.Suspend()
	if err := <-done; !errors.Is(err, gateruntime.ErrSuspended) {
		t.Fatalf("Run: %v, want ErrSuspended (did the sieve end within 300ms?)", err)
	}
	return inst, buf.String(), want
}

func offset(t *testing.T, f *os.File) int64 {
	t.Helper()
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		t.Fatal(err)
	}
	return off
}

// TestWriteSnapshotToResumeFile writes a suspended instance's snapshot
// into a file by its descriptor, after a few bytes already there: the
// bytes are those WriteSnapshot sends through the socket (but for the
// clock, read at each snapshot), the file's offset ends after them, and
// the executor keeps no descriptor. The snapshot, resumed from that
// offset by ResumeFile, finishes the run as an uninterrupted one does.
func TestWriteSnapshotToResumeFile(t *testing.T) {
	ex := newExecutor(t, gateBinary)
	inst, out, want := suspendedSieve(t, ex)
	pid := ex.PID()

	var viaSocket bytes.Buffer
	if _, err := inst.WriteSnapshot(&viaSocket); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "snap"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const prefix = "not the snapshot"
	if _, err := f.WriteString(prefix); err != nil {
		t.Fatal(err)
	}
	n, err := inst.WriteSnapshotTo(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(data)-len(prefix)) || offset(t, f) != int64(len(data)) {
		t.Errorf("WriteSnapshotTo: %d bytes, file offset %d; the file has %d bytes after the %d there before, and its offset should be its end", n, offset(t, f), len(data)-len(prefix), len(prefix))
	}
	if string(data[:len(prefix)]) != prefix {
		t.Errorf("the file begins with %q, not with what was there before, %q", data[:len(prefix)], prefix)
	}
	sameSnapshot(t, data[len(prefix):], viaSocket.Bytes())
	checkDescriptors(t, pid)

	// WriteSnapshot's preconditions.
	hello := compile(t, ex, testprog.C(t, "examples/c/hello.c"), executor.CompileOptions{})
	notSuspended, err := ex.Instantiate(context.Background(), hello, executor.Options{Args: []string{"hello", "x"}})
	if err != nil {
		t.Fatal(err)
	}
	defer notSuspended.Close(context.Background())
	if _, err := notSuspended.WriteSnapshotTo(f); err == nil || !strings.Contains(err.Error(), "not been suspended") {
		t.Errorf("WriteSnapshotTo of an instance that has not been suspended: %v", err)
	}

	if _, err := f.Seek(int64(len(prefix)), io.SeekStart); err != nil {
		t.Fatal(err)
	}
	var out2 bytes.Buffer
	resumed, err := ex.ResumeFile(context.Background(), f, 0, false, executor.Options{Stdout: &out2})
	if err != nil {
		t.Fatal(err)
	}
	defer resumed.Close(context.Background())
	if off := offset(t, f); off != int64(len(data)) {
		t.Errorf("after ResumeFile the file's offset is %d, want its end, %d", off, len(data))
	}
	checkDescriptors(t, pid)
	if code, err := resumed.Run(context.Background(), 0); err != nil || code != 5 || out+out2.String() != want {
		t.Errorf("resumed: status %d, %v, output %q; want 5, %q", code, err, out+out2.String(), want)
	}
	if ex.PID() != pid {
		t.Errorf("the executor was replaced (%d, then %d)", pid, ex.PID())
	}
}

// sameSnapshot checks that two snapshots of one suspended instance, taken
// one after the other, are the same: byte for byte but for the
// monotonic clock, which each records when it is written, and the
// checksum over it, both in the sections at the end of the file.
func sameSnapshot(t *testing.T, got, want []byte) {
	t.Helper()
	common := 0
	for common < min(len(got), len(want)) && got[common] == want[common] {
		common++
	}
	const tail = 256 // the host sections that hold the clock, and the checksum
	if len(got)-common > tail || len(want)-common > tail {
		t.Fatalf("snapshots of %d and %d bytes differ from byte %d on, before the sections at the end", len(got), len(want), common)
	}
	gotInfo, err := gateruntime.InspectSnapshot(got)
	if err != nil {
		t.Fatal(err)
	}
	wantInfo, err := gateruntime.InspectSnapshot(want)
	if err != nil {
		t.Fatal(err)
	}
	if gotInfo.Monotonic < wantInfo.Monotonic {
		t.Errorf("the later snapshot's clock, %v, is behind the earlier one's, %v", gotInfo.Monotonic, wantInfo.Monotonic)
	}
	gotInfo.Monotonic = wantInfo.Monotonic
	if !reflect.DeepEqual(gotInfo, wantInfo) {
		t.Errorf("snapshot %+v, want %+v", gotInfo, wantInfo)
	}
	if gotInfo.MemoryStored < 4<<20 {
		t.Errorf("the snapshot stores %d bytes of memory; the test wants at least 4 MiB", gotInfo.MemoryStored)
	}
}

// TestResumeFileRefused resumes files that do not hold a good snapshot
// from their offset: each is refused with Resume's error, and the
// executor goes on, holding no descriptor, and resumes a good one.
func TestResumeFileRefused(t *testing.T) {
	ex := newExecutor(t, gateBinary)
	pr, pw := io.Pipe()
	defer pw.Close()
	snap, out := suspendFilter(t, ex, pr, pw, 200*time.Millisecond)
	pid := ex.PID()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	flipped := bytes.Clone(snap)
	flipped[len(flipped)/2] ^= 0x5a
	good := write("good", snap)
	for _, c := range []struct {
		name, path string
		offset     int64
		memory     uint64
		want       string
	}{
		{"truncated", write("truncated", snap[:len(snap)/2]), 0, 0, ""},
		{"damaged", write("damaged", flipped), 0, 0, ""},
		{"empty", write("empty", nil), 0, 0, "not a WebAssembly module"},
		{"at its end", good, int64(len(snap)), 0, "not a WebAssembly module"},
		{"from the middle", good, int64(len(snap) / 2), 0, ""},
		{"memory over the cap", good, 0, 64 << 10, "more than the cap"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, err := os.Open(c.path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Seek(c.offset, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			inst, err := ex.ResumeFile(context.Background(), f, c.memory, false, executor.Options{})
			var module *gateruntime.ModuleError
			if !errors.As(err, &module) || !strings.Contains(err.Error(), c.want) {
				if inst != nil {
					inst.Close(context.Background())
				}
				t.Errorf("ResumeFile: %v; want a *runtime.ModuleError containing %q", err, c.want)
			}
			if ex.PID() != pid {
				t.Fatalf("the executor was replaced (%d, then %d)", pid, ex.PID())
			}
			checkDescriptors(t, pid)
		})
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := ex.ResumeFile(context.Background(), r, 0, false, executor.Options{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("ResumeFile of a pipe: %v; want it refused as not a regular file", err)
	}

	f, err := os.Open(good)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out2, stderr bytes.Buffer
	resumed, err := ex.ResumeFile(context.Background(), f, 0, false, executor.Options{Stdin: strings.NewReader("after\n"), Stdout: &out2, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer resumed.Close(context.Background())
	if code, err := resumed.Run(context.Background(), 0); err != nil || code != 0 || out+out2.String() != "BEFORE\nAFTER\n" {
		t.Errorf("the good snapshot, resumed after the bad ones: status %d, %v, output %q", code, err, out+out2.String())
	}
	if ex.PID() != pid {
		t.Errorf("the executor was replaced (%d, then %d)", pid, ex.PID())
	}
	checkDescriptors(t, pid)
}

// TestManySnapshotFiles writes the snapshots of more suspended
// instances at once than the executor may hold descriptors: the parent
// passes them a few at a time, and all are written.
func TestManySnapshotFiles(t *testing.T) {
	ex := newExecutor(t, gateBinary)
	m := compile(t, ex, testprog.C(t, "examples/c/filter.c"), executor.CompileOptions{Suspendable: true})
	const n = 3 * 8
	insts := make([]*executor.Instance, n)
	var wg sync.WaitGroup
	for i := range insts {
		pr, pw := io.Pipe()
		t.Cleanup(func() { pw.Close() })
		inst, err := ex.Instantiate(context.Background(), m, executor.Options{Args: []string{"filter"}, Stdin: pr, Stdout: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { inst.Close(context.Background()) })
		insts[i] = inst
		done := runAsync(inst)
		wg.Add(1)
		go func() {
			defer wg.Done()
			io.WriteString(pw, "x\n")
			time.Sleep(100 * time.Millisecond)
			inst.Suspend()
			if err := <-done; !errors.Is(err, gateruntime.ErrSuspended) {
				t.Errorf("Run: %v, want ErrSuspended", err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	pid := ex.PID()
	dir := t.TempDir()
	for i, inst := range insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := os.Create(filepath.Join(dir, fmt.Sprint(i)))
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			if n, err := inst.WriteSnapshotTo(f); err != nil || n == 0 {
				t.Errorf("snapshot %d: %d bytes, %v", i, n, err)
			}
		}()
	}
	wg.Wait()
	if ex.PID() != pid {
		t.Errorf("the executor was replaced (%d, then %d)", pid, ex.PID())
	}
	checkDescriptors(t, pid)
}

// TestDescriptorFrames has the parent pass descriptors where the
// protocol does not allow them, or not pass one where a frame needs it:
// each is a protocol error that stops the executor, which closes what
// it received.
func TestDescriptorFrames(t *testing.T) {
	ex := newExecutor(t, gateBinary)
	f, err := os.Create(filepath.Join(t.TempDir(), "file"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fs := func(n int) []*os.File {
		files := make([]*os.File, n)
		for i := range files {
			files[i] = f
		}
		return files
	}
	for _, c := range []struct {
		name    string
		t       proto.Type
		payload []byte
		files   []*os.File
		want    string
	}{
		{"snapshot without one", proto.SnapshotFile, nil, nil, "0 descriptors with a frame that takes one"},
		{"resume without one", proto.TResumeFile, proto.ResumeFile{Size: 1}.Encode(), nil, "0 descriptors with a frame that takes one"},
		{"one with a frame that takes none", proto.Kill, nil, fs(1), "1 descriptors with a frame that takes none"},
		{"two with a snapshot", proto.SnapshotFile, nil, fs(2), "2 descriptors with a frame that takes one"},
		{"more than recvmsg takes", proto.SnapshotFile, nil, fs(5), "cut short (MSG_CTRUNC)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pid := ex.PID()
			err := ex.SendFrame(context.Background(), c.t, 1, c.payload, c.files...)
			if err == nil || !strings.Contains(err.Error(), "protocol error") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("executor %d after the frame: %v; want it stopped for a protocol error, %q", pid, err, c.want)
			}
		})
	}
	hello := compile(t, ex, testprog.C(t, "examples/c/hello.c"), executor.CompileOptions{})
	if _, out, _, err := run(t, ex, hello, "", "after"); err != nil || out != "Hello, after!\n" {
		t.Errorf("afterwards: %q, %v", out, err)
	}
}
