package spectest

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gate-wasm/gate/suspend"
)

// everywhereOptions are the suspend-everywhere test's: every check up to
// the 64th of each action and 2 more at random beyond it, with at most 4
// snapshots resumed per module for frames of the same functions and
// points. Under the race detector, which makes every compilation of a
// snapshot several times slower, the first 4 checks and 1 at random, and
// 1 resumed snapshot per frame shape. $GATE_SPEC_SUSPEND
// ("MAX,RANDOM,SAMEFRAMES", 0 for no limit of SAMEFRAMES) sets others.
func everywhereOptions(t *testing.T) *SuspendOptions {
	if env := os.Getenv("GATE_SPEC_SUSPEND"); env != "" {
		var o SuspendOptions
		if _, err := fmt.Sscanf(env, "%d,%d,%d", &o.MaxPerAction, &o.Random, &o.SameFrames); err != nil {
			t.Fatalf("GATE_SPEC_SUSPEND=%q: want MAX,RANDOM,SAMEFRAMES: %v", env, err)
		}
		o.Seed = 3
		return &o
	}
	if raceEnabled {
		return &SuspendOptions{MaxPerAction: 3, Random: 1, SameFrames: 1, Budget: 12, SkipExhaustion: true, Seed: 3}
	}
	return &SuspendOptions{MaxPerAction: 64, Random: 2, SameFrames: 4, Seed: 3}
}

// TestSpecSuspendEverywhere runs the suite on the transformed modules in
// the suspend-everywhere mode: every invoke action is also suspended at
// its 1st, 2nd, ... check (and at random ones), its snapshot resumed in a
// fresh runtime, and the outcome compared with the uninterrupted run. It
// fails on any resumed run that differs, on any command that fails on
// the transformed module but passes on the plain one, and if too few
// suspensions were made for the test to mean anything.
func TestSpecSuspendEverywhere(t *testing.T) {
	dir := suiteDir(t)
	opts := everywhereOptions(t)
	start := time.Now()
	res, err := Run(context.Background(), dir, Options{Transform: suspend.TransformBinary, Known: Known, Suspend: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("options %+v, race detector %v, %v", *opts, raceEnabled, time.Since(start).Round(time.Millisecond))
	t.Log("\n" + formatSuspendCounts(res))
	for _, f := range res.Files {
		for _, o := range f.Failures {
			t.Errorf("failed %v", o)
		}
		for _, o := range f.SuspendFailures {
			t.Errorf("suspension: %v", o)
		}
	}
	c := res.Suspend
	if c.Done+c.Failed+c.SkippedTotal() != c.Planned {
		t.Errorf("%d suspensions planned, but %d done, %d failed, %d skipped", c.Planned, c.Done, c.Failed, c.SkippedTotal())
	}
	if c.Equal != c.Done {
		t.Errorf("%d suspensions done, %d equal", c.Done, c.Equal)
	}
	// The suite has hundreds of actions with loops and calls: a run
	// that suspends few of them is not testing what it says.
	minDone := 1000
	if raceEnabled {
		minDone = 200 // Budget 12 per file
	}
	if c.Reaching < 500 || c.Done < minDone || c.Random == 0 {
		t.Errorf("only %d actions reached a check, %d suspensions done (%d random)", c.Reaching, c.Done, c.Random)
	}
}

// formatSuspendCounts formats the counts of the suspend-everywhere mode,
// per file and in total.
func formatSuspendCounts(res *Result) string {
	var b strings.Builder
	line := func(name string, c *SuspendCounts) {
		fmt.Fprintf(&b, "%-36s actions %5d reaching %4d checks %8d planned %5d done %5d random %4d equal %5d failed %3d skipped %5d capped %3d\n",
			name, c.Actions, c.Reaching, c.Checks, c.Planned, c.Done, c.Random, c.Equal, c.Failed, c.SkippedTotal(), c.Capped)
	}
	for _, f := range res.Files {
		if f.Suspend.Reaching > 0 {
			line(f.Name, &f.Suspend)
		}
	}
	line("TOTAL", &res.Suspend)
	reasons := make([]string, 0, len(res.Suspend.Skipped))
	for r := range res.Suspend.Skipped {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(&b, "skipped %6d: %s\n", res.Suspend.Skipped[r], r)
	}
	fmt.Fprintf(&b, "checks beyond the planned ones, not tried: %d; assert_exhaustion actions left out: %d",
		res.Suspend.NotTried, res.Suspend.ExhaustionSkipped)
	return b.String()
}

// TestPlan checks the choice of checks at which an action is suspended:
// the first ones in order, then distinct random ones beyond them, the
// same for the same position and seed.
func TestPlan(t *testing.T) {
	o := &SuspendOptions{MaxPerAction: 4, Random: 3, Seed: 1}
	if ns, r := o.plan("a.wast:1", 2); fmt.Sprint(ns) != "[1 2]" || r != 0 {
		t.Errorf("plan of 2 checks = %v, %d random", ns, r)
	}
	if ns, r := o.plan("a.wast:1", 6); fmt.Sprint(ns) != "[1 2 3 4 5 6]" || r != 2 {
		t.Errorf("plan of 6 checks = %v, %d random", ns, r)
	}
	ns, r := o.plan("a.wast:1", 1000)
	if r != 3 || len(ns) != 7 || fmt.Sprint(ns[:4]) != "[1 2 3 4]" {
		t.Fatalf("plan of 1000 checks = %v, %d random", ns, r)
	}
	for i, n := range ns[4:] {
		if n <= 4 || n > 1000 || (i > 0 && n <= ns[4+i-1]) {
			t.Errorf("random checks %v: not distinct, sorted, in 5..1000", ns[4:])
		}
	}
	if again, _ := o.plan("a.wast:1", 1000); fmt.Sprint(again) != fmt.Sprint(ns) {
		t.Errorf("plan not reproducible: %v, then %v", ns, again)
	}
	if other, _ := o.plan("a.wast:2", 1000); fmt.Sprint(other) == fmt.Sprint(ns) {
		t.Errorf("plans of two positions are the same: %v", ns)
	}
}
