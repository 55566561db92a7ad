package executor

import (
	"sync"
	"sync/atomic"

	"github.com/gate-wasm/gate/executor/internal/proto"
)

// memoryReport sends an instance's memory size to the parent as
// MemoryGrown frames, for an instance made with FlagMemoryGrown. The
// runtime reports every growth on the program's goroutine, which must
// never wait for the socket (a slow parent would hold the program back,
// and a C program growing a page at a time would send a frame per
// page): grown only records the size and wakes the sender, a goroutine
// of the instance's that sends the latest size. A burst of growth
// becomes a few frames; the last size is always sent, by end at the
// latest, before the run's result.
type memoryReport struct {
	w  *proto.Writer
	id uint32
	// latest is the last size the runtime reported, -1 before the
	// first (a size of 0 is a size).
	latest atomic.Int64
	wake   chan struct{} // 1-buffered: a size is waiting to be sent
	stop   chan struct{} // closed by close: the sender returns

	// mu is held while a size is sent, so that sizes go out in the
	// order they were reported, and none after close.
	mu     sync.Mutex
	sent   int64 // the last size sent, -1 before the first
	closed bool
}

// newMemoryReport returns an instance's report and starts its sender.
func newMemoryReport(w *proto.Writer, id uint32) *memoryReport {
	r := &memoryReport{w: w, id: id, wake: make(chan struct{}, 1), stop: make(chan struct{}), sent: -1}
	r.latest.Store(-1)
	go r.send()
	return r
}

// grown is the instance's runtime.Options.MemoryGrown. It runs on the
// program's goroutine, and does not block.
func (r *memoryReport) grown(size uint64) {
	r.latest.Store(int64(size)) // at most 4 GiB
	select {
	case r.wake <- struct{}{}:
	default: // the sender has a wake-up pending, which will find this size
	}
}

// send is the sender: it sends the latest size each time it is woken,
// until close.
func (r *memoryReport) send() {
	for {
		select {
		case <-r.wake:
			r.flush()
		case <-r.stop:
			return
		}
	}
}

// flush sends the latest size, unless it was the last one sent. Called
// by the sender, and before the Instantiated reply so that the parent
// has the first size when Instantiate or Resume returns.
func (r *memoryReport) flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushLocked()
}

func (r *memoryReport) flushLocked() {
	size := r.latest.Load()
	if r.closed || size < 0 || size == r.sent {
		return
	}
	r.sent = size
	// A failed write means the parent is gone, which the reading loop
	// finds out.
	r.w.Write(proto.MemoryGrown, r.id, proto.EncodeU64(uint64(size)))
}

// end sends the last size if it has not been sent, and ends the
// reports: called when the run has ended, before its Exit frame, so that
// the parent has the final size when Run returns, and nothing about the
// memory follows the exit (an abandoned program may still grow it).
func (r *memoryReport) end() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushLocked()
	r.closeLocked()
}

// close ends the reports without sending anything more, and the sender
// with them.
func (r *memoryReport) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closeLocked()
}

func (r *memoryReport) closeLocked() {
	if !r.closed {
		r.closed = true
		close(r.stop)
	}
}
