package wasi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// Where the fd tests keep things in memory.
const (
	iovsAt   = 0x100  // the iovec array
	resultAt = 0x80   // nread, nwritten
	bufAt    = 0x1000 // the buffers, 0x1000 apart
)

// recordWriter records each Write it gets.
type recordWriter struct{ writes []string }

func (w *recordWriter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func (w *recordWriter) String() string { return strings.Join(w.writes, "") }

func TestFdWrite(t *testing.T) {
	tests := []struct {
		name string
		fd   uint64
		bufs []string // one iovec each, at bufAt + i*0x1000
		// want is the output; every non-empty buffer is one Write.
		want []string
	}{
		{"stdout", 1, []string{"hello\n"}, []string{"hello\n"}},
		{"stderr", 2, []string{"oops\n"}, []string{"oops\n"}},
		{"several", 1, []string{"ab", "c", "def"}, []string{"ab", "c", "def"}},
		{"empty ones", 1, []string{"", "ab", "", "", "c", ""}, []string{"ab", "c"}},
		{"all empty", 2, []string{"", ""}, nil},
		{"none", 1, nil, nil},
		{"binary", 1, []string{"\x00\xff\n\x00"}, []string{"\x00\xff\n\x00"}},
		{"large", 2, []string{strings.Repeat("x", 0x1000), "y"}, []string{strings.Repeat("x", 0x1000), "y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr recordWriter
			s := newState(t, Config{Stdout: &stdout, Stderr: &stderr})
			m := newMemory()
			total := 0
			for i, b := range tt.bufs {
				at := bufAt + uint32(i)*0x1000
				m.putStr(at, b)
				m.putIovecs(iovsAt+uint32(i)*8, iovec{at, uint32(len(b))})
				total += len(b)
			}
			m.putU32(resultAt, 0xaaaaaaaa)
			params := []uint64{tt.fd, iovsAt, uint64(len(tt.bufs)), resultAt}
			mustCall(t, s, m, ErrnoSuccess, "fd_write", params...)
			if got := m.u32(resultAt); got != uint32(total) {
				t.Errorf("%s: nwritten = %d, want %d", callString("fd_write", params), got, total)
			}
			out, other := &stdout, &stderr
			if tt.fd == 2 {
				out, other = other, out
			}
			if !slices.Equal(out.writes, tt.want) {
				t.Errorf("%s made the writes %q to fd %d, want %q", callString("fd_write", params), out.writes, tt.fd, tt.want)
			}
			if len(other.writes) != 0 {
				t.Errorf("%s wrote %q to the other output", callString("fd_write", params), other.writes)
			}
		})
	}
}

func TestFdWriteNilOutputs(t *testing.T) {
	s := newState(t, Config{}) // Stdout and Stderr discard
	m := newMemory()
	m.putStr(bufAt, "hello")
	m.putIovecs(iovsAt, iovec{bufAt, 5}, iovec{bufAt, 3})
	for _, fd := range []uint64{1, 2} {
		m.putU32(resultAt, 0)
		mustCall(t, s, m, ErrnoSuccess, "fd_write", fd, iovsAt, 2, resultAt)
		if got := m.u32(resultAt); got != 8 {
			t.Errorf("fd_write(%d) to a nil writer: nwritten = %d, want 8", fd, got)
		}
	}
}

// TestFdWriteAtEnd writes buffers and the result that end exactly at the
// end of memory.
func TestFdWriteAtEnd(t *testing.T) {
	var stdout recordWriter
	s := newState(t, Config{Stdout: &stdout})
	m := newMemory()
	const end = testMemorySize
	m.putStr(end-3, "xyz")
	m.putIovecs(end-19, iovec{end - 3, 3}, iovec{end, 0})
	mustCall(t, s, m, ErrnoSuccess, "fd_write", 1, end-19, 2, end-23)
	if got := m.u32(end - 23); got != 3 {
		t.Errorf("nwritten = %d, want 3", got)
	}
	if got := stdout.String(); got != "xyz" {
		t.Errorf("wrote %q, want %q", got, "xyz")
	}
}

func TestFdWriteErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		accept   int      // bytes the writer takes before it fails
		bufs     []string // iovecs
		want     Errno
		nwritten uint32
		written  string
	}{
		{"at once", 0, []string{"hello"}, ErrnoIO, 0, ""},
		{"after empty iovecs", 0, []string{"", "hello"}, ErrnoIO, 0, ""},
		{"within the first", 3, []string{"hello", "world"}, ErrnoSuccess, 3, "hel"},
		{"at the second", 5, []string{"hello", "world"}, ErrnoSuccess, 5, "hello"},
		{"within the second", 7, []string{"hello", "world"}, ErrnoSuccess, 7, "hellowo"},
		{"none to fail", 10, []string{"hello", "world"}, ErrnoSuccess, 10, "helloworld"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &errWriter{n: tt.accept, err: boom}
			s := newState(t, Config{Stdout: w})
			m := newMemory()
			for i, b := range tt.bufs {
				at := bufAt + uint32(i)*0x1000
				m.putStr(at, b)
				m.putIovecs(iovsAt+uint32(i)*8, iovec{at, uint32(len(b))})
			}
			m.putU32(resultAt, 0xaaaaaaaa)
			params := []uint64{1, iovsAt, uint64(len(tt.bufs)), resultAt}
			got := call(t, s, m, "fd_write", params...)
			if got != tt.want {
				t.Fatalf("%s with a writer failing after %d bytes = %v, want %v", callString("fd_write", params), tt.accept, got, tt.want)
			}
			if got == ErrnoSuccess {
				if n := m.u32(resultAt); n != tt.nwritten {
					t.Errorf("%s: nwritten = %d, want %d", callString("fd_write", params), n, tt.nwritten)
				}
			} else if n := m.u32(resultAt); n != 0xaaaaaaaa {
				t.Errorf("%s = %v but wrote nwritten = %d", callString("fd_write", params), got, n)
			}
			if string(w.got) != tt.written {
				t.Errorf("%s: the writer got %q, want %q", callString("fd_write", params), w.got, tt.written)
			}
			// Once the writer fails, every write fails.
			if tt.accept < 10 {
				mustCall(t, s, m, ErrnoIO, "fd_write", params...)
			}
		})
	}
}

// countWriter counts what it is given.
type countWriter struct{ n uint64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += uint64(len(p))
	return len(p), nil
}

// TestFdWriteHuge writes iovecs that name the same megabyte 4097 times:
// more than 4 GiB in all, which the 32-bit nwritten cannot count. The
// write is cut short at the largest count a wasm32 ssize_t holds.
func TestFdWriteHuge(t *testing.T) {
	var w countWriter
	s := newState(t, Config{Stdout: &w})
	m := make(testMemory, 1<<20)
	const count = 4097
	for i := range count {
		m.putIovecs(uint32(i)*8, iovec{0, 1 << 20})
	}
	mustCall(t, s, m, ErrnoSuccess, "fd_write", 1, 0, count, 0x80000-4)
	const want = 1<<31 - 1
	if got := m.u32(0x80000 - 4); got != want {
		t.Errorf("fd_write of %d MiB: nwritten = %d, want %d", count, got, want)
	}
	if w.n != want {
		t.Errorf("fd_write of %d MiB wrote %d bytes, want %d (as many as it reports)", count, w.n, want)
	}
}

func TestFdReadWriteBadFd(t *testing.T) {
	var stdout, stderr recordWriter
	s := newState(t, Config{Stdin: strings.NewReader("input"), Stdout: &stdout, Stderr: &stderr})
	m := newMemory()
	m.putStr(bufAt, "hello")
	m.putIovecs(iovsAt, iovec{bufAt, 5})
	m.putU32(resultAt, 0xaaaaaaaa)
	before := m.clone()
	for _, fd := range []uint64{0, 3, 4, 1 << 31, 0xffffffff} {
		mustCall(t, s, m, ErrnoBadf, "fd_write", fd, iovsAt, 1, resultAt)
	}
	for _, fd := range []uint64{1, 2, 3, 0xffffffff} {
		mustCall(t, s, m, ErrnoBadf, "fd_read", fd, iovsAt, 1, resultAt)
	}
	// The descriptor is checked before the pointers.
	mustCall(t, s, m, ErrnoBadf, "fd_write", 3, 0xffffffff, 0xffffffff, 0xffffffff)
	mustCall(t, s, m, ErrnoBadf, "fd_read", 1, 0xffffffff, 0xffffffff, 0xffffffff)
	if !bytes.Equal(m, before) {
		t.Errorf("calls answering EBADF wrote to memory: %s", firstDiff(m, before))
	}
	if len(stdout.writes)+len(stderr.writes) != 0 {
		t.Errorf("calls answering EBADF wrote %q to stdout and %q to stderr", stdout.writes, stderr.writes)
	}
	// Nothing was consumed.
	m.putIovecs(iovsAt, iovec{bufAt, 100})
	mustCall(t, s, m, ErrnoSuccess, "fd_read", 0, iovsAt, 1, resultAt)
	if got := m.str(bufAt, m.u32(resultAt)); got != "input" {
		t.Errorf("fd_read(0) after failed calls read %q, want %q", got, "input")
	}
}

// dataErrReader returns its data and err together, then err.
type dataErrReader struct {
	data string
	err  error
	done bool
}

func (r *dataErrReader) Read(p []byte) (int, error) {
	if r.done {
		return 0, r.err
	}
	r.done = true
	return copy(p, r.data), r.err
}

func TestFdRead(t *testing.T) {
	boom := errors.New("boom")
	type read struct {
		sizes []uint32 // of the iovecs
		want  []string // what each iovec receives
		errno Errno
	}
	// eof is a read at the end of input.
	eof := read{[]uint32{10}, []string{""}, ErrnoSuccess}
	tests := []struct {
		name  string
		stdin io.Reader
		reads []read
	}{
		{"one", strings.NewReader("hello"), []read{
			{[]uint32{10}, []string{"hello"}, ErrnoSuccess}, eof, eof,
		}},
		{"exact", strings.NewReader("hello"), []read{
			{[]uint32{5}, []string{"hello"}, ErrnoSuccess}, eof,
		}},
		{"several iovecs", strings.NewReader("abcdefghij"), []read{
			{[]uint32{3, 0, 4, 10, 5}, []string{"abc", "", "defg", "hij", ""}, ErrnoSuccess}, eof,
		}},
		{"in parts", strings.NewReader("abcdef"), []read{
			{[]uint32{2}, []string{"ab"}, ErrnoSuccess},
			{[]uint32{0, 0}, []string{"", ""}, ErrnoSuccess},
			{nil, nil, ErrnoSuccess},
			{[]uint32{1, 1}, []string{"c", "d"}, ErrnoSuccess},
			{[]uint32{10}, []string{"ef"}, ErrnoSuccess},
			eof,
		}},
		{"nil", nil, []read{eof, eof}},
		{"empty", strings.NewReader(""), []read{eof, eof}},
		{"empty, no iovecs", strings.NewReader(""), []read{{nil, nil, ErrnoSuccess}}},
		{"data with EOF", &dataErrReader{data: "xyz", err: io.EOF}, []read{
			{[]uint32{10}, []string{"xyz"}, ErrnoSuccess}, eof, eof,
		}},
		{"error", errReader{boom}, []read{
			{[]uint32{10}, []string{""}, ErrnoIO},
			{[]uint32{10}, []string{""}, ErrnoIO},
		}},
		{"data with error", &dataErrReader{data: "ab", err: boom}, []read{
			{[]uint32{1}, []string{"a"}, ErrnoSuccess},
			{[]uint32{10}, []string{"b"}, ErrnoSuccess},
			{[]uint32{10}, []string{""}, ErrnoIO},
			{[]uint32{10}, []string{""}, ErrnoIO},
		}},
		{"error after data", io.MultiReader(strings.NewReader("ab"), errReader{boom}), []read{
			{[]uint32{10}, []string{"ab"}, ErrnoSuccess},
			{[]uint32{10}, []string{""}, ErrnoIO},
		}},
		{"unexpected EOF", iotest.TimeoutReader(strings.NewReader("ab")), []read{
			{[]uint32{10}, []string{"ab"}, ErrnoSuccess},
			{[]uint32{10}, []string{""}, ErrnoIO},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newState(t, Config{Stdin: tt.stdin})
			for i, r := range tt.reads {
				m := newMemory()
				for j := range m {
					m[j] = 0xaa
				}
				for k, n := range r.sizes {
					m.putIovecs(iovsAt+uint32(k)*8, iovec{bufAt + uint32(k)*0x1000, n})
				}
				before := m.clone()
				params := []uint64{0, iovsAt, uint64(len(r.sizes)), resultAt}
				got := call(t, s, m, "fd_read", params...)
				if got != r.errno {
					t.Fatalf("read %d: %s = %v, want %v", i, callString("fd_read", params), got, r.errno)
				}
				if got != ErrnoSuccess {
					if !bytes.Equal(m, before) {
						t.Errorf("read %d: %s = %v but wrote to memory: %s", i, callString("fd_read", params), got, firstDiff(m, before))
					}
					continue
				}
				total := 0
				for k, want := range r.want {
					at := bufAt + uint32(k)*0x1000
					if got := m.str(at, uint32(len(want))); got != want {
						t.Errorf("read %d: %s: iovec %d received %q, want %q", i, callString("fd_read", params), k, got, want)
					}
					copy(before[at:], want)
					total += len(want)
				}
				if got := m.u32(resultAt); got != uint32(total) {
					t.Errorf("read %d: %s: nread = %d, want %d", i, callString("fd_read", params), got, total)
				}
				m.putU32(resultAt, 0xaaaaaaaa)
				if !bytes.Equal(m, before) {
					t.Errorf("read %d: %s wrote outside its buffers and result: %s", i, callString("fd_read", params), firstDiff(m, before))
				}
			}
		})
	}
}

// TestFdReadLarge reads an input larger than any single read.
func TestFdReadLarge(t *testing.T) {
	input := make([]byte, 300000)
	(&patternReader{}).Read(input)
	s := newState(t, Config{Stdin: iotest.HalfReader(bytes.NewReader(input))})
	m := newMemory()
	m.putIovecs(iovsAt, iovec{bufAt, 20000}, iovec{bufAt + 20000, 20000})
	var got []byte
	for i := 0; ; i++ {
		mustCall(t, s, m, ErrnoSuccess, "fd_read", 0, iovsAt, 2, resultAt)
		n := m.u32(resultAt)
		if n == 0 {
			break
		}
		if n > 40000 {
			t.Fatalf("read %d: nread = %d, more than the buffers hold", i, n)
		}
		got = append(got, m[bufAt:bufAt+n]...)
	}
	if !bytes.Equal(got, input) {
		t.Errorf("reading %d bytes to the end got %d bytes, not the same", len(input), len(got))
	}
}

// readStdin reads up to 100 bytes of stdin and returns them.
func readStdin(t testing.TB, ctx context.Context, s *State, m testMemory) (string, Errno) {
	t.Helper()
	m.putIovecs(iovsAt, iovec{bufAt, 100})
	errno := callCtx(t, ctx, s, m, "fd_read", 0, iovsAt, 1, resultAt)
	if errno != ErrnoSuccess {
		return "", errno
	}
	return m.str(bufAt, m.u32(resultAt)), errno
}

func TestFdReadBlocking(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	s := newState(t, Config{Stdin: r})
	m := newMemory()
	const delay = 30 * time.Millisecond
	start := later(delay, func() {
		w.Write([]byte("late"))
		w.Close()
	})
	got, errno := readStdin(t, context.Background(), s, m)
	if elapsed := time.Since(start); errno != ErrnoSuccess || got != "late" || elapsed < delay {
		t.Errorf("fd_read of input written after %v = %v, %q after %v; want success, %q after at least %v", delay, errno, got, elapsed, "late", delay)
	}
	if got, errno := readStdin(t, context.Background(), s, m); errno != ErrnoSuccess || got != "" {
		t.Errorf("fd_read after the writer closed = %v, %q; want success, \"\"", errno, got)
	}
}

// TestFdReadNonblocking sets O_NONBLOCK on stdin: a read answers EAGAIN
// until input is there.
func TestFdReadNonblocking(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	s := newState(t, Config{Stdin: r})
	m := newMemory()
	mustCall(t, s, m, ErrnoSuccess, "fd_fdstat_set_flags", 0, fdflagNonblock)
	before := m.clone()
	for range 3 {
		if _, errno := readStdin(t, context.Background(), s, m); errno != ErrnoAgain {
			t.Fatalf("nonblocking fd_read with no input ready = %v, want EAGAIN", errno)
		}
	}
	m.putIovecs(iovsAt, iovec{bufAt, 100})
	before.putIovecs(iovsAt, iovec{bufAt, 100})
	if !bytes.Equal(m, before) {
		t.Errorf("fd_read answering EAGAIN wrote to memory: %s", firstDiff(m, before))
	}

	// readUntil retries until the read does not answer EAGAIN.
	readUntil := func() (string, Errno) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, errno := readStdin(t, context.Background(), s, m)
			if errno != ErrnoAgain || time.Now().After(deadline) {
				return got, errno
			}
			time.Sleep(time.Millisecond)
		}
	}
	written := make(chan struct{})
	go func() {
		w.Write([]byte("ready"))
		close(written)
	}()
	if got, errno := readUntil(); errno != ErrnoSuccess || got != "ready" {
		t.Fatalf("nonblocking fd_read once input is ready = %v, %q; want success, %q", errno, got, "ready")
	}
	<-written
	if _, errno := readStdin(t, context.Background(), s, m); errno != ErrnoAgain {
		t.Errorf("nonblocking fd_read after the input was consumed = %v, want EAGAIN", errno)
	}

	// Clearing the flag makes reads block again.
	mustCall(t, s, m, ErrnoSuccess, "fd_fdstat_set_flags", 0, 0)
	go func() {
		time.Sleep(20 * time.Millisecond)
		w.Write([]byte("blocking"))
	}()
	if got, errno := readStdin(t, context.Background(), s, m); errno != ErrnoSuccess || got != "blocking" {
		t.Errorf("fd_read after clearing O_NONBLOCK = %v, %q; want success, %q", errno, got, "blocking")
	}

	// At the end of input a nonblocking read reads zero bytes.
	mustCall(t, s, m, ErrnoSuccess, "fd_fdstat_set_flags", 0, fdflagNonblock)
	w.Close()
	if got, errno := readUntil(); errno != ErrnoSuccess || got != "" {
		t.Errorf("nonblocking fd_read at the end of input = %v, %q; want success, \"\"", errno, got)
	}
}

// TestFdReadInterrupted stops a blocked fd_read by its context: it panics
// with *Interrupted, which carries the context's cause.
func TestFdReadInterrupted(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	s := newState(t, Config{Stdin: r})
	m := newMemory()
	m.putIovecs(iovsAt, iovec{bufAt, 100})
	before := m.clone()
	cause := errors.New("instance stopped")
	ctx, cancel := context.WithCancelCause(context.Background())
	start := time.Now()
	time.AfterFunc(20*time.Millisecond, func() { cancel(cause) })
	errno, p := tryCall(t, ctx, s, m, "fd_read", 0, iovsAt, 1, resultAt)
	elapsed := time.Since(start)
	checkInterrupted(t, "fd_read", errno, p, cause)
	if elapsed > 5*time.Second {
		t.Errorf("fd_read took %v to notice its context was cancelled", elapsed)
	}
	if !bytes.Equal(m, before) {
		t.Errorf("interrupted fd_read wrote to memory: %s", firstDiff(m, before))
	}

	// A context already done interrupts a read that would block ...
	errno, p = tryCall(t, ctx, s, m, "fd_read", 0, iovsAt, 1, resultAt)
	checkInterrupted(t, "fd_read", errno, p, cause)

	// ... but not one that would not: input pending, or its end known.
	s = newState(t, Config{Stdin: strings.NewReader("abc")})
	m.putIovecs(iovsAt, iovec{bufAt, 1})
	mustCall(t, s, m, ErrnoSuccess, "fd_read", 0, iovsAt, 1, resultAt)
	if got, errno := readStdin(t, ctx, s, m); errno != ErrnoSuccess || got != "bc" {
		t.Errorf("fd_read with input pending and a cancelled context = %v, %q; want success, %q", errno, got, "bc")
	}
	s = newState(t, Config{Stdin: nil})
	if got, errno := readStdin(t, ctx, s, m); errno != ErrnoSuccess || got != "" {
		t.Errorf("fd_read of a nil stdin with a cancelled context = %v, %q; want success, \"\"", errno, got)
	}
	s = newState(t, Config{Stdin: r})
	mustCall(t, s, m, ErrnoSuccess, "fd_fdstat_set_flags", 0, fdflagNonblock)
	if _, errno := readStdin(t, ctx, s, m); errno != ErrnoAgain {
		t.Errorf("nonblocking fd_read with no input and a cancelled context = %v, want EAGAIN", errno)
	}
}

// checkInterrupted checks that a call panicked with *Interrupted for fn
// with cause.
func checkInterrupted(t testing.TB, fn string, errno Errno, p any, cause error) {
	t.Helper()
	in, ok := p.(*Interrupted)
	if !ok {
		t.Fatalf("%s with its context cancelled returned %v and panicked with %#v, want a panic with *Interrupted", fn, errno, p)
	}
	if in.Func != fn || in.Cause != cause {
		t.Errorf("%s panicked with &Interrupted{Func: %q, Cause: %v}, want &Interrupted{Func: %q, Cause: %v}", fn, in.Func, in.Cause, fn, cause)
	}
}

func TestFdFdstatGet(t *testing.T) {
	const (
		stdinRights  = 1<<1 | 1<<3 | 1<<21 | 1<<27 // fd_read, fd_fdstat_set_flags, fd_filestat_get, poll_fd_readwrite
		outputRights = 1<<6 | 1<<3 | 1<<21 | 1<<27 // fd_write, ...
	)
	fdstat := func(flags uint16, rights uint64) []byte {
		b := make([]byte, 24)
		b[0] = 2 // character device
		b[2], b[3] = byte(flags), byte(flags>>8)
		for i := range 8 {
			b[8+i] = byte(rights >> (8 * i))
		}
		return b // rights_inheriting: none
	}
	s := newState(t, Config{})
	tests := []struct {
		fd    uint64
		setup uint64 // flags to set first, if not 0
		want  []byte
	}{
		{0, 0, fdstat(0, stdinRights)},
		{1, 0, fdstat(0, outputRights)},
		{2, 0, fdstat(0, outputRights)},
		{0, fdflagNonblock, fdstat(fdflagNonblock, stdinRights)},
		{1, fdflagAppend, fdstat(fdflagAppend, outputRights)},
		{2, fdflagAppend | fdflagNonblock, fdstat(fdflagAppend|fdflagNonblock, outputRights)},
		{3, 0, nil},
		{4, 0, nil},
		{0xffffffff, 0, nil},
	}
	for _, tt := range tests {
		if tt.setup != 0 {
			mustCall(t, s, newMemory(), ErrnoSuccess, "fd_fdstat_set_flags", tt.fd, tt.setup)
		}
		m := newMemory()
		for i := range m {
			m[i] = 0xaa
		}
		before := m.clone()
		want := ErrnoSuccess
		if tt.want == nil {
			want = ErrnoBadf
		}
		mustCall(t, s, m, want, "fd_fdstat_get", tt.fd, 0x100)
		if tt.want != nil {
			if got := m[0x100:0x118]; !bytes.Equal(got, tt.want) {
				t.Errorf("fd_fdstat_get(%d) after flags %#x wrote %x, want %x", tt.fd, tt.setup, got, tt.want)
			}
			copy(before[0x100:], tt.want)
		}
		if !bytes.Equal(m, before) {
			t.Errorf("fd_fdstat_get(%d) wrote outside its 24 bytes: %s", tt.fd, firstDiff(m, before))
		}
	}
}

func TestFdFdstatSetFlags(t *testing.T) {
	const (
		dsync = 1 << 1
		rsync = 1 << 3
		sync  = 1 << 4
	)
	s := newState(t, Config{})
	tests := []struct {
		fd, flags uint64
		want      Errno
		after     uint16 // the descriptor's flags afterwards
	}{
		{0, fdflagNonblock, ErrnoSuccess, fdflagNonblock},
		{0, fdflagAppend, ErrnoNotsup, fdflagNonblock},
		{0, fdflagAppend | fdflagNonblock, ErrnoNotsup, fdflagNonblock},
		{0, dsync, ErrnoNotsup, fdflagNonblock},
		{0, 0, ErrnoSuccess, 0},
		{1, fdflagAppend, ErrnoSuccess, fdflagAppend},
		{1, fdflagAppend | fdflagNonblock, ErrnoSuccess, fdflagAppend | fdflagNonblock},
		{1, dsync, ErrnoNotsup, fdflagAppend | fdflagNonblock},
		{1, rsync, ErrnoNotsup, fdflagAppend | fdflagNonblock},
		{1, sync, ErrnoNotsup, fdflagAppend | fdflagNonblock},
		{1, fdflagAppend | sync, ErrnoNotsup, fdflagAppend | fdflagNonblock},
		{1, 1 << 5, ErrnoNotsup, fdflagAppend | fdflagNonblock},
		{1, 0xffff, ErrnoNotsup, fdflagAppend | fdflagNonblock},
		{1, 0x10000 | fdflagAppend, ErrnoNotsup, fdflagAppend | fdflagNonblock},
		{1, 0xffffffff, ErrnoNotsup, fdflagAppend | fdflagNonblock},
		{1, 0, ErrnoSuccess, 0},
		{2, fdflagNonblock, ErrnoSuccess, fdflagNonblock},
		{2, fdflagAppend, ErrnoSuccess, fdflagAppend},
		{3, 0, ErrnoBadf, 0},
		{3, fdflagNonblock, ErrnoBadf, 0},
		{0xffffffff, 0, ErrnoBadf, 0},
	}
	for _, tt := range tests {
		m := newMemory()
		mustCall(t, s, m, tt.want, "fd_fdstat_set_flags", tt.fd, tt.flags)
		if tt.fd > 2 {
			continue
		}
		mustCall(t, s, m, ErrnoSuccess, "fd_fdstat_get", tt.fd, 0x100)
		if got := uint16(m[0x102]) | uint16(m[0x103])<<8; got != tt.after {
			t.Errorf("after fd_fdstat_set_flags(%d, %#x): fd_fdstat_get reports flags %#x, want %#x", tt.fd, tt.flags, got, tt.after)
		}
	}

	// Writes ignore the flags: output always blocks and appends.
	var stdout recordWriter
	s = newState(t, Config{Stdout: &stdout})
	m := newMemory()
	mustCall(t, s, m, ErrnoSuccess, "fd_fdstat_set_flags", 1, fdflagAppend|fdflagNonblock)
	m.putStr(bufAt, "abc")
	m.putIovecs(iovsAt, iovec{bufAt, 3})
	mustCall(t, s, m, ErrnoSuccess, "fd_write", 1, iovsAt, 1, resultAt)
	if got := stdout.String(); got != "abc" || m.u32(resultAt) != 3 {
		t.Errorf("fd_write with O_APPEND|O_NONBLOCK wrote %q, nwritten %d; want %q, 3", got, m.u32(resultAt), "abc")
	}
}

func TestFdFilestatGet(t *testing.T) {
	s := newState(t, Config{})
	want := make([]byte, 64) // dev, ino, filetype, nlink, size, atim, mtim, ctim
	want[16] = 2             // character device
	for _, fd := range []uint64{0, 1, 2, 3, 0xffffffff} {
		m := newMemory()
		for i := range m {
			m[i] = 0xaa
		}
		before := m.clone()
		if fd > 2 {
			mustCall(t, s, m, ErrnoBadf, "fd_filestat_get", fd, 0x100)
		} else {
			mustCall(t, s, m, ErrnoSuccess, "fd_filestat_get", fd, 0x100)
			if got := m[0x100:0x140]; !bytes.Equal(got, want) {
				t.Errorf("fd_filestat_get(%d) wrote %x, want %x", fd, got, want)
			}
			copy(before[0x100:], want)
		}
		if !bytes.Equal(m, before) {
			t.Errorf("fd_filestat_get(%d) wrote outside its 64 bytes: %s", fd, firstDiff(m, before))
		}
	}
}

func TestFdClose(t *testing.T) {
	var stdout, stderr recordWriter
	s := newState(t, Config{Stdin: strings.NewReader("input"), Stdout: &stdout, Stderr: &stderr})
	m := newMemory()
	m.putStr(bufAt, "x")
	m.putIovecs(iovsAt, iovec{bufAt, 1})

	mustCall(t, s, m, ErrnoBadf, "fd_close", 3)
	mustCall(t, s, m, ErrnoBadf, "fd_close", 0xffffffff)
	mustCall(t, s, m, ErrnoSuccess, "fd_close", 1)
	mustCall(t, s, m, ErrnoBadf, "fd_close", 1)
	mustCall(t, s, m, ErrnoBadf, "fd_write", 1, iovsAt, 1, resultAt)
	mustCall(t, s, m, ErrnoBadf, "fd_fdstat_get", 1, 0x200)
	mustCall(t, s, m, ErrnoBadf, "fd_fdstat_set_flags", 1, 0)
	mustCall(t, s, m, ErrnoBadf, "fd_filestat_get", 1, 0x200)
	// The others stay open.
	mustCall(t, s, m, ErrnoSuccess, "fd_write", 2, iovsAt, 1, resultAt)
	if len(stdout.writes) != 0 || stderr.String() != "x" {
		t.Errorf("after fd_close(1): stdout got %q, stderr %q; want nothing and %q", stdout.writes, stderr.writes, "x")
	}
	mustCall(t, s, m, ErrnoSuccess, "fd_close", 0)
	mustCall(t, s, m, ErrnoBadf, "fd_read", 0, iovsAt, 1, resultAt)
	mustCall(t, s, m, ErrnoSuccess, "fd_close", 2)
	mustCall(t, s, m, ErrnoBadf, "fd_write", 2, iovsAt, 1, resultAt)
	for fd := range uint64(3) {
		mustCall(t, s, m, ErrnoBadf, "fd_close", fd)
	}
}

func TestFdPrestat(t *testing.T) {
	s := newState(t, Config{})
	m := newMemory()
	before := m.clone()
	for _, fd := range []uint64{0, 1, 2, 3, 4, 0xffffffff} {
		mustCall(t, s, m, ErrnoBadf, "fd_prestat_get", fd, 0x100)
		mustCall(t, s, m, ErrnoBadf, "fd_prestat_dir_name", fd, 0x100, 16)
		mustCall(t, s, m, ErrnoBadf, "fd_prestat_get", fd, 0xffffffff)
	}
	if !bytes.Equal(m, before) {
		t.Errorf("fd_prestat_get wrote to memory: %s", firstDiff(m, before))
	}
}

// TestFdReadReturnsWhatArrived reads a host reader that returns one byte
// at a time: each fd_read returns at least one byte without waiting for
// its buffer to fill, and every byte arrives once, in order.
func TestFdReadReturnsWhatArrived(t *testing.T) {
	s := newState(t, Config{Stdin: iotest.OneByteReader(strings.NewReader("abcdef"))})
	var got []byte
	for range 10 {
		m := newMemory()
		m.putIovecs(iovsAt, iovec{bufAt, 10})
		if errno := call(t, s, m, "fd_read", 0, iovsAt, 1, resultAt); errno != ErrnoSuccess {
			t.Fatalf("fd_read: %v", errno)
		}
		n := m.u32(resultAt)
		if n == 0 {
			break
		}
		got = append(got, m.str(bufAt, n)...)
	}
	if string(got) != "abcdef" {
		t.Errorf("read %q, want %q", got, "abcdef")
	}
}
