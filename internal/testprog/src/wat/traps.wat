;; traps traps in the way its number of arguments selects: argc 1 divides
;; by zero, 2 overflows a division, 3 converts NaN to an integer, 4 executes
;; unreachable, 5 reads out of bounds, 6 calls beyond the table, 7 calls
;; through a mismatched type, 8 calls a null table entry, 9 recurses
;; without end. With any other count it returns normally.
(module
  (import "wasi_snapshot_preview1" "args_sizes_get"
    (func $args_sizes_get (param i32 i32) (result i32)))
  (memory 1)
  (type $void (func))
  (type $takes_i32 (func (param i32)))
  (table 2 funcref)
  (elem (i32.const 0) $nothing)
  (func $nothing)
  (func $recurse (call $recurse))
  (func (export "_start")
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (block $other
    (block $9 (block $8 (block $7 (block $6 (block $5
    (block $4 (block $3 (block $2 (block $1
      (br_table $other $1 $2 $3 $4 $5 $6 $7 $8 $9 $other
        (i32.load (i32.const 0))))
      ;; 1
      (drop (i32.div_u (i32.const 1) (i32.const 0))) (return))
      ;; 2
      (drop (i32.div_s (i32.const 0x80000000) (i32.const -1))) (return))
      ;; 3
      (drop (i32.trunc_f32_s (f32.const nan))) (return))
      ;; 4
      (unreachable))
      ;; 5
      (drop (i32.load (i32.const 65536))) (return))
      ;; 6
      (call_indirect (type $void) (i32.const 5)) (return))
      ;; 7
      (call_indirect (type $takes_i32) (i32.const 1) (i32.const 0)) (return))
      ;; 8
      (call_indirect (type $void) (i32.const 1)) (return))
      ;; 9
      (call $recurse))
  )
)
