/* test_stacks.c - the lock-free table of interned call stacks (record/stack.h)
 *
 * Ids are 1 + the word offset of the entry in the store, and an entry of n
 * frames takes n + 2 words ([hash], [frames], frames...), so every id below
 * is known exactly from the stacks interned before it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "interpose/record/stack.h"

static void table_make(gm_stack_table_t *t, unsigned bits, uint64_t words)
{
	cr_assert_eq(gm_stack_table_make(t, bits, words, malloc), 0, "make(%u bits, %llu words)",
	             bits, (unsigned long long)words);
	cr_assert_not_null(t->slots);
	cr_assert_not_null(t->store);
	cr_assert_eq(t->mask, (1u << bits) - 1);
	cr_assert_eq(t->words, words);
}

static void table_free(gm_stack_table_t *t)
{
	free(t->slots);
	free(t->store);
}

/* Interns pcs[0, n) and checks the id and is_new it gives. */
static void expect_intern(gm_stack_table_t *t, const uint64_t *pcs, unsigned n, uint32_t want_id,
                          int want_new, const char *what)
{
	int is_new = -1;
	uint32_t id = gm_stack_intern(t, pcs, n, &is_new);

	cr_expect_eq(id, want_id, "%s: id %u, expected %u", what, id, want_id);
	cr_expect_eq(is_new, want_new, "%s: is_new %d, expected %d", what, is_new, want_new);
}

/* The entry an id names holds exactly pcs[0, n). */
static void expect_entry(const gm_stack_table_t *t, uint32_t id, const uint64_t *pcs, unsigned n)
{
	cr_assert_gt(id, 0);
	cr_assert_leq((uint64_t)id - 1 + n + 2, t->words, "entry %u inside the store", id);
	cr_expect_eq(t->store[id - 1 + 1], n, "entry %u: frame count", id);
	cr_expect_eq(memcmp(t->store + id - 1 + 2, pcs, (size_t)n * 8), 0, "entry %u: frames", id);
}

static unsigned slots_in_use(const gm_stack_table_t *t)
{
	unsigned i, used = 0;

	for (i = 0; i <= t->mask; i++)
		used += t->slots[i] != 0;
	return used;
}

Test(stacks, interns_each_stack_once_at_known_ids)
{
	static const uint64_t a[] = {0x401000, 0x402000, 0x403000};         /* 3 frames */
	static const uint64_t prefix[] = {0x401000, 0x402000};              /* a, shorter */
	static const uint64_t other[] = {0x401000, 0x402000, 0x403008};     /* a, one frame off */
	static const uint64_t longer[] = {0x401000, 0x402000, 0x403000, 0}; /* a + one frame */
	static const uint64_t first[] = {0x999000, 0x402000, 0x403000};     /* a, first frame off */
	gm_stack_table_t t;

	table_make(&t, 8, 1024);
	cr_expect_eq(t.used, 0);
	cr_expect_eq(t.published, 0);
	cr_expect_eq(t.not_kept, 0);

	expect_intern(&t, a, 3, 1, 1, "a, first sight"); /* words [0, 5) */
	expect_intern(&t, a, 3, 1, 0, "a again");
	expect_intern(&t, prefix, 2, 6, 1, "prefix of a");                    /* words [5, 9) */
	expect_intern(&t, other, 3, 10, 1, "a with its last frame changed");  /* [9, 14) */
	expect_intern(&t, longer, 4, 15, 1, "a with one frame more");         /* [14, 20) */
	expect_intern(&t, first, 3, 21, 1, "a with its first frame changed"); /* [20, 25) */
	cr_expect_eq(t.used, 25, "words handed out: %llu", (unsigned long long)t.used);
	cr_expect_eq(t.published, 5);
	cr_expect_eq(t.not_kept, 0);
	cr_expect_eq(slots_in_use(&t), 5);

	/* all found again: same ids, nothing new, nothing more handed out */
	expect_intern(&t, first, 3, 21, 0, "first again");
	expect_intern(&t, longer, 4, 15, 0, "longer again");
	expect_intern(&t, other, 3, 10, 0, "other again");
	expect_intern(&t, prefix, 2, 6, 0, "prefix again");
	expect_intern(&t, a, 3, 1, 0, "a a third time");
	cr_expect_eq(t.used, 25);
	cr_expect_eq(t.published, 5);
	cr_expect_eq(t.not_kept, 0);

	/* the entries hold the stacks: [hash], [frames], frames */
	expect_entry(&t, 1, a, 3);
	expect_entry(&t, 6, prefix, 2);
	expect_entry(&t, 10, other, 3);
	expect_entry(&t, 15, longer, 4);
	expect_entry(&t, 21, first, 3);
	table_free(&t);
}

Test(stacks, a_full_store_refuses_new_stacks_and_keeps_the_old)
{
	static const uint64_t a[] = {0x10, 0x20, 0x30};             /* 5 words */
	static const uint64_t b[] = {0x11, 0x21, 0x31, 0x41, 0x51}; /* 7 words */
	static const uint64_t c[] = {0x12};                         /* 3 words */
	static const uint64_t d[] = {0x13, 0x23};                   /* 4 words */
	gm_stack_table_t t;

	table_make(&t, 6, 12);
	expect_intern(&t, a, 3, 1, 1, "a"); /* [0, 5) */
	expect_intern(&t, b, 5, 6, 1, "b"); /* [5, 12): fills the store exactly */
	cr_expect_eq(t.published, 2);
	cr_expect_eq(t.not_kept, 0);

	expect_intern(&t, c, 1, 0, 0, "c: no room");
	cr_expect_eq(t.not_kept, 1);
	expect_intern(&t, c, 1, 0, 0, "c again: still no room");
	cr_expect_eq(t.not_kept, 2);
	expect_intern(&t, d, 2, 0, 0, "d: no room");
	cr_expect_eq(t.not_kept, 3);

	expect_intern(&t, a, 3, 1, 0, "a still in");
	expect_intern(&t, b, 5, 6, 0, "b still in");
	cr_expect_eq(t.not_kept, 3, "found stacks are not refusals");
	cr_expect_eq(t.published, 2);
	cr_expect_eq(slots_in_use(&t), 2, "refused stacks take no slot");
	expect_entry(&t, 1, a, 3);
	expect_entry(&t, 6, b, 5);
	table_free(&t);
}

Test(stacks, a_refused_stack_leaves_the_rest_of_the_store_to_smaller_ones)
{
	static const uint64_t a[] = {0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70}; /* 9 words */
	static const uint64_t big[] = {0x11, 0x21, 0x31, 0x41};                 /* 6 words */
	static const uint64_t c[] = {0x12};                                     /* 3 words */
	gm_stack_table_t t;

	table_make(&t, 6, 12);
	expect_intern(&t, a, 7, 1, 1, "a"); /* [0, 9): 3 words left */
	expect_intern(&t, big, 4, 0, 0, "big: 6 words do not fit in 3");
	cr_expect_eq(t.not_kept, 1);
	cr_expect_eq(t.used, 9, "a refusal takes no room");
	expect_intern(&t, c, 1, 10, 1, "c fits in the 3 words left"); /* [9, 12) */
	cr_expect_eq(t.used, 12);
	expect_entry(&t, 10, c, 1);
	table_free(&t);
}

Test(stacks, a_table_three_quarters_full_refuses_new_stacks)
{
	static const uint64_t s[5][1] = {{0x1000}, {0x2000}, {0x3000}, {0x4000}, {0x5000}};
	gm_stack_table_t t;
	unsigned i;

	table_make(&t, 2, 4096); /* 4 slots: 3 kept at most, so a probe ends */
	for (i = 0; i < 3; i++)
		expect_intern(&t, s[i], 1, 1 + 3 * i, 1, "one of the first three");
	cr_expect_eq(t.published, 3);
	cr_expect_eq(slots_in_use(&t), 3);

	expect_intern(&t, s[3], 1, 0, 0, "the fourth");
	cr_expect_eq(t.not_kept, 1);
	cr_expect_eq(t.used, 9, "a full table hands out no store: %llu",
	             (unsigned long long)t.used);
	cr_expect_eq(t.published, 3);
	cr_expect_eq(slots_in_use(&t), 3, "one slot stays empty");

	for (i = 0; i < 3; i++)
		expect_intern(&t, s[i], 1, 1 + 3 * i, 0, "one of the first three, again");
	cr_expect_eq(t.not_kept, 1, "found stacks are not refusals");

	expect_intern(&t, s[4], 1, 0, 0, "the fifth");
	cr_expect_eq(t.not_kept, 2);
	table_free(&t);
}

Test(stacks, clear_forgets_every_stack_and_counter)
{
	static const uint64_t s[5][2] = {
	        {0x10, 0x1}, {0x20, 0x2}, {0x30, 0x3}, {0x40, 0x4}, {0x50, 0x5}};
	gm_stack_table_t t;
	unsigned i;

	table_make(&t, 2, 4096); /* 3 stacks kept at most */
	for (i = 0; i < 3; i++)
		expect_intern(&t, s[i], 2, 1 + 4 * i, 1, "before clear");
	expect_intern(&t, s[4], 2, 0, 0, "table full"); /* not_kept 1 */
	cr_expect_eq(t.used, 12);
	cr_expect_eq(t.published, 3);
	cr_expect_eq(t.not_kept, 1);

	gm_stack_table_clear(&t);
	cr_expect_eq(t.used, 0);
	cr_expect_eq(t.published, 0);
	cr_expect_eq(t.not_kept, 0);
	cr_expect_eq(slots_in_use(&t), 0);
	cr_expect_eq(t.mask, 3, "the table keeps its size");
	cr_expect_eq(t.words, 4096);

	/* the stack that was id 9 is new again, at the start of the store */
	expect_intern(&t, s[2], 2, 1, 1, "s2 after clear");
	expect_intern(&t, s[2], 2, 1, 0, "s2 again");
	expect_intern(&t, s[4], 2, 5, 1, "s4 has room now");
	cr_expect_eq(t.used, 8);
	cr_expect_eq(t.published, 2);
	cr_expect_eq(t.not_kept, 0);
	expect_entry(&t, 1, s[2], 2);
	expect_entry(&t, 5, s[4], 2);
	table_free(&t);
}

/* ---- four threads interning the same stacks ------------------------------ */

#define NTHREADS 4
#define NSTACKS 500
#define MAXFRAMES 8

static uint64_t stack_pcs[NSTACKS][MAXFRAMES];
static unsigned stack_n[NSTACKS];

typedef struct racer {
	gm_stack_table_t *t;
	pthread_barrier_t *go;
	unsigned start;
	uint32_t id[NSTACKS];
	int is_new[NSTACKS];
} racer_t;

static void *racer_run(void *arg)
{
	racer_t *r = arg;
	unsigned j;

	pthread_barrier_wait(r->go);
	for (j = 0; j < NSTACKS; j++) {
		unsigned i = (r->start + j) % NSTACKS;

		r->id[i] = gm_stack_intern(r->t, stack_pcs[i], stack_n[i], &r->is_new[i]);
	}
	return NULL;
}

/* Runs rounds of the race on a table of 2^bits slots; thread k walks the
 * stacks from stack k * step on, wrapping. */
static void race(unsigned bits, unsigned step, unsigned rounds)
{
	static racer_t racers[NTHREADS];
	static unsigned char taken[NTHREADS * NSTACKS * (MAXFRAMES + 2) + 1];
	gm_stack_table_t t;
	pthread_barrier_t go;
	unsigned round, i, k, f;

	/* stack i: 1 to 8 frames; neighbours share frames so that stacks
	 * differ only in length or one frame */
	for (i = 0; i < NSTACKS; i++) {
		stack_n[i] = 1 + i % MAXFRAMES;
		for (f = 0; f < stack_n[i]; f++)
			stack_pcs[i][f] = 0x400000 + (uint64_t)(i / MAXFRAMES) * 0x1000 + f * 8;
	}
	/* a thread may fill an entry for every stack and lose the race:
	 * 4 * 500 * 10 words at most */
	table_make(&t, bits, NTHREADS * NSTACKS * (MAXFRAMES + 2));
	cr_assert_eq(pthread_barrier_init(&go, NULL, NTHREADS), 0);
	for (round = 0; round < rounds; round++) {
		pthread_t th[NTHREADS];
		uint32_t seen[NSTACKS];
		unsigned new_sum = 0;

		gm_stack_table_clear(&t);
		for (k = 0; k < NTHREADS; k++) {
			racers[k].t = &t;
			racers[k].go = &go;
			racers[k].start = k * step;
			memset(racers[k].id, 0xff, sizeof(racers[k].id));
			memset(racers[k].is_new, 0xff, sizeof(racers[k].is_new));
			cr_assert_eq(pthread_create(&th[k], NULL, racer_run, &racers[k]), 0);
		}
		for (k = 0; k < NTHREADS; k++)
			cr_assert_eq(pthread_join(th[k], NULL), 0);

		for (i = 0; i < NSTACKS; i++) {
			unsigned news = 0;
			uint32_t id = racers[0].id[i];

			cr_assert_neq(id, 0, "bits %u round %u: stack %u not kept", bits, round, i);
			for (k = 0; k < NTHREADS; k++) {
				cr_assert_eq(racers[k].id[i], id,
				             "bits %u round %u: stack %u: thread %u got id %u, "
				             "thread 0 got %u",
				             bits, round, i, k, racers[k].id[i], id);
				cr_assert(racers[k].is_new[i] == 0 || racers[k].is_new[i] == 1);
				news += (unsigned)racers[k].is_new[i];
			}
			cr_assert_eq(news, 1, "bits %u round %u: stack %u new for %u threads", bits,
			             round, i, news);
			new_sum += news;
			expect_entry(&t, id, stack_pcs[i], stack_n[i]);
			seen[i] = id;
		}
		cr_assert_eq(new_sum, NSTACKS);
		cr_assert_eq(t.published, NSTACKS, "bits %u round %u: published %llu", bits, round,
		             (unsigned long long)t.published);
		cr_assert_eq(t.not_kept, 0, "bits %u round %u: not kept %llu", bits, round,
		             (unsigned long long)t.not_kept);
		cr_assert_eq(slots_in_use(&t), NSTACKS);
		/* distinct stacks, distinct ids */
		memset(taken, 0, sizeof(taken));
		for (i = 0; i < NSTACKS; i++) {
			cr_assert_lt(seen[i], sizeof(taken));
			cr_assert_eq(taken[seen[i]], 0, "stack %u: id %u given twice", i, seen[i]);
			taken[seen[i]] = 1;
		}
	}
	pthread_barrier_destroy(&go);
	table_free(&t);
}

Test(stacks, four_threads_agree_on_every_id)
{
	race(12, NSTACKS / NTHREADS, 300);
}

/* every thread in the same order: each stack is met by all four at once */
Test(stacks, four_threads_agree_in_the_same_order)
{
	race(12, 0, 300);
}

/* 500 stacks in 1024 slots (768 kept at most): long probe runs, many CAS races */
Test(stacks, four_threads_agree_on_a_table_near_its_limit)
{
	race(10, NSTACKS / NTHREADS, 300);
}

Test(stacks, make_rejects_sizes_out_of_range)
{
	gm_stack_table_t t;

	cr_expect_eq(gm_stack_table_make(&t, 31, 16, malloc), -EINVAL, "31 bits");
	cr_expect_null(t.slots);
	cr_expect_null(t.store);
	cr_expect_eq(gm_stack_table_make(&t, 32, 16, malloc), -EINVAL, "32 bits");
	cr_expect_eq(gm_stack_table_make(&t, 4, 1ull << 32, malloc), -EINVAL, "2^32 words");
	cr_expect_null(t.slots);
	cr_expect_null(t.store);
	cr_expect_eq(gm_stack_table_make(&t, 4, UINT64_MAX, malloc), -EINVAL, "2^64 - 1 words");

	/* the smallest table: one slot */
	{
		static const uint64_t x[] = {0x10}, y[] = {0x20};

		table_make(&t, 0, 64);
		cr_expect_eq(t.mask, 0, "one slot");
		expect_intern(&t, x, 1, 1, 1, "x in the only slot");
		expect_intern(&t, y, 1, 0, 0, "y: no slot left");
		expect_intern(&t, x, 1, 1, 0, "x again");
		cr_expect_eq(t.not_kept, 1);
		table_free(&t);
	}
}

static void *no_memory(size_t n)
{
	(void)n;
	return NULL;
}

Test(stacks, make_reports_no_memory)
{
	gm_stack_table_t t;

	cr_expect_eq(gm_stack_table_make(&t, 4, 16, no_memory), -ENOMEM);
}
