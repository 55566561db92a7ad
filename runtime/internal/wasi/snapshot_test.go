package wasi

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestSuspendBlockingCalls requests a suspension while each blocking call
// waits: it answers Suspended at once and has no effect.
func TestSuspendBlockingCalls(t *testing.T) {
	hour := uint64(time.Hour)
	cases := []struct {
		name   string
		params []uint64
		setup  func(m testMemory)
	}{
		{"fd_read", []uint64{0, iovsAt, 1, resultAt}, func(m testMemory) { m.putIovecs(iovsAt, iovec{bufAt, 10}) }},
		{"poll_oneoff", []uint64{subsAt, eventsAt, 2, neventsAt}, func(m testMemory) {
			putSubscriptions(m, subsAt, clockSub(1, clockMonotonic, hour, 0), readSub(2, 0))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, w := io.Pipe()
			defer w.Close()
			s := newState(t, Config{Stdin: r})
			m := newMemory()
			c.setup(m)
			before := m.clone()
			time.AfterFunc(50*time.Millisecond, s.RequestSuspend)
			start := time.Now()
			if errno := call(t, s, m, c.name, c.params...); errno != Suspended {
				t.Fatalf("%s with a suspension requested = %v, want Suspended", callString(c.name, c.params), errno)
			}
			if elapsed := time.Since(start); elapsed > time.Minute {
				t.Errorf("suspending took %v", elapsed)
			}
			if !bytes.Equal(m, before) {
				t.Errorf("%s wrote to memory while suspending: %s", c.name, firstDiff(m, before))
			}
		})
	}
	t.Run("sched_yield", func(t *testing.T) {
		s := newState(t, Config{})
		m := newMemory()
		mustCall(t, s, m, ErrnoSuccess, "sched_yield")
		s.RequestSuspend()
		s.RequestSuspend() // more than once is fine
		mustCall(t, s, m, Suspended, "sched_yield")
	})
	t.Run("input ready", func(t *testing.T) {
		// A read that need not wait reads, suspension or not: the
		// program suspends at its next suspension point instead.
		s := newState(t, Config{Stdin: strings.NewReader("abc")})
		s.RequestSuspend()
		m := newMemory()
		m.putIovecs(iovsAt, iovec{bufAt, 10})
		for !s.stdin.ready() {
			time.Sleep(time.Millisecond)
		}
		mustCall(t, s, m, ErrnoSuccess, "fd_read", 0, iovsAt, 1, resultAt)
		if got := m.str(bufAt, m.u32(resultAt)); got != "abc" {
			t.Errorf("read %q, want %q", got, "abc")
		}
	})
}

// TestSnapshotRoundTrip suspends a state that has read part of its input,
// encodes and decodes it, and resumes it with a new input: the program
// sees its arguments, flags, clock and every pending byte, in order.
func TestSnapshotRoundTrip(t *testing.T) {
	r, w := io.Pipe()
	s := newState(t, Config{Args: []string{"prog", "a b", ""}, Env: []string{"K=V"}, Stdin: r})
	m := newMemory()
	go w.Write([]byte("hello world"))
	m.putIovecs(iovsAt, iovec{bufAt, 5})
	mustCall(t, s, m, ErrnoSuccess, "fd_read", 0, iovsAt, 1, resultAt)
	first := m.str(bufAt, m.u32(resultAt))
	mustCall(t, s, m, ErrnoSuccess, "fd_fdstat_set_flags", 1, fdflagAppend)
	mustCall(t, s, m, ErrnoSuccess, "fd_close", 2)
	// Wait until the host has taken the rest of the write from the pipe.
	for s.stdin.pending() < len("hello world")-len(first) {
		time.Sleep(time.Millisecond)
	}

	// The pipe stays open until the snapshot: closed before, its end
	// could reach the state first, and the snapshot would say so.
	snap := s.Snapshot()
	w.Close()
	encoded := snap.AppendBinary(nil)
	decoded, err := ParseSnapshot(encoded)
	if err != nil {
		t.Fatalf("ParseSnapshot: %v", err)
	}
	if !reflect.DeepEqual(decoded, snap) {
		t.Fatalf("decoded %+v, want %+v", decoded, snap)
	}
	restored, err := Restore(Config{Args: []string{"ignored"}, Stdin: strings.NewReader("; more")}, decoded)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	defer restored.Close()

	var input []byte
	input = append(input, first...)
	for {
		m.putIovecs(iovsAt, iovec{bufAt, 100})
		mustCall(t, restored, m, ErrnoSuccess, "fd_read", 0, iovsAt, 1, resultAt)
		n := m.u32(resultAt)
		if n == 0 {
			break
		}
		input = append(input, m.str(bufAt, n)...)
	}
	if want := "hello world; more"; string(input) != want {
		t.Errorf("input across the snapshot %q, want %q", input, want)
	}
	if got := restored.Snapshot(); !reflect.DeepEqual(got.Args, snap.Args) || !reflect.DeepEqual(got.Env, snap.Env) {
		t.Errorf("resumed with args %q env %q, want %q %q", got.Args, got.Env, snap.Args, snap.Env)
	}
	if restored.fds[1].flags != fdflagAppend || !restored.fds[2].closed {
		t.Errorf("descriptors after resume: %+v", restored.fds)
	}
	if now := restored.monotonic(); now < snap.Monotonic {
		t.Errorf("monotonic clock went back from %d to %d", snap.Monotonic, now)
	}
}

// TestParseSnapshotRefuses feeds ParseSnapshot every truncation of a
// valid encoding, wrong versions and trailing bytes: each is an error.
func TestParseSnapshotRefuses(t *testing.T) {
	snap := Snapshot{Args: []string{"prog", "x"}, Env: []string{"A=1"}, Monotonic: 5e9, Stdin: []byte("pending"), StdinState: stdinEnded}
	valid := snap.AppendBinary(nil)
	if _, err := ParseSnapshot(valid); err != nil {
		t.Fatalf("ParseSnapshot of a valid encoding: %v", err)
	}
	for n := range len(valid) {
		if _, err := ParseSnapshot(valid[:n]); err == nil {
			t.Errorf("ParseSnapshot of the first %d of %d bytes succeeded", n, len(valid))
		}
	}
	if _, err := ParseSnapshot(append(bytes.Clone(valid), 0)); err == nil || !strings.Contains(err.Error(), "after the end") {
		t.Errorf("trailing byte: %v", err)
	}
	wrong := bytes.Clone(valid)
	wrong[0] = 9
	if _, err := ParseSnapshot(wrong); err == nil || !strings.Contains(err.Error(), "version 9") {
		t.Errorf("version 9: %v", err)
	}
	for _, bad := range []Snapshot{
		{Monotonic: 0},
		{Monotonic: 2e9, StdinState: 7},
	} {
		if _, err := Restore(Config{}, bad); err == nil {
			t.Errorf("Restore(%+v) succeeded", bad)
		}
	}
}

func FuzzParseSnapshot(f *testing.F) {
	f.Add((&Snapshot{Args: []string{"a"}, Monotonic: 1e9, Stdin: []byte("x")}).AppendBinary(nil))
	f.Add([]byte{snapshotVersion, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, err := ParseSnapshot(data)
		if err != nil {
			return
		}
		again, err := ParseSnapshot(snap.AppendBinary(nil))
		if err != nil || !reflect.DeepEqual(normalize(again), normalize(snap)) {
			t.Fatalf("re-encoding %+v: %+v, %v", snap, again, err)
		}
		if s, err := Restore(Config{}, snap); err == nil {
			s.Close()
		}
	})
}

// normalize makes empty and nil slices compare equal.
func normalize(s Snapshot) Snapshot {
	if len(s.Args) == 0 {
		s.Args = nil
	}
	if len(s.Env) == 0 {
		s.Env = nil
	}
	if len(s.Stdin) == 0 {
		s.Stdin = nil
	}
	return s
}

// TestSnapshotEncoding pins the encoding that docs/SNAPSHOT.md describes,
// byte for byte: snapshots written by earlier versions of this code must
// still read.
func TestSnapshotEncoding(t *testing.T) {
	snap := Snapshot{
		Args: []string{"a"}, Monotonic: 1e9,
		FdFlags: [3]uint16{0, fdflagAppend, fdflagNonblock}, FdClosed: [3]bool{false, false, true},
		StdinState: stdinEnded, Stdin: []byte("xy"),
	}
	want := []byte{
		snapshotVersion,
		1, 1, 'a', // arguments
		0,                            // environment
		0x80, 0x94, 0xeb, 0xdc, 0x03, // 1e9 ns
		0, 0, 0, 1, 1, 4, // descriptors: closed, flags
		1, 2, 'x', 'y', // standard input
	}
	if got := snap.AppendBinary(nil); !bytes.Equal(got, want) {
		t.Errorf("encoding % x, want % x", got, want)
	}
	if got, err := ParseSnapshot(want); err != nil || !reflect.DeepEqual(got, snap) {
		t.Errorf("ParseSnapshot = %+v, %v; want %+v", got, err, snap)
	}
}
