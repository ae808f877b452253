/* bu_strict.c - an allocation no eviction can satisfy, in strict and in soft mode
 *
 *     GMTRACE_BUDGET_MODE=strict bu_strict strict
 *     GMTRACE_BUDGET_MODE=soft   bu_strict soft
 *
 * The argument says which mode the fixture expects (the test sets the
 * environment, or a budget file's "mode"). One node, "level": hard 32 MiB,
 * LRU, type "mesh", an evictor that unloads. Meshes M1..M4 of 7 MiB
 * (28 MiB) are loaded in frames 1-4 and touched once; M1 and M2 are
 * pinned, M3 and M4 referenced: no asset can be evicted. Then, in frame 5:
 *
 *   1. load M5: malloc(14 MiB) would take the node to 42 MiB > 32;
 *   2. load M6: new char[14 MiB], then new (std::nothrow) char[14 MiB].
 *
 * An attempt that succeeds is kept: its asset is referenced at once, so it
 * is never a victim either.
 *
 * strict: malloc returns NULL with errno ENOMEM, new throws std::bad_alloc,
 *   the nothrow new returns nullptr, the node counts 3 failures and its live
 *   bytes stay 28 MiB; no evictor call. Then the game recovers, as at a
 *   level change: it unpins M1 and M2, releases M3 and M4 and loads M7, one
 *   block of 28 MiB: the budget evicts M1..M4 in LRU order (over the hard
 *   limit until 28 MiB fit) and the load should succeed in the room they
 *   left ("recovered_by_eviction"). If it does not, the game loads M7 at a
 *   quarter of the size (7 MiB, the size of a freed block). Last, M8:
 *   new char[3.5 MiB]. "recovered": M7 and M8 loaded.
 * soft: the three allocations succeed (their bytes written), each is
 *   recorded as over the hard limit; the node's live bytes after them, its
 *   violations and failures are reported as seen (the test says what they
 *   should be: 28 + 3 x 14 = 70 MiB, 3, 0). At the end the game unloads M5
 *   and M6: live 28 MiB again.
 *
 * JSON: mode, node, hard_limit, mesh_bytes, big_bytes, level_bytes,
 * small_bytes, malloc_null, malloc_errno, enomem, new_threw, nothrow_null,
 * recovered_by_eviction, recovered, m7_bytes, ids {M1..M8}, evictions
 * (asset ids in call order), live_before, live_after_attempts,
 * violations_after_attempts, failures_after_attempts, live_end, model_end,
 * violations, failures, evictions_counted, verdicts.
 */
#define _GNU_SOURCE
#include "bu_common.h"

int bu_cxx_new(size_t n, void **out);
int bu_cxx_new_nothrow(size_t n, void **out);
void bu_cxx_delete(void *p);

#define BU_HARD BU_MIB(32)
#define BU_MESH BU_MIB(7)
#define BU_BIG BU_MIB(14)
#define BU_LEVEL BU_MIB(28)
#define BU_SMALL BU_KIB(3584)

typedef struct bu_mesh {
	const char *name;
	uint64_t id, bytes;
	void *mem;
	int resident;
	int cxx; /* mem came from new[] */
} bu_mesh_t;

#define BU_NMESH 8
static bu_mesh_t bu_mesh[BU_NMESH + 1] = {{.name = ""},   {.name = "M1"}, {.name = "M2"},
                                          {.name = "M3"}, {.name = "M4"}, {.name = "M5"},
                                          {.name = "M6"}, {.name = "M7"}, {.name = "M8"}};
static uint32_t bu_node;
static int64_t bu_model;
static uint64_t bu_evicted[8];
static int bu_nevicted;

static void bu_evict(uint64_t asset, void *user)
{
	(void)user;
	for (int i = 1; i <= BU_NMESH; i++) {
		bu_mesh_t *m = &bu_mesh[i];
		if (m->id != asset || !m->resident)
			continue;
		gmtrace_asset_unload_begin(asset);
		if (m->cxx)
			bu_cxx_delete(m->mem);
		else
			bu_free(m->mem);
		m->mem = NULL;
		gmtrace_asset_unload_end(asset);
		m->resident = 0;
		bu_model -= (int64_t)m->bytes;
	}
	if (bu_nevicted < 8)
		bu_evicted[bu_nevicted++] = asset;
}

/* Loads mesh i with a block of bytes (from new[] when cxx); returns 1 when
 * it loaded, 0 when the allocation failed (the asset ends failed). */
static int bu_try_mesh(int i, uint64_t bytes, int cxx)
{
	bu_mesh_t *m = &bu_mesh[i];
	void *p = NULL;
	m->id = gmtrace_asset_load_begin(m->name, "mesh");
	if (cxx)
		bu_cxx_new(bytes, &p);
	else
		p = bu_malloc(bytes);
	if (p) {
		fx_touch(p, bytes);
		m->mem = p;
		m->bytes = bytes;
		m->cxx = cxx;
		m->resident = 1;
		bu_model += (int64_t)bytes;
	}
	gmtrace_asset_load_end(m->id, p != NULL);
	if (p)
		gmtrace_asset_touch(m->id);
	return p != NULL;
}

static void bu_unload_mesh(int i)
{
	bu_mesh_t *m = &bu_mesh[i];
	if (!m->resident)
		return;
	gmtrace_asset_unload_begin(m->id);
	if (m->cxx)
		bu_cxx_delete(m->mem);
	else
		bu_free(m->mem);
	gmtrace_asset_unload_end(m->id);
	m->mem = NULL;
	m->resident = 0;
	bu_model -= (int64_t)m->bytes;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int strict = strcmp(mode, "strict") == 0;
	int malloc_null, malloc_errno, new_threw, nothrow_null;
	int recovered = 0, by_eviction = 0;
	int64_t live_after;
	uint64_t violations_after, failures_after;
	void *big, *cxx = NULL, *cxx2 = NULL;
	gmtrace_budget_node_t nodes[BU_MAX_NODES];
	size_t na = 0, nn;
	const gmtrace_budget_node_t *b;

	fx_name = "bu_strict";
	if (!strict && strcmp(mode, "soft") != 0)
		fx_fail("arguments", "mode is strict or soft");
	FX_CHECK(gmtrace_enabled(), "runs under libgmtrace");
	bu_node = gmtrace_budget_define("level", NULL, 0, BU_HARD);
	FX_CHECK(bu_node != 0, "node defined");
	FX_CHECK(gmtrace_budget_bind_type(bu_node, "mesh") == 0, "type bound");
	FX_CHECK(gmtrace_budget_policy(bu_node, GMTRACE_EVICT_LRU, 0, -1) == 0, "policy");
	FX_CHECK(gmtrace_budget_evictor(bu_node, bu_evict, NULL) == 0, "evictor");

	for (int i = 1; i <= 4; i++) {
		FX_CHECK(bu_try_mesh(i, BU_MESH, 0), "a mesh under the limit loads");
		GMTRACE_FRAME();
	}
	gmtrace_asset_pin(bu_mesh[1].id, 1);
	gmtrace_asset_pin(bu_mesh[2].id, 1);
	gmtrace_asset_ref(bu_mesh[3].id);
	gmtrace_asset_ref(bu_mesh[4].id);
	bu_expect("before: live == 4 meshes", bu_model, bu_live(bu_node));

	/* 1. C: malloc over the limit with nothing evictable */
	bu_mesh[5].id = gmtrace_asset_load_begin("M5", "mesh");
	errno = 0;
	big = bu_malloc(BU_BIG);
	malloc_null = big == NULL;
	malloc_errno = errno;
	if (big) {
		fx_touch(big, BU_BIG);
		bu_mesh[5].mem = big;
		bu_mesh[5].bytes = BU_BIG;
		bu_mesh[5].resident = 1;
		bu_model += (int64_t)BU_BIG; /* soft: a violation still takes the bytes */
	}
	gmtrace_asset_load_end(bu_mesh[5].id, big != NULL);
	if (big)
		gmtrace_asset_ref(bu_mesh[5].id);

	/* 2. C++: new and nothrow new over the limit */
	bu_mesh[6].id = gmtrace_asset_load_begin("M6", "mesh");
	new_threw = bu_cxx_new(BU_BIG, &cxx) == 1;
	nothrow_null = bu_cxx_new_nothrow(BU_BIG, &cxx2) == 2;
	if (cxx) {
		bu_mesh[6].mem = cxx;
		bu_mesh[6].bytes = BU_BIG;
		bu_mesh[6].cxx = 1;
		bu_mesh[6].resident = 1;
		bu_model += (int64_t)BU_BIG;
	}
	if (cxx2)
		bu_model += (int64_t)BU_BIG;
	gmtrace_asset_load_end(bu_mesh[6].id, cxx != NULL);
	if (cxx)
		gmtrace_asset_ref(bu_mesh[6].id);

	nn = gmtrace_budget_snapshot(nodes, BU_MAX_NODES, NULL, 0, &na);
	b = bu_node_in(nodes, nn, bu_node);
	FX_CHECK(b != NULL, "node in the snapshot");
	live_after = b->live_bytes;
	violations_after = b->violations;
	failures_after = b->failures;
	bu_expect("no eviction: everything pinned or referenced", 0, bu_nevicted);

	if (strict) {
		bu_expect("strict: malloc returns NULL", 1, malloc_null);
		bu_expect("strict: errno ENOMEM", ENOMEM, malloc_errno);
		bu_expect("strict: new throws std::bad_alloc", 1, new_threw);
		bu_expect("strict: nothrow new returns nullptr", 1, nothrow_null);
		bu_expect("strict: live unchanged by failed allocations", bu_model, live_after);
		bu_expect("strict: 3 failures counted", 3, (int64_t)failures_after);
		bu_expect("strict: no violation", 0, (int64_t)violations_after);
		/* recover: let the budget evict, then load again */
		gmtrace_asset_pin(bu_mesh[1].id, 0);
		gmtrace_asset_pin(bu_mesh[2].id, 0);
		gmtrace_asset_release(bu_mesh[3].id);
		gmtrace_asset_release(bu_mesh[4].id);
		by_eviction = bu_try_mesh(7, BU_LEVEL, 0);
		if (!by_eviction)
			bu_try_mesh(7, BU_MESH, 0); /* a lower level of detail */
		recovered = bu_mesh[7].resident && bu_try_mesh(8, BU_SMALL, 1);
		bu_expect("strict: the game recovers", 1, recovered);
		for (int i = 1; i <= 4; i++)
			bu_expect("strict: M1..M4 evicted in LRU order", (int64_t)bu_mesh[i].id,
			          bu_nevicted >= i ? (int64_t)bu_evicted[i - 1] : -1);
	} else {
		bu_expect("soft: malloc succeeds", 0, malloc_null);
		bu_expect("soft: new succeeds", 0, new_threw);
		bu_expect("soft: nothrow new succeeds", 0, nothrow_null);
		/* the game lets go of them again */
		gmtrace_asset_release(bu_mesh[5].id);
		gmtrace_asset_release(bu_mesh[6].id);
		bu_unload_mesh(5);
		gmtrace_asset_unload_begin(bu_mesh[6].id);
		bu_cxx_delete(cxx);
		bu_cxx_delete(cxx2);
		gmtrace_asset_unload_end(bu_mesh[6].id);
		bu_mesh[6].resident = 0;
		bu_model -= (int64_t)(cxx ? BU_BIG : 0) + (int64_t)(cxx2 ? BU_BIG : 0);
	}
	GMTRACE_FRAME();

	nn = gmtrace_budget_snapshot(nodes, BU_MAX_NODES, NULL, 0, &na);
	b = bu_node_in(nodes, nn, bu_node);
	FX_CHECK(b != NULL, "node in the snapshot");
	bu_expect("end: live == model", bu_model, b->live_bytes);
	bu_expect_true("end: live <= hard limit", b->live_bytes <= (int64_t)BU_HARD);

	fx_json_begin();
	fx_json_str("mode", mode);
	fx_json_u64("node", bu_node);
	fx_json_u64("hard_limit", BU_HARD);
	fx_json_u64("mesh_bytes", BU_MESH);
	fx_json_u64("big_bytes", BU_BIG);
	fx_json_u64("level_bytes", BU_LEVEL);
	fx_json_u64("small_bytes", BU_SMALL);
	fx_json_bool("malloc_null", malloc_null);
	fx_json_u64("malloc_errno", (uint64_t)malloc_errno);
	fx_json_u64("enomem", ENOMEM);
	fx_json_bool("new_threw", new_threw);
	fx_json_bool("nothrow_null", nothrow_null);
	fx_json_bool("recovered_by_eviction", by_eviction);
	fx_json_bool("recovered", recovered);
	fx_json_u64("m7_bytes", bu_mesh[7].bytes);
	fx_json_open("ids", '{');
	for (int i = 1; i <= BU_NMESH; i++)
		fx_json_u64(bu_mesh[i].name, bu_mesh[i].id);
	fx_json_close('}');
	fx_json_open("evictions", '[');
	for (int k = 0; k < bu_nevicted; k++)
		fx_json_u64(NULL, bu_evicted[k]);
	fx_json_close(']');
	fx_json_i64("live_before", 4 * (int64_t)BU_MESH);
	fx_json_i64("live_after_attempts", live_after);
	fx_json_u64("violations_after_attempts", violations_after);
	fx_json_u64("failures_after_attempts", failures_after);
	fx_json_i64("live_end", b->live_bytes);
	fx_json_i64("model_end", bu_model);
	fx_json_u64("violations", b->violations);
	fx_json_u64("failures", b->failures);
	fx_json_u64("evictions_counted", b->evictions);
	bu_json_verdicts();
	return fx_json_write(1) == 0 ? 0 : 1;
}
