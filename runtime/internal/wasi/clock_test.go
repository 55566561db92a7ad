package wasi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

func TestClockResGet(t *testing.T) {
	s := newState(t, Config{})
	tests := []struct {
		id   uint64
		want Errno
	}{
		{clockRealtime, ErrnoSuccess},
		{clockMonotonic, ErrnoSuccess},
		{clockProcessCPUTime, ErrnoSuccess},
		{clockThreadCPUTime, ErrnoSuccess},
		{4, ErrnoInval},
		{0xffffffff, ErrnoInval},
	}
	for _, tt := range tests {
		m := newMemory()
		m.putU64(0x100, 0xaaaaaaaa_aaaaaaaa)
		got := call(t, s, m, "clock_res_get", tt.id, 0x100)
		if got != tt.want {
			t.Errorf("clock_res_get(%d, 0x100) = %v, want %v", tt.id, got, tt.want)
			continue
		}
		res := m.u64(0x100)
		switch {
		case got == ErrnoSuccess && res != 1:
			t.Errorf("clock_res_get(%d, 0x100): resolution %d ns, want 1", tt.id, res)
		case got != ErrnoSuccess && res != 0xaaaaaaaa_aaaaaaaa:
			t.Errorf("clock_res_get(%d, 0x100) = %v but wrote %#x", tt.id, got, res)
		}
	}
}

func TestClockTimeGet(t *testing.T) {
	begin := time.Now()
	s := newState(t, Config{Now: func() time.Time { return fixedTime }})
	m := newMemory()

	mustCall(t, s, m, ErrnoSuccess, "clock_time_get", clockRealtime, 0, 0x100)
	if got, want := m.u64(0x100), uint64(fixedTime.UnixNano()); got != want {
		t.Errorf("clock_time_get(realtime) = %d, want %d (Config.Now)", got, want)
	}
	// The precision is a hint and changes nothing.
	mustCall(t, s, m, ErrnoSuccess, "clock_time_get", clockRealtime, 0xffffffff_ffffffff, 0x100)
	if got, want := m.u64(0x100), uint64(fixedTime.UnixNano()); got != want {
		t.Errorf("clock_time_get(realtime, precision max) = %d, want %d", got, want)
	}

	// The monotonic clock and, standing for them, the CPU-time clocks
	// count from one second at New.
	for _, id := range []uint64{clockMonotonic, clockProcessCPUTime, clockThreadCPUTime} {
		mustCall(t, s, m, ErrnoSuccess, "clock_time_get", id, 1, 0x100)
		got := time.Duration(m.u64(0x100))
		if max := time.Second + time.Since(begin); got < time.Second || got > max {
			t.Errorf("clock_time_get(%d) = %v, want between 1s and %v", id, got, max)
		}
	}

	for _, id := range []uint64{4, 5, 0x80000000, 0xffffffff} {
		m.putU64(0x100, 77)
		mustCall(t, s, m, ErrnoInval, "clock_time_get", id, 0, 0x100)
		if got := m.u64(0x100); got != 77 {
			t.Errorf("clock_time_get(%d) = EINVAL but wrote %d", id, got)
		}
	}
}

func TestClockRealtimeDefault(t *testing.T) {
	s := newState(t, Config{})
	m := newMemory()
	before := time.Now().UnixNano()
	mustCall(t, s, m, ErrnoSuccess, "clock_time_get", clockRealtime, 0, 0x100)
	after := time.Now().UnixNano()
	if got := int64(m.u64(0x100)); got < before || got > after {
		t.Errorf("clock_time_get(realtime) = %d, want between %d and %d (time.Now)", got, before, after)
	}
}

// TestMonotonic checks that the monotonic clocks never go backwards,
// however the wall clock moves, and that they advance.
func TestMonotonic(t *testing.T) {
	wall := fixedTime
	s := newState(t, Config{Now: func() time.Time {
		wall = wall.Add(-time.Hour) // a wall clock running backwards
		return wall
	}})
	m := newMemory()
	for _, id := range []uint64{clockMonotonic, clockProcessCPUTime, clockThreadCPUTime} {
		var last uint64
		for i := range 2000 {
			mustCall(t, s, m, ErrnoSuccess, "clock_time_get", clockRealtime, 0, 0x200)
			mustCall(t, s, m, ErrnoSuccess, "clock_time_get", id, 0, 0x100)
			now := m.u64(0x100)
			if now < last {
				t.Fatalf("clock_time_get(%d) call %d = %d, after %d", id, i, now, last)
			}
			last = now
		}
		time.Sleep(2 * time.Millisecond)
		mustCall(t, s, m, ErrnoSuccess, "clock_time_get", id, 0, 0x100)
		if now := m.u64(0x100); now < last+uint64(2*time.Millisecond) {
			t.Errorf("clock_time_get(%d) = %d 2 ms after %d", id, now, last)
		}
	}
}

// TestMonotonicPerInstance checks that each instance's monotonic clock
// starts at one second at its New.
func TestMonotonicPerInstance(t *testing.T) {
	s1 := newState(t, Config{})
	time.Sleep(50 * time.Millisecond)
	s2 := newState(t, Config{})
	m := newMemory()
	mustCall(t, s1, m, ErrnoSuccess, "clock_time_get", clockMonotonic, 0, 0x100)
	mustCall(t, s2, m, ErrnoSuccess, "clock_time_get", clockMonotonic, 0, 0x108)
	t1, t2 := time.Duration(m.u64(0x100)), time.Duration(m.u64(0x108))
	if t1 < time.Second+50*time.Millisecond {
		t.Errorf("first instance's monotonic clock = %v 50 ms after its start, want at least 1.05s", t1)
	}
	if t2 < time.Second || t2 >= t1 {
		t.Errorf("second instance's monotonic clock = %v, want at least 1s and less than the first's %v", t2, t1)
	}
}

func TestRandomGet(t *testing.T) {
	t.Run("source", func(t *testing.T) {
		s := newState(t, Config{Random: &patternReader{}})
		m := newMemory()
		before := m.clone()
		mustCall(t, s, m, ErrnoSuccess, "random_get", 0x101, 37)
		want := make([]byte, 37)
		(&patternReader{}).Read(want)
		if got := m[0x101 : 0x101+37]; !bytes.Equal(got, want) {
			t.Errorf("random_get(0x101, 37) wrote %x, want %x", got, want)
		}
		copy(before[0x101:], want)
		if !bytes.Equal(m, before) {
			t.Errorf("random_get(0x101, 37) wrote outside its buffer: %s", firstDiff(m, before))
		}
		// Zero bytes, even at the very end of memory, read nothing.
		mustCall(t, s, m, ErrnoSuccess, "random_get", testMemorySize, 0)
		mustCall(t, s, m, ErrnoSuccess, "random_get", 0x200, 3)
		if got, want := m[0x200:0x203], []byte{(37*7 + 3) & 0xff, (38*7 + 3) & 0xff, (39*7 + 3) & 0xff}; !bytes.Equal(got, want) {
			t.Errorf("second random_get(0x200, 3) wrote %x, want %x (the source's next bytes)", got, want)
		}
		// The whole memory.
		mustCall(t, s, m, ErrnoSuccess, "random_get", 0, testMemorySize)
	})
	t.Run("crypto", func(t *testing.T) {
		s := newState(t, Config{})
		m := newMemory()
		mustCall(t, s, m, ErrnoSuccess, "random_get", 0x100, 64)
		if bytes.Equal(m[0x100:0x140], make([]byte, 64)) {
			t.Errorf("random_get(0x100, 64) with the default source left 64 zero bytes")
		}
		first := bytes.Clone(m[0x100:0x140])
		mustCall(t, s, m, ErrnoSuccess, "random_get", 0x100, 64)
		if bytes.Equal(m[0x100:0x140], first) {
			t.Errorf("two random_get(0x100, 64) wrote the same bytes")
		}
	})
	t.Run("error", func(t *testing.T) {
		for _, r := range []io.Reader{errReader{errors.New("no entropy")}, bytes.NewReader([]byte{1, 2, 3})} {
			s := newState(t, Config{Random: r})
			m := newMemory()
			mustCall(t, s, m, ErrnoIO, "random_get", 0x100, 16)
		}
	})
	t.Run("fault", func(t *testing.T) {
		s := newState(t, Config{Random: &patternReader{}})
		for _, p := range [][]uint64{
			{testMemorySize - 15, 16},
			{testMemorySize + 1, 0},
			{0, testMemorySize + 1},
			{0xffffffff, 2},
			{1, 0xffffffff},
		} {
			m := newMemory()
			mustCall(t, s, m, ErrnoFault, "random_get", p...)
			if !bytes.Equal(m, newMemory()) {
				t.Errorf("%s = EFAULT but wrote to memory", callString("random_get", p))
			}
		}
	})
}

func TestSchedYield(t *testing.T) {
	s := newState(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// It does not block, so a done context does not interrupt it.
	if got := callCtx(t, ctx, s, newMemory(), "sched_yield"); got != ErrnoSuccess {
		t.Errorf("sched_yield() = %v, want success", got)
	}
}

func TestProcExit(t *testing.T) {
	for _, tt := range []struct {
		param uint64
		code  uint32
	}{
		{0, 0},
		{1, 1},
		{255, 255},
		{256, 256},
		{0xffffffff, 0xffffffff},
		{0xdeadbeef_00000007, 7}, // garbage above the i32
	} {
		s := newState(t, Config{})
		errno, r := tryCall(t, context.Background(), s, newMemory(), "proc_exit", tt.param)
		exit, ok := r.(*Exit)
		if !ok {
			t.Errorf("proc_exit(%#x) returned %v and panicked with %#v, want a panic with *Exit", tt.param, errno, r)
			continue
		}
		if exit.Code != tt.code {
			t.Errorf("proc_exit(%#x) panicked with exit code %d, want %d", tt.param, exit.Code, tt.code)
		}
	}
}

func TestProcRaise(t *testing.T) {
	s := newState(t, Config{})
	for _, sig := range []uint64{0, 1, 6, 9, 15, 0xffffffff} {
		mustCall(t, s, newMemory(), ErrnoNosys, "proc_raise", sig)
	}
}
