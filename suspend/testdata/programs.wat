;; Programs for the behavioural tests of package suspend: each export is run
;; with and without suspensions and must give the same result.
(module
  (type $ii (func (param i32) (result i32)))
  (memory (export "mem") 1)
  (global $g (export "g") (mut i32) (i32.const 0))
  (table 4 funcref)
  (elem (i32.const 0) $double $inc $rec $leaf)

  (func $leaf (param i32) (result i32) local.get 0 i32.const 3 i32.mul)
  (func $double (param i32) (result i32) local.get 0 call $leaf i32.const 2 i32.mul)
  (func $inc (param i32) (result i32) (global.set $g (i32.add (global.get $g) (i32.const 1))) local.get 0 i32.const 1 i32.add)

  ;; Recursion with a live value across the call, in an if arm.
  (func $rec (export "rec") (param i32) (result i32)
    local.get 0 i32.eqz
    if (result i32)
      i32.const 0
    else
      local.get 0
      local.get 0 i32.const 1 i32.sub call $rec
      i32.const 7 i32.mul
      i32.add
    end)

  ;; Loops: a nested loop summing into memory and a local.
  (func (export "loops") (param $n i32) (result i32)
    (local $i i32) (local $j i32) (local $s i32)
    loop $outer
      i32.const 0 local.set $j
      loop $inner
        local.get $s local.get $i local.get $j i32.mul i32.add local.set $s
        (i32.store (i32.const 16) (i32.add (i32.load (i32.const 16)) (local.get $j)))
        local.get $j i32.const 1 i32.add local.tee $j
        i32.const 5 i32.lt_u br_if $inner
      end
      local.get $i i32.const 1 i32.add local.tee $i
      local.get $n i32.lt_u br_if $outer
    end
    local.get $s (i32.load (i32.const 16)) i32.add)

  ;; Multi-value blocks and loops with parameters, live values below.
  (func (export "multi") (param $n i32) (result i32)
    i32.const 1000
    i32.const 1 i32.const 2
    block (param i32 i32) (result i32 i32)
      call $double
      call $inc
    end
    local.get $n
    loop (param i32 i32 i32) (result i32 i32 i32)
      i32.const 1 i32.sub
      local.tee $n
      i32.eqz br_if 1
      call $double drop
      local.get $n
      call $inc
      local.get $n
      br 0
    end
    drop
    i32.add i32.add)

  ;; if/else with calls in both arms, br_table to blocks with calls.
  (func (export "branches") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    loop $l
      local.get $acc
      local.get $i i32.const 2 i32.rem_u
      if (result i32)
        local.get $i call $double
      else
        local.get $i call $inc call $inc
      end
      i32.add local.set $acc
      block $b2 block $b1 block $b0
        local.get $i i32.const 3 i32.rem_u
        br_table $b0 $b1 $b2
      end
      (local.set $acc (i32.add (local.get $acc) (call $rec (i32.const 3))))
      br $b2
      end
      (local.set $acc (i32.sub (local.get $acc) (call $double (i32.const 1))))
      end
      local.get $i i32.const 1 i32.add local.tee $i
      local.get $n i32.lt_u br_if $l
    end
    local.get $acc)

  ;; call_indirect, live operands of every type across calls.
  (func (export "indirect") (param $n i32) (result i32)
    (local $i i32) (local $acc i64) (local $f f64) (local $v v128)
    loop $l
      local.get $acc
      f32.const 1.5
      local.get $f
      v128.const i32x4 1 2 3 4
      local.get $i local.get $i i32.const 4 i32.rem_u call_indirect (type $ii)
      i64.extend_i32_u
      i64x2.splat
      i64x2.add
      local.set $v
      f64.const 0.25 f64.add local.set $f
      drop
      (i64x2.extract_lane 0 (local.get $v)) i64.add
      (i64x2.extract_lane 1 (local.get $v)) i64.add
      local.set $acc
      local.get $i i32.const 1 i32.add local.tee $i
      local.get $n i32.lt_u br_if $l
    end
    local.get $acc i32.wrap_i64
    local.get $f i32.trunc_f64_s i32.add
    global.get $g i32.add)

  ;; Branches out of loops whose header is their only point: to the block
  ;; around the loop, to the function's label (from nested blocks), and a
  ;; loop with parameters and results.
  (func (export "exits") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    block $b (result i32)
      loop $l
        local.get $i i32.const 1 i32.add local.set $i
        local.get $i i32.const 37 i32.eq
        if
          local.get $s i32.const 1000 i32.add
          br 3 ;; the function's label: return
        end
        local.get $s local.get $i i32.add local.set $s
        local.get $s
        local.get $i local.get $n i32.ge_u
        br_if $b
        drop
        local.get $i i32.const 3 i32.rem_u
        br_table $l $l 0
      end
      local.get $s i32.const 7 i32.mul
    end
    local.get $n
    block $e (param i32 i32) (result i32)
      loop $m (param i32 i32) (result i32)
        i32.const 1 i32.sub
        local.tee $i
        i32.eqz br_if $e
        i32.const 3 i32.mul local.get $i i32.add
        local.get $i
        br $m
      end
    end
    call $double)

  ;; Functions that return from inside a loop whose header is its only
  ;; point (return, br_if and br_table to the function's label) and from a
  ;; chunk, called in a loop.
  (func $down (param $k i32) (result i32)
    loop $l
      local.get $k i32.const 1 i32.sub local.tee $k
      i32.const 2 i32.eq
      if i32.const 5 return end
      local.get $k br_if $l
    end
    i32.const 9)
  (func $downbr (param $k i32) (result i32)
    loop $l
      i32.const 4
      local.get $k i32.const 1 i32.sub local.tee $k
      i32.const 3 i32.eq
      br_if 1
      drop
      local.get $k br_if $l
    end
    i32.const 8)
  (func $downtab (param $k i32)
    loop $l
      local.get $k i32.const 1 i32.sub local.tee $k
      i32.const 4 i32.le_u
      br_table 0 1
    end)
  (func $early (param $k i32) (result i32)
    local.get $k call $leaf drop
    local.get $k i32.const 5 i32.gt_u
    if i32.const 1 return end
    loop $l
      local.get $k i32.const 1 i32.sub local.tee $k
      br_if $l
    end
    i32.const 2)
  (func (export "returns") (param $n i32) (result i32)
    (local $s i32)
    loop $l
      (local.set $s (i32.add (local.get $s) (call $down (i32.const 10))))
      (local.set $s (i32.add (local.get $s) (call $downbr (i32.const 10))))
      (call $downtab (i32.const 9))
      (local.set $s (i32.add (local.get $s) (call $early (local.get $n))))
      (local.set $s (i32.add (local.get $s) (call $early (i32.const 3))))
      local.get $n i32.const 1 i32.sub local.tee $n
      br_if $l
    end
    local.get $s)
)
