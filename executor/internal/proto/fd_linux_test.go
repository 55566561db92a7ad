package proto

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// socketPair returns a Writer on one end of a blocking socketpair, as
// the parent has, and the other end's descriptor, as the executor has.
func socketPair(t *testing.T) (*Writer, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	parent := os.NewFile(uintptr(fds[0]), "parent")
	t.Cleanup(func() {
		parent.Close()
		unix.Close(fds[1])
	})
	return NewWriter(parent), fds[1]
}

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries) - 1 // ReadDir's own
}

// send writes a frame with the descriptors fds, past WriteFD's checks.
func send(t *testing.T, w *Writer, typ Type, id uint32, payload []byte, fds ...int) {
	t.Helper()
	b := binary.LittleEndian.AppendUint32(nil, uint32(5+len(payload)))
	b = append(b, byte(typ))
	b = binary.LittleEndian.AppendUint32(b, id)
	b = append(b, payload...)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(int(w.w.(*os.File).Fd()), b, oob, nil, 0); err != nil {
		t.Fatal(err)
	}
}

// TestSocketReader passes a file's descriptor with a frame that takes
// one, between frames that take none: the reader hands it to its frame
// only, and it reaches the same open file (its offset is shared).
func TestSocketReader(t *testing.T) {
	w, peer := socketPair(t)
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	before := openFDs(t)
	r := NewSocketReader(peer)
	sent := make(chan error, 1)
	go func() {
		err := w.Write(Kill, 1)
		if err == nil {
			payload := ResumeFile{Flags: FlagInterruptible, MemoryLimit: 1 << 20, Size: 3}.Encode()
			err = w.WriteFD(TResumeFile, 2, int(f.Fd()), payload)
		}
		if err == nil {
			// A frame larger than the socket's buffer right after:
			// a reader that read past a frame would meet both in
			// one recvmsg.
			err = w.Write(Chunk, 3, make([]byte, MaxChunk))
		}
		sent <- err
	}()
	for _, want := range []Type{Kill, TResumeFile, Chunk} {
		fr, err := r.Read()
		if err != nil {
			t.Fatalf("reading the frame of type %d: %v", want, err)
		}
		if fr.Type != want || (fr.FD >= 0) != want.TakesFD() {
			t.Fatalf("frame of type %d with descriptor %d, want type %d", fr.Type, fr.FD, want)
		}
		if fr.FD < 0 {
			continue
		}
		if got, err := DecodeResumeFile(fr.Payload); err != nil || got.Size != 3 {
			t.Errorf("resume file: %+v, %v", got, err)
		}
		if _, err := unix.Write(fr.FD, []byte("abc")); err != nil {
			t.Fatal(err)
		}
		unix.Close(fr.FD)
		if off, _ := f.Seek(0, io.SeekCurrent); off != 3 {
			t.Errorf("after 3 bytes written to the descriptor received, the file's offset is %d", off)
		}
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if n := openFDs(t); n != before {
		t.Errorf("%d descriptors open, %d before", n, before)
	}
	if err := w.Write(SnapshotFile, 1); err == nil {
		t.Error("Write of a frame that takes a descriptor succeeded")
	}
	if err := w.WriteFD(Kill, 1, int(f.Fd())); err == nil {
		t.Error("WriteFD of a frame that takes none succeeded")
	}
	if err := NewWriter(io.Discard).WriteFD(SnapshotFile, 1, int(f.Fd())); err == nil || !strings.Contains(err.Error(), "socket") {
		t.Errorf("WriteFD to a writer that is not a socket: %v", err)
	}
}

// TestSocketReaderRefuses sends descriptors where frames do not take
// them, and frames that take one without it: each is a protocol error,
// and every descriptor received is closed.
func TestSocketReaderRefuses(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	for _, c := range []struct {
		name   string
		send   func(w *Writer)
		creds  bool // the reader's socket has SO_PASSCRED
		frames int  // read before the refused one
		want   string
	}{
		{"missing", func(w *Writer) { send(t, w, SnapshotFile, 1, nil) }, false, 0, "0 descriptors with a frame that takes one"},
		{"unexpected", func(w *Writer) { send(t, w, Kill, 1, nil, fd) }, false, 0, "1 descriptors with a frame that takes none"},
		{"two", func(w *Writer) { send(t, w, SnapshotFile, 1, nil, fd, fd) }, false, 0, "2 descriptors with a frame that takes one"},
		{"too many", func(w *Writer) { send(t, w, SnapshotFile, 1, nil, fd, fd, fd, fd, fd) }, false, 0, "cut short (MSG_CTRUNC)"},
		{"credentials", func(w *Writer) { w.Write(Kill, 1) }, true, 0, "a control message of level 1, type 2"},
		{"after a good one", func(w *Writer) {
			w.WriteFD(SnapshotFile, 1, fd)
			send(t, w, Close, 1, nil, fd)
		}, false, 1, "1 descriptors with a frame that takes none"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, peer := socketPair(t)
			if c.creds {
				if err := unix.SetsockoptInt(peer, unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
					t.Fatal(err)
				}
			}
			before := openFDs(t)
			c.send(w)
			r := NewSocketReader(peer)
			for range c.frames {
				fr, err := r.Read()
				if err != nil {
					t.Fatal(err)
				}
				if fr.FD >= 0 {
					unix.Close(fr.FD)
				}
			}
			if _, err := r.Read(); !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Read: %v, want a protocol error, %q", err, c.want)
			}
			if n := openFDs(t); n != before {
				t.Errorf("%d descriptors open, %d before: the reader kept some", n, before)
			}
		})
	}
}

// TestSnapshotEndPayload checks SnapshotDone's payload: a Result, then
// the size.
func TestSnapshotEndPayload(t *testing.T) {
	in := SnapshotEnd{Result: Result{Kind: Failed, Reason: "disk full"}, Size: 1 << 33}
	if got, err := DecodeSnapshotEnd(in.Encode()); err != nil || got.Size != in.Size || got.Result.Reason != in.Result.Reason {
		t.Errorf("snapshot end: %+v, %v", got, err)
	}
	for name, p := range map[string][]byte{
		"empty":       nil,
		"result only": Result{}.Encode(),
		"size only":   EncodeU64(1),
		"left over":   append(in.Encode()[:len(in.Encode())-8], append([]byte{0}, EncodeU64(1)...)...),
	} {
		if _, err := DecodeSnapshotEnd(p); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: %v, want a protocol error", name, err)
		}
	}
	for name, p := range map[string][]byte{
		"flags": ResumeFile{Flags: FlagSuspendable}.Encode(),
		"short": ResumeFile{}.Encode()[:16],
	} {
		if _, err := DecodeResumeFile(p); !errors.Is(err, ErrProtocol) {
			t.Errorf("resume file %s: %v, want a protocol error", name, err)
		}
	}
}
