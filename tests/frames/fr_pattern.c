/* fr_pattern.c - a marked game loop whose every frame allocates a known pattern, one spike
 *
 *     fr_pattern [F [S]]      F frames (default 300, <= 20000), spike at frame S
 *                             (default 200; 31 <= S <= F so the relative limit,
 *                             which needs 30 frames of history, can see it)
 *
 * Frames are numbered as gmtrace numbers them (1 = first). Frame n:
 *   1. frees the blocks frame n - 1 allocated, except the kept ones;
 *   2. allocates f(n) = (n * 7) % 13 + 1 blocks (1..13), block j (0-based)
 *      of FX_SIZE(1 + (n + j) % 5); block 0 is kept until exit when
 *      n % 11 == 0;
 *   3. at n == S only: allocates 5000 blocks of FX_SIZE(1), then frees them
 *      (the spike);
 *   4. at n == F only: frees its own blocks except the kept one;
 *   5. GMTRACE_FRAME().
 * So allocations(n) = f(n) (+ 5000 at S), frees(n) = f(n-1) - kept(n-1)
 * (+ 5000 at S, + f(F) - kept(F) at F); bytes follow from the sizes. The
 * JSON line carries every frame's figures ("per_frame"), the kept blocks
 * are the only ones live at exit.
 *
 * The fixture registers a spike callback (before frame 1 ends, so the
 * marker API's one-time lookup falls in frame 1) that records each call
 * in static storage; the line reports them as "callback" (frame, reasons,
 * allocations, allocated_bytes) next to what the fixture expects:
 * one call, frame S, reason GMTRACE_SPIKE_ALLOCATIONS among the reasons,
 * allocations f(S) + 5000. Frames other than S stay below 4x the median
 * of their neighbours in count (13 <= 4 * 7) and bytes (at most
 * 13 * FX_SIZE(5) = 289523 against a median near 7 * FX_SIZE(3)).
 *
 * Expected for the defaults (from the code; the tests recompute f(n) and
 * check the line against it): sum of f(n) over 300 frames = 23 * 91 + 8 =
 * 2101, plus 5000 = 7101 allocations, 7074 frees; 27 kept blocks (frames
 * 11, 22, ..., 297) live at exit; frame 200 allocates f(200) + 5000 = 5010.
 */
#define _GNU_SOURCE
#include "fr_common.h"

#include <gmtrace.h>

#define FR_SPIKE_BLOCKS 5000
#define FR_MAX_CALLS 64

static void *fr_spike_blocks[FR_SPIKE_BLOCKS];
static void *fr_kept[FR_MAX_FRAMES / 11 + 1];

/* What the spike callback saw (no allocation inside the callback). */
static gmtrace_spike_t fr_calls[FR_MAX_CALLS];
static unsigned fr_ncalls;

static void fr_on_spike(const gmtrace_spike_t *spike, void *user)
{
	unsigned *n = user;
	if (*n < FR_MAX_CALLS)
		fr_calls[*n] = *spike;
	(*n)++;
}

static uint64_t fr_f(uint64_t n)
{
	return (n * 7) % 13 + 1;
}

static size_t fr_size(uint64_t n, uint64_t j)
{
	return FX_SIZE(1 + (n + j) % 5);
}

int main(int argc, char **argv)
{
	void *prev[13], *cur[13];
	uint64_t nprev = 0, nkept = 0, prev_frame = 0;
	unsigned prev_keep = 0;

	fx_name = "pattern";
	uint64_t nframes = fx_arg_u64(argc > 1 ? argv[1] : NULL, 300);
	uint64_t spike = fx_arg_u64(argc > 2 ? argv[2] : NULL, 200);
	if (nframes < 1 || nframes > FR_MAX_FRAMES || spike < 31 || spike > nframes)
		fx_fail("usage", "fr_pattern [F [S]], F <= 20000, 31 <= S <= F");

	gmtrace_spike_callback(fr_on_spike, &fr_ncalls);

	for (uint64_t n = 1; n <= nframes; n++) {
		uint64_t f = fr_f(n);
		unsigned keep = n % 11 == 0;
		for (uint64_t j = prev_keep; j < nprev; j++)
			fr_free(prev[j], fr_size(prev_frame, j));
		for (uint64_t j = 0; j < f; j++)
			cur[j] = fr_alloc(fr_size(n, j));
		if (keep)
			fr_kept[nkept++] = cur[0];
		if (n == spike) {
			for (unsigned j = 0; j < FR_SPIKE_BLOCKS; j++)
				fr_spike_blocks[j] = fr_alloc(FX_SIZE(1));
			for (unsigned j = 0; j < FR_SPIKE_BLOCKS; j++)
				fr_free(fr_spike_blocks[j], FX_SIZE(1));
		}
		if (n == nframes) {
			for (uint64_t j = keep; j < f; j++)
				fr_free(cur[j], fr_size(n, j));
			f = 0;
		}
		memcpy(prev, cur, sizeof(prev));
		nprev = f;
		prev_keep = keep;
		prev_frame = n;
		GMTRACE_FRAME();
		fr_next();
	}
	fx_sink = fr_kept;

	fx_json_begin();
	fx_json_u64("frames", nframes);
	fx_json_u64("spike_frame", spike);
	fx_json_u64("spike_blocks", FR_SPIKE_BLOCKS);
	fx_json_u64("spike_frame_allocations", fr_f(spike) + FR_SPIKE_BLOCKS);
	fx_json_u64("kept", nkept);
	fr_json_tally();
	fr_json_per_frame(nframes, 0);
	fr_json_per_frame_usable(nframes);
	fx_json_bool("enabled", gmtrace_enabled());
	fx_json_u64("callback_calls", fr_ncalls);
	fx_json_open("callback", '[');
	for (unsigned i = 0; i < fr_ncalls && i < FR_MAX_CALLS; i++) {
		fx_json_open(NULL, '{');
		fx_json_u64("frame", fr_calls[i].frame);
		fx_json_u64("reasons", fr_calls[i].reasons);
		fx_json_u64("allocations", fr_calls[i].allocations);
		fx_json_u64("allocated_bytes", fr_calls[i].allocated_bytes);
		fx_json_u64("limit_allocations", fr_calls[i].limit_allocations);
		fx_json_close('}');
	}
	fx_json_close(']');
	return fx_json_write(1) == 0 ? 0 : 1;
}
