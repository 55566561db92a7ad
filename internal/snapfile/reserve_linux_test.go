package snapfile_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/gate-wasm/gate/internal/snapfile"
)

// TestReservedPagesCached checks what the reservation is for: the
// reserved part of the file is in the page cache before anything is
// written (mincore on a mapping of it).
func TestReservedPagesCached(t *testing.T) {
	const size = 16 << 20
	dir := t.TempDir()
	f, err := snapfile.Create(filepath.Join(dir, "x.snapshot"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Discard()
	f.Reserve(size)
	waitSize(t, f.Name(), size)
	r, err := os.Open(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// The size is set by fallocate, before the reserver maps the
	// chunk: wait for the mapping, by asking until all are resident or
	// a deadline.
	m, err := unix.Mmap(int(r.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	pages := (size + os.Getpagesize() - 1) / os.Getpagesize()
	vec := make([]byte, pages)
	resident := 0
	for range 200 {
		// x/sys/unix has no wrapper for mincore(2).
		if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
			t.Fatal(errno)
		}
		resident = 0
		for _, v := range vec {
			resident += int(v & 1)
		}
		if resident == pages {
			return
		}
		sleepBriefly()
	}
	t.Fatalf("%d of the %d reserved pages are in the page cache", resident, pages)
}

// TestOSFile writes the snapshot through the file's descriptor, as the
// sandboxed executor does through a copy of it: Commit cuts the file
// where the writes ended, though more was reserved.
func TestOSFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.snapshot")
	f, err := snapfile.Create(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Reserve(8 << 20)
	waitSize(t, f.Name(), 8<<20)
	data := randomBytes(3<<20 + 5)
	dup, err := syscall.Dup(int(f.OSFile().Fd()))
	if err != nil {
		t.Fatal(err)
	}
	other := os.NewFile(uintptr(dup), "copy")
	if _, err := other.Write(data); err != nil {
		t.Fatal(err)
	}
	other.Close()
	commitHolds(t, f, path, data)
}

// TestReservationUnmapped checks that the reservation's mappings of the
// file go when the snapshot is written, and when the file is discarded.
func TestReservationUnmapped(t *testing.T) {
	for _, end := range []string{"write", "discard"} {
		dir := t.TempDir()
		f, err := snapfile.Create(filepath.Join(dir, "x.snapshot"), nil)
		if err != nil {
			t.Fatal(err)
		}
		f.Reserve(8 << 20)
		name := f.Name()
		deadline := time.Now().Add(10 * time.Second)
		for mappings(t, name) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s is not mapped 10 s after Reserve", name)
			}
			sleepBriefly()
		}
		if end == "write" {
			f.Write([]byte("snapshot"))
		} else {
			f.Discard()
		}
		if n := mappings(t, name); n != 0 {
			t.Errorf("after %s, %s is still mapped %d times", end, name, n)
		}
		f.Discard()
	}
}

// mappings counts the mappings of the file name in this process.
func mappings(t *testing.T, name string) int {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(maps), name+"\n")
}
