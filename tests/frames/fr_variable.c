/* fr_variable.c - a variable-timestep loop: allocations proportional to each frame's dt
 *
 *     fr_variable [F [sleep]]   F frames (default 200, <= 20000); sleep = 1
 *                               (default) sleeps each frame to its deadline,
 *                               0 only simulates the time
 *
 * Frame n lasts dt(n) = 1000 + ((n * 37) % 11) * 500 us (1 to 6 ms) of
 * simulated time; with sleep = 1 the loop also sleeps to the absolute
 * deadline start + t(n), so the frames gmtrace times last about as long.
 * The game's emitter spawns RATE = 4000 particles per simulated second:
 * by the end of frame n (t(n) = dt(1) + ... + dt(n)) it has spawned
 * floor(RATE * t(n) / 1e6) in all, each a block of FX_SIZE(1); a particle
 * lives LIFE = 50 ms of simulated time and is freed in the first frame that
 * ends at or after its death (oldest first). Frame figures depend only on
 * the simulated clock, never on the real one. The last frame frees every
 * particle still alive.
 *
 * The JSON line adds "dt_us" (per frame), "rate_per_s", "life_us",
 * "sim_us" (t(F)) and "sleep".
 */
#define _GNU_SOURCE
#include "fr_common.h"

#include <gmtrace.h>

#define FR_RATE 4000u /* particles per simulated second */
#define FR_LIFE_US 50000u
#define FR_MAX_LIVE 4096u

/* Live particles, oldest first (a ring), with their spawn times. */
static void *fr_live[FR_MAX_LIVE];
static uint64_t fr_born[FR_MAX_LIVE];
static uint64_t fr_dt[FR_MAX_FRAMES];

int main(int argc, char **argv)
{
	uint64_t t = 0, spawned = 0, head = 0, tail = 0, start;

	fx_name = "variable";
	uint64_t nframes = fx_arg_u64(argc > 1 ? argv[1] : NULL, 200);
	uint64_t sleep = fx_arg_u64(argc > 2 ? argv[2] : NULL, 1);
	if (nframes < 1 || nframes > FR_MAX_FRAMES || sleep > 1)
		fx_fail("usage", "fr_variable [F [0|1]], 1 <= F <= 20000");
	(void)gmtrace_enabled(); /* the marker API's one-time lookup, in frame 1 */

	start = fr_mono_ns();
	for (uint64_t n = 1; n <= nframes; n++) {
		uint64_t dt = 1000 + ((n * 37) % 11) * 500;
		uint64_t due;
		fr_dt[n - 1] = dt;
		t += dt;
		due = (uint64_t)FR_RATE * t / 1000000u;
		/* spawn: particle i is born at the frame end where it is due */
		for (; spawned < due; spawned++) {
			if (tail - head == FR_MAX_LIVE)
				fx_fail("particles", "more than FR_MAX_LIVE alive");
			fr_live[tail % FR_MAX_LIVE] = fr_alloc(FX_SIZE(1));
			fr_born[tail % FR_MAX_LIVE] = t;
			tail++;
		}
		/* expire: oldest first, every particle whose life is over */
		while (head < tail &&
		       (n == nframes || fr_born[head % FR_MAX_LIVE] + FR_LIFE_US <= t)) {
			fr_free(fr_live[head % FR_MAX_LIVE], FX_SIZE(1));
			head++;
		}
		if (sleep)
			fr_sleep_until(start + t * 1000u);
		GMTRACE_FRAME();
		fr_next();
	}

	fx_json_begin();
	fx_json_u64("frames", nframes);
	fx_json_u64("rate_per_s", FR_RATE);
	fx_json_u64("life_us", FR_LIFE_US);
	fx_json_u64("sim_us", t);
	fx_json_u64("sleep", sleep);
	fx_json_u64("wall_ns", fr_mono_ns() - start);
	fx_json_open("dt_us", '[');
	for (uint64_t n = 0; n < nframes; n++)
		fx_json_u64(NULL, fr_dt[n]);
	fx_json_close(']');
	fr_json_tally();
	fr_json_per_frame(nframes, 0);
	return fx_json_write(1) == 0 ? 0 : 1;
}
