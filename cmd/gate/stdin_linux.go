//go:build linux

package main

import (
	"io"
	"os"
	"syscall"
	"time"
)

// interruptibleStdin returns gate's standard input as a reader whose read
// under way a suspension can interrupt, when that can be had: a snapshot
// holds every byte a read has returned, and stops the read under way
// through a read deadline (docs/ABI.md, standard input across a
// suspension). Go's os.Stdin refuses deadlines when the descriptor is
// blocking, as a shell leaves it; opening /proc/self/fd/0 gives a new open
// file of the same pipe, FIFO or terminal that Go's poller takes, without
// changing the mode of the descriptor gate shares with the shell. A read
// left under way would otherwise take, and lose, input that arrives
// between the snapshot and gate's exit. Regular files are left as they
// are (a new open file would start at offset 0, and a read of a file is
// never left waiting), and so is anything that cannot be reopened or
// polled (a socket, /dev/null): there the loss stays possible.
func interruptibleStdin(stdin io.Reader) io.Reader {
	f, ok := stdin.(*os.File)
	if !ok || f.Fd() != 0 {
		return stdin
	}
	info, err := f.Stat()
	if err != nil || info.Mode()&(os.ModeNamedPipe|os.ModeCharDevice) == 0 {
		return stdin
	}
	// O_NOCTTY: a terminal opened again must not become gate's
	// controlling terminal.
	reopened, err := os.OpenFile("/proc/self/fd/0", os.O_RDONLY|syscall.O_NOCTTY, 0)
	if err != nil {
		return stdin
	}
	if err := reopened.SetReadDeadline(time.Time{}); err != nil {
		reopened.Close()
		return stdin
	}
	return reopened
}
