package wasi

import (
	"bytes"
	"strings"
	"testing"
)

// TestArgsEnviron checks args_sizes_get/args_get and
// environ_sizes_get/environ_get: the count and total size of the strings
// (NUL included), an array of pointers, and the NUL-terminated strings
// packed one after the other at the buffer, and nothing else written.
func TestArgsEnviron(t *testing.T) {
	tests := []struct {
		name string
		strs []string
	}{
		{"none", nil},
		{"empty", []string{}},
		{"one", []string{"prog"}},
		{"several", []string{"prog", "a b", "", "--flag=x"}},
		{"env", []string{"HOME=/", "EMPTY=", "LANG=C.UTF-8"}},
		{"utf8", []string{"héllo", "世界"}},
		{"embedded NUL", []string{"a\x00b"}},
		{"long", []string{strings.Repeat("x", 5000)}},
	}
	const (
		countPtr = 0x10
		sizePtr  = 0x14
		ptrs     = 0x100
		buf      = 0x800
	)
	for _, api := range []struct{ sizes, get string }{
		{"args_sizes_get", "args_get"},
		{"environ_sizes_get", "environ_get"},
	} {
		for _, tt := range tests {
			t.Run(api.get+"/"+tt.name, func(t *testing.T) {
				cfg := Config{Args: []string{"other", "args"}, Env: []string{"OTHER=env"}}
				if api.get == "args_get" {
					cfg.Args = tt.strs
				} else {
					cfg.Env = tt.strs
				}
				s := newState(t, cfg)

				// The expected layout.
				var wantBuf []byte
				wantPtrs := make([]uint32, len(tt.strs))
				for i, v := range tt.strs {
					wantPtrs[i] = buf + uint32(len(wantBuf))
					wantBuf = append(wantBuf, v...)
					wantBuf = append(wantBuf, 0)
				}

				m := newMemory()
				for i := range m {
					m[i] = 0xaa // so that an unwritten NUL shows
				}
				before := m.clone()
				mustCall(t, s, m, ErrnoSuccess, api.sizes, countPtr, sizePtr)
				if got := m.u32(countPtr); got != uint32(len(tt.strs)) {
					t.Errorf("%s: count = %d, want %d", api.sizes, got, len(tt.strs))
				}
				if got := m.u32(sizePtr); got != uint32(len(wantBuf)) {
					t.Errorf("%s: size = %d, want %d", api.sizes, got, len(wantBuf))
				}
				copy(before[countPtr:], m[countPtr:countPtr+8])
				if !bytes.Equal(m, before) {
					t.Errorf("%s wrote outside its results: %s", api.sizes, firstDiff(m, before))
				}

				mustCall(t, s, m, ErrnoSuccess, api.get, ptrs, buf)
				for i, want := range wantPtrs {
					if got := m.u32(ptrs + uint32(i)*4); got != want {
						t.Errorf("%s: pointer %d = %#x, want %#x", api.get, i, got, want)
					}
				}
				if got := m[buf : buf+uint32(len(wantBuf))]; !bytes.Equal(got, wantBuf) {
					t.Errorf("%s: buffer = %q, want %q", api.get, got, wantBuf)
				}
				copy(before[ptrs:], m[ptrs:ptrs+uint32(len(wantPtrs))*4])
				copy(before[buf:], wantBuf)
				if !bytes.Equal(m, before) {
					t.Errorf("%s wrote outside its results: %s", api.get, firstDiff(m, before))
				}
			})
		}
	}
}

// TestArgsCopied checks that the state keeps its own copy of the strings.
func TestArgsCopied(t *testing.T) {
	args := []string{"a"}
	env := []string{"K=V"}
	s := newState(t, Config{Args: args, Env: env})
	args[0], env[0] = "changed", "CHANGED=1"
	m := newMemory()
	mustCall(t, s, m, ErrnoSuccess, "args_get", 0, 0x100)
	mustCall(t, s, m, ErrnoSuccess, "environ_get", 0x10, 0x200)
	if got := m.str(0x100, 2); got != "a\x00" {
		t.Errorf("args_get after the caller changed its slice: %q, want %q", got, "a\x00")
	}
	if got := m.str(0x200, 4); got != "K=V\x00" {
		t.Errorf("environ_get after the caller changed its slice: %q, want %q", got, "K=V\x00")
	}
}

// TestArgsAtEnd checks the bounds of the strings functions: results that
// end exactly at the end of memory are written, one byte further is
// EFAULT with nothing written.
func TestArgsAtEnd(t *testing.T) {
	s := newState(t, Config{Args: []string{"ab", "c"}, Env: nil})
	const end = testMemorySize
	tests := []struct {
		name   string
		params []uint64
		want   Errno
	}{
		{"args_sizes_get", []uint64{end - 4, end - 8}, ErrnoSuccess},
		{"args_sizes_get", []uint64{end - 3, 0}, ErrnoFault},
		{"args_sizes_get", []uint64{0, end - 3}, ErrnoFault},
		{"args_sizes_get", []uint64{0xffffffff, 0}, ErrnoFault},
		{"args_get", []uint64{end - 8, 0}, ErrnoSuccess},
		{"args_get", []uint64{0x100, end - 5}, ErrnoSuccess},
		{"args_get", []uint64{end - 7, 0}, ErrnoFault},
		{"args_get", []uint64{0x100, end - 4}, ErrnoFault},
		{"args_get", []uint64{0xffffffff, 0}, ErrnoFault},
		{"args_get", []uint64{0, 0xffffffff}, ErrnoFault},
		// No environment: zero bytes at the very end are inside memory,
		// past it they are not.
		{"environ_get", []uint64{end, end}, ErrnoSuccess},
		{"environ_get", []uint64{end + 1, 0}, ErrnoFault},
		{"environ_get", []uint64{0, end + 1}, ErrnoFault},
		{"environ_sizes_get", []uint64{end - 4, end - 4}, ErrnoSuccess},
		{"environ_sizes_get", []uint64{end - 1, 0}, ErrnoFault},
	}
	for _, tt := range tests {
		m := newMemory()
		before := m.clone()
		got := call(t, s, m, tt.name, tt.params...)
		if got != tt.want {
			t.Errorf("%s = %v, want %v", callString(tt.name, tt.params), got, tt.want)
		}
		if got == ErrnoFault && !bytes.Equal(m, before) {
			t.Errorf("%s = EFAULT but wrote to memory: %s", callString(tt.name, tt.params), firstDiff(m, before))
		}
	}
}
