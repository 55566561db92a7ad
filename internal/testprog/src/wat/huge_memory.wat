;; A command that declares 65536 pages (4 GiB) of initial memory.
(module
  (memory (export "memory") 65536)
  (func (export "_start")))
