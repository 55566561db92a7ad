;; Functions for the unit tests of analyzeLocals (locals_test.go). The
;; comments give the local indices: parameters first, then the declared
;; locals. Each test names what it expects at each loop header (the locals
;; live there, and those the loop writes) and at each call site.
(module
  (import "env" "plain" (func $plain))  ;; not blocking: no call site
  (table 1 funcref)
  (elem (i32.const 0) $callee)

  ;; A function with a loop: instrumented, so a call to it is a call site.
  (func $callee (param $n i32)
    (loop $l
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))

  ;; $a (1) is written before the loop and read after it: live at the
  ;; header, not written in the loop. $i (2) is the counter.
  ;; header: live {0 1 2}, writes {2}
  (func (export "after") (param $n i32) (result i32) (local $a i32) (local $i i32)
    (local.set $a (i32.const 7))
    (loop $l
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                          (local.get $n))))
    (local.get $a))

  ;; $t (1) is a temp: written, then read, in one iteration: dead at the
  ;; header. $s (2) is carried from iteration to iteration.
  ;; header: live {0 2}, writes {0 1 2}
  (func (export "temp") (param $n i32) (result i32) (local $t i32) (local $s i32)
    (loop $l
      (local.set $t (i32.mul (local.get $n) (i32.const 3)))
      (local.set $s (i32.add (local.get $s) (local.get $t)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $s))

  ;; $prev (1) is read at the top of the body and written at its bottom:
  ;; read in the next iteration (and not after the loop). $cur (2) is
  ;; written before it is read. $k (3) is read in the body, never written.
  ;; header: live {0 1 3}, writes {0 1 2}
  (func (export "carried") (param $n i32) (result i32)
    (local $prev i32) (local $cur i32) (local $k i32)
    (loop $l
      (local.set $cur (i32.add (local.get $prev) (local.get $k)))
      (local.set $prev (i32.add (local.get $cur) (local.get $n)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (i32.const 0))

  ;; Arms. $a (1) is read in the then arm only: live. $b (2) is written and
  ;; then read in the else arm: dead. $d (4) is written in both arms
  ;; before it is read: dead. $c (3) is read in an if without else: live.
  ;; $r (5) is carried. $u (6) is written in the then arm only and read
  ;; after the if: live (the else arm does not write it); $e (7) likewise
  ;; with the arms the other way round.
  ;; header: live {0 1 3 5 6 7}, writes {0 2 4 5 6 7}
  (func (export "arms") (param $n i32) (result i32)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $r i32) (local $u i32) (local $e i32)
    (loop $l
      (if (local.get $n)
        (then
          (local.set $d (local.get $a))
          (local.set $u (i32.const 1)))
        (else
          (local.set $b (i32.const 5))
          (local.set $d (local.get $b))
          (local.set $e (i32.const 3))))
      (if (i32.rem_u (local.get $n) (i32.const 2))
        (then (local.set $r (i32.add (local.get $r) (local.get $c)))))
      (local.set $r (i32.add (local.get $r) (i32.add (local.get $d) (i32.add (local.get $u) (local.get $e)))))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $r))

  ;; Exits. $e (1) is read after block $b1, which br_if leaves the loop
  ;; for; $f (2) after block $b2, a label of the br_table; $h (4) after
  ;; $b3, its default. $g (3) is read after the loop, which the br_table
  ;; never falls through to: dead. $i (5) is the counter.
  ;; header: live {0 1 2 4 5}, writes {5}
  (func (export "exits") (param $n i32) (result i32)
    (local $e i32) (local $f i32) (local $g i32) (local $h i32) (local $i i32)
    (local.set $e (i32.const 1))
    (local.set $f (i32.const 2))
    (local.set $g (i32.const 3))
    (local.set $h (i32.const 4))
    (block $b3
      (block $b2
        (block $b1
          (loop $l
            (br_if $b1 (i32.ge_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                                 (local.get $n)))
            (br_table $l $b2 $b3 (i32.rem_u (local.get $i) (i32.const 3))))
          (return (local.get $g)))
        (return (local.get $e)))
      (return (local.get $f)))
    (local.get $h))

  ;; A return and a trap in the loop. $z (1) is read before the return:
  ;; live. $w (2) is carried and read after the loop: live. $v (3) is read
  ;; only after an unreachable (dead code, removed): dead. $y (5) and $x
  ;; (4) are written in the else arms before they are read, after the ifs,
  ;; and the then arms return or trap: dead.
  ;; header: live {0 1 2}, writes {0 2 4 5}
  (func (export "returns") (param $n i32) (result i32)
    (local $z i32) (local $w i32) (local $v i32) (local $x i32) (local $y i32)
    (loop $l
      (if (i32.eq (local.get $n) (i32.const 5))
        (then (return (local.get $z)))
        (else (local.set $y (i32.const 2))))
      (if (i32.eq (local.get $n) (i32.const 6))
        (then unreachable (drop (local.get $v)))
        (else (local.set $x (local.get $y))))
      (local.set $w (i32.add (local.get $w) (local.get $x)))
      (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $w))

  ;; Nested loops. $p (1) is read at the top of the outer body only, so
  ;; at the inner header it is live only through the outer loop's back
  ;; edge: found by a second walk. $q (2) likewise at the top of the
  ;; outermost of three. $j (3) is set before the inner loop: live at the
  ;; inner header, dead at the outer one. $i (4) is the outer counter,
  ;; read after the inner loop. $acc (5) is carried by all.
  ;; outermost: live {0 1 2 4 5}, writes {3 4 5 6}
  ;; outer:     live {0 1 2 4 5}, writes {3 4 5}
  ;; inner:     live {0 1 2 3 4 5}, writes {3 5}
  (func (export "nested") (param $n i32) (result i32)
    (local $p i32) (local $q i32) (local $j i32) (local $i i32) (local $acc i32) (local $m i32)
    (local.set $p (i32.const 2))
    (loop $outermost
      (local.set $acc (i32.add (local.get $acc) (local.get $q)))
      (loop $outer
        (local.set $acc (i32.add (local.get $acc) (local.get $p)))
        (local.set $j (i32.const 0))
        (loop $inner
          (local.set $acc (i32.add (local.get $acc) (local.get $j)))
          (br_if $inner (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1)))
                                  (local.get $n))))
        (br_if $outer (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                                (local.get $n))))
      (local.set $m (i32.const 0))
      (br_if $outermost (i32.lt_u (local.get $acc) (local.get $n))))
    (local.get $acc))

  ;; Call sites. In the loop, after the call: $c (3) and $b (2) are read,
  ;; $k (4) and $n (0), and through the back edge $a (1), which is read
  ;; only at the top of the body (found by a second walk). $c is written
  ;; before the call: dead at the header, live at the call. The call to
  ;; the import is no call site; the call_indirect after the loop is: only
  ;; $b is read after it ($a is its argument, read before it). After the
  ;; direct call before the loop, the locals live at the header are: $a,
  ;; set just before the call, among them.
  ;; call 1 (before the loop): {0 1 2 4}
  ;; header: live {0 1 2 4}, writes {1 2 3 4}
  ;; call 2 (in the loop): {0 1 2 3 4}
  ;; call 3 (call_indirect after the loop): {2}
  (func (export "calls") (param $n i32) (result i32)
    (local $a i32) (local $b i32) (local $c i32) (local $k i32)
    (local.set $a (i32.const 1))
    (call $callee (local.get $n))
    (loop $l
      (local.set $a (i32.add (local.get $a) (local.get $k)))
      (local.set $c (i32.const 9))
      (call $plain)
      (call $callee (local.get $n))
      (local.set $b (i32.add (local.get $c) (local.get $b)))
      (br_if $l (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1)))
                          (local.get $n))))
    (call_indirect (param i32) (local.get $a) (i32.const 0))
    (local.get $b))

  ;; More locals than a word of a set holds: $x (65), $y (70), $z (130).
  ;; header: live {0 65 130}, writes {70 130}
  (func (export "wide") (param $n i32) (result i32)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64) ;; 1..64
    (local $x i32) (local f32 f32 f32 f32) (local $y i32)                    ;; 65, 66..69, 70
    (local f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64)
    (local f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64)
    (local f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64)
    (local f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64)                     ;; 71..129
    (local $z i32)                                                           ;; 130
    (loop $l
      (local.set $y (i32.add (local.get $x) (i32.const 1)))
      (local.set $z (i32.add (local.get $z) (local.get $y)))
      (br_if $l (i32.lt_u (local.get $z) (local.get $n))))
    (local.get $z))
)
