/* fr_sdl.h - what the SDL frame fixtures share: one small deliberate block per frame
 *
 * The SDL fixtures never call the marker API: gmtrace must find their frames
 * at the present calls. So that a test can also check what lands in each
 * automatic frame, every frame n allocates one block of FX_SIZE(1 + n % 4)
 * before it draws and frees it before it presents: in the size-rule view,
 * frame n holds exactly that allocation and its free.
 *
 * They run headless: SDL_VIDEODRIVER and SDL_AUDIODRIVER default to "dummy"
 * (set before SDL starts, in the start-up frame).
 */
#ifndef FR_SDL_H
#define FR_SDL_H

#include "fr_common.h"

/* Headless unless the caller chose a driver. */
static inline void fr_sdl_headless(void)
{
	setenv("SDL_VIDEODRIVER", "dummy", 0);
	setenv("SDL_AUDIODRIVER", "dummy", 0);
}

/* The frame's deliberate block: allocate (before drawing) ... */
static inline void *fr_sdl_frame_begin(uint64_t n)
{
	return fr_alloc(FX_SIZE(1 + n % 4));
}

/* ... and free (before presenting). */
static inline void fr_sdl_frame_end(uint64_t n, void *block)
{
	fr_free(block, FX_SIZE(1 + n % 4));
}

/* The line: "frames" (frames presented), "present_calls" (calls that put
 * pixels on screen, partial updates included), "pumps" (event pumps),
 * "fps" (frames per second of the loop), the tally and per-frame figures. */
static inline int fr_sdl_report(uint64_t nframes, uint64_t present_calls, uint64_t pumps,
                                uint64_t loop_ns)
{
	fx_json_begin();
	fx_json_u64("frames", nframes);
	fx_json_u64("present_calls", present_calls);
	fx_json_u64("pumps", pumps);
	fx_json_u64("loop_ns", loop_ns);
	fx_json_u64("fps", loop_ns ? nframes * 1000000000ull / loop_ns : 0);
	fr_json_tally();
	fr_json_per_frame(nframes, 0);
	return fx_json_write(1) == 0 ? 0 : 1;
}

#endif /* FR_SDL_H */
