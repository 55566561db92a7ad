;; A program whose _start holds a reference in a local while it loops:
;; with argument count 1 (no arguments) the reference is null, with more
;; it is ref.func $f. A snapshot taken in the loop must carry the null
;; one and refuse the other (docs/SUSPEND.md, references).
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (elem declare func $f)
  (func $f)
  (func (export "_start")
    (local $r funcref) (local $i i32)
    (drop (call $args_sizes (i32.const 0) (i32.const 4)))
    (if (i32.gt_u (i32.load (i32.const 0)) (i32.const 1))
      (then (local.set $r (ref.func $f))))
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))
    (call $exit (i32.add (i32.const 40) (ref.is_null (local.get $r))))))
