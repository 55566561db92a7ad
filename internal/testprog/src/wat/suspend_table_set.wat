;; A program that changes its table at run time (table.set) and loops: no
;; snapshot of it can be written, since a snapshot carries tables as the
;; module declares them.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (table $t 1 funcref)
  (elem declare func $f)
  (func $f)
  (func (export "_start")
    (local $i i32)
    (table.set $t (i32.const 0) (ref.func $f))
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))
    (call $exit (i32.const 0))))
