;; Functions for the end-to-end tests of dead locals (locals_test.go): a
;; frame saved where a local is dead holds 0 for it, whatever it held.
(module
  (memory 1) ;; runHost needs one
  ;; Locals: $n 0, $i 1, $t 2, $d 3, $v 4 (two saved values), $acc 5,
  ;; $k 6. At the header $t, $d and $v are dead (each iteration writes
  ;; them before reading them) but hold what the previous iteration left:
  ;; t = 7i+3 of it, non-zero. $i and $acc are live and written in the
  ;; loop (they cross check through scratch globals, i32 and f64); $k is
  ;; live and not written.
  (func (export "dead") (param $n i32) (result i64)
    (local $i i32) (local $t i32) (local $d f64) (local $v v128) (local $acc f64) (local $k i64)
    (local.set $k (i64.const 1000))
    (loop $l
      (local.set $t (i32.add (i32.mul (local.get $i) (i32.const 7)) (i32.const 3)))
      (local.set $d (f64.convert_i32_u (local.get $t)))
      (local.set $v (i32x4.splat (local.get $t)))
      (local.set $acc (f64.add (local.get $acc)
        (f64.add (local.get $d) (f64.convert_i32_u (i32x4.extract_lane 2 (local.get $v))))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (i64.add (local.get $k) (i64.trunc_f64_u (local.get $acc))))

  ;; spin(n) passes its loop's header n times (n >= 1) and returns n.
  (func $spin (param $n i32) (result i32) (local $j i32)
    (loop $l
      (br_if $l (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $n))))
    (local.get $j))

  ;; Locals: $n 0, $t 1, $s 2, $i 3. At the call, $t (its argument, 2i+5)
  ;; is dead; $s and $i are live. Points: 1 the entry, 2 the loop, 3 the
  ;; call.
  (func (export "caller") (param $n i32) (result i32) (local $t i32) (local $s i32) (local $i i32)
    (loop $l
      (local.set $t (i32.add (i32.mul (local.get $i) (i32.const 2)) (i32.const 5)))
      (local.set $s (i32.add (call $spin (local.get $t)) (local.get $s)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $s))
)
