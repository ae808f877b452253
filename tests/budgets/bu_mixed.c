/* bu_mixed.c - a node holding assets with and without an evictor, and a block no eviction can fit
 *
 *     bu_mixed
 *
 * One node, "world": hard 16 MiB, LRU, strict, types "texture" and "mesh"
 * bound to it; only meshes have an evictor (gmtrace_budget_evictor_type).
 * Assets are 4 MiB blocks, touched right after their load, so LRU order is
 * load order.
 *
 *   frame 1: T1, T2, M1 (12 MiB)            frame 2: M2 (16 MiB: fits)
 *   frame 3: T3 is over the limit. T1 and T2 come first but have no
 *            evictor: a no_evictor validation each, and each is left alone
 *            until the next frame end; M1 is evicted and T3 loads. Then T4:
 *            T1 and T2 are left alone, M2 is evicted, T4 loads.
 *   frame 4: T5: T1..T4 are tried (four no_evictor validations) and nothing
 *            can go: the load fails (NULL), at once. T6 fails too, with no
 *            more validations (every texture left alone this frame). The
 *            game unloads T4 itself and loads M3 (16 MiB again); then a
 *            32 MiB texture, over the hard limit by itself, fails at once:
 *            M3, which could be evicted, stays (evicting it would not help).
 *
 * Checks: evictor calls (M1, M2), the node's live bytes after each step,
 * failures 3, violations 0; the capture's validations are the test's.
 *
 * JSON: ids {T1..T6, M1..M3, huge}, evicted (asset ids in call order),
 * null_loads (names of the loads that got NULL), live_end, failures,
 * violations, evictions_counted, verdicts.
 */
#define _GNU_SOURCE
#include "bu_common.h"

#define BU_BLOCK BU_MIB(4)
#define BU_HUGE BU_MIB(32)
#define BU_HARD BU_MIB(16)
#define BU_NASSETS 10

typedef struct bu_asset {
	const char *name, *type;
	uint64_t id;
	void *mem;
} bu_asset_t;

enum {
	T1,
	T2,
	T3,
	T4,
	T5,
	T6,
	M1,
	M2,
	M3,
	HUGE_T
};
static bu_asset_t bu_assets[BU_NASSETS] = {
        {"T1", "texture", 0, NULL},   {"T2", "texture", 0, NULL}, {"T3", "texture", 0, NULL},
        {"T4", "texture", 0, NULL},   {"T5", "texture", 0, NULL}, {"T6", "texture", 0, NULL},
        {"M1", "mesh", 0, NULL},      {"M2", "mesh", 0, NULL},    {"M3", "mesh", 0, NULL},
        {"huge", "texture", 0, NULL},
};
static uint32_t bu_node;
static int64_t bu_model; /* live bytes the fixture holds in the node */
static uint64_t bu_evicted[BU_NASSETS];
static int bu_nevicted;
static const char *bu_null[BU_NASSETS];
static int bu_nnull;

static bu_asset_t *bu_by_id(uint64_t id)
{
	for (int i = 0; i < BU_NASSETS; i++)
		if (bu_assets[i].id == id)
			return &bu_assets[i];
	return NULL;
}

static void bu_unload(bu_asset_t *a)
{
	gmtrace_asset_unload_begin(a->id);
	bu_free(a->mem);
	gmtrace_asset_unload_end(a->id);
	a->mem = NULL;
	bu_model -= (int64_t)BU_BLOCK;
}

/* meshes only */
static void bu_evict(uint64_t id, void *user)
{
	bu_asset_t *a = bu_by_id(id);
	(void)user;
	if (bu_nevicted < BU_NASSETS)
		bu_evicted[bu_nevicted++] = id;
	bu_expect_true("evictor: a resident mesh", a && a->mem && strcmp(a->type, "mesh") == 0);
	if (a && a->mem)
		bu_unload(a);
}

/* Loads asset k with one block of n bytes; 1 if it got the memory. */
static int bu_load(int k, uint64_t n)
{
	bu_asset_t *a = &bu_assets[k];
	void *p;
	a->id = gmtrace_asset_load_begin(a->name, a->type);
	p = bu_malloc(n);
	gmtrace_asset_load_end(a->id, p != NULL);
	if (!p) {
		bu_null[bu_nnull++] = a->name;
		return 0;
	}
	fx_touch(p, n);
	a->mem = p;
	bu_model += (int64_t)n;
	gmtrace_asset_touch(a->id);
	return 1;
}

int main(void)
{
	gmtrace_budget_node_t nodes[BU_MAX_NODES];
	const gmtrace_budget_node_t *b;
	size_t na = 0, nn;

	fx_name = "bu_mixed";
	FX_CHECK(gmtrace_enabled(), "runs under libgmtrace");
	bu_node = gmtrace_budget_define("world", NULL, 0, BU_HARD);
	FX_CHECK(bu_node != 0, "node defined");
	FX_CHECK(gmtrace_budget_bind_type(bu_node, "texture") == 0, "texture bound");
	FX_CHECK(gmtrace_budget_bind_type(bu_node, "mesh") == 0, "mesh bound");
	FX_CHECK(gmtrace_budget_policy(bu_node, GMTRACE_EVICT_LRU, 0, 1) == 0, "policy");
	FX_CHECK(gmtrace_budget_evictor_type("mesh", bu_evict, NULL) == 0, "mesh evictor");

	FX_CHECK(bu_load(T1, BU_BLOCK) && bu_load(T2, BU_BLOCK) && bu_load(M1, BU_BLOCK),
	         "frame 1 loads");
	GMTRACE_FRAME();
	FX_CHECK(bu_load(M2, BU_BLOCK), "frame 2: M2 fits");
	GMTRACE_FRAME();
	bu_expect("frame 3: T3 loads, M1 evicted", 1, bu_load(T3, BU_BLOCK));
	bu_expect("frame 3: T4 loads, M2 evicted", 1, bu_load(T4, BU_BLOCK));
	bu_expect("frame 3: live", bu_model, bu_live(bu_node));
	GMTRACE_FRAME();
	bu_expect("frame 4: T5 fails", 0, bu_load(T5, BU_BLOCK));
	bu_expect("frame 4: T6 fails", 0, bu_load(T6, BU_BLOCK));
	bu_unload(&bu_assets[T4]);
	bu_expect("frame 4: M3 loads", 1, bu_load(M3, BU_BLOCK));
	bu_expect("frame 4: the huge texture fails", 0, bu_load(HUGE_T, BU_HUGE));
	bu_expect("frame 4: M3 stays", 1, bu_assets[M3].mem != NULL);
	bu_expect("frame 4: live", bu_model, bu_live(bu_node));
	GMTRACE_FRAME();

	bu_expect("evictor calls", 2, bu_nevicted);
	nn = gmtrace_budget_snapshot(nodes, BU_MAX_NODES, NULL, 0, &na);
	b = bu_node_in(nodes, nn, bu_node);
	FX_CHECK(b != NULL, "node in the snapshot");
	bu_expect("failures", 3, (int64_t)b->failures);
	bu_expect("violations", 0, (int64_t)b->violations);

	fx_json_begin();
	fx_json_open("ids", '{');
	for (int i = 0; i < BU_NASSETS; i++)
		fx_json_u64(bu_assets[i].name, bu_assets[i].id);
	fx_json_close('}');
	fx_json_open("evicted", '[');
	for (int i = 0; i < bu_nevicted && i < BU_NASSETS; i++)
		fx_json_u64(NULL, bu_evicted[i]);
	fx_json_close(']');
	fx_json_open("null_loads", '[');
	for (int i = 0; i < bu_nnull; i++)
		fx_json_str(NULL, bu_null[i]);
	fx_json_close(']');
	fx_json_i64("live_end", bu_live(bu_node));
	fx_json_u64("failures", b->failures);
	fx_json_u64("violations", b->violations);
	fx_json_u64("evictions_counted", b->evictions);
	bu_json_verdicts();
	return fx_json_write(1) == 0 ? 0 : 1;
}
