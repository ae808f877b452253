/* bootstrap.h - the real allocator behind the hooks, and life before it
 *
 * Bootstrap order (the library constructor, gm_bootstrap_ctor):
 *   1. resolve the next definitions of the allocation functions with
 *      dlsym(RTLD_NEXT) — dlsym itself may call calloc: while resolving,
 *      requests are served from a static buffer, never released;
 *   2. start the session (record/session.c lists its own order);
 * and at the end (destructor, or exit/_exit hooks): stop the session.
 * Hooks called before step 1 resolve on demand.
 */
#ifndef GM_BOOTSTRAP_H
#define GM_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

/* Whether a hook on thread t records: recording is on and t is not inside
 * gmtrace already (record/thread.h: gm_thread_recording, busy). */
#define GM_HOOK_ON(t)                                                          \
	(GM_LIKELY(__atomic_load_n(&gm_thread_recording, __ATOMIC_RELAXED)) && \
	 GM_LIKELY(!(t)->busy))

typedef struct gm_real {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void *(*reallocarray)(void *, size_t, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	size_t (*malloc_usable_size)(void *);
} gm_real_t;

extern gm_real_t gm_real;

/* Resolve gm_real; returns 0, or -EBUSY while a resolution is under way
 * (the caller then uses gm_bootstrap_alloc). */
int gm_bootstrap_resolve(void);

/* Memory for calls made while resolving: from a static buffer, aligned to
 * align (a power of two). Returns NULL when the buffer is used up. */
void *gm_bootstrap_alloc(size_t n, size_t align);

extern unsigned char gm_bootstrap_buf[];
extern const size_t gm_bootstrap_cap;

/* 1 if p came from gm_bootstrap_alloc: one range comparison. */
static inline int gm_bootstrap_owns(const void *p)
{
	return (const unsigned char *)p >= gm_bootstrap_buf &&
	       (const unsigned char *)p < gm_bootstrap_buf + gm_bootstrap_cap;
}

/* Usable size of a bootstrap block. */
size_t gm_bootstrap_size(const void *p);

/* Exit status seen by the exit hook (0 if none), and whether it saw one:
 * returning from main calls exit inside the C library, past the hook. */
extern int gm_bootstrap_status;
extern int gm_bootstrap_status_known;

/* The at_quick_exit handler the constructor registers first, so that it
 * runs after the game's own: ends the session (hook/process.c). */
void gm_process_quick_exit_end(void);

#endif
