package testprog

// SlowCompile returns a module that Gate accepts but whose compile takes
// long, and memory, for its size: one function whose br_table has
// targets targets. On the project's 2-core machine, 100,000 targets
// took 5 s and about 240 MiB to compile, 200,000 took 22 s and 470 MiB,
// 1,000,000 took 242 s and 2.4 GB. It is generated rather than built
// from a source: it is its size that matters.
func SlowCompile(targets int) []byte {
	uleb := func(b []byte, v uint64) []byte {
		for ; v >= 0x80; v >>= 7 {
			b = append(b, byte(v)|0x80)
		}
		return append(b, byte(v))
	}
	section := func(id byte, body []byte) []byte {
		return append(uleb([]byte{id}, uint64(len(body))), body...)
	}
	// No locals; block; i32.const 0; br_table 0 × targets, default 0;
	// end; end.
	code := uleb([]byte{0, 0x02, 0x40, 0x41, 0x00, 0x0e}, uint64(targets))
	code = append(code, make([]byte, targets+1)...)
	code = append(code, 0x0b, 0x0b)
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, section(1, []byte{1, 0x60, 0, 0})...) // type () -> ()
	m = append(m, section(3, []byte{1, 0})...)          // one function of it
	m = append(m, section(7, append([]byte{1, 6}, "_start\x00\x00"...))...)
	return append(m, section(10, append(uleb([]byte{1}, uint64(len(code))), code...))...)
}
