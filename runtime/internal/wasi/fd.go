package wasi

import (
	"context"
	"encoding/binary"
	"math"
)

// File types and flags of WASI preview1.
const (
	filetypeCharacterDevice = 2

	fdflagAppend   = 1 << 0
	fdflagNonblock = 1 << 2
)

// Rights of WASI preview1 that the standard descriptors hold.
const (
	rightFdRead           = 1 << 1
	rightFdFdstatSetFlags = 1 << 3
	rightFdWrite          = 1 << 6
	rightFdFilestatGet    = 1 << 21
	rightPollFdReadwrite  = 1 << 27

	rightsStdin  = rightFdRead | rightFdFdstatSetFlags | rightFdFilestatGet | rightPollFdReadwrite
	rightsOutput = rightFdWrite | rightFdFdstatSetFlags | rightFdFilestatGet | rightPollFdReadwrite
)

func rights(fd uint64) uint64 {
	if fd == fdStdin {
		return rightsStdin
	}
	return rightsOutput
}

func fdClose(s *State, _ context.Context, _ Memory, p []uint64) Errno {
	f, ok := s.stdio(p[0])
	if !ok {
		return ErrnoBadf
	}
	f.closed = true
	return ErrnoSuccess
}

// fdFdstatGet describes the standard descriptors as character devices
// (so that libc treats them as terminals and line-buffers its output: a
// program talks to its client as it goes) without seek rights.
func fdFdstatGet(s *State, _ context.Context, m Memory, p []uint64) Errno {
	f, ok := s.stdio(p[0])
	if !ok {
		return ErrnoBadf
	}
	b := view(m, uint32(p[1]), 24)
	clear(b)
	b[0] = filetypeCharacterDevice
	binary.LittleEndian.PutUint16(b[2:], f.flags)
	binary.LittleEndian.PutUint64(b[8:], rights(p[0]))
	return ErrnoSuccess
}

// fdFdstatSetFlags accepts the nonblocking flag on every standard
// descriptor and the append flag on the output ones; the others ask for
// file semantics that a stream does not have.
func fdFdstatSetFlags(s *State, _ context.Context, _ Memory, p []uint64) Errno {
	f, ok := s.stdio(p[0])
	if !ok {
		return ErrnoBadf
	}
	allowed := uint64(fdflagNonblock)
	if p[0] != fdStdin {
		allowed |= fdflagAppend
	}
	flags := uint64(uint32(p[1]))
	if flags&^allowed != 0 {
		return ErrnoNotsup
	}
	f.flags = uint16(flags)
	return ErrnoSuccess
}

func fdFilestatGet(s *State, _ context.Context, m Memory, p []uint64) Errno {
	if _, ok := s.stdio(p[0]); !ok {
		return ErrnoBadf
	}
	b := view(m, uint32(p[1]), 64)
	clear(b)
	b[16] = filetypeCharacterDevice
	return ErrnoSuccess
}

func fdRead(s *State, ctx context.Context, m Memory, p []uint64) Errno {
	f, ok := s.stdio(p[0])
	if !ok || p[0] != fdStdin {
		return ErrnoBadf
	}
	raw := view(m, uint32(p[1]), uint64(uint32(p[2]))*8)
	count := int(uint32(p[2]))
	// Check every pointer before anything is consumed, so that a fault
	// loses no input.
	view(m, uint32(p[3]), 4)
	for i := 0; i < count; i++ {
		iovecBuffer(m, raw, i)
	}
	in := s.stdin
	if f.flags&fdflagNonblock != 0 {
		if !in.poll() {
			return ErrnoAgain
		}
	} else {
		in.wait(ctx, s.suspend)
	}
	if in.failed() {
		return ErrnoIO
	}
	n := 0
	for i := 0; i < count && in.pending() > 0; i++ {
		n += in.read(iovecBuffer(m, raw, i))
	}
	putU32(m, uint32(p[3]), uint32(n))
	return ErrnoSuccess
}

// maxWrite is the most bytes one fd_write writes: the largest count that
// the ssize_t of a wasm32 libc holds (Linux has a similar limit).
const maxWrite = math.MaxInt32

func fdWrite(s *State, _ context.Context, m Memory, p []uint64) Errno {
	if _, ok := s.stdio(p[0]); !ok || p[0] == fdStdin {
		return ErrnoBadf
	}
	w := s.stdout
	if p[0] == fdStderr {
		w = s.stderr
	}
	raw := view(m, uint32(p[1]), uint64(uint32(p[2]))*8)
	count := int(uint32(p[2]))
	// Check every pointer before anything is written, so that a fault
	// writes nothing.
	view(m, uint32(p[3]), 4)
	for i := 0; i < count; i++ {
		iovecBuffer(m, raw, i)
	}
	total := 0
	for i := 0; i < count; i++ {
		b := iovecBuffer(m, raw, i)
		// Iovecs may name the same bytes over and over: cut the write
		// short where its count would no longer fit a wasm32 ssize_t.
		b = b[:min(len(b), maxWrite-total)]
		if len(b) == 0 {
			continue
		}
		n, err := w.Write(b)
		total += n
		if err != nil {
			if total > 0 {
				break // report the partial write; the next one fails
			}
			return ErrnoIO
		}
	}
	putU32(m, uint32(p[3]), uint32(total))
	return ErrnoSuccess
}
