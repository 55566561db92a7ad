package snapfile_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gate-wasm/gate/internal/snapfile"
)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{1})
	r.Read(b)
	return b
}

// entries lists dir's file names.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// waitSize waits until the file name is at least size bytes long.
func waitSize(t *testing.T, name string, size int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() >= size {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %d bytes after 10 s; reserved %d", name, fi.Size(), size)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCommit writes less, as much and more than was reserved, in pieces,
// and wants exactly what was written at the path, and nothing else in
// the directory.
func TestCommit(t *testing.T) {
	for _, tc := range []struct {
		name             string
		reserve, written int64
	}{
		{"none reserved", 0, 3 << 20},
		{"less than reserved", 10 << 20, 3<<20 + 17},
		{"as much", 5 << 20, 5 << 20},
		{"more than reserved", 1 << 20, 9<<20 + 1},
		{"empty", 2 << 20, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.snapshot")
			f, err := snapfile.Create(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			f.Reserve(tc.reserve)
			if tc.reserve > 0 && tc.reserve >= tc.written {
				waitSize(t, f.Name(), tc.reserve)
			}
			data := randomBytes(int(tc.written))
			for rest := data; len(rest) > 0; {
				n := min(len(rest), 1<<20-3)
				if k, err := f.Write(rest[:n]); err != nil || k != n {
					t.Fatalf("Write: %d, %v", k, err)
				}
				rest = rest[n:]
			}
			commitHolds(t, f, path, data)
			if names := entries(t, dir); len(names) != 1 || names[0] != "x.snapshot" {
				t.Fatalf("directory holds %q, want only x.snapshot", names)
			}
			if _, err := f.Write([]byte{1}); err == nil {
				t.Error("Write after Commit succeeded")
			}
			if err := f.Commit(); err == nil {
				t.Error("second Commit succeeded")
			}
		})
	}
}

// TestCommitReplaces checks that Commit replaces a snapshot at the path
// only when it succeeds.
func TestCommitReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.snapshot")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := snapfile.Create(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Reserve(1 << 20)
	f.Write([]byte("new"))
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "new" {
		t.Fatalf("the file holds %q, want %q", got, "new")
	}

	// A path that is a non-empty directory cannot be replaced: the
	// error names it, and the temporary file goes.
	sub := filepath.Join(dir, "sub")
	if err := os.MkdirAll(filepath.Join(sub, "inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err = snapfile.Create(sub, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("new"))
	err = f.Commit()
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(sub)) {
		t.Fatalf("Commit over a directory: %v, want an error naming it", err)
	}
	if names := entries(t, dir); len(names) != 2 {
		t.Fatalf("directory holds %q after a failed Commit, want x.snapshot and sub", names)
	}
	if err := f.Discard(); err != nil {
		t.Errorf("Discard after a failed Commit: %v", err)
	}
}

// TestDiscard checks that a discarded file leaves nothing behind, even
// while it reserves.
func TestDiscard(t *testing.T) {
	dir := t.TempDir()
	f, err := snapfile.Create(filepath.Join(dir, "x.snapshot"), nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Reserve(64 << 20)
	if err := f.Discard(); err != nil {
		t.Fatal(err)
	}
	if names := entries(t, dir); len(names) != 0 {
		t.Fatalf("directory holds %q after Discard", names)
	}
	if err := f.Discard(); err != nil {
		t.Errorf("second Discard: %v", err)
	}
	if _, err := f.Write([]byte{1}); err == nil {
		t.Error("Write after Discard succeeded")
	}
}

// TestReserveWhileWriting asks for more pages from other goroutines
// while the snapshot is written, as a growing memory would (run with
// -race): the file holds exactly what was written.
func TestReserveWhileWriting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.snapshot")
	f, err := snapfile.Create(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for k := range 200 {
				f.Reserve(int64(g*200+k) << 16)
			}
		})
	}
	data := randomBytes(6 << 20)
	for k := 0; k < len(data); k += 1 << 20 {
		if _, err := f.Write(data[k : k+1<<20]); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	commitHolds(t, f, path, data)
}

// commitHolds commits f and fails t unless the file at path then holds
// exactly data.
func commitHolds(t *testing.T, f *snapfile.File, path string, data []byte) {
	t.Helper()
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("the file holds %d bytes, not the %d written", len(got), len(data))
	}
}

func sleepBriefly() { time.Sleep(10 * time.Millisecond) }

// TestCreateError checks that a directory where no file can be made is
// named in the error, and the temporary file's name is not.
func TestCreateError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	_, err := snapfile.Create(filepath.Join(dir, "x.snapshot"), nil)
	if err == nil || err.Error() != "cannot create a snapshot file in "+dir+": no such file or directory" {
		t.Fatalf("Create in a missing directory: %v", err)
	}
}
