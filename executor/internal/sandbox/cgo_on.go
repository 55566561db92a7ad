//go:build cgo

package sandbox

// cgo tells whether this binary links C code (CGO_ENABLED=1).
const cgo = true
