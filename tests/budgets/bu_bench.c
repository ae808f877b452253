/* bu_bench.c - what a budget costs: allocation + free under a budgeted node, snapshot time
 *
 *     bu_bench [ROUNDS [PAIRS]]        (defaults 11 and 20000)
 *
 * Run under libgmtrace (bench_budgets.sh does). One node, "bench" (hard
 * 1 GiB: never reached), bound to tag "bench". For each size (64 B, 4 KiB)
 * and each capture level (events, then frames), ROUNDS rounds each time
 * PAIRS malloc+free pairs untagged (the process's allocator, through
 * gmtrace's hooks) and PAIRS pairs under the tag (the node's heap, counted
 * up the tree), in alternating order; per pair the median over rounds of
 * each, and the difference: what the budget adds.
 *
 * Then 64 B pairs in the load scope of an asset whose type is bound to a
 * second node ("bench_assets", hard 64 MiB) against pairs under the tag,
 * alternating, ROUNDS times: what noting each block's owner adds (the
 * asset's bytes are what it holds, budget/owner.h).
 *
 * Then 10,000 assets (type bound to the node, resident, no blocks) and
 * the median time of gmtrace_budget_snapshot() over them (nodes and
 * assets), and of one allocation that evicts (the victim search walks
 * every asset; the victim is a 63 MiB holder, unloaded and freed).
 *
 * Output: text lines, one per figure, then one JSON line with all of them
 * (times x10, integers).
 */
#define _GNU_SOURCE
#include "bu_common.h"

#include <stdio.h>
#include <time.h>

#define BU_MAX_ROUNDS 101
#define BU_ASSETS 10000

static uint64_t bu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int bu_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double bu_median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), bu_cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ns per malloc+free pair of size n, PAIRS times */
static double bu_pairs(size_t n, uint64_t pairs)
{
	uint64_t t0 = bu_ns();
	for (uint64_t i = 0; i < pairs; i++) {
		void *p = bu_malloc(n);
		fx_sink = p;
		bu_free(p);
	}
	return (double)(bu_ns() - t0) / (double)pairs;
}

static uint64_t bu_ids[BU_ASSETS + 64];
static gmtrace_budget_asset_t bu_snap[BU_ASSETS + 64];
static uint64_t bu_holder;
static void *bu_holder_mem;

/* Only the holder is ever a victim (policy largest): unload it, free its block. */
static void bu_evict(uint64_t asset, void *user)
{
	(void)user;
	gmtrace_asset_unload_begin(asset);
	if (asset == bu_holder && bu_holder_mem) {
		bu_free(bu_holder_mem);
		bu_holder_mem = NULL;
	}
	gmtrace_asset_unload_end(asset);
}

static void bu_load_holder(void)
{
	bu_holder = gmtrace_asset_load_begin("holder", "bench");
	bu_holder_mem = bu_malloc(BU_MIB(63));
	FX_CHECK(bu_holder_mem != NULL, "holder");
	gmtrace_asset_load_end(bu_holder, 1);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {64, 4096};
	static const char *const levels[] = {"events", "frames"};
	uint64_t rounds = fx_arg_u64(argc > 1 ? argv[1] : NULL, 11);
	uint64_t pairs = fx_arg_u64(argc > 2 ? argv[2] : NULL, 20000);
	double plain[BU_MAX_ROUNDS], budgeted[BU_MAX_ROUNDS], added[BU_MAX_ROUNDS];
	double res[2][2][3], snap_us, evict_us, scope[3];
	uint32_t node, small;
	uint32_t tag;

	fx_name = "bu_bench";
	FX_CHECK(rounds >= 1 && rounds <= BU_MAX_ROUNDS && pairs >= 1, "arguments");
	FX_CHECK(gmtrace_enabled(), "runs under libgmtrace");
	node = gmtrace_budget_define("bench", NULL, 0, BU_MIB(1024));
	FX_CHECK(node != 0, "node");
	FX_CHECK(gmtrace_budget_bind_tag(node, "bench") == 0, "tag bound");
	tag = gmtrace_tag_id("bench");

	for (int l = 0; l < 2; l++) {
		FX_CHECK(gmtrace_level_set(l) == 0, "level");
		for (int s = 0; s < 2; s++) {
			bu_pairs(sizes[s], pairs); /* warm both paths */
			gmtrace_tag_push_id(tag);
			bu_pairs(sizes[s], pairs);
			gmtrace_tag_pop();
			for (uint64_t r = 0; r < rounds; r++) {
				int first = (int)(r % 2);
				for (int k = 0; k < 2; k++) {
					if (k == first) {
						plain[r] = bu_pairs(sizes[s], pairs);
					} else {
						gmtrace_tag_push_id(tag);
						budgeted[r] = bu_pairs(sizes[s], pairs);
						gmtrace_tag_pop();
					}
				}
				added[r] = budgeted[r] - plain[r];
			}
			res[l][s][0] = bu_median(plain, (int)rounds);
			res[l][s][1] = bu_median(budgeted, (int)rounds);
			res[l][s][2] = bu_median(added, (int)rounds);
			GMTRACE_FRAME();
		}
	}
	FX_CHECK(bu_live(node) == 0, "every block freed");

	/* 10,000 assets: snapshot, and an eviction that searches them all */
	small = gmtrace_budget_define("bench_assets", NULL, 0, BU_MIB(64));
	FX_CHECK(small != 0, "node");
	FX_CHECK(gmtrace_budget_bind_type(small, "bench") == 0, "type bound");
	FX_CHECK(gmtrace_budget_evictor(small, bu_evict, NULL) == 0, "evictor");
	FX_CHECK(gmtrace_budget_policy(small, GMTRACE_EVICT_LARGEST, 0, -1) == 0, "policy");
	{
		double in_tag[BU_MAX_ROUNDS], in_asset[BU_MAX_ROUNDS], diff[BU_MAX_ROUNDS];
		FX_CHECK(gmtrace_level_set(0) == 0, "level");
		for (uint64_t r = 0; r <= rounds; r++) { /* round 0 warms both */
			uint64_t id = gmtrace_asset_load_begin("scope", "bench");
			double a = bu_pairs(64, pairs), b;
			gmtrace_asset_load_end(id, 1);
			gmtrace_tag_push_id(tag);
			b = bu_pairs(64, pairs);
			gmtrace_tag_pop();
			if (r) {
				in_asset[r - 1] = a;
				in_tag[r - 1] = b;
				diff[r - 1] = a - b;
			}
		}
		scope[0] = bu_median(in_tag, (int)rounds);
		scope[1] = bu_median(in_asset, (int)rounds);
		scope[2] = bu_median(diff, (int)rounds);
	}
	for (int i = 0; i < BU_ASSETS; i++) {
		bu_ids[i] = gmtrace_asset_load_begin("a", "bench");
		gmtrace_asset_load_end(bu_ids[i], 1);
	}
	{
		double t[BU_MAX_ROUNDS];
		gmtrace_budget_node_t nodes[BU_MAX_NODES];
		size_t na = 0;
		for (uint64_t r = 0; r < rounds; r++) {
			uint64_t t0 = bu_ns();
			gmtrace_budget_snapshot(nodes, BU_MAX_NODES, bu_snap, BU_ASSETS + 64, &na);
			t[r] = (double)(bu_ns() - t0) / 1000.0;
		}
		FX_CHECK(na >= BU_ASSETS, "the snapshot sees the assets");
		snap_us = bu_median(t, (int)rounds);
	}
	{
		/* one asset holds 63 MiB; each round loads a 2 MiB one: 65 > 64,
		 * the search (largest first) walks all 10,000 and evicts the
		 * holder; the timed allocation includes the evictor's unload and
		 * free of 63 MiB */
		double t[BU_MAX_ROUNDS];
		for (uint64_t r = 0; r < rounds; r++) {
			bu_load_holder();
			uint64_t id = gmtrace_asset_load_begin("probe", "bench");
			uint64_t t0 = bu_ns();
			void *p = bu_malloc(BU_MIB(2));
			t[r] = (double)(bu_ns() - t0) / 1000.0;
			FX_CHECK(p != NULL && bu_holder_mem == NULL,
			         "the probe evicted the holder");
			gmtrace_asset_load_end(id, 1);
			gmtrace_asset_unload_begin(id);
			bu_free(p);
			gmtrace_asset_unload_end(id);
		}
		evict_us = bu_median(t, (int)rounds);
	}

	/* stdio only now, after every measurement */
	for (int l = 0; l < 2; l++)
		for (int s = 0; s < 2; s++)
			printf("budgets.alloc_free.%s.%zu: untagged %.1f ns, budgeted %.1f ns, "
			       "added %.1f ns per pair (medians of %llu rounds x %llu pairs)\n",
			       levels[l], sizes[s], res[l][s][0], res[l][s][1], res[l][s][2],
			       (unsigned long long)rounds, (unsigned long long)pairs);
	printf("budgets.alloc_free.asset_scope.64: under the tag %.1f ns, in an asset's scope "
	       "%.1f ns, added %.1f ns per pair (medians of %llu rounds x %llu pairs)\n",
	       scope[0], scope[1], scope[2], (unsigned long long)rounds, (unsigned long long)pairs);
	printf("budgets.snapshot.10000_assets: %.1f us (median)\n", snap_us);
	printf("budgets.evict.10000_assets: %.1f us per evicting allocation (median)\n", evict_us);
	fflush(stdout);

	fx_json_begin();
	fx_json_u64("rounds", rounds);
	fx_json_u64("pairs", pairs);
	fx_json_open("alloc_free", '[');
	for (int l = 0; l < 2; l++)
		for (int s = 0; s < 2; s++) {
			fx_json_open(NULL, '{');
			fx_json_str("level", levels[l]);
			fx_json_u64("size", sizes[s]);
			fx_json_u64("untagged_ns_x10", (uint64_t)(res[l][s][0] * 10 + 0.5));
			fx_json_u64("budgeted_ns_x10", (uint64_t)(res[l][s][1] * 10 + 0.5));
			fx_json_i64("added_ns_x10",
			            (int64_t)(res[l][s][2] * 10 + (res[l][s][2] < 0 ? -0.5 : 0.5)));
			fx_json_close('}');
		}
	fx_json_close(']');
	fx_json_open("asset_scope", '{');
	fx_json_u64("tag_ns_x10", (uint64_t)(scope[0] * 10 + 0.5));
	fx_json_u64("asset_ns_x10", (uint64_t)(scope[1] * 10 + 0.5));
	fx_json_i64("added_ns_x10", (int64_t)(scope[2] * 10 + (scope[2] < 0 ? -0.5 : 0.5)));
	fx_json_close('}');
	fx_json_u64("snapshot_us_x10", (uint64_t)(snap_us * 10 + 0.5));
	fx_json_u64("evict_us_x10", (uint64_t)(evict_us * 10 + 0.5));
	return fx_json_write(1) == 0 ? 0 : 1;
}
