/* bu_common.h - what the budget fixtures share: verdicts, snapshots, a policy model
 *
 * A budget fixture is a small game that defines budget nodes (or reads them
 * from GMTRACE_BUDGETS), loads assets into them, and registers evictors
 * that unload what gmtrace asks for. It keeps its own model of every node's
 * live bytes and every asset's state, checks gmtrace against that model
 * while it runs (snapshots after allocations, at frame ends and inside
 * evictors) and prints one JSON line at exit (tests/fixtures/fixture.h)
 * with what happened and its verdicts:
 *
 *     "checks": checks made, "failed": [{"check", "expected", "got"}...]
 *
 * A failed check does not stop the fixture (the test shows them all);
 * a broken contract of the fixture itself (FX_CHECK) does.
 *
 * Sizes: the budget charges a block's usable size (jemalloc's size class),
 * so every deliberate block has a size that is its own class (powers of
 * two and 1.25/1.5/1.75 steps between them, page multiples) and the
 * expected live bytes are exact sums. Nothing inside a budgeted scope
 * calls stdio or anything else that could allocate.
 */
#ifndef BU_COMMON_H
#define BU_COMMON_H

#ifndef FX_JSON_BYTES
#define FX_JSON_BYTES (1u << 20)
#endif
#include "fixture.h"

#include <gmtrace.h>

#define BU_KIB(x) ((uint64_t)(x) << 10)
#define BU_MIB(x) ((uint64_t)(x) << 20)
#define BU_NEVER UINT64_MAX /* last touch of an asset never touched */

/* Evictors run inside malloc. GCC gives malloc and free (declared with the
 * malloc attribute) meanings of its own even with -fno-builtin: a store to
 * a global just before malloc was seen to be dropped, and the evictor that
 * malloc called read the old value. The fixtures call the allocator through
 * volatile pointers, so the calls are opaque and everything an evictor reads
 * or writes is in memory, in program order. */
static void *(*volatile bu_malloc)(size_t) = malloc;
static void (*volatile bu_free)(void *) = free;

/* ---- verdicts ----------------------------------------------------------- */

#define BU_MAX_FAILED 32

typedef struct bu_failure {
	const char *check;
	int64_t expected, got;
} bu_failure_t;

static uint64_t bu_nchecks; /* atomic */
static uint64_t bu_nfailed; /* atomic */
static bu_failure_t bu_failed[BU_MAX_FAILED];

/* One check of gmtrace against the fixture: counted; when expected != got
 * the first BU_MAX_FAILED are kept for the JSON line. Any thread. */
static inline int bu_expect(const char *check, int64_t expected, int64_t got)
{
	__atomic_add_fetch(&bu_nchecks, 1, __ATOMIC_RELAXED);
	if (expected == got)
		return 1;
	uint64_t k = __atomic_fetch_add(&bu_nfailed, 1, __ATOMIC_RELAXED);
	if (k < BU_MAX_FAILED) {
		bu_failed[k].check = check;
		bu_failed[k].expected = expected;
		bu_failed[k].got = got;
	}
	return 0;
}

/* A check that a condition holds (expected 1, got 0 when it does not). */
static inline int bu_expect_true(const char *check, int ok)
{
	return bu_expect(check, 1, ok != 0);
}

/* The verdicts into the JSON line. */
static inline void bu_json_verdicts(void)
{
	uint64_t n = __atomic_load_n(&bu_nfailed, __ATOMIC_RELAXED);
	fx_json_u64("checks", __atomic_load_n(&bu_nchecks, __ATOMIC_RELAXED));
	fx_json_u64("nfailed", n);
	fx_json_open("failed", '[');
	for (uint64_t i = 0; i < n && i < BU_MAX_FAILED; i++) {
		fx_json_open(NULL, '{');
		fx_json_str("check", bu_failed[i].check);
		fx_json_i64("expected", bu_failed[i].expected);
		fx_json_i64("got", bu_failed[i].got);
		fx_json_close('}');
	}
	fx_json_close(']');
}

/* ---- snapshots ------------------------------------------------------------- */

#define BU_MAX_NODES 64

/* Node id's entry in a snapshot of n nodes, or NULL. */
static inline const gmtrace_budget_node_t *bu_node_in(const gmtrace_budget_node_t *nodes, size_t n,
                                                      uint32_t id)
{
	for (size_t i = 0; i < n && i < BU_MAX_NODES; i++)
		if (nodes[i].id == id)
			return &nodes[i];
	return NULL;
}

/* Live bytes of node id now (one snapshot of the nodes only); -1 when the
 * node is not in it. */
static inline int64_t bu_live(uint32_t id)
{
	gmtrace_budget_node_t nodes[BU_MAX_NODES];
	size_t na = 0;
	size_t n = gmtrace_budget_snapshot(nodes, BU_MAX_NODES, NULL, 0, &na);
	const gmtrace_budget_node_t *b = bu_node_in(nodes, n, id);
	return b ? b->live_bytes : -1;
}

/* The policy's choice among snapshot assets under a set of nodes, as
 * gmtrace.h documents it: resident, no reference, node in the set; LRU:
 * oldest last touch (never touched first), LARGEST: most bytes, PRIORITY:
 * lowest priority; ties go to the lowest id. LFU is not in a snapshot
 * (no touch counts): fixtures model it themselves. 0 when none. in_set
 * says whether a node id is one of the root's subtree. */
static inline uint64_t bu_snapshot_choice(const gmtrace_budget_asset_t *a, size_t n, int policy,
                                          int (*in_set)(uint32_t node))
{
	uint64_t best = 0, best_key = UINT64_MAX;
	for (size_t i = 0; i < n; i++) {
		uint64_t key;
		if (a[i].state != 1 || a[i].refs > 0 || !in_set(a[i].node))
			continue;
		switch (policy) {
		case GMTRACE_EVICT_LARGEST:
			key = UINT64_MAX - a[i].bytes;
			break;
		case GMTRACE_EVICT_PRIORITY:
			key = (uint64_t)((int64_t)a[i].priority + INT64_MAX / 2);
			break;
		default:
			key = a[i].last_touch_frame == BU_NEVER ? 0 : a[i].last_touch_frame + 1;
			break;
		}
		if (key < best_key || (key == best_key && a[i].id < best)) {
			best_key = key;
			best = a[i].id;
		}
	}
	return best;
}

#endif /* BU_COMMON_H */
