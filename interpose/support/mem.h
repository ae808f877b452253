/* mem.h - the profiler's own memory: a private jemalloc arena
 *
 * Everything gmtrace allocates for itself (drainer buffers, the zstd
 * context, later the asset and budget tables) comes from one jemalloc arena
 * created for it, through mallocx/dallocx with the thread cache off. It
 * never touches the game's heap, never re-enters the hooks, and its size is
 * known at any time (gm_mem_bytes).
 */
#ifndef GM_MEM_H
#define GM_MEM_H

#include <stddef.h>
#include <stdint.h>

/* Create the private arena; returns 0, or -ENOMEM and leaves gm_mem_alloc
 * failing. Safe to call more than once. */
int gm_mem_init(void);

/* Allocate n bytes (zeroed) from the private arena; NULL on failure. */
void *gm_mem_alloc(size_t n);

/* Release a block from gm_mem_alloc (NULL is ignored). */
void gm_mem_free(void *p);

/* Bytes currently allocated from the private arena (exact, from our own
 * counter), and bytes of pages jemalloc holds for it (from its stats). */
size_t gm_mem_bytes(void);
size_t gm_mem_resident_bytes(void);

/* Number of gm_mem_alloc calls that succeeded so far. */
uint64_t gm_mem_allocations(void);

#endif
