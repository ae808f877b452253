/* live.c - the set of live heap blocks, keyed by address
 *
 * Linear probing over a power-of-two table; a slot is empty when its ptr is
 * 0. Deleting slot i walks the run after it and moves back every entry whose
 * home slot does not lie cyclically in (i, j], so every entry stays reachable
 * from its home without tombstones. See live.h.
 */
#include "analysis/model/live.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define GM_LIVE_MIN_SLOTS 64u

struct gm_live {
	gm_live_entry_t *slots;
	size_t mask; /* number of slots - 1 */
	size_t count;
	uint64_t bytes;
};

/* Addresses are aligned, so their low bits say little: mix before masking. */
static size_t gm_live_home(const gm_live_t *live, uint64_t ptr)
{
	uint64_t h = ptr;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (size_t)h & live->mask;
}

static size_t gm_live_slots_for(size_t capacity)
{
	size_t n = GM_LIVE_MIN_SLOTS;

	while (n / 4 * 3 < capacity && n < ((size_t)1 << (sizeof(size_t) * 8 - 2)))
		n *= 2;
	return n;
}

/* An empty map (see live.h). Returns NULL when out of memory. */
gm_live_t *gm_live_new(size_t capacity)
{
	gm_live_t *live = calloc(1, sizeof(*live));
	size_t n = gm_live_slots_for(capacity);

	if (!live)
		return NULL;
	live->slots = calloc(n, sizeof(*live->slots));
	if (!live->slots) {
		free(live);
		return NULL;
	}
	live->mask = n - 1;
	return live;
}

/* Frees the map; NULL is allowed. */
void gm_live_free(gm_live_t *live)
{
	if (!live)
		return;
	free(live->slots);
	free(live);
}

/* Slot holding ptr, or the empty slot where it would go. */
static size_t gm_live_probe(const gm_live_t *live, uint64_t ptr)
{
	size_t i = gm_live_home(live, ptr);

	while (live->slots[i].ptr != 0 && live->slots[i].ptr != ptr)
		i = (i + 1) & live->mask;
	return i;
}

static int gm_live_grow(gm_live_t *live)
{
	size_t n = (live->mask + 1) * 2, i;
	gm_live_entry_t *old = live->slots;
	size_t old_n = live->mask + 1;

	live->slots = calloc(n, sizeof(*live->slots));
	if (!live->slots) {
		live->slots = old;
		return -ENOMEM;
	}
	live->mask = n - 1;
	for (i = 0; i < old_n; i++)
		if (old[i].ptr != 0)
			live->slots[gm_live_probe(live, old[i].ptr)] = old[i];
	free(old);
	return 0;
}

/* Adds a block (see live.h). Returns 0, -EINVAL, -EEXIST or -ENOMEM. */
int gm_live_add(gm_live_t *live, const gm_live_entry_t *e)
{
	size_t i;

	if (e->ptr == 0)
		return -EINVAL;
	i = gm_live_probe(live, e->ptr);
	if (live->slots[i].ptr == e->ptr)
		return -EEXIST;
	if ((live->count + 1) * 4 > (live->mask + 1) * 3) {
		if (gm_live_grow(live) < 0)
			return -ENOMEM;
		i = gm_live_probe(live, e->ptr);
	}
	live->slots[i] = *e;
	live->count++;
	live->bytes += e->size;
	return 0;
}

/* Removes the block at ptr (see live.h). Returns 0 or -ENOENT. */
int gm_live_remove(gm_live_t *live, uint64_t ptr, gm_live_entry_t *out)
{
	size_t i, j;

	if (ptr == 0)
		return -ENOENT;
	i = gm_live_probe(live, ptr);
	if (live->slots[i].ptr != ptr)
		return -ENOENT;
	if (out)
		*out = live->slots[i];
	live->count--;
	live->bytes -= live->slots[i].size;
	/* backward shift: close the hole at i */
	j = i;
	for (;;) {
		size_t home;

		j = (j + 1) & live->mask;
		if (live->slots[j].ptr == 0)
			break;
		home = gm_live_home(live, live->slots[j].ptr);
		/* the entry at j may move to i unless its home is cyclically in (i, j] */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		live->slots[i] = live->slots[j];
		i = j;
	}
	memset(&live->slots[i], 0, sizeof(live->slots[i]));
	return 0;
}

/* The live block at ptr, or NULL. */
const gm_live_entry_t *gm_live_find(const gm_live_t *live, uint64_t ptr)
{
	size_t i;

	if (ptr == 0)
		return NULL;
	i = gm_live_probe(live, ptr);
	return live->slots[i].ptr == ptr ? &live->slots[i] : NULL;
}

/* Number of live blocks. */
size_t gm_live_count(const gm_live_t *live)
{
	return live->count;
}

/* Sum of the live blocks' sizes. */
uint64_t gm_live_bytes(const gm_live_t *live)
{
	return live->bytes;
}

/* Next entry in table order, or NULL at the end (see live.h). */
const gm_live_entry_t *gm_live_next(const gm_live_t *live, size_t *cursor)
{
	while (*cursor <= live->mask) {
		const gm_live_entry_t *e = &live->slots[(*cursor)++];

		if (e->ptr != 0)
			return e;
	}
	return NULL;
}
