package proto

import (
	"errors"
	"fmt"
	"io"
	"syscall"

	"golang.org/x/sys/unix"
)

// maxFDs is how many descriptors one recvmsg can take in: one is all a
// frame may carry, and room for a few more lets the reader see, rather
// than have the kernel drop, what a faulty parent sent too many.
const maxFDs = 4

// NewSocketReader returns a Reader of the socket fd (blocking, as the
// executor's control socket is) that receives the descriptors passed
// with the frames' bytes (SCM_RIGHTS). It reads with recvmsg(2) and raw
// system calls, never through Go's poller (which would take fcntl and
// epoll_ctl, which the executor's seccomp filter forbids).
//
// A descriptor is attached to the bytes of the sendmsg that passed it,
// and the kernel hands it over with the first of them that recvmsg
// reads; the Reader reads each frame's header and body exactly, never
// past its end. So when a frame has been read, the descriptors received
// are those passed with it (the frames before it having taken theirs):
// a frame whose type takes one gets it in Frame.FD; any other
// descriptor (more than one, one with a frame that takes none), a
// frame that takes one and came without, a control message of another
// kind or one cut short (MSG_CTRUNC: the kernel dropped descriptors) is
// a protocol error, and every descriptor received is closed.
func NewSocketReader(fd int) *Reader {
	s := &socketSource{fd: fd, oob: make([]byte, unix.CmsgSpace(maxFDs*4))}
	return &Reader{r: s, fds: s}
}

// socketSource reads a socket with recvmsg and keeps the descriptors
// that came with the bytes.
type socketSource struct {
	fd  int
	oob []byte
	// fds are received and not yet attached to a frame.
	fds []int
	// bad is why a control message was refused, if one was.
	bad error
}

func (s *socketSource) Read(p []byte) (int, error) {
	for {
		n, oobn, flags, _, err := unix.Recvmsg(s.fd, p, s.oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if oobn > 0 || flags&unix.MSG_CTRUNC != 0 {
			s.control(s.oob[:oobn], flags)
		}
		if n == 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

// control takes in the descriptors of a control message, and records
// anything else as bad.
func (s *socketSource) control(oob []byte, flags int) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		s.refuse(fmt.Errorf("a control message that does not parse: %w", err))
	}
	for i := range msgs {
		m := &msgs[i]
		if m.Header.Level != unix.SOL_SOCKET || m.Header.Type != unix.SCM_RIGHTS {
			s.refuse(fmt.Errorf("a control message of level %d, type %d, not descriptors", m.Header.Level, m.Header.Type))
			continue
		}
		fds, err := unix.ParseUnixRights(m)
		if err != nil {
			s.refuse(fmt.Errorf("descriptors that do not parse: %w", err))
			continue
		}
		s.fds = append(s.fds, fds...)
	}
	if flags&unix.MSG_CTRUNC != 0 {
		s.refuse(errors.New("a control message cut short (MSG_CTRUNC): more descriptors than one frame carries, or more than the executor may hold"))
	}
}

func (s *socketSource) refuse(err error) {
	if s.bad == nil {
		s.bad = err
	}
}

func (s *socketSource) attach(f *Frame) error {
	fds, bad := s.fds, s.bad
	s.fds, s.bad = nil, nil
	switch {
	case bad != nil:
	case f.Type.TakesFD() && len(fds) == 1:
		f.FD = fds[0]
		return nil
	case !f.Type.TakesFD() && len(fds) == 0:
		return nil
	case f.Type.TakesFD():
		bad = fmt.Errorf("%d descriptors with a frame that takes one", len(fds))
	default:
		bad = fmt.Errorf("%d descriptors with a frame that takes none", len(fds))
	}
	closeFDs(fds)
	return fmt.Errorf("%w: frame of type %d for %d: %w", ErrProtocol, f.Type, f.ID, bad)
}

func (s *socketSource) closeAll() {
	closeFDs(s.fds)
	s.fds = nil
}

func closeFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// WriteFD writes one frame of a type that takes a descriptor, with fd
// passed along (SCM_RIGHTS, in the sendmsg of the frame's first bytes),
// whole and not interleaved with other frames. The Writer must write to
// a socket's *os.File (or another syscall.Conn of a socket). The peer
// gets its own descriptor of fd's open file description: it shares its
// offset. The caller keeps fd open until WriteFD returns.
func (w *Writer) WriteFD(t Type, id uint32, fd int, parts ...[]byte) error {
	if !t.TakesFD() {
		return fmt.Errorf("frame of type %d carries no descriptor", t)
	}
	sc, ok := w.w.(syscall.Conn)
	if !ok {
		return fmt.Errorf("frame of type %d: cannot pass a descriptor through a %T, only through a socket's *os.File", t, w.w)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	if err := checkSize(t, parts); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.frame(t, id, parts)
	var serr error
	err = rc.Write(func(s uintptr) bool {
		serr = sendAll(int(s), b, unix.UnixRights(fd))
		return true // the socket is blocking: nothing to wait for
	})
	if err == nil {
		err = serr
	}
	return err
}

// sendAll sends b with the control message oob on its first bytes, then
// the rest of b if the kernel took only part (a signal after some bytes
// were sent). MSG_NOSIGNAL: a dead peer is an error (EPIPE), not a
// SIGPIPE.
func sendAll(s int, b, oob []byte) error {
	for len(b) > 0 {
		n, err := unix.SendmsgN(s, b, oob, nil, unix.MSG_NOSIGNAL)
		if err == unix.EINTR {
			continue // nothing was sent: oob goes with the next try
		}
		if err != nil {
			return err
		}
		b, oob = b[n:], nil
	}
	return nil
}
