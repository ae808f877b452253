/* fr_sdl2.c - an SDL 2 game with a software renderer and no marker calls
 *
 *     fr_sdl2 [N [W H]]     N frames (default 120, <= 20000) in a W x H window
 *                           (default 160 x 120)
 *
 * SDL_CreateWindow + SDL_CreateRenderer(SDL_RENDERER_SOFTWARE), then N times:
 * drain the event queue (SDL_PollEvent until empty), allocate the frame's
 * block (fr_sdl.h), clear, fill a moving rectangle, free the block,
 * SDL_RenderPresent. So gmtrace must find exactly N frames, frame n holding
 * one FX_SIZE(1 + n % 4) allocation and its free. Run with the dummy video
 * driver; `fr_sdl2 3000 32 32` is the fast case (thousands of frames per
 * second), whose line reports the measured "fps".
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

	fx_name = "sdl2";
	uint64_t nframes = fx_arg_u64(argc > 1 ? argv[1] : NULL, 120);
	int w = (int)fx_arg_u64(argc > 2 ? argv[2] : NULL, 160);
	int h = (int)fx_arg_u64(argc > 3 ? argv[3] : NULL, 120);
	if (nframes < 1 || nframes > FR_MAX_FRAMES || w < 8 || h < 8)
		fx_fail("usage", "fr_sdl2 [N [W H]], 1 <= N <= 20000, W, H >= 8");
	fr_sdl_headless();
	if (SDL_Init(SDL_INIT_VIDEO) != 0)
		fx_fail("SDL_Init", SDL_GetError());
	SDL_Window *win = SDL_CreateWindow("fr_sdl2", 0, 0, w, h, 0);
	if (!win)
		fx_fail("SDL_CreateWindow", SDL_GetError());
	SDL_Renderer *r = SDL_CreateRenderer(win, -1, SDL_RENDERER_SOFTWARE);
	if (!r)
		fx_fail("SDL_CreateRenderer", SDL_GetError());

	t0 = fr_mono_ns();
	for (uint64_t n = 1; n <= nframes; n++) {
		SDL_Rect box = {(int)(n % (uint64_t)(w - 4)), h / 4, 4, h / 2};
		do
			pumps++;
		while (SDL_PollEvent(&ev));
		void *block = fr_sdl_frame_begin(n);
		SDL_SetRenderDrawColor(r, 0, 0, 0, 255);
		SDL_RenderClear(r);
		SDL_SetRenderDrawColor(r, 255, (Uint8)n, 0, 255);
		SDL_RenderFillRect(r, &box);
		fr_sdl_frame_end(n, block);
		SDL_RenderPresent(r);
		fr_next();
	}
	uint64_t loop_ns = fr_mono_ns() - t0;

	SDL_DestroyRenderer(r);
	SDL_DestroyWindow(win);
	SDL_Quit();
	return fr_sdl_report(nframes, nframes, pumps, loop_ns);
}
