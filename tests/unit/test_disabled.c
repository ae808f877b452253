/* test_disabled.c - the marker API compiled out (GMTRACE_DISABLE)
 *
 * A game builds its release with -DGMTRACE_DISABLE: every call must still
 * compile as the README shows it (a statement, its result unused) with the
 * build's warnings as errors, evaluate its arguments for their side effects
 * exactly as a call would (once), and give the neutral result.
 */
#define GMTRACE_DISABLE
#include <gmtrace.h>

#include <criterion/criterion.h>

static int evaluated;

static const char *name_of(const char *s)
{
	evaluated++;
	return s;
}

static void evict(uint64_t asset, void *user)
{
	(void)asset;
	(void)user;
}

static void spike(const gmtrace_spike_t *s, void *user)
{
	(void)s;
	(void)user;
}

Test(disabled, every_call_is_a_statement_that_does_nothing)
{
	gmtrace_budget_node_t nodes[2];
	gmtrace_budget_asset_t assets[2];
	size_t nassets = 7;

	evaluated = 0;
	GMTRACE_FRAME();
	GMTRACE_FRAME_N(name_of("physics"));
	GMTRACE_TICK();
	GMTRACE_LEVEL(1);
	gmtrace_frame_mark();
	gmtrace_frame_mark_n(name_of("audio"));
	gmtrace_tick();
	gmtrace_level_set(1);
	gmtrace_spike_callback(spike, NULL);
	gmtrace_enabled();
	gmtrace_self_allocations();
	GMTRACE_TAG_PUSH(name_of("render"));
	GMTRACE_TAG_POP();
	GMTRACE_TAG_SCOPE(name_of("ui"));
	GMTRACE_SCENE(name_of("harbor"));
	gmtrace_tag_id(name_of("ai"));
	gmtrace_tag_push(name_of("ai"));
	gmtrace_tag_push_id(3);
	gmtrace_tag_pop();
	gmtrace_asset_load_begin(name_of("hero.png"), "texture");
	gmtrace_asset_load_end(1, 1);
	gmtrace_asset_attach(1);
	gmtrace_asset_detach(1);
	gmtrace_asset_ref(1);
	gmtrace_asset_release(1);
	gmtrace_asset_touch(1);
	gmtrace_asset_unload_begin(1);
	gmtrace_asset_unload_end(1);
	gmtrace_asset_unload(1);
	gmtrace_asset_extra_bytes(1, 4096);
	gmtrace_scene_begin(name_of("menu"));
	gmtrace_pool_create(name_of("bullets"), 64, 256);
	gmtrace_pool_acquire(1, 1);
	gmtrace_pool_release(1, 1);
	gmtrace_pool_resize(1, 512);
	gmtrace_pool_destroy(1);
	gmtrace_budget_define(name_of("textures"), NULL, 1 << 20, 2 << 20);
	gmtrace_budget_bind_tag(1, "render");
	gmtrace_budget_bind_type(1, "texture");
	gmtrace_budget_policy(1, GMTRACE_EVICT_LRU, 0, -1);
	gmtrace_budget_evictor(1, evict, NULL);
	gmtrace_budget_evictor_type("texture", evict, NULL);
	gmtrace_budget_find(name_of("textures"));
	gmtrace_budget_snapshot(nodes, 2, assets, 2, &nassets);
	gmtrace_asset_priority(1, 5);
	gmtrace_asset_pin(1, 1);
	gmtrace_budget_violation_callback(NULL, NULL);
	gmtrace_gc(0, 100, 5, 0);
	gmtrace_footprint_bytes();
	cr_expect_eq(evaluated, 12, "each argument evaluated once: %d", evaluated);
	cr_expect_eq(nassets, 0, "the snapshot says no assets");
}

Test(disabled, results_are_neutral)
{
	cr_expect_eq(gmtrace_enabled(), 0);
	cr_expect_eq(gmtrace_level_set(0), -1);
	cr_expect_eq(gmtrace_self_allocations(), 0);
	cr_expect_eq(gmtrace_footprint_bytes(), 0);
	cr_expect_eq(gmtrace_tag_id("x"), 0);
	cr_expect_eq(gmtrace_asset_load_begin("a", "b"), 0);
	cr_expect_eq(gmtrace_pool_create("p", 1, 1), 0);
	cr_expect_eq(gmtrace_budget_define("n", NULL, 0, 0), 0);
	cr_expect_eq(gmtrace_budget_bind_tag(1, "t"), -1);
	cr_expect_eq(gmtrace_budget_bind_type(1, "t"), -1);
	cr_expect_eq(gmtrace_budget_policy(1, 0, 0, 0), -1);
	cr_expect_eq(gmtrace_budget_evictor(1, evict, NULL), -1);
	cr_expect_eq(gmtrace_budget_evictor_type("t", evict, NULL), -1);
	cr_expect_eq(gmtrace_budget_find("n"), 0);
	cr_expect_eq(gmtrace_budget_snapshot(NULL, 0, NULL, 0, NULL), 0);
}
