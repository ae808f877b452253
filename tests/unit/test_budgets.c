/* test_budgets.c - the budgets model and `gmtrace budgets` on synthetic captures
 *
 * Most tests feed events straight into the model (gm_budgets_add) with
 * chosen threads, times and frames, so each rule is checked on its own. The
 * last ones write a capture file (header, raw record blocks, clock blocks),
 * read it back through the reader, and run the command itself for its exit
 * status (--check, --node).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/cmd/cmd.h"
#include "analysis/log/reader.h"
#include "analysis/model/budgets.h"
#include "capture_file.h"
#include "cmdrun.h"
#include "failalloc.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define ROOT 0xffffffffull /* parent id of a root, as the writer puts it */

/* ---- feeding events --------------------------------------------------------- */

typedef struct feed {
	gm_budgets_t *m;
	uint64_t ns; /* time of the next event; each event adds step */
	uint64_t step;
	uint64_t frame; /* main frames marked so far */
} feed_t;

static feed_t feed_new(const gm_budgets_opts_t *opts)
{
	feed_t f;

	memset(&f, 0, sizeof(f));
	f.m = gm_budgets_new(opts);
	cr_assert_not_null(f.m, "gm_budgets_new");
	f.ns = 1000;
	f.step = 1000;
	return f;
}

static void put(feed_t *f, uint32_t thread, unsigned type, unsigned x, uint64_t a, uint64_t b,
                const uint64_t *extra, uint32_t units)
{
	gm_event_t ev = event_at(f->ns, thread, type, x, a, b, extra, units);

	f->ns += f->step;
	cr_assert_eq(gm_budgets_add(f->m, &ev), 0, "gm_budgets_add of a %s record",
	             gm_reader_type_name(type));
}

/* A budget_node record as budget.c writes it. */
static void node_def(feed_t *f, uint64_t id, uint64_t parent, uint64_t soft, uint64_t hard,
                     unsigned policy, int strict, const char *name)
{
	uint64_t w[3 * 2 + 16];
	size_t len = strlen(name);
	uint32_t units = 3 + (uint32_t)((len + 15) / 16);

	cr_assert_lt(len, 16 * 8);
	memset(w, 0, sizeof(w));
	w[0] = parent;
	w[1] = soft;
	w[2] = hard;
	w[3] = soft; /* target */
	w[4] = policy | (uint64_t)(strict != 0) << 8;
	w[5] = hard; /* a heap as large as the hard limit */
	memcpy(w + 6, name, len);
	put(f, 0, gm_rec_budget_node, units, id, len, w, units);
}

/* node_def, then set the target and heap capacity by hand. */
static void node_full(feed_t *f, uint64_t id, uint64_t parent, uint64_t soft, uint64_t hard,
                      uint64_t target, uint64_t capacity, unsigned policy, int strict,
                      const char *name)
{
	uint64_t w[3 * 2 + 16];
	size_t len = strlen(name);
	uint32_t units = 3 + (uint32_t)((len + 15) / 16);

	memset(w, 0, sizeof(w));
	w[0] = parent;
	w[1] = soft;
	w[2] = hard;
	w[3] = target;
	w[4] = policy | (uint64_t)(strict != 0) << 8;
	w[5] = capacity;
	memcpy(w + 6, name, len);
	put(f, 0, gm_rec_budget_node, units, id, len, w, units);
}

/* Ends the current main frame. */
static void frame(feed_t *f)
{
	put(f, 0, gm_rec_frame, 0, ++f->frame, 0, NULL, 0);
}

static void bframe(feed_t *f, uint64_t frame_no, uint64_t node, int64_t live, int64_t peak)
{
	uint64_t w[2] = {(uint64_t)live, (uint64_t)peak};

	put(f, 0, gm_rec_budget_frame, 1, frame_no, node, w, 1);
}

static void violation(feed_t *f, uint32_t th, uint64_t node, unsigned event, int64_t live,
                      uint64_t limit, uint64_t requested, uint64_t tag, uint64_t asset)
{
	uint64_t w[6] = {(uint64_t)live, limit, requested, tag, asset, 0};

	put(f, th, gm_rec_budget_violation, 3, node, event, w, 3);
}

static void evict(feed_t *f, uint32_t th, uint64_t asset, uint64_t node, unsigned why,
                  int64_t reclaimed, uint64_t ns, uint64_t held)
{
	uint64_t w[4] = {why, (uint64_t)reclaimed, ns, held};

	put(f, th, gm_rec_budget_evict, 2, asset, node, w, 2);
}

static void valid(feed_t *f, uint32_t th, unsigned code, uint64_t subject, uint64_t detail)
{
	put(f, th, gm_rec_validation, code, subject, detail, NULL, 0);
}

static void tag_def(feed_t *f, uint64_t id, const char *name)
{
	uint64_t w[16];
	size_t len = strlen(name);

	memset(w, 0, sizeof(w));
	memcpy(w, name, len);
	put(f, 0, gm_rec_tag_def, (uint32_t)(len + 15) / 16, id, len, w, (uint32_t)(len + 15) / 16);
}

static void asset_new(feed_t *f, uint64_t id, const char *name, const char *type)
{
	uint64_t w[16];
	size_t nl = strlen(name), tl = strlen(type);
	uint32_t units = (uint32_t)(nl + 1 + tl + 15) / 16;

	memset(w, 0, sizeof(w));
	memcpy(w, name, nl);
	memcpy((char *)w + nl + 1, type, tl);
	put(f, 0, gm_rec_asset_new, units, id, nl | tl << 16, w, units);
}

static void finish(feed_t *f, int want)
{
	cr_assert_eq(gm_budgets_finish(f->m), want, "gm_budgets_finish");
}

static const gm_budgets_node_t *node_named(const gm_budgets_t *m, const char *name)
{
	size_t n;
	const gm_budgets_node_t *nodes = gm_budgets_nodes(m, &n);
	uint32_t i = gm_budgets_find(m, name);

	cr_assert_neq(i, GM_BUDGETS_NONE, "no node named %s", name);
	cr_assert_lt(i, n);
	return &nodes[i];
}

/* ---- nodes ------------------------------------------------------------------- */

Test(budgets, last_definition_wins_and_nodes_come_in_tree_order)
{
	feed_t f = feed_new(NULL);
	const gm_budgets_node_t *nodes, *t;
	const uint32_t *tree;
	static const char *const order[] = {"total", "textures", "audio", "ui", "hud", NULL};
	static const uint32_t depth[] = {0, 1, 1, 0, 1, 0};
	size_t n, k;

	node_def(&f, 1, ROOT, 0, 0, gm_budget_lru, 0, "total");
	node_def(&f, 2, 1, 8 * MiB, 16 * MiB, gm_budget_lru, 0, "textures");
	node_def(&f, 3, 1, MiB, 2 * MiB, gm_budget_lru, 0, "audio");
	node_def(&f, 4, 5, 0, MiB, gm_budget_lru, 0, "hud"); /* its parent comes later */
	node_def(&f, 5, ROOT, 0, 4 * MiB, gm_budget_lru, 0, "ui");
	frame(&f);
	node_full(&f, 2, 1, 8 * MiB, 16 * MiB, 6 * MiB, 16 * MiB, gm_budget_largest, 1, "textures");
	bframe(&f, 1, 9, 5, 5); /* a node never defined */
	finish(&f, 0);

	nodes = gm_budgets_nodes(f.m, &n);
	tree = gm_budgets_tree(f.m, &k);
	cr_assert_eq(n, 6, "five nodes defined and one placeholder");
	cr_assert_eq(k, 6);
	for (k = 0; k < n; k++) {
		cr_expect_eq(nodes[tree[k]].depth, depth[k], "depth of tree entry %zu", k);
		if (order[k])
			cr_expect_str_eq(nodes[tree[k]].name, order[k], "tree entry %zu", k);
		else
			cr_expect_null(nodes[tree[k]].name, "the placeholder is unnamed");
	}
	cr_expect_eq(nodes[tree[5]].id, 9);
	t = node_named(f.m, "textures");
	cr_expect_eq(t->definitions, 2);
	cr_expect_eq(t->policy, gm_budget_largest, "the second definition's policy");
	cr_expect_eq(t->strict, 1);
	cr_expect_eq(t->target, 6 * MiB);
	cr_expect_eq(t->soft, 8 * MiB);
	cr_expect_eq(t->defined_frame, 1, "the first definition's frame");
	cr_expect_eq(t->defined_ns, 2000);
	cr_expect_eq(nodes[t->parent].id, 1);
	cr_expect_eq(node_named(f.m, "hud")->parent_id, 5);
	gm_budgets_free(f.m);
}

Test(budgets, a_parent_chain_that_loops_is_cut)
{
	feed_t f = feed_new(NULL);
	size_t n;

	node_def(&f, 1, 2, 0, MiB, gm_budget_lru, 0, "a");
	node_def(&f, 2, 1, 0, MiB, gm_budget_lru, 0, "b");
	node_def(&f, 3, 3, 0, MiB, gm_budget_lru, 0, "self");
	finish(&f, 0);
	gm_budgets_tree(f.m, &n);
	cr_expect_eq(n, 3, "every node is in the tree once");
	cr_expect_eq(node_named(f.m, "a")->parent, GM_BUDGETS_NONE, "the loop is cut at a");
	cr_expect_eq(node_named(f.m, "b")->depth, 1);
	cr_expect_eq(node_named(f.m, "self")->parent_id, 0, "its own parent: a root");
	gm_budgets_free(f.m);
}

/* ---- series -------------------------------------------------------------------- */

Test(budgets, the_series_gives_min_mean_peak_and_time_over_the_limits)
{
	feed_t f = feed_new(NULL);
	const gm_budgets_node_t *b;

	f.ns = 10000;
	node_def(&f, 1, ROOT, 100, 200, gm_budget_lru, 0, "n"); /* at 10000 */
	f.ns = 20000;
	bframe(&f, 1, 1, 50, 60); /* frame 1: 10000 ns since the definition */
	f.ns = 30000;
	bframe(&f, 2, 1, 120, 150); /* over soft for 10000 ns */
	f.ns = 45000;
	bframe(&f, 3, 1, 90, 250); /* over soft and hard, 15000 ns */
	f.ns = 50000;
	bframe(&f, 4, 1, 80, 80);
	f.ns = 60000;
	bframe(&f, 5, 1, 100, 100); /* at the soft limit is not over it */
	finish(&f, 0);

	b = node_named(f.m, "n");
	cr_assert_eq(b->npoints, 5);
	cr_expect_eq(b->series[2].frame, 3);
	cr_expect_eq(b->series[2].live, 90);
	cr_expect_eq(b->series[2].peak, 250);
	cr_expect_eq(b->live_min, 50);
	cr_expect_eq(b->live_mean, 88.0, "(50 + 120 + 90 + 80 + 100) / 5, got %f", b->live_mean);
	cr_expect_eq(b->peak, 250);
	cr_expect_eq(b->peak_frame, 3);
	cr_expect_eq(b->peak_ns, 45000, "the time of the peak frame's record");
	cr_expect_eq(b->live_end, 100);
	cr_expect_eq(b->frames_over_soft, 2);
	cr_expect_eq(b->over_soft_ns, 25000);
	cr_expect_eq(b->frames_over_hard, 1);
	gm_budgets_free(f.m);
}

Test(budgets, a_peak_reached_again_keeps_its_first_frame)
{
	feed_t f = feed_new(NULL);
	const gm_budgets_node_t *b;

	node_def(&f, 1, ROOT, 0, 0, gm_budget_lru, 0, "n");
	bframe(&f, 1, 1, 10, 70);
	bframe(&f, 2, 1, -4, 70); /* a counter can dip below zero */
	finish(&f, 0);
	b = node_named(f.m, "n");
	cr_expect_eq(b->peak_frame, 1);
	cr_expect_eq(b->live_min, -4);
	cr_expect_eq(b->frames_over_soft, 0, "no soft limit: never over it");
	cr_expect_eq(b->frames_over_hard, 0);
	gm_budgets_free(f.m);
}

/* ---- frames of events -------------------------------------------------------------- */

Test(budgets, events_at_a_frame_end_belong_to_the_frame_that_ended)
{
	feed_t f = feed_new(NULL);
	const gm_budgets_violation_t *v;
	const gm_budgets_evict_t *e;
	const gm_budgets_valid_t *val;
	size_t nv, ne, nval;

	node_def(&f, 1, ROOT, 100, 200, gm_budget_lru, 0, "n");
	frame(&f); /* mark 1: the frame-end pass follows on thread 0 */
	violation(&f, 0, 1, gm_budget_over_soft, 150, 100, 0, 0, 0);
	evict(&f, 0, 7, 1, gm_budget_over_soft, 0, 10, 40);
	valid(&f, 0, gm_valid_evictor_no_progress, 7, 40); /* right after: frame 1 */
	valid(&f, 0, gm_valid_no_evictor, 1, 5);           /* the same pass's run: frame 1 */
	valid(&f, 0, gm_valid_no_evictor, 1, 6);
	valid(&f, 1, gm_valid_no_evictor, 1, 8); /* another thread: frame 2 */
	bframe(&f, 1, 1, 150, 150);
	valid(&f, 0, gm_valid_no_evictor, 1, 8); /* after a budget_frame: frame 2 */
	violation(&f, 0, 1, gm_budget_over_hard, 190, 200, 20, 0, 0);
	evict(&f, 0, 8, 1, gm_budget_over_hard, 20, 10, 20);
	valid(&f, 0, gm_valid_evictor_no_progress, 8, 20);
	finish(&f, 0);

	v = gm_budgets_violations(f.m, &nv);
	e = gm_budgets_evictions(f.m, &ne);
	val = gm_budgets_valids(f.m, &nval);
	cr_assert_eq(nv, 2);
	cr_assert_eq(ne, 2);
	cr_assert_eq(nval, 6);
	cr_expect_eq(v[0].frame, 1, "over_soft: at the end of frame 1");
	cr_expect_eq(e[0].frame, 1, "its eviction too");
	cr_expect_eq(val[0].frame, 1, "and the validation right after it");
	cr_expect_eq(val[1].frame, 1, "and every validation of the pass after that one");
	cr_expect_eq(val[2].frame, 1);
	cr_expect_eq(val[3].frame, 2, "another thread's validation is in the next frame");
	cr_expect_eq(val[4].frame, 2);
	cr_expect_eq(v[1].frame, 2, "over_hard: inside an allocation of frame 2");
	cr_expect_eq(e[1].frame, 2);
	cr_expect_eq(val[5].frame, 2);
	gm_budgets_free(f.m);
}

/* ---- violations ------------------------------------------------------------------------- */

Test(budgets, violations_name_what_was_allocating_and_count_failures)
{
	feed_t f = feed_new(NULL);
	const gm_budgets_violation_t *v;
	const gm_budgets_node_t *a, *s;
	size_t n;

	tag_def(&f, 7, "audio/music");
	asset_new(&f, 42, "boom", "sound");
	node_def(&f, 1, ROOT, 0, 4 * MiB, gm_budget_lru, 0, "audio");
	node_def(&f, 2, ROOT, 0, 4 * MiB, gm_budget_lru, 0, "soft");
	violation(&f, 0, 1, gm_budget_heap_full, MiB, 4 * MiB, MiB, 7, 42); /* soft then */
	node_def(&f, 1, ROOT, 0, 4 * MiB, gm_budget_lru, 1, "audio");       /* now strict */
	violation(&f, 0, 1, gm_budget_heap_full, MiB, 4 * MiB, MiB, 7, 42);
	violation(&f, 0, 1, gm_budget_failed, 4 * MiB, 4 * MiB, MiB, 7, 0);
	violation(&f, 0, 2, gm_budget_over_hard, 4 * MiB - 1, 4 * MiB, 2, 99, 0);
	violation(&f, 0, 2, gm_budget_heap_full, MiB, 4 * MiB, MiB, 0, 0);
	finish(&f, 0);

	v = gm_budgets_violations(f.m, &n);
	cr_assert_eq(n, 5);
	cr_expect_eq(v[0].failure, 0, "heap_full on a node in soft mode is served elsewhere");
	cr_expect_eq(v[1].failure, 1, "heap_full on a strict node fails the allocation");
	cr_expect_eq(v[2].failure, 1, "failed");
	cr_expect_eq(v[3].failure, 0, "over_hard in soft mode goes on");
	cr_expect_eq(v[3].live, 4 * MiB - 1);
	cr_expect_eq(v[3].requested, 2);
	cr_expect_str_eq(gm_budgets_tag_name(f.m, v[0].tag), "audio/music");
	cr_expect_null(gm_budgets_tag_name(f.m, v[3].tag), "tag 99 was never defined");
	cr_expect_str_eq(gm_budgets_asset_name(f.m, v[0].asset), "boom");
	cr_expect_str_eq(gm_budgets_asset_type(f.m, v[0].asset), "sound");
	cr_expect_null(gm_budgets_asset_name(f.m, 0));
	a = node_named(f.m, "audio");
	s = node_named(f.m, "soft");
	cr_expect_eq(a->violations[gm_budget_heap_full], 2);
	cr_expect_eq(a->violations[gm_budget_failed], 1);
	cr_expect_eq(a->failed, 2);
	cr_expect_eq(s->violations[gm_budget_over_hard], 1);
	cr_expect_eq(s->failed, 0);
	cr_expect_eq(gm_budgets_totals(f.m)->failed, 2);
	cr_expect_eq(gm_budgets_totals(f.m)->violations[gm_budget_heap_full], 3);
	gm_budgets_free(f.m);
}

/* ---- evictions ------------------------------------------------------------------------- */

Test(budgets, an_unload_is_leaky_below_90_percent_of_what_the_asset_held)
{
	static const struct {
		uint64_t held;
		int64_t reclaimed;
		uint32_t leaky;
	} cases[] = {
	        {1000, 900, 0}, {1000, 899, 1}, {15, 14, 0},   {15, 13, 1},   {0, 0, 0},
	        {0, -1, 1},     {100, -5, 1},   {100, 100, 0}, {100, 150, 0}, {10 * MiB, 0, 1},
	};
	size_t n = sizeof(cases) / sizeof(cases[0]), i, ne;
	feed_t f = feed_new(NULL);
	const gm_budgets_evict_t *e;
	const gm_budgets_node_t *b;
	uint32_t nleaky = 0;
	int64_t sum = 0;

	asset_new(&f, 3, "hero", "texture");
	node_def(&f, 1, ROOT, 0, 0, gm_budget_lru, 0, "n");
	for (i = 0; i < n; i++) {
		evict(&f, 0, 3, 1, gm_budget_heap_full, cases[i].reclaimed, 100 + i, cases[i].held);
		nleaky += cases[i].leaky;
		sum += cases[i].reclaimed;
	}
	finish(&f, 0);
	e = gm_budgets_evictions(f.m, &ne);
	cr_assert_eq(ne, n);
	for (i = 0; i < n; i++)
		cr_expect_eq(e[i].leaky, cases[i].leaky, "reclaimed %lld of %llu held",
		             (long long)cases[i].reclaimed, (unsigned long long)cases[i].held);
	cr_expect_eq(e[0].duration_ns, 100);
	cr_expect_eq(e[0].event, gm_budget_heap_full);
	cr_expect_eq(e[0].asset, 3);
	b = node_named(f.m, "n");
	cr_expect_eq(b->evictions, n);
	cr_expect_eq(b->leaky, nleaky);
	cr_expect_eq(b->reclaimed, sum);
	cr_expect_eq(b->eviction_ns, 100 * n + n * (n - 1) / 2);
	gm_budgets_free(f.m);
}

/* ---- validations ------------------------------------------------------------------------ */

Test(budgets, only_budget_validations_are_kept_with_their_node_and_asset)
{
	feed_t f = feed_new(NULL);
	const gm_budgets_valid_t *v;
	size_t n;

	node_def(&f, 1, ROOT, 0, 0, gm_budget_lru, 0, "a");
	node_def(&f, 2, ROOT, 0, 0, gm_budget_lru, 0, "b");
	valid(&f, 0, gm_valid_unknown_asset, 5, 0);
	valid(&f, 0, gm_valid_unknown_tag, 5, 0);
	evict(&f, 0, 5, 2, gm_budget_heap_full, 0, 1, 64);
	valid(&f, 0, gm_valid_evictor_no_progress, 5, 64);
	valid(&f, 0, gm_valid_no_evictor, 1, 6);
	valid(&f, 0, gm_valid_unknown_node, 99, 0);
	valid(&f, 0, gm_valid_evictor_no_progress, 77, 1); /* never evicted */
	finish(&f, 0);

	v = gm_budgets_valids(f.m, &n);
	cr_assert_eq(n, 4, "codes 14..16 only");
	cr_expect_eq(v[0].code, gm_valid_evictor_no_progress);
	cr_expect_eq(v[0].node, gm_budgets_find(f.m, "b"), "the node of its last eviction");
	cr_expect_eq(v[0].asset, 5);
	cr_expect_eq(v[0].detail, 64);
	cr_expect_eq(v[1].code, gm_valid_no_evictor);
	cr_expect_eq(v[1].node, gm_budgets_find(f.m, "a"), "the subject is the node");
	cr_expect_eq(v[1].asset, 6, "the detail is the asset");
	cr_expect_eq(v[2].code, gm_valid_unknown_node);
	cr_expect_eq(v[2].node, GM_BUDGETS_NONE);
	cr_expect_eq(v[2].subject, 99);
	cr_expect_eq(v[3].node, GM_BUDGETS_NONE);
	cr_expect_str_eq(gm_budgets_valid_name(v[0].code), "evictor_no_progress");
	cr_expect_str_eq(gm_budgets_valid_name(gm_valid_unknown_node), "unknown_node");
	cr_expect_str_eq(gm_budgets_valid_name(gm_valid_no_evictor), "no_evictor");
	cr_expect_str_eq(gm_budgets_valid_name(gm_valid_unknown_tag), "unknown");
	cr_expect_eq(gm_budgets_totals(f.m)->validations, 4);
	gm_budgets_free(f.m);
}

/* ---- frame range and node filter ---------------------------------------------------------- */

Test(budgets, a_frame_range_keeps_only_its_frames)
{
	gm_budgets_opts_t o;
	feed_t f;
	const gm_budgets_node_t *b;
	size_t nv, ne;
	uint64_t i;

	gm_budgets_opts_default(&o);
	o.from = 2;
	o.to = 3;
	f = feed_new(&o);
	f.step = 100;
	node_def(&f, 1, ROOT, 10, 20, gm_budget_lru, 0, "n"); /* frame 1: still applies */
	for (i = 1; i <= 4; i++) {
		violation(&f, 0, 1, gm_budget_over_hard, 30, 20, 1, 0, 0); /* frame i */
		evict(&f, 0, 1, 1, gm_budget_over_hard, 1, 5, 1);
		frame(&f);
		bframe(&f, i, 1, 11, 15);
	}
	finish(&f, 0);
	b = node_named(f.m, "n");
	cr_assert_eq(b->npoints, 2);
	cr_expect_eq(b->series[0].frame, 2);
	cr_expect_eq(b->series[1].frame, 3);
	cr_expect_eq(b->frames_over_soft, 2);
	cr_expect_eq(b->over_soft_ns, 800, "each frame's span, measured from the last record");
	gm_budgets_violations(f.m, &nv);
	gm_budgets_evictions(f.m, &ne);
	cr_expect_eq(nv, 2);
	cr_expect_eq(ne, 2);
	cr_expect_eq(b->violations[gm_budget_over_hard], 2);
	cr_expect_eq(gm_budgets_violations(f.m, &nv)[0].frame, 2);
	gm_budgets_free(f.m);
}

Test(budgets, a_node_filter_shows_that_node_and_the_nodes_below_it)
{
	gm_budgets_opts_t o;
	feed_t f;
	const gm_budgets_totals_t *t;
	const gm_budgets_valid_t *v;
	size_t n;

	gm_budgets_opts_default(&o);
	o.node = "tex";
	f = feed_new(&o);
	node_def(&f, 1, ROOT, 0, 0, gm_budget_lru, 0, "total");
	node_def(&f, 2, 1, 0, MiB, gm_budget_lru, 0, "tex");
	node_def(&f, 3, 2, 0, MiB, gm_budget_lru, 0, "tex_hi");
	node_def(&f, 4, 1, 0, MiB, gm_budget_lru, 0, "audio");
	violation(&f, 0, 3, gm_budget_over_hard, MiB, MiB, 1, 0, 0);
	violation(&f, 0, 4, gm_budget_over_hard, MiB, MiB, 1, 0, 0);
	violation(&f, 0, 1, gm_budget_over_soft, MiB, MiB, 0, 0, 0);
	valid(&f, 0, gm_valid_no_evictor, 4, 1);
	valid(&f, 0, gm_valid_unknown_node, 0, 0);
	finish(&f, 0);

	cr_expect_eq(node_named(f.m, "total")->shown, 0);
	cr_expect_eq(node_named(f.m, "tex")->shown, 1);
	cr_expect_eq(node_named(f.m, "tex_hi")->shown, 1);
	cr_expect_eq(node_named(f.m, "audio")->shown, 0);
	t = gm_budgets_totals(f.m);
	cr_expect_eq(t->nodes, 2);
	cr_expect_eq(t->violations[gm_budget_over_hard], 1, "audio's is left out");
	cr_expect_eq(t->violations[gm_budget_over_soft], 0);
	cr_expect_eq(t->validations, 1, "unknown_node names no node: always shown");
	v = gm_budgets_valids(f.m, &n);
	cr_assert_eq(n, 2);
	cr_expect_eq(gm_budgets_valid_shown(f.m, &v[0]), 0);
	cr_expect_eq(gm_budgets_valid_shown(f.m, &v[1]), 1);
	gm_budgets_free(f.m);
}

Test(budgets, a_node_filter_naming_no_node_shows_everything_and_says_so)
{
	gm_budgets_opts_t o;
	feed_t f;

	gm_budgets_opts_default(&o);
	o.node = "nope";
	f = feed_new(&o);
	node_def(&f, 1, ROOT, 0, 0, gm_budget_lru, 0, "total");
	finish(&f, -ENOENT);
	cr_expect_eq(node_named(f.m, "total")->shown, 1);
	cr_expect_eq(gm_budgets_totals(f.m)->nodes, 1);
	gm_budgets_free(f.m);
}

/* ---- through a capture file ---------------------------------------------------------- */

/* A small game: "world" (soft 3 MiB, hard 4 MiB) over "ui", three frames.
 * with_hard adds an over_hard violation on world in frame 3. */
static void cap_game(const char *path, int with_hard)
{
	static recs_t r;
	uint64_t w[16];
	char text[] = "panel\0texture";

	memset(&r, 0, sizeof(r));
	memset(w, 0, sizeof(w));
	memcpy(w, "ui/hud", 6);
	rec(&r, 100, gm_rec_tag_def, 1, 5, 6, w, 2);
	memset(w, 0, sizeof(w));
	memcpy(w, text, sizeof(text) - 1);
	rec(&r, 110, gm_rec_asset_new, 1, 9, 5 | 7 << 16, w, 2);
	memset(w, 0, sizeof(w));
	w[0] = ROOT;
	w[1] = 3 * MiB;
	w[2] = 4 * MiB;
	w[3] = 3 * MiB;
	w[4] = gm_budget_lru;
	w[5] = 4 * MiB;
	memcpy(w + 6, "world", 5);
	rec(&r, 120, gm_rec_budget_node, 4, 1, 5, w, 8);
	w[0] = 1;
	w[1] = 0;
	w[2] = 8 * MiB;
	w[3] = 0;
	w[4] = gm_budget_lru | 1 << 8;
	w[5] = 8 * MiB;
	memset(w + 6, 0, 16);
	memcpy(w + 6, "ui", 2);
	rec(&r, 130, gm_rec_budget_node, 4, 2, 2, w, 8);
	/* frame 1 */
	rec(&r, 1000, gm_rec_frame, 0, 1, 0, NULL, 0);
	w[0] = 2 * MiB;
	w[1] = 2 * MiB;
	rec(&r, 1010, gm_rec_budget_frame, 1, 1, 1, w, 2);
	rec(&r, 1020, gm_rec_budget_frame, 1, 1, 2, w, 2);
	/* frame 2 ends over soft: a violation, an eviction of the panel */
	rec(&r, 2000, gm_rec_frame, 0, 2, 0, NULL, 0);
	w[0] = 3 * MiB + 1;
	w[1] = 3 * MiB;
	w[2] = 0;
	w[3] = 0;
	w[4] = 0;
	w[5] = 0;
	rec(&r, 2010, gm_rec_budget_violation, 3, 1, gm_budget_over_soft, w, 6);
	w[0] = gm_budget_over_soft;
	w[1] = MiB / 2;
	w[2] = 700;
	w[3] = MiB;
	rec(&r, 2020, gm_rec_budget_evict, 2, 9, 1, w, 4);
	w[0] = 5 * MiB / 2 + 1;
	w[1] = 3 * MiB + 1;
	rec(&r, 2030, gm_rec_budget_frame, 1, 2, 1, w, 2);
	rec(&r, 2040, gm_rec_budget_frame, 1, 2, 2, w, 2);
	if (with_hard) {
		w[0] = 4 * MiB - 10;
		w[1] = 4 * MiB;
		w[2] = 64;
		w[3] = 5;
		w[4] = 0;
		w[5] = 0;
		rec(&r, 2500, gm_rec_budget_violation, 3, 1, gm_budget_over_hard, w, 6);
	}
	rec(&r, 3000, gm_rec_frame, 0, 3, 0, NULL, 0);
	w[0] = 4 * MiB;
	w[1] = 4 * MiB + 54;
	rec(&r, 3010, gm_rec_budget_frame, 1, 3, 1, w, 2);
	rec(&r, 3020, gm_rec_budget_frame, 1, 3, 2, w, 2);
	cap_write_recs(path, &r, 1, 1000000000);
}

Test(budgets, a_capture_read_through_the_reader)
{
	char path[128];
	gm_reader_t *rd;
	gm_budgets_t *m;
	const gm_budgets_node_t *world, *ui;
	const gm_budgets_violation_t *v;
	const gm_budgets_evict_t *e;
	size_t n;
	int err;

	snprintf(path, sizeof(path), "/tmp/gm_test_budgets.%ld.gmt", (long)getpid());
	cap_game(path, 1);
	rd = gm_reader_open(path, (char[256]){0}, 256);
	cr_assert_not_null(rd, "opening %s", path);
	m = gm_budgets_build(rd, NULL, &err);
	cr_assert_not_null(m, "gm_budgets_build: %d", err);
	cr_expect_eq(err, 0);
	cr_expect_null(gm_reader_error(rd), "%s", gm_reader_error(rd));

	world = node_named(m, "world");
	ui = node_named(m, "ui");
	cr_expect_eq(ui->depth, 1);
	cr_expect_eq(ui->strict, 1);
	cr_expect_eq(ui->capacity, 8 * MiB);
	cr_expect_eq(world->npoints, 3);
	cr_expect_eq(world->peak, 4 * MiB + 54);
	cr_expect_eq(world->peak_frame, 3);
	cr_expect_eq(world->frames_over_soft, 2, "frames 2 and 3 peaked over 3 MiB");
	cr_expect_eq(world->over_soft_ns, (2030 - 1010) + (3010 - 2030));
	cr_expect_eq(world->frames_over_hard, 1);
	v = gm_budgets_violations(m, &n);
	cr_assert_eq(n, 2);
	cr_expect_eq(v[0].frame, 2, "over_soft at the end of frame 2");
	cr_expect_eq(v[0].live - (int64_t)v[0].limit, 1);
	cr_expect_eq(v[1].frame, 3, "over_hard inside frame 3");
	cr_expect_str_eq(gm_budgets_tag_name(m, v[1].tag), "ui/hud");
	e = gm_budgets_evictions(m, &n);
	cr_assert_eq(n, 1);
	cr_expect_eq(e->frame, 2);
	cr_expect_eq(e->leaky, 1, "half of what it held");
	cr_expect_str_eq(gm_budgets_asset_name(m, e->asset), "panel");
	cr_expect_str_eq(gm_budgets_asset_type(m, e->asset), "texture");
	cr_expect_eq(gm_budgets_frames(m), 3);
	gm_budgets_free(m);
	gm_reader_free(rd);
	unlink(path);
}

/* ---- the command ----------------------------------------------------------------------- */

/* Runs gmtrace budgets with args (CAPTURE last) and stdout in a file;
 * returns the exit status and, in out, the first bytes of what it printed. */
static int run_cmd(const char *const *args, int nargs, char *out, size_t outlen)
{
	static char err[1 << 12];
	return gm_test_cmd_into(gm_cmd_budgets, "budgets", "/tmp", NULL, nargs, args, out, outlen,
	                        err, sizeof(err));
}

Test(budgets, check_fails_only_on_hard_limit_violations)
{
	static char out[1 << 16];
	char soft[128], hard[128];
	const char *a1[] = {"--check", soft};
	const char *a2[] = {"--check", hard};
	const char *a3[] = {"--check", "--json", hard};
	const char *a4[] = {"--check", "--from", "1", "--to", "2", hard};
	const char *a5[] = {"--node", "nope", hard};
	const char *a6[] = {"--csv", "--json", hard};
	const char *a7[] = {"--csv", hard};

	snprintf(soft, sizeof(soft), "/tmp/gm_test_budgets_soft.%ld.gmt", (long)getpid());
	snprintf(hard, sizeof(hard), "/tmp/gm_test_budgets_hard.%ld.gmt", (long)getpid());
	cap_game(soft, 0);
	cap_game(hard, 1);
	cr_expect_eq(run_cmd(a1, 2, out, sizeof(out)), GM_CMD_OK, "over_soft only: %s", out);
	cr_expect(strstr(out, "check     passed"), "%s", out);
	cr_expect_eq(run_cmd(a2, 2, out, sizeof(out)), GM_CMD_FAIL, "an over_hard violation");
	cr_expect(strstr(out, "\"panel\""), "the eviction's asset is named: %s", out);
	cr_expect_eq(run_cmd(a3, 3, out, sizeof(out)), GM_CMD_FAIL);
	cr_expect(strstr(out, "\"passed\": false"), "%s", out);
	cr_expect(strstr(out, "\"over_hard\": 1"), "%s", out);
	cr_expect_eq(run_cmd(a4, 6, out, sizeof(out)), GM_CMD_OK, "the over_hard is in frame 3");
	cr_expect_eq(run_cmd(a5, 3, out, sizeof(out)), GM_CMD_USAGE, "no node named nope");
	cr_expect_eq(run_cmd(a6, 3, out, sizeof(out)), GM_CMD_USAGE);
	cr_expect_eq(run_cmd(a7, 2, out, sizeof(out)), GM_CMD_OK);
	cr_expect(strstr(out, "# evictions\n"), "%s", out);
	cr_expect(strstr(out, "world,1,over_hard,3,"), "%s", out);
	unlink(soft);
	unlink(hard);
}

/* ---- records a damaged or hand-fed capture can hold ------------------------------- */

/* The reader delivers only whole records, but a fed event may claim more than
 * it carries: the model must not read past it. */
Test(budgets, records_too_short_for_what_they_claim_are_skipped)
{
	feed_t f = feed_new(NULL);
	uint64_t w[16];
	size_t n;

	memset(w, 0, sizeof(w));
	w[0] = ROOT;
	memcpy(w + 6, "abcdefgh", 8);
	put(&f, 0, gm_rec_budget_node, 2, 1, 8, w, 2);  /* fewer than 3 units */
	put(&f, 0, gm_rec_budget_node, 3, 1, 17, w, 3); /* name of 17 bytes in 0 */
	put(&f, 0, gm_rec_budget_frame, 0, 1, 1, w, 0); /* no live/peak words */
	put(&f, 0, gm_rec_budget_violation, 2, 1, gm_budget_over_hard, w, 2);
	put(&f, 0, gm_rec_budget_evict, 1, 5, 1, w, 1);
	put(&f, 0, gm_rec_tag_def, 1, 3, 17, w, 1);                    /* 17 bytes in 16 */
	put(&f, 0, gm_rec_asset_new, 1, 4, 10 | 6 << 16, w, 1);        /* 10 + 1 + 6 > 16 */
	put(&f, 0, gm_rec_frame, 1, 1, 0, NULL, 0);                    /* a set's mark, not main */
	put(&f, 0, gm_rec_alloc, gm_kind_malloc, 0x1000, 64, NULL, 0); /* not ours */
	finish(&f, 0);

	gm_budgets_nodes(f.m, &n);
	cr_expect_eq(n, 0, "no node made from a short record");
	gm_budgets_violations(f.m, &n);
	cr_expect_eq(n, 0);
	gm_budgets_evictions(f.m, &n);
	cr_expect_eq(n, 0);
	cr_expect_null(gm_budgets_tag_name(f.m, 3));
	cr_expect_null(gm_budgets_asset_name(f.m, 4));
	cr_expect_eq(gm_budgets_frames(f.m), 0, "only main frame marks count");
	gm_budgets_tree(f.m, &n);
	cr_expect_eq(n, 0, "an empty tree");
	cr_expect_eq(gm_budgets_totals(f.m)->nodes, 0);
	gm_budgets_free(f.m);
}

Test(budgets, names_stop_at_a_nul_and_the_last_tag_definition_wins)
{
	feed_t f = feed_new(NULL);
	uint64_t w[16];

	memset(w, 0, sizeof(w));
	w[0] = ROOT;
	memcpy(w + 6, "ab\0junk", 7);
	put(&f, 0, gm_rec_budget_node, 4, 1, 16, w, 4); /* 16 name bytes, a NUL after 2 */
	tag_def(&f, 3, "old");
	tag_def(&f, 3, "render/new");
	finish(&f, 0);
	cr_expect_eq(gm_budgets_find(f.m, "ab"), 0, "the name is cut at its NUL");
	cr_expect_str_eq(gm_budgets_tag_name(f.m, 3), "render/new");
	cr_expect_null(gm_budgets_tag_name(f.m, 0), "tag 0 is no tag");
	gm_budgets_free(f.m);
}

Test(budgets, unknown_event_codes_are_kept_but_counted_nowhere)
{
	feed_t f = feed_new(NULL);
	const gm_budgets_violation_t *v;
	const gm_budgets_evict_t *e;
	const gm_budgets_node_t *b;
	size_t n;
	unsigned k;

	node_def(&f, 1, ROOT, 0, MiB, gm_budget_lru, 0, "n");
	violation(&f, 0, 1, 9, MiB, MiB, 1, 0, 0);
	evict(&f, 0, 4, 1, 7, 10, 1, 10);
	finish(&f, 0);
	v = gm_budgets_violations(f.m, &n);
	cr_assert_eq(n, 1);
	cr_expect_eq(v[0].event, gm_budget_event_count);
	cr_expect_str_eq(gm_budgets_event_name(v[0].event), "unknown");
	cr_expect_eq(v[0].failure, 0);
	e = gm_budgets_evictions(f.m, &n);
	cr_assert_eq(n, 1);
	cr_expect_eq(e[0].event, gm_budget_event_count);
	b = node_named(f.m, "n");
	for (k = 0; k < gm_budget_event_count; k++)
		cr_expect_eq(b->violations[k], 0, "event %u", k);
	cr_expect_eq(b->evictions, 1, "the eviction itself counts");
	cr_expect_str_eq(gm_budgets_policy_name(gm_budget_priority), "priority");
	cr_expect_str_eq(gm_budgets_policy_name(gm_budget_policy_count), "unknown");
	cr_expect_str_eq(gm_budgets_event_name(gm_budget_heap_full), "heap_full");
	gm_budgets_free(f.m);
}

Test(budgets, a_node_seen_before_its_definition_measures_time_from_its_first_point)
{
	feed_t f = feed_new(NULL);
	const gm_budgets_node_t *b;

	f.ns = 2000;
	bframe(&f, 1, 1, 10, 10); /* a placeholder, at 2000 */
	f.ns = 3000;
	node_def(&f, 1, ROOT, 100, 0, gm_budget_lru, 0, "late");
	f.ns = 5000;
	bframe(&f, 2, 1, 150, 150); /* over soft: 3000 ns since the point at 2000 */
	f.ns = 4000;
	bframe(&f, 3, 1, 120, 120); /* a clock that stepped back: no time over */
	f.ns = 1500;
	put(&f, 1, gm_rec_alloc, gm_kind_malloc, 0x10, 8, NULL, 0); /* another thread, earlier */
	finish(&f, 0);
	b = node_named(f.m, "late");
	cr_expect_eq(b->defined_ns, 3000);
	cr_expect_eq(b->frames_over_soft, 2);
	cr_expect_eq(b->over_soft_ns, 3000, "from the first point, and 0 for the step back");
	cr_expect_eq(gm_budgets_start_ns(f.m), 1500);
	cr_expect_eq(gm_budgets_duration_ns(f.m), 3500, "the earliest to the latest event");
	gm_budgets_free(f.m);
}

Test(budgets, validations_name_no_node_when_the_record_does_not)
{
	gm_budgets_opts_t o;
	feed_t f;
	const gm_budgets_valid_t *v;
	size_t n;

	gm_budgets_opts_default(&o);
	o.to = 1;
	f = feed_new(&o);
	node_def(&f, 1, ROOT, 0, 0, gm_budget_lru, 0, "n");
	valid(&f, 0, gm_valid_no_evictor, 0, 3);  /* no node id */
	valid(&f, 0, gm_valid_no_evictor, 42, 3); /* a node never defined */
	frame(&f);
	valid(&f, 0, gm_valid_unknown_node, 1, 0); /* frame 2: out of the range */
	finish(&f, 0);
	v = gm_budgets_valids(f.m, &n);
	cr_assert_eq(n, 2);
	cr_expect_eq(v[0].node, GM_BUDGETS_NONE);
	cr_expect_eq(v[1].node, GM_BUDGETS_NONE);
	cr_expect_eq(v[1].subject, 42);
	cr_expect_eq(gm_budgets_valid_shown(f.m, &v[1]), 1);
	gm_budgets_free(f.m);
}

Test(budgets, lookups_before_finish_and_by_no_name_find_nothing)
{
	feed_t f = feed_new(NULL);
	size_t n = 99;

	bframe(&f, 1, 5, 1, 1); /* a placeholder: no name */
	cr_expect_null(gm_budgets_tree(f.m, &n), "no tree before finish");
	cr_expect_eq(n, 0);
	finish(&f, 0);
	cr_expect_eq(gm_budgets_find(f.m, NULL), GM_BUDGETS_NONE);
	cr_expect_eq(gm_budgets_find(f.m, "x"), GM_BUDGETS_NONE, "a placeholder has no name");
	cr_expect_eq(gm_budgets_options(f.m)->to, UINT64_MAX);
	gm_budgets_free(f.m);
	gm_budgets_free(NULL);
}

Test(budgets, hundreds_of_nodes_tags_and_assets_are_each_found_by_id)
{
	feed_t f = feed_new(NULL);
	const gm_budgets_node_t *nodes;
	const gm_budgets_evict_t *e;
	size_t n;
	uint64_t i;
	char name[32], type[32];

	for (i = 1; i <= 300; i++) {
		snprintf(name, sizeof(name), "n%llu", (unsigned long long)i);
		node_def(&f, i * 7919, i == 1 ? ROOT : 7919, 0, i, gm_budget_lru, 0, name);
		snprintf(name, sizeof(name), "tag%llu", (unsigned long long)i);
		tag_def(&f, i * 104729, name);
		snprintf(name, sizeof(name), "a%llu", (unsigned long long)i);
		snprintf(type, sizeof(type), "t%llu", (unsigned long long)i % 3);
		asset_new(&f, i * 1299709, name, type);
	}
	for (i = 1; i <= 300; i++)
		evict(&f, 0, i * 1299709, i * 7919, gm_budget_heap_full, 1, 1, 1);
	finish(&f, 0);
	nodes = gm_budgets_nodes(f.m, &n);
	cr_assert_eq(n, 300);
	e = gm_budgets_evictions(f.m, &n);
	cr_assert_eq(n, 300);
	for (i = 1; i <= 300; i++) {
		snprintf(name, sizeof(name), "n%llu", (unsigned long long)i);
		cr_expect_str_eq(nodes[e[i - 1].node].name, name);
		cr_expect_eq(nodes[i - 1].hard, i);
		cr_expect_eq(nodes[i - 1].depth, i == 1 ? 0 : 1);
		snprintf(name, sizeof(name), "tag%llu", (unsigned long long)i);
		cr_expect_str_eq(gm_budgets_tag_name(f.m, i * 104729), name);
		snprintf(name, sizeof(name), "a%llu", (unsigned long long)i);
		cr_expect_str_eq(gm_budgets_asset_name(f.m, i * 1299709), name);
		snprintf(type, sizeof(type), "t%llu", (unsigned long long)i % 3);
		cr_expect_str_eq(gm_budgets_asset_type(f.m, i * 1299709), type);
	}
	cr_expect_null(gm_budgets_tag_name(f.m, 104729 * 301));
	gm_budgets_free(f.m);
}

/* ---- the command on a capture with every kind of row ------------------------------- */

static void r_node(recs_t *r, uint64_t tsc, uint64_t id, uint64_t parent, uint64_t soft,
                   uint64_t hard, uint64_t cap, unsigned policy, int strict, const char *name)
{
	uint64_t w[6 + 16];
	size_t len = strlen(name);
	unsigned units = 3 + (unsigned)((len + 15) / 16);

	memset(w, 0, sizeof(w));
	w[0] = parent;
	w[1] = soft;
	w[2] = hard;
	w[3] = soft;
	w[4] = policy | (uint64_t)(strict != 0) << 8;
	w[5] = cap;
	memcpy(w + 6, name, len);
	rec(r, tsc, gm_rec_budget_node, units, id, len, w, units * 2);
}

static void r_point(recs_t *r, uint64_t tsc, uint64_t frame_no, uint64_t node, int64_t live,
                    int64_t peak)
{
	uint64_t w[2] = {(uint64_t)live, (uint64_t)peak};

	rec(r, tsc, gm_rec_budget_frame, 1, frame_no, node, w, 2);
}

static void r_viol(recs_t *r, uint64_t tsc, uint64_t node, unsigned event, int64_t live,
                   uint64_t limit, uint64_t req, uint64_t tag, uint64_t asset)
{
	uint64_t w[6] = {(uint64_t)live, limit, req, tag, asset, 0};

	rec(r, tsc, gm_rec_budget_violation, 3, node, event, w, 6);
}

static void r_evict(recs_t *r, uint64_t tsc, uint64_t asset, uint64_t node, int64_t reclaimed,
                    uint64_t held)
{
	uint64_t w[4] = {gm_budget_over_hard, (uint64_t)reclaimed, 500, held};

	rec(r, tsc, gm_rec_budget_evict, 2, asset, node, w, 4);
}

/* world (soft 3 MiB, hard 4 MiB) over ui (strict, hard 8 MiB); quiet, with
 * no limit and no series; node 7, never defined, with a series below zero.
 * 70 frames; world's peak is 5 MiB in frame 70, 0 in frame 1. Then, in
 * frame 71: 12 over_hard on world (tag 5 and asset 9, then an undefined tag
 * 77 and asset 55), a heap_full and a failed on ui; 12 evictions on world
 * (assets 9 and 88, the first three leaky, the last of an asset that held
 * nothing); the five kinds of budget validation. */
static void cap_rich(const char *path)
{
	static recs_t r;
	uint64_t t = 100, k;

	memset(&r, 0, sizeof(r));
	rec_text(&r, t++, gm_rec_tag_def, 5, "ui/hud", NULL);
	rec_text(&r, t++, gm_rec_asset_new, 9, "panel", "texture");
	r_node(&r, t++, 1, ROOT, 3 * MiB, 4 * MiB, 4 * MiB, gm_budget_lru, 0, "world");
	r_node(&r, t++, 2, 1, 0, 8 * MiB, 8 * MiB, gm_budget_lru, 1, "ui");
	r_node(&r, t++, 3, ROOT, 0, 0, 64 * GiB, gm_budget_largest, 0, "quiet");
	for (k = 1; k <= 70; k++) {
		t = 1000 * k;
		rec(&r, t++, gm_rec_frame, 0, k, 0, NULL, 0);
		r_point(&r, t++, k, 1, (int64_t)(k * 1024),
		        k == 70 ? (int64_t)(5 * MiB) : (int64_t)((k - 1) * 1024));
		r_point(&r, t++, k, 7, -5, -5);
		if (k <= 2)
			r_point(&r, t++, k, 2, (int64_t)MiB, (int64_t)(2 * MiB));
	}
	t = 80000;
	for (k = 0; k < 12; k++)
		r_viol(&r, t++, 1, gm_budget_over_hard, (int64_t)(4 * MiB + k), 4 * MiB, 100,
		       k == 0 ? 5 :
		       k == 1 ? 77 :
		                0,
		       k == 0 ? 9 :
		       k == 1 ? 55 :
		                0);
	r_viol(&r, t++, 2, gm_budget_heap_full, (int64_t)MiB, 8 * MiB, MiB, 0, 0);
	r_viol(&r, t++, 2, gm_budget_failed, (int64_t)(8 * MiB), 8 * MiB, 64, 0, 0);
	for (k = 0; k < 12; k++)
		r_evict(&r, t++, k % 2 ? 88 : 9, 1, k < 3 ? 100 : 1024, k == 11 ? 0 : 1024);
	rec(&r, t++, gm_rec_validation, gm_valid_evictor_no_progress, 9, 1024, NULL, 0);
	rec(&r, t++, gm_rec_validation, gm_valid_evictor_no_progress, 66, 1, NULL, 0);
	rec(&r, t++, gm_rec_validation, gm_valid_no_evictor, 2, 9, NULL, 0);
	rec(&r, t++, gm_rec_validation, gm_valid_no_evictor, 0, 44, NULL, 0);
	rec(&r, t++, gm_rec_validation, gm_valid_unknown_node, 99, 0, NULL, 0);
	cap_write_recs(path, &r, 1, 1000000000);
}

/* Runs gmtrace budgets with args; stdout goes to out_path (NULL: a temporary
 * file) and what it printed, cut to outlen, to out; stderr to err. */
static int run_io(const char *const *args, int nargs, const char *out_path, char *out,
                  size_t outlen, char *err, size_t errlen)
{
	return gm_test_cmd_into(gm_cmd_budgets, "budgets", "/tmp", out_path, nargs, args, out,
	                        outlen, err, errlen);
}

static char rich[128];

static void rich_setup(void)
{
	snprintf(rich, sizeof(rich), "/tmp/gm_test_budgets_rich.%ld.gmt", (long)getpid());
	cap_rich(rich);
}

static void rich_teardown(void)
{
	unlink(rich);
}

TestSuite(budgets_cmd, .init = rich_setup, .fini = rich_teardown);

static char out[1 << 18], err[4096];

#define RUN(...)                                                                               \
	run_io((const char *[]){__VA_ARGS__},                                                  \
	       (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), NULL, out, \
	       sizeof(out), err, sizeof(err))

Test(budgets_cmd, the_text_report_shows_every_node_event_and_validation)
{
	cr_assert_eq(RUN(rich), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, ", 70 frames, "), "%s", out);
	cr_expect(strstr(out,
	                 "budgets   4 nodes: 14 violations (0 over_soft, 12 over_hard, 1 failed, "
	                 "1 heap_full), 12 evictions (9.3 KiB reclaimed, 3 leaky), 2 failed "
	                 "allocations, 5 validations\n"),
	          "%s", out);
	cr_expect(strstr(out,
	                 "check     FAILED: 12 over_hard, 1 failed, 1 heap_full that failed an "
	                 "allocation: \"world\" 12 over_hard from frame 71; \"ui\" 1 failed, 1 "
	                 "heap_full from frame 71\n"),
	          "%s", out);
	/* tree order: world, ui below it, quiet, then the placeholder */
	cr_expect(strstr(out, "\nworld (id 1)\n  limits     soft 3.0 MiB, hard 4.0 MiB, target 3.0 "
	                      "MiB, lru, soft mode, heap 4.0 MiB\n"),
	          "%s", out);
	cr_expect(strstr(out, "\n  ui (id 2, under world)\n  limits     soft -, hard 8.0 MiB, "
	                      "target -, lru, strict mode, heap 8.0 MiB\n"),
	          "%s", out);
	cr_expect(strstr(out,
	                 "\nquiet (id 3)\n  limits     soft -, hard -, target -, largest, "
	                 "soft mode, heap 64.0 GiB\n  live       no budget_frame record\n  over "
	                 "soft  - (no soft limit)\n  violations none\n"),
	          "%s", out);
	cr_expect(strstr(out, "\nnode#7 (id 7)\n  limits     unknown (no budget_node record)\n"),
	          "%s", out);
	cr_expect(strstr(out, "  peak per frame, full = 5.0 MiB (peak)\n"),
	          "world's peak is over "
	          "its hard limit: %s",
	          out);
	cr_expect(strstr(out, "  peak per frame, full = 8.0 MiB (hard limit)\n"), "ui: %s", out);
	cr_expect(strstr(out, "  peak per frame, full = 0 B (soft limit)\n"), "node 7: %s", out);
	cr_expect(strstr(out, "  over soft  1 frames, "), "%s", out);
	cr_expect(strstr(out, "  violations 12\n"), "%s", out);
	cr_expect(strstr(out, "      ... 2 more (--json lists every one)\n"), "%s", out);
	cr_expect(strstr(out, "\"ui/hud\" \"panel\"\n"), "tag and asset by name: %s", out);
	cr_expect(strstr(out, "tag#77 #55\n"), "undefined ones by id: %s", out);
	cr_expect(strstr(out, "  evictions  12, 9.3 KiB reclaimed, "), "%s", out);
	cr_expect(strstr(out, "  leaky      3 (reclaimed less than 90 % of what the asset held)\n"),
	          "%s", out);
	cr_expect(strstr(out, "\"panel\" (\"texture\")\n"), "%s", out);
	cr_expect(strstr(out, "  #88\n"), "an unknown asset has no type: %s", out);
	cr_expect(strstr(out, "  failed     2\n"), "ui's heap_full (strict) and failed: %s", out);
	cr_expect(strstr(out,
	                 "node world, asset \"panel\": its evictor reclaimed nothing (the asset "
	                 "held 1.0 KiB)\n"),
	          "%s", out);
	cr_expect(strstr(out, "node -, asset #66: its evictor reclaimed nothing (the asset held 1 "
	                      "B)\n"),
	          "%s", out);
	cr_expect(strstr(out, "node ui: over a limit, evictable asset \"panel\", but no evictor "
	                      "registered\n"),
	          "%s", out);
	cr_expect(strstr(out, "node -: over a limit, evictable asset #44, but no evictor "
	                      "registered\n"),
	          "%s", out);
	cr_expect(strstr(out, "node id 99 (0: by name), detail 0: no such node\n"), "%s", out);
}

Test(budgets_cmd, check_names_the_first_eight_failing_nodes_and_counts_the_rest)
{
	/* ten roots, node i over its hard limit i + 1 times right after frame
	 * mark i + 1 (in frame i + 2: frame 1 is the one before the first
	 * mark), and one more whose
	 * only violation is over its soft limit: --check names eight of the
	 * ten in tree order and counts two more */
	static recs_t r;
	char path[128], name[8];
	uint64_t t = 100, i, k;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < 11; i++) {
		snprintf(name, sizeof(name), "n%llu", (unsigned long long)i);
		r_node(&r, t++, 1 + i, ROOT, MiB, 2 * MiB, 2 * MiB, gm_budget_lru, 0, name);
	}
	for (i = 0; i < 10; i++) {
		rec(&r, t++, gm_rec_frame, 0, i + 1, 0, NULL, 0);
		for (k = 0; k <= i; k++)
			r_viol(&r, t++, 1 + i, gm_budget_over_hard, (int64_t)(3 * MiB), 2 * MiB, 64,
			       0, 0);
	}
	r_viol(&r, t++, 11, gm_budget_over_soft, (int64_t)(3 * MiB / 2), MiB, 64, 0, 0);
	snprintf(path, sizeof(path), "/tmp/gm_test_budgets_ten.%ld.gmt", (long)getpid());
	cap_write_recs(path, &r, 1, 1000000000);
	cr_expect_eq(RUN("--check", path), GM_CMD_FAIL);
	cr_expect_str_eq(err,
	                 "gmtrace budgets: 55 hard-limit violations (55 over_hard, 0 failed, 0 "
	                 "heap_full that failed an allocation): \"n0\" 1 over_hard from frame 2; "
	                 "\"n1\" 2 over_hard from frame 3; \"n2\" 3 over_hard from frame 4; "
	                 "\"n3\" 4 over_hard from frame 5; \"n4\" 5 over_hard from frame 6; "
	                 "\"n5\" 6 over_hard from frame 7; \"n6\" 7 over_hard from frame 8; "
	                 "\"n7\" 8 over_hard from frame 9; and 2 more nodes\n");
	unlink(path);
}

Test(budgets_cmd, check_counts_a_strict_heap_full_as_a_failure)
{
	cr_expect_eq(RUN("--check", rich), GM_CMD_FAIL);
	cr_expect_str_eq(err,
	                 "gmtrace budgets: 14 hard-limit violations (12 over_hard, 1 failed, 1 "
	                 "heap_full that failed an allocation): \"world\" 12 over_hard from frame "
	                 "71; \"ui\" 1 failed, 1 heap_full from frame 71\n");
	cr_expect_eq(RUN("--check", "--node", "quiet", rich), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, "budgets   1 node under quiet: 0 violations"), "%s", out);
	cr_expect(strstr(out, "check     passed: no hard-limit violation\n"), "%s", out);
	cr_expect(strstr(out, "\nvalidations\n"), "unknown_node is always shown: %s", out);
	cr_expect(strstr(out, "no such node\n"), "%s", out);
	cr_expect(strstr(out, "node -: over a limit, evictable asset #44"), "no node: shown: %s",
	          out);
	cr_expect_null(strstr(out, "node ui: over a limit"), "ui's is not: %s", out);
}

Test(budgets_cmd, a_frame_range_is_shown_and_limits_what_is_counted)
{
	cr_expect_eq(RUN("--from", "2", "--to", "5", rich), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, "\nrange     frames 2..5\n"), "%s", out);
	cr_expect(strstr(out, "budgets   4 nodes: 0 violations"), "frame 71 is out: %s", out);
	cr_expect(strstr(out, "\nvalidations none\n"), "%s", out);
	cr_expect(strstr(out, "  live       frames 2-5: min 2.0 KiB, mean 3.5 KiB, peak 4.0 KiB "
	                      "(frame 5, "),
	          "world's points 2..5: %s", out);
	cr_expect_eq(RUN("--to", "3", rich), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, "\nrange     frames 0..3\n"), "%s", out);
	cr_expect_eq(RUN("--from=70", rich), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, "\nrange     frames 70..\n"), "%s", out);
	cr_expect(strstr(out, "budgets   4 nodes: 14 violations"), "%s", out);
	cr_expect_eq(RUN("--from", "72", rich), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, "\nrange     frames 72..: past the capture's end (70 frame marks), "
	                      "nothing in it\n"),
	          "%s", out);
}

Test(budgets_cmd, json_says_null_for_what_is_unknown)
{
	cr_assert_eq(RUN("--json", "--to", "71", rich), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, "\"range\": {\n    \"from\": 0,\n    \"to\": 71\n  }"), "%s", out);
	cr_expect(strstr(out, "\"id\": 7,\n      \"name\": null,\n      \"parent\": null,\n      "
	                      "\"parent_id\": null,"),
	          "the placeholder: %s", out);
	cr_expect(strstr(out, "\"policy\": null,"), "%s", out);
	cr_expect(strstr(out, "\"defined_frame\": null,"), "%s", out);
	cr_expect(strstr(out, "\"frames\": 0,\n      \"live_bytes\": null,"), "quiet: %s", out);
	cr_expect(strstr(out, "\"asset_bytes\": 0,\n          \"reclaimed_fraction\": null,"), "%s",
	          out);
	cr_expect(strstr(out,
	                 "\"subject\": 66,\n      \"detail\": 1,\n      \"node\": null,\n      "
	                 "\"node_id\": null,"),
	          "%s", out);
	cr_expect(strstr(out,
	                 "\"subject\": 0,\n      \"detail\": 44,\n      \"node\": null,\n      "
	                 "\"node_id\": null,"),
	          "%s", out);
	cr_expect(strstr(out,
	                 "\"subject\": 99,\n      \"detail\": 0,\n      \"node\": null,\n      "
	                 "\"node_id\": 99,"),
	          "%s", out);
	cr_expect(strstr(out,
	                 "\"subject\": 2,\n      \"detail\": 9,\n      \"node\": \"ui\",\n      "
	                 "\"node_id\": 2,"),
	          "%s", out);
	cr_expect_eq(RUN("--json", "--node", "quiet", rich), GM_CMD_OK, "%s", err);
	cr_expect_null(strstr(out, "\"subject\": 2,"), "ui's validation is not shown: %s", out);
	cr_expect(strstr(out, "\"subject\": 99,"), "%s", out);
}

Test(budgets_cmd, csv_with_a_node_filter_keeps_only_that_subtree)
{
	cr_assert_eq(RUN("--csv", "--node", "ui", rich), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, "\nui,2,world,1,0,8388608,0,lru,1,8388608,2,1048576,1048576,1048576,"
	                      "2097152,1,"),
	          "%s", out);
	cr_expect_null(strstr(out, "\nworld,"), "world is above ui: %s", out);
	cr_expect_null(strstr(out, "\nnode#7"), "%s", out);
	cr_expect(strstr(out, "\nui,2,1,1048576,2097152\nui,2,2,1048576,2097152\n"), "%s", out);
	cr_expect(strstr(out, "\nui,2,heap_full,71,"), "%s", out);
	cr_expect(strstr(out,
	                 "# evictions\nnode,node_id,asset,asset_name,asset_type,event,frame,ns,"
	                 "thread,reclaimed_bytes,asset_bytes,reclaimed_fraction,duration_ns,"
	                 "leaky\n\n"),
	          "world's evictions are left out: %s", out);
	cr_expect(strstr(out, "\n,,evictor_no_progress,14,71,"), "%s", out);
	cr_expect(strstr(out, ",0,66,1,66,,\n"), "%s", out);
	cr_expect(strstr(out, "\nui,2,no_evictor,16,71,"), "%s", out);
	cr_expect_null(strstr(out, "\nworld,1,evictor_no_progress"), "%s", out);
	cr_assert_eq(RUN("--csv", rich), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, "\n,7,,0,0,0,0,,0,0,70,-5,-5,-5,-5,1,"),
	          "the placeholder has no name and no policy: %s", out);
}

Test(budgets_cmd, bad_arguments_are_one_clear_error)
{
	static const struct {
		const char *args[4];
		int n;
		const char *want; /* the first line on stderr */
	} cases[] = {
	        {{"--bogus", NULL}, 1, "gmtrace budgets: unknown option '--bogus'\n"},
	        {{NULL}, 0, "gmtrace budgets: no capture given\n"},
	        {{"a.gmt", "b.gmt"},
	         2,
	         "gmtrace budgets: one capture at a time ('a.gmt' and 'b.gmt')\n"},
	        {{"--from", "x", "a.gmt"}, 3, "gmtrace budgets: --from takes a frame number\n"},
	        {{"a.gmt", "--to"}, 2, "gmtrace budgets: --to takes a frame number\n"},
	        {{"--to", "-1", "a.gmt"}, 3, "gmtrace budgets: --to takes a frame number\n"},
	        {{"--node", "", "a.gmt"}, 3, "gmtrace budgets: --node takes a node name\n"},
	        {{"a.gmt", "--node"}, 2, "gmtrace budgets: --node takes a node name\n"},
	        {{"--from", "9", "--to", "3"}, 4, "gmtrace budgets: no capture given\n"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_expect_eq(
		        run_io(cases[i].args, cases[i].n, NULL, out, sizeof(out), err, sizeof(err)),
		        GM_CMD_USAGE, "case %zu", i);
		cr_expect_eq(strncmp(err, cases[i].want, strlen(cases[i].want)), 0, "case %zu: %s",
		             i, err);
		cr_expect(strstr(err, "\nusage: gmtrace budgets [options] CAPTURE\n"), "case %zu",
		          i);
		cr_expect_str_eq(out, "", "case %zu: nothing on stdout", i);
	}
	cr_expect_eq(RUN("--from", "9", "--to", "3", rich), GM_CMD_USAGE);
	cr_expect_eq(strncmp(err, "gmtrace budgets: --from 9 is after --to 3\n", 42), 0, "%s", err);
	cr_expect_eq(RUN("-h"), GM_CMD_OK);
	cr_expect_eq(strncmp(out, "usage: gmtrace budgets", 22), 0, "%s", out);
	cr_expect_eq(RUN("--help", "--bogus"), GM_CMD_OK, "help comes first");
	cr_expect_eq(RUN("/no/such/capture.gmt"), GM_CMD_FAIL);
	cr_expect_eq(strncmp(err, "gmtrace: /no/such/capture.gmt: ", 31), 0, "%s", err);
	cr_expect_eq(RUN("-"), GM_CMD_FAIL, "'-' is a file name");
}

Test(budgets_cmd, a_capture_with_no_budget_nodes_says_so)
{
	static recs_t r;
	char path[128];

	snprintf(path, sizeof(path), "/tmp/gm_test_budgets_none.%ld.gmt", (long)getpid());
	memset(&r, 0, sizeof(r));
	rec(&r, 100, gm_rec_frame, 0, 1, 0, NULL, 0);
	rec(&r, 200, gm_rec_validation, gm_valid_unknown_node, 0, 3, NULL, 0);
	cap_write_recs(path, &r, 1, 1000000000);
	cr_expect_eq(RUN(path), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, "budgets   0 nodes: 0 violations"), "%s", out);
	cr_expect(strstr(out, "\nno budget nodes (the game defined none)\n"), "%s", out);
	cr_expect(strstr(out, "node id 0 (0: by name), detail 3: no such node\n"), "%s", out);
	cr_expect_eq(RUN("--node", "x", path), GM_CMD_USAGE);
	cr_expect_str_eq(err, "gmtrace budgets: no budget node named 'x'; the capture has: none\n");
	cr_expect_eq(RUN("--node", "x", rich), GM_CMD_USAGE);
	cr_expect_str_eq(err,
	                 "gmtrace budgets: no budget node named 'x'; the capture has: world ui "
	                 "quiet\n",
	                 "the placeholder has no name to offer");
	unlink(path);
}

/* A damaged capture may claim a peak near 2^63: the sparkline still draws
 * a bar a column (it once scaled the peak in 64 bits, wrapped to level 0
 * and read before its table of bars; found by the fuzzer). */
Test(budgets_cmd, a_peak_near_2_to_the_63_still_draws_its_sparkline)
{
	static recs_t r;
	char path[128];

	snprintf(path, sizeof(path), "/tmp/gm_test_budgets_huge.%ld.gmt", (long)getpid());
	memset(&r, 0, sizeof(r));
	r_node(&r, 10, 1, ROOT, 0, 4 * MiB, 4 * MiB, gm_budget_lru, 0, "world");
	rec(&r, 100, gm_rec_frame, 0, 1, 0, NULL, 0);
	r_point(&r, 101, 1, 1, (int64_t)MiB, (int64_t)MiB);
	rec(&r, 200, gm_rec_frame, 0, 2, 0, NULL, 0);
	r_point(&r, 201, 2, 1, INT64_MAX, INT64_MAX);
	cap_write_recs(path, &r, 1, 1000000000);
	cr_assert_eq(RUN(path), GM_CMD_OK, "%s", err);
	/* full = the peak: frame 1 is the lowest bar, frame 2 the highest */
	cr_expect(strstr(out, "\u2581\u2588  peak per frame, full = "), "%s", out);
	unlink(path);
}

/* A tag defined with an empty name and no extra units: the model copies 0
 * bytes of it (once from a NULL pointer, which UBSan flagged; found by the
 * fuzzer) and the report still names the node. */
Test(budgets_cmd, a_tag_with_an_empty_name_is_read)
{
	static recs_t r;
	char path[128];

	snprintf(path, sizeof(path), "/tmp/gm_test_budgets_notag.%ld.gmt", (long)getpid());
	memset(&r, 0, sizeof(r));
	r_node(&r, 10, 1, ROOT, 0, 4 * MiB, 4 * MiB, gm_budget_lru, 0, "world");
	rec(&r, 20, gm_rec_tag_def, 0, 3, 0, NULL, 0);
	rec(&r, 100, gm_rec_frame, 0, 1, 0, NULL, 0);
	r_point(&r, 101, 1, 1, (int64_t)MiB, (int64_t)MiB);
	cap_write_recs(path, &r, 1, 1000000000);
	cr_assert_eq(RUN(path), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, "world"), "%s", out);
	unlink(path);
}

Test(budgets_cmd, a_damaged_capture_reports_what_came_before_and_fails)
{
	char path[128], want[512];
	FILE *f;
	long len;
	char *buf;

	snprintf(path, sizeof(path), "/tmp/gm_test_budgets_cut.%ld.gmt", (long)getpid());
	cap_game(path, 0);
	f = fopen(path, "rb");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)len);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	/* cut in the middle of the record block: the last clock block and the
	 * last record's words are gone */
	len -= (long)sizeof(gm_block_t) + 16 + 8;
	f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	free(buf);
	cr_expect_eq(RUN(path), GM_CMD_FAIL);
	/* cap_game's block: 72 words (tag 4, asset 4, two nodes 20, three frame
	 * marks 6, six budget_frame 24, a violation 8, an eviction 6) */
	snprintf(want, sizeof(want),
	         "\ndamaged   %s: offset %zu: truncated block: expected 576 "
	         "payload bytes, 568 left\n",
	         path, sizeof(gm_file_header_t) + sizeof(gm_block_t) + 16);
	cr_expect(strstr(out, want), "%s", out);
	cr_expect(strstr(out, "budgets   0 nodes: "), "the block is dropped whole: %s", out);
	cr_expect_eq(strncmp(err, "gmtrace: ", 9), 0, "%s", err);
	cr_expect_eq(strncmp(err + 9, want + 11, strlen(want + 11)), 0, "%s", err);
	cr_expect_eq(RUN("--json", path), GM_CMD_FAIL);
	cr_expect_null(strstr(out, "\"error\": null"), "%s", out);
	unlink(path);
}

Test(budgets_cmd, a_report_that_cannot_be_written_fails)
{
	const char *modes[][2] = {{"--json", rich}, {"--csv", rich}, {rich, NULL}};
	size_t i;

	for (i = 0; i < 3; i++) {
		cr_expect_eq(run_io(modes[i], modes[i][1] ? 2 : 1, "/dev/full", out, sizeof(out),
		                    err, sizeof(err)),
		             GM_CMD_FAIL, "mode %zu", i);
		cr_expect_str_eq(err, "gmtrace: budgets: cannot write the report\n", "mode %zu", i);
	}
}

/* ---- out of memory ------------------------------------------------------------------- */

/* One event into m without asserting: gm_budgets_add's result. */
static int add(gm_budgets_t *m, uint64_t ns, uint32_t thread, unsigned type, unsigned x, uint64_t a,
               uint64_t b, const uint64_t *extra, uint32_t units)
{
	gm_event_t ev = event_at(ns, thread, type, x, a, b, extra, units);

	return gm_budgets_add(m, &ev);
}

/* Every kind of record, so that every allocation of the model happens:
 * nodes, names, tags, assets, series, violations, evictions, validations,
 * threads, the tree. 0 when all went in, else gm_budgets_add's error. */
static int feed_all(gm_budgets_t *m)
{
	uint64_t node[6 + 2] = {ROOT, 10, 20, 10, gm_budget_lru, 0}, child[6 + 2];
	uint64_t tag[2] = {0}, asset[2] = {0}, point[2] = {5, 15}, v[6] = {30, 20, 1, 1, 2, 0};
	uint64_t ev[4] = {gm_budget_over_hard, 4, 1, 4};
	int rc = 0;

	memcpy(node + 6, "total", 5);
	memcpy(child, node, sizeof(child));
	child[0] = 1;
	memcpy(child + 6, "tex\0\0", 5);
	memcpy(tag, "t", 1);
	memcpy(asset, "a\0ty", 4);
	rc = rc ? rc : add(m, 1, 0, gm_rec_budget_node, 4, 1, 5, node, 4);
	rc = rc ? rc : add(m, 2, 0, gm_rec_budget_node, 4, 2, 3, child, 4);
	rc = rc ? rc : add(m, 3, 3, gm_rec_tag_def, 1, 1, 1, tag, 1);
	rc = rc ? rc : add(m, 4, 0, gm_rec_asset_new, 1, 2, 1 | 2 << 16, asset, 1);
	rc = rc ? rc : add(m, 5, 0, gm_rec_frame, 0, 1, 0, NULL, 0);
	rc = rc ? rc : add(m, 6, 0, gm_rec_budget_frame, 1, 1, 2, point, 1);
	rc = rc ? rc : add(m, 7, 1, gm_rec_budget_violation, 3, 2, gm_budget_over_hard, v, 3);
	rc = rc ? rc : add(m, 8, 1, gm_rec_budget_evict, 2, 2, 2, ev, 2);
	rc = rc ? rc : add(m, 9, 1, gm_rec_budget_evict, 2, 3, 9, ev, 2); /* a new asset and node */
	rc = rc ? rc :
	          add(m, 10, 1, gm_rec_validation, gm_valid_evictor_no_progress, 2, 4, NULL, 0);
	rc = rc ? rc :
	          add(m, 11, 1, gm_rec_validation, gm_valid_evictor_no_progress, 8, 4, NULL, 0);
	return rc;
}

static int oom_model(long n, void *arg)
{
	gm_budgets_opts_t o;
	gm_budgets_t *m;
	const gm_budgets_node_t *nodes;
	size_t k;
	int rc;

	(void)arg;
	gm_budgets_opts_default(&o);
	o.node = "total";
	m = gm_budgets_new(&o);
	if (!m) {
		cr_assert(n >= 0, "gm_budgets_new failed with nothing failing");
		return 1;
	}
	rc = feed_all(m);
	if (rc == 0)
		rc = gm_budgets_finish(m);
	/* and a new model whose first record is each of these in turn, so that
	 * its first node, asset or thread is made there */
	for (k = 0; rc == 0 && k < 4; k++) {
		static const uint64_t w[6] = {1, 2, 3, 0, 0, 0};
		gm_budgets_t *one = gm_budgets_new(NULL);

		if (!one) {
			rc = -ENOMEM;
			break;
		}
		rc = k == 0 ?
		             add(one, 1, 5, gm_rec_budget_frame, 1, 1, 4, w, 1) :
		     k == 1 ?
		             add(one, 1, 5, gm_rec_budget_violation, 3, 4, gm_budget_failed, w, 3) :
		     k == 2 ? add(one, 1, 5, gm_rec_budget_evict, 2, 6, 4, w, 2) :
		              add(one, 1, 5, gm_rec_validation, gm_valid_evictor_no_progress, 6, 0,
		                  NULL, 0);
		gm_budgets_free(one);
	}
	if (rc) {
		cr_assert(n >= 0, "an error with nothing failing: %d", rc);
		cr_assert_eq(rc, -ENOMEM, "allocation %ld: %d", n, rc);
		gm_budgets_free(m);
		return 1;
	}
	nodes = gm_budgets_nodes(m, &k);
	cr_assert_eq(k, 3, "total, tex and the placeholder 9 (allocation %ld)", n);
	cr_assert_str_eq(nodes[1].name, "tex");
	cr_assert_eq(nodes[1].npoints, 1);
	cr_assert_str_eq(gm_budgets_tag_name(m, 1), "t");
	cr_assert_str_eq(gm_budgets_asset_type(m, 2), "ty");
	gm_budgets_violations(m, &k);
	cr_assert_eq(k, 1);
	gm_budgets_evictions(m, &k);
	cr_assert_eq(k, 2);
	gm_budgets_valids(m, &k);
	cr_assert_eq(k, 2);
	cr_assert_eq(gm_budgets_totals(m)->nodes, 2, "total and tex are shown");
	gm_budgets_free(m);
	return 0;
}

Test(budgets, out_of_memory_anywhere_in_the_model_is_enomem_and_nothing_else)
{
	long runs = gm_failalloc_each(oom_model, NULL, 1000);

	cr_expect_gt(runs, 15, "the model allocates for each kind of record (%ld runs)", runs);
}

static int oom_cmd(long n, void *arg)
{
	const char *args[2] = {"--json", arg};
	int rc = run_io(args, 2, NULL, out, sizeof(out), err, sizeof(err));

	return oom_cmd_check(n, rc, out, err, "\"name\": \"world\"");
}

Test(budgets_cmd, out_of_memory_in_the_command_is_one_clear_error)
{
	long runs = gm_failalloc_each(oom_cmd, rich, 1000);

	cr_expect_gt(runs, 15, "%ld runs", runs);
}
