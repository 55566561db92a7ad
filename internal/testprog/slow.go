package testprog

// SlowCompile returns a module that Gate accepts but whose compile takes
// seconds: functions functions, each a br_table of 16,384 targets, the
// most wasm.DefaultModuleLimits admit (wazero v1.12 compiles one in
// about 0.15 s on the project's 2-core VM, and its time grows as the
// square of the targets). Its _start returns at once.
func SlowCompile(functions int) []byte {
	const targets = 16_384
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
	code := uleb([]byte{0, 0x02, 0x40, 0x41, 0x00, 0x0e}, targets)
	code = append(code, make([]byte, targets+1)...)
	code = append(code, 0x0b, 0x0b)
	funcs := uleb(nil, uint64(functions))
	bodies := uleb(nil, uint64(functions))
	for range functions {
		funcs = append(funcs, 0) // type 0
		bodies = append(uleb(bodies, uint64(len(code))), code...)
	}
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, section(1, []byte{1, 0x60, 0, 0})...) // type () -> ()
	m = append(m, section(3, funcs)...)
	m = append(m, section(7, append([]byte{1, 6}, "_start\x00\x00"...))...)
	return append(m, section(10, bodies)...)
}
