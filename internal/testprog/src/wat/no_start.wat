;; A module with memory but no _start: a library, not a command.
(module
  (memory (export "memory") 1)
  (func (export "run")))
