/* bu_feeder.c - an evictor that loads a replacement for every asset it evicts
 *
 *     bu_feeder
 *
 * One node, "cache": soft 128 KiB, hard 16 MiB, LRU, type "tile" bound to
 * it. The game loads T1, T2, T3 (64 KiB each, touched) in frame 1. The
 * evictor, as a streaming system that swaps a tile for a lower-detail one
 * of the same size might, loads R<n> (64 KiB, type "tile", not touched)
 * before it unloads its victim: the node gets nothing back.
 *
 * At the end of frame 1 the node (192 KiB) is over its soft limit: T1, T2
 * and T3 are evicted once each (3 calls, each an evictor_no_progress
 * validation) and the frame ends. R1..R3, loaded while that eviction ran,
 * are no victims of it: never touched, LRU would take each first, and each
 * of their evictions would load the next, 4096 evictions and 256 MiB in
 * one frame end (the game looked hung). At the end of frame 2 R1..R3 are
 * the node's, and are evicted (3 calls, loading R4..R6).
 *
 * Then node "strip" (hard 192 KiB, type "strip", the same evictor): S1..S3
 * fill it; loading S4 evicts S1, S2, S3 (3 calls, each loading a
 * replacement over the limit, soft mode) and goes over: the replacements
 * are no victims of that allocation, whose eviction calls (up to 64) fed
 * on them before, one replacement evicted for the next.
 *
 * Last, node "still" (hard 40 x 64 KiB, type "still") with an evictor that
 * frees nothing: U1..U40 fill it; each load after them calls the evictor
 * 16 times at most, all the allocation's rounds together (each round
 * stopped at 16 before, and one allocation called it for every asset
 * there, 40 calls): U41's load tries U1..U16 and goes over, U42's
 * U17..U32, U43's U33..U40 and U41, U42 (10: nothing else is left).
 *
 * JSON: ids {T1..T3}, evicted (asset ids in call order, frame 1 then 2),
 * calls_frame1, calls_frame2, calls_hard, live_end, still_calls [per load
 * of U41..U43], still_victims (asset ids in call order), verdicts.
 */
#define _GNU_SOURCE
#include "bu_common.h"

#include <stdio.h>

#define BU_TILE BU_KIB(64)
#define BU_MAX 128
#define BU_STILL 40 /* assets that fill node still */

static uint32_t bu_node, bu_strip;
static const char *bu_type = "tile";
static struct {
	uint64_t id;
	void *mem;
} bu_tiles[BU_MAX];
static int bu_ntiles, bu_nreplacements;
static uint64_t bu_evicted[BU_MAX];
static int bu_nevicted;
static uint64_t bu_still_victims[BU_MAX];
static int bu_nstill;

static uint64_t bu_load(const char *name, int touch)
{
	uint64_t id = gmtrace_asset_load_begin(name, bu_type);
	void *p = bu_malloc(BU_TILE);
	FX_CHECK(p != NULL && bu_ntiles < BU_MAX, "a tile loads");
	fx_touch(p, BU_TILE);
	gmtrace_asset_load_end(id, 1);
	if (touch)
		gmtrace_asset_touch(id);
	bu_tiles[bu_ntiles].id = id;
	bu_tiles[bu_ntiles++].mem = p;
	return id;
}

static void bu_evict(uint64_t id, void *user)
{
	char name[8];
	(void)user;
	if (bu_nevicted < BU_MAX)
		bu_evicted[bu_nevicted++] = id;
	snprintf(name, sizeof(name), "R%d", ++bu_nreplacements);
	bu_load(name, 0);
	for (int k = 0; k < bu_ntiles; k++)
		if (bu_tiles[k].id == id && bu_tiles[k].mem) {
			gmtrace_asset_unload_begin(id);
			bu_free(bu_tiles[k].mem);
			gmtrace_asset_unload_end(id);
			bu_tiles[k].mem = NULL;
		}
}

/* node still's evictor: frees nothing */
static void bu_still_evict(uint64_t id, void *user)
{
	(void)user;
	if (bu_nstill < BU_MAX)
		bu_still_victims[bu_nstill] = id;
	bu_nstill++;
}

int main(void)
{
	uint64_t t[3];
	int frame1, frame2;

	fx_name = "bu_feeder";
	FX_CHECK(gmtrace_enabled(), "runs under libgmtrace");
	bu_node = gmtrace_budget_define("cache", NULL, BU_KIB(128), BU_MIB(16));
	FX_CHECK(bu_node != 0, "node defined");
	FX_CHECK(gmtrace_budget_bind_type(bu_node, "tile") == 0, "tile bound");
	FX_CHECK(gmtrace_budget_policy(bu_node, GMTRACE_EVICT_LRU, 0, -1) == 0, "policy");
	FX_CHECK(gmtrace_budget_evictor(bu_node, bu_evict, NULL) == 0, "evictor");

	t[0] = bu_load("T1", 1);
	t[1] = bu_load("T2", 1);
	t[2] = bu_load("T3", 1);
	bu_expect("node live after the loads", (int64_t)(3 * BU_TILE), bu_live(bu_node));
	GMTRACE_FRAME();
	frame1 = bu_nevicted;
	bu_expect("frame 1: T1, T2, T3 evicted once each", 3, frame1);
	for (int k = 0; k < 3 && k < frame1; k++)
		bu_expect("frame 1: victims oldest first", (int64_t)t[k], (int64_t)bu_evicted[k]);
	bu_expect("node live after frame 1: R1..R3", (int64_t)(3 * BU_TILE), bu_live(bu_node));
	GMTRACE_FRAME();
	bu_expect("frame 2: R1, R2, R3 evicted", 3, bu_nevicted - frame1);

	/* a hard limit: one allocation's eviction calls */
	bu_strip = gmtrace_budget_define("strip", NULL, 0, BU_KIB(192));
	FX_CHECK(bu_strip != 0, "strip defined");
	FX_CHECK(gmtrace_budget_bind_type(bu_strip, "strip") == 0, "strip bound");
	FX_CHECK(gmtrace_budget_evictor(bu_strip, bu_evict, NULL) == 0, "strip evictor");
	bu_type = "strip";
	bu_load("S1", 1);
	bu_load("S2", 1);
	bu_load("S3", 1);
	frame2 = bu_nevicted;
	bu_load("S4", 1);
	bu_expect("S4's load: S1, S2, S3 evicted, no replacement", 3, bu_nevicted - frame2);

	/* an evictor that frees nothing: 16 calls an allocation */
	uint32_t still = gmtrace_budget_define("still", NULL, 0, BU_STILL * BU_TILE);
	int still_calls[3];
	FX_CHECK(still != 0, "still defined");
	FX_CHECK(gmtrace_budget_bind_type(still, "still") == 0, "still bound");
	FX_CHECK(gmtrace_budget_evictor(still, bu_still_evict, NULL) == 0, "still evictor");
	bu_type = "still";
	for (int k = 1; k <= BU_STILL + 3; k++) {
		char name[8];
		int before = bu_nstill;
		snprintf(name, sizeof(name), "U%d", k);
		bu_load(name, 1);
		if (k > BU_STILL)
			still_calls[k - BU_STILL - 1] = bu_nstill - before;
	}
	bu_expect("U41's load: 16 calls", 16, still_calls[0]);
	bu_expect("U42's load: 16 calls", 16, still_calls[1]);
	bu_expect("U43's load: the 10 assets left", 10, still_calls[2]);

	fx_json_begin();
	fx_json_open("ids", '{');
	fx_json_u64("T1", t[0]);
	fx_json_u64("T2", t[1]);
	fx_json_u64("T3", t[2]);
	fx_json_close('}');
	fx_json_open("evicted", '[');
	for (int k = 0; k < bu_nevicted && k < BU_MAX; k++)
		fx_json_u64(NULL, bu_evicted[k]);
	fx_json_close(']');
	fx_json_u64("calls_frame1", (uint64_t)frame1);
	fx_json_u64("calls_frame2", (uint64_t)(frame2 - frame1));
	fx_json_u64("calls_hard", (uint64_t)(bu_nevicted - frame2));
	fx_json_i64("live_end", bu_live(bu_node));
	fx_json_open("still_calls", '[');
	for (int k = 0; k < 3; k++)
		fx_json_u64(NULL, (uint64_t)still_calls[k]);
	fx_json_close(']');
	fx_json_open("still_victims", '[');
	for (int k = 0; k < bu_nstill && k < BU_MAX; k++)
		fx_json_u64(NULL, bu_still_victims[k]);
	fx_json_close(']');
	bu_json_verdicts();
	return fx_json_write(1) == 0 ? 0 : 1;
}
