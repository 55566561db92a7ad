;; A blocking import at a call site: the host suspends at sched_yield.
(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (memory (export "mem") 1)
  (func (export "run") (param $n i32) (result i32)
    (local $s i32)
    loop $l
      local.get $s
      i32.const 10
      call $yield
      i32.mul i32.add
      local.set $s
      local.get $n i32.const 1 i32.sub local.tee $n
      br_if $l
    end
    local.get $s))
