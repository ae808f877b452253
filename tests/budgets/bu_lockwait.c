/* bu_lockwait.c - an allocation while another thread's evictor waits for a
 * lock the allocating thread holds
 *
 *     bu_lockwait [strict]
 *
 * Node "tex": soft 16 KiB, hard 32 KiB, LRU, type "texture", soft mode (or
 * strict with the argument "strict"). Resident: A (16 KiB) and P (16 KiB,
 * pinned): the node is at its hard limit. The evictor takes the game's
 * asset lock, as an engine's would, then unloads.
 *
 * A loader thread takes the lock; the main thread ends a frame, which is
 * over the soft limit: its eviction calls the evictor for A, which waits
 * for the lock. Once the evictor has begun, the loader (still holding the
 * lock) loads B with malloc(16 KiB): the only victim is A, which the other
 * thread is evicting and cannot finish before the loader lets the lock go.
 * The allocation must not wait for it for long: gmtrace waits up to 20 ms
 * for other threads' evictions, then goes on without them (here: over the
 * hard limit with an over_hard violation, or NULL in strict mode). It used
 * to try again 64 times, waiting each time: about 4 s.
 *
 * JSON: strict, served (B's block is not NULL), alloc_us (how long the
 * malloc took: reported, and checked against a liveness bound of 1 s in
 * the test, 50 times what it should take), evicted (evictor calls: A,
 * then in soft mode B, as the frame end goes on under the soft limit),
 * live_end, verdicts.
 */
#define _GNU_SOURCE
#include "bu_common.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

static pthread_mutex_t bu_lock = PTHREAD_MUTEX_INITIALIZER;
static void *bu_block[8];
static int bu_locked, bu_evicting; /* atomic */
static uint64_t bu_evicted;        /* atomic */
static double bu_alloc_ms;
static int bu_served;

static double bu_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void bu_evict(uint64_t id, void *user)
{
	(void)user;
	__atomic_store_n(&bu_evicting, 1, __ATOMIC_RELEASE);
	pthread_mutex_lock(&bu_lock);
	__atomic_add_fetch(&bu_evicted, 1, __ATOMIC_RELAXED);
	if (id < 8 && bu_block[id]) {
		gmtrace_asset_unload_begin(id);
		bu_free(bu_block[id]);
		bu_block[id] = NULL;
		gmtrace_asset_unload_end(id);
	}
	pthread_mutex_unlock(&bu_lock);
}

static uint64_t bu_load(const char *name)
{
	uint64_t id = gmtrace_asset_load_begin(name, "texture");
	FX_CHECK(id > 0 && id < 8, "asset ids fit the table");
	bu_block[id] = bu_malloc(BU_KIB(16));
	gmtrace_asset_load_end(id, bu_block[id] != NULL);
	return id;
}

static void *bu_loader(void *arg)
{
	(void)arg;
	double t0;
	uint64_t id;
	pthread_mutex_lock(&bu_lock);
	__atomic_store_n(&bu_locked, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&bu_evicting, __ATOMIC_ACQUIRE))
		sched_yield(); /* the main thread's evictor has begun */
	t0 = bu_now_ms();
	id = bu_load("B");
	bu_alloc_ms = bu_now_ms() - t0;
	bu_served = bu_block[id] != NULL;
	pthread_mutex_unlock(&bu_lock);
	return NULL;
}

int main(int argc, char **argv)
{
	int strict = argc > 1 && strcmp(argv[1], "strict") == 0;
	pthread_t loader;
	uint32_t node;
	uint64_t p;

	fx_name = "bu_lockwait";
	FX_CHECK(gmtrace_enabled(), "runs under libgmtrace");
	node = gmtrace_budget_define("tex", NULL, BU_KIB(16), BU_KIB(32));
	FX_CHECK(node != 0, "node defined");
	FX_CHECK(gmtrace_budget_bind_type(node, "texture") == 0, "type bound");
	FX_CHECK(gmtrace_budget_policy(node, GMTRACE_EVICT_LRU, 0, strict) == 0, "policy");
	FX_CHECK(gmtrace_budget_evictor(node, bu_evict, NULL) == 0, "evictor");
	bu_load("A");
	p = bu_load("P");
	gmtrace_asset_pin(p, 1);
	bu_expect("the node is at its hard limit", (int64_t)BU_KIB(32), bu_live(node));

	FX_CHECK(pthread_create(&loader, NULL, bu_loader, NULL) == 0, "loader thread");
	while (!__atomic_load_n(&bu_locked, __ATOMIC_ACQUIRE))
		sched_yield();
	GMTRACE_FRAME(); /* over soft: evicts A, whose evictor waits for the lock */
	pthread_join(loader, NULL);

	/* A; then, soft, B too: the frame end goes on under the soft limit */
	bu_expect("evictor calls: A, and B when it was served", strict ? 1 : 2,
	          (int64_t)bu_evicted);
	bu_expect("B's block: served in soft mode, NULL in strict", !strict, bu_served);
	fx_json_begin();
	fx_json_bool("strict", strict);
	fx_json_bool("served", bu_served);
	fx_json_u64("alloc_us", (uint64_t)(bu_alloc_ms * 1000.0));
	fx_json_u64("evicted", bu_evicted);
	fx_json_i64("live_end", bu_live(node));
	bu_json_verdicts();
	return fx_json_write(1) == 0 ? 0 : 1;
}
