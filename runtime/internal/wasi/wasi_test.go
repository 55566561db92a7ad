package wasi

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// testMemory is a linear memory held in a byte slice. Read bounds it as
// wazero's api.Memory does (TestWazeroMemory checks that they agree): a
// range is inside memory when offset+byteCount <= len, so that a zero-byte
// range at the very end is inside and any range past it is not.
type testMemory []byte

const testMemorySize = 64 << 10

func newMemory() testMemory { return make(testMemory, testMemorySize) }

func (m testMemory) Read(offset, byteCount uint32) ([]byte, bool) {
	end := uint64(offset) + uint64(byteCount)
	if end > uint64(len(m)) {
		return nil, false
	}
	return m[offset:end:end], true
}

func (m testMemory) u32(off uint32) uint32       { return binary.LittleEndian.Uint32(m[off:]) }
func (m testMemory) u64(off uint32) uint64       { return binary.LittleEndian.Uint64(m[off:]) }
func (m testMemory) putU32(off uint32, v uint32) { binary.LittleEndian.PutUint32(m[off:], v) }
func (m testMemory) putU64(off uint32, v uint64) { binary.LittleEndian.PutUint64(m[off:], v) }
func (m testMemory) clone() testMemory           { return bytes.Clone(m) }
func (m testMemory) str(off, n uint32) string    { return string(m[off : off+n]) }
func (m testMemory) putStr(off uint32, s string) { copy(m[off:], s) }

// iovec is one entry of an fd_read or fd_write buffer array.
type iovec struct{ ptr, len uint32 }

// putIovecs writes an iovec array at off.
func (m testMemory) putIovecs(off uint32, iovs ...iovec) {
	for i, v := range iovs {
		m.putU32(off+uint32(i)*8, v.ptr)
		m.putU32(off+uint32(i)*8+4, v.len)
	}
}

// firstDiff describes where two memories differ, for error messages.
func firstDiff(got, want testMemory) string {
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("byte %#x is %#02x, was %#02x", i, got[i], want[i])
		}
	}
	return "no difference"
}

// lookup returns the function called name.
func lookup(t testing.TB, name string) *Func {
	t.Helper()
	f := functionsByName()[name]
	if f == nil {
		t.Fatalf("Functions() has no %s", name)
	}
	return f
}

var functionsByName = sync.OnceValue(func() map[string]*Func {
	byName := make(map[string]*Func)
	for _, f := range Functions() {
		byName[f.Name] = &f
	}
	return byName
})

// callString formats a call for error messages: fd_write(1, 0x100, 2, 0x200).
func callString(name string, params []uint64) string {
	s := make([]string, len(params))
	for i, p := range params {
		if p < 1024 {
			s[i] = fmt.Sprint(p)
		} else {
			s[i] = fmt.Sprintf("%#x", p)
		}
	}
	return name + "(" + strings.Join(s, ", ") + ")"
}

// tryCall calls name as the engine does, with params at the front of a
// stack of at least one slot, and returns the errno the function left in
// stack[0] or the value it panicked with.
func tryCall(t testing.TB, ctx context.Context, s *State, m Memory, name string, params ...uint64) (errno Errno, panicked any) {
	t.Helper()
	f := lookup(t, name)
	if len(params) != len(f.Params) {
		t.Fatalf("%s: the test passes %d parameters; the function takes %d", callString(name, params), len(params), len(f.Params))
	}
	stack := make([]uint64, max(len(params), 1))
	copy(stack, params)
	defer func() {
		if r := recover(); r != nil {
			panicked = r
		}
	}()
	f.Call(ctx, s, m, stack)
	if stack[0] > 0xffff {
		t.Fatalf("%s left %#x in stack[0], which is no errno", callString(name, params), stack[0])
	}
	return Errno(stack[0]), nil
}

// callCtx calls name and returns its errno; a panic fails the test.
func callCtx(t testing.TB, ctx context.Context, s *State, m Memory, name string, params ...uint64) Errno {
	t.Helper()
	errno, r := tryCall(t, ctx, s, m, name, params...)
	if r != nil {
		t.Fatalf("%s panicked: %v", callString(name, params), r)
	}
	return errno
}

func call(t testing.TB, s *State, m Memory, name string, params ...uint64) Errno {
	t.Helper()
	return callCtx(t, context.Background(), s, m, name, params...)
}

// mustCall calls name and fails the test unless it answers want.
func mustCall(t testing.TB, s *State, m Memory, want Errno, name string, params ...uint64) {
	t.Helper()
	if got := call(t, s, m, name, params...); got != want {
		t.Fatalf("%s = %v, want %v", callString(name, params), got, want)
	}
}

// fixedTime is the wall clock of tests that inject one.
var fixedTime = time.Date(2025, 6, 1, 12, 30, 45, 123456789, time.UTC)

// newState returns the state of a fresh instance, closed when the test
// ends.
func newState(t testing.TB, cfg Config) *State {
	s := New(cfg)
	t.Cleanup(s.Close)
	return s
}

// patternReader is a deterministic random source: byte i is i*7+3.
type patternReader struct{ n int }

func (r *patternReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.n*7 + 3)
		r.n++
	}
	return len(p), nil
}

// errReader fails every read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// errWriter accepts n bytes, then fails with err.
type errWriter struct {
	n   int
	err error
	got []byte
}

func (w *errWriter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		w.got = append(w.got, p...)
		return len(p), nil
	}
	k := w.n
	w.got = append(w.got, p[:k]...)
	w.n = 0
	return k, w.err
}

func TestFunctions(t *testing.T) {
	// The signatures of WASI preview1 (wasi_snapshot_preview1.witx),
	// lowered to core wasm, in the witx order.
	want := []string{
		"args_get(i32, i32) i32",
		"args_sizes_get(i32, i32) i32",
		"environ_get(i32, i32) i32",
		"environ_sizes_get(i32, i32) i32",
		"clock_res_get(i32, i32) i32",
		"clock_time_get(i32, i64, i32) i32",
		"fd_advise(i32, i64, i64, i32) i32",
		"fd_allocate(i32, i64, i64) i32",
		"fd_close(i32) i32",
		"fd_datasync(i32) i32",
		"fd_fdstat_get(i32, i32) i32",
		"fd_fdstat_set_flags(i32, i32) i32",
		"fd_fdstat_set_rights(i32, i64, i64) i32",
		"fd_filestat_get(i32, i32) i32",
		"fd_filestat_set_size(i32, i64) i32",
		"fd_filestat_set_times(i32, i64, i64, i32) i32",
		"fd_pread(i32, i32, i32, i64, i32) i32",
		"fd_prestat_get(i32, i32) i32",
		"fd_prestat_dir_name(i32, i32, i32) i32",
		"fd_pwrite(i32, i32, i32, i64, i32) i32",
		"fd_read(i32, i32, i32, i32) i32",
		"fd_readdir(i32, i32, i32, i64, i32) i32",
		"fd_renumber(i32, i32) i32",
		"fd_seek(i32, i64, i32, i32) i32",
		"fd_sync(i32) i32",
		"fd_tell(i32, i32) i32",
		"fd_write(i32, i32, i32, i32) i32",
		"path_create_directory(i32, i32, i32) i32",
		"path_filestat_get(i32, i32, i32, i32, i32) i32",
		"path_filestat_set_times(i32, i32, i32, i32, i64, i64, i32) i32",
		"path_link(i32, i32, i32, i32, i32, i32, i32) i32",
		"path_open(i32, i32, i32, i32, i32, i64, i64, i32, i32) i32",
		"path_readlink(i32, i32, i32, i32, i32, i32) i32",
		"path_remove_directory(i32, i32, i32) i32",
		"path_rename(i32, i32, i32, i32, i32, i32) i32",
		"path_symlink(i32, i32, i32, i32, i32) i32",
		"path_unlink_file(i32, i32, i32) i32",
		"poll_oneoff(i32, i32, i32, i32) i32",
		"proc_exit(i32)",
		"proc_raise(i32) i32",
		"sched_yield() i32",
		"random_get(i32, i32) i32",
		"sock_accept(i32, i32, i32) i32",
		"sock_recv(i32, i32, i32, i32, i32, i32) i32",
		"sock_send(i32, i32, i32, i32, i32) i32",
		"sock_shutdown(i32, i32) i32",
	}
	var got []string
	for _, f := range Functions() {
		params := make([]string, len(f.Params))
		for i, p := range f.Params {
			switch p {
			case I32:
				params[i] = "i32"
			case I64:
				params[i] = "i64"
			default:
				t.Errorf("%s: parameter %d has type %d, neither I32 nor I64", f.Name, i, p)
			}
		}
		s := f.Name + "(" + strings.Join(params, ", ") + ")"
		if !f.NoResult {
			s += " i32"
		}
		if f.impl == nil {
			t.Errorf("%s has no implementation", f.Name)
		}
		got = append(got, s)
	}
	if len(got) != 46 {
		t.Errorf("Functions() returned %d functions, want the 46 of WASI preview1", len(got))
	}
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("Functions()[%d] = %q, want %q", i, g, w)
		}
	}
	if ModuleName != "wasi_snapshot_preview1" {
		t.Errorf("ModuleName = %q, want wasi_snapshot_preview1", ModuleName)
	}
}

func TestErrnoString(t *testing.T) {
	for _, tt := range []struct {
		errno Errno
		want  string
	}{
		{ErrnoSuccess, "success"},
		{0, "success"},
		{6, "EAGAIN"},
		{8, "EBADF"},
		{21, "EFAULT"},
		{28, "EINVAL"},
		{29, "EIO"},
		{52, "ENOSYS"},
		{54, "ENOTDIR"},
		{57, "ENOTSOCK"},
		{58, "ENOTSUP"},
		{70, "ESPIPE"},
		{76, "ENOTCAPABLE"},
		{1, "errno 1"},
		{65535, "errno 65535"},
	} {
		if got := tt.errno.String(); got != tt.want {
			t.Errorf("Errno(%d).String() = %q, want %q", uint16(tt.errno), got, tt.want)
		}
	}
}

func TestExitAndInterruptedErrors(t *testing.T) {
	if got, want := (&Exit{Code: 3}).Error(), "exit status 3"; got != want {
		t.Errorf("(&Exit{3}).Error() = %q, want %q", got, want)
	}
	if got, want := (&Exit{Code: 4294967295}).Error(), "exit status 4294967295"; got != want {
		t.Errorf("(&Exit{0xffffffff}).Error() = %q, want %q", got, want)
	}
	cause := errors.New("stopped")
	err := &Interrupted{Func: "fd_read", Cause: cause}
	if got, want := err.Error(), "fd_read interrupted: stopped"; got != want {
		t.Errorf("Interrupted.Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, cause) {
		t.Errorf("errors.Is(%v, cause) = false, want true", err)
	}
}

// TestCallZeroExtends checks that Call clears the upper half of the 64-bit
// slot of every i32 parameter, which wazero may leave holding garbage:
// each call, made once with clean parameters and once with garbage above
// every i32 one, must answer the same and leave the same memory and
// output.
func TestCallZeroExtends(t *testing.T) {
	const garbage = 0xdeadbeef_00000000
	tests := []struct {
		name   string
		params []uint64
		setup  func(m testMemory)
		want   Errno
	}{
		{"args_sizes_get", []uint64{0x100, 0x104}, nil, ErrnoSuccess},
		{"args_get", []uint64{0x100, 0x200}, nil, ErrnoSuccess},
		{"environ_sizes_get", []uint64{0x100, 0x104}, nil, ErrnoSuccess},
		{"environ_get", []uint64{0x100, 0x200}, nil, ErrnoSuccess},
		{"clock_res_get", []uint64{clockMonotonic, 0x100}, nil, ErrnoSuccess},
		{"clock_time_get", []uint64{clockRealtime, 0, 0x100}, nil, ErrnoSuccess},
		{"clock_time_get", []uint64{4, 0, 0x100}, nil, ErrnoInval},
		{"fd_advise", []uint64{1, 0, 0, 0}, nil, ErrnoSpipe},
		{"fd_close", []uint64{2}, nil, ErrnoSuccess},
		{"fd_fdstat_get", []uint64{1, 0x100}, nil, ErrnoSuccess},
		{"fd_fdstat_set_flags", []uint64{1, fdflagAppend}, nil, ErrnoSuccess},
		{"fd_filestat_get", []uint64{2, 0x100}, nil, ErrnoSuccess},
		{"fd_read", []uint64{0, 0x100, 2, 0x200}, func(m testMemory) {
			m.putIovecs(0x100, iovec{0x1000, 3}, iovec{0x1100, 100})
		}, ErrnoSuccess},
		{"fd_write", []uint64{1, 0x100, 2, 0x200}, func(m testMemory) {
			m.putIovecs(0x100, iovec{0x1000, 5}, iovec{0x1100, 3})
			m.putStr(0x1000, "hello")
			m.putStr(0x1100, "!!\n")
		}, ErrnoSuccess},
		{"fd_write", []uint64{2, 0x100, 1, 0x200}, func(m testMemory) {
			m.putIovecs(0x100, iovec{0x1000, 4})
			m.putStr(0x1000, "oops")
		}, ErrnoSuccess},
		{"fd_seek", []uint64{0, 0, 0, 0x100}, nil, ErrnoSpipe},
		{"path_open", []uint64{1, 0, 0x100, 1, 0, 0, 0, 0, 0x200}, nil, ErrnoNotdir},
		{"path_symlink", []uint64{0x100, 1, 2, 0x200, 1}, nil, ErrnoNotdir},
		{"poll_oneoff", []uint64{0x100, 0x400, 2, 0x600}, func(m testMemory) {
			putSubscriptions(m, 0x100,
				sub{userdata: 1, kind: eventtypeFdWrite, fd: 1},
				sub{userdata: 2, kind: eventtypeFdRead, fd: 0})
		}, ErrnoSuccess},
		{"random_get", []uint64{0x100, 32}, nil, ErrnoSuccess},
		{"sock_shutdown", []uint64{0, 0}, nil, ErrnoNotsock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := lookup(t, tt.name)
			type result struct {
				errno          Errno
				mem            testMemory
				stdout, stderr string
			}
			run := func(params []uint64) result {
				var stdout, stderr bytes.Buffer
				s := newState(t, Config{
					Args:   []string{"prog", "arg"},
					Env:    []string{"A=1"},
					Stdin:  strings.NewReader("input"),
					Stdout: &stdout, Stderr: &stderr,
					Random: &patternReader{},
					Now:    func() time.Time { return fixedTime },
				})
				m := newMemory()
				if tt.setup != nil {
					tt.setup(m)
				}
				errno := call(t, s, m, tt.name, params...)
				return result{errno, m, stdout.String(), stderr.String()}
			}
			clean := run(tt.params)
			dirty := make([]uint64, len(tt.params))
			for i, p := range tt.params {
				dirty[i] = p
				if f.Params[i] == I32 {
					dirty[i] |= garbage
				}
			}
			got := run(dirty)
			if clean.errno != tt.want {
				t.Fatalf("%s = %v, want %v", callString(tt.name, tt.params), clean.errno, tt.want)
			}
			if got.errno != clean.errno {
				t.Errorf("%s = %v; with clean parameters, %v", callString(tt.name, dirty), got.errno, clean.errno)
			}
			if !bytes.Equal(got.mem, clean.mem) {
				t.Errorf("%s left memory different from the call with clean parameters: %s", callString(tt.name, dirty), firstDiff(got.mem, clean.mem))
			}
			if got.stdout != clean.stdout || got.stderr != clean.stderr {
				t.Errorf("%s wrote %q to stdout and %q to stderr; with clean parameters, %q and %q",
					callString(tt.name, dirty), got.stdout, got.stderr, clean.stdout, clean.stderr)
			}
		})
	}
}

// TestCallStack checks how Call uses the stack: the errno replaces
// stack[0], and slots past the parameters are left alone.
func TestCallStack(t *testing.T) {
	s := newState(t, Config{})
	m := newMemory()
	f := lookup(t, "sched_yield")
	stack := []uint64{0xffffffff_ffffffff}
	f.Call(context.Background(), s, m, stack)
	if stack[0] != 0 {
		t.Errorf("sched_yield left stack[0] = %#x, want 0", stack[0])
	}
	f = lookup(t, "fd_close")
	stack = []uint64{7, 42, 43}
	f.Call(context.Background(), s, m, stack)
	if want := []uint64{uint64(ErrnoBadf), 42, 43}; !slices.Equal(stack, want) {
		t.Errorf("fd_close(7) with stack [7 42 43] left %v, want %v", stack, want)
	}
}

// panicWriter panics with its value.
type panicWriter struct{ v any }

func (w panicWriter) Write([]byte) (int, error) { panic(w.v) }

// TestCallRepanics checks that Call turns only its own fault panics into
// EFAULT: anything else goes on up unchanged.
func TestCallRepanics(t *testing.T) {
	v := errors.New("writer bug")
	s := newState(t, Config{Stdout: panicWriter{v}})
	m := newMemory()
	m.putIovecs(iovsAt, iovec{bufAt, 1})
	errno, p := tryCall(t, context.Background(), s, m, "fd_write", 1, iovsAt, 1, resultAt)
	if p != v {
		t.Errorf("fd_write to a writer that panics returned %v and panicked with %#v, want a panic with the writer's value", errno, p)
	}
}

// TestCallAfterClose checks that once the state is closed every function
// panics with *Interrupted carrying ErrClosed, touching neither memory
// nor the standard streams.
func TestCallAfterClose(t *testing.T) {
	for _, f := range Functions() {
		var out recordWriter
		s := New(Config{Stdin: strings.NewReader("input"), Stdout: &out, Stderr: &out})
		s.Close()
		s.Close() // more than once is fine
		m := newMemory()
		m.putStr(bufAt, "hello")
		m.putIovecs(iovsAt, iovec{bufAt, 5})
		putSubscriptions(m, subsAt, writeSub(1, 1))
		before := m.clone()
		// Parameters that would succeed for the functions that can.
		params := make([]uint64, len(f.Params))
		switch f.Name {
		case "fd_write":
			params = []uint64{1, iovsAt, 1, resultAt}
		case "fd_read":
			params = []uint64{0, iovsAt, 1, resultAt}
		case "poll_oneoff":
			params = []uint64{subsAt, eventsAt, 1, neventsAt}
		case "clock_time_get", "clock_res_get", "fd_fdstat_get", "fd_filestat_get":
			params[len(params)-1] = 0x200
		case "random_get":
			params = []uint64{0x200, 16}
		}
		errno, p := tryCall(t, context.Background(), s, m, f.Name, params...)
		in, ok := p.(*Interrupted)
		if !ok || in.Func != f.Name || in.Cause != ErrClosed {
			t.Errorf("%s after Close returned %v and panicked with %#v, want &Interrupted{Func: %q, Cause: ErrClosed}", callString(f.Name, params), errno, p, f.Name)
		}
		if !bytes.Equal(m, before) {
			t.Errorf("%s after Close wrote to memory: %s", callString(f.Name, params), firstDiff(m, before))
		}
		if len(out.writes) > 0 {
			t.Errorf("%s after Close wrote %q", callString(f.Name, params), out.writes)
		}
	}
}
