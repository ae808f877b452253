/* heap.h - budget heaps: jemalloc arenas inside one reserved address range
 *
 * Every budget node that receives allocations gets a heap: a jemalloc arena
 * whose extents come only from that node's slot of one address range
 * reserved at start-up (custom extent hooks; split and merge allowed, so
 * the arena can serve nearly its whole capacity in small blocks). Past its
 * capacity (plus an allowance for jemalloc's own metadata and padding, see
 * heap.c) the arena has no memory, as a console bank has none, and
 * fragmentation inside it counts as it would there.
 *
 * Slots are all the same power-of-two size, so the heap of a pointer is one
 * subtraction, one comparison and one shift: free() needs no lookup table
 * and no header.
 */
#ifndef GM_HEAP_H
#define GM_HEAP_H

#include <stddef.h>
#include <stdint.h>

#define GM_HEAP_MAX 64

extern uintptr_t gm_heap_base; /* start of the reserved range (0: no heaps) */
extern uintptr_t gm_heap_span; /* its size (0: no heaps) */
extern unsigned gm_heap_shift; /* log2 of one slot */

/* 1 if p is inside a budget heap. */
static inline int gm_heap_owns(const void *p)
{
	return (uintptr_t)p - gm_heap_base < gm_heap_span;
}

/* Index of the heap holding p (gm_heap_owns(p) must be true). */
static inline unsigned gm_heap_of(const void *p)
{
	return (unsigned)(((uintptr_t)p - gm_heap_base) >> gm_heap_shift);
}

/* Reserve room for nheaps heaps of up to max_capacity bytes each (address
 * space only: pages are used as the heaps fill). Returns 0 or -ENOMEM. */
int gm_heap_reserve(unsigned nheaps, uint64_t max_capacity);

/* Make heap index idx with capacity bytes (<= the slot). Returns 0, or a
 * negative errno (jemalloc refused the arena). */
int gm_heap_create(unsigned idx, uint64_t capacity);

/* Allocate from heap idx: n bytes aligned to align (0: default), zeroed if
 * zero. NULL when the heap is full. */
void *gm_heap_alloc(unsigned idx, size_t n, size_t align, int zero);

/* Resize a heap block in place or within its heap; NULL when full (the old
 * block is untouched then). */
void *gm_heap_realloc(void *p, size_t n);

void gm_heap_free(void *p);

/* The usable size of a block of n bytes aligned to align (0: default) that
 * a heap would serve: what a budget reserves for it. 0 past the largest. */
size_t gm_heap_size_for(size_t n, size_t align);

/* The calling thread ends: its heap caches go back to their heaps. */
void gm_heap_thread_exit(void);
size_t gm_heap_usable(const void *p);

/* Bytes of the heap's slot handed to jemalloc so far (its high-water). */
uint64_t gm_heap_used(unsigned idx);

#endif
