/* fr_sdl2_dlopen.c - SDL 2 loaded at run time into a private scope, as Python bindings do
 *
 *     fr_sdl2_dlopen [N [LIB]]   N frames (default 120, <= 20000); LIB defaults
 *                                to libSDL2-2.0.so.0
 *
 * Not linked with SDL: dlopen(LIB, RTLD_NOW | RTLD_LOCAL) (what a Python
 * extension module or ctypes does), every function fetched with
 * dlsym(handle, name), then the loop of fr_sdl2.c: software renderer, drain
 * the events, the frame's block (fr_sdl.h), clear, fill, SDL_RenderPresent,
 * N times. gmtrace must find N frames without any marker call. SDL's headers
 * give the types and constants only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fr_sdl.h"

#include <SDL.h>
#include <dlfcn.h>

/* The functions used, fetched from the handle. */
static struct {
	int (*Init)(Uint32);
	const char *(*GetError)(void);
	SDL_Window *(*CreateWindow)(const char *, int, int, int, int, Uint32);
	SDL_Renderer *(*CreateRenderer)(SDL_Window *, int, Uint32);
	int (*PollEvent)(SDL_Event *);
	int (*SetRenderDrawColor)(SDL_Renderer *, Uint8, Uint8, Uint8, Uint8);
	int (*RenderClear)(SDL_Renderer *);
	int (*RenderFillRect)(SDL_Renderer *, const SDL_Rect *);
	void (*RenderPresent)(SDL_Renderer *);
	void (*DestroyRenderer)(SDL_Renderer *);
	void (*DestroyWindow)(SDL_Window *);
	void (*Quit)(void);
} fr_sdl;

static void *fr_sym(void *lib, const char *name)
{
	void *f = dlsym(lib, name);
	if (!f)
		fx_fail("dlsym", name);
	return f;
}

int main(int argc, char **argv)
{
	uint64_t pumps = 0, t0;
	SDL_Event ev;

	fx_name = "sdl2_dlopen";
	uint64_t nframes = fx_arg_u64(argc > 1 ? argv[1] : NULL, 120);
	const char *path = argc > 2 ? argv[2] : "libSDL2-2.0.so.0";
	if (nframes < 1 || nframes > FR_MAX_FRAMES)
		fx_fail("usage", "fr_sdl2_dlopen [N [LIB]], 1 <= N <= 20000");
	fr_sdl_headless();
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		fx_fail("dlopen", dlerror());
	*(void **)&fr_sdl.Init = fr_sym(lib, "SDL_Init");
	*(void **)&fr_sdl.GetError = fr_sym(lib, "SDL_GetError");
	*(void **)&fr_sdl.CreateWindow = fr_sym(lib, "SDL_CreateWindow");
	*(void **)&fr_sdl.CreateRenderer = fr_sym(lib, "SDL_CreateRenderer");
	*(void **)&fr_sdl.PollEvent = fr_sym(lib, "SDL_PollEvent");
	*(void **)&fr_sdl.SetRenderDrawColor = fr_sym(lib, "SDL_SetRenderDrawColor");
	*(void **)&fr_sdl.RenderClear = fr_sym(lib, "SDL_RenderClear");
	*(void **)&fr_sdl.RenderFillRect = fr_sym(lib, "SDL_RenderFillRect");
	*(void **)&fr_sdl.RenderPresent = fr_sym(lib, "SDL_RenderPresent");
	*(void **)&fr_sdl.DestroyRenderer = fr_sym(lib, "SDL_DestroyRenderer");
	*(void **)&fr_sdl.DestroyWindow = fr_sym(lib, "SDL_DestroyWindow");
	*(void **)&fr_sdl.Quit = fr_sym(lib, "SDL_Quit");

	if (fr_sdl.Init(SDL_INIT_VIDEO) != 0)
		fx_fail("SDL_Init", fr_sdl.GetError());
	SDL_Window *win = fr_sdl.CreateWindow("fr_sdl2_dlopen", 0, 0, 160, 120, 0);
	if (!win)
		fx_fail("SDL_CreateWindow", fr_sdl.GetError());
	SDL_Renderer *r = fr_sdl.CreateRenderer(win, -1, SDL_RENDERER_SOFTWARE);
	if (!r)
		fx_fail("SDL_CreateRenderer", fr_sdl.GetError());

	t0 = fr_mono_ns();
	for (uint64_t n = 1; n <= nframes; n++) {
		SDL_Rect box = {(int)(n % 150), 30, 8, 60};
		do
			pumps++;
		while (fr_sdl.PollEvent(&ev));
		void *block = fr_sdl_frame_begin(n);
		fr_sdl.SetRenderDrawColor(r, 0, 0, 0, 255);
		fr_sdl.RenderClear(r);
		fr_sdl.SetRenderDrawColor(r, 0, 255, (Uint8)n, 255);
		fr_sdl.RenderFillRect(r, &box);
		fr_sdl_frame_end(n, block);
		fr_sdl.RenderPresent(r);
		fr_next();
	}
	uint64_t loop_ns = fr_mono_ns() - t0;

	fr_sdl.DestroyRenderer(r);
	fr_sdl.DestroyWindow(win);
	fr_sdl.Quit();
	return fr_sdl_report(nframes, nframes, pumps, loop_ns);
}
