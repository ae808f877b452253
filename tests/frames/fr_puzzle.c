/* fr_puzzle.c - genre: a small puzzle game, tiny totals
 *
 *     fr_puzzle [F]    F frames (default 240, 8 <= F <= 20000), not slept
 *
 * Frame 1 allocates the board, one FX_SIZE(2) block, kept until frame F.
 * Every 8th frame (n % 8 == 0) the player moves: one FX_SIZE(1) undo record
 * is pushed on an undo stack of at most 4; pushing on a full stack first
 * frees the oldest record. Frame F frees the board and the stack.
 * GMTRACE_FRAME() ends a frame.
 *
 * Expected for F = 240 (from the code): 30 moves; allocations 31 (board
 * + 30 records), frees 31 (26 records dropped from the full stack, then
 * the board and the last 4 at frame 240), allocated bytes
 * FX_SIZE(2) + 30 * FX_SIZE(1) = 9963 + 176010 = 185973, peak live
 * FX_SIZE(2) + 5 * FX_SIZE(1) = 39298 (a push on a full stack allocates
 * before it frees), nothing live at exit.
 */
#define _GNU_SOURCE
#include "fr_common.h"

#include <gmtrace.h>

int main(int argc, char **argv)
{
	void *board = NULL, *undo[4];
	unsigned nundo = 0;

	fx_name = "puzzle";
	uint64_t nframes = fx_arg_u64(argc > 1 ? argv[1] : NULL, 240);
	if (nframes < 8 || nframes > FR_MAX_FRAMES)
		fx_fail("usage", "fr_puzzle [F], 8 <= F <= 20000");
	(void)gmtrace_enabled(); /* the marker API's one-time lookup, in frame 1 */

	for (uint64_t n = 1; n <= nframes; n++) {
		if (n == 1)
			board = fr_alloc(FX_SIZE(2));
		if (n % 8 == 0) {
			void *rec = fr_alloc(FX_SIZE(1));
			if (nundo == 4) {
				fr_free(undo[0], FX_SIZE(1));
				memmove(undo, undo + 1, 3 * sizeof(undo[0]));
				nundo--;
			}
			undo[nundo++] = rec;
		}
		if (n == nframes) {
			fr_free(board, FX_SIZE(2));
			while (nundo)
				fr_free(undo[--nundo], FX_SIZE(1));
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
