/* po_under.c - a pool released more often than acquired
 *
 *     po_under               4 frames, one JSON line at exit
 *
 * Pool "p": 16-byte objects, capacity 8. Frame 1 acquires 2 (from the
 * pool) and releases 3: one release with no acquire. Frame 2 makes no call.
 * Frame 3 acquires 1, frame 4 releases it. gmtrace never reports a
 * negative count: frame 1's pool_frame says 0 in use; at frame 2's end the
 * count is below zero for the second frame end in a row, so one
 * pool_underflow validation (b = 1) follows. The counts stay the game's:
 * 0 in use after frame 3, -1 (shown as 0) after frame 4, the first frame
 * end of a new stretch below zero, which says nothing yet. Then the pool
 * is destroyed and acquired once more (frame 5): a call on a destroyed
 * pool is one unknown_pool validation and is not counted.
 */
#define _GNU_SOURCE
#include "po_common.h"

#include <gmtrace.h>

int main(void)
{
	uint32_t pool;
	fx_name = "po_under";
	FX_CHECK(gmtrace_enabled(), "runs under libgmtrace");
	pool = gmtrace_pool_create("p", 16, 8);
	FX_CHECK(pool != 0, "pool created");
	gmtrace_pool_acquire(pool, 1);
	gmtrace_pool_acquire(pool, 1);
	gmtrace_pool_release(pool, 1);
	gmtrace_pool_release(pool, 1);
	gmtrace_pool_release(pool, 1); /* never acquired */
	GMTRACE_FRAME();
	GMTRACE_FRAME();
	gmtrace_pool_acquire(pool, 1);
	GMTRACE_FRAME();
	gmtrace_pool_release(pool, 1);
	GMTRACE_FRAME();
	gmtrace_pool_destroy(pool);
	gmtrace_pool_acquire(pool, 1); /* destroyed */
	GMTRACE_FRAME();

	fx_json_begin();
	fx_json_u64("pool", pool);
	fx_json_u64("frames", 5);
	return fx_json_write(1) == 0 ? 0 : 1;
}
