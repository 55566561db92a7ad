package wasi

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// sub is a poll_oneoff subscription as a program lays it out.
type sub struct {
	userdata uint64
	kind     byte   // eventtype
	fd       uint32 // the descriptor, or for a clock its id
	// Clock subscriptions only:
	timeout, precision uint64
	flags              uint16
}

func clockSub(userdata uint64, id uint32, timeout uint64, flags uint16) sub {
	return sub{userdata: userdata, kind: eventtypeClock, fd: id, timeout: timeout, flags: flags}
}

func readSub(userdata uint64, fd uint32) sub {
	return sub{userdata: userdata, kind: eventtypeFdRead, fd: fd}
}

func writeSub(userdata uint64, fd uint32) sub {
	return sub{userdata: userdata, kind: eventtypeFdWrite, fd: fd}
}

// putSubscriptions writes subscriptions at off, 48 bytes each: userdata
// at 0, the tag at 8 and the union from 16 (clock: id at 16, timeout at
// 24, precision at 32, flags at 40; fd_read, fd_write: the fd at 16).
// Padding is filled with garbage, which must be ignored.
func putSubscriptions(m testMemory, off uint32, subs ...sub) {
	for i, s := range subs {
		b := m[off+uint32(i)*48 : off+uint32(i+1)*48]
		for j := range b {
			b[j] = 0xee
		}
		binary.LittleEndian.PutUint64(b, s.userdata)
		b[8] = s.kind
		binary.LittleEndian.PutUint32(b[16:], s.fd)
		if s.kind == eventtypeClock {
			binary.LittleEndian.PutUint64(b[24:], s.timeout)
			binary.LittleEndian.PutUint64(b[32:], s.precision)
			binary.LittleEndian.PutUint16(b[40:], s.flags)
		}
	}
}

// event is a poll_oneoff event.
type event struct {
	userdata uint64
	errno    Errno
	kind     byte
	nbytes   uint64 // fd_read, fd_write
	flags    uint16 // fd_read, fd_write: hangup
}

// bytes is the event as poll_oneoff lays it out, padding zero.
func (e event) bytes() []byte {
	b := make([]byte, 32)
	binary.LittleEndian.PutUint64(b, e.userdata)
	binary.LittleEndian.PutUint16(b[8:], uint16(e.errno))
	b[10] = e.kind
	binary.LittleEndian.PutUint64(b[16:], e.nbytes)
	binary.LittleEndian.PutUint16(b[24:], e.flags)
	return b
}

func (e event) String() string {
	return fmt.Sprintf("{userdata %d, %v, type %d, nbytes %d, flags %d}", e.userdata, e.errno, e.kind, e.nbytes, e.flags)
}

func decodeEvent(b []byte) event {
	return event{
		userdata: binary.LittleEndian.Uint64(b),
		errno:    Errno(binary.LittleEndian.Uint16(b[8:])),
		kind:     b[10],
		nbytes:   binary.LittleEndian.Uint64(b[16:]),
		flags:    binary.LittleEndian.Uint16(b[24:]),
	}
}

// Where the poll tests keep things in memory.
const (
	subsAt    = 0x1000
	eventsAt  = 0x4000
	neventsAt = 0x80
)

// poll calls poll_oneoff with subs and returns its errno, the events it
// wrote and how long it took. The events area is filled with 0xaa first
// and poll checks that nothing past the events was written.
func poll(t testing.TB, ctx context.Context, s *State, subs ...sub) (Errno, []event, time.Duration) {
	t.Helper()
	m := newMemory()
	for i := range m {
		m[i] = 0xaa
	}
	putSubscriptions(m, subsAt, subs...)
	before := m.clone()
	params := []uint64{subsAt, eventsAt, uint64(len(subs)), neventsAt}
	start := time.Now()
	errno := callCtx(t, ctx, s, m, "poll_oneoff", params...)
	elapsed := time.Since(start)
	if errno != ErrnoSuccess {
		if !bytes.Equal(m, before) {
			t.Errorf("%s = %v but wrote to memory: %s", callString("poll_oneoff", params), errno, firstDiff(m, before))
		}
		return errno, nil, elapsed
	}
	n := m.u32(neventsAt)
	if n == 0 || n > uint32(len(subs)) {
		t.Fatalf("%s: nevents = %d with %d subscriptions", callString("poll_oneoff", params), n, len(subs))
	}
	events := make([]event, n)
	for i := range events {
		b := m[eventsAt+uint32(i)*32 : eventsAt+uint32(i+1)*32]
		events[i] = decodeEvent(b)
		if !bytes.Equal(b, events[i].bytes()) {
			t.Errorf("%s: event %d = %x: padding not zero", callString("poll_oneoff", params), i, b)
		}
		copy(before[eventsAt+uint32(i)*32:], b)
	}
	before.putU32(neventsAt, n)
	if !bytes.Equal(m, before) {
		t.Errorf("%s wrote outside its %d events and nevents: %s", callString("poll_oneoff", params), n, firstDiff(m, before))
	}
	return errno, events, elapsed
}

// later calls f in a goroutine after d and returns a time before the
// wait began: what waits for f returns at least d after it.
func later(d time.Duration, f func()) time.Time {
	start := time.Now()
	go func() {
		time.Sleep(d)
		f()
	}()
	return start
}

func checkEvents(t testing.TB, what string, got, want []event) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: events %v, want %v", what, got, want)
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s: events %v, want %v", what, got, want)
			return
		}
	}
}

// TestPollImmediate polls subscriptions of which some are ready at once:
// poll_oneoff returns at once with an event for each of those, in the
// order of the subscriptions.
func TestPollImmediate(t *testing.T) {
	const hour = uint64(time.Hour)
	hangup := uint16(eventrwflagHangup)
	tests := []struct {
		name string
		subs []sub
		want []event
	}{
		{"relative zero", []sub{clockSub(1, clockMonotonic, 0, 0)},
			[]event{{userdata: 1, kind: eventtypeClock}}},
		{"every clock, zero", []sub{
			clockSub(1, clockRealtime, 0, 0), clockSub(2, clockMonotonic, 0, 0),
			clockSub(3, clockProcessCPUTime, 0, 0), clockSub(4, clockThreadCPUTime, 0, 0),
		}, []event{
			{userdata: 1, kind: eventtypeClock}, {userdata: 2, kind: eventtypeClock},
			{userdata: 3, kind: eventtypeClock}, {userdata: 4, kind: eventtypeClock},
		}},
		{"absolute, past", []sub{clockSub(5, clockMonotonic, 1, subclockFlagsAbsolute)},
			[]event{{userdata: 5, kind: eventtypeClock}}},
		{"absolute zero", []sub{clockSub(5, clockRealtime, 0, subclockFlagsAbsolute)},
			[]event{{userdata: 5, kind: eventtypeClock}}},
		{"absolute realtime, past", []sub{clockSub(5, clockRealtime, uint64(fixedTime.UnixNano()), subclockFlagsAbsolute)},
			[]event{{userdata: 5, kind: eventtypeClock}}},
		{"stdout", []sub{writeSub(6, 1)},
			[]event{{userdata: 6, kind: eventtypeFdWrite}}},
		{"stdout and stderr", []sub{writeSub(6, 1), writeSub(7, 2)},
			[]event{{userdata: 6, kind: eventtypeFdWrite}, {userdata: 7, kind: eventtypeFdWrite}}},
		{"stdout and a later clock", []sub{clockSub(1, clockMonotonic, hour, 0), writeSub(6, 1)},
			[]event{{userdata: 6, kind: eventtypeFdWrite}}},
		{"stdin at its end", []sub{readSub(8, 0)},
			[]event{{userdata: 8, kind: eventtypeFdRead, flags: hangup}}},
		{"bad fds", []sub{readSub(9, 3), writeSub(10, 3), readSub(11, 0xffffffff), clockSub(1, clockMonotonic, hour, 0)},
			[]event{
				{userdata: 9, errno: ErrnoBadf, kind: eventtypeFdRead},
				{userdata: 10, errno: ErrnoBadf, kind: eventtypeFdWrite},
				{userdata: 11, errno: ErrnoBadf, kind: eventtypeFdRead},
			}},
		{"wrong direction", []sub{readSub(12, 1), readSub(13, 2), writeSub(14, 0)},
			[]event{
				{userdata: 12, errno: ErrnoBadf, kind: eventtypeFdRead},
				{userdata: 13, errno: ErrnoBadf, kind: eventtypeFdRead},
				{userdata: 14, errno: ErrnoBadf, kind: eventtypeFdWrite},
			}},
		{"bad clock", []sub{clockSub(15, 4, 0, 0), clockSub(16, 0xffffffff, hour, subclockFlagsAbsolute)},
			[]event{
				{userdata: 15, errno: ErrnoInval, kind: eventtypeClock},
				{userdata: 16, errno: ErrnoInval, kind: eventtypeClock},
			}},
		{"bad event type", []sub{{userdata: 17, kind: 3}, {userdata: 18, kind: 0xff, fd: 1}},
			[]event{
				{userdata: 17, errno: ErrnoInval, kind: 3},
				{userdata: 18, errno: ErrnoInval, kind: 0xff},
			}},
		{"mixed", []sub{
			clockSub(1, clockMonotonic, hour, 0), writeSub(2, 2), readSub(3, 5),
			clockSub(4, clockRealtime, 0, 0), readSub(5, 0),
		}, []event{
			{userdata: 2, kind: eventtypeFdWrite},
			{userdata: 3, errno: ErrnoBadf, kind: eventtypeFdRead},
			{userdata: 4, kind: eventtypeClock},
			{userdata: 5, kind: eventtypeFdRead, flags: hangup},
		}},
		{"same userdata", []sub{writeSub(0xffffffff_ffffffff, 1), writeSub(0xffffffff_ffffffff, 1)},
			[]event{
				{userdata: 0xffffffff_ffffffff, kind: eventtypeFdWrite},
				{userdata: 0xffffffff_ffffffff, kind: eventtypeFdWrite},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newState(t, Config{Now: func() time.Time { return fixedTime }})
			errno, events, elapsed := poll(t, context.Background(), s, tt.subs...)
			if errno != ErrnoSuccess {
				t.Fatalf("poll_oneoff = %v, want success", errno)
			}
			checkEvents(t, "poll_oneoff", events, tt.want)
			if elapsed > 5*time.Second {
				t.Errorf("poll_oneoff took %v, want no wait", elapsed)
			}
		})
	}
}

// TestPollClosed polls descriptors that the program closed.
func TestPollClosed(t *testing.T) {
	s := newState(t, Config{Stdin: strings.NewReader("input")})
	for fd := range uint64(3) {
		mustCall(t, s, newMemory(), ErrnoSuccess, "fd_close", fd)
	}
	_, events, _ := poll(t, context.Background(), s, readSub(1, 0), writeSub(2, 1), writeSub(3, 2))
	checkEvents(t, "poll_oneoff on closed descriptors", events, []event{
		{userdata: 1, errno: ErrnoBadf, kind: eventtypeFdRead},
		{userdata: 2, errno: ErrnoBadf, kind: eventtypeFdWrite},
		{userdata: 3, errno: ErrnoBadf, kind: eventtypeFdWrite},
	})
}

func TestPollRelativeClock(t *testing.T) {
	const d = 30 * time.Millisecond
	for _, id := range []uint32{clockRealtime, clockMonotonic, clockProcessCPUTime, clockThreadCPUTime} {
		s := newState(t, Config{})
		errno, events, elapsed := poll(t, context.Background(), s,
			clockSub(1<<40|uint64(id), id, uint64(d), 0), clockSub(2, clockMonotonic, uint64(time.Hour), 0))
		if errno != ErrnoSuccess {
			t.Fatalf("poll_oneoff(clock %d, %v) = %v, want success", id, d, errno)
		}
		checkEvents(t, fmt.Sprintf("poll_oneoff(clock %d, %v)", id, d), events, []event{{userdata: 1<<40 | uint64(id), kind: eventtypeClock}})
		if elapsed < d || elapsed > d+5*time.Second {
			t.Errorf("poll_oneoff(clock %d, %v) returned after %v", id, d, elapsed)
		}
	}
}

// TestPollEarliestClock has two clocks: the earlier one fires, alone.
func TestPollEarliestClock(t *testing.T) {
	s := newState(t, Config{})
	_, events, elapsed := poll(t, context.Background(), s,
		clockSub(1, clockMonotonic, uint64(5*time.Second), 0),
		clockSub(2, clockMonotonic, uint64(20*time.Millisecond), 0),
		clockSub(3, clockMonotonic, uint64(time.Hour), 0))
	checkEvents(t, "poll_oneoff(5s, 20ms, 1h)", events, []event{{userdata: 2, kind: eventtypeClock}})
	if elapsed < 20*time.Millisecond || elapsed >= 5*time.Second {
		t.Errorf("poll_oneoff(5s, 20ms, 1h) returned after %v, want between 20ms and 5s", elapsed)
	}
}

func TestPollAbsoluteClock(t *testing.T) {
	const d = 30 * time.Millisecond
	t.Run("monotonic", func(t *testing.T) {
		for _, id := range []uint32{clockMonotonic, clockProcessCPUTime, clockThreadCPUTime} {
			s := newState(t, Config{})
			m := newMemory()
			start := time.Now()
			mustCall(t, s, m, ErrnoSuccess, "clock_time_get", uint64(id), 0, 0x100)
			deadline := m.u64(0x100) + uint64(d)
			_, events, _ := poll(t, context.Background(), s, clockSub(7, id, deadline, subclockFlagsAbsolute))
			elapsed := time.Since(start)
			checkEvents(t, "poll_oneoff(absolute)", events, []event{{userdata: 7, kind: eventtypeClock}})
			if elapsed < d || elapsed > d+5*time.Second {
				t.Errorf("poll_oneoff(clock %d, absolute now+%v) returned %v after reading the clock", id, d, elapsed)
			}
			mustCall(t, s, m, ErrnoSuccess, "clock_time_get", uint64(id), 0, 0x100)
			if now := m.u64(0x100); now < deadline {
				t.Errorf("clock %d reads %d after poll_oneoff returned for absolute %d", id, now, deadline)
			}
		}
	})
	t.Run("realtime", func(t *testing.T) {
		// The wall clock stands still: an absolute realtime deadline
		// is reached after as long on the monotonic clock as it was
		// ahead when poll_oneoff was called.
		s := newState(t, Config{Now: func() time.Time { return fixedTime }})
		_, events, elapsed := poll(t, context.Background(), s,
			clockSub(8, clockRealtime, uint64(fixedTime.Add(d).UnixNano()), subclockFlagsAbsolute))
		checkEvents(t, "poll_oneoff(absolute realtime)", events, []event{{userdata: 8, kind: eventtypeClock}})
		if elapsed < d || elapsed > d+5*time.Second {
			t.Errorf("poll_oneoff(realtime, absolute now+%v) returned after %v", d, elapsed)
		}
	})
	t.Run("flags", func(t *testing.T) {
		// Only bit 0 of the flags means absolute; the others are
		// ignored.
		s := newState(t, Config{})
		_, events, elapsed := poll(t, context.Background(), s,
			clockSub(9, clockMonotonic, uint64(d), 0xfffe))
		checkEvents(t, "poll_oneoff(relative, flags 0xfffe)", events, []event{{userdata: 9, kind: eventtypeClock}})
		if elapsed < d {
			t.Errorf("poll_oneoff(relative %v, flags 0xfffe) returned after %v", d, elapsed)
		}
		_, events, elapsed = poll(t, context.Background(), s,
			clockSub(10, clockMonotonic, uint64(time.Second), 0xffff))
		checkEvents(t, "poll_oneoff(absolute 1s, flags 0xffff)", events, []event{{userdata: 10, kind: eventtypeClock}})
		if elapsed > 5*time.Second {
			t.Errorf("poll_oneoff(absolute 1s, flags 0xffff), a time past, returned after %v", elapsed)
		}
	})
}

// TestPollStdin waits for standard input to become ready.
func TestPollStdin(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	s := newState(t, Config{Stdin: r})
	const delay = 30 * time.Millisecond
	start := later(delay, func() { w.Write([]byte("hello")) })
	subs := []sub{readSub(1, 0), clockSub(2, clockMonotonic, uint64(10*time.Second), 0)}
	_, events, _ := poll(t, context.Background(), s, subs...)
	elapsed := time.Since(start)
	checkEvents(t, "poll_oneoff(stdin, 10s)", events, []event{{userdata: 1, kind: eventtypeFdRead, nbytes: 5}})
	if elapsed < delay || elapsed > 5*time.Second {
		t.Errorf("poll_oneoff(stdin, 10s) returned after %v, input came after %v", elapsed, delay)
	}
	// Ready until read, with the bytes pending.
	_, events, _ = poll(t, context.Background(), s, subs...)
	checkEvents(t, "poll_oneoff(stdin, 10s) again", events, []event{{userdata: 1, kind: eventtypeFdRead, nbytes: 5}})
	m := newMemory()
	m.putIovecs(iovsAt, iovec{bufAt, 2})
	mustCall(t, s, m, ErrnoSuccess, "fd_read", 0, iovsAt, 1, resultAt)
	_, events, _ = poll(t, context.Background(), s, subs...)
	checkEvents(t, "poll_oneoff(stdin, 10s) after reading 2 bytes", events, []event{{userdata: 1, kind: eventtypeFdRead, nbytes: 3}})
	if got, _ := readStdin(t, context.Background(), s, m); got != "llo" {
		t.Errorf("fd_read after poll_oneoff = %q, want %q", got, "llo")
	}

	// Not ready: the clock fires.
	_, events, elapsed = poll(t, context.Background(), s, readSub(1, 0), clockSub(2, clockMonotonic, uint64(20*time.Millisecond), 0))
	checkEvents(t, "poll_oneoff(stdin, 20ms) with no input", events, []event{{userdata: 2, kind: eventtypeClock}})
	if elapsed < 20*time.Millisecond {
		t.Errorf("poll_oneoff(stdin, 20ms) with no input returned after %v", elapsed)
	}

	// The same with O_NONBLOCK, which does not change polling.
	mustCall(t, s, m, ErrnoSuccess, "fd_fdstat_set_flags", 0, fdflagNonblock)
	start = later(delay, func() { w.Write([]byte("again")) })
	_, events, _ = poll(t, context.Background(), s, subs...)
	elapsed = time.Since(start)
	checkEvents(t, "nonblocking: poll_oneoff(stdin, 10s)", events, []event{{userdata: 1, kind: eventtypeFdRead, nbytes: 5}})
	if elapsed < delay {
		t.Errorf("nonblocking: poll_oneoff(stdin, 10s) returned after %v, input came after %v", elapsed, delay)
	}
	if got, errno := readStdin(t, context.Background(), s, m); got != "again" || errno != ErrnoSuccess {
		t.Errorf("nonblocking fd_read after poll_oneoff = %v, %q; want success, %q", errno, got, "again")
	}

	// The end of input is a hangup.
	later(delay, func() { w.Close() })
	_, events, _ = poll(t, context.Background(), s, subs...)
	checkEvents(t, "poll_oneoff(stdin, 10s) at the end of input", events, []event{{userdata: 1, kind: eventtypeFdRead, flags: eventrwflagHangup}})
}

// TestPollStdinError polls an input whose reader failed: the
// subscription is ready, as a hangup, and the read answers EIO.
func TestPollStdinError(t *testing.T) {
	s := newState(t, Config{Stdin: errReader{errors.New("boom")}})
	_, events, _ := poll(t, context.Background(), s, readSub(1, 0))
	checkEvents(t, "poll_oneoff(stdin) after a read error", events, []event{{userdata: 1, kind: eventtypeFdRead, flags: eventrwflagHangup}})
	if _, errno := readStdin(t, context.Background(), s, newMemory()); errno != ErrnoIO {
		t.Errorf("fd_read after a read error = %v, want EIO", errno)
	}
}

func TestPollInvalid(t *testing.T) {
	s := newState(t, Config{})
	m := newMemory()
	before := m.clone()
	// No subscription: nothing to wait for.
	mustCall(t, s, m, ErrnoInval, "poll_oneoff", subsAt, eventsAt, 0, neventsAt)
	// Checked before the pointers.
	mustCall(t, s, m, ErrnoInval, "poll_oneoff", 0xffffffff, 0xffffffff, 0, 0xffffffff)
	if !bytes.Equal(m, before) {
		t.Errorf("poll_oneoff with no subscriptions wrote to memory: %s", firstDiff(m, before))
	}
}

// TestPollInterrupted stops a blocked poll_oneoff by its context: it
// panics with *Interrupted, which carries the context's cause.
func TestPollInterrupted(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	for _, tt := range []struct {
		name string
		subs []sub
	}{
		{"clock", []sub{clockSub(1, clockMonotonic, uint64(time.Hour), 0)}},
		{"stdin", []sub{readSub(1, 0)}},
		{"both", []sub{readSub(1, 0), clockSub(1, clockRealtime, uint64(time.Hour), 0)}},
		{"forever", []sub{clockSub(1, clockMonotonic, 0xffffffff_ffffffff, 0)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newState(t, Config{Stdin: r})
			m := newMemory()
			putSubscriptions(m, subsAt, tt.subs...)
			before := m.clone()
			cause := errors.New("instance stopped")
			ctx, cancel := context.WithCancelCause(context.Background())
			start := time.Now()
			time.AfterFunc(20*time.Millisecond, func() { cancel(cause) })
			errno, p := tryCall(t, ctx, s, m, "poll_oneoff", subsAt, eventsAt, uint64(len(tt.subs)), neventsAt)
			elapsed := time.Since(start)
			checkInterrupted(t, "poll_oneoff", errno, p, cause)
			if elapsed < 20*time.Millisecond || elapsed > 5*time.Second {
				t.Errorf("poll_oneoff cancelled after 20ms returned after %v", elapsed)
			}
			if !bytes.Equal(m, before) {
				t.Errorf("interrupted poll_oneoff wrote to memory: %s", firstDiff(m, before))
			}
			// A context already done interrupts at once.
			errno, p = tryCall(t, ctx, s, m, "poll_oneoff", subsAt, eventsAt, uint64(len(tt.subs)), neventsAt)
			checkInterrupted(t, "poll_oneoff", errno, p, cause)
		})
	}

	t.Run("deadline", func(t *testing.T) {
		s := newState(t, Config{})
		cause := errors.New("time limit")
		ctx, cancel := context.WithTimeoutCause(context.Background(), 20*time.Millisecond, cause)
		defer cancel()
		m := newMemory()
		putSubscriptions(m, subsAt, clockSub(1, clockMonotonic, uint64(time.Hour), 0))
		errno, p := tryCall(t, ctx, s, m, "poll_oneoff", subsAt, eventsAt, 1, neventsAt)
		checkInterrupted(t, "poll_oneoff", errno, p, cause)
	})

	t.Run("ready", func(t *testing.T) {
		// What is ready is reported even with the context done.
		s := newState(t, Config{Stdin: r})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, events, _ := poll(t, ctx, s, writeSub(1, 1), clockSub(2, clockMonotonic, uint64(time.Hour), 0))
		checkEvents(t, "poll_oneoff(stdout, 1h) with a cancelled context", events, []event{{userdata: 1, kind: eventtypeFdWrite}})
		_, events, _ = poll(t, ctx, s, clockSub(2, clockMonotonic, 0, 0))
		checkEvents(t, "poll_oneoff(0) with a cancelled context", events, []event{{userdata: 2, kind: eventtypeClock}})
	})
}

// TestPollOverlap lays the events over the subscriptions: every
// subscription is read before any event is written.
func TestPollOverlap(t *testing.T) {
	s := newState(t, Config{})
	m := newMemory()
	putSubscriptions(m, subsAt, writeSub(1, 1), writeSub(2, 2), readSub(3, 7))
	mustCall(t, s, m, ErrnoSuccess, "poll_oneoff", subsAt, subsAt, 3, neventsAt)
	want := []event{
		{userdata: 1, kind: eventtypeFdWrite},
		{userdata: 2, kind: eventtypeFdWrite},
		{userdata: 3, errno: ErrnoBadf, kind: eventtypeFdRead},
	}
	if n := m.u32(neventsAt); n != 3 {
		t.Fatalf("nevents = %d, want 3", n)
	}
	for i, w := range want {
		if got := decodeEvent(m[subsAt+uint32(i)*32:]); got != w {
			t.Errorf("event %d = %v, want %v", i, got, w)
		}
	}
}
