// grow grows linear memory a page at a time until memory.grow fails or
// the number of pages its argument gives is reached, then prints the
// memory's size and whether growing failed.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
	long want = argc > 1 ? atol(argv[1]) : 65536;
	int failed = 0;
	while ((long)__builtin_wasm_memory_size(0) < want) {
		if (__builtin_wasm_memory_grow(0, 1) == (size_t)-1) {
			failed = 1;
			break;
		}
	}
	printf("pages=%zu failed=%d\n", __builtin_wasm_memory_size(0), failed);
	return 0;
}
