// Package wasm reads, checks and writes the WebAssembly binary format.
//
// It is Gate's own codec for WebAssembly 2.0 (multi-value, bulk memory,
// reference types, fixed-width SIMD, sign extension, saturating
// conversions): everything that inspects or rewrites a module before it
// reaches the engine stands on it, the suspendable transform first.
//
//   - Decode reads a whole module into a Module. It checks that the
//     binary is well-formed and no more. Function bodies, constant
//     expressions, data and custom sections stay the bytes they were.
//   - Code.Instructions and DecodeBody turn encoded instructions into a
//     flat list of Instr; EncodeBody writes such a list back in shortest
//     form.
//   - Validate checks a Module as the specification's validation does,
//     function bodies by the algorithm of its appendix. FuncStack runs
//     that algorithm over one function and reports the types of the
//     operand stack before each instruction, which a transform needs to
//     save and restore the values live there.
//   - Encode writes a Module. Sections that did not change since Decode
//     come out byte for byte as they went in; changed ones are written in
//     shortest form.
//   - ReadSections, Imports, Memory and CapMemory read or rewrite one
//     part of a module without decoding the rest, for the runtime.
//
// The package never executes code and never trusts its input: every
// length and index is checked before use, a length only sizes an
// allocation up to the bytes that could hold it, and malformed input
// yields a *FormatError, invalid input a *ValidationError, each saying
// what is wrong and at which byte. No input makes it panic. Decoding
// allocates less than 40 bytes per byte of input, and Validate refuses
// what would make validation cost out of proportion with the input, as
// engines do (function types of over 1000 parameters or results, blocks
// nested over 2^20 deep, operand stacks of over 2^20 values); callers
// still cap the size of the modules they accept.
//
// Validate also checks what only a Module built in code can get wrong
// (value types, data count), so that what it accepts Encode writes as a
// valid binary.
//
// It must not depend on any engine (wazero or other): the runtime imports
// it, not the other way round. Nor does it go beyond WebAssembly 2.0:
// proposals that change the binary format (threads, multiple memories,
// memory64, exceptions, GC, tail calls, relaxed SIMD) are refused as
// malformed or invalid until Gate supports them.
package wasm
