/* owner.c - which asset each block of a budget's heap belongs to (owner.h)
 *
 * 64 stripes chosen by the address's hash, each an open-addressing table
 * (linear probing, deletion by shifting the run back: no tombstones) under a
 * spin flag, so threads freeing unrelated blocks rarely meet. Tables live in
 * the private arena and double at half full.
 */
#include "owner.h"

#include <string.h>

#include "../record/context.h"
#include "../support/mem.h"

#define GM_OWNER_STRIPES 64
#define GM_OWNER_FIRST 64 /* slots of a stripe's first table */

typedef struct gm_owner_slot {
	uint64_t p; /* 0: empty */
	uint64_t id, n;
} gm_owner_slot_t;

typedef struct gm_owner_stripe {
	int lock;
	gm_owner_slot_t *slot;
	size_t cap, n; /* cap: a power of two, or 0 */
} __attribute__((aligned(64))) gm_owner_stripe_t;

static gm_owner_stripe_t gm_owner_stripes[GM_OWNER_STRIPES];
static __thread int gm_owner_inside __attribute__((tls_model("initial-exec")));
static int gm_owner_forking; /* the forking thread holds every stripe */
static int gm_owner_used;    /* 1 once a block was noted (atomic) */

static uint64_t gm_owner_hash(uint64_t p)
{
	return (p >> 4) * 0x9e3779b97f4a7c15ull;
}

static gm_owner_stripe_t *gm_owner_enter(uint64_t h)
{
	gm_owner_stripe_t *s = &gm_owner_stripes[h >> 58];
	while (__atomic_exchange_n(&s->lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
	return s;
}

static void gm_owner_leave(gm_owner_stripe_t *s)
{
	__atomic_store_n(&s->lock, 0, __ATOMIC_RELEASE);
}

/* Home slot of a hash in a table of cap slots (the stripe took the top
 * bits; the slot takes the bits below them). */
static size_t gm_owner_home(uint64_t h, size_t cap)
{
	return (size_t)(h >> 16) & (cap - 1);
}

/* The slot holding p in a table of cap slots, or the empty one ending its
 * run (where it goes). h: p's hash. */
static size_t gm_owner_find(const gm_owner_slot_t *slot, size_t cap, uint64_t h, uint64_t p)
{
	size_t i = gm_owner_home(h, cap);
	while (slot[i].p && slot[i].p != p)
		i = (i + 1) & (cap - 1);
	return i;
}

static void gm_owner_put(gm_owner_slot_t *slot, size_t cap, const gm_owner_slot_t *e)
{
	slot[gm_owner_find(slot, cap, gm_owner_hash(e->p), e->p)] = *e;
}

/* Doubles s's table; -1 when the arena has no room. */
static int gm_owner_grow(gm_owner_stripe_t *s)
{
	size_t cap = s->cap ? s->cap * 2 : GM_OWNER_FIRST, i;
	gm_owner_slot_t *slot = gm_mem_alloc(cap * sizeof(*slot));
	if (!slot)
		return -1;
	memset(slot, 0, cap * sizeof(*slot));
	for (i = 0; i < s->cap; i++)
		if (s->slot[i].p)
			gm_owner_put(slot, cap, &s->slot[i]);
	gm_mem_free(s->slot);
	s->slot = slot;
	s->cap = cap;
	return 0;
}

void gm_owner_note(uintptr_t p, uint64_t id, uint64_t n)
{
	uint64_t h = gm_owner_hash(p);
	gm_owner_stripe_t *s;
	gm_owner_slot_t e = {p, id, n};
	if (!p || !id || gm_owner_inside)
		return;
	/* (before the block is handed out: whoever frees it sees the table in use) */
	if (!__atomic_load_n(&gm_owner_used, __ATOMIC_RELAXED))
		__atomic_store_n(&gm_owner_used, 1, __ATOMIC_RELAXED);
	gm_owner_inside = 1;
	s = gm_owner_enter(h);
	if ((s->n + 1) * 2 <= s->cap || gm_owner_grow(s) == 0) {
		size_t i = gm_owner_find(s->slot, s->cap, h, p);
		s->n += !s->slot[i].p;
		s->slot[i] = e;
	}
	gm_owner_leave(s);
	gm_owner_inside = 0;
}

/* n off asset id's bytes, never below 0. */
void gm_owner_credit(uint64_t id, uint64_t n)
{
	gm_asset_t *a = gm_context_asset(id);
	uint64_t cur;
	if (!a)
		return;
	cur = __atomic_load_n(&a->bytes, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&a->bytes, &cur, cur > n ? cur - n : 0, 1,
	                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

int gm_owner_take(uintptr_t p, uint64_t *id, uint64_t *n)
{
	uint64_t h = gm_owner_hash(p);
	gm_owner_stripe_t *s;
	size_t i, j;
	int found = 0;
	*id = *n = 0;
	/* nothing noted yet (budgets served by tags alone, a platform's banks
	 * with no asset bound): every free of a budget heap passes here, and
	 * need not take a stripe */
	if (!p || gm_owner_inside || !__atomic_load_n(&gm_owner_used, __ATOMIC_RELAXED))
		return 0;
	gm_owner_inside = 1;
	s = gm_owner_enter(h);
	if (s->cap) {
		i = gm_owner_find(s->slot, s->cap, h, p);
		if (s->slot[i].p) {
			found = 1;
			*id = s->slot[i].id;
			*n = s->slot[i].n;
			/* shift the rest of the run back over the hole */
			for (j = (i + 1) & (s->cap - 1); s->slot[j].p; j = (j + 1) & (s->cap - 1)) {
				size_t home = gm_owner_home(gm_owner_hash(s->slot[j].p), s->cap);
				/* j's entry may move to i if its home is not in (i, j] */
				if (((j - home) & (s->cap - 1)) >= ((j - i) & (s->cap - 1))) {
					s->slot[i] = s->slot[j];
					i = j;
				}
			}
			s->slot[i].p = 0;
			s->n--;
		}
	}
	gm_owner_leave(s);
	gm_owner_inside = 0;
	return found;
}

void gm_owner_charge(uint64_t id, uint64_t n)
{
	gm_asset_t *a = gm_context_asset(id);
	if (a)
		__atomic_add_fetch(&a->bytes, n, __ATOMIC_RELAXED);
}

uint64_t gm_owner_forget(uintptr_t p)
{
	uint64_t id, n;
	if (!gm_owner_take(p, &id, &n))
		return 0;
	gm_owner_credit(id, n);
	return id;
}

void gm_owner_fork_prepare(void)
{
	size_t k;
	/* (a fork from a signal handler that interrupted this thread inside
	 * the table would wait for itself: the stripes are left as they are) */
	if (gm_owner_inside)
		return;
	for (k = 0; k < GM_OWNER_STRIPES; k++)
		while (__atomic_exchange_n(&gm_owner_stripes[k].lock, 1, __ATOMIC_ACQUIRE))
			__builtin_ia32_pause();
	gm_owner_forking = 1;
}

void gm_owner_fork_done(void)
{
	size_t k;
	if (!gm_owner_forking)
		return;
	gm_owner_forking = 0;
	for (k = 0; k < GM_OWNER_STRIPES; k++)
		__atomic_store_n(&gm_owner_stripes[k].lock, 0, __ATOMIC_RELEASE);
}
