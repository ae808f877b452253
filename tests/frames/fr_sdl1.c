/* fr_sdl1.c - an SDL 1.2 game: a software video mode flipped once a frame
 *
 *     fr_sdl1 [N]    N frames (default 120, <= 20000)
 *
 * SDL_SetVideoMode(160, 120, 32, SDL_SWSURFACE), then N times: drain the
 * events (SDL_PollEvent until empty), allocate the frame's block
 * (fr_sdl.h), fill, free the block, SDL_Flip. (SDL 1.2's SDL_Flip on a
 * software surface updates the whole screen through SDL_UpdateRect: that
 * inner call must not count as a frame of its own.) N frames, no marker
 * calls.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fr_sdl.h"

#include <SDL.h>

int main(int argc, char **argv)
{
	uint64_t pumps = 0, t0;
	SDL_Event ev;

	fx_name = "sdl1";
	uint64_t nframes = fx_arg_u64(argc > 1 ? argv[1] : NULL, 120);
	if (nframes < 1 || nframes > FR_MAX_FRAMES)
		fx_fail("usage", "fr_sdl1 [N], 1 <= N <= 20000");
	fr_sdl_headless();
	if (SDL_Init(SDL_INIT_VIDEO) != 0)
		fx_fail("SDL_Init", SDL_GetError());
	SDL_Surface *screen = SDL_SetVideoMode(160, 120, 32, SDL_SWSURFACE);
	if (!screen)
		fx_fail("SDL_SetVideoMode", SDL_GetError());

	t0 = fr_mono_ns();
	for (uint64_t n = 1; n <= nframes; n++) {
		SDL_Rect box = {(Sint16)(n % 150), 30, 8, 60};
		do
			pumps++;
		while (SDL_PollEvent(&ev));
		void *block = fr_sdl_frame_begin(n);
		SDL_FillRect(screen, NULL, 0);
		SDL_FillRect(screen, &box, SDL_MapRGB(screen->format, 255, (Uint8)n, 0));
		fr_sdl_frame_end(n, block);
		if (SDL_Flip(screen) != 0)
			fx_fail("SDL_Flip", SDL_GetError());
		fr_next();
	}
	uint64_t loop_ns = fr_mono_ns() - t0;

	SDL_Quit();
	return fr_sdl_report(nframes, nframes, pumps, loop_ns);
}
