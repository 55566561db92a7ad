// tiny recurses a few frames deep, loops at the bottom and writes one
// decimal number without stdio: a small suspendable program whose
// snapshots are small, for tests that corrupt them byte by byte.
#include <unistd.h>

static unsigned long long dive(int depth, unsigned long long x) {
	if (depth == 0) {
		for (int i = 0; i < 2000; i++)
			x = x * 6364136223846793005ULL + i;
		return x;
	}
	unsigned long long below = dive(depth - 1, x + depth);
	return (below >> 1) ^ (x << 3);
}

int main(void) {
	char buf[24];
	unsigned long long v = dive(8, 1) % 1000000007ULL;
	int n = sizeof buf;
	buf[--n] = '\n';
	do {
		buf[--n] = '0' + v % 10;
		v /= 10;
	} while (v);
	write(1, buf + n, sizeof buf - n);
	return 9;
}
