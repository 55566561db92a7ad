;; A command whose call_indirect finds a function of another type.
(module
  (type $void (func))
  (memory (export "memory") 1)
  (table 1 funcref)
  (elem (i32.const 0) $takes_i32)
  (func $takes_i32 (param i32))
  (func (export "_start") (call_indirect (type $void) (i32.const 0))))
