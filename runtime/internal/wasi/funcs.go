package wasi

import (
	"context"
	"encoding/binary"
	"io"
)

// ValueType is the type of a function parameter.
type ValueType byte

// The parameter types WASI preview1 uses.
const (
	I32 ValueType = iota
	I64
)

// Func is one function of the ABI: its name and signature as the program
// imports it, and its implementation.
type Func struct {
	Name   string
	Params []ValueType
	// NoResult is set for proc_exit; every other function returns one
	// i32, an Errno.
	NoResult bool
	impl     func(s *State, ctx context.Context, m Memory, p []uint64) Errno
}

// Call runs f for state s with the parameters at the front of stack and,
// unless f has no result, stores its errno in stack[0]. A pointer outside
// memory yields EFAULT.
func (f *Func) Call(ctx context.Context, s *State, m Memory, stack []uint64) {
	if s.closed.Load() {
		panic(&Interrupted{Func: f.Name, Cause: ErrClosed})
	}
	// An engine may pass i32 values with garbage in the upper half of
	// their 64-bit slot; clear it so that functions can compare whole
	// values.
	for i, t := range f.Params {
		if t == I32 {
			stack[i] = uint64(uint32(stack[i]))
		}
	}
	errno := f.call(ctx, s, m, stack)
	if !f.NoResult {
		stack[0] = uint64(errno)
	}
}

func (f *Func) call(ctx context.Context, s *State, m Memory, stack []uint64) (errno Errno) {
	defer func() {
		switch r := recover(); r.(type) {
		case nil:
		case fault:
			errno = ErrnoFault
		case suspended:
			errno = Suspended
		default:
			panic(r)
		}
	}()
	return f.impl(s, ctx, m, stack)
}

// ModuleName is the import module of every function in Functions.
const ModuleName = "wasi_snapshot_preview1"

func sig(params ...ValueType) []ValueType { return params }

// Functions returns every function of WASI preview1, in the order of the
// specification's witx file. Functions Gate does not support are present
// and answer an errno, so that programs which link them instantiate.
func Functions() []Func {
	i32, i64 := I32, I64
	return []Func{
		{Name: "args_get", Params: sig(i32, i32), impl: argsGet},
		{Name: "args_sizes_get", Params: sig(i32, i32), impl: argsSizesGet},
		{Name: "environ_get", Params: sig(i32, i32), impl: environGet},
		{Name: "environ_sizes_get", Params: sig(i32, i32), impl: environSizesGet},
		{Name: "clock_res_get", Params: sig(i32, i32), impl: clockResGet},
		{Name: "clock_time_get", Params: sig(i32, i64, i32), impl: clockTimeGet},
		{Name: "fd_advise", Params: sig(i32, i64, i64, i32), impl: onStdio(ErrnoSpipe)},
		{Name: "fd_allocate", Params: sig(i32, i64, i64), impl: onStdio(ErrnoNotsup)},
		{Name: "fd_close", Params: sig(i32), impl: fdClose},
		{Name: "fd_datasync", Params: sig(i32), impl: onStdio(ErrnoInval)},
		{Name: "fd_fdstat_get", Params: sig(i32, i32), impl: fdFdstatGet},
		{Name: "fd_fdstat_set_flags", Params: sig(i32, i32), impl: fdFdstatSetFlags},
		{Name: "fd_fdstat_set_rights", Params: sig(i32, i64, i64), impl: onStdio(ErrnoNotcapable)},
		{Name: "fd_filestat_get", Params: sig(i32, i32), impl: fdFilestatGet},
		{Name: "fd_filestat_set_size", Params: sig(i32, i64), impl: onStdio(ErrnoInval)},
		{Name: "fd_filestat_set_times", Params: sig(i32, i64, i64, i32), impl: onStdio(ErrnoNotsup)},
		{Name: "fd_pread", Params: sig(i32, i32, i32, i64, i32), impl: onStdio(ErrnoSpipe)},
		{Name: "fd_prestat_get", Params: sig(i32, i32), impl: noPreopens},
		{Name: "fd_prestat_dir_name", Params: sig(i32, i32, i32), impl: noPreopens},
		{Name: "fd_pwrite", Params: sig(i32, i32, i32, i64, i32), impl: onStdio(ErrnoSpipe)},
		{Name: "fd_read", Params: sig(i32, i32, i32, i32), impl: fdRead},
		{Name: "fd_readdir", Params: sig(i32, i32, i32, i64, i32), impl: onStdio(ErrnoNotdir)},
		{Name: "fd_renumber", Params: sig(i32, i32), impl: onStdio(ErrnoNotsup)},
		{Name: "fd_seek", Params: sig(i32, i64, i32, i32), impl: onStdio(ErrnoSpipe)},
		{Name: "fd_sync", Params: sig(i32), impl: onStdio(ErrnoInval)},
		{Name: "fd_tell", Params: sig(i32, i32), impl: onStdio(ErrnoSpipe)},
		{Name: "fd_write", Params: sig(i32, i32, i32, i32), impl: fdWrite},
		{Name: "path_create_directory", Params: sig(i32, i32, i32), impl: onStdio(ErrnoNotdir)},
		{Name: "path_filestat_get", Params: sig(i32, i32, i32, i32, i32), impl: onStdio(ErrnoNotdir)},
		{Name: "path_filestat_set_times", Params: sig(i32, i32, i32, i32, i64, i64, i32), impl: onStdio(ErrnoNotdir)},
		{Name: "path_link", Params: sig(i32, i32, i32, i32, i32, i32, i32), impl: onStdio(ErrnoNotdir)},
		{Name: "path_open", Params: sig(i32, i32, i32, i32, i32, i64, i64, i32, i32), impl: onStdio(ErrnoNotdir)},
		{Name: "path_readlink", Params: sig(i32, i32, i32, i32, i32, i32), impl: onStdio(ErrnoNotdir)},
		{Name: "path_remove_directory", Params: sig(i32, i32, i32), impl: onStdio(ErrnoNotdir)},
		{Name: "path_rename", Params: sig(i32, i32, i32, i32, i32, i32), impl: onStdio(ErrnoNotdir)},
		{Name: "path_symlink", Params: sig(i32, i32, i32, i32, i32), impl: pathSymlink},
		{Name: "path_unlink_file", Params: sig(i32, i32, i32), impl: onStdio(ErrnoNotdir)},
		{Name: "poll_oneoff", Params: sig(i32, i32, i32, i32), impl: pollOneoff},
		{Name: "proc_exit", Params: sig(i32), NoResult: true, impl: procExit},
		{Name: "proc_raise", Params: sig(i32), impl: procRaise},
		{Name: "sched_yield", Params: sig(), impl: schedYield},
		{Name: "random_get", Params: sig(i32, i32), impl: randomGet},
		{Name: "sock_accept", Params: sig(i32, i32, i32), impl: onStdio(ErrnoNotsock)},
		{Name: "sock_recv", Params: sig(i32, i32, i32, i32, i32, i32), impl: onStdio(ErrnoNotsock)},
		{Name: "sock_send", Params: sig(i32, i32, i32, i32, i32), impl: onStdio(ErrnoNotsock)},
		{Name: "sock_shutdown", Params: sig(i32, i32), impl: onStdio(ErrnoNotsock)},
	}
}

// stdio returns the state of fd if it is an open standard descriptor.
func (s *State) stdio(fd uint64) (*fdState, bool) {
	if fd > fdStderr || s.fds[fd].closed {
		return nil, false
	}
	return &s.fds[fd], true
}

// onStdio is the implementation of a function that needs a file, a
// directory or a socket: there is none, so it fails with EBADF, or with
// errno where its first parameter names an open standard descriptor.
func onStdio(errno Errno) func(*State, context.Context, Memory, []uint64) Errno {
	return func(s *State, _ context.Context, _ Memory, p []uint64) Errno {
		if _, ok := s.stdio(p[0]); ok {
			return errno
		}
		return ErrnoBadf
	}
}

// pathSymlink takes its directory descriptor as third parameter.
func pathSymlink(s *State, ctx context.Context, m Memory, p []uint64) Errno {
	return onStdio(ErrnoNotdir)(s, ctx, m, p[2:])
}

// noPreopens answers the preopen queries with which libc and Go discover
// directories at start-up: there are none.
func noPreopens(*State, context.Context, Memory, []uint64) Errno { return ErrnoBadf }

func argsGet(s *State, _ context.Context, m Memory, p []uint64) Errno {
	return putStrings(m, s.args, uint32(p[0]), uint32(p[1]))
}

func argsSizesGet(s *State, _ context.Context, m Memory, p []uint64) Errno {
	return putSizes(m, s.args, uint32(p[0]), uint32(p[1]))
}

func environGet(s *State, _ context.Context, m Memory, p []uint64) Errno {
	return putStrings(m, s.env, uint32(p[0]), uint32(p[1]))
}

func environSizesGet(s *State, _ context.Context, m Memory, p []uint64) Errno {
	return putSizes(m, s.env, uint32(p[0]), uint32(p[1]))
}

// putStrings writes the pointers to strs at ptrs and their bytes at buf.
func putStrings(m Memory, strs [][]byte, ptrs, buf uint32) Errno {
	size := uint64(0)
	for _, v := range strs {
		size += uint64(len(v))
	}
	pv := view(m, ptrs, uint64(len(strs))*4)
	bv := view(m, buf, size)
	off := 0
	for i, v := range strs {
		binary.LittleEndian.PutUint32(pv[i*4:], buf+uint32(off))
		off += copy(bv[off:], v)
	}
	return ErrnoSuccess
}

func putSizes(m Memory, strs [][]byte, countPtr, sizePtr uint32) Errno {
	size := 0
	for _, v := range strs {
		size += len(v)
	}
	// Check both pointers before writing either, so that EFAULT leaves
	// memory as it was.
	count, total := view(m, countPtr, 4), view(m, sizePtr, 4)
	binary.LittleEndian.PutUint32(count, uint32(len(strs)))
	binary.LittleEndian.PutUint32(total, uint32(size))
	return ErrnoSuccess
}

func procExit(_ *State, _ context.Context, _ Memory, p []uint64) Errno {
	panic(&Exit{Code: uint32(p[0])})
}

// procRaise is unsupported: a program cannot signal itself.
func procRaise(*State, context.Context, Memory, []uint64) Errno { return ErrnoNosys }

// schedYield is a suspension point: it answers Suspended when a
// suspension has been requested.
func schedYield(s *State, _ context.Context, _ Memory, _ []uint64) Errno {
	select {
	case <-s.suspend:
		return Suspended
	default:
		return ErrnoSuccess
	}
}

func randomGet(s *State, _ context.Context, m Memory, p []uint64) Errno {
	if _, err := io.ReadFull(s.random, view(m, uint32(p[0]), uint64(uint32(p[1])))); err != nil {
		return ErrnoIO
	}
	return ErrnoSuccess
}
