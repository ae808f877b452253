/* live.h - the set of live heap blocks, keyed by address
 *
 * An open-addressing hash map (linear probing) from a block's address to what
 * is known about it: size, how it was allocated, by which thread, when. Removal
 * shifts the following entries back instead of leaving tombstones, so lookups
 * stay short however many blocks come and go over a long capture. The table
 * doubles when it is three quarters full. Address 0 is never a live block.
 *
 * The map also keeps the count and the byte sum of its entries, which is what
 * "live bytes" means in every report.
 */
#ifndef GM_LIVE_H
#define GM_LIVE_H

#include <stddef.h>
#include <stdint.h>

typedef struct gm_live gm_live_t;

/* One live block. */
typedef struct gm_live_entry {
	uint64_t ptr;    /* block address, never 0 */
	uint64_t size;   /* requested bytes */
	uint64_t ns;     /* when it was allocated */
	uint64_t seq;    /* caller's sequence number for the allocation (ordering ties) */
	uint32_t thread; /* writer thread index that allocated it */
	uint32_t kind;   /* gm_kind_t */
} gm_live_entry_t;

/* An empty map with room for about capacity blocks before it grows (0 for
 * a small default). Returns NULL when out of memory. */
gm_live_t *gm_live_new(size_t capacity);

/* Frees the map; NULL is allowed. */
void gm_live_free(gm_live_t *live);

/* Adds a block. Returns 0; -EINVAL if e->ptr is 0; -EEXIST if the address is
 * already live (the map is left unchanged: remove the old block first);
 * -ENOMEM if the table could not grow (unchanged too). */
int gm_live_add(gm_live_t *live, const gm_live_entry_t *e);

/* Removes the block at ptr and copies it to *out (out may be NULL).
 * Returns 0, or -ENOENT if ptr is not live. */
int gm_live_remove(gm_live_t *live, uint64_t ptr, gm_live_entry_t *out);

/* The live block at ptr, or NULL. The pointer is valid until the map changes. */
const gm_live_entry_t *gm_live_find(const gm_live_t *live, uint64_t ptr);

/* Number of live blocks and the sum of their sizes. */
size_t gm_live_count(const gm_live_t *live);
uint64_t gm_live_bytes(const gm_live_t *live);

/* Iteration in table order: start with *cursor = 0; returns the next entry,
 * or NULL at the end. The map must not change during an iteration. */
const gm_live_entry_t *gm_live_next(const gm_live_t *live, size_t *cursor);

#endif
