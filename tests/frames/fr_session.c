/* fr_session.c - a long session fast-forwarded: many frames, the same work in each
 *
 *     fr_session [F [A]]   F frames (default 216000: an hour at 60 fps),
 *                          A allocations per frame (default 100), not slept
 *
 * Every frame allocates A blocks, block j of FX_SIZE(1 + j % 4), and frees
 * them all before GMTRACE_FRAME(), so each frame's figures are the same:
 * A allocations, A frees, and the bytes below. Frame 1 also allocates an
 * anchor, FX_SIZE(1), after its blocks, freed only after the last frame:
 * it keeps the frames' freed blocks from merging into the top of glibc's
 * heap, which would otherwise give the memory back to the kernel and take
 * it again every frame once a frame frees more than the trim threshold
 * (128 KiB), making the loop 100 times slower with or without gmtrace. Meant for the frames level
 * (GMTRACE_LEVEL=frames), where a capture must grow with the number of
 * frames, not with the allocations in them. No per-frame arrays in the
 * JSON line (F is large): "frame_allocations", "frame_allocated_bytes"
 * give the one value every frame has, plus the run's tally and "loop_ns".
 *
 * After the last frame, a shutdown: blocks of FX_SIZE(5), FX_SIZE(6) and
 * FX_SIZE(7), allocated, then freed: in no frame ("shutdown_allocations",
 * "shutdown_bytes"; the frames level writes them as one total at the end).
 *
 * Expected (from the code): allocations = frees = F * A + 4 (the anchor,
 * allocated in frame 1, freed after frame F, and the shutdown's 3); per
 * frame allocated bytes = sum over j < A of FX_SIZE(1 + j % 4) (+
 * FX_SIZE(1) in frame 1); nothing live at exit.
 */
#define _GNU_SOURCE
#include "fixture.h"

#include <gmtrace.h>
#include <time.h>

#define FR_MAX_PER_FRAME 100000u

static void *fr_blocks[FR_MAX_PER_FRAME];

static uint64_t fr_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	fx_tally_t t = {0};
	uint64_t frame_bytes = 0, t0;
	void *anchor = NULL;

	fx_name = "session";
	uint64_t nframes = fx_arg_u64(argc > 1 ? argv[1] : NULL, 216000);
	uint64_t per = fx_arg_u64(argc > 2 ? argv[2] : NULL, 100);
	if (nframes < 1 || per < 1 || per > FR_MAX_PER_FRAME)
		fx_fail("usage", "fr_session [F [A]], F >= 1, 1 <= A <= 100000");
	for (uint64_t j = 0; j < per; j++)
		frame_bytes += FX_SIZE(1 + j % 4);
	(void)gmtrace_enabled(); /* the marker API's one-time lookup, in frame 1 */

	t0 = fr_now_ns();
	for (uint64_t n = 1; n <= nframes; n++) {
		for (uint64_t j = 0; j < per; j++) {
			fr_blocks[j] = malloc(FX_SIZE(1 + j % 4));
			if (!fr_blocks[j])
				fx_fail("malloc", "a frame's block");
			fx_touch(fr_blocks[j], FX_SIZE(1 + j % 4));
		}
		if (n == 1) {
			anchor = malloc(FX_SIZE(1));
			if (!anchor)
				fx_fail("malloc", "the anchor");
			fx_touch(anchor, FX_SIZE(1));
		}
		for (uint64_t j = 0; j < per; j++)
			free(fr_blocks[j]);
		GMTRACE_FRAME();
	}
	uint64_t loop_ns = fr_now_ns() - t0;
	free(anchor);
	{
		void *down[3];
		for (unsigned k = 0; k < 3; k++) {
			down[k] = malloc(FX_SIZE(5 + k));
			if (!down[k])
				fx_fail("malloc", "a shutdown block");
			fx_touch(down[k], FX_SIZE(5 + k));
		}
		for (unsigned k = 0; k < 3; k++)
			free(down[k]);
	}
	/* the tally once, from the per-frame constants (counting 2 * F * A
	 * calls one by one would cost as much as the loop) */
	t.nallocs = t.nfrees = nframes * per + 1 + 3;
	t.alloc_bytes = t.freed_bytes =
	        nframes * frame_bytes + FX_SIZE(1) + FX_SIZE(5) + FX_SIZE(6) + FX_SIZE(7);
	for (uint64_t k = 1; k <= 4 && k <= per; k++)
		t.size_mask |= (uint64_t)1 << (k - 1);
	t.size_mask |= (uint64_t)7 << 4; /* 5, 6, 7 */

	fx_json_begin();
	fx_json_u64("frames", nframes);
	fx_json_u64("frame_allocations", per);
	fx_json_u64("frame_frees", per);
	fx_json_u64("frame_allocated_bytes", frame_bytes);
	fx_json_u64("shutdown_allocations", 3);
	fx_json_u64("shutdown_bytes", FX_SIZE(5) + FX_SIZE(6) + FX_SIZE(7));
	fx_json_tally(&t);
	fx_json_u64("loop_ns", loop_ns);
	return fx_json_write(1) == 0 ? 0 : 1;
}
