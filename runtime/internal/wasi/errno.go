package wasi

import "strconv"

// Errno is a WASI preview1 error number, the result of most functions.
type Errno uint16

// The errno values Gate returns. The numbering is WASI preview1's.
const (
	ErrnoSuccess    Errno = 0
	ErrnoAgain      Errno = 6
	ErrnoBadf       Errno = 8
	ErrnoFault      Errno = 21
	ErrnoInval      Errno = 28
	ErrnoIO         Errno = 29
	ErrnoNosys      Errno = 52
	ErrnoNotdir     Errno = 54
	ErrnoNotsock    Errno = 57
	ErrnoNotsup     Errno = 58
	ErrnoSpipe      Errno = 70
	ErrnoNotcapable Errno = 76
)

var errnoNames = map[Errno]string{
	ErrnoSuccess: "success", ErrnoAgain: "EAGAIN", ErrnoBadf: "EBADF",
	ErrnoFault: "EFAULT", ErrnoInval: "EINVAL", ErrnoIO: "EIO",
	ErrnoNosys: "ENOSYS", ErrnoNotdir: "ENOTDIR", ErrnoNotsock: "ENOTSOCK",
	ErrnoNotsup: "ENOTSUP", ErrnoSpipe: "ESPIPE", ErrnoNotcapable: "ENOTCAPABLE",
}

func (e Errno) String() string {
	if s, ok := errnoNames[e]; ok {
		return s
	}
	return "errno " + strconv.Itoa(int(e))
}
