/* bu_evil.c - evictors that misbehave: free nothing, allocate, call back into gmtrace
 *
 *     bu_evil
 *
 * Nodes (MiB): "evil" (hard 16, LRU; no binding: it counts its children)
 * > "lazy" (soft 6, target 4, hard 32, LRU, type lazy), "greedy" (hard 32,
 * type greedy), "chatty" (hard 32, type chatty). Each type has its own
 * evictor (gmtrace_budget_evictor_type). Assets are 4 MiB blocks.
 *
 * lazy (frames 1-2): L1..L5 in frame 1. The lazy evictor records the call
 *   and frees nothing. Loading L5 takes evil over 16 MiB: L1..L4 are tried
 *   once each, oldest first (4 calls, each an evictor_no_progress
 *   validation), then the allocation goes through as an over_hard violation
 *   (soft mode). Frame ends 1 and 2: lazy (20 MiB) is over its soft limit:
 *   over_soft, and L1..L5 are tried once each (5 calls each time: an asset
 *   whose evictor freed nothing is left alone until the next frame end, not
 *   forever). 14 calls in all; the game goes on.
 * greedy (frames 3-7): the game unloads L1..L5 itself, then loads G1..G5.
 *   G5 takes evil over: the greedy evictor gets G1, allocates 1 MiB for
 *   itself (evictors run with no tag and no asset: no budget's) and frees
 *   it; then, in G1's unload scope, allocates 1 MiB before freeing anything
 *   (evil would go over its limit, and there is no eviction inside an
 *   eviction: an over_hard violation of 1 MiB for asset G1), frees G1,
 *   allocates 1 MiB more (fits), frees both. Reclaimed: 4 MiB; G5 loads.
 * chatty (frames 8-12): the game unloads G2..G5, loads C1..C5. C5 takes
 *   evil over: the chatty evictor gets C1 and calls back into gmtrace: a
 *   snapshot (C1 resident, evil at 16 MiB), budget_find, a touch of C3,
 *   pins C2, unloads C1, then loads another asset, N1 (type chatty, 1 MiB)
 *   and touches it. Reclaimed: 3 MiB, not enough: the next victim is C4
 *   (C2 pinned, C3 and N1 touched this frame), unloaded plainly. C5 loads.
 *   At the end evil holds C2, C3, C5 and N1: 13 MiB.
 *
 * Checks: every evictor call against the expected victim, node live bytes
 * against the model after each phase, the call-backs' results; no deadlock
 * (the test's timeout).
 *
 * JSON: nodes {name: id}, assets [{name, id}], calls [{evictor, asset,
 * name, frame}], model and live per node at the end, evil's evictions,
 * violations, failures, frames, verdicts.
 */
#define _GNU_SOURCE
#include "bu_common.h"

#define BU_BLOCK BU_MIB(4)
#define BU_NOTE BU_MIB(1)
#define BU_MAX_ASSETS 32
#define BU_MAX_CALLS 64

enum {
	BU_EVIL,
	BU_LAZY,
	BU_GREEDY,
	BU_CHATTY,
	BU_NNODES
};
static const char *bu_node_names[BU_NNODES] = {"evil", "lazy", "greedy", "chatty"};
static uint32_t bu_id[BU_NNODES];
static int64_t bu_model[BU_NNODES];
static uint64_t bu_frame = 1;

typedef struct bu_asset {
	char name[4];
	int node;
	uint64_t id;
	void *mem;
	int resident;
} bu_asset_t;
static bu_asset_t bu_assets[BU_MAX_ASSETS];
static int bu_nassets;

typedef struct bu_call {
	const char *evictor;
	uint64_t asset, frame;
} bu_call_t;
static bu_call_t bu_calls[BU_MAX_CALLS];
static int bu_ncalls;
static int bu_chatty_calls;
static gmtrace_budget_asset_t bu_snap[BU_MAX_ASSETS + 8];

static void bu_charge(int node, int64_t delta)
{
	bu_model[node] += delta;
	bu_model[BU_EVIL] += delta;
}

static bu_asset_t *bu_find(uint64_t id)
{
	for (int k = 0; k < bu_nassets; k++)
		if (bu_assets[k].id == id)
			return &bu_assets[k];
	return NULL;
}

static bu_asset_t *bu_named(const char *name)
{
	for (int k = 0; k < bu_nassets; k++)
		if (strcmp(bu_assets[k].name, name) == 0)
			return &bu_assets[k];
	fx_fail("bu_named", name);
	return NULL;
}

static void bu_note_call(const char *evictor, uint64_t asset)
{
	if (bu_ncalls < BU_MAX_CALLS)
		bu_calls[bu_ncalls++] = (bu_call_t){evictor, asset, bu_frame};
}

static const char *bu_types[BU_NNODES] = {NULL, "lazy", "greedy", "chatty"};

static bu_asset_t *bu_load(const char *name, int node, uint64_t bytes)
{
	bu_asset_t *a;
	FX_CHECK(bu_nassets < BU_MAX_ASSETS, "asset table");
	a = &bu_assets[bu_nassets++];
	memcpy(a->name, name, strlen(name) + 1);
	a->node = node;
	a->id = gmtrace_asset_load_begin(name, bu_types[node]);
	a->mem = bu_malloc(bytes);
	FX_CHECK(a->mem != NULL, "a load under the budget succeeds (soft mode)");
	fx_touch(a->mem, bytes);
	a->resident = 1;
	bu_charge(node, (int64_t)bytes);
	gmtrace_asset_load_end(a->id, 1);
	gmtrace_asset_touch(a->id);
	return a;
}

static void bu_unload(bu_asset_t *a, uint64_t bytes)
{
	gmtrace_asset_unload_begin(a->id);
	bu_free(a->mem);
	a->mem = NULL;
	gmtrace_asset_unload_end(a->id);
	a->resident = 0;
	bu_charge(a->node, -(int64_t)bytes);
}

/* ---- the evictors ------------------------------------------------------------ */

/* Frees nothing. */
static void bu_lazy(uint64_t asset, void *user)
{
	(void)user;
	bu_note_call("lazy", asset);
}

/* Allocates for itself, then in the victim's unload scope before and after
 * freeing it. */
static void bu_greedy(uint64_t asset, void *user)
{
	bu_asset_t *a = bu_find(asset);
	void *own, *before, *after;
	(void)user;
	bu_note_call("greedy", asset);
	if (!bu_expect_true("greedy: a resident greedy asset", a && a->resident))
		return;
	/* outside any scope: an evictor runs with no tag and no asset, so this
	 * is not the loading asset's (G5) and no budget's */
	own = bu_malloc(BU_NOTE);
	bu_expect_true("greedy: its own allocation succeeds", own != NULL);
	bu_expect("greedy: its own allocation is no budget's", bu_model[BU_EVIL],
	          bu_live(bu_id[BU_EVIL]));
	bu_free(own);
	gmtrace_asset_unload_begin(asset);
	before = bu_malloc(BU_NOTE); /* evil is full: over the limit, no eviction inside one */
	bu_expect_true("greedy: the allocation before the free succeeds (soft mode)",
	               before != NULL);
	if (before)
		fx_touch(before, BU_NOTE);
	bu_free(a->mem);
	a->mem = NULL;
	after = bu_malloc(BU_NOTE); /* fits now */
	bu_expect_true("greedy: the allocation after the free succeeds", after != NULL);
	if (after)
		fx_touch(after, BU_NOTE);
	bu_free(before);
	bu_free(after);
	gmtrace_asset_unload_end(asset);
	a->resident = 0;
	bu_charge(a->node, -(int64_t)BU_BLOCK);
}

/* The first call uses the marker API every way it can; later calls unload. */
static void bu_chatty(uint64_t asset, void *user)
{
	bu_asset_t *a = bu_find(asset);
	(void)user;
	bu_note_call("chatty", asset);
	if (!bu_expect_true("chatty: a resident chatty asset", a && a->resident))
		return;
	if (bu_chatty_calls++ == 0) {
		gmtrace_budget_node_t nodes[BU_MAX_NODES];
		size_t na = 0, nn, k;
		int seen = 0;
		nn = gmtrace_budget_snapshot(nodes, BU_MAX_NODES, bu_snap,
		                             sizeof(bu_snap) / sizeof(bu_snap[0]), &na);
		for (k = 0; k < na && k < sizeof(bu_snap) / sizeof(bu_snap[0]); k++)
			if (bu_snap[k].id == asset)
				seen = bu_snap[k].state == 1;
		bu_expect_true("chatty: the victim is resident in a snapshot taken by its evictor",
		               seen);
		bu_expect("chatty: evil's live bytes in the evictor (nothing reserved yet)",
		          bu_model[BU_EVIL],
		          bu_node_in(nodes, nn, bu_id[BU_EVIL]) ?
		                  bu_node_in(nodes, nn, bu_id[BU_EVIL])->live_bytes :
		                  -1);
		bu_expect("chatty: budget_find in the evictor", bu_id[BU_EVIL],
		          gmtrace_budget_find("evil"));
		gmtrace_asset_touch(bu_named("C3")->id);
		gmtrace_asset_pin(bu_named("C2")->id, 1);
		bu_unload(a, BU_BLOCK);
		bu_load("N1", BU_CHATTY, BU_NOTE);
		return;
	}
	bu_unload(a, BU_BLOCK);
}

/* ---- the game ------------------------------------------------------------------ */

static void bu_check_nodes(const char *what)
{
	gmtrace_budget_node_t nodes[BU_MAX_NODES];
	size_t na = 0, nn = gmtrace_budget_snapshot(nodes, BU_MAX_NODES, NULL, 0, &na);
	for (int i = 0; i < BU_NNODES; i++) {
		const gmtrace_budget_node_t *b = bu_node_in(nodes, nn, bu_id[i]);
		bu_expect(what, bu_model[i], b ? b->live_bytes : -1);
	}
}

static void bu_frame_end(void)
{
	GMTRACE_FRAME();
	bu_frame++;
}

/* The calls expected from index from on: names in order, all with evictor e. */
static void bu_expect_calls(int *from, const char *e, const char *const *names, int n,
                            const char *what)
{
	for (int k = 0; k < n; k++, (*from)++) {
		const bu_call_t *c = *from < bu_ncalls ? &bu_calls[*from] : NULL;
		bu_expect(what, (int64_t)bu_named(names[k])->id, c ? (int64_t)c->asset : -1);
		bu_expect_true(what, c && strcmp(c->evictor, e) == 0);
	}
}

int main(void)
{
	static const char *const l[] = {"L1", "L2", "L3", "L4", "L5"};
	char name[4] = "X0";
	int at = 0;
	fx_name = "bu_evil";
	FX_CHECK(gmtrace_enabled(), "runs under libgmtrace");
	bu_id[BU_EVIL] = gmtrace_budget_define("evil", NULL, 0, BU_MIB(16));
	bu_id[BU_LAZY] = gmtrace_budget_define("lazy", "evil", BU_MIB(6), BU_MIB(32));
	bu_id[BU_GREEDY] = gmtrace_budget_define("greedy", "evil", 0, BU_MIB(32));
	bu_id[BU_CHATTY] = gmtrace_budget_define("chatty", "evil", 0, BU_MIB(32));
	for (int i = 0; i < BU_NNODES; i++)
		FX_CHECK(bu_id[i] != 0, "node defined");
	FX_CHECK(gmtrace_budget_policy(bu_id[BU_LAZY], GMTRACE_EVICT_LRU, BU_MIB(4), -1) == 0,
	         "lazy target");
	for (int i = 1; i < BU_NNODES; i++)
		FX_CHECK(gmtrace_budget_bind_type(bu_id[i], bu_types[i]) == 0, "type bound");
	FX_CHECK(gmtrace_budget_evictor_type("lazy", bu_lazy, NULL) == 0, "lazy evictor");
	FX_CHECK(gmtrace_budget_evictor_type("greedy", bu_greedy, NULL) == 0, "greedy evictor");
	FX_CHECK(gmtrace_budget_evictor_type("chatty", bu_chatty, NULL) == 0, "chatty evictor");

	/* lazy: frames 1-2 */
	for (int k = 1; k <= 5; k++) {
		name[0] = 'L';
		name[1] = (char)('0' + k);
		bu_load(name, BU_LAZY, BU_BLOCK);
	}
	bu_expect_calls(&at, "lazy", l, 4, "lazy: over evil's hard limit, L1..L4 tried");
	bu_frame_end();
	bu_expect_calls(&at, "lazy", l, 5, "lazy: frame end 1, every resident tried");
	bu_frame_end();
	bu_expect_calls(&at, "lazy", l, 5, "lazy: frame end 2, every resident tried again");
	bu_expect("lazy: 14 calls", 14, bu_ncalls);
	bu_check_nodes("lazy: live == model (nothing was freed)");

	/* greedy: frames 3-7 */
	for (int k = 1; k <= 5; k++)
		bu_unload(bu_named(l[k - 1]), BU_BLOCK);
	for (int k = 1; k <= 5; k++) {
		name[0] = 'G';
		name[1] = (char)('0' + k);
		bu_load(name, BU_GREEDY, BU_BLOCK);
		bu_frame_end();
	}
	{
		static const char *const g[] = {"G1"};
		bu_expect_calls(&at, "greedy", g, 1, "greedy: G1 evicted for G5");
	}
	bu_check_nodes("greedy: live == model");

	/* chatty: frames 8-12 */
	for (int k = 2; k <= 5; k++) {
		name[0] = 'G';
		name[1] = (char)('0' + k);
		bu_unload(bu_named(name), BU_BLOCK);
	}
	for (int k = 1; k <= 5; k++) {
		name[0] = 'C';
		name[1] = (char)('0' + k);
		bu_load(name, BU_CHATTY, BU_BLOCK);
		bu_frame_end();
	}
	{
		static const char *const c[] = {"C1", "C4"};
		bu_expect_calls(&at, "chatty", c, 2, "chatty: C1, then C4");
	}
	bu_expect("no other evictor call", at, bu_ncalls);
	bu_check_nodes("chatty: live == model");
	bu_expect("end: evil holds C2, C3, C5, N1", (int64_t)(3 * BU_BLOCK + BU_NOTE),
	          bu_model[BU_EVIL]);

	gmtrace_budget_node_t nodes[BU_MAX_NODES];
	size_t na = 0, nn = gmtrace_budget_snapshot(nodes, BU_MAX_NODES, NULL, 0, &na);
	fx_json_begin();
	fx_json_open("nodes", '{');
	for (int i = 0; i < BU_NNODES; i++)
		fx_json_u64(bu_node_names[i], bu_id[i]);
	fx_json_close('}');
	fx_json_u64("block_bytes", BU_BLOCK);
	fx_json_u64("note_bytes", BU_NOTE);
	fx_json_open("assets", '[');
	for (int k = 0; k < bu_nassets; k++) {
		fx_json_open(NULL, '{');
		fx_json_str("name", bu_assets[k].name);
		fx_json_u64("id", bu_assets[k].id);
		fx_json_bool("resident", bu_assets[k].resident);
		fx_json_close('}');
	}
	fx_json_close(']');
	fx_json_open("calls", '[');
	for (int k = 0; k < bu_ncalls; k++) {
		const bu_asset_t *a = bu_find(bu_calls[k].asset);
		fx_json_open(NULL, '{');
		fx_json_str("evictor", bu_calls[k].evictor);
		fx_json_u64("asset", bu_calls[k].asset);
		fx_json_str("name", a ? a->name : "?");
		fx_json_u64("frame", bu_calls[k].frame);
		fx_json_close('}');
	}
	fx_json_close(']');
	fx_json_open("live", '{');
	for (int i = 0; i < BU_NNODES; i++) {
		const gmtrace_budget_node_t *b = bu_node_in(nodes, nn, bu_id[i]);
		fx_json_i64(bu_node_names[i], b ? b->live_bytes : -1);
	}
	fx_json_close('}');
	fx_json_open("model", '{');
	for (int i = 0; i < BU_NNODES; i++)
		fx_json_i64(bu_node_names[i], bu_model[i]);
	fx_json_close('}');
	fx_json_open("stats", '{');
	for (int i = 0; i < BU_NNODES; i++) {
		const gmtrace_budget_node_t *b = bu_node_in(nodes, nn, bu_id[i]);
		fx_json_open(bu_node_names[i], '{');
		fx_json_u64("evictions", b ? b->evictions : 0);
		fx_json_u64("violations", b ? b->violations : 0);
		fx_json_u64("failures", b ? b->failures : 0);
		fx_json_close('}');
	}
	fx_json_close('}');
	fx_json_u64("frames", bu_frame - 1);
	bu_json_verdicts();
	return fx_json_write(1) == 0 ? 0 : 1;
}
