// mem.c is the program of the suspend and resume benchmarks: it allocates
// MIB mebibytes, fills them with non-zero pseudo-random data (so that no
// page of it is left out of a snapshot), prints "ready", then reads the
// memory round and round in 64 KiB chunks, mixing it into a checksum, and
// prints one line per chunk (flushed), so that the host sees it running
// again soon after a resume.
//
// Usage: mem [MIB [PASSES]]   (MIB defaults to 64; PASSES, the number of
// times the memory is read, to 1000)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHUNK (64 * 1024 / sizeof(uint64_t))

int main(int argc, char **argv) {
	long mib = argc > 1 ? atol(argv[1]) : 64;
	long passes = argc > 2 ? atol(argv[2]) : 1000;
	size_t n = (size_t)mib * 1024 * 1024 / sizeof(uint64_t);
	uint64_t *mem = NULL;
	if (n > 0) {
		mem = malloc(n * sizeof(uint64_t));
		if (!mem) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
	}
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < n; i++) {
		x += 0x9e3779b97f4a7c15ull;
		uint64_t z = x;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		mem[i] = (z ^ (z >> 31)) | 1;
	}
	printf("ready %ld MiB\n", mib);
	fflush(stdout);
	uint64_t sum = 0;
	long tick = 0;
	for (long p = 0; p < passes; p++) {
		for (size_t c = 0; c < n || (n == 0 && c == 0); c += CHUNK) {
			for (size_t i = c; i < c + CHUNK && i < n; i++) {
				sum = (sum ^ mem[i]) * 1099511628211ull;
			}
			if (n == 0) {
				for (int i = 0; i < 8192; i++) {
					sum = (sum ^ (uint64_t)i) * 1099511628211ull;
				}
			}
			printf("tick %ld %016llx\n", ++tick, (unsigned long long)sum);
			fflush(stdout);
		}
	}
	return 0;
}
