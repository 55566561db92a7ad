package runtime

import (
	"github.com/gate-wasm/gate/runtime/internal/wasi"
	"github.com/gate-wasm/gate/suspend"
	"github.com/gate-wasm/gate/wasm"
)

// SuspendAtCheck makes the instance suspend at the nth check site it
// passes from now on (n > 0), for tests that suspend at every point in
// turn.
func SuspendAtCheck(i *Instance, n int) {
	if i.suspension != nil {
		i.suspension.countdown = n
	}
}

// MemoryOf returns a copy of the instance's linear memory, for tests
// that compare it after Run (before Close); nil if it has none.
func MemoryOf(i *Instance) []byte {
	if !i.hasMemory {
		return nil
	}
	m := i.module.Memory()
	b, ok := m.Read(0, m.Size())
	if !ok {
		return nil
	}
	return append([]byte(nil), b...)
}

// ChecksLeft returns what is left of the countdown that SuspendAtCheck
// set: started with n, a run that ended without suspending passed n minus
// this many check sites.
func ChecksLeft(i *Instance) int {
	if i.suspension == nil {
		return 0
	}
	return i.suspension.countdown
}

// ResumeModules returns how many resume modules the runtime has compiled
// and keeps.
func ResumeModules(r *Runtime) int {
	r.resumeMu.Lock()
	defer r.resumeMu.Unlock()
	return len(r.resumeModules)
}

// CheckSuspendable does what CompileSuspendable does before it compiles,
// with the default limits, and decodes the transformed module within
// the limits Resume applies to a snapshot's module: for tests of modules
// whose compile would take seconds.
func CheckSuspendable(binary []byte) error {
	r := &Runtime{limits: wasm.DefaultModuleLimits(), suspendable: DefaultSuspendableLimits(), abi: make(map[string]*wasi.Func)}
	for _, f := range wasi.Functions() {
		r.abi[f.Name] = &f
	}
	m, err := r.decodeProgram(binary)
	if err != nil {
		return err
	}
	points, err := pointCounts(m)
	if err != nil {
		return err
	}
	if err := checkSuspendable(m, points, r.suspendable); err != nil {
		return err
	}
	t, err := suspend.Transform(m)
	if err != nil {
		return err
	}
	if err := checkSuspendable(t, points, r.suspendable); err != nil {
		return err
	}
	lim := snapshotLimits(r.limits)
	_, err = wasm.DecodeWith(wasm.Encode(t), wasm.DecodeOptions{Limits: &lim})
	return err
}
