/* pool.h - object pools the game tells gmtrace about
 *
 * Pool calls are counted, not recorded: each thread keeps counters per pool
 * (taken, served by the pool, given back, returned to the pool, in use and
 * its high-water mark in the frame) and the thread that ends a frame turns
 * them into one gm_rec_pool_frame per pool that moved. A pool call costs a
 * few stores; creating, resizing and destroying a pool are records.
 */
#ifndef GM_POOL_H
#define GM_POOL_H

#include <stdint.h>

#include "thread.h"

#define GM_POOL_MAX 256 /* pool ids 1..255 */

/* One thread's counters for one pool. Written by the thread (relaxed
 * stores), read by the thread ending a frame. One counter moves per call;
 * objects in use are taken_pool - given_pool. */
typedef struct gm_pool_acc {
	uint64_t taken_pool; /* acquires the pool served */
	uint64_t taken_heap; /* acquires that overflowed to the heap */
	uint64_t given_pool; /* releases back into the pool */
	uint64_t given_heap; /* releases of heap objects */
	int64_t peak;        /* highest in use during peak_frame */
	uint64_t peak_frame;
	uint64_t pad[2];
} gm_pool_acc_t;

typedef struct gm_pool_tls {
	gm_pool_acc_t *acc; /* this thread's counters, NULL until its first call */
	uint32_t gen;       /* gm_pool_gen they belong to (fork children renew) */
} gm_pool_tls_t;

extern __thread gm_pool_tls_t gm_pool_self __attribute__((tls_model("initial-exec")));
extern uint32_t gm_pool_gen;
extern uint32_t gm_pool_live[GM_POOL_MAX];
extern uint64_t gm_frame_number;

uint32_t gm_pool_create(gm_thread_t *t, const char *name, uint64_t object_size, uint64_t capacity);

/* Count one acquire (acquire=1) or release into a: pooled says the pool
 * served it / took it back. Only a pooled acquire can raise the
 * high-water mark, so only it looks at the frame. */
static inline void gm_pool_count(gm_pool_acc_t *a, int acquire, int pooled)
{
	if (acquire && pooled) {
		uint64_t frame = __atomic_load_n(&gm_frame_number, __ATOMIC_RELAXED);
		uint64_t taken = a->taken_pool + 1;
		int64_t v = (int64_t)(taken - a->given_pool);
		__atomic_store_n(&a->taken_pool, taken, __ATOMIC_RELAXED);
		if (GM_UNLIKELY(a->peak_frame != frame)) {
			__atomic_store_n(&a->peak_frame, frame, __ATOMIC_RELAXED);
			__atomic_store_n(&a->peak, v, __ATOMIC_RELAXED);
		} else if (v > a->peak) {
			__atomic_store_n(&a->peak, v, __ATOMIC_RELAXED);
		}
	} else if (acquire) {
		GM_ACC_ADD(a->taken_heap, 1);
	} else if (pooled) {
		GM_ACC_ADD(a->given_pool, 1);
	} else {
		GM_ACC_ADD(a->given_heap, 1);
	}
}

/* First call of a thread, unknown or destroyed pools (validation), fork
 * children. */
void gm_pool_count_slow(gm_thread_t *t, uint32_t pool, int acquire, int pooled);

/* A pool call: a few stores into this thread's counters. */
static inline void gm_pool_call(gm_thread_t *t, uint32_t pool, int acquire, int pooled)
{
	gm_pool_acc_t *a = gm_pool_self.acc;
	/* a call on a destroyed pool is an unknown_pool validation, not
	 * counted (the slow path says so) */
	if (GM_UNLIKELY(a == NULL || pool - 1u >= GM_POOL_MAX - 1u) ||
	    GM_UNLIKELY(!__atomic_load_n(&gm_pool_live[pool], __ATOMIC_RELAXED))) {
		gm_pool_count_slow(t, pool, acquire, pooled);
		return;
	}
	gm_pool_count(a + pool, acquire, pooled);
}
void gm_pool_resize(gm_thread_t *t, uint32_t pool, uint64_t capacity);
void gm_pool_destroy(gm_thread_t *t, uint32_t pool);

/* At a frame end (called by record/frame.c with the frame lock held). */
void gm_pool_frame_end(gm_thread_t *t, uint64_t frame);

/* A garbage-collector run. */
void gm_pool_gc(gm_thread_t *t, int generation, uint64_t ns, uint64_t collected,
                uint64_t uncollectable);

/* Define the live pools again (the first records of a fork child). */
void gm_pool_restate(gm_thread_t *t);

/* Forget every pool's counters (fork child). */
void gm_pool_reset(void);

#endif
