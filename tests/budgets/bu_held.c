/* bu_held.c - what an asset holds: its load's temporaries and later frees taken off
 *
 *     bu_held
 *
 * One node, "cache": soft 512 KiB, hard 4 MiB, policy "largest", type
 * "model" bound to it, an evictor that unloads. In frame 1:
 *
 *   A: in its load, a 1 MiB temporary (freed in the load) and two blocks of
 *      64 KiB; after the load the game frees one of them outside any scope:
 *      A holds 64 KiB, though it allocated 1152 KiB;
 *   B: one block of 256 KiB;
 *   C: a block of 128 KiB, grown to 256 KiB by realloc in its load.
 *
 * The snapshot says A 64 KiB, B 256 KiB, C 256 KiB, the node 576 KiB. At
 * the frame's end the node is over its soft limit: "largest" picks B (B
 * and C hold the most; the lower id goes first), whose eviction takes the
 * node to 320 KiB. Had the allocated bytes counted, A (1152 KiB) would
 * have gone first and given back 64 KiB. Then C's block grows to 512 KiB
 * by a realloc outside any scope: C holds 512 KiB.
 *
 * JSON: ids {A, B, C}, snapshot {A, B, C} (bytes), live_after_loads,
 * evicted (asset ids in call order), live_end, verdicts.
 */
#define _GNU_SOURCE
#include "bu_common.h"

static uint32_t bu_node;
static uint64_t bu_ids[3];
static void *bu_keep[3];
static uint64_t bu_evicted[8];
static int bu_nevicted;

static void bu_evict(uint64_t id, void *user)
{
	(void)user;
	if (bu_nevicted < 8)
		bu_evicted[bu_nevicted] = id;
	bu_nevicted++;
	for (int k = 0; k < 3; k++)
		if (bu_ids[k] == id && bu_keep[k]) {
			gmtrace_asset_unload_begin(id);
			bu_free(bu_keep[k]);
			gmtrace_asset_unload_end(id);
			bu_keep[k] = NULL;
		}
}

/* The asset's bytes in a snapshot now; -1 when it is not there. */
static int64_t bu_held(uint64_t id)
{
	gmtrace_budget_node_t nodes[BU_MAX_NODES];
	gmtrace_budget_asset_t assets[16];
	size_t na = 0, n;
	gmtrace_budget_snapshot(nodes, BU_MAX_NODES, assets, 16, &na);
	n = na < 16 ? na : 16;
	for (size_t i = 0; i < n; i++)
		if (assets[i].id == id)
			return (int64_t)assets[i].bytes;
	return -1;
}

int main(void)
{
	void *tmp, *gone, *grow;
	int64_t held[3], live_after;

	fx_name = "bu_held";
	FX_CHECK(gmtrace_enabled(), "runs under libgmtrace");
	bu_node = gmtrace_budget_define("cache", NULL, BU_KIB(512), BU_MIB(4));
	FX_CHECK(bu_node != 0, "node defined");
	FX_CHECK(gmtrace_budget_bind_type(bu_node, "model") == 0, "model bound");
	FX_CHECK(gmtrace_budget_policy(bu_node, GMTRACE_EVICT_LARGEST, 0, -1) == 0, "policy");
	FX_CHECK(gmtrace_budget_evictor(bu_node, bu_evict, NULL) == 0, "evictor");

	bu_ids[0] = gmtrace_asset_load_begin("A", "model");
	tmp = bu_malloc(BU_MIB(1));
	FX_CHECK(tmp != NULL, "A's temporary");
	fx_touch(tmp, BU_MIB(1));
	bu_keep[0] = bu_malloc(BU_KIB(64));
	gone = bu_malloc(BU_KIB(64));
	FX_CHECK(bu_keep[0] && gone, "A's blocks");
	bu_free(tmp);
	gmtrace_asset_load_end(bu_ids[0], 1);
	bu_free(gone); /* outside any scope: still A's block */

	bu_ids[1] = gmtrace_asset_load_begin("B", "model");
	bu_keep[1] = bu_malloc(BU_KIB(256));
	FX_CHECK(bu_keep[1] != NULL, "B's block");
	gmtrace_asset_load_end(bu_ids[1], 1);

	bu_ids[2] = gmtrace_asset_load_begin("C", "model");
	grow = bu_malloc(BU_KIB(128));
	FX_CHECK(grow != NULL, "C's block");
	bu_keep[2] = realloc(grow, BU_KIB(256));
	FX_CHECK(bu_keep[2] != NULL, "C's block grown");
	gmtrace_asset_load_end(bu_ids[2], 1);

	for (int k = 0; k < 3; k++)
		held[k] = bu_held(bu_ids[k]);
	bu_expect("A holds 64 KiB", (int64_t)BU_KIB(64), held[0]);
	bu_expect("B holds 256 KiB", (int64_t)BU_KIB(256), held[1]);
	bu_expect("C holds 256 KiB", (int64_t)BU_KIB(256), held[2]);
	live_after = bu_live(bu_node);
	bu_expect("node live after the loads", (int64_t)BU_KIB(576), live_after);

	GMTRACE_FRAME();
	bu_expect("one eviction", 1, bu_nevicted);
	bu_expect("the victim is B", (int64_t)bu_ids[1], (int64_t)bu_evicted[0]);
	bu_expect("node live after the eviction", (int64_t)BU_KIB(320), bu_live(bu_node));

	/* C's block grown outside any scope: still C's, at its new size */
	grow = realloc(bu_keep[2], BU_KIB(512));
	FX_CHECK(grow != NULL, "C's block grown again");
	bu_keep[2] = grow;
	bu_expect("C holds 512 KiB", (int64_t)BU_KIB(512), bu_held(bu_ids[2]));

	fx_json_begin();
	fx_json_open("ids", '{');
	fx_json_u64("A", bu_ids[0]);
	fx_json_u64("B", bu_ids[1]);
	fx_json_u64("C", bu_ids[2]);
	fx_json_close('}');
	fx_json_open("snapshot", '{');
	fx_json_i64("A", held[0]);
	fx_json_i64("B", held[1]);
	fx_json_i64("C", held[2]);
	fx_json_close('}');
	fx_json_i64("live_after_loads", live_after);
	fx_json_open("evicted", '[');
	for (int k = 0; k < bu_nevicted && k < 8; k++)
		fx_json_u64(NULL, bu_evicted[k]);
	fx_json_close(']');
	fx_json_i64("live_end", bu_live(bu_node));
	fx_json_i64("c_after_realloc", bu_held(bu_ids[2]));
	bu_json_verdicts();
	return fx_json_write(1) == 0 ? 0 : 1;
}
