// Package wasm reads and rewrites the WebAssembly binary format.
//
// It is Gate's own codec: everything that inspects or rewrites a module
// before it reaches the engine stands on it. Today it reads the module
// header and section framing, reports the limits of the module's linear
// memory and rewrites them to enforce a cap. It never executes code and
// never trusts its input: every length and index is checked before use,
// and malformed input yields an error that says what is wrong and where.
//
// It must not depend on any engine (wazero or other): the runtime imports
// it, not the other way round.
package wasm
