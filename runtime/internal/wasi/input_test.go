package wasi

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond until it holds, failing the test after a while.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// reading reports whether s's pump is inside a Read of its reader.
func reading(s *State) bool {
	s.stdin.mu.Lock()
	defer s.stdin.mu.Unlock()
	return s.stdin.inflight != nil
}

// waitReading waits until s's pump is inside a Read of its reader.
func waitReading(t testing.TB, s *State) {
	t.Helper()
	waitFor(t, "the pump is inside a Read", func() bool { return reading(s) })
}

// readAll reads s's standard input through fd_read to its end.
func readAll(t testing.TB, s *State) string {
	t.Helper()
	m := newMemory()
	var got []byte
	for {
		out, errno := readStdin(t, t.Context(), s, m)
		if errno != ErrnoSuccess {
			t.Fatalf("fd_read = %v after %q", errno, got)
		}
		if out == "" {
			return string(got)
		}
		got = append(got, out...)
	}
}

// TestSnapshotInterruptsPipeRead suspends a state whose pump is blocked
// reading an empty pipe, an *os.File that takes deadlines: the snapshot
// stops the read, so that bytes written afterwards are read by the
// instance resumed with the same file, not by the snapshotted state.
func TestSnapshotInterruptsPipeRead(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	s := newState(t, Config{Stdin: r})
	if _, err := w.Write([]byte("first ")); err != nil {
		t.Fatal(err)
	}
	s.stdin.ready() // starts the pump
	waitFor(t, "the host has read the first write", func() bool { return s.stdin.pending() == len("first ") })
	waitReading(t, s)
	start := time.Now()
	snap := s.Snapshot()
	if elapsed := time.Since(start); elapsed >= interruptWait {
		t.Errorf("Snapshot took %v: the pipe's Read was not interrupted", elapsed)
	} else {
		t.Logf("Snapshot interrupted the pipe's Read in %v", elapsed)
	}
	if reading(s) {
		t.Error("after Snapshot, the pump's Read is still under way")
	}
	if string(snap.Stdin) != "first " || snap.StdinState != stdinOpen {
		t.Errorf("snapshot holds %q, state %d; want %q, open", snap.Stdin, snap.StdinState, "first ")
	}
	if _, err := w.Write([]byte("second")); err != nil {
		t.Fatal(err)
	}
	w.Close()
	restored, err := Restore(Config{Stdin: r}, snap)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	if got := readAll(t, restored); got != "first second" {
		t.Errorf("resumed with the same pipe, the program reads %q, want %q", got, "first second")
	}
}

// gatedReader returns the chunks sent on ch, one a Read, blocking until
// one is sent; a closed ch is the end. It does not take deadlines, as a
// blocking *os.File or an io.Pipe.
type gatedReader struct {
	ch      chan string
	entered chan struct{} // a token each time a Read starts
}

func newGatedReader() *gatedReader {
	return &gatedReader{ch: make(chan string), entered: make(chan struct{}, 100)}
}

func (r *gatedReader) Read(p []byte) (int, error) {
	r.entered <- struct{}{}
	chunk, ok := <-r.ch
	if !ok {
		return 0, io.EOF
	}
	if len(chunk) > len(p) {
		panic("gatedReader: chunk larger than the buffer")
	}
	return copy(p, chunk), nil
}

// serve answers the next Reads with chunks, one each, and then with the
// end, from a goroutine of its own.
func (r *gatedReader) serve(chunks ...string) {
	go func() {
		for _, chunk := range chunks {
			<-r.entered
			r.ch <- chunk
		}
		<-r.entered
		close(r.ch)
	}()
}

// restoreVia encodes and decodes snap and resumes it reading stdin.
func restoreVia(t testing.TB, snap Snapshot, stdin io.Reader) *State {
	t.Helper()
	decoded, err := ParseSnapshot(snap.AppendBinary(nil))
	if err != nil {
		t.Fatalf("ParseSnapshot: %v", err)
	}
	s, err := Restore(Config{Stdin: stdin}, decoded)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestSnapshotHandsOffReadInFlight suspends a state whose pump is blocked
// in a Read that cannot be interrupted: Snapshot does not wait for it,
// and the bytes that Read returns afterwards come first from
// RemainingStdin, before the rest of the reader, which the snapshotted
// state no longer reads.
func TestSnapshotHandsOffReadInFlight(t *testing.T) {
	src := newGatedReader()
	s := newState(t, Config{Stdin: src})
	s.stdin.ready()
	<-src.entered
	src.ch <- "pending "
	<-src.entered // the pump is in its second Read
	waitFor(t, "the first chunk is pending", func() bool { return s.stdin.pending() == len("pending ") })

	snap := s.Snapshot()
	if string(snap.Stdin) != "pending " {
		t.Fatalf("snapshot holds %q, want %q", snap.Stdin, "pending ")
	}
	if again := s.Snapshot(); !bytes.Equal(again.Stdin, snap.Stdin) {
		t.Errorf("a second Snapshot holds %q, the first %q", again.Stdin, snap.Stdin)
	}
	src.ch <- "in flight " // returned by the Read under way at the snapshot
	restored := restoreVia(t, snap, s.RemainingStdin())
	// Had the snapshotted state read again, it would have had "after".
	src.serve("after")
	if got, want := readAll(t, restored), "pending in flight after"; got != want {
		t.Errorf("resumed, the program reads %q, want %q", got, want)
	}
	select {
	case <-src.entered:
		t.Error("a Read of the host's input after its end")
	default:
	}
}

// hookReader returns chunks in turn, then the end, and calls during(i)
// inside Read i after the bytes have been copied into the caller's
// buffer: the host has taken them, the caller has not stored them yet.
type hookReader struct {
	chunks []string
	i      int
	during func(i int)
}

func (r *hookReader) Read(p []byte) (int, error) {
	if r.i == len(r.chunks) {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[r.i])
	if r.during != nil {
		r.during(r.i)
	}
	r.i++
	return n, nil
}

// deadlineIgnorer takes read deadlines and ignores them, so that
// Snapshot's wait for an interrupted Read runs out.
type deadlineIgnorer struct{ *hookReader }

func (deadlineIgnorer) SetReadDeadline(time.Time) error { return nil }

// TestSnapshotDuringRead takes the snapshot inside a Read that has
// copied bytes it has yet to return: they are not in the snapshot, and
// are not lost either.
func TestSnapshotDuringRead(t *testing.T) {
	for _, ignoresDeadline := range []bool{false, true} {
		name := "no deadline"
		if ignoresDeadline {
			name = "deadline ignored"
		}
		t.Run(name, func(t *testing.T) {
			var s *State
			var snap Snapshot
			taken, firstRead := make(chan struct{}), make(chan struct{})
			hr := &hookReader{chunks: []string{"one ", "two ", "three"}}
			hr.during = func(i int) {
				if i == 1 {
					<-firstRead
					snap = s.Snapshot()
					close(taken)
				}
			}
			var src io.Reader = hr
			if ignoresDeadline {
				src = deadlineIgnorer{hr}
			}
			s = newState(t, Config{Stdin: src})
			m := newMemory()
			if got, errno := readStdin(t, t.Context(), s, m); errno != ErrnoSuccess || got != "one " {
				t.Fatalf("first fd_read = %v, %q; want success, %q", errno, got, "one ")
			}
			start := time.Now()
			close(firstRead)
			<-taken
			if elapsed := time.Since(start); elapsed > 10*interruptWait {
				t.Errorf("Snapshot took %v", elapsed)
			}
			if len(snap.Stdin) != 0 || snap.StdinState != stdinOpen {
				t.Errorf("snapshot holds %q, state %d; want nothing, open", snap.Stdin, snap.StdinState)
			}
			restored := restoreVia(t, snap, s.RemainingStdin())
			if got, want := readAll(t, restored), "two three"; got != want {
				t.Errorf("resumed, the program reads %q, want %q", got, want)
			}
		})
	}
}

// seqReader is an endless stream whose byte i is seqByte(i). Each Read
// returns a random count and lingers after copying, so that snapshots
// often fall while a Read is under way or has just returned.
type seqReader struct {
	mu  sync.Mutex
	n   int
	rnd *rand.Rand
}

func seqByte(i int) byte { return byte(i ^ i>>8 ^ i>>16) }

func (r *seqReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	k := 1 + r.rnd.IntN(min(len(p), 512))
	for j := range k {
		p[j] = seqByte(r.n + j)
	}
	r.n += k
	linger := time.Duration(r.rnd.IntN(50)) * time.Microsecond
	r.mu.Unlock()
	time.Sleep(linger)
	return k, nil
}

// TestSnapshotKeepsEveryByte suspends, at random moments, states that
// read an endless stream, resumes each in the same process from
// RemainingStdin, and checks that the program reads the stream without
// a byte lost, repeated or out of order.
func TestSnapshotKeepsEveryByte(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 3))
	iterations := 200
	if testing.Short() {
		iterations = 20
	}
	for iter := range iterations {
		src := &seqReader{rnd: rand.New(rand.NewPCG(uint64(iter), 7))}
		s := New(Config{Stdin: src})
		m := newMemory()
		var got []byte
		for range rnd.IntN(4) {
			out, errno := readStdin(t, t.Context(), s, m)
			if errno != ErrnoSuccess {
				t.Fatalf("iteration %d: fd_read = %v", iter, errno)
			}
			got = append(got, out...)
		}
		s.stdin.ready()
		time.Sleep(time.Duration(rnd.IntN(300)) * time.Microsecond)
		snap := s.Snapshot()
		restored := restoreVia(t, snap, s.RemainingStdin())
		s.Close()
		want := len(got) + len(snap.Stdin) + 2000
		for len(got) < want {
			out, errno := readStdin(t, t.Context(), restored, m)
			if errno != ErrnoSuccess {
				t.Fatalf("iteration %d: resumed fd_read = %v", iter, errno)
			}
			got = append(got, out...)
		}
		for i, b := range got {
			if b != seqByte(i) {
				t.Fatalf("iteration %d: byte %d of the input is %#x, want %#x (%d read before the snapshot, %d pending in it)",
					iter, i, b, seqByte(i), len(got)-len(snap.Stdin)-2000, len(snap.Stdin))
			}
		}
	}
}

// TestSnapshotChain suspends an instance, resumes it from the remainder,
// and suspends it again while its pump waits on the first one's Read:
// the input survives both hand-overs, whether the reader can be
// interrupted (a pipe) or not.
func TestSnapshotChain(t *testing.T) {
	t.Run("pipe", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		s1 := newState(t, Config{Stdin: r})
		w.Write([]byte("a "))
		s1.stdin.ready()
		waitFor(t, "the host has read the first write", func() bool { return s1.stdin.pending() == 2 })
		waitReading(t, s1)
		s2 := restoreVia(t, s1.Snapshot(), s1.RemainingStdin())
		if got, errno := readStdin(t, t.Context(), s2, newMemory()); errno != ErrnoSuccess || got != "a " {
			t.Fatalf("resumed once, fd_read = %v, %q; want success, %q", errno, got, "a ")
		}
		s2.stdin.ready()
		waitReading(t, s2) // the pipe, through the remainder
		start := time.Now()
		snap2 := s2.Snapshot()
		if elapsed := time.Since(start); elapsed >= interruptWait {
			t.Errorf("second Snapshot took %v: the Read through the remainder was not interrupted", elapsed)
		}
		if len(snap2.Stdin) != 0 {
			t.Errorf("second snapshot holds %q, want nothing", snap2.Stdin)
		}
		if reading(s2) {
			t.Error("after the second Snapshot, a Read through the remainder is still under way")
		}
		s3 := restoreVia(t, snap2, s2.RemainingStdin())
		w.Write([]byte("b"))
		w.Close()
		if got, want := readAll(t, s3), "b"; got != want {
			t.Errorf("after two suspensions the program reads %q, want %q", got, want)
		}
	})
	t.Run("not interruptible", func(t *testing.T) {
		src := newGatedReader()
		s1 := newState(t, Config{Stdin: src})
		s1.stdin.ready()
		<-src.entered
		src.ch <- "a "
		<-src.entered
		waitFor(t, "the first chunk is pending", func() bool { return s1.stdin.pending() == 2 })
		s2 := restoreVia(t, s1.Snapshot(), s1.RemainingStdin())
		mustCall(t, s2, newMemory(), ErrnoSuccess, "fd_fdstat_set_flags", 0, fdflagNonblock)
		if got, errno := readStdin(t, t.Context(), s2, newMemory()); errno != ErrnoSuccess || got != "a " {
			t.Fatalf("resumed once, fd_read = %v, %q; want success, %q", errno, got, "a ")
		}
		if _, errno := readStdin(t, t.Context(), s2, newMemory()); errno != ErrnoAgain {
			t.Fatalf("resumed once, fd_read with nothing pending = %v, want EAGAIN", errno)
		}
		mustCall(t, s2, newMemory(), ErrnoSuccess, "fd_fdstat_set_flags", 0, 0)
		waitReading(t, s2) // in the remainder, which waits for s1's Read
		snap2 := s2.Snapshot()
		if len(snap2.Stdin) != 0 {
			t.Errorf("second snapshot holds %q, want nothing", snap2.Stdin)
		}
		s3 := restoreVia(t, snap2, s2.RemainingStdin())
		src.ch <- "b " // s1's Read returns at last
		src.serve("c")
		if got, want := readAll(t, s3), "b c"; got != want {
			t.Errorf("after two suspensions the program reads %q, want %q", got, want)
		}
	})
}

// TestRemainingStdinAtEnd: once the host's stream has ended or failed
// before the snapshot, the remainder says so again and reads nothing.
func TestRemainingStdinAtEnd(t *testing.T) {
	failure := errors.New("disk on fire")
	for _, c := range []struct {
		name  string
		src   io.Reader
		want  error
		state byte
	}{
		{"ended", strings.NewReader("x"), io.EOF, stdinEnded},
		{"failed", &dataErrReader{data: "x", err: failure}, failure, stdinFailed},
		{"none", nil, io.EOF, stdinEnded},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newState(t, Config{Stdin: c.src})
			waitFor(t, "the stream has ended", func() bool {
				s.stdin.ready()
				s.stdin.mu.Lock()
				defer s.stdin.mu.Unlock()
				return s.stdin.err != nil
			})
			if snap := s.Snapshot(); snap.StdinState != c.state {
				t.Errorf("snapshot's input state %d, want %d", snap.StdinState, c.state)
			}
			n, err := s.RemainingStdin().Read(make([]byte, 10))
			if n != 0 || !errors.Is(err, c.want) {
				t.Errorf("remainder Read = %d, %v; want 0, %v", n, err, c.want)
			}
		})
	}
}

// overReader claims to have read more than it was given room for.
type overReader struct{}

func (overReader) Read(p []byte) (int, error) { return len(p) + 1, nil }

// TestBadReader: a host reader that breaks the io.Reader contract is a
// failed input (EIO), not a panic.
func TestBadReader(t *testing.T) {
	s := newState(t, Config{Stdin: overReader{}})
	if _, errno := readStdin(t, t.Context(), s, newMemory()); errno != ErrnoIO {
		t.Errorf("fd_read of a reader that returns too many bytes = %v, want EIO", errno)
	}
}
