package wasi

import (
	"context"
	"encoding/binary"
	"time"
)

// Clock identifiers of WASI preview1.
const (
	clockRealtime         = 0
	clockMonotonic        = 1
	clockProcessCPUTime   = 2
	clockThreadCPUTime    = 3
	subclockFlagsAbsolute = 1
)

// clockNow reads clock id in nanoseconds. The CPU-time clocks are
// approximated by the time since the instance started: an instance has no
// CPU time of its own that a snapshot could carry across hosts.
func (s *State) clockNow(id uint32) (uint64, bool) {
	switch id {
	case clockRealtime:
		return uint64(s.now().UnixNano()), true
	case clockMonotonic, clockProcessCPUTime, clockThreadCPUTime:
		return s.monotonic(), true
	}
	return 0, false
}

func clockResGet(s *State, _ context.Context, m Memory, p []uint64) Errno {
	if _, ok := s.clockNow(uint32(p[0])); !ok {
		return ErrnoInval
	}
	putU64(m, uint32(p[1]), 1)
	return ErrnoSuccess
}

func clockTimeGet(s *State, _ context.Context, m Memory, p []uint64) Errno {
	now, ok := s.clockNow(uint32(p[0]))
	if !ok {
		return ErrnoInval
	}
	putU64(m, uint32(p[2]), now)
	return ErrnoSuccess
}

// Layout of poll_oneoff's subscription and event records.
const (
	subscriptionSize = 48
	eventSize        = 32

	eventtypeClock   = 0
	eventtypeFdRead  = 1
	eventtypeFdWrite = 2

	eventrwflagHangup = 1
)

// subscription is a decoded poll_oneoff subscription.
type subscription struct {
	userdata uint64
	kind     byte
	fd       uint32
	deadline uint64 // monotonic nanoseconds, for clock subscriptions
	errno    Errno  // set when the subscription itself is invalid
}

// pollOneoff waits until at least one subscription is ready: a clock
// reaching its deadline, standard input having bytes or its end, an output
// descriptor (always writable). Subscriptions on descriptors that do not
// exist are ready at once with EBADF, as POSIX poll reports POLLNVAL.
func pollOneoff(s *State, ctx context.Context, m Memory, p []uint64) Errno {
	in, out, count := uint32(p[0]), uint32(p[1]), uint32(p[2])
	if count == 0 {
		return ErrnoInval
	}
	raw := view(m, in, uint64(count)*subscriptionSize)
	events := view(m, out, uint64(count)*eventSize)
	view(m, uint32(p[3]), 4)
	subs := make([]subscription, count)
	for i := range subs {
		subs[i] = s.decodeSubscription(raw[i*subscriptionSize:])
	}
	for {
		n, wait := s.pollReady(subs, events)
		if n > 0 {
			putU32(m, uint32(p[3]), uint32(n))
			return ErrnoSuccess
		}
		s.pollWait(ctx, wait)
	}
}

func (s *State) decodeSubscription(b []byte) subscription {
	sub := subscription{
		userdata: binary.LittleEndian.Uint64(b),
		kind:     b[8],
		fd:       binary.LittleEndian.Uint32(b[16:]),
	}
	if sub.kind != eventtypeClock {
		if sub.kind > eventtypeFdWrite {
			sub.errno = ErrnoInval
		}
		return sub
	}
	id := sub.fd // the clock id shares the union's first word
	timeout := binary.LittleEndian.Uint64(b[24:])
	flags := binary.LittleEndian.Uint16(b[40:])
	now, ok := s.clockNow(id)
	if !ok {
		sub.errno = ErrnoInval
		return sub
	}
	mono := s.monotonic()
	switch {
	case flags&subclockFlagsAbsolute == 0:
		sub.deadline = saturatingAdd(mono, timeout)
	case timeout <= now:
		sub.deadline = mono
	default:
		sub.deadline = saturatingAdd(mono, timeout-now)
	}
	return sub
}

func saturatingAdd(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}

// pollWaitFor is what pollReady found worth waiting for when nothing was
// ready.
type pollWaitFor struct {
	deadline uint64 // earliest clock deadline; 0 if none
	stdin    bool
}

// pollReady writes an event for each ready subscription and returns their
// count, or what to wait for when none is ready.
func (s *State) pollReady(subs []subscription, events []byte) (int, pollWaitFor) {
	var wait pollWaitFor
	now := s.monotonic()
	n := 0
	for _, sub := range subs {
		ev := events[n*eventSize : (n+1)*eventSize]
		var nbytes uint64
		var flags uint16
		errno := sub.errno
		ready := errno != ErrnoSuccess
		switch {
		case ready:
		case sub.kind == eventtypeClock:
			ready = sub.deadline <= now
			if !ready && (wait.deadline == 0 || sub.deadline < wait.deadline) {
				wait.deadline = sub.deadline
			}
		case !s.pollable(sub):
			errno, ready = ErrnoBadf, true
		case sub.kind == eventtypeFdWrite:
			ready = true
		default: // reading standard input
			ready = s.stdin.poll()
			wait.stdin = !ready
			nbytes = uint64(s.stdin.pending())
			if ready && nbytes == 0 {
				flags = eventrwflagHangup
			}
		}
		if !ready {
			continue
		}
		clear(ev)
		binary.LittleEndian.PutUint64(ev, sub.userdata)
		binary.LittleEndian.PutUint16(ev[8:], uint16(errno))
		ev[10] = sub.kind
		binary.LittleEndian.PutUint64(ev[16:], nbytes)
		binary.LittleEndian.PutUint16(ev[24:], flags)
		n++
	}
	return n, wait
}

// pollable reports whether the descriptor of an fd subscription is open
// and can do what the subscription waits for.
func (s *State) pollable(sub subscription) bool {
	if _, ok := s.stdio(uint64(sub.fd)); !ok {
		return false
	}
	return (sub.fd == fdStdin) == (sub.kind == eventtypeFdRead)
}

// pollWait blocks until the earliest deadline passes, standard input
// becomes ready, or ctx is done.
func (s *State) pollWait(ctx context.Context, wait pollWaitFor) {
	var timer <-chan time.Time
	if wait.deadline != 0 {
		var d time.Duration
		if now := s.monotonic(); wait.deadline > now {
			d = time.Duration(min(wait.deadline-now, 1<<63-1))
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	var stdin <-chan struct{}
	if wait.stdin {
		stdin = s.stdin.arrived
	}
	select {
	case <-timer:
	case <-stdin:
	case <-ctx.Done():
		interrupt(ctx, "poll_oneoff")
	case <-s.suspend:
		panic(suspended{})
	}
}
