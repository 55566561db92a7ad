//go:build race

package spectest

// raceEnabled says that the tests run under the race detector, which
// slows wazero's compiler down several times: the suspend-everywhere test
// then samples the checks instead of taking them all.
const raceEnabled = true
