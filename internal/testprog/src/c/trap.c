// trap does what its argument names and traps doing it.
#include <limits.h>
#include <stdio.h>
#include <string.h>

static volatile int zero = 0, minus_one = -1, int_min = INT_MIN;

// recurse calls itself through a pointer, which no optimization turns
// into a loop, and keeps nothing in the C stack in linear memory: it
// exhausts the wasm call stack, not memory.
static int recurse(int depth);
static int (*volatile again)(int) = recurse;

static int recurse(int depth) { return again(depth + 1) + 1; }

// smash keeps a large array in the C stack in linear memory: it runs the
// stack pointer below address 0, an out-of-bounds access.
static int smash(int depth) {
	volatile char frame[4096];
	frame[0] = (char)depth;
	return smash(depth + 1) + frame[0];
}
static int (*volatile smash_again)(int) = smash;

int main(int argc, char **argv) {
	const char *what = argc > 1 ? argv[1] : "";
	if (!strcmp(what, "div0"))
		return 10 / zero;
	if (!strcmp(what, "overflow"))
		return int_min / minus_one;
	if (!strcmp(what, "oob"))
		return *(volatile int *)0xfffffff0;
	if (!strcmp(what, "unreachable"))
		__builtin_trap();
	if (!strcmp(what, "stack"))
		return recurse(0);
	if (!strcmp(what, "cstack"))
		return smash_again(0);
	fprintf(stderr, "usage: trap div0|overflow|oob|unreachable|stack|cstack\n");
	return 2;
}
