/* fr_bullethell.c - genre: a bullet hell, thousands of short-lived blocks every frame
 *
 *     fr_bullethell [F]    F frames (default 120, <= 2000), not slept
 *
 * Frame n first frees the bullets whose life ends in it, then fires
 * B(n) = 2000 + (n * 37) % 500 bullets, each a block of FX_SIZE(1).
 * Bullet i (a global count from 0) lives L(i) = 1 + i % 4 frames: fired in
 * frame n, it is freed at the start of frame n + L(i). Frame F also frees
 * every bullet still in flight, after firing. GMTRACE_FRAME() ends a frame.
 *
 * Expected (from the code; the JSON line has every frame): allocations =
 * sum of B(n); frees the same; nothing live at exit; every frame from 2
 * on frees about B / 4 bullets of each of the 4 frames before it.
 */
#define _GNU_SOURCE
#include "fr_common.h"

#include <gmtrace.h>

#define FR_MAX_BULLETS 2500u /* per frame */

/* Bullets in flight by the frame slot (n % 5) where they die. */
static void *fr_dying[5][4 * FR_MAX_BULLETS];
static uint64_t fr_ndying[5];

static void fr_free_slot(unsigned slot)
{
	for (uint64_t j = 0; j < fr_ndying[slot]; j++)
		fr_free(fr_dying[slot][j], FX_SIZE(1));
	fr_ndying[slot] = 0;
}

int main(int argc, char **argv)
{
	uint64_t fired = 0;

	fx_name = "bullethell";
	uint64_t nframes = fx_arg_u64(argc > 1 ? argv[1] : NULL, 120);
	if (nframes < 1 || nframes > 2000)
		fx_fail("usage", "fr_bullethell [F], 1 <= F <= 2000");
	(void)gmtrace_enabled(); /* the marker API's one-time lookup, in frame 1 */

	for (uint64_t n = 1; n <= nframes; n++) {
		uint64_t b = 2000 + (n * 37) % 500;
		fr_free_slot((unsigned)(n % 5));
		for (uint64_t j = 0; j < b; j++, fired++) {
			unsigned slot = (unsigned)((n + 1 + fired % 4) % 5);
			fr_dying[slot][fr_ndying[slot]++] = fr_alloc(FX_SIZE(1));
		}
		if (n == nframes)
			for (unsigned s = 0; s < 5; s++)
				fr_free_slot(s);
		GMTRACE_FRAME();
		fr_next();
	}

	fx_json_begin();
	fx_json_u64("frames", nframes);
	fr_json_tally();
	fr_json_per_frame(nframes, 0);
	return fx_json_write(1) == 0 ? 0 : 1;
}
