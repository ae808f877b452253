/* heap.c - jemalloc arenas whose extents come from a reserved range
 *
 * Extent hooks hand out the slot's address space with a bump pointer and
 * never take it back (dalloc refuses, so jemalloc keeps freed extents and
 * reuses them itself); split and merge are allowed within the slot. The
 * range is mapped read-write with MAP_NORESERVE: untouched pages cost
 * nothing, and memory purged by jemalloc is given back with madvise.
 */
#define _GNU_SOURCE
#include "heap.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <jemalloc/jemalloc.h>

#include "../support/support.h"

/* jemalloc reads this at its start: without retained extents, freed space
 * goes back through our hooks and merges, so a heap can serve a large block
 * again after small ones were freed, and 1 MiB blocks do not each take a
 * 2 MiB step (61 of 64 MiB instead of 31, measured here). Only gmtrace's
 * own arenas use jemalloc; the game's allocator is not touched. */
__attribute__((visibility("default"))) const char *malloc_conf = "retain:false";

uintptr_t gm_heap_base;
uintptr_t gm_heap_span;
unsigned gm_heap_shift;

typedef struct gm_heap {
	extent_hooks_t hooks; /* first: jemalloc hands us this pointer back */
	uintptr_t lo, hi;     /* the slot in use: [lo, lo + capacity) */
	uintptr_t next;       /* bump pointer (under lock) */
	int lock;             /* spin flag; extent calls are rare */
	unsigned arena;
	int ready;
	int freed; /* a block was freed since the last purge (racy hint) */
} gm_heap_t;

static gm_heap_t gm_heaps[GM_HEAP_MAX];

/* Room a heap gets beyond its capacity for jemalloc's own overhead, which
 * a console's allocator would not have in the same form: the arena's
 * metadata (its first 2 MiB base block) and up to 1/64 of the capacity for
 * the page jemalloc pads each large block with (cache-oblivious layout:
 * 4 KiB per block, 1/64 of a 256 KiB block). Beyond that, fragmentation
 * counts. */
static uint64_t gm_heap_slack(uint64_t capacity)
{
	return (2u << 20) + capacity / 64;
}

static void gm_heap_lock(gm_heap_t *h)
{
	while (__atomic_exchange_n(&h->lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

static void gm_heap_unlock(gm_heap_t *h)
{
	__atomic_store_n(&h->lock, 0, __ATOMIC_RELEASE);
}

static void *gm_heap_extent_alloc(extent_hooks_t *hooks, void *new_addr, size_t size,
                                  size_t alignment, bool *zero, bool *commit, unsigned arena)
{
	gm_heap_t *h = (gm_heap_t *)hooks;
	uintptr_t p;
	(void)arena;
	if (alignment == 0)
		alignment = 4096;
	gm_heap_lock(h);
	if (new_addr) {
		/* jemalloc asks for this exact place (growing an extent in place):
		 * only the untouched space right at the bump pointer can be it */
		p = (uintptr_t)new_addr;
		if (p != h->next || size > h->hi - p) {
			gm_heap_unlock(h);
			return NULL;
		}
	} else {
		p = (h->next + alignment - 1) & ~(uintptr_t)(alignment - 1);
		if (p < h->next || p > h->hi || size > h->hi - p) {
			gm_heap_unlock(h);
			return NULL;
		}
	}
	h->next = p + size;
	gm_heap_unlock(h);
	*zero = true;   /* never handed out before: untouched anonymous pages */
	*commit = true; /* the whole range is readable and writable */
	return (void *)p;
}

/* mallctl with every signal held back on this thread: it takes jemalloc's
 * control mutex, and a signal handler that allocates from a heap meanwhile
 * on the same thread (its scope is the interrupted code's, and its first
 * block of a heap makes a cache, below) would wait for that mutex for ever,
 * and every thread after it (seen: a game's 50 us timer whose handler
 * mallocs, loader threads filling a budget). */
static int gm_heap_signals_hold(sigset_t *was)
{
	sigset_t all;
	sigfillset(&all);
	return pthread_sigmask(SIG_SETMASK, &all, was) == 0;
}

static void gm_heap_signals_back(int held, const sigset_t *was)
{
	if (held)
		pthread_sigmask(SIG_SETMASK, was, NULL);
}

static int gm_heap_mallctl(const char *name, void *old, size_t *oldlen, void *new, size_t newlen)
{
	sigset_t was;
	int held = gm_heap_signals_hold(&was), rc;
	rc = mallctl(name, old, oldlen, new, newlen);
	gm_heap_signals_back(held, &was);
	return rc;
}

/* Keep every extent: jemalloc retains it and reuses it for this arena. */
static bool gm_heap_extent_dalloc(extent_hooks_t *hooks, void *addr, size_t size, bool committed,
                                  unsigned arena)
{
	return true;
}

static void gm_heap_extent_destroy(extent_hooks_t *hooks, void *addr, size_t size, bool committed,
                                   unsigned arena)
{
	madvise(addr, size, MADV_DONTNEED);
}

static bool gm_heap_extent_commit(extent_hooks_t *hooks, void *addr, size_t size, size_t offset,
                                  size_t length, unsigned arena)
{
	return false; /* always committed */
}

static bool gm_heap_extent_decommit(extent_hooks_t *hooks, void *addr, size_t size, size_t offset,
                                    size_t length, unsigned arena)
{
	return true; /* not supported: jemalloc purges instead */
}

static bool gm_heap_extent_purge(extent_hooks_t *hooks, void *addr, size_t size, size_t offset,
                                 size_t length, unsigned arena)
{
	/* pages go back to the system and read as zero afterwards */
	return madvise((char *)addr + offset, length, MADV_DONTNEED) != 0;
}

static bool gm_heap_extent_split(extent_hooks_t *hooks, void *addr, size_t size, size_t size_a,
                                 size_t size_b, bool committed, unsigned arena)
{
	return false; /* allowed: both halves stay in the slot */
}

static bool gm_heap_extent_merge(extent_hooks_t *hooks, void *addr_a, size_t size_a, void *addr_b,
                                 size_t size_b, bool committed, unsigned arena)
{
	gm_heap_t *h = (gm_heap_t *)hooks;
	/* allowed when both are ours (jemalloc merges neighbours only) */
	return !((uintptr_t)addr_a >= h->lo && (uintptr_t)addr_b + size_b <= h->hi);
}

int gm_heap_reserve(unsigned nheaps, uint64_t max_capacity)
{
	unsigned shift = 21; /* at least 2 MiB per slot */
	uint64_t need = max_capacity + gm_heap_slack(max_capacity);
	void *p;
	if (nheaps == 0 || nheaps > GM_HEAP_MAX)
		return -EINVAL;
	if (gm_heap_span)
		return 0;
	/* a slot holds the largest capacity and its slack: a 64 GiB bank in a
	 * 64 GiB slot lost its slack and could not be filled */
	while (shift < 47 && (1ull << shift) < need)
		shift++;
	if ((1ull << shift) < need)
		return -ENOMEM;
	/* one more slot of room, to align the base to a slot */
	p = mmap(NULL, ((uint64_t)nheaps + 1) << shift, PROT_READ | PROT_WRITE,
	         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	gm_heap_shift = shift;
	gm_heap_base = ((uintptr_t)p + (1ull << shift) - 1) & ~(((uintptr_t)1 << shift) - 1);
	__atomic_store_n(&gm_heap_span, (uintptr_t)nheaps << shift, __ATOMIC_RELEASE);
	return 0;
}

int gm_heap_create(unsigned idx, uint64_t capacity)
{
	gm_heap_t *h;
	extent_hooks_t *hp;
	size_t len = sizeof(unsigned);
	unsigned arena;
	if (idx >= GM_HEAP_MAX || !gm_heap_span ||
	    ((uintptr_t)idx << gm_heap_shift) >= gm_heap_span)
		return -EINVAL;
	h = &gm_heaps[idx];
	if (h->ready)
		return 0;
	if (capacity == 0 || capacity > (1ull << gm_heap_shift))
		capacity = 1ull << gm_heap_shift;
	memset(h, 0, sizeof(*h));
	h->hooks.alloc = gm_heap_extent_alloc;
	h->hooks.dalloc = gm_heap_extent_dalloc;
	h->hooks.destroy = gm_heap_extent_destroy;
	h->hooks.commit = gm_heap_extent_commit;
	h->hooks.decommit = gm_heap_extent_decommit;
	h->hooks.purge_lazy = NULL;
	h->hooks.purge_forced = gm_heap_extent_purge;
	h->hooks.split = gm_heap_extent_split;
	h->hooks.merge = gm_heap_extent_merge;
	h->lo = gm_heap_base + ((uintptr_t)idx << gm_heap_shift);
	h->hi = h->lo + capacity + gm_heap_slack(capacity);
	if (h->hi > h->lo + (1ull << gm_heap_shift))
		h->hi = h->lo + (1ull << gm_heap_shift);
	h->next = h->lo;
	hp = &h->hooks;
	if (gm_heap_mallctl("arenas.create", &arena, &len, &hp, sizeof(hp)) != 0)
		return -ENOMEM;
	h->arena = arena;
	/* jemalloc grows its retained space geometrically (asking for ever
	 * larger extents): in a slot of fixed capacity that strands the tail.
	 * Grow by small steps instead, so the whole capacity can be used. */
	{
		char name[64];
		size_t limit = 2u << 20;
		snprintf(name, sizeof(name), "arena.%u.retain_grow_limit", arena);
		gm_heap_mallctl(name, NULL, NULL, &limit, sizeof(limit));
	}
	__atomic_store_n(&h->ready, 1, __ATOMIC_RELEASE);
	return 0;
}

/* Thread caches: one explicit jemalloc tcache per thread and heap, so a
 * cached block always belongs to the heap it is handed out for (the
 * automatic tcache mixes arenas). Without one, every small allocation and
 * free takes the arena's bin lock, and a slab that empties on a free goes
 * back to the arena, to be made again at the next allocation (measured
 * here: some 250 ns per malloc+free pair). Blocks a cache holds stay in
 * the heap, as an allocator's caches do on a device. Index + 1; UINT_MAX
 * after the thread's exit (no more caches for it). */
static __thread unsigned gm_heap_tc[GM_HEAP_MAX] __attribute__((tls_model("initial-exec")));
static __thread int gm_heap_tc_gone __attribute__((tls_model("initial-exec")));

static int gm_heap_tcache(unsigned idx)
{
	unsigned tc = gm_heap_tc[idx];
	if (GM_LIKELY(tc != 0))
		return MALLOCX_TCACHE(tc - 1);
	if (!gm_heap_tc_gone) {
		unsigned v;
		size_t len = sizeof(v);
		sigset_t was;
		/* signals held back until the cache is this thread's: a handler
		 * meanwhile would make one more (see gm_heap_mallctl) */
		int held = gm_heap_signals_hold(&was), made;
		made = mallctl("tcache.create", &v, &len, NULL, 0) == 0;
		if (made)
			gm_heap_tc[idx] = v + 1;
		gm_heap_signals_back(held, &was);
		if (made)
			return MALLOCX_TCACHE(v);
	}
	return MALLOCX_TCACHE_NONE;
}

/* The flags for a block of heap idx: this thread's cache for it. */
static int gm_heap_flags(unsigned idx)
{
	return MALLOCX_ARENA(gm_heaps[idx].arena) | gm_heap_tcache(idx);
}

/* Give this thread's cached blocks of heap idx back to the heap. */
static void gm_heap_flush(unsigned idx)
{
	unsigned tc = gm_heap_tc[idx];
	if (tc) {
		unsigned v = tc - 1;
		gm_heap_mallctl("tcache.flush", NULL, NULL, &v, sizeof(v));
	}
}

void gm_heap_thread_exit(void)
{
	unsigned i;
	gm_heap_tc_gone = 1;
	for (i = 0; i < GM_HEAP_MAX; i++) {
		if (gm_heap_tc[i]) {
			unsigned v = gm_heap_tc[i] - 1;
			gm_heap_tc[i] = 0;
			gm_heap_mallctl("tcache.destroy", NULL, NULL, &v, sizeof(v));
		}
	}
}

/* A heap said it is full. jemalloc keeps freed pages as separate dirty
 * extents and merges them only once purged: give this thread's cached
 * blocks back and purge, so freed space becomes whole again; 1 when worth
 * trying once more. Only when something was freed since the last purge: a
 * full heap in soft mode is asked on every allocation, and a purge is slow. */
static int gm_heap_reclaim(unsigned idx)
{
	char name[48];
	if (!__atomic_exchange_n(&gm_heaps[idx].freed, 0, __ATOMIC_RELAXED))
		return 0;
	gm_heap_flush(idx);
	snprintf(name, sizeof(name), "arena.%u.purge", gm_heaps[idx].arena);
	gm_heap_mallctl(name, NULL, NULL, NULL, 0);
	return 1;
}

void *gm_heap_alloc(unsigned idx, size_t n, size_t align, int zero)
{
	void *p;
	int flags;
	if (idx >= GM_HEAP_MAX || !__atomic_load_n(&gm_heaps[idx].ready, __ATOMIC_ACQUIRE))
		return NULL;
	flags = gm_heap_flags(idx);
	if (align > 1)
		flags |= MALLOCX_ALIGN(align);
	if (zero)
		flags |= MALLOCX_ZERO;
	p = mallocx(n ? n : 1, flags);
	if (!p && gm_heap_reclaim(idx))
		p = mallocx(n ? n : 1, flags);
	return p;
}

void *gm_heap_realloc(void *p, size_t n)
{
	unsigned idx = gm_heap_of(p);
	int flags = gm_heap_flags(idx);
	void *q = rallocx(p, n ? n : 1, flags);
	if (!q && gm_heap_reclaim(idx))
		q = rallocx(p, n ? n : 1, flags);
	return q;
}

void gm_heap_free(void *p)
{
	unsigned idx = gm_heap_of(p);
	dallocx(p, gm_heap_tcache(idx));
	if (!__atomic_load_n(&gm_heaps[idx].freed, __ATOMIC_RELAXED))
		__atomic_store_n(&gm_heaps[idx].freed, 1, __ATOMIC_RELAXED);
}

size_t gm_heap_size_for(size_t n, size_t align)
{
	return nallocx(n ? n : 1, align > 1 ? MALLOCX_ALIGN(align) : 0);
}

size_t gm_heap_usable(const void *p)
{
	return sallocx(p, 0);
}

uint64_t gm_heap_used(unsigned idx)
{
	gm_heap_t *h;
	uint64_t used;
	if (idx >= GM_HEAP_MAX || !gm_heaps[idx].ready)
		return 0;
	h = &gm_heaps[idx];
	gm_heap_lock(h);
	used = h->next - h->lo;
	gm_heap_unlock(h);
	return used;
}
