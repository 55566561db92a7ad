// grow_slowly grows linear memory a page at a time to the page count of
// its argument, as internal/testprog/src/c/grow.c does, but spins
// between growths through more loop iterations than the runtime's check
// interval (1 << 14 check sites): a suspension requested while it grows
// lands partway. grow.c passes a check site a page, so it would be 1 GiB
// into its growth at its second check.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
	long want = argc > 1 ? atol(argv[1]) : 100;
	int failed = 0;
	while ((long)__builtin_wasm_memory_size(0) < want) {
		if (__builtin_wasm_memory_grow(0, 1) == (size_t)-1) {
			failed = 1;
			break;
		}
		for (volatile int i = 0; i < 50000; i++) {
		}
	}
	printf("pages=%zu failed=%d\n", __builtin_wasm_memory_size(0), failed);
	return 0;
}
