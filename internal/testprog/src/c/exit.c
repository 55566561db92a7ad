// exit prints a line and exits with the status its argument gives.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
	printf("exiting\n");
	exit(argc > 1 ? atoi(argv[1]) : 0);
}
