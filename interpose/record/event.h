/* event.h - what an allocation, a free and a realloc turn into
 *
 * The hooks (hook/alloc.c) call these after resolving and calling the real
 * allocator. In the events level each call becomes a record; in both
 * levels the thread's totals advance (record/frame.c turns them into
 * per-frame figures and spikes). Every N-th call per thread (option
 * timing_sample) is timed with a second TSC read and stands for N calls in
 * the allocator-time estimate: timing every call would double the cost of
 * recording.
 */
#ifndef GM_EVENT_H
#define GM_EVENT_H

#include "stack.h"
#include "thread.h"

extern int gm_event_level; /* gm_level_t in force */
/* The level the allocation hooks' common case looks at: gm_event_level, or
 * -1 while call stacks are recorded, so that every allocation takes the
 * path that notes its stack (record/stack.h) at no cost to the common
 * case otherwise. Set with gm_event_level (record/frame.c). */
extern int gm_event_alloc_level;
extern uint32_t gm_thread_sample_every; /* timing sample period */
extern uint64_t gm_frame_number;        /* frames ended so far (main set) */
extern __thread uint32_t gm_context_tag_now __attribute__((tls_model("initial-exec")));

/* Frames level: allocations per tag per thread (tags past GM_TAG_ACC_SLOTS
 * share the last slot, reported as tag id 0xffffff "other tags"). */
#define GM_TAG_ACC_SLOTS 256
typedef struct gm_tag_acc {
	uint64_t nalloc, bytes;
} gm_tag_acc_t;
extern __thread gm_tag_acc_t *gm_event_tag_acc __attribute__((tls_model("initial-exec")));
void gm_event_tag_acc_make(gm_thread_t *t);

/* n bytes allocated in the scope of this thread's current asset. */
void gm_event_asset_bytes(uint64_t n);
struct gm_asset;
extern __thread struct gm_asset *gm_context_asset_now __attribute__((tls_model("initial-exec")));
int gm_context_scope_check(gm_thread_t *t); /* record/context.h */

/* Node + 1 of a platform's default bank (budget/budget.h). */
extern uint32_t gm_budget_default;
extern __thread uint32_t gm_context_node_now __attribute__((tls_model("initial-exec")));

/* A TSC read to time this call, or 0 when the call is not sampled. A
 * thread's very first call (its counter still 0) is not timed: it puts the
 * thread in the default bank, if there is one, so that the allocation hooks
 * need look at the thread's node only. */
static inline __attribute__((always_inline)) uint64_t gm_event_clock(gm_thread_t *t)
{
	uint32_t left = t->sample_left--;
	if (GM_UNLIKELY(left <= 1)) {
		t->sample_left = gm_thread_sample_every;
		if (GM_UNLIKELY(left == 0)) {
			if (!gm_context_node_now)
				gm_context_node_now =
				        __atomic_load_n(&gm_budget_default, __ATOMIC_RELAXED);
			return 0;
		}
		return gm_support_tsc();
	}
	return 0;
}

/* Ticks from t0 to t1 of a timed call; 0 when the counter went back (the
 * thread moved to a CPU whose counter runs behind), not 2^64 - a few. */
static inline __attribute__((always_inline)) uint64_t gm_event_ticks(uint64_t t0, uint64_t t1)
{
	return t1 > t0 ? t1 - t0 : 0;
}

/* Frames level: this thread's live bytes moved by delta (usable size). */
static inline __attribute__((always_inline)) void gm_event_live(gm_frame_acc_t *acc, int64_t delta)
{
	uint64_t frame = __atomic_load_n(&gm_frame_number, __ATOMIC_RELAXED);
	int64_t live = acc->live + delta;
	__atomic_store_n(&acc->live, live, __ATOMIC_RELAXED);
	if (GM_UNLIKELY(acc->peak_frame != frame)) {
		/* first call of a new frame: the peak restarts from the live
		 * bytes the frame began with */
		__atomic_store_n(&acc->peak_frame, frame, __ATOMIC_RELAXED);
		__atomic_store_n(&acc->peak, live - delta, __ATOMIC_RELAXED);
	}
	if (live > acc->peak)
		__atomic_store_n(&acc->peak, live, __ATOMIC_RELAXED);
}

/* A timed allocation of n bytes that spent ticks in the allocator: it
 * stands for gm_thread_sample_every calls in the estimate, and adds to the
 * cost of its size class. */
static inline __attribute__((always_inline)) void gm_event_cost(gm_frame_acc_t *acc, size_t n,
                                                                uint64_t ticks)
{
	unsigned c = gm_thread_size_class(n);
	GM_ACC_ADD(acc->alloc_ticks, ticks * gm_thread_sample_every);
	GM_ACC_ADD(acc->cost_n[c], 1);
	GM_ACC_ADD(acc->cost_ticks[c], ticks);
}

/* An allocation of n bytes at p (usable: its usable size, frames level
 * only); t0 from gm_event_clock. old != 0 makes it a realloc record. */
static inline __attribute__((always_inline)) void gm_event_alloc(gm_thread_t *t, void *p, size_t n,
                                                                 unsigned kind, uint64_t t0,
                                                                 size_t usable, uintptr_t old,
                                                                 int is_realloc)
{
	gm_frame_acc_t *acc = t->acc;
	uint64_t now, done = 0;
	if (GM_UNLIKELY(gm_context_asset_now != NULL))
		gm_context_scope_check(t); /* a scope another thread ended */
	if (GM_UNLIKELY(acc == NULL)) {
		gm_thread_attach(t);
		if (!(acc = t->acc))
			return;
	}
	if (GM_LIKELY(gm_event_level == gm_level_events)) {
		if (GM_UNLIKELY(gm_stack_depth != 0) && !is_realloc) {
			/* (a realloc's site was written before its call) */
			if (t0) /* a timed call's end: the allocator's, not the unwinder's */
				done = gm_support_tsc();
			gm_stack_note(t);
		}
		if (is_realloc) {
			now = gm_thread_put2(t, gm_rec_w0((uintptr_t)p, gm_rec_realloc, kind), n,
			                     old, 0);
			if (old) /* the old block's free, counted as in the frames level */
				GM_ACC_ADD(acc->nfree, 1);
		} else
			now = gm_thread_put(t, gm_rec_w0((uintptr_t)p, gm_rec_alloc, kind), n);
	} else {
		uint32_t tag = gm_context_tag_now;
		gm_tag_acc_t *ta;
		gm_event_live(acc, (int64_t)usable);
		now = t0 ? gm_support_tsc() : 0;
		if (GM_UNLIKELY(!gm_event_tag_acc))
			gm_event_tag_acc_make(t);
		if ((ta = gm_event_tag_acc) != NULL) {
			ta += tag < GM_TAG_ACC_SLOTS ? tag : GM_TAG_ACC_SLOTS - 1;
			GM_ACC_ADD(ta->nalloc, 1);
			GM_ACC_ADD(ta->bytes, n);
		}
	}
	GM_ACC_ADD(acc->nalloc, 1);
	GM_ACC_ADD(acc->alloc_bytes, n);
	if (GM_UNLIKELY(gm_context_asset_now != NULL))
		gm_event_asset_bytes(n);
	if (GM_UNLIKELY(t0 != 0))
		gm_event_cost(acc, n, gm_event_ticks(t0, done ? done : now));
}

/* A free of p (sized: size given by a sized delete; usable: frames level). */
static inline __attribute__((always_inline)) void
gm_event_free(gm_thread_t *t, void *p, unsigned kind, size_t sized, size_t usable)
{
	gm_frame_acc_t *acc = t->acc;
	if (GM_UNLIKELY(acc == NULL)) {
		gm_thread_attach(t);
		if (!(acc = t->acc))
			return;
	}
	if (GM_LIKELY(gm_event_level == gm_level_events)) {
		gm_thread_put(t, gm_rec_w0((uintptr_t)p, gm_rec_free, kind), sized);
	} else {
		gm_event_live(acc, -(int64_t)usable);
		GM_ACC_ADD(acc->free_bytes, usable);
	}
	GM_ACC_ADD(acc->nfree, 1);
}

/* Time since t0 (a sampled free's start) goes to the allocator total. */
static inline void gm_event_timed(gm_thread_t *t, uint64_t t0)
{
	if (t->acc)
		GM_ACC_ADD(t->acc->alloc_ticks,
		           gm_event_ticks(t0, gm_support_tsc()) * gm_thread_sample_every);
}

#endif
