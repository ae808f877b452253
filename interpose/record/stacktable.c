/* stacktable.c - the lock-free table of interned call stacks (stack.h) */
#include "stack.h"

#include <errno.h>
#include <string.h>

int gm_stack_table_make(gm_stack_table_t *t, unsigned bits, uint64_t words,
                        void *(*mem_alloc)(size_t))
{
	size_t nslots;
	memset(t, 0, sizeof(*t));
	if (bits > 30 || words >= (1ull << 32))
		return -EINVAL;
	nslots = (size_t)1 << bits;
	t->slots = mem_alloc(nslots * sizeof(uint32_t));
	t->store = mem_alloc((size_t)words * sizeof(uint64_t));
	if (!t->slots || !t->store)
		return -ENOMEM;
	t->mask = (uint32_t)(nslots - 1);
	t->words = words;
	gm_stack_table_clear(t);
	return 0;
}

void gm_stack_table_clear(gm_stack_table_t *t)
{
	memset(t->slots, 0, ((size_t)t->mask + 1) * sizeof(uint32_t));
	__atomic_store_n(&t->used, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&t->not_kept, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&t->published, 0, __ATOMIC_RELAXED);
}

static uint64_t gm_stack_hash(const uint64_t *pcs, unsigned n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
	unsigned i;
	for (i = 0; i < n; i++) {
		h = (h ^ pcs[i]) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

static int gm_stack_same(const uint64_t *e, uint64_t h, const uint64_t *pcs, unsigned n)
{
	return e[0] == h && e[1] == n && memcmp(e + 2, pcs, (size_t)n * 8) == 0;
}

void gm_stack_table_new_gen(gm_stack_table_t *t)
{
	__atomic_add_fetch(&t->gen, 1, __ATOMIC_RELEASE);
}

uint32_t gm_stack_intern(gm_stack_table_t *t, const uint64_t *pcs, unsigned n, int *is_new)
{
	/* the generation is part of the key, through the hash kept whole in
	 * each entry */
	uint64_t h = gm_stack_hash(pcs, n) ^
	             __atomic_load_n(&t->gen, __ATOMIC_ACQUIRE) * 0xc2b2ae3d27d4eb4full;
	uint64_t mine = 0; /* 1 + offset of our entry */
	uint32_t i = (uint32_t)h & t->mask, probes;
	*is_new = 0;
	for (probes = 0; probes <= t->mask; probes++, i = (i + 1) & t->mask) {
		uint32_t s = __atomic_load_n(&t->slots[i], __ATOMIC_ACQUIRE);
		if (s == 0) {
			/* a table kept under 3/4 full keeps every probe short,
			 * also for stacks it will not take */
			if (__atomic_load_n(&t->published, __ATOMIC_RELAXED) >=
			    (uint64_t)t->mask + 1 - ((uint64_t)t->mask + 1) / 4)
				goto full;
			if (!mine) {
				/* take room for an entry (only if it fits: a stack
				 * refused leaves the rest to smaller ones), fill it,
				 * then publish it with one CAS */
				uint64_t off = __atomic_load_n(&t->used, __ATOMIC_RELAXED);
				do {
					if (off + n + 2 > t->words)
						goto full;
				} while (!__atomic_compare_exchange_n(&t->used, &off, off + n + 2,
				                                      1, __ATOMIC_RELAXED,
				                                      __ATOMIC_RELAXED));
				t->store[off] = h;
				t->store[off + 1] = n;
				memcpy(t->store + off + 2, pcs, (size_t)n * 8);
				mine = off + 1;
			}
			if (__atomic_compare_exchange_n(&t->slots[i], &s, (uint32_t)mine, 0,
			                                __ATOMIC_RELEASE, __ATOMIC_ACQUIRE)) {
				__atomic_add_fetch(&t->published, 1, __ATOMIC_RELAXED);
				*is_new = 1;
				return (uint32_t)mine;
			}
			/* another thread published first: s is its entry */
		}
		if (gm_stack_same(t->store + s - 1, h, pcs, n))
			return s; /* (an entry of ours filled meanwhile stays unused) */
	}
full:
	/* (a thread publishing this very stack meanwhile may make it found
	 * next time: this call counts it as not kept) */
	__atomic_add_fetch(&t->not_kept, 1, __ATOMIC_RELAXED);
	return 0;
}
