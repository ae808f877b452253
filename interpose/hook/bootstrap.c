/* bootstrap.c - resolve the real allocator; serve calls made before that
 *
 * The order is written in bootstrap.h. The static buffer is small: only
 * dlsym's own calloc and whatever runs before the constructor use it.
 */
#define _GNU_SOURCE
#include "bootstrap.h"

#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../record/session.h"
#include "../record/thread.h"
#include "../support/support.h"

gm_real_t gm_real;
int gm_bootstrap_status;
int gm_bootstrap_status_known;

#define GM_BOOTSTRAP_CAP (256 * 1024)
unsigned char gm_bootstrap_buf[GM_BOOTSTRAP_CAP] __attribute__((aligned(4096)));
const size_t gm_bootstrap_cap = GM_BOOTSTRAP_CAP;
static size_t gm_bootstrap_used;   /* atomic */
static int gm_bootstrap_resolving; /* atomic */

void *gm_bootstrap_alloc(size_t n, size_t align)
{
	size_t start, old, next;
	if (align < 16)
		align = 16;
	do {
		old = __atomic_load_n(&gm_bootstrap_used, __ATOMIC_RELAXED);
		start = (old + 16 + align - 1) & ~(align - 1); /* room for the size header */
		next = start + ((n + 15) & ~(size_t)15);
		if (next > GM_BOOTSTRAP_CAP || n > GM_BOOTSTRAP_CAP)
			return NULL;
	} while (!__atomic_compare_exchange_n(&gm_bootstrap_used, &old, next, 0, __ATOMIC_RELAXED,
	                                      __ATOMIC_RELAXED));
	memcpy(gm_bootstrap_buf + start - sizeof(size_t), &n, sizeof(n));
	return gm_bootstrap_buf + start; /* static storage: already zeroed */
}

size_t gm_bootstrap_size(const void *p)
{
	size_t n;
	memcpy(&n, (const unsigned char *)p - sizeof(size_t), sizeof(n));
	return n;
}

int gm_bootstrap_resolve(void)
{
	gm_real_t r;
	int expect = 0;
	if (gm_real.malloc)
		return 0;
	if (!__atomic_compare_exchange_n(&gm_bootstrap_resolving, &expect, 1, 0, __ATOMIC_ACQUIRE,
	                                 __ATOMIC_RELAXED))
		return -EBUSY;
	memset(&r, 0, sizeof(r));
	r.free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	r.calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	r.realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	r.reallocarray = (void *(*)(void *, size_t, size_t))dlsym(RTLD_NEXT, "reallocarray");
	r.posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
	r.aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
	r.memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
	r.valloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "valloc");
	r.pvalloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "pvalloc");
	r.malloc_usable_size = (size_t(*)(void *))dlsym(RTLD_NEXT, "malloc_usable_size");
	r.malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	if (!r.malloc || !r.free || !r.calloc || !r.realloc || !r.posix_memalign) {
		gm_support_warn("cannot find the process's allocator (dlsym RTLD_NEXT)", 0, 0);
		__atomic_store_n(&gm_bootstrap_resolving, 0, __ATOMIC_RELEASE);
		return -ENOSYS;
	}
	/* publish malloc last: its being set means the table is complete */
	gm_real.free = r.free;
	gm_real.calloc = r.calloc;
	gm_real.realloc = r.realloc;
	gm_real.reallocarray = r.reallocarray;
	gm_real.posix_memalign = r.posix_memalign;
	gm_real.aligned_alloc = r.aligned_alloc;
	gm_real.memalign = r.memalign;
	gm_real.valloc = r.valloc;
	gm_real.pvalloc = r.pvalloc;
	gm_real.malloc_usable_size = r.malloc_usable_size;
	__atomic_store_n(&gm_real.malloc, r.malloc, __ATOMIC_RELEASE);
	__atomic_store_n(&gm_bootstrap_resolving, 0, __ATOMIC_RELEASE);
	return 0;
}

int gmtrace_python_arenas(void);

extern int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);

/* The session's end at exit, after every library's destructors: the C
 * library runs exit handlers newest first and ends with the loader's,
 * which runs the libraries' destructors in load order, gmtrace's (loaded
 * right after the program) before those of the game's own libraries. A
 * C++ library's static objects, or its atexit handlers, freed their
 * blocks after the end: leaks in the capture that were none. This handler
 * is registered when the loader's is not yet (libraries are initialised
 * before the program starts), so it runs after it; with no library's
 * handle (a library's handlers also run when it is finalised). */
static int gm_bootstrap_exit_registered;

static void gm_bootstrap_exit_end(void *arg)
{
	(void)arg;
	gm_session_stop(gm_bootstrap_status, gm_bootstrap_status_known);
}

__attribute__((constructor)) static void gm_bootstrap_ctor(void)
{
	gm_thread_t *t = &gm_thread_self;
	Dl_info self = {0}; /* (read below even when dladdr finds nothing) */
	int busy;
	if (gm_bootstrap_resolve() != 0)
		return;
	gm_session_start();
	/* never unloaded (the exit handler is here): a preload never is,
	 * a dlopen'ed libgmtrace must not be either. What the loader and the
	 * C library allocate for these two is gmtrace's, not the game's */
	busy = t->busy;
	t->busy = 1;
	if (dladdr((void *)gm_bootstrap_ctor, &self) && self.dli_fname)
		dlopen(self.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
	gm_bootstrap_exit_registered = __cxa_atexit(gm_bootstrap_exit_end, NULL, NULL) == 0;
	{
		/* a program that defines malloc itself (jemalloc or tcmalloc
		 * linked in statically) comes first in lookup order: its calls
		 * never reach gmtrace, and the capture would be empty in silence */
		void *first = dlsym(RTLD_DEFAULT, "malloc");
		const ElfW(Sym) *sym = NULL;
		Dl_info def;
		/* (a program that takes malloc's address has a stub of its own
		 * in its PLT, an undefined symbol: no malloc of its own) */
		if (first && dladdr1(first, &def, (void **)&sym, RTLD_DL_SYMENT) && sym &&
		    sym->st_shndx != SHN_UNDEF && self.dli_fname &&
		    def.dli_fbase != self.dli_fbase && def.dli_fname &&
		    !strstr(def.dli_fname, "libc.so"))
			gm_support_warn("the program has a malloc of its own (",
			                def.dli_fname[0] ? def.dli_fname : "the executable",
			                "; an allocator linked in statically): its allocations do "
			                "not reach gmtrace and are not recorded");
	}
	t->busy = busy;
	at_quick_exit(gm_process_quick_exit_end);
	/* a CPython game: its arenas are recorded from the interpreter's
	 * start (hook/python.c); nothing happens in other programs */
	gmtrace_python_arenas();
}

/* Only when no exit handler could be registered (a libgmtrace loaded
 * with dlopen once the program runs has its handler run before the
 * loader's, which is then as good as this). */
__attribute__((destructor)) static void gm_bootstrap_dtor(void)
{
	if (!gm_bootstrap_exit_registered)
		gm_session_stop(gm_bootstrap_status, gm_bootstrap_status_known);
}
