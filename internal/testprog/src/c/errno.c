// errno tries what Gate does not provide (files, directories, sockets,
// seeking stdio) and prints each call's result, so that a test can check
// that each fails with an error rather than stopping the program.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void report(const char *what, int result) {
	printf("%s: %s\n", what, result < 0 ? strerror(errno) : "ok");
	errno = 0;
}

int main(void) {
	struct stat st;
	struct timespec ts;
	report("open", open("/etc/passwd", O_RDONLY));
	report("opendir", opendir(".") ? 0 : -1);
	report("mkdir", mkdir("x", 0700));
	report("lseek stdout", (int)lseek(1, 0, SEEK_SET));
	report("fstat stdin", fstat(0, &st));
	report("isatty stdout", isatty(1) ? 0 : -1);
	report("close 7", close(7));
	report("clock realtime", clock_gettime(CLOCK_REALTIME, &ts));
	report("clock monotonic", clock_gettime(CLOCK_MONOTONIC, &ts));
	return 0;
}
