/* fr_openworld.c - genre: an open world streaming chunks on a background thread
 *
 *     fr_openworld [F [C]]   F frames (default 300, <= 20000), C chunk loads
 *                            (default 400), not slept
 *
 * The main thread plays F frames: each allocates 2 scratch blocks,
 * FX_SIZE(1) and FX_SIZE(2), and frees them before GMTRACE_FRAME(). A
 * streaming thread, started before frame 1, loads C chunks while the game
 * runs: chunk c is 4 blocks, FX_SIZE(16) .. FX_SIZE(19); at most W = 8
 * chunks stay loaded, so loading chunk c >= 8 first evicts chunk c - 8
 * (4 frees); at its end the streamer frees the chunks still loaded. It paces
 * itself on the frame counter (chunk c waits for frame c * F / C to begin)
 * so its work spreads over the frames; after the last frame the main thread
 * joins it. Which frame a chunk lands in depends on scheduling; the totals
 * per thread do not.
 *
 * Expected (from the code): main thread 2F allocations and 2F frees
 * (600 each for F = 300, frame n: 2 and 2); streamer 4C allocations and
 * 4C frees (1600 each for C = 400); nothing live at exit. The line reports
 * per thread ("threads": role, tid, allocations, frees, allocated_bytes,
 * freed_bytes) and the main thread's frames ("per_frame").
 */
#define _GNU_SOURCE
#include "fr_common.h"

#include <gmtrace.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#define FR_WINDOW 8u

static atomic_uint_fast64_t fr_frame_now = 1; /* the frame the main thread plays */
static uint64_t fr_nframes, fr_nchunks;
static fx_tally_t fr_stream; /* the streamer's own tally */
static uint64_t fr_stream_tid;

static void fr_stream_alloc(void **b, size_t n)
{
	*b = malloc(n);
	if (!*b)
		fx_fail("malloc", "a chunk block");
	fx_touch(*b, n);
	fx_tally_alloc(&fr_stream, n);
}

static void *fr_streamer(void *arg)
{
	static void *loaded[FR_WINDOW][4];
	(void)arg;
	fr_stream_tid = (uint64_t)syscall(SYS_gettid);
	for (uint64_t c = 0; c < fr_nchunks; c++) {
		uint64_t due = c * fr_nframes / fr_nchunks + 1;
		while (atomic_load(&fr_frame_now) < due)
			sched_yield();
		void **slot = loaded[c % FR_WINDOW];
		if (c >= FR_WINDOW)
			for (unsigned j = 0; j < 4; j++) {
				free(slot[j]);
				fx_tally_free(&fr_stream, FX_SIZE(16 + j));
			}
		for (unsigned j = 0; j < 4; j++)
			fr_stream_alloc(&slot[j], FX_SIZE(16 + j));
	}
	for (uint64_t c = fr_nchunks > FR_WINDOW ? fr_nchunks - FR_WINDOW : 0; c < fr_nchunks; c++)
		for (unsigned j = 0; j < 4; j++) {
			free(loaded[c % FR_WINDOW][j]);
			fx_tally_free(&fr_stream, FX_SIZE(16 + j));
		}
	return NULL;
}

static void fr_json_thread(const char *role, uint64_t tid, const fx_tally_t *t)
{
	fx_json_open(NULL, '{');
	fx_json_str("role", role);
	fx_json_u64("tid", tid);
	fx_json_u64("allocations", t->nallocs);
	fx_json_u64("frees", t->nfrees);
	fx_json_u64("allocated_bytes", t->alloc_bytes);
	fx_json_u64("freed_bytes", t->freed_bytes);
	fx_json_close('}');
}

int main(int argc, char **argv)
{
	pthread_t th;

	fx_name = "openworld";
	fr_nframes = fx_arg_u64(argc > 1 ? argv[1] : NULL, 300);
	fr_nchunks = fx_arg_u64(argc > 2 ? argv[2] : NULL, 400);
	if (fr_nframes < 1 || fr_nframes > FR_MAX_FRAMES || fr_nchunks > 1000000)
		fx_fail("usage", "fr_openworld [F [C]], 1 <= F <= 20000, C <= 1000000");
	(void)gmtrace_enabled(); /* the marker API's one-time lookup, in frame 1 */
	if (pthread_create(&th, NULL, fr_streamer, NULL) != 0)
		fx_fail("pthread_create", "the streaming thread");

	for (uint64_t n = 1; n <= fr_nframes; n++) {
		void *a = fr_alloc(FX_SIZE(1)), *b = fr_alloc(FX_SIZE(2));
		fr_free(a, FX_SIZE(1));
		fr_free(b, FX_SIZE(2));
		GMTRACE_FRAME();
		fr_next();
		atomic_store(&fr_frame_now, n + 1);
	}
	if (pthread_join(th, NULL) != 0)
		fx_fail("pthread_join", "the streaming thread");

	fx_tally_t all = fr_tally;
	fx_tally_add(&all, &fr_stream);
	fx_json_begin();
	fx_json_u64("frames", fr_nframes);
	fx_json_u64("chunks", fr_nchunks);
	fx_json_u64("window", FR_WINDOW);
	fx_json_tally(&all);
	fx_json_open("threads", '[');
	fr_json_thread("main", (uint64_t)syscall(SYS_gettid), &fr_tally);
	fr_json_thread("streamer", fr_stream_tid, &fr_stream);
	fx_json_close(']');
	fr_json_per_frame(fr_nframes, 0);
	return fx_json_write(1) == 0 ? 0 : 1;
}
