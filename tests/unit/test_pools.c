/* test_pools.c - the pools model (analysis/model/pools.h) on synthetic captures
 *
 * Each test writes the records of one or two writer threads into raw blocks
 * of a capture in a temporary directory and reads it back through
 * gm_pools_read(). A process record with a tick rate of 1 GHz and TSC =
 * monotonic ns at start makes ns equal to the TSC, so allocator ticks
 * below are nanoseconds.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/log/reader.h"
#include "analysis/model/pools.h"
#include "failalloc.h"

/* ---- capture builder ---------------------------------------------------- */

#include "pools_capture.h"

static void pools_setup(void)
{
	caps_setup("gm_test_pools");
}

static void pools_teardown(void)
{
	caps_teardown();
}

TestSuite(pools, .init = pools_setup, .fini = pools_teardown);

/* Reads a capture into a model with opts (NULL: defaults). */
static gm_pools_t *model_of(const char *path, const gm_pools_opts_t *opts)
{
	char err[256] = "";
	gm_reader_t *rd = gm_reader_open(path, err, sizeof(err));
	gm_pools_t *p;

	cr_assert_not_null(rd, "opening %s: %s", path, err);
	p = gm_pools_new(opts, gm_reader_info(rd)->tsc_hz);
	cr_assert_not_null(p);
	cr_assert_eq(gm_pools_read(p, rd), 0, "%s: gm_pools_read", path);
	cr_expect_null(gm_reader_error(rd), "%s: no damage", path);
	gm_reader_free(rd);
	return p;
}

static const gm_pools_pool_t *pool_named(const gm_pools_t *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->npools; i++)
		if (p->pools[i].name && strcmp(p->pools[i].name, name) == 0)
			return &p->pools[i];
	cr_assert_fail("no pool named %s", name);
	return NULL;
}

/* ---- percentile and headroom --------------------------------------------- */

Test(pools, percentile_is_the_nearest_rank)
{
	static const struct {
		uint64_t v[10];
		size_t n;
		uint32_t pm;
		uint64_t want;
	} cases[] = {
	        {{5, 1, 4, 2, 3}, 5, 50000, 3},                 /* rank ceil(2.5) = 3 */
	        {{1, 2, 3, 4}, 4, 50000, 2},                    /* rank 2 */
	        {{1, 2, 3, 4}, 4, 50001, 3},                    /* just above: rank 3 */
	        {{9, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 10, 99000, 9}, /* rank ceil(9.9) = 10 */
	        {{9, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 10, 90000, 1}, /* rank 9 */
	        {{7, 3}, 2, 100000, 7},
	        {{7, 3}, 2, 1, 3}, /* 0.001%: rank 1 */
	        {{0}, 0, 99000, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v[10];

		memcpy(v, cases[i].v, sizeof(v));
		cr_expect_eq(gm_pools_percentile(v, cases[i].n, cases[i].pm), cases[i].want,
		             "case %zu: P%u/1000 of %zu values", i, cases[i].pm, cases[i].n);
	}
}

Test(pools, headroom_rounds_up_and_exact_products_stay)
{
	cr_expect_eq(gm_pools_headroom(10, 10000), 11, "10 + 10%%");
	cr_expect_eq(gm_pools_headroom(8, 10000), 9, "8 + 10%% = 8.8");
	cr_expect_eq(gm_pools_headroom(2667, 10000), 2934, "2667 + 10%% = 2933.7");
	cr_expect_eq(gm_pools_headroom(0, 10000), 0, "0 + 10%%");
	cr_expect_eq(gm_pools_headroom(7, 0), 7, "no headroom");
	cr_expect_eq(gm_pools_headroom(3, 33333), 4, "3 + 33.333%% = 3.99999");
	cr_expect_eq(gm_pools_headroom(UINT64_MAX, 10000), UINT64_MAX, "saturates");
	cr_expect_eq(gm_pools_size_class(48), 6, "48 B is in <= 64");
	cr_expect_eq(gm_pools_size_class(64), 6, "64 B is in <= 64");
	cr_expect_eq(gm_pools_size_class(65), 7, "65 B is in <= 128");
	cr_expect_eq(gm_pools_size_class(1), 0, "1 B");
	cr_expect_eq(gm_pools_size_class(0), 0, "0 B");
}

/* ---- pools ------------------------------------------------------------------ */

Test(pools, frames_without_a_record_carry_the_in_use_count)
{
	/* pool "ships" (capacity 10, 16-byte objects) defined in frame 1;
	 * records for frames 1, 2 and 4; frame 3 and 5 had no call. */
	words_t r = {0};
	const gm_pools_pool_t *q;
	static const uint64_t in_use[5] = {4, 6, 6, 2, 2}, hw[5] = {5, 9, 6, 7, 2};
	gm_pools_walk_t w;
	gm_pools_row_t row;
	gm_pools_t *p;
	int f = 0;

	r_process(&r);
	r_pool_def(&r, 1, "ships", 16, 10);
	r_pool_frame(&r, 1, 1, 5, 5, 1, 1, 4, 5);
	r_frame(&r, 1);
	r_pool_frame(&r, 1, 1, 0, 0, 0, 0, 4, 4); /* same frame again: folded */
	r_frame(&r, 2);
	r_pool_frame(&r, 2, 1, 7, 5, 5, 3, 6, 9);
	r_frame(&r, 3);
	r_frame(&r, 4);
	r_pool_frame(&r, 4, 1, 1, 1, 5, 5, 2, 7);
	r_frame(&r, 5);
	p = model_of(cap_write("carry.gmt", &r, 1), NULL);
	cr_assert_eq(p->npools, 1);
	q = pool_named(p, "ships");
	cr_expect_eq(q->id, 1);
	cr_expect_eq(q->first_frame, 1);
	cr_expect_eq(q->last_frame, 5);
	cr_expect_eq(q->nframes, 5);
	gm_pools_walk_begin(&w, q);
	while (gm_pools_walk_next(&w, &row)) {
		cr_assert_lt(f, 5);
		cr_expect_eq(row.frame, (uint64_t)f + 1, "row %d frame", f);
		cr_expect_eq(row.in_use, in_use[f], "frame %d in use", f + 1);
		cr_expect_eq(row.high_water, hw[f], "frame %d high-water mark", f + 1);
		cr_expect_eq(row.capacity, 10, "frame %d capacity", f + 1);
		cr_expect_eq(row.recorded, f != 2 && f != 4, "frame %d recorded", f + 1);
		f++;
	}
	cr_expect_eq(f, 5, "five frames walked");
	cr_expect_eq(q->acquires, 13);
	cr_expect_eq(q->served, 11);
	cr_expect_eq(q->overflows, 2);
	cr_expect_eq(q->overflow_frames, 1);
	cr_expect_eq(q->used_frames, 3);
	cr_expect_eq(q->releases, 11);
	cr_expect_eq(q->returned, 9);
	cr_expect_eq(q->peak, 9);
	cr_expect_eq(q->peak_frame, 2);
	cr_expect_eq(q->in_use_end, 2);
	cr_expect_eq(q->in_use_mean, 20.0 / 5);
	cr_expect_eq(q->utilization_mean, (0.4 + 0.6 + 0.6 + 0.2 + 0.2) / 5);
	cr_expect_eq(q->utilization_peak, 0.9);
	cr_expect_eq(q->idle_bytes_mean, (6.0 + 4 + 4 + 8 + 8) * 16 / 5);
	cr_expect_eq(q->idle_bytes_at_peak, 16);
	cr_expect_eq(q->overflows_per_frame, 2.0 / 5);
	cr_expect_eq(q->overflow_frame_fraction, 1.0 / 5);
	/* p99 of {5, 9, 6, 7, 2} = 9 (rank 5); + 10% = 9.9 -> 10 */
	cr_expect_eq(q->hw_percentile, 9);
	cr_expect_eq(q->recommended, 10);
	cr_expect_eq(q->resize_saves_bytes, 0);
	/* with overflows: {5, 11, 6, 7, 2} -> 11 -> 12.1 -> 13 */
	cr_expect_eq(q->demand_percentile, 11);
	cr_expect_eq(q->demand_recommended, 13);
	cr_expect_not(q->never_fills, "peak 9 of 10");
	cr_expect_not(q->overflows_every_frame, "1 of 3 used frames");
	cr_expect_not(q->cost_known, "no alloc_cost record");
	gm_pools_free(p);
}

Test(pools, a_frame_number_past_the_capture_cuts_the_pools_life)
{
	/* a damaged pool_frame (frame 2^31 - 1 after 3 frames) made the pool
	 * 2^31 frames long: 32 GiB of per-frame arrays. Its life is cut to
	 * the frames the capture has (3 records + the frame in progress + 1),
	 * and the model says which pool and frame. */
	words_t r = {0};
	const gm_pools_pool_t *q;
	gm_pools_t *p;

	r_process(&r);
	r_pool_def(&r, 1, "ships", 16, 10);
	r_pool_frame(&r, 1, 1, 5, 5, 1, 1, 4, 5);
	r_frame(&r, 1);
	r_frame(&r, 2);
	r_pool_frame(&r, 0x7fffffff, 1, 1, 1, 0, 0, 1, 1);
	r_frame(&r, 3);
	p = model_of(cap_write("hugeframe.gmt", &r, 1), NULL);
	q = pool_named(p, "ships");
	cr_expect_eq(q->first_frame, 1);
	cr_expect_eq(q->nframes, 5);
	cr_expect_eq(q->last_frame, 5);
	cr_expect_eq(q->acquires, 5, "the record past the cut is not counted");
	cr_expect_eq(p->bad_frames_pool, 1);
	cr_expect_eq(p->bad_frame, 0x7fffffff);
	gm_pools_free(p);
}

Test(pools, resize_and_destroy_bound_the_pool_and_its_capacity)
{
	/* "rocks" (capacity 8, 32 B) from frame 2; resized to 4 in frame 3,
	 * destroyed in frame 4 of 6; a pool created in the tail has no frame. */
	words_t r = {0};
	const gm_pools_pool_t *q, *late;
	gm_pools_walk_t w;
	gm_pools_row_t row;
	uint64_t caps[3], n = 0;
	gm_pools_t *p;

	r_process(&r);
	r_frame(&r, 1);
	r_pool_def(&r, 1, "rocks", 32, 8);
	r_pool_frame(&r, 2, 1, 2, 2, 0, 0, 2, 2);
	r_frame(&r, 2);
	head(&r, gm_rec_w0(1, gm_rec_pool_resize, 0), 4);
	r_pool_frame(&r, 3, 1, 1, 1, 0, 0, 3, 3);
	r_frame(&r, 3);
	head(&r, gm_rec_w0(1, gm_rec_pool_destroy, 0), 0);
	r_frame(&r, 4);
	r_frame(&r, 5);
	r_frame(&r, 6);
	r_pool_def(&r, 2, "late", 8, 1);
	p = model_of(cap_write("resize.gmt", &r, 1), NULL);
	cr_assert_eq(p->npools, 2);
	q = pool_named(p, "rocks");
	cr_expect_eq(q->first_frame, 2);
	cr_expect_eq(q->last_frame, 4, "destroyed in frame 4");
	cr_expect(q->destroyed);
	cr_expect_eq(q->destroy_frame, 4);
	cr_expect_eq(q->capacity_initial, 8);
	cr_expect_eq(q->capacity, 4);
	cr_assert_eq(q->nresizes, 1);
	cr_expect_eq(q->resizes[0].frame, 3);
	gm_pools_walk_begin(&w, q);
	while (gm_pools_walk_next(&w, &row))
		caps[n++] = row.capacity;
	cr_assert_eq(n, 3);
	cr_expect_eq(caps[0], 8);
	cr_expect_eq(caps[1], 4, "the resize applies to the frame it fell in");
	cr_expect_eq(caps[2], 4);
	cr_expect_eq(q->utilization_mean, (2.0 / 8 + 3.0 / 4 + 3.0 / 4) / 3);
	cr_expect_eq(q->utilization_peak, 0.75);
	cr_expect_eq(q->peak_capacity, 4);
	cr_expect_eq(q->idle_bytes_at_peak, 32);
	cr_expect_eq(q->recommended, 4, "p99 3 + 10%% = 3.3 -> 4");
	cr_expect_not(q->never_fills);
	late = pool_named(p, "late");
	cr_expect_eq(late->nframes, 0, "created after the last frame");
	cr_expect(isnan(late->utilization_mean));
	gm_pools_free(p);
}

Test(pools, a_pool_without_definition_is_kept_under_its_id)
{
	words_t r = {0};
	gm_pools_t *p;

	r_process(&r);
	r_frame(&r, 1);
	r_pool_frame(&r, 2, 7, 3, 3, 0, 0, 3, 3);
	r_frame(&r, 2);
	p = model_of(cap_write("nodef.gmt", &r, 1), NULL);
	cr_assert_eq(p->npools, 1);
	cr_expect_null(p->pools[0].name);
	cr_expect_eq(p->pools[0].id, 7);
	cr_expect_eq(p->pools[0].first_frame, 2);
	cr_expect_eq(p->pools[0].nframes, 1);
	cr_expect(isnan(p->pools[0].utilization_mean), "capacity unknown (0)");
	cr_expect_not(p->pools[0].never_fills);
	gm_pools_free(p);
}

Test(pools, flags_at_their_boundaries)
{
	/* "full": used in 10 frames, overflows in 9 (90%): flagged.
	 * "most": used in 10 frames, overflows in 8: not. "half": capacity 10,
	 * peak 5 (not under half): not never_fills. "tiny": peak 4: flagged. */
	words_t r = {0};
	gm_pools_t *p;
	uint64_t f;

	r_process(&r);
	r_pool_def(&r, 1, "full", 8, 4);
	r_pool_def(&r, 2, "most", 8, 4);
	r_pool_def(&r, 3, "half", 8, 10);
	r_pool_def(&r, 4, "tiny", 8, 10);
	for (f = 1; f <= 10; f++) {
		r_pool_frame(&r, f, 1, 5, f == 1 ? 5 : 4, 5, 4, 0, 4);
		r_pool_frame(&r, f, 2, 5, f <= 2 ? 5 : 4, 5, 4, 0, 4);
		r_pool_frame(&r, f, 3, 5, 5, 5, 5, 0, 5);
		r_pool_frame(&r, f, 4, 4, 4, 4, 4, 0, 4);
		r_frame(&r, f);
	}
	p = model_of(cap_write("flags.gmt", &r, 1), NULL);
	cr_expect(pool_named(p, "full")->overflows_every_frame, "9 of 10");
	cr_expect_not(pool_named(p, "most")->overflows_every_frame, "8 of 10");
	cr_expect_not(pool_named(p, "half")->never_fills, "5 of 10");
	cr_expect(pool_named(p, "tiny")->never_fills, "4 of 10");
	cr_expect_eq(pool_named(p, "tiny")->resize_saves_bytes, (10 - 5) * 8, "4 + 10%% -> 5");
	gm_pools_free(p);
}

Test(pools, time_saved_uses_the_latest_cost_of_the_object_size_class)
{
	/* classes: 6 (<= 64 B) 40 calls / 1200 ticks (30 ns each) in the
	 * latest record; an earlier record said 10 ns. Class 5 never timed. */
	words_t r = {0};
	uint64_t calls[8] = {0}, ticks[8] = {0};
	const gm_pools_pool_t *q;
	gm_pools_t *p;
	double ns;

	r_process(&r);
	r_pool_def(&r, 1, "enemies", 48, 100);
	r_pool_def(&r, 2, "small", 20, 100);
	r_pool_frame(&r, 1, 1, 50, 50, 0, 0, 50, 50);
	r_pool_frame(&r, 1, 2, 5, 5, 0, 0, 5, 5);
	r_frame(&r, 1);
	calls[6] = 10;
	ticks[6] = 100;
	r_cost(&r, calls, ticks, 8);
	calls[6] = 40;
	ticks[6] = 1200;
	r_cost(&r, calls, ticks, 8);
	p = model_of(cap_write("cost.gmt", &r, 1), NULL);
	cr_assert(p->have_cost);
	cr_assert(gm_pools_cost(p, 6, &ns));
	cr_expect_eq(ns, 30.0, "1200 ticks at 1 GHz over 40 calls");
	cr_expect_not(gm_pools_cost(p, 5, &ns), "class 5 has no timed call");
	q = pool_named(p, "enemies");
	cr_expect_eq(q->cost_class, 6);
	cr_expect(q->cost_known);
	cr_expect_eq(q->cost_ns, 30.0);
	cr_expect_eq(q->saved_ns, 50 * 30.0);
	q = pool_named(p, "small");
	cr_expect_eq(q->cost_class, 5);
	cr_expect_not(q->cost_known, "no measurement for <= 32 B");
	gm_pools_free(p);
}

/* ---- candidates ------------------------------------------------------------ */

Test(pools, candidates_group_by_tag_and_dominant_size_with_exact_peaks)
{
	/* Thread 0 under tag 5 "fx/sparks": per frame f = 1..4, three blocks of
	 * 96 B and one of 100 B (96 holds 75% of the <= 128 class: exact),
	 * 96-byte ones freed one frame later, the 100-byte one in the frame.
	 * Thread 1, untagged: 96-byte blocks too (another group), one per
	 * frame, never freed (long-lived); and one block of 40 B reallocated
	 * to 48 and freed in frame 1. */
	words_t r[2] = {{0}, {0}};
	gm_pools_opts_t o = {GM_POOLS_PERCENTILE_DEFAULT, GM_POOLS_HEADROOM_DEFAULT, 3, 1};
	uint64_t calls[8] = {0}, ticks[8] = {0}, f, i, ptr = 0x1000;
	const gm_pools_group_t *g;
	gm_pools_t *p;
	size_t k;

	r_process(&r[0]);
	r_tag_def(&r[0], 5, "fx/sparks");
	r_context(&r[0], 5);
	r[1].tsc = r[0].tsc;
	for (f = 1; f <= 4; f++) {
		for (i = 0; i < 3; i++)
			r_alloc(&r[0], ptr + 16 * (f * 8 + i), 96);
		r_alloc(&r[0], 0x9000 + f, 100);
		r_free(&r[0], 0x9000 + f);
		if (f > 1)
			for (i = 0; i < 3; i++)
				r_free(&r[0], ptr + 16 * ((f - 1) * 8 + i));
		r[1].tsc = r[0].tsc;
		r_alloc(&r[1], 0x50000 + f * 16, 96);
		if (f == 1) {
			r_alloc(&r[1], 0x60000, 40);
			r_realloc(&r[1], 0x60010, 48, 0x60000);
			r_free(&r[1], 0x60010);
		}
		r[0].tsc = r[1].tsc;
		r_frame(&r[0], f);
	}
	calls[7] = 10;
	ticks[7] = 500; /* 50 ns per allocation of <= 128 B */
	r_cost(&r[0], calls, ticks, 8);
	p = model_of(cap_write("cand.gmt", r, 2), &o);
	cr_assert(p->candidates_done);
	/* thread 0: 12 + 4 allocations; thread 1: 4 + 1 and a realloc */
	cr_expect_eq(p->alloc_events, 22, "alloc and realloc records");
	cr_expect_eq(p->ngroups, 5, "sparks 96, sparks <= 128, untagged 96, 40, <= 64");

	cr_assert_geq(p->nranked, 1);
	g = &p->groups[p->ranked[0]];
	cr_expect_eq(g->tag, 5);
	cr_expect_str_eq(gm_pools_tag_name(p, g->tag), "fx/sparks");
	cr_expect(g->exact);
	cr_expect_eq(g->size, 96);
	cr_expect_eq(g->allocations, 12);
	cr_expect_eq(g->frees, 9, "the last frame's three are never freed");
	cr_expect_eq(g->short_lived, 9);
	cr_expect(g->churn, "9 of 12 freed within 3 frames");
	cr_expect_eq(g->peak_live, 6, "three of the frame before + three new");
	cr_expect_eq(g->peak_frame, 2);
	cr_expect_eq(g->per_frame, 3.0);
	cr_expect_eq(g->suggested, 7, "6 + 10%% = 6.6");
	cr_expect(g->cost_known);
	cr_expect_eq(g->saved_ns, 12 * 50.0);
	cr_expect_eq(g->saved_ns_per_frame, 3 * 50.0);

	for (k = 0; k < p->ngroups; k++) {
		g = &p->groups[k];
		if (g->tag == 5 && g->exact) {
			cr_expect_eq(k, p->ranked[0], "checked above");
		} else if (g->tag == 5 && !g->exact) {
			cr_expect_eq(g->size, 128, "the rest of the class");
			cr_expect_eq(g->allocations, 4);
			cr_expect_eq(g->peak_live, 1);
			cr_expect(g->churn);
		} else if (g->tag == 0 && g->exact && g->size == 96) {
			cr_expect_eq(g->allocations, 4);
			cr_expect_eq(g->peak_live, 4);
			cr_expect_not(g->churn, "never freed");
		} else if (g->tag == 0 && g->size == 40) {
			cr_expect_eq(g->frees, 1, "the realloc freed it");
			cr_expect(g->churn);
		} else if (g->tag == 0 && !g->exact && g->size == 64) {
			/* 40 and 48 share the <= 64 class one each: the tie goes
			 * to the smaller size, 48 is the rest of the class */
			cr_expect_eq(g->allocations, 1);
			cr_expect_eq(g->allocated_bytes, 48);
			cr_expect(g->churn);
		} else {
			cr_expect_fail("unexpected group tag %u size %llu exact %d", g->tag,
			               (unsigned long long)g->size, g->exact);
		}
	}
	cr_expect_eq(p->nranked, 4, "every group but the long-lived one");
	gm_pools_free(p);
}

Test(pools, churn_frames_decides_what_is_short_lived)
{
	/* 10 blocks per frame, each freed two frames later: short-lived for
	 * K = 3, not for K = 2. */
	gm_pools_opts_t o = {GM_POOLS_PERCENTILE_DEFAULT, GM_POOLS_HEADROOM_DEFAULT, 3, 1};
	const char *path;
	words_t r = {0};
	gm_pools_t *p;
	uint64_t f, i;

	r_process(&r);
	for (f = 1; f <= 6; f++) {
		if (f > 2)
			for (i = 0; i < 10; i++)
				r_free(&r, 0x1000 + 0x100 * (f - 2) + 16 * i);
		for (i = 0; i < 10; i++)
			r_alloc(&r, 0x1000 + 0x100 * f + 16 * i, 24);
		r_frame(&r, f);
	}
	path = cap_write("churn.gmt", &r, 1);
	p = model_of(path, &o);
	cr_assert_eq(p->ngroups, 1);
	cr_expect_eq(p->groups[0].short_lived, 40);
	cr_expect(p->groups[0].churn, "40 of 60 within 3 frames");
	cr_expect_eq(p->groups[0].peak_live, 20, "frees come before the frame's allocations");
	cr_expect_eq(p->nranked, 1);
	cr_expect_not(p->groups[0].cost_known, "no alloc_cost record");
	gm_pools_free(p);
	o.churn_frames = 2;
	p = model_of(path, &o);
	cr_expect_eq(p->groups[0].short_lived, 0);
	cr_expect_not(p->groups[0].churn);
	cr_expect_eq(p->nranked, 0);
	gm_pools_free(p);
}

Test(pools, no_candidates_without_allocation_events)
{
	words_t r = {0};
	gm_pools_t *p;

	r_process(&r);
	r_frame_sum(&r, 1, 100, 5000);
	r_frame(&r, 1);
	r_frame_sum(&r, 2, 300, 7000);
	r_frame(&r, 2);
	p = model_of(cap_write("frames.gmt", &r, 1), NULL);
	cr_expect_not(p->candidates_done, "frames level: nothing to group");
	cr_expect_eq(p->ngroups, 0);
	cr_expect_eq(p->sum_frames, 2);
	cr_expect_eq(p->sum_allocations, 400);
	cr_expect_eq(gm_pools_ticks_ns(p, p->sum_ticks), 12000.0);
	gm_pools_free(p);
}

/* ---- GC -------------------------------------------------------------------- */

Test(pools, gc_runs_per_frame_and_generation_and_spike_frames)
{
	/* frame 1: gen 0 (100 ns), gen 2 (300 ns); frame 2: none (spike);
	 * frame 3: gen 1 (50 ns, spike); frame 4: gen 9 (counted as the last
	 * generation kept). */
	words_t r = {0};
	gm_pools_t *p;

	r_process(&r);
	r_gc(&r, 0, 100, 7, 0);
	r_gc(&r, 2, 300, 1, 2);
	r_frame(&r, 1);
	r_frame(&r, 2);
	r_spike(&r, 2);
	r_gc(&r, 1, 50, 3, 0);
	r_frame(&r, 3);
	r_spike(&r, 3);
	r_gc(&r, 9, 10, 0, 0);
	r_frame(&r, 4);
	p = model_of(cap_write("gc.gmt", &r, 1), NULL);
	cr_expect_eq(p->gc_runs, 4);
	cr_expect_eq(p->gc_pause_ns, 460);
	cr_expect_eq(p->gc_max_ns, 300);
	cr_assert_eq(p->ngc_frames, 3);
	cr_expect_eq(p->gc_frames[0].frame, 1);
	cr_expect_eq(p->gc_frames[0].runs, 2);
	cr_expect_eq(p->gc_frames[0].pause_ns, 400);
	cr_expect_eq(p->gc_frames[0].max_ns, 300);
	cr_expect_eq(p->gc_frames[0].collected, 8);
	cr_expect_not(p->gc_frames[0].spike);
	cr_expect_eq(p->gc_frames[1].frame, 3);
	cr_expect(p->gc_frames[1].spike, "spike and GC in frame 3");
	cr_expect_eq(p->gc_frames[2].frame, 4);
	cr_expect_eq(p->gc_spike_frames, 1);
	cr_expect_eq(p->gc_gens[0].runs, 1);
	cr_expect_eq(p->gc_gens[2].uncollectable, 2);
	cr_expect_eq(p->gc_gens[1].pause_ns, 50);
	cr_expect_eq(p->gc_gens[GM_POOLS_GENERATIONS - 1].runs, 1, "generation 9 kept last");
	gm_pools_free(p);
}

/* ---- events fed directly (no capture): edge cases and out of memory ------ */

/* Appends an event 10 ns after the last one (evs_t, ev() and evs_free()
 * are in capture_common.h). */
static void ev_push(evs_t *l, uint32_t thread, unsigned type, unsigned x, uint64_t a, uint64_t b,
                    const uint64_t *w, size_t nw)
{
	l->ns += 10;
	ev(l, l->ns, thread, type, x, a, b, w, nw);
}

static void e_frame(evs_t *l, uint64_t frame)
{
	ev_push(l, 0, gm_rec_frame, 0, frame, 0, NULL, 0);
}

static void e_def(evs_t *l, uint64_t id, const char *name, size_t len, uint64_t size, uint64_t cap)
{
	uint64_t w[2 + 8] = {size, cap};

	cr_assert_leq(len, 64);
	memcpy(w + 2, name, len);
	ev_push(l, 0, gm_rec_pool_def, 1 + (unsigned)(len + 15) / 16, id, len, w,
	        2 + (len + 15) / 16 * 2);
}

static void e_pframe(evs_t *l, uint64_t frame, uint64_t id, uint64_t acq, uint64_t served,
                     uint64_t in_use, uint64_t hw)
{
	uint64_t w[6] = {acq, served, served, served, in_use, hw};

	ev_push(l, 0, gm_rec_pool_frame, 3, frame, id, w, 6);
}

static void e_alloc(evs_t *l, uint32_t thread, uint64_t ptr, uint64_t size)
{
	ev_push(l, thread, gm_rec_alloc, gm_kind_malloc, ptr, size, NULL, 0);
}

static void e_free(evs_t *l, uint32_t thread, uint64_t ptr)
{
	ev_push(l, thread, gm_rec_free, gm_kind_free, ptr, 0, NULL, 0);
}

static void e_realloc(evs_t *l, uint32_t thread, uint64_t ptr, uint64_t size, uint64_t old)
{
	uint64_t w[2] = {old, 0};

	ev_push(l, thread, gm_rec_realloc, gm_kind_realloc, ptr, size, w, 2);
}

/* alloc_cost: classes 0..n-1, calls[c] = calls, ticks[c] = ticks when the
 * bit c of mask is set, else 0 */
static void e_cost(evs_t *l, unsigned n, uint64_t mask, uint64_t calls, uint64_t ticks)
{
	uint64_t w[2 * 64] = {0};
	unsigned c;

	cr_assert_leq(n, 64);
	for (c = 0; c < n; c++) {
		if (!(mask >> c & 1))
			continue;
		w[2 * c] = calls;
		w[2 * c + 1] = ticks;
	}
	ev_push(l, 0, gm_rec_alloc_cost, n, 0, n, w, 2 * n);
}

static void e_tag(evs_t *l, uint64_t id, const char *name)
{
	uint64_t w[4] = {0};

	cr_assert_leq(strlen(name), sizeof(w));
	memcpy(w, name, strlen(name));
	ev_push(l, 0, gm_rec_tag_def, (unsigned)(strlen(name) + 15) / 16, id, strlen(name), w,
	        (strlen(name) + 15) / 16 * 2);
}

static void e_ctx(evs_t *l, uint32_t thread, uint64_t tag)
{
	ev_push(l, thread, gm_rec_context, 0, 0, tag, NULL, 0);
}

static void e_gc(evs_t *l, uint64_t gen, uint64_t ns)
{
	uint64_t w[2] = {ns, 0};

	ev_push(l, 0, gm_rec_gc, 1, gen, 1, w, 2);
}

/* Both passes and finish over the list; returns the first error. */
static int feed(gm_pools_t *p, const evs_t *l)
{
	size_t i;
	int rc;

	for (i = 0; i < l->n; i++)
		if ((rc = gm_pools_add(p, &l->e[i])) < 0)
			return rc;
	if (p->opts.candidates && p->alloc_events > 0) {
		if ((rc = gm_pools_candidates_begin(p)) < 0)
			return rc;
		for (i = 0; i < l->n; i++)
			if ((rc = gm_pools_candidates_add(p, &l->e[i])) < 0)
				return rc;
	}
	return gm_pools_finish(p);
}

Test(pools, an_empty_tag_name_in_a_capture)
{
	/* a tag_def with no name bytes has no extra unit at all */
	words_t r = {0};
	gm_pools_t *p;

	r_process(&r);
	r_tag_def(&r, 6, "");
	r_frame(&r, 1);
	p = model_of(cap_write("empty_tag.gmt", &r, 1), NULL);
	cr_expect_str_eq(gm_pools_tag_name(p, 6), "");
	gm_pools_free(p);
}

Test(pools, percentiles_outside_0_to_100_clamp_to_the_ends)
{
	uint64_t v[3] = {30, 10, 20};

	cr_expect_eq(gm_pools_percentile(v, 3, 0), 10, "P0: rank 0 is taken as rank 1");
	cr_expect_eq(gm_pools_percentile(v, 3, 250000), 30, "P250: rank 8 is taken as rank 3");
}

Test(pools, options_out_of_range_fall_back_and_no_rate_means_ticks_are_ns)
{
	gm_pools_opts_t o = {0, 0, 0, 0};
	evs_t l = {0};
	gm_pools_t *p;
	double ns;

	p = gm_pools_new(&o, 0);
	cr_assert_not_null(p);
	cr_expect_eq(p->opts.percentile_milli, GM_POOLS_PERCENTILE_DEFAULT,
	             "P0 is not a percentile");
	cr_expect_eq(p->opts.churn_frames, 1, "K = 0 is taken as the same frame");
	cr_expect_eq(gm_pools_ticks_ns(p, 1234), 1234.0, "no tick rate: ticks are ns");
	e_cost(&l, 8, 1u << 6, 4, 100);
	e_alloc(&l, 0, 0x10, 48);
	e_frame(&l, 1);
	/* without candidates the second pass does nothing */
	cr_assert_eq(feed(p, &l), 0);
	cr_expect_eq(gm_pools_candidates_begin(p), 0);
	cr_expect_not(p->candidates_done, "candidates were not asked for");
	cr_expect_eq(p->alloc_events, 1);
	cr_expect_eq(p->ngroups, 0);
	cr_assert(gm_pools_cost(p, 6, &ns));
	cr_expect_eq(ns, 25.0, "100 ticks as ns over 4 calls");
	cr_expect_not(gm_pools_cost(p, GM_POOLS_CLASSES, &ns), "no class 40");
	gm_pools_free(p);
	o.percentile_milli = 100001;
	p = gm_pools_new(&o, 1e9);
	cr_assert_not_null(p);
	cr_expect_eq(p->opts.percentile_milli, GM_POOLS_PERCENTILE_DEFAULT, "P100.001 neither");
	/* events for the second pass before the first is over are ignored */
	cr_expect_eq(gm_pools_candidates_add(p, &l.e[1]), 0);
	gm_pools_free(p);
	gm_pools_free(NULL);
	evs_free(&l);
}

Test(pools, pool_ids_past_255_and_repeated_records)
{
	/* ids 1000 and 70000 are looked up without the small-id table; a
	 * second destroy keeps the first; a redefinition starts a new pool */
	evs_t l = {0};
	const gm_pools_pool_t *q;
	gm_pools_t *p = gm_pools_new(NULL, 1e9);

	cr_assert_not_null(p);
	e_def(&l, 1000, "bullets", 7, 16, 100);
	e_def(&l, 70000, "decals", 6, 64, 10);
	e_def(&l, 3, "first", 5, 8, 4);
	e_pframe(&l, 1, 1000, 10, 10, 10, 10);
	e_pframe(&l, 1, 70000, 2, 2, 2, 2);
	e_pframe(&l, 1, 3, 1, 1, 1, 1);
	e_frame(&l, 1);
	ev_push(&l, 0, gm_rec_pool_resize, 0, 1000, 50, NULL, 0);
	ev_push(&l, 0, gm_rec_pool_destroy, 0, 70000, 0, NULL, 0);
	e_def(&l, 3, "second", 6, 8, 2); /* id 3 again, frame 2 */
	e_pframe(&l, 2, 3, 2, 2, 2, 2);
	e_frame(&l, 2);
	ev_push(&l, 0, gm_rec_pool_destroy, 0, 70000, 0, NULL, 0); /* again, frame 3 */
	e_pframe(&l, 3, 1000, 3, 3, 0, 12);
	e_frame(&l, 3);
	cr_assert_eq(feed(p, &l), 0);
	cr_assert_eq(p->npools, 4);
	q = pool_named(p, "bullets");
	cr_expect_eq(q->id, 1000);
	cr_expect_eq(q->capacity, 50);
	cr_expect_eq(q->nresizes, 1);
	cr_expect_eq(q->acquires, 13, "records of frames 1 and 3 found by id");
	cr_expect_eq(q->peak, 12);
	cr_expect_eq(q->peak_frame, 3);
	q = pool_named(p, "decals");
	cr_expect_eq(q->id, 70000);
	cr_expect_eq(q->destroy_frame, 2, "the first destroy counts");
	cr_expect_eq(q->last_frame, 2);
	cr_expect_eq(pool_named(p, "first")->acquires, 1);
	cr_expect_eq(pool_named(p, "first")->first_frame, 1);
	q = pool_named(p, "second");
	cr_expect_eq(q->id, 3);
	cr_expect_eq(q->first_frame, 2);
	cr_expect_eq(q->acquires, 2, "id 3 means the newest pool after the redefinition");
	gm_pools_free(p);
	evs_free(&l);
}

Test(pools, names_stop_at_their_first_nul)
{
	evs_t l = {0};
	gm_pools_t *p = gm_pools_new(NULL, 1e9);

	cr_assert_not_null(p);
	e_def(&l, 1, "ab\0\0\0\0\0\0", 8, 8, 4);
	e_def(&l, 2, "", 0, 8, 4);
	e_tag(&l, 5, "old");
	e_tag(&l, 5, "new/name");
	e_frame(&l, 1);
	cr_assert_eq(feed(p, &l), 0);
	cr_assert_eq(p->npools, 2);
	cr_expect_str_eq(p->pools[0].name, "ab");
	cr_expect_str_eq(p->pools[1].name, "", "an empty name is still a defined pool");
	cr_expect(p->pools[1].defined);
	cr_expect_eq(p->ntags, 1, "a tag defined twice is one tag");
	cr_expect_str_eq(gm_pools_tag_name(p, 5), "new/name", "the last definition wins");
	cr_expect_null(gm_pools_tag_name(p, 6));
	cr_expect_str_eq(gm_pools_tag_name(p, 0), "(untagged)");
	gm_pools_free(p);
	evs_free(&l);
}

Test(pools, a_pool_life_is_bounded_by_its_records_and_the_marks)
{
	/* marks 1..4 at ns 40, 80, ... (see below). "early": defined in frame
	 * 3, a record says frame 2: it starts in frame 2. "beyond": a record
	 * for frame 6, after the last mark: it runs to frame 6, whose end time
	 * is unknown. "resized": only a resize in frame 2. "gone": only a
	 * destroy (no frame known). "late_destroy": destroyed after the last
	 * mark. "idle": never acquired. */
	evs_t l = {0};
	const gm_pools_pool_t *q;
	gm_pools_walk_t w;
	gm_pools_row_t row;
	gm_pools_t *p = gm_pools_new(NULL, 1e9);
	uint64_t def_ns;

	cr_assert_not_null(p);
	e_def(&l, 5, "late_destroy", 12, 8, 4);
	e_def(&l, 6, "idle", 4, 8, 4);
	e_def(&l, 7, "rate", 4, 8, 2);
	def_ns = l.ns;
	e_pframe(&l, 1, 7, 4, 2, 2, 2); /* two overflows */
	e_frame(&l, 1);
	ev_push(&l, 0, gm_rec_pool_resize, 0, 9, 32, NULL, 0);
	ev_push(&l, 0, gm_rec_pool_destroy, 0, 10, 0, NULL, 0);
	e_frame(&l, 2);
	e_def(&l, 1, "early", 5, 8, 10);
	e_pframe(&l, 2, 1, 3, 3, 3, 3);
	e_def(&l, 2, "beyond", 6, 8, 10);
	e_pframe(&l, 6, 2, 1, 1, 1, 1);
	e_frame(&l, 3);
	e_frame(&l, 4);
	ev_push(&l, 0, gm_rec_pool_destroy, 0, 5, 0, NULL, 0);
	cr_assert_eq(feed(p, &l), 0);

	q = pool_named(p, "early");
	cr_expect_eq(q->def_frame, 3);
	cr_expect_eq(q->first_frame, 2, "its record comes first");
	cr_expect_eq(q->nframes, 3);
	q = pool_named(p, "beyond");
	cr_expect_eq(q->last_frame, 6, "a record past the last mark extends it");
	cr_expect_eq(q->nframes, 4);
	cr_expect_eq(q->span_ns, 0, "frame 6 has no mark: time span unknown");
	cr_expect(isnan(q->overflows_per_s));
	q = pool_named(p, "late_destroy");
	cr_expect(q->destroyed);
	cr_expect_eq(q->destroy_frame, 5);
	cr_expect_eq(q->last_frame, 4, "destroyed in the tail: its life ends with the last mark");
	q = pool_named(p, "idle");
	cr_expect_eq(q->used_frames, 0);
	cr_expect_not(q->overflows_every_frame, "never used");
	cr_expect(q->never_fills);
	q = pool_named(p, "rate");
	cr_expect_eq(q->overflows, 2);
	cr_expect_eq(q->span_ns, p->marks[3].ns - def_ns,
	             "from its definition to the end of frame 4");
	cr_expect_eq(q->overflows_per_s, 2 * 1e9 / (double)q->span_ns);

	cr_assert_eq(p->npools, 7);
	q = &p->pools[3]; /* id 9: only a resize */
	cr_expect_eq(q->id, 9);
	cr_expect_null(q->name);
	cr_expect_eq(q->first_frame, 2, "known from its resize in frame 2");
	cr_expect_eq(q->nframes, 3);
	gm_pools_walk_begin(&w, q);
	cr_assert(gm_pools_walk_next(&w, &row));
	cr_expect_eq(row.capacity, 32, "the resize applies to frame 2");
	q = &p->pools[4]; /* id 10: only a destroy */
	cr_expect_eq(q->id, 10);
	cr_expect_eq(q->first_frame, 0);
	cr_expect_eq(q->nframes, 0, "no frame of its life is known");
	gm_pools_walk_begin(&w, q);
	cr_expect_not(gm_pools_walk_next(&w, &row), "nothing to walk");
	gm_pools_free(p);
	evs_free(&l);
}

Test(pools, a_frame_without_its_mark_has_no_end_time)
{
	/* main frame records 1 and 5 (numbers skipped): the pool destroyed in
	 * frame 2 has no known end time, so no rate per second */
	evs_t l = {0};
	gm_pools_t *p = gm_pools_new(NULL, 1e9);
	const gm_pools_pool_t *q;

	cr_assert_not_null(p);
	e_def(&l, 1, "gap", 3, 8, 1);
	e_pframe(&l, 1, 1, 3, 1, 1, 1);
	e_frame(&l, 1);
	ev_push(&l, 0, gm_rec_pool_destroy, 0, 1, 0, NULL, 0);
	e_frame(&l, 5);
	cr_assert_eq(feed(p, &l), 0);
	q = pool_named(p, "gap");
	cr_expect_eq(q->last_frame, 2);
	cr_expect_eq(q->nframes, 2);
	cr_expect_eq(q->overflows, 2);
	cr_expect_eq(q->span_ns, 0);
	cr_expect(isnan(q->overflows_per_s));
	gm_pools_free(p);
	evs_free(&l);
}

Test(pools, folded_records_keep_the_highest_high_water_mark)
{
	evs_t l = {0};
	gm_pools_t *p = gm_pools_new(NULL, 1e9);
	const gm_pools_pool_t *q;

	cr_assert_not_null(p);
	e_def(&l, 1, "fx", 2, 8, 20);
	e_frame(&l, 1);
	e_pframe(&l, 2, 1, 2, 2, 3, 3);
	e_pframe(&l, 2, 1, 5, 5, 6, 8); /* the same frame: higher mark */
	e_pframe(&l, 1, 1, 1, 1, 4, 4); /* an older frame: folded into frame 2 */
	e_frame(&l, 2);
	cr_assert_eq(feed(p, &l), 0);
	q = pool_named(p, "fx");
	cr_assert_eq(q->nrecs, 1);
	cr_expect_eq(q->recs[0].high_water, 8);
	cr_expect_eq(q->recs[0].acquires, 8);
	cr_expect_eq(q->recs[0].in_use, 4, "the latest in-use count");
	cr_expect_eq(q->peak, 8);
	gm_pools_free(p);
	evs_free(&l);
}

Test(pools, sizing_saturates_for_absurd_figures)
{
	/* a damaged capture's sizes: the savings stay at the int64 limits */
	evs_t l = {0};
	gm_pools_t *p = gm_pools_new(NULL, 1e9);

	cr_assert_not_null(p);
	e_def(&l, 1, "huge", 4, 1ull << 62, 1ull << 62);
	e_def(&l, 2, "tiny", 4, 1ull << 62, 1);
	e_pframe(&l, 1, 1, 1, 1, 1, 1);
	e_pframe(&l, 1, 2, 1, 1, 1ull << 62, 1ull << 62);
	e_frame(&l, 1);
	cr_assert_eq(feed(p, &l), 0);
	cr_expect_eq(pool_named(p, "huge")->resize_saves_bytes, INT64_MAX);
	cr_expect_eq(pool_named(p, "tiny")->resize_saves_bytes, INT64_MIN);
	/* and the idle bytes at the peak at the uint64 one, not wrapped */
	cr_expect_eq(pool_named(p, "huge")->idle_bytes_at_peak, UINT64_MAX);
	gm_pools_free(p);
	evs_free(&l);
}

Test(pools, a_frame_number_no_memory_holds_is_cut_not_walked)
{
	/* 2^62 frames could not be walked (it was an out-of-memory error):
	 * the pool's life is cut to the one frame record and the frame after */
	evs_t l = {0};
	gm_pools_t *p = gm_pools_new(NULL, 1e9);

	cr_assert_not_null(p);
	e_def(&l, 1, "p", 1, 8, 4);
	e_pframe(&l, 1ull << 62, 1, 1, 1, 1, 1);
	e_frame(&l, 1);
	cr_expect_eq(feed(p, &l), 0);
	cr_expect_eq(p->bad_frame, 1ull << 62);
	cr_expect_eq(p->bad_frames_pool, 1);
	cr_expect_eq(p->pools[0].nframes, 3);
	gm_pools_free(p);
	evs_free(&l);
}

Test(pools, secondary_frames_and_a_wide_cost_record)
{
	/* a frame record of set 2 does not end a main frame; an alloc_cost
	 * record with 50 classes keeps the 40 the model has */
	evs_t l = {0};
	gm_pools_t *p = gm_pools_new(NULL, 1e9);
	double ns;

	cr_assert_not_null(p);
	ev_push(&l, 0, gm_rec_frame, 2, 1, 0, NULL, 0);
	e_frame(&l, 1);
	ev_push(&l, 0, gm_rec_frame, 2, 2, 0, NULL, 0);
	e_cost(&l, 50, ~0ull, 2, 30);
	cr_assert_eq(feed(p, &l), 0);
	cr_expect_eq(p->nmarks, 1);
	cr_expect_eq(p->last_mark, 1);
	cr_assert(gm_pools_cost(p, GM_POOLS_CLASSES - 1, &ns));
	cr_expect_eq(ns, 15.0);
	cr_expect_not(gm_pools_cost(p, GM_POOLS_CLASSES, &ns));
	gm_pools_free(p);
	evs_free(&l);
}

Test(pools, a_pools_overflow_allocations_are_not_candidates)
{
	/* pool 7 "bullets" of 4 objects of 64 B overflows twice a frame in
	 * frames 1..3: the game takes those two from the heap (64 B each) and
	 * frees them in the frame; three more 64-byte blocks a frame come from
	 * elsewhere, freed in the frame too. The first two 64-byte allocations
	 * of each frame are the pool's; the group holds the other nine. A
	 * frame without an overflow (4) leaves its 64-byte blocks in. */
	gm_pools_opts_t o = {GM_POOLS_PERCENTILE_DEFAULT, GM_POOLS_HEADROOM_DEFAULT, 3, 1};
	evs_t l = {0};
	gm_pools_t *p = gm_pools_new(&o, 1e9);
	uint64_t f, i;
	size_t k;
	int found = 0;

	cr_assert_not_null(p);
	e_def(&l, 7, "bullets", 7, 64, 4);
	for (f = 1; f <= 4; f++) {
		for (i = 0; i < 5; i++)
			e_alloc(&l, 0, 0x1000 * f + 0x40 * i, 64);
		for (i = 0; i < 5; i++)
			e_free(&l, 0, 0x1000 * f + 0x40 * i);
		e_frame(&l, f);
		e_pframe(&l, f, 7, f < 4 ? 6 : 4, 4, 0, 4);
	}
	cr_assert_eq(feed(p, &l), 0);
	cr_expect_eq(p->overflow_allocations, 6);
	for (k = 0; k < p->ngroups; k++) {
		const gm_pools_group_t *g = &p->groups[k];

		if (g->exact && g->size == 64) {
			found = 1;
			cr_expect_eq(g->allocations, 9 + 5, "3 a frame in 1..3, all 5 in frame 4");
			cr_expect_eq(g->frees, 14);
		}
	}
	cr_expect(found, "the 64-byte group");
	gm_pools_free(p);
	evs_free(&l);
}

Test(pools, candidates_from_odd_allocation_records)
{
	/* malloc returning NULL (ptr 0) still counts as an allocation of its
	 * group; realloc(p, 0) (new ptr 0) only frees; an address allocated
	 * twice lost its first free, which is not counted; an allocation only
	 * the second pass sees joins the rest of its class. No frame mark:
	 * per-frame figures are unknown. */
	gm_pools_opts_t o = {GM_POOLS_PERCENTILE_DEFAULT, GM_POOLS_HEADROOM_DEFAULT, 3, 1};
	evs_t l = {0}, extra = {0};
	const gm_pools_group_t *g;
	gm_pools_t *p = gm_pools_new(&o, 1e9);
	size_t i;

	cr_assert_not_null(p);
	e_cost(&l, 8, 1u << 5, 1, 20); /* 20 ns for <= 32 B */
	e_alloc(&l, 0, 0, 24);
	e_alloc(&l, 0, 0x10, 24);
	e_alloc(&l, 0, 0x10, 24); /* the first 0x10 was never freed */
	e_realloc(&l, 0, 0, 0, 0x10);
	e_free(&l, 0, 0x10); /* gone already */
	for (i = 0; i < l.n; i++)
		cr_assert_eq(gm_pools_add(p, &l.e[i]), 0);
	cr_expect_eq(p->alloc_events, 3, "two mallocs and a malloc of NULL; not realloc(p, 0)");
	cr_assert_eq(gm_pools_candidates_begin(p), 0);
	for (i = 0; i < l.n; i++)
		cr_assert_eq(gm_pools_candidates_add(p, &l.e[i]), 0);
	e_alloc(&extra, 0, 0x20, 5000);
	e_free(&extra, 0, 0x20);
	for (i = 0; i < extra.n; i++)
		cr_assert_eq(gm_pools_candidates_add(p, &extra.e[i]), 0);
	cr_assert_eq(gm_pools_finish(p), 0);
	cr_assert_eq(p->ngroups, 2);
	g = &p->groups[0];
	cr_expect(g->exact);
	cr_expect_eq(g->size, 24);
	cr_expect_eq(g->allocations, 3);
	cr_expect_eq(g->frees, 1, "only the realloc's free of the second block");
	cr_expect_eq(g->short_lived, 1);
	cr_expect_eq(g->live, 0);
	cr_expect_eq(g->peak_live, 1, "the lost block is not live twice");
	cr_expect_not(g->churn, "1 of 3");
	cr_expect(isnan(g->per_frame), "no frame");
	cr_expect(g->cost_known);
	cr_expect_eq(g->saved_ns, 60.0);
	cr_expect(isnan(g->saved_ns_per_frame));
	g = &p->groups[1];
	cr_expect_not(g->exact, "never seen in the first pass");
	cr_expect_eq(g->size, 8192, "the class of 5000 B");
	cr_expect(g->churn);
	cr_expect_not(g->cost_known);
	cr_assert_eq(p->nranked, 1);
	cr_expect_eq(p->ranked[0], 1);
	gm_pools_free(p);
	evs_free(&l);
	evs_free(&extra);
}

Test(pools, candidates_without_groups_rank_nothing)
{
	evs_t l = {0};
	gm_pools_t *p = gm_pools_new(NULL, 1e9);

	cr_assert_not_null(p);
	e_alloc(&l, 0, 0x10, 8);
	cr_assert_eq(gm_pools_add(p, &l.e[0]), 0);
	cr_assert_eq(gm_pools_candidates_begin(p), 0);
	cr_assert_eq(gm_pools_finish(p), 0, "a second pass that saw nothing");
	cr_expect(p->candidates_done);
	cr_expect_eq(p->ngroups, 0);
	cr_expect_eq(p->nranked, 0);
	gm_pools_free(p);
	evs_free(&l);
}

Test(pools, ranking_breaks_ties_by_frames_allocations_tag_and_size)
{
	/* cost known for <= 32 and <= 64 B (10 ns each). Expected order:
	 *   saved 20 ns: tag 0 32 B, tag 0 64 B, tag 1 32 B (tag, then size)
	 *   saved 10 ns: tag 2 40 B (exact, the smaller of a tie), tag 2 <= 64 B
	 *   no cost: 1000 B (3 in frames), 2000 B (1 in frames, 3 in all),
	 *            4000 B (1 in frames, 1 in all) */
	static const struct {
		uint32_t tag;
		uint64_t size;
		int in_frame, after;
	} spec[] = {{1, 32, 2, 0}, {0, 64, 2, 0},   {0, 32, 2, 0},   {2, 48, 1, 0},
	            {2, 40, 1, 0}, {0, 4000, 1, 0}, {0, 2000, 1, 2}, {0, 1000, 3, 0}};
	static const struct {
		uint32_t tag;
		uint64_t size;
		int exact;
	} want[] = {{0, 32, 1}, {0, 64, 1},   {1, 32, 1},   {2, 40, 1},
	            {2, 64, 0}, {0, 1000, 1}, {0, 2000, 1}, {0, 4000, 1}};
	evs_t l = {0};
	gm_pools_t *p = gm_pools_new(NULL, 1e9);
	uint64_t ptr = 0x1000;
	size_t i;
	int k;

	cr_assert_not_null(p);
	e_cost(&l, 8, 3u << 5, 1, 10);
	for (i = 0; i < sizeof(spec) / sizeof(spec[0]); i++) {
		e_ctx(&l, 0, spec[i].tag);
		for (k = 0; k < spec[i].in_frame; k++, ptr += 0x100) {
			e_alloc(&l, 0, ptr, spec[i].size);
			e_free(&l, 0, ptr);
		}
	}
	e_frame(&l, 1);
	for (i = 0; i < sizeof(spec) / sizeof(spec[0]); i++) {
		e_ctx(&l, 0, spec[i].tag);
		for (k = 0; k < spec[i].after; k++, ptr += 0x100) {
			e_alloc(&l, 0, ptr, spec[i].size);
			e_free(&l, 0, ptr);
		}
	}
	cr_assert_eq(feed(p, &l), 0);
	cr_assert_eq(p->ngroups, 8);
	cr_assert_eq(p->nranked, 8, "every block freed in its frame");
	for (i = 0; i < 8; i++) {
		const gm_pools_group_t *g = &p->groups[p->ranked[i]];

		cr_expect(g->tag == want[i].tag && g->size == want[i].size &&
		                  g->exact == want[i].exact,
		          "rank %zu: tag %u size %llu exact %d, want tag %u size %llu exact %d",
		          i + 1, g->tag, (unsigned long long)g->size, g->exact, want[i].tag,
		          (unsigned long long)want[i].size, want[i].exact);
	}
	gm_pools_free(p);
	evs_free(&l);
}

/* A game's worth of everything the model keeps: 2 threads, a tag per
 * frame and 4 size classes in each (the maps grow), 20 frames (the arrays grow), pools,
 * GC, spikes. */
static void everything(evs_t *l)
{
	uint64_t f, ptr = 0x10000;
	int i;

	e_tag(l, 1, "fx");
	e_tag(l, 2, "ai");
	e_cost(l, 10, 0x3ff, 5, 50);
	e_def(l, 1, "bullets", 7, 32, 8);
	e_def(l, 300, "big_ids", 7, 64, 4);
	for (f = 1; f <= 20; f++) {
		e_ctx(l, (uint32_t)(f % 2), f); /* a tag per frame */
		e_ctx(l, 20, 1);
		for (i = 0; i < 4; i++, ptr += 0x100) {
			e_alloc(l, (uint32_t)(f % 2), ptr, (8ull << i) + f);
			if (i % 2)
				e_free(l, (uint32_t)(f % 2), ptr);
		}
		e_realloc(l, 0, ptr + 0x40, 4, ptr - 0x100);
		e_pframe(l, f, 1, f, f - 1, f, f + 1);
		e_pframe(l, f, 300, 1, 1, 1, 1);
		e_gc(l, f % 3, 100 * f);
		ev_push(l, 0, gm_rec_spike, 3, f, 1, (const uint64_t[6]){0}, 6);
		e_frame(l, f);
		if (f == 10)
			ev_push(l, 0, gm_rec_pool_resize, 0, 1, 16, NULL, 0);
	}
	/* no size holds half of <= 128 B */
	e_alloc(l, 0, 0x100, 100);
	e_alloc(l, 0, 0x200, 110);
	e_alloc(l, 0, 0x300, 120);
	ev_push(l, 0, gm_rec_pool_destroy, 0, 300, 0, NULL, 0);
	/* pools first seen in a record, a resize, a destroy; a redefinition */
	e_pframe(l, 21, 7, 1, 1, 1, 1);
	ev_push(l, 0, gm_rec_pool_resize, 0, 8, 16, NULL, 0);
	ev_push(l, 0, gm_rec_pool_destroy, 0, 9, 0, NULL, 0);
	e_def(l, 1, "bullets2", 8, 32, 8);
}

typedef struct oom_model_case {
	evs_t l;
	size_t ngroups, nranked; /* with nothing failing */
} oom_model_case_t;

static int oom_model(long n, void *arg)
{
	const oom_model_case_t *c = arg;
	const evs_t *l = &c->l;
	gm_pools_t *p;
	int rc;

	p = gm_pools_new(NULL, 1e9);
	if (!p)
		return 1;
	rc = feed(p, l);
	if (rc == 0) {
		cr_assert_eq(p->npools, 6, "allocation %ld: a whole model", n);
		cr_assert_eq(p->ngroups, c->ngroups, "allocation %ld: every group", n);
		cr_assert_eq(p->nranked, c->nranked, "allocation %ld: every candidate", n);
		cr_assert_eq(p->gc_runs, 20);
		cr_assert_eq(p->ntags, 2);
	} else {
		cr_assert_eq(rc, -ENOMEM, "allocation %ld: %d", n, rc);
		cr_assert(p->failed, "allocation %ld: the model knows it failed", n);
		cr_assert_eq(gm_pools_add(p, &l->e[0]), -ENOMEM, "refuses events after");
		cr_assert_eq(gm_pools_candidates_begin(p), -ENOMEM);
		cr_assert_eq(gm_pools_candidates_add(p, &l->e[0]), -ENOMEM);
		cr_assert_eq(gm_pools_finish(p), -ENOMEM);
	}
	gm_pools_free(p);
	return rc != 0;
}

Test(pools, out_of_memory_anywhere_is_reported_and_refuses_more)
{
	oom_model_case_t c;
	gm_pools_t *p = gm_pools_new(NULL, 1e9);
	long runs;

	memset(&c, 0, sizeof(c));
	everything(&c.l);
	cr_assert_not_null(p);
	cr_assert_eq(feed(p, &c.l), 0);
	c.ngroups = p->ngroups;
	c.nranked = p->nranked;
	cr_assert_gt(c.ngroups, 48, "enough groups for the maps to grow: %zu", c.ngroups);
	gm_pools_free(p);
	runs = gm_failalloc_each(oom_model, &c, 100000);
	cr_expect_gt(runs, 20, "the model allocates (%ld failing runs)", runs);
	evs_free(&c.l);
}

/* gm_pools_read: every failure is -ENOMEM or reader damage, never a crash. */
static int oom_read(long n, void *arg)
{
	const char *path = arg;
	char err[256] = "";
	gm_reader_t *rd = gm_reader_open(path, err, sizeof(err));
	gm_pools_t *p;
	int rc;

	(void)n;
	if (!rd)
		return 1;
	p = gm_pools_new(NULL, gm_reader_info(rd)->tsc_hz);
	rc = p ? gm_pools_read(p, rd) : -ENOMEM;
	if (rc == 0 && gm_reader_error(rd))
		rc = 1;
	if (rc == 0)
		cr_assert_eq(p->ngroups, 2, "allocation %ld: both groups", n);
	gm_pools_free(p);
	gm_reader_free(rd);
	return rc != 0;
}

Test(pools, out_of_memory_while_reading_a_capture)
{
	words_t r = {0};
	const char *path;
	long runs;
	uint64_t f;

	r_process(&r);
	r_pool_def(&r, 1, "ships", 16, 10);
	for (f = 1; f <= 3; f++) {
		r_alloc(&r, 0x1000 + f * 0x100, 24);
		r_free(&r, 0x1000 + f * 0x100);
		r_alloc(&r, 0x8000 + f * 0x100, 100);
		r_pool_frame(&r, f, 1, 2, 2, 2, 2, 0, 2);
		r_frame(&r, f);
	}
	path = cap_write("oom.gmt", &r, 1);
	runs = gm_failalloc_each(oom_read, (void *)path, 100000);
	cr_expect_gt(runs, 5, "reading allocates (%ld failing runs)", runs);
}

/* Each record that can create a pool does so when the pool array is full
 * (16, 32, 64 and 128 pools): a failure there is -ENOMEM too. */
static void defs(evs_t *l, uint64_t *id, int n)
{
	char name[16];
	int i;

	for (i = 0; i < n; i++, (*id)++) {
		snprintf(name, sizeof(name), "p%llu", (unsigned long long)*id);
		e_def(l, *id, name, strlen(name), 8, 4);
	}
}

static int oom_pools(long n, void *arg)
{
	const evs_t *l = arg;
	gm_pools_t *p = gm_pools_new(NULL, 1e9);
	int rc;

	if (!p)
		return 1;
	rc = feed(p, l);
	if (rc == 0) {
		cr_assert_eq(p->npools, 129, "allocation %ld: every pool", n);
		cr_assert_eq(p->pools[16].id, 1, "the record's pool");
		cr_assert_eq(p->pools[32].id, 2, "the resize's pool");
		cr_assert_eq(p->pools[64].id, 3, "the destroy's pool");
		cr_assert_str_eq(p->pools[128].name, "again");
	} else {
		cr_assert_eq(rc, -ENOMEM, "allocation %ld", n);
	}
	gm_pools_free(p);
	return rc != 0;
}

Test(pools, out_of_memory_when_any_record_creates_a_pool)
{
	evs_t l = {0};
	uint64_t id = 10;
	long runs;

	defs(&l, &id, 16);
	e_pframe(&l, 1, 1, 1, 1, 1, 1);
	defs(&l, &id, 15);
	ev_push(&l, 0, gm_rec_pool_resize, 0, 2, 16, NULL, 0);
	defs(&l, &id, 31);
	ev_push(&l, 0, gm_rec_pool_destroy, 0, 3, 0, NULL, 0);
	defs(&l, &id, 63);
	e_def(&l, 10, "again", 5, 8, 4);
	e_frame(&l, 1);
	runs = gm_failalloc_each(oom_pools, &l, 100000);
	cr_expect_gt(runs, 129, "names and pools (%ld failing runs)", runs);
	evs_free(&l);
}
