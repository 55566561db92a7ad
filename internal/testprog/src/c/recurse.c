// recurse recurses as deep as its first argument says (default 60) and,
// at every level, computes for a while in a loop and prints a line, so
// that a suspension can happen with a deep call stack, in loops, between
// outputs. It ends with a checksum and exit status 7.
#include <stdio.h>
#include <stdlib.h>

static unsigned long work(unsigned long seed, long rounds) {
	unsigned long x = seed;
	for (long i = 0; i < rounds; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	return x;
}

static unsigned long descend(int depth, int max, long rounds) {
	unsigned long here = work(depth, rounds);
	printf("depth %d: %lu\n", depth, here % 1000003);
	if (depth == max)
		return here;
	unsigned long below = descend(depth + 1, max, rounds);
	return here ^ (below >> 1);
}

int main(int argc, char **argv) {
	int depth = argc > 1 ? atoi(argv[1]) : 60;
	long rounds = argc > 2 ? atol(argv[2]) : 200000;
	printf("checksum %lu\n", descend(1, depth, rounds));
	return 7;
}
