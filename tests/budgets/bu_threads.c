/* bu_threads.c - four loader threads stream chunks through one budget at once
 *
 *     bu_threads [LOADS_PER_THREAD [HARD_KIB [THREADS]]]   (defaults 600, 32768, 4)
 *
 * Nodes: "stream" (hard HARD, soft 7/8 and target 3/4 of it: 32, 28 and
 * 24 MiB by default; LRU; no binding: its limits count its child) >
 * "chunks" (hard 48 MiB, type "chunk": its heap has room to spare, so the
 * limit that bites is stream's, in the allocation: over_hard). One evictor, on "stream", runs
 * on whatever thread gmtrace calls it from and unloads any chunk, whoever
 * loaded it: it takes the chunk's block out of the shared table with an
 * atomic exchange, so a chunk is freed once.
 *
 * Four (THREADS) loader threads each load LOADS chunks of 448 KiB (a size
 * class): load scope, malloc (every other chunk: malloc of 64 KiB grown by
 * realloc), both ends written, block published in the table, load end,
 * touch. A monitor thread takes node snapshots in a loop and
 * ends a frame every 64 snapshots (frame ends evict too: soft limit),
 * until the loaders are done; between snapshots it replaces stream's
 * evictor with the other of two, each with a user pointer of its own (a
 * game swapping evictors while others evict). The stress test runs it with a smaller budget
 * and more threads.
 *
 * Checks:
 *   - every snapshot (loaders after each allocation, the monitor in its
 *     loop): stream's live bytes <= HARD + THREADS x 448 KiB, i.e. over
 *     the limit by at most one allocation in flight per thread (a
 *     reservation is added, found over the limit and taken back);
 *   - at the end (threads joined): stream's and chunks' live bytes == held
 *     == 448 KiB x chunks in the table == the bytes of the snapshot's
 *     resident chunk assets; every chunk's snapshot state matches the table;
 *     evictions counted by gmtrace == evictor calls; no failure; no
 *     evictor called with the other evictor's user pointer.
 *
 * Reported, not checked (the test decides): held (the fixture's own count
 * of chunk bytes it holds: added after malloc returns, taken away before
 * free) going over the hard limit (held_over_limit, max_held: only an
 * over_hard violation lets that happen), and evictor calls for a chunk
 * already evicted (double_evictions).
 *
 * JSON: threads, loads_per_thread, chunk_bytes, hard_limit, chunks_hard,
 * evictions, node_evictions, resident, held, live_stream, live_chunks,
 * snapshot_resident_bytes, max_live_seen, max_excess, over_limit_snapshots,
 * snapshots, frames, double_evictions, evictor_swaps, wrong_user,
 * held_over_limit, max_held,
 * violations (over_soft and over_hard together), failures, verdicts.
 */
#define _GNU_SOURCE
#include "bu_common.h"

#include <pthread.h>

#define BU_MAX_THREADS 16
#define BU_CHUNK BU_KIB(448)
#define BU_HARD_DEFAULT BU_MIB(32)
#define BU_CHUNKS_HARD BU_MIB(48)
#define BU_MAX_IDS 16384

static uint32_t bu_stream, bu_chunks;
static void *bu_mem[BU_MAX_IDS]; /* asset id -> block (atomic) */
static int64_t bu_held;          /* atomic */
static uint64_t bu_evictions;    /* atomic */
static int64_t bu_max_live;      /* atomic max */
static uint64_t bu_over_limit;   /* snapshots with live > hard (atomic) */
static uint64_t bu_snapshots;    /* atomic */
static int bu_done;              /* atomic: loaders finished */
static uint64_t bu_frames;
static uint64_t bu_loads = 600;
static int bu_nthreads = 4;
static uint64_t bu_hard, bu_soft, bu_target; /* from the command line; soft 7/8, target 3/4 */
static uint64_t bu_double;    /* evictor calls for a chunk already evicted (atomic) */
static uint64_t bu_held_over; /* times held went over the hard limit (atomic) */
static int64_t bu_max_held;   /* atomic max */

static void bu_max(int64_t *where, int64_t v)
{
	int64_t cur = __atomic_load_n(where, __ATOMIC_RELAXED);
	while (v > cur &&
	       !__atomic_compare_exchange_n(where, &cur, v, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* One snapshot of the nodes: stream's live bytes within the bound. */
static void bu_watch(void)
{
	int64_t live = bu_live(bu_stream);
	__atomic_add_fetch(&bu_snapshots, 1, __ATOMIC_RELAXED);
	bu_max(&bu_max_live, live);
	if (live > (int64_t)bu_hard)
		__atomic_add_fetch(&bu_over_limit, 1, __ATOMIC_RELAXED);
	bu_expect_true("snapshot: live <= hard + one allocation in flight per thread",
	               live >= 0 && live <= (int64_t)(bu_hard + bu_nthreads * BU_CHUNK));
}

/* Two evictors, each with a user pointer of its own, which the monitor
 * swaps all the time: an evictor must never be called with the other's. */
static int bu_user_a, bu_user_b;
static uint64_t bu_swaps, bu_wrong_user; /* atomic */

static void bu_evict(uint64_t asset, void *user);

static void bu_evict_b(uint64_t asset, void *user)
{
	if (user != &bu_user_b)
		__atomic_add_fetch(&bu_wrong_user, 1, __ATOMIC_RELAXED);
	bu_evict(asset, &bu_user_a);
}

static void bu_evict(uint64_t asset, void *user)
{
	void *p;
	if (user != &bu_user_a)
		__atomic_add_fetch(&bu_wrong_user, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&bu_evictions, 1, __ATOMIC_RELAXED);
	if (!bu_expect_true("evictor: a chunk id", asset > 0 && asset < BU_MAX_IDS))
		return;
	p = __atomic_exchange_n(&bu_mem[asset], NULL, __ATOMIC_ACQ_REL);
	if (!p) { /* gmtrace handed over a chunk that was already evicted */
		__atomic_add_fetch(&bu_double, 1, __ATOMIC_RELAXED);
		return;
	}
	gmtrace_asset_unload_begin(asset);
	__atomic_sub_fetch(&bu_held, (int64_t)BU_CHUNK, __ATOMIC_ACQ_REL);
	bu_free(p);
	gmtrace_asset_unload_end(asset);
}

static void *(*volatile bu_realloc)(void *, size_t) = realloc;

static void *bu_loader(void *arg)
{
	int k = (int)(intptr_t)arg;
	char name[32];
	for (uint64_t i = 0; i < bu_loads; i++) {
		/* "c<k>_<i>" */
		char digits[24];
		char *d = fx_u64_fmt(i, digits);
		name[0] = 'c';
		name[1] = (char)('0' + k);
		name[2] = '_';
		strcpy(name + 3, d);
		uint64_t id = gmtrace_asset_load_begin(name, "chunk");
		FX_CHECK(id > 0 && id < BU_MAX_IDS, "chunk ids fit the table");
		/* every other chunk grows from 64 KiB by realloc: its reservation
		 * races the others' as a malloc's does */
		void *p = (i & 1) ? bu_malloc(BU_KIB(64)) : bu_malloc(BU_CHUNK);
		if (p && (i & 1))
			p = bu_realloc(p, BU_CHUNK);
		FX_CHECK(p != NULL, "a chunk allocation succeeds (evictable chunks remain)");
		fx_touch(p, BU_CHUNK);
		int64_t held = __atomic_add_fetch(&bu_held, (int64_t)BU_CHUNK, __ATOMIC_ACQ_REL);
		bu_max(&bu_max_held, held);
		if (held > (int64_t)bu_hard)
			__atomic_add_fetch(&bu_held_over, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&bu_mem[id], p, __ATOMIC_RELEASE);
		gmtrace_asset_load_end(id, 1);
		gmtrace_asset_touch(id);
		bu_watch();
	}
	return NULL;
}

static void *bu_monitor(void *arg)
{
	(void)arg;
	uint64_t n = 0;
	while (!__atomic_load_n(&bu_done, __ATOMIC_ACQUIRE)) {
		bu_watch();
		if (n & 1)
			gmtrace_budget_evictor(bu_stream, bu_evict_b, &bu_user_b);
		else
			gmtrace_budget_evictor(bu_stream, bu_evict, &bu_user_a);
		__atomic_add_fetch(&bu_swaps, 1, __ATOMIC_RELAXED);
		if (++n % 64 == 0) {
			GMTRACE_FRAME();
			bu_frames++;
		}
	}
	return NULL;
}

static gmtrace_budget_asset_t bu_snap_assets[BU_MAX_IDS];

int main(int argc, char **argv)
{
	pthread_t loaders[BU_MAX_THREADS], monitor;
	gmtrace_budget_node_t nodes[BU_MAX_NODES];
	size_t na = 0, nn;
	const gmtrace_budget_node_t *s, *c;
	int64_t table = 0, snap_bytes = 0;
	uint64_t resident = 0;

	fx_name = "bu_threads";
	bu_loads = fx_arg_u64(argc > 1 ? argv[1] : NULL, 600);
	bu_hard = BU_KIB(fx_arg_u64(argc > 2 ? argv[2] : NULL, BU_HARD_DEFAULT >> 10));
	bu_nthreads = (int)fx_arg_u64(argc > 3 ? argv[3] : NULL, 4);
	FX_CHECK(bu_nthreads >= 1 && bu_nthreads <= BU_MAX_THREADS, "threads");

	bu_soft = bu_hard / 8 * 7;
	bu_target = bu_hard / 4 * 3;
	FX_CHECK(bu_hard >= 8 * BU_CHUNK && bu_hard <= BU_CHUNKS_HARD / 4 * 3, "hard limit");
	FX_CHECK(bu_loads * (uint64_t)bu_nthreads + 16 < BU_MAX_IDS, "loads fit the id table");
	FX_CHECK(gmtrace_enabled(), "runs under libgmtrace");
	bu_stream = gmtrace_budget_define("stream", NULL, bu_soft, bu_hard);
	bu_chunks = gmtrace_budget_define("chunks", "stream", 0, BU_CHUNKS_HARD);
	FX_CHECK(bu_stream && bu_chunks, "nodes defined");
	FX_CHECK(gmtrace_budget_policy(bu_stream, GMTRACE_EVICT_LRU, bu_target, -1) == 0, "policy");
	FX_CHECK(gmtrace_budget_bind_type(bu_chunks, "chunk") == 0, "type bound");
	FX_CHECK(gmtrace_budget_evictor(bu_stream, bu_evict, &bu_user_a) == 0, "evictor");

	FX_CHECK(pthread_create(&monitor, NULL, bu_monitor, NULL) == 0, "monitor thread");
	for (int k = 0; k < bu_nthreads; k++)
		FX_CHECK(pthread_create(&loaders[k], NULL, bu_loader, (void *)(intptr_t)k) == 0,
		         "loader thread");
	for (int k = 0; k < bu_nthreads; k++)
		pthread_join(loaders[k], NULL);
	__atomic_store_n(&bu_done, 1, __ATOMIC_RELEASE);
	pthread_join(monitor, NULL);

	nn = gmtrace_budget_snapshot(nodes, BU_MAX_NODES, bu_snap_assets, BU_MAX_IDS, &na);
	s = bu_node_in(nodes, nn, bu_stream);
	c = bu_node_in(nodes, nn, bu_chunks);
	FX_CHECK(s && c, "nodes in the snapshot");
	for (uint64_t id = 1; id < BU_MAX_IDS; id++)
		if (bu_mem[id]) {
			table += (int64_t)BU_CHUNK;
			resident++;
		}
	for (size_t k = 0; k < na && k < BU_MAX_IDS; k++) {
		const gmtrace_budget_asset_t *a = &bu_snap_assets[k];
		if (a->node != bu_chunks || a->id >= BU_MAX_IDS)
			continue;
		if (a->state == 1)
			snap_bytes += (int64_t)a->bytes;
		bu_expect("end: a chunk's state (1 resident, 3 unloaded) matches the table",
		          bu_mem[a->id] ? 1 : 3, a->state);
	}
	bu_expect("end: every load published", (int64_t)(bu_loads * bu_nthreads), (int64_t)na);
	bu_expect("end: held == 448 KiB x chunks in the table", table, bu_held);
	bu_expect("end: stream live == held", bu_held, s->live_bytes);
	bu_expect("end: chunks live == held", bu_held, c->live_bytes);
	bu_expect("end: resident chunk bytes in the snapshot == held", bu_held, snap_bytes);
	bu_expect_true("end: live <= hard limit", s->live_bytes <= (int64_t)bu_hard);
	bu_expect("end: evictions counted == evictor calls", (int64_t)bu_evictions,
	          (int64_t)(s->evictions + c->evictions));
	bu_expect("end: no failure (soft mode)", 0, (int64_t)(s->failures + c->failures));
	bu_expect("end: no evictor called with the other's user pointer", 0,
	          (int64_t)bu_wrong_user);

	fx_json_begin();
	fx_json_u64("threads", (uint64_t)bu_nthreads);
	fx_json_u64("loads_per_thread", bu_loads);
	fx_json_u64("chunk_bytes", BU_CHUNK);
	fx_json_u64("hard_limit", bu_hard);
	fx_json_u64("soft_limit", bu_soft);
	fx_json_u64("target", bu_target);
	fx_json_u64("chunks_hard", BU_CHUNKS_HARD);
	fx_json_u64("stream", bu_stream);
	fx_json_u64("chunks", bu_chunks);
	fx_json_u64("evictions", bu_evictions);
	fx_json_u64("node_evictions", s->evictions + c->evictions);
	fx_json_u64("resident", resident);
	fx_json_i64("held", bu_held);
	fx_json_i64("live_stream", s->live_bytes);
	fx_json_i64("live_chunks", c->live_bytes);
	fx_json_i64("snapshot_resident_bytes", snap_bytes);
	fx_json_i64("max_live_seen", bu_max_live);
	fx_json_i64("max_excess",
	            bu_max_live > (int64_t)bu_hard ? bu_max_live - (int64_t)bu_hard : 0);
	fx_json_u64("over_limit_snapshots", bu_over_limit);
	fx_json_u64("snapshots", bu_snapshots);
	fx_json_u64("frames", bu_frames);
	fx_json_u64("double_evictions", bu_double);
	fx_json_u64("evictor_swaps", bu_swaps);
	fx_json_u64("wrong_user", bu_wrong_user);
	fx_json_u64("held_over_limit", bu_held_over);
	fx_json_i64("max_held", bu_max_held);
	fx_json_u64("violations", s->violations + c->violations);
	fx_json_u64("failures", s->failures + c->failures);
	bu_json_verdicts();
	return fx_json_write(1) == 0 ? 0 : 1;
}
