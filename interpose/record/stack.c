/* stack.c - call stacks of allocations: unwinding and the stack table */
#define _GNU_SOURCE
#include "stack.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <string.h>

#include "../support/mem.h"
#include "../support/support.h"
#include "session.h"

int gm_stack_depth;

static gm_stack_table_t gm_stack_table;
static int (*gm_stack_unwind)(void **pcs, int n);    /* libunwind's unw_backtrace */
static void *gm_stack_libunwind;                     /* its handle */
static uintptr_t gm_stack_self_lo, gm_stack_self_hi; /* libgmtrace's own code */

/* Table of 2^16 slots and 4 MiB of frames: about 29,000 stacks of 16
 * frames, 4.25 MiB of the profiler's memory, made only when STACKS is on. */
#define GM_STACK_BITS 16
#define GM_STACK_WORDS (512u * 1024u)

/* ---- the session's stacks ------------------------------------------------ */

/* The module holding address arg[0]: its range into arg[1], arg[2]. */
static int gm_stack_module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t *range = arg, me = range[0], lo = UINTPTR_MAX, hi = 0;
	int k;
	(void)size;
	for (k = 0; k < info->dlpi_phnum; k++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
		uintptr_t a = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type != PT_LOAD)
			continue;
		if (a < lo)
			lo = a;
		if (a + ph->p_memsz > hi)
			hi = a + ph->p_memsz;
	}
	if (me < lo || me >= hi)
		return 0;
	range[1] = lo;
	range[2] = hi;
	return 1;
}

void *gm_stack_unwinder(const char *name)
{
	return gm_stack_libunwind ? dlsym(gm_stack_libunwind, name) : NULL;
}

int gm_stack_module_range(uintptr_t pc, uintptr_t *lo, uintptr_t *hi)
{
	uintptr_t range[3] = {pc, 0, 0};
	if (!dl_iterate_phdr(gm_stack_module_cb, range))
		return 0;
	*lo = range[1];
	*hi = range[2];
	return 1;
}

void gm_stack_start(unsigned depth, int python)
{
	void *lib;
	gm_stack_depth = 0;
	gm_pystack_mode = python;
	if (depth == 0)
		return;
	if (depth > GM_STACK_MAX)
		depth = GM_STACK_MAX;
	if (!gm_stack_unwind) {
		int (*policy)(void *, int);
		void **space;
		gm_stack_libunwind = lib = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
		if (!lib) {
			gm_support_warn("GMTRACE_STACKS: cannot load libunwind.so.8 (", dlerror(),
			                "); stacks are not recorded");
			return;
		}
		/* a per-thread cache of unwind info: no lock while unwinding */
		policy = (int (*)(void *, int))dlsym(lib, "_ULx86_64_set_caching_policy");
		space = dlsym(lib, "_ULx86_64_local_addr_space");
		if (policy && space)
			policy(*space, 2 /* UNW_CACHE_PER_THREAD */);
		gm_stack_unwind = (int (*)(void **, int))dlsym(lib, "unw_backtrace");
		if (!gm_stack_unwind) {
			gm_support_warn("GMTRACE_STACKS: libunwind.so.8 has no unw_backtrace; ",
			                "stacks are not recorded", 0);
			return;
		}
		gm_stack_module_range((uintptr_t)&gm_stack_start, &gm_stack_self_lo,
		                      &gm_stack_self_hi);
	}
	if (!gm_stack_table.slots) {
		if (gm_stack_table_make(&gm_stack_table, GM_STACK_BITS, GM_STACK_WORDS,
		                        gm_mem_alloc) != 0) {
			gm_mem_free(gm_stack_table.slots);
			gm_mem_free(gm_stack_table.store);
			memset(&gm_stack_table, 0, sizeof(gm_stack_table));
			gm_support_warn("GMTRACE_STACKS: no memory for the stack table; ",
			                "stacks are not recorded", 0);
			return;
		}
	} else {
		gm_stack_table_clear(&gm_stack_table);
		gm_pystack_clear();
	}
	gm_stack_depth = (int)depth;
	gm_pystack_find();
}

void gm_stack_note(gm_thread_t *t)
{
	/* Python frames take the place of many C frames: look further. The
	 * arrays are sized for the depth asked for (a game's small stacks, a
	 * signal handler's, meet this too) */
	int python = __atomic_load_n(&gm_pystack_on, __ATOMIC_ACQUIRE), depth = gm_stack_depth;
	int want = python ? 4 * depth + 16 : depth + 16;
	void *raw[want];
	uint64_t pcs[depth + 1]; /* (+1: a record's last unit padded) */
	int n, i = 0, k = 0, is_new;
	uint32_t id = 0;
	if (!t->acc) /* a thread's first record (a realloc's or a failure's site) */
		gm_thread_attach(t);
	t->busy++; /* whatever the unwinder allocates is not the game's */
	n = gm_stack_unwind(raw, want);
	t->busy--;
	while (i < n && (uintptr_t)raw[i] >= gm_stack_self_lo &&
	       (uintptr_t)raw[i] < gm_stack_self_hi)
		i++;
	if (python)
		k = gm_pystack_splice(t, raw + i, n - i, pcs, depth);
	else
		for (; i < n && k < depth; i++)
			pcs[k++] = (uint64_t)(uintptr_t)raw[i];
	if (k > 0) {
		unsigned units = ((unsigned)k + 1) / 2;
		pcs[k] = 0;
		id = gm_stack_intern(&gm_stack_table, pcs, (unsigned)k, &is_new);
		if (is_new || id == 0) /* (a module loaded since the last walk) */
			gm_session_modules_cover(pcs, (unsigned)k);
		if (is_new) {
			gm_thread_put_units(t, gm_rec_w0(id, gm_rec_stack, units), (uint64_t)k, pcs,
			                    units);
		} else if (id == 0) {
			/* no room in the table: the stack goes with this one
			 * allocation, so nothing is lost but capture space */
			gm_thread_put_units(t, gm_rec_w0(0, gm_rec_site_frames, units), (uint64_t)k,
			                    pcs, units);
			return;
		}
	}
	/* (0: no frame could be taken) */
	gm_thread_put(t, gm_rec_w0(id, gm_rec_site, 0), 0);
}

void gm_stack_modules_gone(void)
{
	if (gm_stack_table.slots)
		gm_stack_table_new_gen(&gm_stack_table);
}

uint64_t gm_stack_not_kept(void)
{
	return gm_stack_table.slots ? __atomic_load_n(&gm_stack_table.not_kept, __ATOMIC_RELAXED) :
	                              0;
}
