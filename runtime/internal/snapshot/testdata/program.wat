;; program stands for a module after the suspendable transform: it has
;; mutable globals of each number type, the transform's exported state
;; global, an active and a passive data segment.
(module
  (memory 2 4)
  (global $a (mut i32) (i32.const 1))
  (global $b (mut i64) (i64.const 2))
  (global $c (mut f64) (f64.const 3))
  (global $k i32 (i32.const 4))
  (global $state (mut i32) (i32.const 0))
  (global $v (mut v128) (v128.const i64x2 0 0))
  (export "gate_suspend.state" (global $state))
  (data (i32.const 16) "active")
  (data $p "passive")
  (start $init)
  (func $init)
  (func (export "_start")
    (memory.init $p (i32.const 0) (i32.const 0) (i32.const 0))
    (data.drop $p)))
