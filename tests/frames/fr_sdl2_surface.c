/* fr_sdl2_surface.c - SDL 2 drawing to the window surface, three partial updates per frame
 *
 *     fr_sdl2_surface [N]   N frames (default 120, <= 20000)
 *
 * SDL_GetWindowSurface, then N times: drain the event queue once
 * (SDL_PollEvent until empty), allocate the frame's block (fr_sdl.h), fill
 * three dirty rectangles, free the block, and put each on screen with its
 * own SDL_UpdateWindowSurfaceRects call (one call site, in a loop: 3 calls
 * a frame). gmtrace must coalesce each frame's three partial updates into
 * one frame: N frames, 3 * N present calls. No marker calls.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fr_sdl.h"

#include <SDL.h>

int main(int argc, char **argv)
{
	uint64_t pumps = 0, calls = 0, t0;
	SDL_Event ev;

	fx_name = "sdl2_surface";
	uint64_t nframes = fx_arg_u64(argc > 1 ? argv[1] : NULL, 120);
	if (nframes < 1 || nframes > FR_MAX_FRAMES)
		fx_fail("usage", "fr_sdl2_surface [N], 1 <= N <= 20000");
	fr_sdl_headless();
	if (SDL_Init(SDL_INIT_VIDEO) != 0)
		fx_fail("SDL_Init", SDL_GetError());
	SDL_Window *win = SDL_CreateWindow("fr_sdl2_surface", 0, 0, 160, 120, 0);
	if (!win)
		fx_fail("SDL_CreateWindow", SDL_GetError());
	SDL_Surface *screen = SDL_GetWindowSurface(win);
	if (!screen)
		fx_fail("SDL_GetWindowSurface", SDL_GetError());

	t0 = fr_mono_ns();
	for (uint64_t n = 1; n <= nframes; n++) {
		SDL_Rect dirty[3] = {
		        {0, 0, 40, 30}, {60, 40, 40, 30}, {(int)(n % 120), 90, 40, 30}};
		do
			pumps++;
		while (SDL_PollEvent(&ev));
		void *block = fr_sdl_frame_begin(n);
		for (int i = 0; i < 3; i++)
			SDL_FillRect(screen, &dirty[i],
			             SDL_MapRGB(screen->format, 255, (Uint8)n, 0));
		fr_sdl_frame_end(n, block);
		for (int i = 0; i < 3; i++) {
			if (SDL_UpdateWindowSurfaceRects(win, &dirty[i], 1) != 0)
				fx_fail("SDL_UpdateWindowSurfaceRects", SDL_GetError());
			calls++;
		}
		fr_next();
	}
	uint64_t loop_ns = fr_mono_ns() - t0;

	SDL_DestroyWindow(win);
	SDL_Quit();
	return fr_sdl_report(nframes, calls, pumps, loop_ns);
}
