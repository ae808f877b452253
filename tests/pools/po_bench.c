/* po_bench.c - a game loop doing N pool operations per frame, timed (a benchmark)
 *
 *     po_bench N F           F frames (default 2000) of N pool operations each
 *
 * A pool of N / 2 slots (a free list); each frame acquires N / 2 objects,
 * writes them, releases them (N calls of gmtrace_pool_acquire/_release in
 * all), then GMTRACE_FRAME(). The loop is timed with CLOCK_MONOTONIC and
 * one line is printed: {"ops_per_frame":N,"frames":F,"ns":T,"ns_per_frame":T/F}.
 * Without libgmtrace the marker calls are the header's no-ops; with it,
 * the difference is what watching the pool costs (bench_pools.sh).
 */
#define _GNU_SOURCE
#include "po_common.h"

#include <time.h>

#include <gmtrace.h>

#define PO_MAX_SLOTS 100000
#define PO_SLOT_BYTES 64

static unsigned char po_storage[PO_MAX_SLOTS][PO_SLOT_BYTES];
static uint32_t po_free[PO_MAX_SLOTS], po_held[PO_MAX_SLOTS];

static uint64_t po_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	uint64_t ops = fx_arg_u64(argc > 1 ? argv[1] : NULL, 1000);
	uint64_t frames = fx_arg_u64(argc > 2 ? argv[2] : NULL, 2000), f, i, t0, t1, sum = 0;
	uint32_t nfree, half, pool;

	fx_name = "po_bench";
	if (ops < 2 || ops / 2 > PO_MAX_SLOTS || frames == 0)
		fx_fail("arguments", "usage: po_bench N F (2 <= N <= 200000, F >= 1)");
	half = (uint32_t)(ops / 2);
	for (nfree = 0; nfree < half; nfree++)
		po_free[nfree] = half - 1 - nfree;
	pool = gmtrace_pool_create("bench", PO_SLOT_BYTES, half);
	GMTRACE_FRAME(); /* the first frame holds the start-up */

	t0 = po_now_ns();
	for (f = 0; f < frames; f++) {
		for (i = 0; i < half; i++) {
			uint32_t s = po_free[--nfree];

			po_held[i] = s;
			po_storage[s][0] = (unsigned char)f;
			gmtrace_pool_acquire(pool, 1);
		}
		for (i = half; i-- > 0;) {
			uint32_t s = po_held[i];

			sum += po_storage[s][0];
			po_free[nfree++] = s;
			gmtrace_pool_release(pool, 1);
		}
		GMTRACE_FRAME();
	}
	t1 = po_now_ns();
	fx_sink = (void *)(uintptr_t)sum;

	fx_json_begin();
	fx_json_u64("ops_per_frame", half * 2);
	fx_json_u64("frames", frames);
	fx_json_u64("ns", t1 - t0);
	fx_json_u64("ns_per_frame", (t1 - t0) / frames);
	return fx_json_write(1) == 0 ? 0 : 1;
}
