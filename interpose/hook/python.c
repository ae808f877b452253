/* python.c - pymalloc's arenas as allocations of their own
 *
 * With CPython's own small-object allocator (PYTHONMALLOC=pymalloc, or
 * `gmtrace run --pymalloc`) objects of up to 512 bytes never reach malloc:
 * they are carved from arenas (1 MiB each since Python 3.10, 256 KiB
 * before) that CPython maps itself. The library constructor calls
 * gmtrace_python_arenas() before the interpreter starts (when the program
 * is CPython), and gmtrace.py calls it again at import, holding the GIL
 * (for an interpreter loaded later, embedded in a game); it puts a wrapper
 * around the interpreter's arena allocator (PyObject_Get/SetArenaAllocator, found with
 * dlsym so libgmtrace never links against libpython). Every arena mapped
 * after that becomes an alloc record of kind pymalloc_arena, every arena
 * given back a free record of that kind, tagged with the thread's context
 * like any allocation. CPython 3.11+ also takes its frames' data-stack
 * chunks (16 KiB and up) from this allocator: they are recorded the same
 * way, with or without pymalloc. Arenas mapped before the wrapper (an interpreter
 * loaded after start-up) are only seen when freed (unmatched frees). The wrapper adds no Python code to the
 * allocation path: it is C called by C, with the GIL held.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

#include "../record/event.h"
#include "../record/thread.h"
#include "../support/support.h"
#include "bootstrap.h"

/* CPython's PyObjectArenaAllocator (Include/cpython/objimpl.h), stable
 * since 3.4: a context and two functions. */
typedef struct gm_py_arena_allocator {
	void *ctx;
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *ptr, size_t size);
} gm_py_arena_allocator_t;

typedef void (*gm_py_arena_access_fn)(gm_py_arena_allocator_t *allocator);

static gm_py_arena_allocator_t gm_py_prev; /* the interpreter's own */

static void *gm_py_arena_alloc(void *ctx, size_t n)
{
	gm_thread_t *t = &gm_thread_self;
	void *p = gm_py_prev.alloc(gm_py_prev.ctx, n);
	(void)ctx;
	if (p && GM_HOOK_ON(t))
		gm_event_alloc(t, p, n, gm_kind_pymalloc_arena, 0, n, 0, 0);
	return p;
}

static void gm_py_arena_free(void *ctx, void *p, size_t n)
{
	gm_thread_t *t = &gm_thread_self;
	(void)ctx;
	if (p && GM_HOOK_ON(t))
		gm_event_free(t, p, gm_kind_pymalloc_arena, n, n);
	gm_py_prev.free(gm_py_prev.ctx, p, n);
}

/* 1: arenas are recorded from now on; 0: they already were; -1: no CPython
 * in this process. Called before Py_Initialize or with the GIL held. */
GMTRACE_API int gmtrace_python_arenas(void)
{
	static gm_py_arena_allocator_t mine = {NULL, gm_py_arena_alloc, gm_py_arena_free};
	gm_thread_t *t = &gm_thread_self;
	gm_py_arena_access_fn get, set;
	gm_py_arena_allocator_t now;
	/* dlsym allocates its error message when a name is missing (every
	 * program but CPython), and the game's next dl call would free it:
	 * gmtrace's own block, allocated and freed here (the first dlerror
	 * hands the message out, the second frees it) */
	t->busy++;
	*(void **)&get = dlsym(RTLD_DEFAULT, "PyObject_GetArenaAllocator");
	*(void **)&set = dlsym(RTLD_DEFAULT, "PyObject_SetArenaAllocator");
	if (!get || !set) {
		dlerror();
		dlerror();
	}
	t->busy--;
	if (!get || !set)
		return -1;
	/* an interpreter loaded after start: its frames in stacks too */
	gm_pystack_find();
	get(&now);
	if (now.alloc == gm_py_arena_alloc)
		return 0;
	gm_py_prev = now;
	set(&mine);
	return 1;
}
