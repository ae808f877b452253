/* bu_edges.cpp - a budget's limits against size classes, a failed huge
 * request and an evictor that throws
 *
 *     bu_edges
 *
 * 1. "sizes": a strict node, hard 8 MiB, tag "sizes". A block takes its
 *    size class from the node's heap, so the limit holds for the class:
 *    malloc(2.5 MiB) fits; malloc(5 MiB + 1), class 6 MiB, would take the
 *    node to 8.5 MiB: NULL, ENOMEM; malloc(5 MiB) fits (7.5 MiB);
 *    realloc(2.5 MiB block, 2.5 MiB + 1), class 3 MiB, fits exactly (8 MiB);
 *    realloc to 3 MiB + 1, class 3.5 MiB, does not: NULL, ENOMEM, the block
 *    unchanged. Two failures, no violation, peak 8 MiB. Before that the
 *    node is defined again three times: with its own limits (nothing
 *    said), with hard 16 MiB and with soft 1 MiB (a node_redefined
 *    validation each, b = the hard limit asked, one warning on stderr);
 *    the first limits stay.
 * 2. "soft": a soft node, hard 8 MiB, tag "soft": malloc(1 MiB), then
 *    malloc(1 PiB), which no allocator serves (NULL). The node's peak stays
 *    1 MiB, in the snapshot and in the next frame's budget_frame record.
 * 3. "cache": a soft node, hard 4 MiB, LRU, type "tex", inside tag "world".
 *    Ten 1 MiB textures are loaded, each touched; the evictor throws a C++
 *    exception the first time it is called (for texture 0, when texture 4
 *    needs room), and the game catches it around the load, which fails.
 *    Eviction goes on: texture 0 is left alone until the frame's end, 1, 2,
 *    3, 5 and 6 are evicted, no violation; after GMTRACE_FRAME() texture
 *    10's load evicts texture 0. Right after the caught exception a block of
 *    FX_SIZE(7) bytes is allocated outside any asset: its tag must be
 *    "world" (the evictor's neutral scope is gone).
 *
 * 4. "bank" (only when GMTRACE_BUDGETS defines it: hard 4 MiB, capacity
 *    4 MiB, LRU, type "slab"): slabs of 512 KiB, 1 MiB, 512 KiB, 1 MiB and
 *    512 KiB, then the first and third unloaded: 2.5 MiB live, room for
 *    1.5 MiB by the count but no 1.5 MiB hole in the bank. Loading 1.5 MiB
 *    evicts for room in the bank while its reservation is held, and the
 *    evictor throws (the game catches it): the reservation goes with the
 *    exception, so after everything is unloaded the bank's live bytes are 0;
 *    its peak is the 3.5 MiB the five slabs took, not the 4 MiB of the
 *    reservation the bank could not serve.
 *
 * 5. "unlimited": soft, hard and target UINT64_MAX (as a game says
 *    "unlimited"), strict, type "blob", an evictor that counts its calls:
 *    a 1000-byte blob is loaded and a frame ends. No limit: the block is
 *    served, no evictor call, no violation, no failure.
 *
 * JSON: sizes {...}, soft {...}, cache {...}, bank {...} (when run), unlimited {...} with
 * what was seen, and the verdicts (bu_common.h).
 */
#include <cerrno>
#include <cstdint>
#include <stdexcept>

#include "bu_common.h"

static void *(*volatile bu_realloc)(void *, size_t) = realloc;

typedef struct bu_seen {
	int64_t live, peak;
	uint64_t violations, failures, evictions;
} bu_seen_t;

static bu_seen_t bu_node_now(uint32_t id)
{
	gmtrace_budget_node_t nodes[BU_MAX_NODES];
	size_t na = 0, n = gmtrace_budget_snapshot(nodes, BU_MAX_NODES, NULL, 0, &na);
	const gmtrace_budget_node_t *b = bu_node_in(nodes, n, id);
	bu_seen_t s = {-1, -1, 0, 0, 0};
	if (b) {
		s.live = b->live_bytes;
		s.peak = b->peak_bytes;
		s.violations = b->violations;
		s.failures = b->failures;
		s.evictions = b->evictions;
	}
	return s;
}

static void bu_json_seen(const bu_seen_t *s)
{
	fx_json_i64("live", s->live);
	fx_json_i64("peak", s->peak);
	fx_json_u64("violations", s->violations);
	fx_json_u64("failures", s->failures);
	fx_json_u64("evictions", s->evictions);
}

/* ---- 1. size classes ------------------------------------------------------ */

static void bu_sizes(void)
{
	uint32_t node = gmtrace_budget_define("sizes", NULL, 0, BU_MIB(8));
	FX_CHECK(node != 0, "sizes defined");
	FX_CHECK(gmtrace_budget_policy(node, GMTRACE_EVICT_LRU, 0, 1) == 0, "sizes strict");
	FX_CHECK(gmtrace_budget_bind_tag(node, "sizes") == 0, "sizes bound");
	/* defined again: the same limits say nothing; others are a
	 * node_redefined validation each time (a warning once), the first
	 * definition stays */
	uint32_t again = gmtrace_budget_define("sizes", NULL, 0, BU_MIB(8));
	uint32_t other = gmtrace_budget_define("sizes", NULL, 0, BU_MIB(16));
	uint32_t other2 = gmtrace_budget_define("sizes", NULL, BU_MIB(1), BU_MIB(8));
	bu_expect("defined again: the same id", node, again);
	bu_expect("other limits: the same id", node, other);
	bu_expect("other limits again: the same id", node, other2);
	gmtrace_tag_push("sizes");
	void *a = bu_malloc(BU_KIB(2560));
	FX_CHECK(a != NULL, "2.5 MiB");
	errno = 0;
	void *b = bu_malloc(BU_MIB(5) + 1);
	int b_errno = errno, b_null = b == NULL;
	if (b)
		bu_free(b); /* let through: the rest goes on as if refused */
	void *c = bu_malloc(BU_MIB(5));
	FX_CHECK(c != NULL, "5 MiB");
	void *a2 = bu_realloc(a, BU_KIB(2560) + 1);
	FX_CHECK(a2 != NULL, "2.5 MiB + 1");
	errno = 0;
	void *a3 = bu_realloc(a2, BU_MIB(3) + 1);
	int a3_errno = errno;
	bu_seen_t s = bu_node_now(node);
	gmtrace_tag_pop();
	bu_expect("sizes: live at the limit, not over", (int64_t)BU_MIB(8), s.live);
	bu_expect("sizes: two failures", 2, (int64_t)s.failures);
	bu_free(a3 ? a3 : a2);
	bu_free(c);

	fx_json_open("sizes", '{');
	fx_json_bool("six_mib_class_null", b_null);
	fx_json_bool("six_mib_class_enomem", b_errno == ENOMEM);
	fx_json_bool("realloc_null", a3 == NULL);
	fx_json_bool("realloc_enomem", a3_errno == ENOMEM);
	bu_json_seen(&s);
	fx_json_i64("live_end", bu_live(node));
	fx_json_close('}');
}

/* ---- 2. a request no allocator serves ------------------------------------- */

static volatile size_t bu_huge = (size_t)1 << 50;

static void bu_soft(void)
{
	uint32_t node = gmtrace_budget_define("soft", NULL, 0, BU_MIB(8));
	FX_CHECK(node != 0, "soft defined");
	FX_CHECK(gmtrace_budget_policy(node, GMTRACE_EVICT_LRU, 0, 0) == 0, "soft soft");
	FX_CHECK(gmtrace_budget_bind_tag(node, "soft") == 0, "soft bound");
	gmtrace_tag_push("soft");
	void *x = bu_malloc(BU_MIB(1));
	FX_CHECK(x != NULL, "1 MiB");
	void *y = bu_malloc(bu_huge);
	bu_seen_t s = bu_node_now(node);
	gmtrace_tag_pop();
	bu_expect("soft: the peak is the served 1 MiB", (int64_t)BU_MIB(1), s.peak);
	GMTRACE_FRAME();
	bu_free(x);

	fx_json_open("soft", '{');
	fx_json_bool("huge_null", y == NULL);
	bu_json_seen(&s);
	fx_json_close('}');
}

/* ---- 3. an evictor that throws ---------------------------------------------- */

#define BU_TEXTURES 11
static void *bu_tex[BU_TEXTURES + 1];
static uint64_t bu_tex_id[BU_TEXTURES];
static int bu_throws_left = 1;
static int bu_evicted[16], bu_nevicted, bu_caught;

static int bu_tex_index(uint64_t id)
{
	for (int k = 0; k < BU_TEXTURES; k++)
		if (bu_tex_id[k] == id)
			return k;
	return -1;
}

static void bu_evict(uint64_t asset, void *)
{
	int k = bu_tex_index(asset);
	if (bu_throws_left) {
		bu_throws_left = 0;
		throw std::runtime_error("the evictor failed");
	}
	FX_CHECK(k >= 0 && bu_tex[k] != NULL, "an evictor call for a resident texture");
	if (bu_nevicted < 16)
		bu_evicted[bu_nevicted++] = k;
	gmtrace_asset_unload_begin(asset);
	bu_free(bu_tex[k]);
	bu_tex[k] = NULL;
	gmtrace_asset_unload_end(asset);
}

static void bu_load(int k)
{
	static const char *const names[BU_TEXTURES] = {"t0", "t1", "t2", "t3", "t4", "t5",
	                                               "t6", "t7", "t8", "t9", "t10"};
	uint64_t id = gmtrace_asset_load_begin(names[k], "tex");
	FX_CHECK(id != 0, "a texture id");
	bu_tex_id[k] = id;
	try {
		bu_tex[k] = bu_malloc(BU_MIB(1));
	} catch (const std::runtime_error &) {
		bu_caught++;
	}
	gmtrace_asset_load_end(id, bu_tex[k] != NULL);
	if (bu_tex[k])
		gmtrace_asset_touch(id);
}

static void bu_cache(void)
{
	uint32_t node = gmtrace_budget_define("cache", NULL, 0, BU_MIB(4));
	int caught_at = -1;
	FX_CHECK(node != 0, "cache defined");
	FX_CHECK(gmtrace_budget_policy(node, GMTRACE_EVICT_LRU, 0, 0) == 0, "cache soft LRU");
	FX_CHECK(gmtrace_budget_bind_type(node, "tex") == 0, "tex bound");
	FX_CHECK(gmtrace_budget_evictor(node, bu_evict, NULL) == 0, "evictor");
	gmtrace_tag_push("world");
	for (int k = 0; k < 10; k++) {
		bu_load(k);
		if (bu_caught && caught_at < 0) {
			caught_at = k;
			fx_sink = bu_malloc(FX_SIZE(7)); /* tagged "world", no asset */
			bu_free(fx_sink);
		}
	}
	bu_seen_t before = bu_node_now(node);
	int t0_before = bu_tex[0] != NULL;
	GMTRACE_FRAME();
	bu_load(10);
	bu_seen_t after = bu_node_now(node);
	gmtrace_tag_pop();
	bu_expect("cache: no violation", 0, (int64_t)after.violations);
	bu_expect("cache: within the limit", (int64_t)BU_MIB(4), after.live);

	fx_json_open("cache", '{');
	fx_json_i64("caught", bu_caught);
	fx_json_i64("caught_at", caught_at);
	fx_json_open("evicted", '[');
	for (int k = 0; k < bu_nevicted; k++)
		fx_json_i64(NULL, bu_evicted[k]);
	fx_json_close(']');
	fx_json_bool("t0_resident_at_frame_end", t0_before);
	bu_json_seen(&before);
	fx_json_open("after_frame", '{');
	bu_json_seen(&after);
	fx_json_close('}');
	fx_json_close('}');
}

/* ---- 4. a throw while a reservation is held ------------------------------------ */

static void *bu_slab[8];
static uint64_t bu_slab_id[8];
static int bu_slab_throws = 1;

static void bu_slab_evict(uint64_t asset, void *)
{
	if (bu_slab_throws) {
		bu_slab_throws = 0;
		throw std::runtime_error("the evictor failed");
	}
	for (int k = 0; k < 8; k++)
		if (bu_slab_id[k] == asset && bu_slab[k]) {
			gmtrace_asset_unload_begin(asset);
			bu_free(bu_slab[k]);
			bu_slab[k] = NULL;
			gmtrace_asset_unload_end(asset);
		}
}

static int bu_slab_load(int k, size_t size)
{
	static const char *const names[8] = {"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"};
	int caught = 0;
	bu_slab_id[k] = gmtrace_asset_load_begin(names[k], "slab");
	try {
		bu_slab[k] = bu_malloc(size);
	} catch (const std::runtime_error &) {
		caught = 1;
	}
	gmtrace_asset_load_end(bu_slab_id[k], bu_slab[k] != NULL);
	return caught;
}

static void bu_slab_unload(int k)
{
	if (!bu_slab[k])
		return;
	gmtrace_asset_unload_begin(bu_slab_id[k]);
	bu_free(bu_slab[k]);
	bu_slab[k] = NULL;
	gmtrace_asset_unload_end(bu_slab_id[k]);
}

static void bu_bank(void)
{
	uint32_t node = gmtrace_budget_find("bank");
	int caught;
	if (!node)
		return; /* run without the budget file */
	FX_CHECK(gmtrace_budget_evictor(node, bu_slab_evict, NULL) == 0, "bank evictor");
	bu_slab_load(0, BU_KIB(512));
	bu_slab_load(1, BU_MIB(1));
	bu_slab_load(2, BU_KIB(512));
	bu_slab_load(3, BU_MIB(1));
	bu_slab_load(4, BU_KIB(512));
	bu_slab_unload(0);
	bu_slab_unload(2);
	int64_t before = bu_live(node);
	caught = bu_slab_load(5, BU_KIB(1536));
	int64_t after = bu_live(node);
	for (int k = 0; k < 8; k++)
		bu_slab_unload(k);
	bu_expect("bank: nothing left counted", 0, bu_live(node));
	fx_json_open("bank", '{');
	fx_json_i64("caught", caught);
	fx_json_i64("live_before", before);
	fx_json_i64("live_after_throw", after);
	fx_json_i64("live_end", bu_live(node));
	/* the 1.5 MiB reservation the bank could not serve is no peak: the
	 * most ever served is the five slabs, 3.5 MiB */
	fx_json_i64("peak", bu_node_now(node).peak);
	fx_json_close('}');
}

/* ---- 5. limits past any count: none ---------------------------------------- */

static int bu_unlimited_calls;

static void bu_unlimited_evict(uint64_t, void *)
{
	bu_unlimited_calls++;
}

static void bu_unlimited(void)
{
	uint32_t node = gmtrace_budget_define("unlimited", NULL, UINT64_MAX, UINT64_MAX);
	FX_CHECK(node != 0, "unlimited defined");
	FX_CHECK(gmtrace_budget_policy(node, GMTRACE_EVICT_LRU, UINT64_MAX, 1) == 0,
	         "unlimited policy");
	FX_CHECK(gmtrace_budget_bind_type(node, "blob") == 0, "blob bound");
	FX_CHECK(gmtrace_budget_evictor(node, bu_unlimited_evict, NULL) == 0, "blob evictor");
	uint64_t id = gmtrace_asset_load_begin("blob0", "blob");
	void *p = bu_malloc(1000);
	gmtrace_asset_load_end(id, p != NULL);
	GMTRACE_FRAME();
	bu_seen_t s = bu_node_now(node);
	fx_json_open("unlimited", '{');
	fx_json_bool("served", p != NULL);
	fx_json_i64("evictor_calls", bu_unlimited_calls);
	bu_json_seen(&s);
	fx_json_close('}');
	if (p) {
		gmtrace_asset_unload_begin(id);
		bu_free(p);
		gmtrace_asset_unload_end(id);
	}
}

int main(void)
{
	fx_name = "bu_edges";
	FX_CHECK(gmtrace_enabled(), "runs under libgmtrace");
	fx_json_begin();
	bu_sizes();
	bu_soft();
	bu_cache();
	bu_bank();
	bu_unlimited();
	bu_json_verdicts();
	return fx_json_write(1) == 0 ? 0 : 1;
}
