/* fr_platformer.c - genre: a platformer, steady frames that almost never allocate
 *
 *     fr_platformer [F]    F frames (default 600, 60 <= F <= 20000), not slept
 *
 * Frame 1 loads the level: 12 blocks, FX_SIZE(1) .. FX_SIZE(12), kept until
 * frame F unloads it. Then the loop is steady: a frame with n % 15 == 0
 * plays a sound, one FX_SIZE(2) voice block allocated and freed in that
 * frame; a frame with n % 60 == 0 spawns an enemy, one FX_SIZE(3) block,
 * freeing the previous enemy (if any). Frame F frees the level and the last
 * enemy. Every other frame allocates nothing. GMTRACE_FRAME() ends a frame.
 *
 * Expected for F = 600 (from the code): frame 1: 12 allocations; 40 sound
 * frames (15, 30, ..., 600: one voice each), 10 enemy frames (60, ...,
 * 600, each also a sound frame); allocations 12 + 40 + 10 = 62, frees 62
 * (40 voices, 9 replaced enemies, at frame 600 the level and the last
 * enemy), nothing live at exit; 600 - 1 - 40 = 559 frames allocate nothing.
 */
#define _GNU_SOURCE
#include "fr_common.h"

#include <gmtrace.h>

int main(int argc, char **argv)
{
	void *level[12], *enemy = NULL;

	fx_name = "platformer";
	uint64_t nframes = fx_arg_u64(argc > 1 ? argv[1] : NULL, 600);
	if (nframes < 60 || nframes > FR_MAX_FRAMES)
		fx_fail("usage", "fr_platformer [F], 60 <= F <= 20000");
	(void)gmtrace_enabled(); /* the marker API's one-time lookup, in frame 1 */

	for (uint64_t n = 1; n <= nframes; n++) {
		if (n == 1)
			for (unsigned k = 0; k < 12; k++)
				level[k] = fr_alloc(FX_SIZE(k + 1));
		if (n % 15 == 0)
			fr_free(fr_alloc(FX_SIZE(2)), FX_SIZE(2));
		if (n % 60 == 0) {
			void *next = fr_alloc(FX_SIZE(3));
			if (enemy)
				fr_free(enemy, FX_SIZE(3));
			enemy = next;
		}
		if (n == nframes) {
			for (unsigned k = 0; k < 12; k++)
				fr_free(level[k], FX_SIZE(k + 1));
			if (enemy)
				fr_free(enemy, FX_SIZE(3));
		}
		GMTRACE_FRAME();
		fr_next();
	}

	fx_json_begin();
	fx_json_u64("frames", nframes);
	fr_json_tally();
	fr_json_per_frame(nframes, 0);
	return fx_json_write(1) == 0 ? 0 : 1;
}
