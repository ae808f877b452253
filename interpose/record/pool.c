/* pool.c - per-thread pool counters and their per-frame records */
#define _GNU_SOURCE
#include "pool.h"

#include <string.h>

#include "../log/format.h"
#include "../support/mem.h"
#include "../support/support.h"
#include "event.h"
#include "session.h"

/* Per thread: counters [0, GM_POOL_MAX) then the frame-end snapshot. */
static gm_pool_acc_t *gm_pool_threads[16384];
static uint32_t gm_pool_nthreads;   /* highest thread index with counters + 1 */
uint32_t gm_pool_live[GM_POOL_MAX]; /* 1 while the pool exists */
static struct {
	uint64_t object_size, capacity;
	char name[64];
} gm_pool_defs[GM_POOL_MAX]; /* to define the pools again in a fork child's capture */
static int64_t gm_pool_in_use[GM_POOL_MAX]; /* all threads, at the last frame end */
/* Releases with no acquire: a pool whose objects in use, summed over the
 * threads, are below zero at two frame ends in a row gets one
 * pool_underflow validation (and no other until the sum is back at zero or
 * more). One frame end is not enough: the sum reads the threads one after
 * the other, and an object acquired on one thread and released on another
 * meanwhile can make it -1 for that moment. The records never say less
 * than 0 in use; the counts themselves are left as the game's calls made
 * them, so a reading that was such a moment changes nothing after it.
 * gm_pool_short: 0 not below zero at the last frame end, 1 below once,
 * 2 below and said. */
static uint8_t gm_pool_short[GM_POOL_MAX];
static uint32_t gm_pool_next = 1;
/* Ids of destroyed pools are given to new ones once every id has been used
 * (a game that makes a pool per level or per emitter makes more than 255 in
 * a session), once a frame end has written its pool records since the
 * destroy (the old pool's last pool_frame record, at the end of the
 * destroy's frame, comes before the new pool's definition):
 * gm_pool_gone[id] is gm_pool_begun at the destroy + 1 until the id is taken
 * again; gm_pool_base[id] is the objects in use its counters, summed over
 * the threads, held then (what the old pool never got back), which the new
 * pool's in-use count leaves out. A capture's reader takes a second
 * definition of an id as a new pool. */
static uint64_t gm_pool_gone[GM_POOL_MAX];
static uint64_t gm_pool_ends;  /* gm_pool_frame_end calls that wrote their records */
static uint64_t gm_pool_begun; /* ... that began: a destroy during one waits for the next */
static int64_t gm_pool_base[GM_POOL_MAX];
__thread gm_pool_tls_t gm_pool_self __attribute__((tls_model("initial-exec")));
uint32_t gm_pool_gen = 1;

static int gm_pool_on(gm_thread_t *t)
{
	return __atomic_load_n(&gm_thread_recording, __ATOMIC_RELAXED) && !t->busy;
}

static void gm_pool_valid(gm_thread_t *t, uint64_t pool, unsigned code, uint64_t detail)
{
	if (gm_pool_on(t))
		gm_thread_put(t, gm_rec_w0(pool, gm_rec_validation, code), detail);
}

/* This thread's counters, made on its first pool call (one allocation
 * from the private arena per thread that uses pools). */
static gm_pool_acc_t *gm_pool_mine(gm_thread_t *t)
{
	gm_pool_acc_t *mine;
	uint32_t idx;
	if (!t->acc)
		gm_thread_attach(t);
	if (!t->acc)
		return NULL;
	idx = t->index < 16384 ? t->index : 16383;
	mine = __atomic_load_n(&gm_pool_threads[idx], __ATOMIC_ACQUIRE);
	if (!mine) {
		mine = gm_mem_alloc(2 * GM_POOL_MAX * sizeof(*mine));
		if (!mine)
			return NULL;
		__atomic_store_n(&gm_pool_threads[idx], mine, __ATOMIC_RELEASE);
	}
	while (1) {
		uint32_t n = __atomic_load_n(&gm_pool_nthreads, __ATOMIC_RELAXED);
		if (n > idx || __atomic_compare_exchange_n(&gm_pool_nthreads, &n, idx + 1, 0,
		                                           __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			break;
	}
	gm_pool_self.acc = mine;
	gm_pool_self.gen = gm_pool_gen;
	return mine;
}

static int gm_pool_known(gm_thread_t *t, uint32_t pool)
{
	if (pool == 0 || pool >= GM_POOL_MAX ||
	    !__atomic_load_n(&gm_pool_live[pool], __ATOMIC_ACQUIRE)) {
		gm_pool_valid(t, pool, gm_valid_unknown_pool, 0);
		return 0;
	}
	return 1;
}

/* A destroyed pool's id, taken for a new pool (its base counted), or 0. */
static uint32_t gm_pool_reuse(void)
{
	uint64_t ends = __atomic_load_n(&gm_pool_ends, __ATOMIC_ACQUIRE);
	uint32_t p, i;
	for (p = 1; p < GM_POOL_MAX; p++) {
		uint64_t gone = __atomic_load_n(&gm_pool_gone[p], __ATOMIC_ACQUIRE);
		int64_t base = 0;
		if (gone == 0 || gone > ends ||
		    !__atomic_compare_exchange_n(&gm_pool_gone[p], &gone, 0, 0, __ATOMIC_ACQ_REL,
		                                 __ATOMIC_RELAXED))
			continue;
		/* no thread counts on it now: calls on a destroyed pool are not
		 * counted (gm_pool_known) */
		for (i = 0; i < __atomic_load_n(&gm_pool_nthreads, __ATOMIC_ACQUIRE); i++) {
			gm_pool_acc_t *acc = __atomic_load_n(&gm_pool_threads[i], __ATOMIC_ACQUIRE);
			if (acc)
				base += (int64_t)(__atomic_load_n(&acc[p].taken_pool,
				                                  __ATOMIC_RELAXED) -
				                  __atomic_load_n(&acc[p].given_pool,
				                                  __ATOMIC_RELAXED));
		}
		__atomic_store_n(&gm_pool_base[p], base, __ATOMIC_RELAXED);
		__atomic_store_n(&gm_pool_in_use[p], 0, __ATOMIC_RELAXED);
		gm_pool_short[p] = 0;
		return p;
	}
	return 0;
}

uint32_t gm_pool_create(gm_thread_t *t, const char *name, uint64_t object_size, uint64_t capacity)
{
	uint64_t words[2] = {object_size, capacity};
	char buf[16 + GM_NAME_MAX];
	size_t n;
	uint32_t id = __atomic_fetch_add(&gm_pool_next, 1, __ATOMIC_RELAXED);
	if (id >= GM_POOL_MAX) {
		__atomic_store_n(&gm_pool_next, GM_POOL_MAX, __ATOMIC_RELAXED);
		id = gm_pool_reuse();
	}
	if (id == 0) {
		static int said;
		if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
			gm_support_warn(
			        "more than 255 pools exist at once (those destroyed in this "
			        "frame count until it ends): the pools made past them are not "
			        "recorded",
			        NULL, NULL);
		gm_pool_valid(t, GM_POOL_MAX, gm_valid_unknown_pool, GM_POOL_MAX);
		return 0;
	}
	if (!name || !*name) {
		gm_pool_valid(t, id, gm_valid_null_name, name ? 1 : 0); /* format.h */
		name = "(unnamed pool)";
	}
	n = strlen(name);
	if (n > GM_NAME_MAX) {
		gm_pool_valid(t, id, gm_valid_long_name, n); /* its length, as for assets */
		n = gm_support_utf8_cut(name, GM_NAME_MAX);
	}
	memcpy(buf, words, 16);
	memcpy(buf + 16, name, n);
	gm_pool_defs[id].object_size = object_size;
	gm_pool_defs[id].capacity = capacity;
	{
		size_t k = n < 63 ? n : gm_support_utf8_cut(name, 63);
		memcpy(gm_pool_defs[id].name, name, k);
		gm_pool_defs[id].name[k] = 0;
	}
	__atomic_store_n(&gm_pool_live[id], 1, __ATOMIC_RELEASE);
	if (gm_pool_on(t))
		gm_thread_put_var(t, gm_rec_pool_def, id, n, buf, 16 + n);
	return id;
}

void gm_pool_count_slow(gm_thread_t *t, uint32_t pool, int acquire, int pooled)
{
	gm_pool_acc_t *a;
	if (!gm_pool_known(t, pool) || !(a = gm_pool_mine(t)))
		return;
	gm_pool_count(a + pool, acquire, pooled);
	(void)gm_pool_self.gen;
}

void gm_pool_restate(gm_thread_t *t)
{
	uint32_t p, n = __atomic_load_n(&gm_pool_next, __ATOMIC_RELAXED);
	for (p = 1; p < n && p < GM_POOL_MAX; p++) {
		char buf[16 + 64];
		size_t len = strlen(gm_pool_defs[p].name);
		if (!__atomic_load_n(&gm_pool_live[p], __ATOMIC_ACQUIRE))
			continue;
		memcpy(buf, &gm_pool_defs[p].object_size, 8);
		memcpy(buf + 8, &gm_pool_defs[p].capacity, 8);
		memcpy(buf + 16, gm_pool_defs[p].name, len);
		if (gm_pool_on(t))
			gm_thread_put_var(t, gm_rec_pool_def, p, len, buf, 16 + len);
	}
}

void gm_pool_resize(gm_thread_t *t, uint32_t pool, uint64_t capacity)
{
	if (!gm_pool_known(t, pool))
		return;
	gm_pool_defs[pool].capacity = capacity;
	if (gm_pool_on(t))
		gm_thread_put(t, gm_rec_w0(pool, gm_rec_pool_resize, 0), capacity);
}

void gm_pool_destroy(gm_thread_t *t, uint32_t pool)
{
	if (!gm_pool_known(t, pool))
		return;
	__atomic_store_n(&gm_pool_live[pool], 0, __ATOMIC_RELEASE);
	if (gm_pool_on(t))
		gm_thread_put(t, gm_rec_w0(pool, gm_rec_pool_destroy, 0), 0);
	/* a frame end that began already may have read this pool's counters
	 * before the calls this frame made: the one after it writes them */
	__atomic_store_n(&gm_pool_gone[pool], __atomic_load_n(&gm_pool_begun, __ATOMIC_ACQUIRE) + 1,
	                 __ATOMIC_RELEASE);
}

void gm_pool_frame_end(gm_thread_t *t, uint64_t frame)
{
	uint64_t sum[GM_POOL_MAX][4];
	int64_t growth[GM_POOL_MAX], in_use[GM_POOL_MAX], under[GM_POOL_MAX];
	uint8_t moved[GM_POOL_MAX];
	uint32_t nthreads = __atomic_load_n(&gm_pool_nthreads, __ATOMIC_ACQUIRE), i, p;
	uint32_t npools = __atomic_load_n(&gm_pool_next, __ATOMIC_RELAXED);
	if (npools > GM_POOL_MAX)
		npools = GM_POOL_MAX;
	__atomic_add_fetch(&gm_pool_begun, 1, __ATOMIC_ACQ_REL);
	if (nthreads == 0 || npools <= 1) {
		__atomic_add_fetch(&gm_pool_ends, 1, __ATOMIC_RELEASE);
		return;
	}
	memset(sum, 0, npools * sizeof(sum[0]));
	memset(growth, 0, npools * sizeof(growth[0]));
	memset(in_use, 0, npools * sizeof(in_use[0]));
	memset(under, 0, npools * sizeof(under[0]));
	memset(moved, 0, npools);
	for (i = 0; i < nthreads; i++) {
		gm_pool_acc_t *acc = __atomic_load_n(&gm_pool_threads[i], __ATOMIC_ACQUIRE), *snap;
		if (!acc)
			continue;
		snap = acc + GM_POOL_MAX;
		for (p = 1; p < npools; p++) {
			gm_pool_acc_t now;
			int64_t use_before, use_now;
			now.taken_pool = __atomic_load_n(&acc[p].taken_pool, __ATOMIC_RELAXED);
			now.taken_heap = __atomic_load_n(&acc[p].taken_heap, __ATOMIC_RELAXED);
			now.given_pool = __atomic_load_n(&acc[p].given_pool, __ATOMIC_RELAXED);
			now.given_heap = __atomic_load_n(&acc[p].given_heap, __ATOMIC_RELAXED);
			now.peak = __atomic_load_n(&acc[p].peak, __ATOMIC_RELAXED);
			now.peak_frame = __atomic_load_n(&acc[p].peak_frame, __ATOMIC_RELAXED);
			sum[p][0] += (now.taken_pool - snap[p].taken_pool) +
			             (now.taken_heap - snap[p].taken_heap);
			sum[p][1] += now.taken_pool - snap[p].taken_pool;
			sum[p][2] += (now.given_pool - snap[p].given_pool) +
			             (now.given_heap - snap[p].given_heap);
			sum[p][3] += now.given_pool - snap[p].given_pool;
			use_before = (int64_t)(snap[p].taken_pool - snap[p].given_pool);
			use_now = (int64_t)(now.taken_pool - now.given_pool);
			in_use[p] += use_now;
			/* this thread's rise above what it held when the frame began */
			if (now.peak_frame == frame - 1 && now.peak > use_before)
				growth[p] += now.peak - use_before;
			if (memcmp(&now, &snap[p], 4 * sizeof(uint64_t)) != 0)
				moved[p] = 1;
			snap[p] = now;
		}
	}
	for (p = 1; p < npools; p++) {
		int64_t peak;
		uint64_t extra[6];
		in_use[p] -= __atomic_load_n(&gm_pool_base[p], __ATOMIC_RELAXED);
		if (in_use[p] >= 0) {
			gm_pool_short[p] = 0;
		} else if (!__atomic_load_n(&gm_pool_live[p], __ATOMIC_RELAXED) && !moved[p]) {
			/* destroyed, and no call since: its count is over */
			in_use[p] = 0;
		} else {
			if (gm_pool_short[p] == 1)
				under[p] = -in_use[p]; /* said after the pool_frame records */
			if (gm_pool_short[p] < 2)
				gm_pool_short[p]++;
			in_use[p] = 0;
		}
		if (!moved[p])
			continue;
		peak = gm_pool_in_use[p] + growth[p];
		if (peak < in_use[p])
			peak = in_use[p];
		extra[0] = sum[p][0];
		extra[1] = sum[p][1];
		extra[2] = sum[p][2];
		extra[3] = sum[p][3];
		extra[4] = (uint64_t)in_use[p];
		extra[5] = (uint64_t)peak;
		gm_thread_put_var(t, gm_rec_pool_frame, frame, p, extra, sizeof(extra));
		gm_pool_in_use[p] = in_use[p];
	}
	for (p = 1; p < npools; p++)
		if (under[p])
			gm_pool_valid(t, p, gm_valid_pool_underflow, (uint64_t)under[p]);
	__atomic_add_fetch(&gm_pool_ends, 1, __ATOMIC_RELEASE);
}

void gm_pool_gc(gm_thread_t *t, int generation, uint64_t ns, uint64_t collected,
                uint64_t uncollectable)
{
	uint64_t extra[2] = {ns, uncollectable};
	if (generation < 0)
		generation = 0;
	if (gm_pool_on(t))
		gm_thread_put_var(t, gm_rec_gc, (uint64_t)generation, collected, extra,
		                  sizeof(extra));
}

void gm_pool_reset(void)
{
	uint32_t i;
	for (i = 0; i < 16384; i++) {
		if (gm_pool_threads[i])
			memset(gm_pool_threads[i], 0, 2 * GM_POOL_MAX * sizeof(gm_pool_acc_t));
	}
	memset(gm_pool_in_use, 0, sizeof(gm_pool_in_use));
	memset(gm_pool_short, 0, sizeof(gm_pool_short));
	memset(gm_pool_base, 0, sizeof(gm_pool_base));
	/* the parent's destroyed ids are free now: the child's counters start
	 * again and its frames have written nothing of them */
	for (i = 1; i < GM_POOL_MAX; i++)
		if (gm_pool_gone[i])
			gm_pool_gone[i] = 1;
	gm_pool_ends = gm_pool_begun = 1;
	gm_pool_nthreads = 0;
	/* the fork child's only thread: its counters start again */
	gm_pool_self.acc = NULL;
	__atomic_add_fetch(&gm_pool_gen, 1, __ATOMIC_RELAXED);
}
