;; A command that declares a maximum of 1000 pages and grows to it, then
;; exits with 0 if every grow succeeded, or with the number of pages it
;; had when one failed, divided by 16.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1 1000)
  (func (export "_start")
    (block $failed
      (loop $grow
        (br_if $failed (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        (br_if $grow (i32.lt_u (memory.size) (i32.const 1000)))))
    (if (i32.lt_u (memory.size) (i32.const 1000))
      (then (call $exit (i32.div_u (memory.size) (i32.const 16)))))))
