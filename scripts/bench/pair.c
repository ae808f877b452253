/* pair.c - bench workload: cost of one malloc+free pair and of one realloc
 *
 * Single thread. Phase 1 allocates and frees one block at a time, sizes
 * cycling 16, 32, ..., 512 bytes. Phase 2 keeps one block and reallocs it
 * up and down a ladder 16 B .. 4 KiB .. 16 B (every call changes the size).
 * Each phase is timed with clock_gettime around the loop only, after a
 * short warm-up, and printed as "key=value" lines that scripts/bench.sh
 * parses:
 *
 *   pair_ns=...  realloc_ns=...  pairs=...  reallocs=...  maxrss_kb=...
 *
 *   pair [--pairs N] [--reallocs N]      (defaults 10000000 and 4000000)
 *
 * Every pointer is stored into a volatile sink so the compiler cannot pair
 * up and delete the malloc/free calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

static void *volatile pair_sink;

static double pair_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

__attribute__((noinline)) static void pair_run_pairs(long n)
{
	long i;
	for (i = 0; i < n; i++) {
		size_t size = 16 + (size_t)(i & 31) * 16;
		void *p = malloc(size);
		pair_sink = p;
		free(p);
	}
}

/* Sizes 16, 32, ..., 4096 and back down, so each call grows or shrinks. */
__attribute__((noinline)) static void pair_run_reallocs(long n)
{
	static const size_t ladder[] = {16,   32,   64,   128, 256, 512, 1024, 2048,
	                                4096, 2048, 1024, 512, 256, 128, 64,   32};
	const size_t nladder = sizeof(ladder) / sizeof(ladder[0]);
	void *p = malloc(16);
	long i;
	for (i = 0; i < n; i++) {
		void *q = realloc(p, ladder[(size_t)(i + 1) % nladder]);
		if (!q) {
			fprintf(stderr, "pair: realloc failed\n");
			exit(1);
		}
		p = q;
		pair_sink = p;
	}
	free(p);
}

int main(int argc, char **argv)
{
	long pairs = 10000000, reallocs = 4000000;
	double t0, pair_ns = 0, realloc_ns = 0;
	struct rusage ru;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--pairs") == 0 && i + 1 < argc)
			pairs = atol(argv[++i]);
		else if (strcmp(argv[i], "--reallocs") == 0 && i + 1 < argc)
			reallocs = atol(argv[++i]);
		else {
			fprintf(stderr, "usage: pair [--pairs N] [--reallocs N]\n");
			return 2;
		}
	}

	/* warm-up: first-touch of the heap, the profiler's first chunk */
	pair_run_pairs(pairs < 100000 ? pairs : 100000);

	if (pairs > 0) {
		t0 = pair_now_ns();
		pair_run_pairs(pairs);
		pair_ns = (pair_now_ns() - t0) / (double)pairs;
	}
	if (reallocs > 0) {
		t0 = pair_now_ns();
		pair_run_reallocs(reallocs);
		realloc_ns = (pair_now_ns() - t0) / (double)reallocs;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("pair_ns=%.2f\nrealloc_ns=%.2f\npairs=%ld\nreallocs=%ld\nmaxrss_kb=%ld\n", pair_ns,
	       realloc_ns, pairs, reallocs, ru.ru_maxrss);
	return 0;
}
