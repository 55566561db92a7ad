// filter copies standard input to standard output in upper case and says
// on standard error how many bytes it copied.
#include <ctype.h>
#include <stdio.h>

int main(void) {
	char buf[4096];
	size_t n, total = 0;
	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
		for (size_t i = 0; i < n; i++)
			buf[i] = toupper((unsigned char)buf[i]);
		if (fwrite(buf, 1, n, stdout) != n)
			return 1;
		total += n;
	}
	fprintf(stderr, "filter: %zu bytes\n", total);
	return ferror(stdin) ? 1 : 0;
}
