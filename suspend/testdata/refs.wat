;; References live at suspension points: the transform saves whether each
;; is null, and the host must refuse to snapshot a frame where one is not.
(module
  (memory 1)
  (table 1 funcref)
  (elem declare func $one)
  (func $one (result i32) i32.const 1)

  ;; Null references in a local and on the operand stack (a loop
  ;; parameter) across check sites: suspensions are allowed and the
  ;; references come back null.
  (func (export "nulls") (param $n i32) (result i32)
    (local $r funcref) (local $s i32) (local $e externref)
    ref.null func
    loop $l (param funcref) (result funcref)
      local.get $s local.get $n i32.add local.set $s
      local.get $n i32.const 1 i32.sub local.tee $n
      br_if $l
    end
    ref.is_null
    local.get $r ref.is_null i32.add
    local.get $e ref.is_null i32.add
    local.get $s i32.add)

  ;; A reference that is not null in a local across a loop's check site.
  (func (export "nonnull") (param $n i32) (result i32)
    (local $r funcref)
    ref.func $one local.set $r
    loop $l
      local.get $n i32.const 1 i32.sub local.tee $n
      br_if $l
    end
    local.get $r ref.is_null)
)
