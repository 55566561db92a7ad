package wasi

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
)

// faultCase is a call that succeeds, and the pointer parameters in it.
type faultCase struct {
	name   string
	params []uint64
	setup  func(m testMemory)
	// ptrs are the pointer parameters: their index and the number of
	// bytes the function reads or writes there.
	ptrs []ptrArg
}

type ptrArg struct {
	index int
	size  uint32
}

// faultCases has every function that takes a pointer and uses it: args
// "ab" and "c", environment "K=V".
var faultCases = []faultCase{
	{"args_sizes_get", []uint64{0x100, 0x104}, nil, []ptrArg{{0, 4}, {1, 4}}},
	{"args_get", []uint64{0x100, 0x200}, nil, []ptrArg{{0, 8}, {1, 5}}},
	{"environ_sizes_get", []uint64{0x100, 0x104}, nil, []ptrArg{{0, 4}, {1, 4}}},
	{"environ_get", []uint64{0x100, 0x200}, nil, []ptrArg{{0, 4}, {1, 4}}},
	{"clock_res_get", []uint64{clockMonotonic, 0x100}, nil, []ptrArg{{1, 8}}},
	{"clock_time_get", []uint64{clockRealtime, 0, 0x100}, nil, []ptrArg{{2, 8}}},
	{"clock_time_get", []uint64{clockMonotonic, 0, 0x100}, nil, []ptrArg{{2, 8}}},
	{"fd_fdstat_get", []uint64{0, 0x100}, nil, []ptrArg{{1, 24}}},
	{"fd_fdstat_get", []uint64{2, 0x100}, nil, []ptrArg{{1, 24}}},
	{"fd_filestat_get", []uint64{1, 0x100}, nil, []ptrArg{{1, 64}}},
	{"fd_read", []uint64{0, iovsAt, 2, resultAt}, func(m testMemory) {
		m.putIovecs(iovsAt, iovec{bufAt, 2}, iovec{bufAt + 0x1000, 100})
	}, []ptrArg{{1, 16}, {3, 4}}},
	{"fd_write", []uint64{1, iovsAt, 2, resultAt}, func(m testMemory) {
		m.putIovecs(iovsAt, iovec{bufAt, 2}, iovec{bufAt + 0x1000, 3})
		m.putStr(bufAt, "ab")
		m.putStr(bufAt+0x1000, "cde")
	}, []ptrArg{{1, 16}, {3, 4}}},
	{"fd_write", []uint64{2, iovsAt, 1, resultAt}, func(m testMemory) {
		m.putIovecs(iovsAt, iovec{bufAt, 2})
	}, []ptrArg{{1, 8}, {3, 4}}},
	{"poll_oneoff", []uint64{subsAt, eventsAt, 2, neventsAt}, func(m testMemory) {
		putSubscriptions(m, subsAt, writeSub(1, 1), clockSub(2, clockMonotonic, 0, 0))
	}, []ptrArg{{0, 96}, {1, 64}, {3, 4}}},
	{"random_get", []uint64{0x100, 16}, nil, []ptrArg{{0, 16}}},
}

// faultState returns a fresh state for the fault tests and what it wrote
// to stdout and stderr.
func faultState(t testing.TB) (*State, *recordWriter) {
	var out recordWriter
	s := newState(t, Config{
		Args:   []string{"ab", "c"},
		Env:    []string{"K=V"},
		Stdin:  strings.NewReader("input"),
		Stdout: &out, Stderr: &out,
		Random: &patternReader{},
		Now:    func() time.Time { return fixedTime },
	})
	return s, &out
}

// checkFault calls name with params and checks that it answers EFAULT
// without writing to memory, consuming input or writing output.
func checkFault(t *testing.T, name string, params []uint64, setup func(testMemory)) {
	t.Helper()
	s, out := faultState(t)
	m := newMemory()
	if setup != nil {
		setup(m)
	}
	before := m.clone()
	if got := call(t, s, m, name, params...); got != ErrnoFault {
		t.Errorf("%s = %v, want EFAULT", callString(name, params), got)
		return
	}
	if !bytes.Equal(m, before) {
		t.Errorf("%s = EFAULT but wrote to memory: %s", callString(name, params), firstDiff(m, before))
	}
	if len(out.writes) > 0 {
		t.Errorf("%s = EFAULT but wrote %q", callString(name, params), out.writes)
	}
	if got, _ := readStdin(t, t.Context(), s, newMemory()); got != "input" {
		t.Errorf("after %s = EFAULT, fd_read read %q, want %q: input was lost", callString(name, params), got, "input")
	}
}

// TestFault moves every pointer parameter to the end of memory: where the
// bytes the function uses end exactly at the end, the call succeeds; one
// byte further, or anywhere past the end, it answers EFAULT having
// written nothing and done no I/O.
func TestFault(t *testing.T) {
	const end = testMemorySize
	for _, tt := range faultCases {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := faultState(t)
			m := newMemory()
			if tt.setup != nil {
				tt.setup(m)
			}
			mustCall(t, s, m, ErrnoSuccess, tt.name, tt.params...)
			for _, p := range tt.ptrs {
				with := func(v uint64) []uint64 {
					params := append([]uint64(nil), tt.params...)
					params[p.index] = v
					return params
				}
				// Just inside.
				s, _ := faultState(t)
				m := newMemory()
				if tt.setup != nil {
					tt.setup(m)
				}
				params := with(uint64(end - p.size))
				if got := call(t, s, m, tt.name, params...); got != ErrnoSuccess {
					t.Errorf("%s = %v, want success: %d bytes at %#x end at the end of memory", callString(tt.name, params), got, p.size, end-p.size)
				}
				// Outside.
				for _, v := range []uint64{end - uint64(p.size) + 1, end, end + 1, 1 << 31, 0xffffffff - uint64(p.size) + 1, 0xffffffff} {
					checkFault(t, tt.name, with(v), tt.setup)
				}
			}
		})
	}
}

// TestFaultIovec checks the buffers that iovecs name, and iovec and
// subscription counts that reach past memory.
func TestFaultIovec(t *testing.T) {
	const end = testMemorySize
	for _, fn := range []struct {
		name string
		fd   uint64
	}{{"fd_read", 0}, {"fd_write", 1}} {
		t.Run(fn.name, func(t *testing.T) {
			faults := [][]iovec{
				{{end - 3, 4}},
				{{end, 1}},
				{{end + 1, 0}},
				{{0xffffffff, 2}},
				{{0, 0xffffffff}},
				{{0, end + 1}},
				{{0xffffffff, 0xffffffff}},
				// After good ones: nothing is done.
				{{bufAt, 3}, {end - 1, 2}},
				{{bufAt, 3}, {bufAt, 0}, {0xfffffff0, 0x20}},
				{{bufAt, 3}, {bufAt, 3}, {bufAt, 3}, {end + 0x100, 0}},
			}
			for _, iovs := range faults {
				checkFault(t, fn.name, []uint64{fn.fd, iovsAt, uint64(len(iovs)), resultAt}, func(m testMemory) {
					m.putStr(bufAt, "abc")
					m.putIovecs(iovsAt, iovs...)
				})
			}
			// Buffers that end at the end of memory are inside.
			for _, iovs := range [][]iovec{{{end - 4, 4}}, {{end, 0}}, {{0, end}}, {{bufAt, 3}, {end - 1, 1}, {end, 0}}} {
				s, _ := faultState(t)
				m := newMemory()
				m.putIovecs(iovsAt, iovs...)
				params := []uint64{fn.fd, iovsAt, uint64(len(iovs)), resultAt}
				if got := call(t, s, m, fn.name, params...); got != ErrnoSuccess {
					t.Errorf("%s with iovecs %v = %v, want success", callString(fn.name, params), iovs, got)
				}
			}
			// Counts whose array reaches past memory, 1<<29 being the
			// one whose byte size, 1<<32, is no uint32.
			for _, n := range []uint64{(end-iovsAt)/8 + 1, end/8 + 1, 1 << 28, 1<<29 - 1, 1 << 29, 1<<29 + 1, 1 << 31, 0xffffffff} {
				checkFault(t, fn.name, []uint64{fn.fd, iovsAt, n, resultAt}, nil)
				if n > end/8 {
					checkFault(t, fn.name, []uint64{fn.fd, 0, n, resultAt}, nil)
				}
			}
		})
	}
	t.Run("poll_oneoff", func(t *testing.T) {
		for _, p := range [][]uint64{
			{subsAt, eventsAt, (end-subsAt)/48 + 1, neventsAt},
			{0, end - 32, 2, neventsAt}, // the subscriptions fit, the events do not
			{0, 0, 1 << 26, neventsAt},
			{0, 0, 1 << 27, neventsAt}, // 1<<32 bytes of events
			{0, 0, 0x5555556, neventsAt},
			{0, 0, 1 << 31, neventsAt},
			{0, 0, 0xffffffff, neventsAt},
		} {
			checkFault(t, "poll_oneoff", p, nil)
		}
	})
}

// TestEmptyMemory calls every function that uses memory with a memory of
// zero bytes: only zero-byte ranges at offset 0 are inside it.
func TestEmptyMemory(t *testing.T) {
	for _, tt := range faultCases {
		s, _ := faultState(t)
		var m testMemory
		if got := call(t, s, m, tt.name, tt.params...); got != ErrnoFault {
			t.Errorf("%s with an empty memory = %v, want EFAULT", callString(tt.name, tt.params), got)
		}
	}
	// Zero bytes at zero fit even there.
	s := newState(t, Config{})
	var m testMemory
	for _, name := range []string{"args_get", "environ_get"} {
		mustCall(t, s, m, ErrnoSuccess, name, 0, 0)
	}
	mustCall(t, s, m, ErrnoSuccess, "random_get", 0, 0)
	mustCall(t, s, m, ErrnoFault, "args_sizes_get", 0, 0)
}

// TestWazeroMemory checks that testMemory bounds ranges as wazero's
// api.Memory does, and runs the boundary cases of TestFault on a wazero
// memory of the same size.
func TestWazeroMemory(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	// A module with one page of memory, exported.
	bin := []byte{
		0, 'a', 's', 'm', 1, 0, 0, 0,
		5, 3, 1, 0, 1, // memory section: min 1 page
		7, 10, 1, 6, 'm', 'e', 'm', 'o', 'r', 'y', 2, 0, // export section
	}
	mod, err := rt.Instantiate(ctx, bin)
	if err != nil {
		t.Fatal(err)
	}
	var wm Memory = mod.Memory()
	if got := mod.Memory().Size(); got != testMemorySize {
		t.Fatalf("wazero memory has %d bytes, want %d", got, testMemorySize)
	}
	tm := newMemory()
	const end = testMemorySize
	for _, offset := range []uint32{0, 1, end/2 - 1, end - 8, end - 4, end - 1, end, end + 1, 1 << 31, 0xfffffffc, 0xffffffff} {
		for _, n := range []uint32{0, 1, 4, 8, end - 1, end, end + 1, 1 << 31, 0xffffffff} {
			wb, wok := wm.Read(offset, n)
			tb, tok := tm.Read(offset, n)
			if wok != tok || len(wb) != len(tb) {
				t.Errorf("Read(%#x, %#x): wazero returned %d bytes, %v; testMemory %d bytes, %v", offset, n, len(wb), wok, len(tb), tok)
			}
		}
	}

	for _, tt := range faultCases {
		for _, p := range tt.ptrs {
			for _, v := range []uint32{end - p.size, end - p.size + 1} {
				s, _ := faultState(t)
				b, _ := wm.Read(0, end)
				clear(b)
				if tt.setup != nil {
					tt.setup(b)
				}
				params := append([]uint64(nil), tt.params...)
				params[p.index] = uint64(v)
				want := ErrnoSuccess
				if v > end-p.size {
					want = ErrnoFault
				}
				if got := call(t, s, wm, tt.name, params...); got != want {
					t.Errorf("%s on a wazero memory = %v, want %v", callString(tt.name, params), got, want)
				}
			}
		}
	}
}
