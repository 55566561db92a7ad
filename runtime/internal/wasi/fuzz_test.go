package wasi

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"time"
)

// fuzzErrnos is what each function may answer, apart from EFAULT, which
// any function taking a pointer may, in FuzzCall's set-up (whose random
// source and outputs never fail).
var fuzzErrnos = map[string][]Errno{
	"args_get":                {ErrnoSuccess, ErrnoFault},
	"args_sizes_get":          {ErrnoSuccess, ErrnoFault},
	"environ_get":             {ErrnoSuccess, ErrnoFault},
	"environ_sizes_get":       {ErrnoSuccess, ErrnoFault},
	"clock_res_get":           {ErrnoSuccess, ErrnoInval, ErrnoFault},
	"clock_time_get":          {ErrnoSuccess, ErrnoInval, ErrnoFault},
	"fd_advise":               {ErrnoSpipe, ErrnoBadf},
	"fd_allocate":             {ErrnoNotsup, ErrnoBadf},
	"fd_close":                {ErrnoSuccess, ErrnoBadf},
	"fd_datasync":             {ErrnoInval, ErrnoBadf},
	"fd_fdstat_get":           {ErrnoSuccess, ErrnoBadf, ErrnoFault},
	"fd_fdstat_set_flags":     {ErrnoSuccess, ErrnoBadf, ErrnoNotsup},
	"fd_fdstat_set_rights":    {ErrnoNotcapable, ErrnoBadf},
	"fd_filestat_get":         {ErrnoSuccess, ErrnoBadf, ErrnoFault},
	"fd_filestat_set_size":    {ErrnoInval, ErrnoBadf},
	"fd_filestat_set_times":   {ErrnoNotsup, ErrnoBadf},
	"fd_pread":                {ErrnoSpipe, ErrnoBadf},
	"fd_prestat_get":          {ErrnoBadf},
	"fd_prestat_dir_name":     {ErrnoBadf},
	"fd_pwrite":               {ErrnoSpipe, ErrnoBadf},
	"fd_read":                 {ErrnoSuccess, ErrnoBadf, ErrnoFault, ErrnoAgain},
	"fd_readdir":              {ErrnoNotdir, ErrnoBadf},
	"fd_renumber":             {ErrnoNotsup, ErrnoBadf},
	"fd_seek":                 {ErrnoSpipe, ErrnoBadf},
	"fd_sync":                 {ErrnoInval, ErrnoBadf},
	"fd_tell":                 {ErrnoSpipe, ErrnoBadf},
	"fd_write":                {ErrnoSuccess, ErrnoBadf, ErrnoFault},
	"path_create_directory":   {ErrnoNotdir, ErrnoBadf},
	"path_filestat_get":       {ErrnoNotdir, ErrnoBadf},
	"path_filestat_set_times": {ErrnoNotdir, ErrnoBadf},
	"path_link":               {ErrnoNotdir, ErrnoBadf},
	"path_open":               {ErrnoNotdir, ErrnoBadf},
	"path_readlink":           {ErrnoNotdir, ErrnoBadf},
	"path_remove_directory":   {ErrnoNotdir, ErrnoBadf},
	"path_rename":             {ErrnoNotdir, ErrnoBadf},
	"path_symlink":            {ErrnoNotdir, ErrnoBadf},
	"path_unlink_file":        {ErrnoNotdir, ErrnoBadf},
	"poll_oneoff":             {ErrnoSuccess, ErrnoInval, ErrnoFault},
	"proc_exit":               {},
	"proc_raise":              {ErrnoNosys},
	"sched_yield":             {ErrnoSuccess},
	"random_get":              {ErrnoSuccess, ErrnoFault},
	"sock_accept":             {ErrnoNotsock, ErrnoBadf},
	"sock_recv":               {ErrnoNotsock, ErrnoBadf},
	"sock_send":               {ErrnoNotsock, ErrnoBadf},
	"sock_shutdown":           {ErrnoNotsock, ErrnoBadf},
}

// fuzzProgram encodes calls for FuzzCall: for each, the function's index
// in Functions() and its parameters as unsigned varints.
type fuzzProgram []byte

func (p fuzzProgram) call(name string, params ...uint64) fuzzProgram {
	for i, f := range Functions() {
		if f.Name == name {
			p = append(p, byte(i))
			for _, v := range params {
				p = binary.AppendUvarint(p, v)
			}
			return p
		}
	}
	panic("no function " + name)
}

// fuzzMemory is the seeds' memory: iovecs at 0x10 naming "hello" at 0x40
// and an empty buffer, a third iovec of 16 bytes at 0x60, and three
// subscriptions at 0x100.
func fuzzMemory() []byte {
	m := make(testMemory, 0x400)
	m.putIovecs(0x10, iovec{0x40, 5}, iovec{0x50, 0}, iovec{0x60, 16})
	m.putStr(0x40, "hello")
	putSubscriptions(m, 0x100,
		clockSub(1, clockMonotonic, uint64(time.Millisecond), 0),
		readSub(2, 0),
		writeSub(3, 1))
	return m
}

const maxFuzzCalls = 8

// FuzzCall makes a sequence of calls to one instance with arbitrary
// parameters, memory and input. No call may panic, except proc_exit with
// *Exit and a blocking call with *Interrupted once its context is done;
// each answers an errno it documents; and a call that fails changes
// neither memory nor output.
func FuzzCall(f *testing.F) {
	mem := fuzzMemory()
	var all fuzzProgram
	for _, fn := range Functions() {
		if fn.Name == "proc_exit" {
			continue
		}
		params := make([]uint64, len(fn.Params))
		for i := range params {
			params[i] = 0x10 * uint64(i)
		}
		if len(params) > 0 {
			params[0] = 1 // stdout, for the functions that take a descriptor first
		}
		f.Add([]byte(fuzzProgram(nil).call(fn.Name, params...)), mem, []byte("input"))
		all = all.call(fn.Name, params...)
	}
	f.Add([]byte(all), mem, []byte("input"))
	for _, seed := range []fuzzProgram{
		fuzzProgram(nil).call("args_sizes_get", 0x200, 0x204).call("args_get", 0x200, 0x300),
		fuzzProgram(nil).call("environ_sizes_get", 0x200, 0x204).call("environ_get", 0x200, 0x300),
		fuzzProgram(nil).call("fd_write", 1, 0x10, 2, 0x8).call("fd_write", 2, 0x10, 3, 0x8),
		fuzzProgram(nil).call("fd_read", 0, 0x10, 3, 0x8).call("fd_read", 0, 0x10, 3, 0x8),
		fuzzProgram(nil).call("fd_fdstat_set_flags", 0, fdflagNonblock).call("fd_read", 0, 0x10, 3, 0x8).call("fd_read", 0, 0x10, 3, 0x8),
		fuzzProgram(nil).call("poll_oneoff", 0x100, 0x200, 3, 0x8).call("poll_oneoff", 0x100, 0x200, 1, 0x8),
		fuzzProgram(nil).call("fd_close", 1).call("fd_write", 1, 0x10, 1, 0x8).call("poll_oneoff", 0x100, 0x200, 3, 0x8),
		fuzzProgram(nil).call("clock_time_get", 1, 0, 0x200).call("clock_res_get", 0, 0x208),
		fuzzProgram(nil).call("random_get", 0x200, 0x100),
		fuzzProgram(nil).call("proc_exit", 3),
		fuzzProgram(nil).call("fd_read", 0, 0x10, 1<<29, 8).call("fd_write", 1, 0, 1<<29, 8),
		fuzzProgram(nil).call("poll_oneoff", 0, 0, 1<<27, 8),
	} {
		f.Add([]byte(seed), mem, []byte("input"))
		f.Add([]byte(seed), mem, []byte(nil))
	}

	funcs := Functions()
	f.Fuzz(func(t *testing.T, program, memory, stdin []byte) {
		var stdout, stderr countWriter
		cfg := Config{
			Args:   []string{"prog", "arg"},
			Env:    []string{"K=V"},
			Stdout: &stdout, Stderr: &stderr,
			Random: &patternReader{},
			Now:    func() time.Time { return fixedTime },
		}
		if len(stdin) > 0 {
			cfg.Stdin = bytes.NewReader(stdin)
		}
		s := New(cfg)
		defer s.Close()
		m := newMemory()
		copy(m, memory)

		for range maxFuzzCalls {
			if len(program) == 0 {
				return
			}
			fn := &funcs[int(program[0])%len(funcs)]
			program = program[1:]
			stack := make([]uint64, max(len(fn.Params), 1))
			for i := range fn.Params {
				v, n := binary.Uvarint(program)
				if n <= 0 { // too short or too long: a zero, and the end
					v, n = 0, len(program)
				}
				stack[i], program = v, program[n:]
			}
			params := slices.Clone(stack[:len(fn.Params)])
			before := m.clone()
			out := stdout.n + stderr.n

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			p := func() (p any) {
				defer func() { p = recover() }()
				fn.Call(ctx, s, m, stack)
				return nil
			}()
			cancel()
			c := callString(fn.Name, params)
			switch p := p.(type) {
			case nil:
			case *Exit:
				if fn.Name != "proc_exit" || p.Code != uint32(params[0]) {
					t.Fatalf("%s panicked with &Exit{%d}", c, p.Code)
				}
				return
			case *Interrupted:
				if (fn.Name != "fd_read" && fn.Name != "poll_oneoff") || p.Func != fn.Name || !errors.Is(p, context.DeadlineExceeded) {
					t.Fatalf("%s panicked with %v", c, p)
				}
				return
			default:
				t.Fatalf("%s panicked with %#v", c, p)
			}
			if fn.NoResult {
				t.Fatalf("%s returned", c)
			}
			errno := Errno(stack[0])
			if stack[0] > 0xffff || !slices.Contains(fuzzErrnos[fn.Name], errno) {
				t.Fatalf("%s = %v, not one of %v", c, errno, fuzzErrnos[fn.Name])
			}
			if errno != ErrnoSuccess {
				if !bytes.Equal(m, before) {
					t.Fatalf("%s = %v but wrote to memory: %s", c, errno, firstDiff(m, before))
				}
				if stdout.n+stderr.n != out {
					t.Fatalf("%s = %v but wrote output", c, errno)
				}
			}
		}
	})
}

// TestFuzzErrnos keeps fuzzErrnos complete.
func TestFuzzErrnos(t *testing.T) {
	for _, f := range Functions() {
		if _, ok := fuzzErrnos[f.Name]; !ok {
			t.Errorf("fuzzErrnos has no entry for %s", f.Name)
		}
	}
	if len(fuzzErrnos) != len(Functions()) {
		t.Errorf("fuzzErrnos has %d entries for %d functions", len(fuzzErrnos), len(Functions()))
	}
}
