/* clock.c - bench helper: what reading the clock costs on this machine
 *
 * The events level reads the time-stamp counter once per event (see
 * interpose/record/thread.h), so its cost per malloc+free pair has two
 * reads in it. This prints the cost of one read, back to back, as the
 * median of 9 rounds of 2,000,000 reads each, and the same for
 * clock_gettime(CLOCK_MONOTONIC) (the vDSO's, 200,000 reads a round):
 *
 *   tsc_ns=...  mono_ns=...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CLOCK_ROUNDS 9

static volatile uint64_t clock_sink;

static double clock_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int clock_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double clock_tsc_round(long n)
{
	uint64_t sum = 0;
	double t0 = clock_now_ns();
	for (long i = 0; i < n; i++)
		sum += __builtin_ia32_rdtsc();
	double t1 = clock_now_ns();
	clock_sink = sum;
	return (t1 - t0) / (double)n;
}

static double clock_mono_round(long n)
{
	uint64_t sum = 0;
	struct timespec ts;
	double t0 = clock_now_ns();
	for (long i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sum += (uint64_t)ts.tv_nsec;
	}
	double t1 = clock_now_ns();
	clock_sink = sum;
	return (t1 - t0) / (double)n;
}

int main(void)
{
	double tsc[CLOCK_ROUNDS], mono[CLOCK_ROUNDS];
	for (int r = 0; r < CLOCK_ROUNDS; r++) {
		tsc[r] = clock_tsc_round(2000000);
		mono[r] = clock_mono_round(200000);
	}
	qsort(tsc, CLOCK_ROUNDS, sizeof(double), clock_cmp);
	qsort(mono, CLOCK_ROUNDS, sizeof(double), clock_cmp);
	printf("tsc_ns=%.2f\nmono_ns=%.2f\n", tsc[CLOCK_ROUNDS / 2], mono[CLOCK_ROUNDS / 2]);
	return 0;
}
