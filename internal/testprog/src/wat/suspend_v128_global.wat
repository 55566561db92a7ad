;; A program with a mutable v128 global that a loop updates, so that both
;; of its 64-bit lanes change and each depends on the other. At the end it
;; prints the global's 128 bits in hexadecimal (high lane first) and exits
;; with a status computed from both lanes. The loop calls a function that
;; takes and returns a v128, so that suspended frames hold v128 values too.
;; Suspended and resumed anywhere, it must print and return what an
;; uninterrupted run does: a snapshot must carry the global's whole value.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "0123456789abcdef")
  (global $v (mut v128) (v128.const i64x2 0x0123456789abcdef 0x7edcba9876543210))
  (global $count (mut i32) (i32.const 0))

  ;; mix: one step of a lane-wise LCG, then each lane plus the 16 bytes
  ;; rotated by 3 (so each lane takes bytes of the other).
  (func $mix (param $x v128) (result v128)
    (local.set $x
      (i64x2.add
        (i64x2.mul (local.get $x) (i64x2.splat (i64.const 6364136223846793005)))
        (v128.const i64x2 1442695040888963407 0x9e3779b97f4a7c15)))
    (i64x2.add (local.get $x)
      (i8x16.shuffle 3 4 5 6 7 8 9 10 11 12 13 14 15 0 1 2
        (local.get $x) (local.get $x))))

  ;; step updates the global through mix: a call, so a check site at
  ;; its entry, with a v128 on the caller's operand stack.
  (func $step (param $k i32)
    (global.set $v
      (v128.xor
        (call $mix (global.get $v))
        (i64x2.splat (i64.extend_i32_u (local.get $k)))))
    (global.set $count (i32.add (global.get $count) (i32.const 1))))

  (func (export "_start")
    (local $i i32)
    (local $k i32)
    (local $b i32)
    (loop $l
      (call $step (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 60))))
    ;; 32 hex digits at 32, high byte first, then a newline.
    (v128.store (i32.const 16) (global.get $v))
    (loop $h
      (local.set $b (i32.load8_u (i32.sub (i32.const 31) (local.get $k))))
      (i32.store8 offset=32 (i32.shl (local.get $k) (i32.const 1))
        (i32.load8_u (i32.shr_u (local.get $b) (i32.const 4))))
      (i32.store8 offset=33 (i32.shl (local.get $k) (i32.const 1))
        (i32.load8_u (i32.and (local.get $b) (i32.const 15))))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $h (i32.lt_u (local.get $k) (i32.const 16))))
    (i32.store8 (i32.const 64) (i32.const 10))
    (i32.store (i32.const 80) (i32.const 32))
    (i32.store (i32.const 84) (i32.const 33))
    (drop (call $fd_write (i32.const 1) (i32.const 80) (i32.const 1) (i32.const 96)))
    ;; A status from both lanes and the count of steps.
    (call $exit
      (i32.add (global.get $count)
        (i32.wrap_i64
          (i64.rem_u
            (i64.xor (i64x2.extract_lane 0 (global.get $v)) (i64x2.extract_lane 1 (global.get $v)))
            (i64.const 61)))))))
