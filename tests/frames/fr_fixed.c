/* fr_fixed.c - a fixed-timestep loop: zero to three simulation ticks per displayed frame
 *
 *     fr_fixed [F]      F frames (default 240, <= 20000)
 *
 * The classic accumulator: frame n adds its (simulated, not slept) duration
 * dt(n) to an accumulator and runs one tick per whole STEP = 16667 us in it,
 * at most 3 per frame (a slow frame's backlog beyond that is dropped, as
 * games do to avoid the spiral of death). Frame 1 has dt = 0: nothing to
 * simulate before the first frame. From frame 2 on dt cycles through
 *     16667, 8000, 9000, 40000, 70000, 5000, 16667, 33334 (us)
 * which, with the remainder carried from frame to frame, gives frames
 * 1..12 the ticks 0, 1, 0, 1, 2, 3, 0, 1, 2, 1, 1, 0 (the JSON line lists
 * every frame's "ticks"; the tests recompute them).
 *
 * Each tick calls gmtrace_tick(), ends one frame of the "physics" set
 * (gmtrace_frame_mark_n), and allocates exactly 3 blocks, FX_SIZE(1),
 * FX_SIZE(2), FX_SIZE(3), freed before the tick ends. Rendering allocates
 * nothing, then GMTRACE_FRAME(). So frame n allocates and frees 3 * ticks(n)
 * blocks, and every tick 3.
 *
 * Expected for F = 240 (from the code): 320 ticks, 960 allocations and
 * frees (9564480 bytes each way), nothing live at exit.
 */
#define _GNU_SOURCE
#include "fr_common.h"

#include <gmtrace.h>

#define FR_STEP_US 16667u
#define FR_MAX_TICKS 3u

static const uint64_t fr_dt_us[8] = {16667, 8000, 9000, 40000, 70000, 5000, 16667, 33334};

/* One simulation tick: three blocks for its contacts, gone by its end. */
static void fr_tick(void)
{
	void *b[3];
	gmtrace_tick();
	GMTRACE_FRAME_N("physics");
	for (unsigned k = 0; k < 3; k++)
		b[k] = fr_alloc(FX_SIZE(k + 1));
	for (unsigned k = 0; k < 3; k++)
		fr_free(b[k], FX_SIZE(k + 1));
	fr_cur()->ticks++;
}

int main(int argc, char **argv)
{
	uint64_t acc = 0, total_ticks = 0;

	fx_name = "fixed";
	uint64_t nframes = fx_arg_u64(argc > 1 ? argv[1] : NULL, 240);
	if (nframes < 1 || nframes > FR_MAX_FRAMES)
		fx_fail("usage", "fr_fixed [F], 1 <= F <= 20000");
	(void)gmtrace_enabled(); /* the marker API's one-time lookup, in frame 1 */

	for (uint64_t n = 1; n <= nframes; n++) {
		uint64_t dt = n == 1 ? 0 : fr_dt_us[(n - 2) % 8];
		unsigned ticks = 0;
		acc += dt;
		while (acc >= FR_STEP_US && ticks < FR_MAX_TICKS) {
			acc -= FR_STEP_US;
			fr_tick();
			ticks++;
		}
		if (acc >= FR_STEP_US)
			acc %= FR_STEP_US; /* drop the backlog */
		total_ticks += ticks;
		GMTRACE_FRAME();
		fr_next();
	}

	fx_json_begin();
	fx_json_u64("frames", nframes);
	fx_json_u64("step_us", FR_STEP_US);
	fx_json_u64("ticks_total", total_ticks);
	fx_json_u64("allocations_per_tick", 3);
	fx_json_str("tick_set", "physics");
	fr_json_tally();
	fr_json_per_frame(nframes, 1);
	return fx_json_write(1) == 0 ? 0 : 1;
}
