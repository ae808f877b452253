/* fr_common.h - what the frame fixtures share: a per-frame tally on top of fixture.h
 *
 * A frame fixture is a small game loop that knows, frame by frame, what it
 * allocated on purpose and prints it in its JSON line. Frames are numbered as
 * gmtrace numbers them: frame n (n >= 1) is everything between the end of
 * frame n - 1 (or the start of the process) and the n-th frame end, so frame
 * 1 also holds the process's start-up (loader, libc), which no fixture can
 * predict; tests compare frame 1 in the size-rule view only.
 *
 * Every deliberate block follows the size rule (fixture.h); fixtures make no
 * other allocation inside their loops (no stdio, no formatting), so
 * `gmtrace frames` rows, which count every allocation, equal the fixture's
 * figures from frame 2 on.
 *
 * The per-frame arrays live in static storage (no heap), up to FR_MAX_FRAMES.
 */
#ifndef FR_COMMON_H
#define FR_COMMON_H

#ifndef FX_JSON_BYTES
#define FX_JSON_BYTES (8u << 20)
#endif
#include "fixture.h"

#include <malloc.h>
#include <time.h>

#ifndef FR_MAX_FRAMES
#define FR_MAX_FRAMES 20000
#endif

/* One frame's deliberate figures. The usable_* ones are what the frames
 * level records instead of requested sizes: malloc_usable_size() of the
 * blocks (freed, live at the frame's end, highest live during the frame,
 * the frame's starting live bytes included). */
typedef struct fr_frame {
	uint64_t allocations, frees;
	uint64_t allocated_bytes, freed_bytes;
	uint64_t ticks;
	uint64_t usable_freed_bytes, usable_live_bytes, usable_peak_live_bytes;
} fr_frame_t;

/* Per-frame figures, index n - 1 for frame n; fr_now is the open frame. */
static fr_frame_t fr_frames[FR_MAX_FRAMES];
static uint64_t fr_now = 1;     /* the frame being played (1-based) */
static fx_tally_t fr_tally;     /* the whole run (fixture.h keys) */
static uint64_t fr_usable_live; /* usable bytes of the live deliberate blocks */

static inline fr_frame_t *fr_cur(void)
{
	fr_frame_t *f;
	if (fr_now < 1 || fr_now > FR_MAX_FRAMES)
		fx_fail("fr_cur", "more frames than FR_MAX_FRAMES");
	f = &fr_frames[fr_now - 1];
	if (f->usable_peak_live_bytes < fr_usable_live)
		f->usable_peak_live_bytes = fr_usable_live; /* the frame's start */
	return f;
}

/* Counts a deliberate allocation of n bytes (usable: its usable size) in
 * the open frame. */
static inline void fr_count_alloc(size_t n, size_t usable)
{
	fr_frame_t *f = fr_cur();
	fx_tally_alloc(&fr_tally, n);
	f->allocations++;
	f->allocated_bytes += n;
	fr_usable_live += usable;
	if (f->usable_peak_live_bytes < fr_usable_live)
		f->usable_peak_live_bytes = fr_usable_live;
}

/* Counts the free of a deliberate block of n bytes (usable: its usable
 * size, read before the free) in the open frame. */
static inline void fr_count_free(size_t n, size_t usable)
{
	fr_frame_t *f = fr_cur();
	fx_tally_free(&fr_tally, n);
	f->frees++;
	f->freed_bytes += n;
	f->usable_freed_bytes += usable;
	fr_usable_live -= usable;
}

/* malloc of a rule size, touched and counted; fails the run on NULL. */
static inline void *fr_alloc(size_t n)
{
	void *p = malloc(n);
	if (p == NULL)
		fx_fail("malloc", "a deliberate allocation failed");
	fx_touch(p, n);
	fr_count_alloc(n, malloc_usable_size(p));
	return p;
}

/* free of a block fr_alloc gave for n bytes, counted. */
static inline void fr_free(void *p, size_t n)
{
	size_t usable = malloc_usable_size(p);
	free(p);
	fr_count_free(n, usable);
}

/* Closes the open frame in the tally (right after the game's frame end). */
static inline void fr_next(void)
{
	fr_cur()->usable_live_bytes = fr_usable_live;
	fr_now++;
}

/* "per_frame": {"allocations": [...], "frees": [...], "allocated_bytes": [...],
 * "freed_bytes": [...], "ticks": [...]} for frames 1..nframes; the keys are
 * those of `gmtrace frames --json` per_frame rows. */
static inline void fr_json_per_frame(uint64_t nframes, int with_ticks)
{
	static const char *const keys[] = {"allocations", "frees", "allocated_bytes", "freed_bytes",
	                                   "ticks"};
	fx_json_open("per_frame", '{');
	for (unsigned k = 0; k < (with_ticks ? 5u : 4u); k++) {
		fx_json_open(keys[k], '[');
		for (uint64_t i = 0; i < nframes; i++) {
			const fr_frame_t *f = &fr_frames[i];
			const uint64_t v[5] = {f->allocations, f->frees, f->allocated_bytes,
			                       f->freed_bytes, f->ticks};
			fx_json_u64(NULL, v[k]);
		}
		fx_json_close(']');
	}
	fx_json_close('}');
}

/* "per_frame_usable": {"freed_bytes": [...], "live_bytes": [...],
 * "peak_live_bytes": [...]}, the frames level's view of the same blocks
 * (usable sizes; live bytes counted from the first deliberate block). */
static inline void fr_json_per_frame_usable(uint64_t nframes)
{
	static const char *const keys[] = {"freed_bytes", "live_bytes", "peak_live_bytes"};
	fx_json_open("per_frame_usable", '{');
	for (unsigned k = 0; k < 3; k++) {
		fx_json_open(keys[k], '[');
		for (uint64_t i = 0; i < nframes; i++) {
			const fr_frame_t *f = &fr_frames[i];
			const uint64_t v[3] = {f->usable_freed_bytes, f->usable_live_bytes,
			                       f->usable_peak_live_bytes};
			fx_json_u64(NULL, v[k]);
		}
		fx_json_close(']');
	}
	fx_json_close('}');
}

/* The run's tally under the summary keys, plus peak_live_bytes. */
static inline void fr_json_tally(void)
{
	fx_json_tally(&fr_tally);
	fx_json_u64("peak_live_bytes", fr_tally.peak_live_bytes);
}

/* CLOCK_MONOTONIC in ns. */
static inline uint64_t fr_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sleeps until CLOCK_MONOTONIC reaches ns (no allocation). */
static inline void fr_sleep_until(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

#endif /* FR_COMMON_H */
