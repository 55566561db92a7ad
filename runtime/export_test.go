package runtime

// SuspendAtCheck makes the instance suspend at the nth check site it
// passes from now on (n > 0), for tests that suspend at every point in
// turn.
func SuspendAtCheck(i *Instance, n int) {
	if i.suspension != nil {
		i.suspension.countdown = n
	}
}
