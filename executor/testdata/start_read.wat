;; start_read reads its standard input from its start function, then
;; traps: its instantiation fails while the host may still be answering
;; a read.
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory 1)
  (func $start
    ;; One iovec at 0: 16 bytes at 16.
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
    unreachable)
  (start $start)
  (func (export "_start"))
  (export "memory" (memory 0)))
