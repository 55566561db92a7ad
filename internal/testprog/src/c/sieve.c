// sieve counts the primes below its first argument (default 300000) with
// a sieve of Eratosthenes in a malloc'd array, so that a run passes many
// loop headers; then it allocates as many MiB as its second argument says
// (default 6) in blocks of 1 MiB, which grows linear memory, fills them
// and checksums them, so that a suspension can happen under memory
// growth. It prints what it found and exits with status 5.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 300000;
	long mib = argc > 2 ? atol(argv[2]) : 6;
	unsigned char *composite = calloc(n, 1);
	if (!composite)
		return 1;
	long count = 0;
	unsigned long sum = 0;
	for (long i = 2; i < n; i++) {
		if (composite[i])
			continue;
		count++;
		sum = sum * 31 + i;
		if (i > n / i)
			continue;
		for (long j = i * i; j < n; j += i)
			composite[j] = 1;
	}
	printf("primes below %ld: %ld (hash %lu)\n", n, count, sum);
	unsigned long check = 0;
	unsigned char *blocks[64];
	for (long b = 0; b < mib && b < 64; b++) {
		blocks[b] = malloc(1 << 20);
		if (!blocks[b]) {
			fprintf(stderr, "sieve: out of memory at block %ld\n", b);
			return 2;
		}
		for (long k = 0; k < (1 << 20); k += 64)
			blocks[b][k] = (unsigned char)(b * 7 + k / 64);
		for (long k = 0; k < (1 << 20); k += 4096)
			check = check * 33 + blocks[b][k] + composite[(b * 4096 + k) % n];
	}
	printf("%ld MiB, check %lu\n", mib, check);
	fprintf(stderr, "sieve: done\n");
	return 5;
}
