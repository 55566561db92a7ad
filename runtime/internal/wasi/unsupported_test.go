package wasi

import (
	"bytes"
	"strings"
	"testing"
)

// TestUnsupported checks the functions that need a file, a directory or a
// socket. Each answers one errno when its descriptor is a standard one
// (the errno POSIX gives for the operation on a terminal or a pipe) and
// EBADF for any other descriptor, whatever its other parameters, and
// touches neither memory nor the standard streams.
func TestUnsupported(t *testing.T) {
	tests := []struct {
		name  string
		fdArg int   // which parameter is the descriptor
		stdio Errno // the answer for 0, 1 and 2
	}{
		{"fd_advise", 0, ErrnoSpipe},
		{"fd_allocate", 0, ErrnoNotsup},
		{"fd_datasync", 0, ErrnoInval},
		{"fd_fdstat_set_rights", 0, ErrnoNotcapable},
		{"fd_filestat_set_size", 0, ErrnoInval},
		{"fd_filestat_set_times", 0, ErrnoNotsup},
		{"fd_pread", 0, ErrnoSpipe},
		{"fd_prestat_get", 0, ErrnoBadf},
		{"fd_prestat_dir_name", 0, ErrnoBadf},
		{"fd_pwrite", 0, ErrnoSpipe},
		{"fd_readdir", 0, ErrnoNotdir},
		{"fd_renumber", 0, ErrnoNotsup},
		{"fd_seek", 0, ErrnoSpipe},
		{"fd_sync", 0, ErrnoInval},
		{"fd_tell", 0, ErrnoSpipe},
		{"path_create_directory", 0, ErrnoNotdir},
		{"path_filestat_get", 0, ErrnoNotdir},
		{"path_filestat_set_times", 0, ErrnoNotdir},
		{"path_link", 0, ErrnoNotdir},
		{"path_open", 0, ErrnoNotdir},
		{"path_readlink", 0, ErrnoNotdir},
		{"path_remove_directory", 0, ErrnoNotdir},
		{"path_rename", 0, ErrnoNotdir},
		{"path_symlink", 2, ErrnoNotdir},
		{"path_unlink_file", 0, ErrnoNotdir},
		{"sock_accept", 0, ErrnoNotsock},
		{"sock_recv", 0, ErrnoNotsock},
		{"sock_send", 0, ErrnoNotsock},
		{"sock_shutdown", 0, ErrnoNotsock},
	}
	// Values for the other parameters: valid pointers to a path, sizes,
	// then garbage.
	others := [][]uint64{
		{0x100, 4, 0x200, 0x300, 0x400, 0x500, 0x600, 0x700, 0x800},
		{0, 0, 0, 0, 0, 0, 0, 0, 0},
		{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
		{testMemorySize, 0x7fffffff, 0xffffffff_ffffffff, 1, 2, 3, 0x80000000, testMemorySize - 1, 0xfffffffe},
	}
	tested := make(map[string]bool)
	for _, tt := range tests {
		tested[tt.name] = true
		t.Run(tt.name, func(t *testing.T) {
			f := lookup(t, tt.name)
			var stdout, stderr recordWriter
			s := newState(t, Config{Stdin: strings.NewReader("input"), Stdout: &stdout, Stderr: &stderr})
			m := newMemory()
			m.putStr(0x100, "file")
			m.putIovecs(0x200, iovec{0x300, 4})
			m.putStr(0x300, "data")
			before := m.clone()
			check := func(fd uint64, want Errno) {
				t.Helper()
				for _, other := range others {
					params := make([]uint64, len(f.Params))
					for i := range params {
						params[i] = other[i]
						if f.Params[i] == I32 && i != tt.fdArg {
							params[i] = uint64(uint32(other[i]))
						}
					}
					params[tt.fdArg] = fd
					mustCall(t, s, m, want, tt.name, params...)
				}
			}
			for _, fd := range []uint64{0, 1, 2} {
				check(fd, tt.stdio)
			}
			for _, fd := range []uint64{3, 4, 5, 1 << 31, 0xffffffff} {
				check(fd, ErrnoBadf)
			}
			mustCall(t, s, m, ErrnoSuccess, "fd_close", 1)
			check(0, tt.stdio)
			check(1, ErrnoBadf)

			if !bytes.Equal(m, before) {
				t.Errorf("%s wrote to memory: %s", tt.name, firstDiff(m, before))
			}
			if len(stdout.writes)+len(stderr.writes) != 0 {
				t.Errorf("%s wrote %q to stdout and %q to stderr", tt.name, stdout.writes, stderr.writes)
			}
			if got, _ := readStdin(t, t.Context(), s, m); got != "input" {
				t.Errorf("fd_read after %s read %q, want %q: input was consumed", tt.name, got, "input")
			}
		})
	}
	// Every function is tested here or in its own test.
	own := map[string]bool{
		"args_get": true, "args_sizes_get": true, "environ_get": true, "environ_sizes_get": true,
		"clock_res_get": true, "clock_time_get": true, "fd_close": true, "fd_fdstat_get": true,
		"fd_fdstat_set_flags": true, "fd_filestat_get": true, "fd_read": true, "fd_write": true,
		"poll_oneoff": true, "proc_exit": true, "proc_raise": true, "sched_yield": true,
		"random_get": true,
	}
	for _, f := range Functions() {
		if tested[f.Name] == own[f.Name] {
			t.Errorf("%s: tested here %v, in its own test %v", f.Name, tested[f.Name], own[f.Name])
		}
	}
}
