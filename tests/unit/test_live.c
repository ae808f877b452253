/* test_live.c - the live-block map: add, find, remove with backward shift, growth */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/model/live.h"
#include "failalloc.h"

static gm_live_entry_t entry(uint64_t ptr, uint64_t size)
{
	gm_live_entry_t e = {
	        .ptr = ptr, .size = size, .ns = ptr * 3, .seq = ptr, .thread = 1, .kind = 2};

	return e;
}

Test(live, adds_finds_and_removes_a_block)
{
	gm_live_t *live = gm_live_new(0);
	gm_live_entry_t e = entry(0x1000, 64), out;
	const gm_live_entry_t *f;

	cr_assert_not_null(live);
	cr_assert_eq(gm_live_add(live, &e), 0, "add 0x1000");
	f = gm_live_find(live, 0x1000);
	cr_assert_not_null(f, "find 0x1000 after add");
	cr_expect_eq(f->size, 64, "size of 0x1000");
	cr_expect_eq(f->ns, 0x3000, "ns of 0x1000");
	cr_expect_eq(f->thread, 1, "thread of 0x1000");
	cr_expect_eq(f->kind, 2, "kind of 0x1000");
	cr_expect_eq(gm_live_count(live), 1, "count after add");
	cr_expect_eq(gm_live_bytes(live), 64, "bytes after add");
	cr_expect_eq(gm_live_remove(live, 0x1000, &out), 0, "remove 0x1000");
	cr_expect_eq(out.size, 64, "removed entry's size");
	cr_expect_null(gm_live_find(live, 0x1000), "0x1000 gone after remove");
	cr_expect_eq(gm_live_count(live), 0, "count after remove");
	cr_expect_eq(gm_live_bytes(live), 0, "bytes after remove");
	gm_live_free(live);
}

Test(live, refuses_null_duplicates_and_unknown_removals)
{
	gm_live_t *live = gm_live_new(0);
	gm_live_entry_t e = entry(0x40, 8), zero = entry(0, 8), other = entry(0x40, 99);

	cr_assert_not_null(live);
	cr_expect_eq(gm_live_add(live, &zero), -EINVAL, "add of address 0");
	cr_expect_eq(gm_live_add(live, &e), 0, "add 0x40");
	cr_expect_eq(gm_live_add(live, &other), -EEXIST, "second add of 0x40");
	cr_expect_eq(gm_live_find(live, 0x40)->size, 8, "0x40 unchanged by the refused add");
	cr_expect_eq(gm_live_remove(live, 0x80, NULL), -ENOENT, "remove of 0x80, never added");
	cr_expect_eq(gm_live_remove(live, 0, NULL), -ENOENT, "remove of address 0");
	cr_expect_eq(gm_live_count(live), 1, "count");
	gm_live_free(live);
}

/* Many blocks through growth, half removed in a scattered order: every
 * survivor must stay findable (backward shift keeps probe runs intact). */
Test(live, keeps_every_block_findable_through_growth_and_removals)
{
	enum {
		n = 20000
	};
	gm_live_t *live = gm_live_new(0);
	uint64_t bytes = 0, i;
	size_t cursor = 0, seen = 0;
	const gm_live_entry_t *e;

	cr_assert_not_null(live);
	for (i = 1; i <= n; i++) {
		gm_live_entry_t x = entry(i * 16, i);

		cr_assert_eq(gm_live_add(live, &x), 0, "add block %llu", (unsigned long long)i);
		bytes += i;
	}
	cr_assert_eq(gm_live_count(live), n, "count after %d adds", n);
	for (i = 1; i <= n; i++) {
		uint64_t k = (i * 7919) % n + 1; /* a permutation of 1..n */

		if (k % 2)
			continue;
		cr_assert_eq(gm_live_remove(live, k * 16, NULL), 0, "remove block %llu",
		             (unsigned long long)k);
		bytes -= k;
	}
	cr_expect_eq(gm_live_count(live), n / 2, "count after removing the even blocks");
	cr_expect_eq(gm_live_bytes(live), bytes, "bytes after removing the even blocks");
	for (i = 1; i <= n; i++) {
		const gm_live_entry_t *f = gm_live_find(live, i * 16);

		if (i % 2)
			cr_assert(f && f->size == i, "odd block %llu still live",
			          (unsigned long long)i);
		else
			cr_assert_null(f, "even block %llu removed", (unsigned long long)i);
	}
	while ((e = gm_live_next(live, &cursor))) {
		cr_expect_eq(e->ptr / 16 % 2, 1, "iteration yields only odd blocks (0x%llx)",
		             (unsigned long long)e->ptr);
		seen++;
	}
	cr_expect_eq(seen, n / 2, "iteration visits every live block once");
	gm_live_free(live);
}

/* Addresses that collide in a small table: removal in the middle of a run
 * and at its wrap-around must not lose the others. */
Test(live, removes_from_the_middle_of_colliding_runs)
{
	gm_live_t *live = gm_live_new(0);
	uint64_t ptrs[200];
	int i, j;

	cr_assert_not_null(live);
	for (i = 0; i < 40; i++) {
		gm_live_entry_t x = entry((uint64_t)(i + 1) << 32, 1); /* low bits equal */

		ptrs[i] = x.ptr;
		cr_assert_eq(gm_live_add(live, &x), 0, "add 0x%llx", (unsigned long long)x.ptr);
	}
	for (i = 0; i < 40; i += 3) {
		cr_assert_eq(gm_live_remove(live, ptrs[i], NULL), 0, "remove 0x%llx",
		             (unsigned long long)ptrs[i]);
		for (j = 0; j < 40; j++) {
			int gone = j <= i && j % 3 == 0;

			cr_assert_eq(gm_live_find(live, ptrs[j]) == NULL, gone,
			             "0x%llx after removing 0x%llx", (unsigned long long)ptrs[j],
			             (unsigned long long)ptrs[i]);
		}
	}
	gm_live_free(live);
}

Test(live, frees_null)
{
	gm_live_free(NULL);
}

Test(live, sizes_the_table_for_the_capacity_asked)
{
	gm_live_t *live = gm_live_new(5000);
	size_t i, cursor = 0, slots = 0;

	cr_assert_not_null(live);
	/* 5000 blocks fit without growing: no allocation while adding them */
	gm_failalloc_arm(0);
	for (i = 1; i <= 5000; i++) {
		gm_live_entry_t x = entry(i * 32, 1);
		cr_assert_eq(gm_live_add(live, &x), 0, "block %zu", i);
	}
	cr_expect_eq(gm_failalloc_calls(), 0, "no growth for 5000 blocks");
	gm_failalloc_arm(-1);
	while (gm_live_next(live, &cursor))
		slots++;
	cr_expect_eq(slots, 5000);
	cr_expect_null(gm_live_find(live, 0), "0 is never a block");
	gm_live_free(live);
}

Test(live, out_of_memory_on_growth_keeps_every_block)
{
	gm_live_t *live;
	uint64_t i, added = 0;
	int failed = 0;

	/* NULL when the map itself or its table cannot be allocated */
	for (i = 0; i < 2; i++) {
		gm_failalloc_arm((long)i);
		cr_expect_null(gm_live_new(0), "allocation %llu fails", (unsigned long long)i);
		cr_expect(gm_failalloc_fired());
	}
	gm_failalloc_arm(-1);
	live = gm_live_new(0);
	cr_assert_not_null(live);
	gm_failalloc_arm(0); /* the first growth fails */
	for (i = 1; i <= 1000 && !failed; i++) {
		gm_live_entry_t x = entry(i * 16, i);
		int rc = gm_live_add(live, &x);
		if (rc == -ENOMEM)
			failed = 1;
		else {
			cr_assert_eq(rc, 0);
			added++;
		}
	}
	gm_failalloc_arm(-1);
	cr_assert(failed, "the table grows before 1000 blocks");
	cr_expect_eq(gm_live_count(live), added, "the refused block is not counted");
	cr_expect_eq(gm_live_bytes(live), added * (added + 1) / 2);
	for (i = 1; i <= added; i++)
		cr_assert_not_null(gm_live_find(live, i * 16), "block %llu kept",
		                   (unsigned long long)i);
	cr_expect_null(gm_live_find(live, (added + 1) * 16), "the refused block is absent");
	{
		gm_live_entry_t x = entry((added + 1) * 16, added + 1);
		cr_expect_eq(gm_live_add(live, &x), 0, "added once memory is back");
	}
	cr_expect_eq(gm_live_count(live), added + 1);
	gm_live_free(live);
}
