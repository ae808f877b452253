/* as_streaming.c - a background thread streams assets in and out of a ring while the game plays
 *
 *     as_streaming [N [R]]    N stream assets (default 48, <= 256), at most R
 *                             resident at once (default 6, 2 <= R <= 16)
 *
 * The streamer thread (created before any scope) loads stream_00 ..
 * stream_<N-1> in order, each under tag "streaming": asset i holds
 * 1 + i % 3 blocks of FX_SIZE(1 + i % 7), and gets one reference after its
 * load. When more than R are resident it releases and unloads the oldest
 * (freeing its blocks). Thrash: right after it unloads stream_<T> (T = 10),
 * it loads the same name again (a new id, same blocks), a step later at most;
 * that copy goes back in the ring like any other. At the end it releases and
 * unloads everything left. It sleeps 300 us between steps.
 *
 * The main thread plays frames until the streamer is done (plus 3 more):
 * each frame it touches the newest and the oldest resident stream asset,
 * under the ring's mutex (so it never touches an asset being unloaded), then
 * GMTRACE_FRAME() and sleeps 200 us. How many frames that takes depends on
 * scheduling and is reported ("frames"); nothing checked depends on it.
 *
 * Every byte figure is independent of scheduling. Expected for the defaults:
 * 49 loads (48 assets + the reload), 49 unloads, every load's blocks freed by
 * its unload: loaded_bytes = unloaded_bytes = 1770998, 98 allocations, 98
 * frees, nothing live at exit; every stream asset ends unloaded with 0
 * references; the thrashed asset is stream_10.
 */
#define _GNU_SOURCE
#include "as_common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define AS_MAX_ASSETS 256
#define AS_MAX_RING 16
#define AS_THRASH 10

static as_tag_t as_streaming_tag = {.name = "streaming", .parent = NULL};
static char as_names[AS_MAX_ASSETS][16];
/* one entry per load: the N assets, then the thrash reload */
static as_asset_t as_loads[AS_MAX_ASSETS + 1];
static as_block_t as_blocks[AS_MAX_ASSETS + 1][3];
static unsigned as_nloads;

/* The ring of resident loads (indexes into as_loads), oldest first.
 * as_ring_lock guards it and every marker call on its assets. */
static pthread_mutex_t as_ring_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned as_ring[AS_MAX_RING + 2];
static unsigned as_nring;
static atomic_int as_streamer_done;
static uint64_t as_n = 48, as_r = 6;
static uint64_t as_loaded_bytes, as_unloaded_bytes, as_touch_calls;

static void as_nap(long us)
{
	struct timespec ts = {0, us * 1000};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Loads the i-th stream asset as a new load and puts it in the ring. */
static void as_stream_in(unsigned i)
{
	as_asset_t *a = &as_loads[as_nloads];
	unsigned nb = 1 + i % 3;
	a->name = as_names[i];
	a->type = "texture";
	pthread_mutex_lock(&as_ring_lock);
	gmtrace_tag_push("streaming");
	as_load_begin(a);
	for (unsigned b = 0; b < nb; b++)
		as_blocks[as_nloads][b] = as_alloc(a, &as_streaming_tag, 1 + i % 7, 1);
	as_load_end(a);
	gmtrace_tag_pop();
	gmtrace_asset_ref(a->id);
	as_loaded_bytes += a->t.alloc_bytes;
	as_ring[as_nring++] = as_nloads++;
	pthread_mutex_unlock(&as_ring_lock);
}

/* Releases and unloads the oldest resident load; returns its index. */
static unsigned as_stream_out(void)
{
	pthread_mutex_lock(&as_ring_lock);
	unsigned k = as_ring[0];
	as_asset_t *a = &as_loads[k];
	memmove(as_ring, as_ring + 1, (as_nring - 1) * sizeof(as_ring[0]));
	as_nring--;
	gmtrace_asset_release(a->id);
	as_unload(a, as_blocks[k], 3);
	as_unloaded_bytes += a->t.freed_bytes;
	pthread_mutex_unlock(&as_ring_lock);
	return k;
}

static void *as_streamer(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < as_n; i++) {
		as_stream_in(i);
		while (as_nring > as_r) {
			unsigned k = as_stream_out();
			if (k == AS_THRASH)
				as_stream_in(AS_THRASH); /* reloaded at once */
		}
		as_nap(300);
	}
	while (as_nring > 0)
		as_stream_out();
	atomic_store(&as_streamer_done, 1);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t streamer;
	fx_name = "streaming";
	as_n = fx_arg_u64(argc > 1 ? argv[1] : NULL, 48);
	as_r = fx_arg_u64(argc > 2 ? argv[2] : NULL, 6);
	if (as_n <= AS_THRASH + as_r || as_n > AS_MAX_ASSETS || as_r < 2 || as_r > AS_MAX_RING)
		fx_fail("usage", "as_streaming [N [R]], 2 <= R <= 16, R + 10 < N <= 256");
	for (unsigned i = 0; i < as_n; i++) {
		char *s = as_names[i], *d = s + 7;
		memcpy(s, "stream_", 7);
		if (i >= 100)
			*d++ = (char)('0' + i / 100);
		*d++ = (char)('0' + i / 10 % 10);
		*d++ = (char)('0' + i % 10);
		*d = 0;
	}
	(void)gmtrace_enabled(); /* the marker API's one-time lookup */
	if (pthread_create(&streamer, NULL, as_streamer, NULL) != 0)
		fx_fail("pthread_create", "failed");

	for (unsigned tail = 0; tail < 3;) {
		if (atomic_load(&as_streamer_done))
			tail++;
		pthread_mutex_lock(&as_ring_lock);
		if (as_nring > 0) {
			gmtrace_asset_touch(as_loads[as_ring[as_nring - 1]].id);
			gmtrace_asset_touch(as_loads[as_ring[0]].id);
			as_touch_calls += 2;
		}
		pthread_mutex_unlock(&as_ring_lock);
		as_frame_end();
		as_nap(200);
	}
	if (pthread_join(streamer, NULL) != 0)
		fx_fail("pthread_join", "failed");

	fx_json_begin();
	as_json_common();
	fx_json_u64("stream_assets", as_n);
	fx_json_u64("ring", as_r);
	fx_json_u64("loads", as_nloads);
	fx_json_u64("unloads", as_nloads);
	fx_json_u64("loaded_bytes", as_loaded_bytes);
	fx_json_u64("unloaded_bytes", as_unloaded_bytes);
	fx_json_u64("touch_calls", as_touch_calls);
	fx_json_str("thrashed", as_names[AS_THRASH]);
	fx_json_str("tag", as_streaming_tag.name);
	fx_json_open("assets", '[');
	for (unsigned k = 0; k < as_nloads; k++)
		as_json_asset(&as_loads[k]);
	fx_json_close(']');
	return fx_json_write(1) == 0 ? 0 : 1;
}
