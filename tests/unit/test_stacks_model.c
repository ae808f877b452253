/* test_stacks_model.c - the call-stack model (analysis/model/stacks.h)
 *
 * Synthetic gm_event_t values are fed straight to gm_stacks_event(). Event
 * numbers count every event given to the model, the first being 1; a
 * stack's defined_at and a module's loaded_at / unloaded_at are the number
 * of their own record.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "analysis/log/reader.h"
#include "analysis/model/stacks.h"

static const uint64_t no_extra[4];

/* One event with no extra words. */
static void feed(gm_stacks_t *s, uint32_t thread, uint32_t type, uint64_t a, uint64_t b)
{
	gm_event_t ev = {.thread = thread, .type = type, .a = a, .b = b, .extra = no_extra};

	cr_assert_eq(gm_stacks_event(s, &ev), 0, "event type %u", type);
}

static void feed_extra(gm_stacks_t *s, uint32_t thread, uint32_t type, uint64_t a, uint64_t b,
                       const uint64_t *extra, uint32_t nextra)
{
	gm_event_t ev = {
	        .thread = thread, .type = type, .a = a, .b = b, .extra = extra, .nextra = nextra};

	cr_assert_eq(gm_stacks_event(s, &ev), 0, "event type %u", type);
}

static void site(gm_stacks_t *s, uint32_t thread, uint64_t id)
{
	feed(s, thread, gm_rec_site, id, 0);
}

static void alloc(gm_stacks_t *s, uint32_t thread, uint64_t ptr, uint64_t size)
{
	feed(s, thread, gm_rec_alloc, ptr, size);
}

static void release(gm_stacks_t *s, uint32_t thread, uint64_t ptr)
{
	feed(s, thread, gm_rec_free, ptr, 0);
}

static void reallocate(gm_stacks_t *s, uint32_t thread, uint64_t old, uint64_t ptr, uint64_t size)
{
	uint64_t extra[2] = {old, 0};

	feed_extra(s, thread, gm_rec_realloc, ptr, size, extra, 1);
}

/* A stack record of n frames (n <= 8). */
static void stack(gm_stacks_t *s, uint32_t thread, uint64_t id, const uint64_t *frames, uint32_t n)
{
	uint64_t extra[8] = {0};

	memcpy(extra, frames, n * sizeof(uint64_t));
	feed_extra(s, thread, gm_rec_stack, id, n, extra, (n + 1) / 2);
}

/* A module record: base, size, then the path padded with NULs. */
static void module(gm_stacks_t *s, const char *path, uint64_t base, uint64_t size)
{
	uint64_t extra[2 + 8] = {0};
	size_t n = strlen(path);

	cr_assert_leq(n, 8 * sizeof(uint64_t));
	extra[0] = base;
	extra[1] = size;
	memcpy(extra + 2, path, n);
	feed_extra(s, 0, gm_rec_module, n, 0, extra, (uint32_t)(1 + (n + 15) / 16));
}

static gm_stacks_t *make(void)
{
	gm_stacks_t *s = gm_stacks_new();

	cr_assert_not_null(s);
	return s;
}

/* The site of stack id, or a failed assertion. */
static const gm_stack_site_t *site_of(const gm_stacks_t *s, uint32_t id)
{
	size_t i;

	for (i = 0; i < gm_stacks_count(s); i++)
		if (gm_stacks_site(s, i)->id == id)
			return gm_stacks_site(s, i);
	cr_assert_fail("no site for stack id %u", id);
	return NULL;
}

Test(stacks_model, a_site_applies_only_to_its_threads_next_allocation)
{
	gm_stacks_t *s = make();
	const gm_stacks_totals_t *t;
	const gm_stack_site_t *st;

	site(s, 0, 5);
	alloc(s, 1, 0x100, 10); /* other thread: no site */
	alloc(s, 0, 0x200, 20); /* takes stack 5 */
	alloc(s, 0, 0x300, 40); /* the site was consumed */
	cr_assert_eq(gm_stacks_finish(s), 0);

	t = gm_stacks_totals(s);
	cr_expect_eq(t->allocations, 3);
	cr_expect_eq(t->allocated_bytes, 70);
	cr_expect_eq(t->unattributed, 2);
	cr_expect_eq(t->unattributed_bytes, 50);
	cr_expect_eq(t->not_kept, 0);
	cr_expect_eq(t->not_kept_bytes, 0);
	cr_expect_eq(t->undefined, 1);
	cr_expect_eq(t->definitions, 0);
	cr_assert_eq(gm_stacks_count(s), 1);
	st = gm_stacks_site(s, 0);
	cr_expect_eq(st->id, 5);
	cr_expect_eq(st->allocations, 1);
	cr_expect_eq(st->allocated_bytes, 20);
	cr_expect_eq(st->largest, 20);
	cr_expect_eq(st->live_count, 1);
	cr_expect_eq(st->live_bytes, 20);
	cr_expect_eq(st->nframes, 0);
	cr_expect_null(st->frames);
	cr_expect_eq(st->defined_at, 0);
	cr_expect_null(gm_stacks_site(s, 1));
	gm_stacks_free(s);
}

Test(stacks_model, sites_pending_on_two_threads_stay_apart)
{
	gm_stacks_t *s = make();
	const gm_stacks_totals_t *t;

	site(s, 0, 1);
	site(s, 3, 2);
	alloc(s, 3, 0x100, 7);
	alloc(s, 0, 0x200, 9);
	cr_assert_eq(gm_stacks_finish(s), 0);

	t = gm_stacks_totals(s);
	cr_expect_eq(t->unattributed, 0);
	cr_assert_eq(gm_stacks_count(s), 2);
	/* in order of first use */
	cr_expect_eq(gm_stacks_site(s, 0)->id, 2);
	cr_expect_eq(gm_stacks_site(s, 0)->allocated_bytes, 7);
	cr_expect_eq(gm_stacks_site(s, 1)->id, 1);
	cr_expect_eq(gm_stacks_site(s, 1)->allocated_bytes, 9);
	gm_stacks_free(s);
}

Test(stacks_model, counts_bytes_largest_and_live_per_site)
{
	gm_stacks_t *s = make();
	const gm_stacks_totals_t *t;
	const gm_stack_site_t *a, *b;

	site(s, 0, 1);
	alloc(s, 0, 0x1000, 100);
	site(s, 0, 2);
	alloc(s, 0, 0x2000, 50);
	site(s, 0, 1);
	alloc(s, 0, 0x3000, 300);
	site(s, 0, 1);
	alloc(s, 0, 0x4000, 200);
	release(s, 0, 0x3000);
	/* realloc at site 2 of the block from site 1 at 0x1000 */
	site(s, 0, 2);
	reallocate(s, 0, 0x1000, 0x5000, 120);
	/* realloc with old ptr 0: a plain allocation */
	site(s, 0, 2);
	reallocate(s, 0, 0, 0x6000, 30);
	release(s, 0, 0x7000); /* never allocated: ignored */
	cr_assert_eq(gm_stacks_finish(s), 0);

	t = gm_stacks_totals(s);
	cr_expect_eq(t->allocations, 6);
	cr_expect_eq(t->allocated_bytes, 100 + 50 + 300 + 200 + 120 + 30);
	cr_expect_eq(t->unattributed, 0);
	cr_expect_eq(t->unattributed_bytes, 0);
	cr_expect_eq(t->undefined, 2);
	cr_assert_eq(gm_stacks_count(s), 2);

	a = gm_stacks_site(s, 0);
	cr_expect_eq(a->id, 1);
	cr_expect_eq(a->allocations, 3);
	cr_expect_eq(a->allocated_bytes, 600);
	cr_expect_eq(a->largest, 300);
	/* 0x1000 moved by the realloc, 0x3000 freed: only 0x4000 */
	cr_expect_eq(a->live_count, 1);
	cr_expect_eq(a->live_bytes, 200);

	b = gm_stacks_site(s, 1);
	cr_expect_eq(b->id, 2);
	cr_expect_eq(b->allocations, 3);
	cr_expect_eq(b->allocated_bytes, 50 + 120 + 30);
	cr_expect_eq(b->largest, 120);
	cr_expect_eq(b->live_count, 3);
	cr_expect_eq(b->live_bytes, 200);
	gm_stacks_free(s);
}

Test(stacks_model, realloc_in_place_keeps_one_live_block_of_the_new_size)
{
	gm_stacks_t *s = make();
	const gm_stack_site_t *st;

	site(s, 0, 4);
	alloc(s, 0, 0x1000, 16);
	site(s, 0, 4);
	reallocate(s, 0, 0x1000, 0x1000, 64);
	cr_assert_eq(gm_stacks_finish(s), 0);

	st = site_of(s, 4);
	cr_expect_eq(st->allocations, 2);
	cr_expect_eq(st->allocated_bytes, 80);
	cr_expect_eq(st->largest, 64);
	cr_expect_eq(st->live_count, 1);
	cr_expect_eq(st->live_bytes, 64);
	gm_stacks_free(s);
}

Test(stacks_model, an_unattributed_realloc_takes_the_block_off_its_site)
{
	gm_stacks_t *s = make();
	const gm_stacks_totals_t *t;
	const gm_stack_site_t *st;

	site(s, 0, 3);
	alloc(s, 0, 0x1000, 16);
	reallocate(s, 0, 0x1000, 0x2000, 32); /* no site record */
	cr_assert_eq(gm_stacks_finish(s), 0);

	t = gm_stacks_totals(s);
	cr_expect_eq(t->allocations, 2);
	cr_expect_eq(t->unattributed, 1);
	cr_expect_eq(t->unattributed_bytes, 32);
	st = site_of(s, 3);
	cr_expect_eq(st->allocations, 1);
	cr_expect_eq(st->live_count, 0);
	cr_expect_eq(st->live_bytes, 0);
	gm_stacks_free(s);
}

Test(stacks_model, a_stack_defined_after_its_first_use_gets_its_frames)
{
	static const uint64_t frames7[3] = {0x1111, 0x2222, 0x3333};
	static const uint64_t again[2] = {0xdead, 0xbeef};
	static const uint64_t frames8[5] = {1, 2, 3, 4, 5};
	gm_stacks_t *s = make();
	const gm_stacks_totals_t *t;
	const gm_stack_site_t *st;

	site(s, 0, 7);              /* event 1 */
	alloc(s, 0, 0x100, 8);      /* event 2 */
	stack(s, 1, 7, frames7, 3); /* event 3 */
	site(s, 0, 9);              /* event 4: never defined */
	alloc(s, 0, 0x200, 16);     /* event 5 */
	stack(s, 1, 7, again, 2);   /* event 6: second definition, ignored */
	stack(s, 1, 8, frames8, 5); /* event 7: defined, never used */
	cr_assert_eq(gm_stacks_finish(s), 0);

	t = gm_stacks_totals(s);
	cr_expect_eq(t->definitions, 2);
	cr_expect_eq(t->max_frames, 5);
	cr_expect_eq(t->undefined, 1);
	cr_assert_eq(gm_stacks_count(s), 2); /* stack 8 was never used */

	st = gm_stacks_site(s, 0);
	cr_expect_eq(st->id, 7);
	cr_assert_eq(st->nframes, 3);
	cr_assert_not_null(st->frames);
	cr_expect_eq(st->frames[0], 0x1111);
	cr_expect_eq(st->frames[1], 0x2222);
	cr_expect_eq(st->frames[2], 0x3333);
	cr_expect_eq(st->defined_at, 3);
	cr_expect_eq(st->allocations, 1);
	cr_expect_eq(st->allocated_bytes, 8);

	st = gm_stacks_site(s, 1);
	cr_expect_eq(st->id, 9);
	cr_expect_eq(st->nframes, 0);
	cr_expect_null(st->frames);
	cr_expect_eq(st->defined_at, 0);
	cr_expect_eq(st->allocations, 1);
	cr_expect_eq(st->allocated_bytes, 16);
	gm_stacks_free(s);
}

Test(stacks_model, definitions_and_max_frames_count_every_first_definition)
{
	static const uint64_t f[8] = {10, 20, 30, 40, 50, 60, 70, 80};
	gm_stacks_t *s = make();
	const gm_stacks_totals_t *t;

	stack(s, 0, 1, f, 4);
	stack(s, 2, 2, f, 8);
	stack(s, 1, 3, f, 1);
	stack(s, 0, 2, f, 2); /* repeat: not counted */
	stack(s, 0, 4, f, 0); /* no frames */
	cr_assert_eq(gm_stacks_finish(s), 0);

	t = gm_stacks_totals(s);
	cr_expect_eq(t->definitions, 4);
	cr_expect_eq(t->max_frames, 8);
	cr_expect_eq(t->undefined, 0);
	cr_expect_eq(t->allocations, 0);
	cr_expect_eq(gm_stacks_count(s), 0);
	gm_stacks_free(s);
}

Test(stacks_model, stack_id_0_is_not_kept_and_not_undefined)
{
	gm_stacks_t *s = make();
	const gm_stacks_totals_t *t;
	const gm_stack_site_t *st;

	site(s, 0, 0);
	alloc(s, 0, 0x100, 24);
	site(s, 1, 0);
	reallocate(s, 1, 0, 0x200, 40);
	site(s, 0, 6);
	alloc(s, 0, 0x300, 8);
	alloc(s, 0, 0x400, 2); /* unattributed */
	release(s, 1, 0x200);
	cr_assert_eq(gm_stacks_finish(s), 0);

	t = gm_stacks_totals(s);
	cr_expect_eq(t->allocations, 4);
	cr_expect_eq(t->allocated_bytes, 74);
	cr_expect_eq(t->not_kept, 2);
	cr_expect_eq(t->not_kept_bytes, 64);
	cr_expect_eq(t->unattributed, 1);
	cr_expect_eq(t->unattributed_bytes, 2);
	cr_expect_eq(t->undefined, 1); /* stack 6 only */
	cr_assert_eq(gm_stacks_count(s), 2);

	st = gm_stacks_site(s, 0);
	cr_expect_eq(st->id, 0);
	cr_expect_eq(st->nframes, 0);
	cr_expect_null(st->frames);
	cr_expect_eq(st->allocations, 2);
	cr_expect_eq(st->allocated_bytes, 64);
	cr_expect_eq(st->largest, 40);
	cr_expect_eq(st->live_count, 1);
	cr_expect_eq(st->live_bytes, 24);
	gm_stacks_free(s);
}

Test(stacks_model, an_alloc_over_a_live_block_replaces_it)
{
	gm_stacks_t *s = make();
	const gm_stack_site_t *a, *b;

	site(s, 0, 1);
	alloc(s, 0, 0x1000, 100);
	site(s, 0, 1);
	alloc(s, 0, 0x2000, 10);
	/* 0x1000 freed without a record, then handed out again */
	site(s, 0, 2);
	alloc(s, 0, 0x1000, 40);
	cr_assert_eq(gm_stacks_finish(s), 0);

	a = site_of(s, 1);
	cr_expect_eq(a->allocations, 2);
	cr_expect_eq(a->allocated_bytes, 110);
	cr_expect_eq(a->live_count, 1);
	cr_expect_eq(a->live_bytes, 10);
	b = site_of(s, 2);
	cr_expect_eq(b->allocations, 1);
	cr_expect_eq(b->live_count, 1);
	cr_expect_eq(b->live_bytes, 40);
	gm_stacks_free(s);
}

Test(stacks_model, an_alloc_over_a_live_block_then_its_free_leaves_nothing)
{
	gm_stacks_t *s = make();
	const gm_stack_site_t *st;

	site(s, 0, 1);
	alloc(s, 0, 0x1000, 100);
	site(s, 0, 1);
	alloc(s, 0, 0x1000, 30);
	release(s, 0, 0x1000);
	cr_assert_eq(gm_stacks_finish(s), 0);

	st = site_of(s, 1);
	cr_expect_eq(st->allocations, 2);
	cr_expect_eq(st->allocated_bytes, 130);
	cr_expect_eq(st->largest, 100);
	cr_expect_eq(st->live_count, 0);
	cr_expect_eq(st->live_bytes, 0);
	gm_stacks_free(s);
}

Test(stacks_model, modules_are_found_by_address_and_event_number)
{
	gm_stacks_t *s = make();
	const gm_stack_module_t *m;

	module(s, "/lib/a.so", 0x1000, 0x1000);            /* event 1 */
	alloc(s, 0, 0x10, 1);                              /* event 2 */
	alloc(s, 0, 0x20, 1);                              /* event 3 */
	module(s, "/opt/game/libother.so", 0x9000, 0x100); /* event 4 */
	feed(s, 0, gm_rec_module_unload, 0x1000, 0);       /* event 5 */
	module(s, "/lib/b.so", 0x1000, 0x1000);            /* event 6 */
	cr_assert_eq(gm_stacks_finish(s), 0);

	cr_assert_eq(gm_stacks_nmodules(s), 3);
	m = gm_stacks_module(s, 0);
	cr_expect_str_eq(m->path, "/lib/a.so");
	cr_expect_eq(m->base, 0x1000);
	cr_expect_eq(m->size, 0x1000);
	cr_expect_eq(m->loaded_at, 1);
	cr_expect_eq(m->unloaded_at, 5);
	m = gm_stacks_module(s, 1);
	cr_expect_str_eq(m->path, "/opt/game/libother.so");
	cr_expect_eq(m->base, 0x9000);
	cr_expect_eq(m->size, 0x100);
	cr_expect_eq(m->loaded_at, 4);
	cr_expect_eq(m->unloaded_at, UINT64_MAX);
	m = gm_stacks_module(s, 2);
	cr_expect_str_eq(m->path, "/lib/b.so");
	cr_expect_eq(m->loaded_at, 6);
	cr_expect_eq(m->unloaded_at, UINT64_MAX);
	cr_expect_null(gm_stacks_module(s, 3));

	cr_expect_eq(gm_stacks_module_at(s, 0x1800, 3), 0, "A mapped at 3");
	cr_expect_eq(gm_stacks_module_at(s, 0x1800, 1), 0, "A mapped from its own record");
	cr_expect_eq(gm_stacks_module_at(s, 0x1800, 7), 2, "B mapped at 7");
	cr_expect_eq(gm_stacks_module_at(s, 0x1800, 6), 2, "B mapped from its own record");
	cr_expect_eq(gm_stacks_module_at(s, 0x1800, 0), 0, "before any record: first after");
	cr_expect_eq(gm_stacks_module_at(s, 0x1800, 5), 2, "A unloaded at 5: B comes next");
	cr_expect_eq(gm_stacks_module_at(s, 0x1000, 3), 0, "A's first byte");
	cr_expect_eq(gm_stacks_module_at(s, 0x1fff, 3), 0, "A's last byte");
	cr_expect_eq(gm_stacks_module_at(s, 0x2000, 3), -1, "just past A");
	cr_expect_eq(gm_stacks_module_at(s, 0xfff, 3), -1, "just before A");
	cr_expect_eq(gm_stacks_module_at(s, 0x9080, 2), 1, "libother before its record");
	cr_expect_eq(gm_stacks_module_at(s, 0x9080, 100), 1, "libother, never unloaded");
	cr_expect_eq(gm_stacks_module_at(s, 0x5000, 3), -1, "outside every module");
	gm_stacks_free(s);
}

Test(stacks_model, a_pc_after_its_modules_unload_gives_the_last_that_held_it)
{
	gm_stacks_t *s = make();

	module(s, "/lib/a.so", 0x1000, 0x1000);      /* event 1 */
	feed(s, 0, gm_rec_module_unload, 0x1000, 0); /* event 2 */
	module(s, "/lib/b.so", 0x1000, 0x800);       /* event 3 */
	feed(s, 0, gm_rec_module_unload, 0x1000, 0); /* event 4 */
	cr_assert_eq(gm_stacks_finish(s), 0);

	cr_expect_eq(gm_stacks_module(s, 0)->unloaded_at, 2);
	cr_expect_eq(gm_stacks_module(s, 1)->unloaded_at, 4);
	cr_expect_eq(gm_stacks_module_at(s, 0x1400, 9), 1, "last that held 0x1400");
	cr_expect_eq(gm_stacks_module_at(s, 0x1c00, 9), 0, "only A held 0x1c00");
	cr_expect_eq(gm_stacks_module_at(s, 0x1c00, 2), 0, "A unloaded, none after: A");
	gm_stacks_free(s);
}

Test(stacks_model, a_sites_defined_at_counts_every_event)
{
	static const uint64_t f[2] = {0xa, 0xb};
	gm_stacks_t *s = make();
	gm_event_t other = {.type = gm_rec_frame, .a = 1, .extra = no_extra};
	const gm_stack_site_t *st;

	cr_assert_eq(gm_stacks_event(s, &other), 0); /* event 1, ignored type */
	release(s, 0, 0x99);                         /* event 2 */
	site(s, 0, 12);                              /* event 3 */
	alloc(s, 0, 0x100, 4);                       /* event 4 */
	stack(s, 0, 12, f, 2);                       /* event 5 */
	cr_assert_eq(gm_stacks_finish(s), 0);

	st = site_of(s, 12);
	cr_expect_eq(st->defined_at, 5);
	cr_expect_eq(st->nframes, 2);
	cr_expect_eq(st->frames[0], 0xa);
	cr_expect_eq(st->frames[1], 0xb);
	cr_expect_eq(gm_stacks_totals(s)->max_frames, 2);
	gm_stacks_free(s);
}

Test(stacks_model, many_sites_survive_map_growth)
{
	static const uint64_t f[1] = {0x42};
	gm_stacks_t *s = make();
	const gm_stacks_totals_t *t;
	uint32_t id;

	for (id = 1; id <= 300; id++) {
		site(s, id % 5, id);
		alloc(s, id % 5, 0x10000 + id * 0x100, id);
		if (id % 2 == 0)
			stack(s, 9, id, f, 1);
	}
	cr_assert_eq(gm_stacks_finish(s), 0);

	t = gm_stacks_totals(s);
	cr_expect_eq(t->allocations, 300);
	cr_expect_eq(t->allocated_bytes, 300 * 301 / 2);
	cr_expect_eq(t->unattributed, 0);
	cr_expect_eq(t->definitions, 150);
	cr_expect_eq(t->undefined, 150);
	cr_assert_eq(gm_stacks_count(s), 300);
	for (id = 1; id <= 300; id++) {
		const gm_stack_site_t *st = gm_stacks_site(s, id - 1);

		cr_assert_eq(st->id, id);
		cr_assert_eq(st->allocations, 1);
		cr_assert_eq(st->allocated_bytes, id);
		cr_assert_eq(st->live_count, 1);
		cr_assert_eq(st->live_bytes, id);
		cr_assert_eq(st->nframes, id % 2 == 0 ? 1u : 0u, "nframes of %u", id);
		/* site record, alloc and definition: 3 events for even ids */
		cr_assert_eq(st->defined_at, id % 2 == 0 ? (uint64_t)(id / 2) * 5 : 0,
		             "defined_at of %u", id);
	}
	gm_stacks_free(s);
}

Test(stacks_model, only_a_realloc_kind_free_takes_a_pending_site)
{
	gm_stacks_t *s = make();
	gm_event_t ev = {.thread = 0, .type = gm_rec_free, .a = 0x500, .extra = no_extra};

	/* an evictor's free (kind free) between a realloc's site and its record */
	site(s, 0, 4);
	ev.x = gm_kind_free;
	cr_assert_eq(gm_stacks_event(s, &ev), 0);
	reallocate(s, 0, 0, 0x600, 96);
	/* a realloc to 0, recorded as a free of the realloc's kind */
	site(s, 0, 5);
	ev.x = gm_kind_realloc;
	cr_assert_eq(gm_stacks_event(s, &ev), 0);
	alloc(s, 0, 0x700, 8);
	cr_assert_eq(gm_stacks_finish(s), 0);
	cr_expect_eq(site_of(s, 4)->allocations, 1, "the realloc kept its site");
	cr_expect_eq(gm_stacks_count(s), 1, "stack 5 went with the free, no site made");
	cr_expect_eq(gm_stacks_totals(s)->unattributed, 1, "the next alloc has no site");
	gm_stacks_free(s);
}

Test(stacks_model, frames_are_numbered_by_the_marks_frame_numbers)
{
	gm_stacks_t *s = make();
	gm_event_t other = {.type = gm_rec_frame, .a = 7, .x = 1, .extra = no_extra};

	gm_stacks_frames(s, 11, 11);
	feed(s, 0, gm_rec_frame, 10, 0); /* a game whose marks start at 10 */
	site(s, 0, 1);
	alloc(s, 0, 0x100, 10); /* frame 11 */
	feed(s, 0, gm_rec_frame, 11, 0);
	cr_assert_eq(gm_stacks_event(s, &other), 0); /* frame set 1: not a main mark */
	site(s, 0, 1);
	alloc(s, 0, 0x200, 20); /* frame 12 */
	cr_assert_eq(gm_stacks_finish(s), 0);
	cr_expect_eq(gm_stacks_totals(s)->marks, 2);
	cr_expect_eq(gm_stacks_totals(s)->allocations, 1);
	cr_expect_eq(site_of(s, 1)->allocated_bytes, 10);
	gm_stacks_free(s);
}

Test(stacks_model, a_site_id_over_32_bits_names_no_stack)
{
	gm_stacks_t *s = make();

	site(s, 0, (1ull << 32) + 5);
	alloc(s, 0, 0x100, 10);
	cr_assert_eq(gm_stacks_finish(s), 0);
	cr_expect_eq(gm_stacks_count(s), 0);
	cr_expect_eq(gm_stacks_totals(s)->unattributed, 1);
	gm_stacks_free(s);
}
