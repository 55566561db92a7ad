// cpu.c is the CPU-bound benchmark program: integer hashing, a sieve of
// Eratosthenes and an n-body simulation, all deterministic. It prints one
// checksum line per part and a combined one, so that runs on different
// engines can be compared. The same source is built natively (gcc -O2) and
// for WebAssembly (clang --target=wasm32-wasi -O2).
//
// Usage: cpu [SIZE]   (SIZE defaults to 100; work grows linearly with it)
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// hash mixes a stream of 64-bit integers with FNV-1a and a splitmix64
// finalizer.
static uint64_t hash(long rounds) {
	uint64_t h = 1469598103934665603ull;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (long i = 0; i < rounds; i++) {
		x += 0x9e3779b97f4a7c15ull;
		uint64_t z = x;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		for (int b = 0; b < 8; b++) {
			h ^= (z >> (8 * b)) & 0xff;
			h *= 1099511628211ull;
		}
	}
	return h;
}

// sieve counts the primes below n and sums them, repeatedly.
static uint64_t sieve(int n, int reps) {
	unsigned char *composite = malloc(n);
	if (!composite) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	uint64_t sum = 0;
	for (int r = 0; r < reps; r++) {
		memset(composite, 0, n);
		for (long i = 2; i * i < n; i++) {
			if (!composite[i]) {
				for (long j = i * i; j < n; j += i) {
					composite[j] = 1;
				}
			}
		}
		uint64_t count = 0, total = 0;
		for (int i = 2; i < n; i++) {
			if (!composite[i]) {
				count++;
				total += i;
			}
		}
		sum = sum * 31 + count * 1000003 + total;
	}
	free(composite);
	return sum;
}

// nbody is the Computer Language Benchmarks Game simulation of the outer
// planets.
#define NBODIES 5
struct body {
	double x, y, z, vx, vy, vz, mass;
};

static double energy(struct body *b) {
	double e = 0;
	for (int i = 0; i < NBODIES; i++) {
		e += 0.5 * b[i].mass * (b[i].vx * b[i].vx + b[i].vy * b[i].vy + b[i].vz * b[i].vz);
		for (int j = i + 1; j < NBODIES; j++) {
			double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
			e -= b[i].mass * b[j].mass / sqrt(dx * dx + dy * dy + dz * dz);
		}
	}
	return e;
}

static double nbody(long steps) {
	const double pi = 3.141592653589793, solar = 4 * pi * pi, days = 365.24;
	struct body b[NBODIES] = {
		{0, 0, 0, 0, 0, 0, solar},
		{4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
		 1.66007664274403694e-03 * days, 7.69901118419740425e-03 * days, -6.90460016972063023e-05 * days,
		 9.54791938424326609e-04 * solar},
		{8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
		 -2.76742510726862411e-03 * days, 4.99852801234917238e-03 * days, 2.30417297573763929e-05 * days,
		 2.85885980666130812e-04 * solar},
		{1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
		 2.96460137564761618e-03 * days, 2.37847173959480950e-03 * days, -2.96589568540237556e-05 * days,
		 4.36624404335156298e-05 * solar},
		{1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
		 2.68067772490389322e-03 * days, 1.62824170038242295e-03 * days, -9.51592254519715870e-05 * days,
		 5.15138902046611451e-05 * solar},
	};
	double px = 0, py = 0, pz = 0;
	for (int i = 0; i < NBODIES; i++) {
		px += b[i].vx * b[i].mass;
		py += b[i].vy * b[i].mass;
		pz += b[i].vz * b[i].mass;
	}
	b[0].vx = -px / solar;
	b[0].vy = -py / solar;
	b[0].vz = -pz / solar;
	const double dt = 0.01;
	for (long s = 0; s < steps; s++) {
		for (int i = 0; i < NBODIES; i++) {
			for (int j = i + 1; j < NBODIES; j++) {
				double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
				double d2 = dx * dx + dy * dy + dz * dz;
				double mag = dt / (d2 * sqrt(d2));
				b[i].vx -= dx * b[j].mass * mag;
				b[i].vy -= dy * b[j].mass * mag;
				b[i].vz -= dz * b[j].mass * mag;
				b[j].vx += dx * b[i].mass * mag;
				b[j].vy += dy * b[i].mass * mag;
				b[j].vz += dz * b[i].mass * mag;
			}
		}
		for (int i = 0; i < NBODIES; i++) {
			b[i].x += dt * b[i].vx;
			b[i].y += dt * b[i].vy;
			b[i].z += dt * b[i].vz;
		}
	}
	return energy(b);
}

int main(int argc, char **argv) {
	long size = 100;
	if (argc > 1) {
		size = atol(argv[1]);
		if (size <= 0) {
			fprintf(stderr, "usage: cpu [SIZE]  (SIZE > 0, default 100)\n");
			return 2;
		}
	}
	uint64_t h = hash(size * 300000);
	uint64_t s = sieve(4000000, (int)size / 5 + 1);
	double e = nbody(size * 40000);
	printf("hash   %016llx\n", (unsigned long long)h);
	printf("sieve  %016llx\n", (unsigned long long)s);
	// Nine decimals: enough to catch a wrong result, few enough that
	// engines whose libm differs in the last bit still agree.
	printf("nbody  %.9f\n", e);
	return 0;
}
