/* mem.c - the profiler's own memory from a private jemalloc arena
 *
 * Only jemalloc's non-standard entry points (mallocx, dallocx, sallocx,
 * mallctl) are called: its standard-named malloc/free would be the game's
 * (see DESIGN.md, the jemalloc trap).
 */
#include "mem.h"

#include <errno.h>
#include <stdint.h>
#include <jemalloc/jemalloc.h>

static unsigned gm_mem_arena;
static int gm_mem_ready;
static size_t gm_mem_live;      /* atomic */
static uint64_t gm_mem_nallocs; /* atomic */

int gm_mem_init(void)
{
	unsigned arena;
	size_t len = sizeof(arena);
	if (__atomic_load_n(&gm_mem_ready, __ATOMIC_ACQUIRE))
		return 0;
	if (mallctl("arenas.create", &arena, &len, NULL, 0) != 0)
		return -ENOMEM;
	gm_mem_arena = arena;
	__atomic_store_n(&gm_mem_ready, 1, __ATOMIC_RELEASE);
	return 0;
}

void *gm_mem_alloc(size_t n)
{
	void *p;
	if (!__atomic_load_n(&gm_mem_ready, __ATOMIC_ACQUIRE) || n == 0)
		return NULL;
	p = mallocx(n, MALLOCX_ARENA(gm_mem_arena) | MALLOCX_TCACHE_NONE | MALLOCX_ZERO);
	if (p) {
		__atomic_add_fetch(&gm_mem_live, sallocx(p, 0), __ATOMIC_RELAXED);
		__atomic_add_fetch(&gm_mem_nallocs, 1, __ATOMIC_RELAXED);
	}
	return p;
}

void gm_mem_free(void *p)
{
	if (!p)
		return;
	__atomic_sub_fetch(&gm_mem_live, sallocx(p, 0), __ATOMIC_RELAXED);
	dallocx(p, MALLOCX_TCACHE_NONE);
}

size_t gm_mem_bytes(void)
{
	return __atomic_load_n(&gm_mem_live, __ATOMIC_RELAXED);
}

size_t gm_mem_resident_bytes(void)
{
	char name[64] = "stats.arenas.";
	size_t pactive = 0, len = sizeof(pactive), page = 4096, plen = sizeof(page);
	uint64_t epoch = 1;
	size_t elen = sizeof(epoch);
	unsigned a = gm_mem_arena, i = 13;
	char digits[12];
	int nd = 0;
	if (!gm_mem_ready)
		return 0;
	mallctl("epoch", &epoch, &elen, &epoch, elen);
	do {
		digits[nd++] = (char)('0' + a % 10);
		a /= 10;
	} while (a);
	while (nd)
		name[i++] = digits[--nd];
	name[i] = 0;
	{
		const char *tail = ".pactive";
		while (*tail)
			name[i++] = *tail++;
		name[i] = 0;
	}
	if (mallctl(name, &pactive, &len, NULL, 0) != 0)
		return 0;
	mallctl("arenas.page", &page, &plen, NULL, 0);
	return pactive * page;
}

uint64_t gm_mem_allocations(void)
{
	return __atomic_load_n(&gm_mem_nallocs, __ATOMIC_RELAXED);
}
