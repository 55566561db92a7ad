// flood writes as many mebibytes of 'x' to standard output as its argument
// says, in 64 KiB writes.
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buf[64 << 10];

int main(int argc, char **argv) {
	long mib = argc > 1 ? atol(argv[1]) : 1;
	memset(buf, 'x', sizeof buf);
	for (long i = 0; i < mib * 16; i++) {
		size_t off = 0;
		while (off < sizeof buf) {
			ssize_t n = write(1, buf + off, sizeof buf - off);
			if (n <= 0)
				return 1;
			off += n;
		}
	}
	return 0;
}
