// spin computes forever without calling the host (or until its argument,
// if any, is reached), so only a limit can stop it.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
	unsigned long limit = argc > 1 ? strtoul(argv[1], 0, 10) : 0;
	volatile unsigned long x = 0;
	for (unsigned long i = 0; limit == 0 || i < limit; i++)
		x = x * 6364136223846793005UL + i;
	printf("%lu\n", x);
	return 0;
}
