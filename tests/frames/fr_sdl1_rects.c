/* fr_sdl1_rects.c - SDL 1.2 with dirty rectangles: several partial updates per frame
 *
 *     fr_sdl1_rects [N]   N frames (default 120, <= 20000)
 *
 * SDL_SetVideoMode(160, 120, 32, SDL_SWSURFACE), then N times: drain the
 * events once (SDL_PollEvent until empty), allocate the frame's block
 * (fr_sdl.h), draw, free the block, then put the dirty parts on screen with
 * four calls from three call sites: SDL_UpdateRect for the player,
 * SDL_UpdateRect for the score, SDL_UpdateRects with two rectangles for
 * the enemies, and a last SDL_UpdateRect of the player's old place (the
 * first call site again). gmtrace must coalesce each frame's four partial
 * updates into one frame: N frames, 4 * N present calls, no marker calls.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fr_sdl.h"

#include <SDL.h>

/* The player's update, one call site for both of its calls. */
static void fr_update_player(SDL_Surface *screen, int x)
{
	SDL_UpdateRect(screen, x, 40, 8, 8);
}

int main(int argc, char **argv)
{
	uint64_t pumps = 0, calls = 0, t0;
	SDL_Event ev;

	fx_name = "sdl1_rects";
	uint64_t nframes = fx_arg_u64(argc > 1 ? argv[1] : NULL, 120);
	if (nframes < 1 || nframes > FR_MAX_FRAMES)
		fx_fail("usage", "fr_sdl1_rects [N], 1 <= N <= 20000");
	fr_sdl_headless();
	if (SDL_Init(SDL_INIT_VIDEO) != 0)
		fx_fail("SDL_Init", SDL_GetError());
	SDL_Surface *screen = SDL_SetVideoMode(160, 120, 32, SDL_SWSURFACE);
	if (!screen)
		fx_fail("SDL_SetVideoMode", SDL_GetError());

	t0 = fr_mono_ns();
	for (uint64_t n = 1; n <= nframes; n++) {
		int x = (int)(n % 150), old = (int)((n + 149) % 150);
		SDL_Rect player = {(Sint16)x, 40, 8, 8};
		SDL_Rect enemies[2] = {{10, 80, 8, 8}, {(Sint16)(150 - x), 80, 8, 8}};
		do
			pumps++;
		while (SDL_PollEvent(&ev));
		void *block = fr_sdl_frame_begin(n);
		SDL_FillRect(screen, &player, SDL_MapRGB(screen->format, 255, 255, 0));
		SDL_FillRect(screen, &enemies[0], SDL_MapRGB(screen->format, 255, 0, 0));
		SDL_FillRect(screen, &enemies[1], SDL_MapRGB(screen->format, 255, 0, 0));
		fr_sdl_frame_end(n, block);
		fr_update_player(screen, x);
		SDL_UpdateRect(screen, 0, 0, 40, 10); /* the score */
		SDL_UpdateRects(screen, 2, enemies);
		fr_update_player(screen, old);
		calls += 4;
		fr_next();
	}
	uint64_t loop_ns = fr_mono_ns() - t0;

	SDL_Quit();
	return fr_sdl_report(nframes, calls, pumps, loop_ns);
}
