/* gmtrace.h - the gmtrace marker API for games
 *
 * Include this header; do not link anything. Calls are resolved once, at
 * run time, from libgmtrace.so when the game runs under it (LD_PRELOAD or
 * `gmtrace run`), and cost a load and a branch otherwise.
 *
 *     #include <gmtrace.h>
 *     for (;;) { update(); render(); GMTRACE_FRAME(); }
 *
 * Two mirrored halves:
 *   - GMTRACE_DISABLE defined: every macro is ((void)0), nothing is compiled.
 *   - otherwise: macros call static inline wrappers that look up the entry
 *     points through gmtrace_api_get() (found with dlsym on first use).
 *
 * Naming: gmtrace_<object>_<verb>() functions, GMTRACE_<OBJECT>[_<VERB>]()
 * macros; _N for named variants, _PUSH/_POP for scopes, _BEGIN/_END for
 * spans. Strings passed in are copied by gmtrace; callers keep ownership.
 *
 * ABI: the entry table is versioned. A table with a larger abi is a superset;
 * a game built against ABI n works with every libgmtrace that has abi >= n.
 */
#ifndef GMTRACE_H
#define GMTRACE_H

#include <stdint.h>

#define GMTRACE_ABI 1

#ifdef __cplusplus
extern "C" {
#endif

/* Capture levels for gmtrace_level_set(). */
#define GMTRACE_LEVEL_EVENTS 0 /* every allocation and free (short captures) */
#define GMTRACE_LEVEL_FRAMES 1 /* per-frame totals only (sessions of hours) */

/* Why a frame was reported as a spike (bits of gmtrace_spike_t.reasons). */
#define GMTRACE_SPIKE_ALLOCATIONS 1
#define GMTRACE_SPIKE_BYTES 2
#define GMTRACE_SPIKE_ALLOC_TIME 4

/* A frame whose allocation exceeded a limit; passed to the spike callback
 * on the thread that ended the frame, right after it ended. */
typedef struct gmtrace_spike {
	uint64_t frame;          /* frame number (1 = first frame) */
	uint32_t reasons;        /* GMTRACE_SPIKE_* bits */
	uint32_t reserved;
	uint64_t allocations;    /* in the frame, all threads */
	uint64_t allocated_bytes;
	uint64_t alloc_ns;       /* estimated time inside the allocator */
	uint64_t limit_allocations, limit_bytes, limit_alloc_ns; /* limits in force */
} gmtrace_spike_t;

typedef void (*gmtrace_spike_fn)(const gmtrace_spike_t *spike, void *user);

/* The entry table exported by libgmtrace.so. Fields are only ever added. */
typedef struct gmtrace_api {
	uint32_t abi;   /* GMTRACE_ABI of the library */
	uint32_t bytes; /* sizeof the table in the library */
	void (*frame_mark)(void);
	void (*frame_mark_n)(const char *set);
	int (*enabled)(void);
	uint64_t (*self_allocations)(void);
	uint64_t (*footprint_bytes)(void);
	void (*tick)(void);
	int (*level_set)(int level);
	void (*spike_callback)(gmtrace_spike_fn fn, void *user);
} gmtrace_api_t;

#if defined(GMTRACE_IMPLEMENTATION)
/* libgmtrace itself: defines the entry points, needs only the table */
#elif !defined(GMTRACE_DISABLE)

#include <stddef.h>
#include <dlfcn.h>

typedef const gmtrace_api_t *(*gmtrace_api_get_fn)(uint32_t abi);

/* The library's table, or NULL when the game runs without gmtrace. */
static inline const gmtrace_api_t *gmtrace_api(void)
{
	/* 0 = not looked up, 1 = absent, else the table. Racing lookups store
	 * the same value, so relaxed atomics are enough. */
	static const gmtrace_api_t *cached;
	const gmtrace_api_t *api = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	if (api == NULL) {
		gmtrace_api_get_fn get = (gmtrace_api_get_fn)dlsym(RTLD_DEFAULT, "gmtrace_api_get");
		api = get ? get(GMTRACE_ABI) : NULL;
		if (api == NULL)
			api = (const gmtrace_api_t *)1;
		__atomic_store_n(&cached, api, __ATOMIC_RELAXED);
	}
	return api == (const gmtrace_api_t *)1 ? NULL : api;
}

/* End of one displayed (render) frame. Turns off automatic frame detection. */
static inline void gmtrace_frame_mark(void)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a)
		a->frame_mark();
}

/* End of one frame of a named secondary frame set ("physics", "audio"). */
static inline void gmtrace_frame_mark_n(const char *set)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a)
		a->frame_mark_n(set);
}

/* 1 when the game runs under gmtrace and records, else 0. */
static inline int gmtrace_enabled(void)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a ? a->enabled() : 0;
}

/* Allocations gmtrace has made for itself since start-up (from the game's
 * heap while inside gmtrace, and from its private arena). After start-up
 * and a thread's first record this number no longer grows. */
static inline uint64_t gmtrace_self_allocations(void)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a ? a->self_allocations() : 0;
}

/* Bytes gmtrace holds in this process: its shared-memory log and the pages
 * of its private arena. */
static inline uint64_t gmtrace_footprint_bytes(void)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a ? a->footprint_bytes() : 0;
}

/* One simulation tick (fixed-timestep update): zero, one or several per
 * displayed frame. */
static inline void gmtrace_tick(void)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a)
		a->tick();
}

/* Switch what is recorded from now on (GMTRACE_LEVEL_*), e.g. events only
 * around a level transition. Returns 0, or -1 for an unknown level or
 * without gmtrace. */
static inline int gmtrace_level_set(int level)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a ? a->level_set(level) : -1;
}

/* Call fn(spike, user) for every spike frame (NULL removes it). */
static inline void gmtrace_spike_callback(gmtrace_spike_fn fn, void *user)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a)
		a->spike_callback(fn, user);
}

#define GMTRACE_FRAME() do { gmtrace_frame_mark(); } while (0)
#define GMTRACE_TICK() do { gmtrace_tick(); } while (0)
#define GMTRACE_LEVEL(level) do { (void)gmtrace_level_set(level); } while (0)
#define GMTRACE_FRAME_N(set) do { gmtrace_frame_mark_n(set); } while (0)

#else /* GMTRACE_DISABLE */

#define GMTRACE_FRAME() ((void)0)
#define GMTRACE_FRAME_N(set) ((void)0)
#define GMTRACE_TICK() ((void)0)
#define GMTRACE_LEVEL(level) ((void)0)
#define gmtrace_frame_mark() ((void)0)
#define gmtrace_frame_mark_n(set) ((void)0)
#define gmtrace_tick() ((void)0)
#define gmtrace_level_set(level) (-1)
#define gmtrace_spike_callback(fn, user) ((void)0)
#define gmtrace_enabled() 0
#define gmtrace_self_allocations() ((uint64_t)0)
#define gmtrace_footprint_bytes() ((uint64_t)0)

#endif /* GMTRACE_DISABLE */

#ifdef __cplusplus
}
#endif

#endif /* GMTRACE_H */
