/* frames.c - a 60 FPS game loop for the per-frame overhead benchmark
 *
 *     frames N [F]     F frames (default 90) of N allocations each
 *
 * Each frame allocates N blocks of 16..400 bytes, keeps a tenth of them for
 * the next frame, frees the rest, marks the frame (gmtrace_frame_mark, a
 * no-op without gmtrace) and sleeps to the next 16.667 ms tick, as a game
 * holding 60 FPS does. It prints the median and mean busy time per frame
 * (frame start to the sleep) in ms: what gmtrace adds to a frame is the
 * difference against the same run without it.
 */
#define _GNU_SOURCE
#include <gmtrace.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void *volatile sink;

static uint64_t bf_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int bf_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000, f = argc > 2 ? atol(argv[2]) : 90, i, k;
	void **blocks, **kept;
	uint64_t *busy, next, sum = 0;
	long nkept = 0;
	struct timespec until;
	if (n < 1 || f < 3) {
		fprintf(stderr, "usage: frames N [F]\n");
		return 2;
	}
	blocks = calloc((size_t)n, sizeof(*blocks));
	kept = calloc((size_t)n, sizeof(*kept));
	busy = calloc((size_t)f, sizeof(*busy));
	next = bf_now();
	for (k = 0; k < f; k++) {
		uint64_t start = bf_now();
		for (i = 0; i < nkept; i++)
			free(kept[i]);
		nkept = 0;
		for (i = 0; i < n; i++) {
			blocks[i] = malloc(16 + (size_t)((i * 37 + k) % 385));
			sink = blocks[i];
		}
		for (i = 0; i < n; i++) {
			if (i % 10 == 0)
				kept[nkept++] = blocks[i];
			else
				free(blocks[i]);
		}
		gmtrace_frame_mark();
		busy[k] = bf_now() - start;
		next += 16666667ull;
		until.tv_sec = (time_t)(next / 1000000000ull);
		until.tv_nsec = (long)(next % 1000000000ull);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
	}
	/* the first frames warm caches and the heap: leave them out */
	for (k = 2; k < f; k++)
		sum += busy[k];
	qsort(busy + 2, (size_t)(f - 2), sizeof(*busy), bf_cmp);
	printf("%.4f %.4f\n", busy[2 + (f - 2) / 2] / 1e6, sum / 1e6 / (double)(f - 2));
	return 0;
}
