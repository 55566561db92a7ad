// Package wasi implements Gate's program ABI: the WASI preview1 functions
// that a program imports from "wasi_snapshot_preview1".
//
// It holds the per-instance state (arguments, environment, standard
// streams, clocks) and the semantics of each function, independent of any
// engine: functions see linear memory only through the Memory interface and
// their parameters as raw 64-bit values, exactly as a wasm call passes
// them. The runtime package binds them to wazero.
//
// Blocking functions (fd_read on stdin, poll_oneoff) wait on a context so
// that a deadline or cancellation stops them. There is no file system and
// no socket: functions that need one exist and answer an errno. This
// package must not touch the host beyond the io.Reader and io.Writer values
// it is given, the clock and the random source.
package wasi
