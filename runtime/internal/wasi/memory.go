package wasi

import "encoding/binary"

// Memory is the view of an instance's linear memory that functions use.
// wazero's api.Memory satisfies it.
type Memory interface {
	// Read returns a writable view of byteCount bytes at offset, or false
	// if that range is not inside memory.
	Read(offset, byteCount uint32) ([]byte, bool)
}

// fault is raised (as a panic) by the accessors below when the program
// passed a pointer outside its memory; Func.Call turns it into EFAULT.
// Raising keeps every function free of a bounds check per access.
type fault struct{}

// view returns the n bytes at offset, or raises fault. n is 64-bit so that
// count*size products computed by callers cannot wrap; from 1<<32 up, it
// does not fit the uint32 that Read takes.
func view(m Memory, offset uint32, n uint64) []byte {
	if n > 1<<32-1 {
		panic(fault{})
	}
	b, ok := m.Read(offset, uint32(n))
	if !ok {
		panic(fault{})
	}
	return b
}

func getU32(m Memory, offset uint32) uint32 {
	return binary.LittleEndian.Uint32(view(m, offset, 4))
}

func putU32(m Memory, offset uint32, v uint32) {
	binary.LittleEndian.PutUint32(view(m, offset, 4), v)
}

func putU64(m Memory, offset uint32, v uint64) {
	binary.LittleEndian.PutUint64(view(m, offset, 8), v)
}

// iovecBuffer returns the buffer that entry i of the raw iovec array
// (pointer and length pairs, 8 bytes each) names.
func iovecBuffer(m Memory, raw []byte, i int) []byte {
	ptr := binary.LittleEndian.Uint32(raw[i*8:])
	n := binary.LittleEndian.Uint32(raw[i*8+4:])
	return view(m, ptr, uint64(n))
}
