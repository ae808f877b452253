/* zeroalloc.c - it_zeroalloc: gmtrace allocates nothing for itself once running
 *
 *     it_zeroalloc [THREADS [OPS]]      (defaults 4 and 100000)
 *
 * Warms up (a few allocations on the main thread, so start-up and the main
 * thread's first record are behind us, then 50 ms for gmtrace's own thread
 * to settle), reads gmtrace_self_allocations(), starts THREADS threads that
 * each make a first allocation and then OPS allocation/free pairs, pausing
 * 1 ms every 2,000 like a game between frames (about one chunk of records
 * per thread, so a drainer inside the game keeps up with them even on a
 * loaded machine and works the way it does in a game), joins them, waits
 * 100 ms (so everything the threads wrote has been drained) and reads the
 * counter again. Prints one
 * JSON line: {"enabled":E,"self_before":A,"self_after":B,"footprint_bytes":F,
 * "allocations":N}. The test expects A == B under the preload (a thread's
 * first record may only use memory set aside before), E == 1 under the
 * preload and 0 without it. Output goes through write(2) after the counter
 * is read, so stdio's own buffer is not part of the measured window.
 */
#define _GNU_SOURCE
#include <gmtrace.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static unsigned long za_ops = 100000;
static void *volatile za_sink;

static void za_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0)
		;
}

static void *za_worker(void *arg)
{
	uintptr_t seed = (uintptr_t)arg * 2654435761u + 1;
	unsigned long i;
	void *first = malloc(24);

	za_sink = first;
	for (i = 0; i < za_ops; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		size_t n = 16 + (size_t)((seed >> 33) % 4000);
		void *p = malloc(n);
		if (p == NULL)
			return (void *)1;
		((volatile char *)p)[0] = 1;
		za_sink = p;
		free(p);
		if (i % 2000 == 1999)
			za_sleep_ms(1);
	}
	free(first);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned nthreads = 4, i;
	pthread_t th[64];
	uint64_t before, after;
	int enabled, failed = 0;
	char line[256];
	int len;

	if (argc > 1)
		nthreads = (unsigned)strtoul(argv[1], NULL, 10);
	if (argc > 2)
		za_ops = strtoul(argv[2], NULL, 10);
	if (nthreads == 0 || nthreads > 64)
		return 2;

	/* warm-up: the marker table lookup, the main thread's first records */
	for (i = 0; i < 64; i++) {
		void *p = malloc(32 + i);
		za_sink = p;
		free(p);
	}
	enabled = gmtrace_enabled();
	za_sleep_ms(50);
	before = gmtrace_self_allocations();

	for (i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, za_worker, (void *)(uintptr_t)(i + 1)) != 0)
			return 3;
	for (i = 0; i < nthreads; i++) {
		void *rv;
		pthread_join(th[i], &rv);
		failed |= rv != NULL;
	}
	za_sleep_ms(100);

	after = gmtrace_self_allocations();
	len = snprintf(line, sizeof(line),
	               "{\"enabled\":%d,\"self_before\":%llu,\"self_after\":%llu,"
	               "\"footprint_bytes\":%llu,\"allocations\":%llu}\n",
	               enabled, (unsigned long long)before, (unsigned long long)after,
	               (unsigned long long)gmtrace_footprint_bytes(),
	               (unsigned long long)nthreads * (za_ops + 1));
	if (write(1, line, (size_t)len) != len)
		return 1;
	return failed ? 4 : 0;
}
