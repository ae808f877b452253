/* alloc.c - the allocation hooks: malloc family and C++ new/delete
 *
 * Every hook is alike: resolve (once), call the real function, record on
 * success. Allocations read the clock after the real call returns and
 * frees before it starts (record/thread.h says why). Failures are recorded
 * as gm_rec_fail and returned exactly as the allocator returned them,
 * errno included. Calls made while the thread is busy inside gmtrace, or
 * while the process does not record, are forwarded untouched.
 *
 * operator new/delete are built on the same real malloc/free: the next
 * definition in lookup order may be jemalloc's (DESIGN.md, the jemalloc
 * trap), and memory from one allocator must never reach another.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../budget/budget.h"
#include "../budget/heap.h"
#include "../record/context.h"
#include "../record/event.h"
#include "../record/thread.h"
#include "../support/support.h"
#include "bootstrap.h"

/* Allocations gmtrace made from the game's heap for itself: calls that
 * arrive while the thread is busy inside gmtrace. Start-up makes a few
 * (dlsym, pthread_create of the agent); after that it must stay constant,
 * which the zero-allocation test checks. */
uint64_t gm_hook_self_allocs;

/* GM_HOOK_ON for allocation paths: also counts our own allocations. */
static inline int gm_hook_on_alloc(gm_thread_t *t)
{
	if (GM_LIKELY(GM_HOOK_ON(t)))
		return 1;
	/* (a signal handler's call is counted lost; the others are ours) */
	if (t->busy && __atomic_load_n(&gm_thread_recording, __ATOMIC_RELAXED) &&
	    !gm_thread_busy_call(t))
		__atomic_add_fetch(&gm_hook_self_allocs, 1, __ATOMIC_RELAXED);
	return 0;
}

static inline int gm_hook_ready(void)
{
	return GM_LIKELY(__atomic_load_n(&gm_real.malloc, __ATOMIC_ACQUIRE) != NULL) ||
	       gm_bootstrap_resolve() == 0;
}

/* Usable size for the frames level's live bytes (not needed in events). */
static inline size_t gm_hook_usable(void *p)
{
	if (GM_LIKELY(gm_event_level == gm_level_events) || !p)
		return 0;
	return gm_heap_owns(p) ? gm_heap_usable(p) : gm_real.malloc_usable_size(p);
}

/* Budgets: an allocation made under a budgeted tag or asset is served by
 * that node's heap (budget/budget.c); under a platform, every other one by
 * the default bank's (gm_event_clock puts each new thread in it). Evaluates to 1 with *out set when the
 * budget served it (or failed it as the device would). */
#define GM_HOOK_BUDGET(t, n, align, zero, out)                                        \
	(GM_UNLIKELY(gm_context_node_now != 0) && !(t)->busy &&                       \
	 ((out) = gm_budget_alloc((t), gm_context_node_now, (n), (align), (zero))) != \
	         GM_BUDGET_UNHANDLED)

/* A failed allocation's record; with stacks, after its site (noted: the
 * site was written already, as a realloc's is before its call). */
static void gm_hook_fail_noted(gm_thread_t *t, unsigned kind, size_t n, size_t align, int noted)
{
	int saved = errno;
	if (GM_UNLIKELY(gm_stack_depth != 0) && !noted && gm_event_level == gm_level_events)
		gm_stack_note(t);
	if (gm_event_level == gm_level_events || t->acc)
		gm_thread_put2(t, gm_rec_w0(0, gm_rec_fail, kind), 0, n, align);
	errno = saved;
}

static void gm_hook_fail(gm_thread_t *t, unsigned kind, size_t n, size_t align)
{
	gm_hook_fail_noted(t, kind, n, align, 0);
}

/* ---- C ------------------------------------------------------------------ */

/* The record of an allocation of n bytes at p written straight into the
 * thread's chunk, and counted: recording at the events level, on a
 * registered thread with room in its chunk, no asset scope. *now is the
 * TSC the record carries, taken here (after those checks) when it is 0: in
 * a burst, the thread's previous reading (record/thread.h,
 * gm_thread_alloc_tsc).
 * Returns the thread's totals, or NULL with nothing written: the caller's
 * slow path does the whole work. */
static inline __attribute__((always_inline)) gm_frame_acc_t *
gm_hook_alloc_record(gm_thread_t *t, void *p, size_t n, unsigned kind, uint64_t *now)
{
	gm_frame_acc_t *acc;
	uint64_t before;
	int fresh = 0;
	if (!GM_HOOK_ON(t) || GM_UNLIKELY(gm_event_alloc_level != gm_level_events) ||
	    GM_UNLIKELY(!(acc = t->acc)) || GM_UNLIKELY(gm_context_asset_now != NULL))
		return NULL;
	before = t->last_tsc;
	if (!*now)
		*now = gm_thread_alloc_tsc(t, &fresh);
	if (GM_UNLIKELY(gm_thread_try_put(t, gm_rec_w0((uintptr_t)p, gm_rec_alloc, kind), n,
	                                  *now) != 0))
		return NULL;
	if (fresh) /* (0 for a timed call: its reading is its own) */
		gm_thread_burst_arm(t, before, *now);
	GM_ACC_ADD(acc->nalloc, 1);
	GM_ACC_ADD(acc->alloc_bytes, n);
	return acc;
}

/* The same for a free of p (sized: from a sized delete), which must be a
 * block of the process's allocator; *now is read before the real free, as
 * thread.h says it must be. */
static inline __attribute__((always_inline)) gm_frame_acc_t *
gm_hook_free_record(gm_thread_t *t, void *p, unsigned kind, size_t sized, uint64_t *now)
{
	gm_frame_acc_t *acc;
	uint64_t before;
	uint32_t burst;
	if (!GM_HOOK_ON(t) || GM_UNLIKELY(gm_event_level != gm_level_events) ||
	    GM_UNLIKELY(!(acc = t->acc)) || GM_UNLIKELY(gm_heap_owns(p)))
		return NULL;
	/* the burst is off while this record is made (a signal handler's
	 * allocation meanwhile reads the clock), and goes on after it only if
	 * this free came soon after the record before it */
	burst = t->reuse_left;
	if (GM_UNLIKELY(burst != 0)) {
		t->reuse_left = 0;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	}
	before = t->last_tsc;
	if (!*now)
		*now = gm_support_tsc();
	if (GM_UNLIKELY(gm_thread_try_put(t, gm_rec_w0((uintptr_t)p, gm_rec_free, kind), sized,
	                                  *now) != 0))
		return NULL;
	if (GM_UNLIKELY(burst != 0) && gm_thread_bursting(before, *now))
		t->reuse_left = burst;
	GM_ACC_ADD(acc->nfree, 1);
	return acc;
}

/* A timed call is due (one in timing_sample per thread) on a thread that
 * needs nothing else from the slow path: registered (its counter is 0
 * until then), resolved, no budget node. */
static inline __attribute__((always_inline)) int gm_hook_timed_due(gm_thread_t *t)
{
	return t->sample_left == 1 && __atomic_load_n(&gm_real.malloc, __ATOMIC_ACQUIRE) &&
	       gm_context_node_now == 0;
}

/* The timed common case of malloc and plain new: the real malloc between
 * two TSC reads, the second being the record's, so a timed call costs one
 * read more than an untimed one. A NULL from new is returned unrecorded
 * (gm_hook_new asks again, runs the new-handler and records the failure). */
static inline __attribute__((always_inline)) void *gm_hook_alloc_timed(gm_thread_t *t, size_t n,
                                                                       unsigned kind, int is_new)
{
	uint64_t t0, now;
	gm_frame_acc_t *acc;
	void *p;
	t->sample_left = gm_thread_sample_every;
	t0 = gm_support_tsc();
	p = gm_real.malloc(n);
	if (GM_UNLIKELY(p == NULL)) {
		if (!is_new && gm_hook_on_alloc(t))
			gm_hook_fail(t, kind, n, 0);
		return NULL;
	}
	now = gm_support_tsc();
	if (GM_UNLIKELY(!(acc = gm_hook_alloc_record(t, p, n, kind, &now)))) {
		if (gm_hook_on_alloc(t))
			gm_event_alloc(t, p, n, kind, t0, gm_hook_usable(p), 0, 0);
		return p;
	}
	gm_event_cost(acc, n, gm_event_ticks(t0, now));
	return p;
}

static __attribute__((noinline)) void *gm_hook_malloc_slow(size_t n)
{
	gm_thread_t *t = &gm_thread_self;
	uint64_t t0;
	void *p;
	if (gm_hook_timed_due(t))
		return gm_hook_alloc_timed(t, n, gm_kind_malloc, 0);
	if (!gm_hook_ready())
		return gm_bootstrap_alloc(n, 16);
	t0 = gm_event_clock(t);
	if (!GM_HOOK_BUDGET(t, n, 0, 0, p))
		p = gm_real.malloc(n);
	if (gm_hook_on_alloc(t)) {
		if (GM_LIKELY(p != NULL))
			gm_event_alloc(t, p, n, gm_kind_malloc, t0, gm_hook_usable(p), 0, 0);
		else
			gm_hook_fail(t, gm_kind_malloc, n, 0);
	}
	return p;
}

/* What an allocation does once the real allocator returned p, outside the
 * common case (gm_hook_record_fast). No timed sample is due here. */
static __attribute__((noinline)) void *gm_hook_alloc_done(void *p, size_t n, unsigned kind)
{
	gm_thread_t *t = &gm_thread_self;
	if (gm_hook_on_alloc(t)) {
		if (GM_LIKELY(p != NULL))
			gm_event_alloc(t, p, n, kind, 0, gm_hook_usable(p), 0, 0);
		else
			gm_hook_fail(t, kind, n, 0);
	}
	return p;
}

/* The common case before the real call: resolved, no timed sample due
 * (the counter is taken here), no budget node. */
static inline __attribute__((always_inline)) int gm_hook_fast_before(gm_thread_t *t)
{
	if (GM_UNLIKELY(!__atomic_load_n(&gm_real.malloc, __ATOMIC_ACQUIRE)) ||
	    GM_UNLIKELY(t->sample_left <= 1) || GM_UNLIKELY(gm_context_node_now != 0))
		return 0;
	t->sample_left--;
	return 1;
}

/* The common case after it: the allocation record of p written straight
 * (gm_hook_alloc_record). Returns p, or what gm_hook_alloc_done does with
 * it otherwise. Only n and kind are kept across the real call, so the hooks
 * using it save few registers. */
static inline __attribute__((always_inline)) void *gm_hook_record_fast(void *p, size_t n,
                                                                       unsigned kind)
{
	uint64_t now = 0;
	if (GM_UNLIKELY(p == NULL) || !gm_hook_alloc_record(&gm_thread_self, p, n, kind, &now))
		return gm_hook_alloc_done(p, n, kind);
	return p;
}

GMTRACE_API void *malloc(size_t n)
{
	if (!gm_hook_fast_before(&gm_thread_self))
		return gm_hook_malloc_slow(n);
	return gm_hook_record_fast(gm_real.malloc(n), n, gm_kind_malloc);
}

/* free and every delete: record (kind; sized from a sized delete), then
 * give the block back to its heap (a budget node's, or the real one). */
static __attribute__((noinline)) void gm_hook_free_slow(void *p, unsigned kind, size_t sized)
{
	gm_thread_t *t = &gm_thread_self;
	gm_frame_acc_t *acc;
	uint64_t t0 = 0;
	int on;
	if (GM_UNLIKELY(p == NULL) || GM_UNLIKELY(gm_bootstrap_owns(p)))
		return;
	/* the timed common case: the record's TSC read starts the timing */
	if (t->sample_left == 1 && (acc = gm_hook_free_record(t, p, kind, sized, &t0)) != NULL) {
		t->sample_left = gm_thread_sample_every;
		gm_real.free(p);
		GM_ACC_ADD(acc->alloc_ticks,
		           gm_event_ticks(t0, gm_support_tsc()) * gm_thread_sample_every);
		return;
	}
	t0 = gm_event_clock(t);
	on = GM_HOOK_ON(t);
	if (!on && t->busy)
		gm_thread_busy_call(t);
	if (on)
		gm_event_free(t, p, kind, sized, gm_hook_usable(p));
	if (gm_heap_owns(p))
		gm_budget_free(p);
	else
		gm_real.free(p);
	if (on && t0 != 0)
		gm_event_timed(t, t0);
}

/* The common free: recording, at the events level, a thread already
 * registered, no timed sample due, room in its chunk, a block from the
 * process's allocator. It needs no register across a call, so the hook
 * saves none and ends in a jump to the real free; anything else goes to
 * gm_hook_free_slow, which does the whole work. */
static inline __attribute__((always_inline)) void gm_hook_free(void *p, unsigned kind, size_t sized)
{
	gm_thread_t *t = &gm_thread_self;
	uint64_t now = 0;
	if (GM_UNLIKELY(p == NULL) || GM_UNLIKELY(gm_bootstrap_owns(p)) ||
	    GM_UNLIKELY(t->sample_left <= 1) || !gm_hook_free_record(t, p, kind, sized, &now)) {
		gm_hook_free_slow(p, kind, sized);
		return;
	}
	t->sample_left--;
	gm_real.free(p);
}

GMTRACE_API void free(void *p)
{
	gm_hook_free(p, gm_kind_free, 0);
}

GMTRACE_API void *calloc(size_t n, size_t m)
{
	gm_thread_t *t = &gm_thread_self;
	size_t total;
	uint64_t t0;
	void *p;
	if (!gm_hook_ready()) {
		if (__builtin_mul_overflow(n, m, &total))
			return NULL;
		return gm_bootstrap_alloc(total, 16);
	}
	t0 = gm_event_clock(t);
	if (__builtin_mul_overflow(n, m, &total) || !GM_HOOK_BUDGET(t, total, 0, 1, p))
		p = gm_real.calloc(n, m);
	if (gm_hook_on_alloc(t)) {
		if (__builtin_mul_overflow(n, m, &total))
			total = SIZE_MAX;
		if (GM_LIKELY(p != NULL))
			gm_event_alloc(t, p, total, gm_kind_calloc, t0, gm_hook_usable(p), 0, 0);
		else
			gm_hook_fail(t, gm_kind_calloc, total, 0);
	}
	return p;
}

/* realloc of a block from the bootstrap buffer: move it to the real heap */
static void *gm_hook_realloc_bootstrap(void *old, size_t n)
{
	size_t have = gm_bootstrap_size(old);
	void *p = malloc(n);
	if (p)
		memcpy(p, old, have < n ? have : n);
	return p;
}

static void *gm_hook_realloc(void *old, size_t n, unsigned kind)
{
	gm_thread_t *t = &gm_thread_self;
	size_t old_usable = 0;
	uint64_t t0, *noted_at = NULL; /* where the record after the site goes */
	void *p;
	if (!gm_hook_ready()) {
		void *q = gm_bootstrap_alloc(n, 16);
		if (q && old)
			memcpy(q, old, gm_bootstrap_owns(old) ? gm_bootstrap_size(old) : 0);
		return q;
	}
	if (GM_UNLIKELY(old && gm_bootstrap_owns(old)))
		return gm_hook_realloc_bootstrap(old, n);
	/* a scope another thread ended: off the stack before the budget's
	 * realloc notes the block to its asset (gm_event_alloc would after) */
	if (GM_UNLIKELY(gm_context_asset_now != NULL) && !t->busy)
		gm_context_scope_check(t);
	/* with stacks, a realloc's site is written before the call: once it
	 * returns the old block is free, and another thread could be given it
	 * and record it while this one unwinds */
	if (GM_UNLIKELY(gm_stack_depth != 0) && gm_event_level == gm_level_events &&
	    GM_HOOK_ON(t)) {
		gm_stack_note(t);
		noted_at = t->pos;
	}
	t0 = gm_event_clock(t);
	if (GM_UNLIKELY(gm_event_level != gm_level_events) && old)
		old_usable = gm_hook_usable(old);
	/* reallocarray goes through realloc too: glibc's own reallocarray
	 * calls realloc through the PLT, which would land in our hook twice */
	if (GM_UNLIKELY(old && gm_heap_owns(old))) {
		/* a budget heap block stays in its node's heap */
		if (n == 0) {
			if (gm_hook_on_alloc(t))
				gm_event_free(t, old, kind, 0, old_usable);
			gm_budget_free(old);
			return NULL;
		}
		p = gm_budget_realloc(t, old, n);
		if (p == GM_BUDGET_UNHANDLED) {
			/* soft mode, the heap is full: the process's allocator
			 * takes the block over */
			size_t keep = gm_heap_usable(old);
			p = gm_real.malloc(n);
			if (p) {
				memcpy(p, old, keep < n ? keep : n);
				gm_budget_free(old);
			}
		}
	} else if (!old && GM_HOOK_BUDGET(t, n, 0, 0, p)) {
		/* realloc(NULL, n) is a malloc: served by the budget */
	} else {
		p = gm_real.realloc(old, n);
	}
	/* a budget's evictor or violation callback may have recorded on this
	 * thread during the call: the site is written again, right before the
	 * record it belongs to */
	if (GM_UNLIKELY(noted_at != NULL) && t->pos != noted_at && GM_HOOK_ON(t))
		gm_stack_note(t);
	if (gm_hook_on_alloc(t)) {
		if (GM_LIKELY(p != NULL)) {
			if (old && gm_event_level != gm_level_events)
				gm_event_free(t, old, kind, 0, old_usable);
			gm_event_alloc(t, p, n, kind, t0, gm_hook_usable(p), (uintptr_t)old, 1);
		} else if (n == 0 && old) {
			gm_event_free(t, old, kind, 0, old_usable); /* realloc(p, 0) freed p */
		} else {
			gm_hook_fail_noted(t, kind, n, 0, 1); /* its site came before the call */
		}
	}
	return p;
}

GMTRACE_API void *realloc(void *old, size_t n)
{
	return gm_hook_realloc(old, n, gm_kind_realloc);
}

GMTRACE_API void *reallocarray(void *old, size_t count, size_t size)
{
	size_t total;
	if (__builtin_mul_overflow(count, size, &total)) {
		gm_thread_t *t = &gm_thread_self;
		if (gm_hook_ready() && GM_HOOK_ON(t))
			gm_hook_fail(t, gm_kind_reallocarray, SIZE_MAX, 0);
		errno = ENOMEM;
		return NULL;
	}
	if (!gm_hook_ready())
		return realloc(old, total);
	return gm_hook_realloc(old, total, gm_kind_reallocarray);
}

GMTRACE_API int posix_memalign(void **out, size_t align, size_t n)
{
	gm_thread_t *t = &gm_thread_self;
	uint64_t t0;
	void *bp;
	int rc;
	if (!gm_hook_ready()) {
		void *p;
		if (align < sizeof(void *) || (align & (align - 1)))
			return EINVAL;
		if (!(p = gm_bootstrap_alloc(n, align)))
			return ENOMEM;
		*out = p;
		return 0;
	}
	t0 = gm_event_clock(t);
	/* *out changes only on success, whoever serves the call */
	if (align >= sizeof(void *) && !(align & (align - 1)) &&
	    GM_HOOK_BUDGET(t, n, align, 0, bp)) {
		rc = bp ? 0 : ENOMEM;
		if (bp)
			*out = bp;
	} else
		rc = gm_real.posix_memalign(out, align, n);
	if (gm_hook_on_alloc(t)) {
		if (rc == 0)
			gm_event_alloc(t, *out, n, gm_kind_posix_memalign, t0, gm_hook_usable(*out),
			               0, 0);
		else
			gm_hook_fail(t, gm_kind_posix_memalign, n, align);
	}
	return rc;
}

/* memalign, aligned_alloc, valloc, pvalloc share one shape */
#define GM_HOOK_ALIGNED(name, kind, params, call, boot_n, boot_align, rec_n, rec_align)         \
	GMTRACE_API void *name params                                                           \
	{                                                                                       \
		gm_thread_t *t = &gm_thread_self;                                               \
		uint64_t t0;                                                                    \
		void *p;                                                                        \
		if (!gm_hook_ready())                                                           \
			return gm_bootstrap_alloc(boot_n, boot_align);                          \
		t0 = gm_event_clock(t);                                                         \
		if (!(boot_align && !((boot_align) & ((boot_align)-1)) &&                       \
		      GM_HOOK_BUDGET(t, boot_n, boot_align, 0, p)))                             \
			p = gm_real.call;                                                       \
		if (gm_hook_on_alloc(t)) {                                                      \
			if (GM_LIKELY(p != NULL))                                               \
				gm_event_alloc(t, p, rec_n, kind, t0, gm_hook_usable(p), 0, 0); \
			else                                                                    \
				gm_hook_fail(t, kind, rec_n, rec_align);                        \
		}                                                                               \
		return p;                                                                       \
	}

GM_HOOK_ALIGNED(memalign, gm_kind_memalign, (size_t align, size_t n), memalign(align, n), n, align,
                n, align)
GM_HOOK_ALIGNED(aligned_alloc, gm_kind_aligned_alloc, (size_t align, size_t n),
                aligned_alloc(align, n), n, align, n, align)
GM_HOOK_ALIGNED(valloc, gm_kind_valloc, (size_t n), valloc(n), n, 4096, n, 0)
GM_HOOK_ALIGNED(pvalloc, gm_kind_pvalloc, (size_t n), pvalloc(n), (n + 4095) & ~(size_t)4095, 4096,
                n, 0)

GMTRACE_API size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	if (gm_bootstrap_owns(p))
		return gm_bootstrap_size(p);
	if (gm_heap_owns(p))
		return gm_heap_usable(p);
	if (!gm_hook_ready())
		return 0;
	return gm_real.malloc_usable_size(p);
}

/* ---- C++ ---------------------------------------------------------------- */

/* std::get_new_handler and the throw of std::bad_alloc live in libstdc++,
 * which a C program may load only later (dlopen of a C++ module): look
 * them up when first needed. */
typedef void (*gm_new_handler_t)(void);

static gm_new_handler_t gm_hook_new_handler(void)
{
	static gm_new_handler_t (*get)(void);
	if (!get)
		get = (gm_new_handler_t(*)(void))dlsym(RTLD_DEFAULT, "_ZSt15get_new_handlerv");
	return get ? get() : NULL;
}

__attribute__((noreturn)) static void gm_hook_throw_bad_alloc(void)
{
	static void (*thrower)(void);
	if (!thrower)
		thrower = (void (*)(void))dlsym(RTLD_DEFAULT, "_ZSt17__throw_bad_allocv");
	if (thrower)
		thrower();
	gm_support_warn("operator new failed and std::bad_alloc cannot be thrown", 0, 0);
	abort();
}

/* A failed operator new whose new-handler gives up by throwing (as a
 * handler that frees a reserve once, then throws, does): its failure is
 * recorded as the exception leaves (this file is built with -fexceptions
 * so that cleanups run then). */
typedef struct gm_hook_failing {
	gm_thread_t *t;
	size_t n, align;
	unsigned kind;
	int armed; /* 1 while the handler runs */
} gm_hook_failing_t;

static void gm_hook_failing_end(gm_hook_failing_t *f)
{
	if (f->armed && GM_HOOK_ON(f->t))
		gm_hook_fail(f->t, f->kind, f->n, f->align);
}

static void *gm_hook_cxx_next(void **slot, const char *name);

/* A nothrow form whose new-handler may throw: the C++ library's own
 * nothrow definition, which calls the throwing form (ours) inside a
 * try/catch and returns NULL for whatever the handler throws (C cannot
 * catch it: it went through to std::terminate). NULL without a C++
 * library. */
static void *gm_hook_new_nothrow_lib(size_t n, size_t align, unsigned kind, int *done)
{
	static void *slots[4];
	static const char *const names[4] = {"_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t",
	                                     "_ZnwmSt11align_val_tRKSt9nothrow_t",
	                                     "_ZnamSt11align_val_tRKSt9nothrow_t"};
	static const char tag = 0; /* std::nothrow's value is never read */
	int i = (kind == gm_kind_new_array) + 2 * (align != 0);
	void *f = gm_hook_cxx_next(&slots[i], names[i]);
	*done = f != NULL;
	if (!f)
		return NULL;
	if (align) {
		void *(*fa)(size_t, size_t, const void *);
		memcpy(&fa, &f, sizeof(fa));
		return fa(n, align, &tag);
	}
	{
		void *(*fn)(size_t, const void *);
		memcpy(&fn, &f, sizeof(fn));
		return fn(n, &tag);
	}
}

static void *gm_hook_new(size_t n, size_t align, unsigned kind, int nothrow)
{
	gm_thread_t *t = &gm_thread_self;
	gm_hook_failing_t failing
	        __attribute__((cleanup(gm_hook_failing_end))) = {t, n, align, kind, 0};
	uint64_t t0;
	void *p;
	if (!align && n && gm_hook_timed_due(t) && (p = gm_hook_alloc_timed(t, n, kind, 1)) != NULL)
		return p;
	if (!gm_hook_ready())
		return gm_bootstrap_alloc(n ? n : 1, align ? align : 16);
	t0 = gm_event_clock(t);
	/* an alignment that is no power of two fails at once, the new-handler
	 * not called, as the C++ library does (a handler that returned looped
	 * for ever) */
	for (; !align || (align & (align - 1)) == 0;) {
		if (GM_HOOK_BUDGET(t, n ? n : 1, align, 0, p)) {
			/* served by a budget heap, or refused by it as the device would */
		} else if (align) {
			if (gm_real.posix_memalign(&p,
			                           align < sizeof(void *) ? sizeof(void *) : align,
			                           n ? n : 1) != 0)
				p = NULL;
		} else {
			p = gm_real.malloc(n ? n : 1);
		}
		if (GM_LIKELY(p != NULL)) {
			if (gm_hook_on_alloc(t))
				gm_event_alloc(t, p, n, kind, t0, gm_hook_usable(p), 0, 0);
			return p;
		}
		{
			gm_new_handler_t h = gm_hook_new_handler();
			int done = 0;
			if (!h)
				break;
			if (nothrow) {
				/* the library's nothrow form runs the handler; its
				 * call of the throwing form records the outcome */
				void *q = gm_hook_new_nothrow_lib(n, align, kind, &done);
				if (done)
					return q;
			}
			failing.armed = 1;
			h(); /* may free memory, throw, or abort */
			failing.armed = 0;
		}
	}
	if (GM_HOOK_ON(t))
		gm_hook_fail(t, kind, n, align);
	if (nothrow)
		return NULL;
	gm_hook_throw_bad_alloc();
}

/* An aligned new of alignment 0 (no power of two; gm_hook_new takes 0 for
 * the plain forms): fails at once, the new-handler not called, as the C++
 * library's does. */
static void *gm_hook_new_align0(size_t n, unsigned kind, int nothrow)
{
	gm_thread_t *t = &gm_thread_self;
	if (gm_hook_ready() && GM_HOOK_ON(t))
		gm_hook_fail(t, kind, n, 0);
	if (nothrow)
		return NULL;
	gm_hook_throw_bad_alloc();
}

/* Plain new and new[] of a size: the common case as malloc's; a failed
 * call (the new-handler loop, the throw) goes to gm_hook_new, which asks
 * the allocator again first. */
static inline __attribute__((always_inline)) void *gm_hook_new_fast(size_t n, unsigned kind,
                                                                    int nothrow)
{
	gm_thread_t *t = &gm_thread_self;
	void *p;
	if (GM_UNLIKELY(n == 0) || !gm_hook_fast_before(t))
		return gm_hook_new(n, 0, kind, nothrow);
	p = gm_real.malloc(n);
	if (GM_UNLIKELY(p == NULL)) {
		t->sample_left++; /* gm_hook_new counts this call */
		return gm_hook_new(n, 0, kind, nothrow);
	}
	return gm_hook_record_fast(p, n, kind);
}

/* A game may define global operator new and delete itself (an engine's
 * allocator with a header before each block, or its own arena): the
 * forms it defines win over these (the executable comes first in lookup
 * order), the others would come here and miss its allocator, while the
 * C++ library's defaults of the other forms call the four it may define
 * (new, delete, and their aligned forms): `delete p` at -O2, the sized
 * form, freed the game's block with free() and the game aborted. When the
 * base form of a family is not ours, the family's other forms go to the
 * C++ library's definitions, which call the game's; its blocks are
 * recorded by the malloc family under it, if it uses it. An engine's
 * library that defines them (libengine.so) comes after gmtrace in lookup
 * order: the calls reach these, which pass them on to its definitions
 * (each form to its own, if it has one), found past gmtrace (RTLD_NEXT)
 * in a library that is neither a C++ runtime nor an allocator's. */
enum {
	gm_hook_cxx_new,
	gm_hook_cxx_delete,
	gm_hook_cxx_new_aligned,
	gm_hook_cxx_delete_aligned,
	gm_hook_cxx_count
};
static int gm_hook_cxx_base[gm_hook_cxx_count]; /* 0 not looked up, 1 ours, 2 another's */
/* the base form of a game's library, found past gmtrace (NULL: the
 * executable's, which its calls reach without us, or none) */
static void *gm_hook_cxx_game_base[gm_hook_cxx_count];

/* The game's own definition of name past gmtrace in lookup order: one in a
 * library that is no C++ runtime's (whose defaults call the base forms)
 * and no allocator's (jemalloc, tcmalloc: operator new of their own, under
 * which malloc would not be called); NULL otherwise. t is busy. */
static void *gm_hook_cxx_game_def(const char *name)
{
	static const char *const runtimes[] = {"libstdc++",   "libc++",      "libjemalloc",
	                                       "libtcmalloc", "libmimalloc", "libgmtrace"};
	Dl_info def;
	const char *base;
	void *p = dlsym(RTLD_NEXT, name);
	if (!p || !dladdr(p, &def) || !def.dli_fname)
		return NULL;
	base = strrchr(def.dli_fname, '/') ? strrchr(def.dli_fname, '/') + 1 : def.dli_fname;
	for (size_t i = 0; i < sizeof(runtimes) / sizeof(runtimes[0]); i++)
		if (strncmp(base, runtimes[i], strlen(runtimes[i])) == 0)
			return NULL;
	return p;
}

static __attribute__((noinline)) int gm_hook_cxx_lookup(int family)
{
	static const char *const base[gm_hook_cxx_count] = {
	        "_Znwm", "_ZdlPv", "_ZnwmSt11align_val_t", "_ZdlPvSt11align_val_t"};
	gm_thread_t *t = &gm_thread_self;
	Dl_info def, self;
	int busy = t->busy, state;
	void *p, *lib = NULL;
	t->busy = 1; /* (what the loader allocates here is gmtrace's, not the game's) */
	p = dlsym(RTLD_DEFAULT, base[family]);
	state = p && dladdr(p, &def) && dladdr((void *)gm_hook_cxx_lookup, &self) &&
	                        def.dli_fbase != self.dli_fbase ?
	                2 :
	                1;
	if (state == 1 && (lib = gm_hook_cxx_game_def(base[family])) != NULL) {
		__atomic_store_n(&gm_hook_cxx_game_base[family], lib, __ATOMIC_RELEASE);
		state = 2;
	}
	t->busy = busy;
	__atomic_store_n(&gm_hook_cxx_base[family], state, __ATOMIC_RELAXED);
	return state;
}

/* 1 when the game defines the base form of family itself. */
static inline __attribute__((always_inline)) int gm_hook_cxx_games(int family)
{
	int state = __atomic_load_n(&gm_hook_cxx_base[family], __ATOMIC_RELAXED);
	if (GM_LIKELY(state == 1))
		return 0;
	return (state ? state : gm_hook_cxx_lookup(family)) == 2;
}

/* The C++ library's own definition of name (its default, which calls the
 * game's base form), looked up once; NULL when no C++ library is loaded
 * (then ours serves). Asked of the library itself, not RTLD_NEXT: the next
 * definition after gmtrace can be jemalloc's (the jemalloc trap above). */
static __attribute__((noinline)) void *gm_hook_cxx_next(void **slot, const char *name)
{
	static const char *const libs[] = {"libstdc++.so.6", "libc++.so.1"};
	gm_thread_t *t = &gm_thread_self;
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	int busy = t->busy;
	t->busy = 1; /* (what the loader allocates here is gmtrace's) */
	if (!f)      /* the game's library's own definition of this form first */
		f = gm_hook_cxx_game_def(name);
	for (size_t i = 0; !f && i < sizeof(libs) / sizeof(libs[0]); i++) {
		/* (the handle is kept: a C++ library is never unloaded, and
		 * gmtrace's dlclose hook has no business inside a delete) */
		void *lib = dlopen(libs[i], RTLD_LAZY | RTLD_NOLOAD);
		if (lib)
			f = dlsym(lib, name);
	}
	t->busy = busy;
	if (f)
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	return f;
}

/* In form sym of family: to the C++ library's definition when the game
 * defines the family's base form (GM_HOOK_CXX_NEXT in the new forms, which return its
 * block; GM_HOOK_CXX_NEXT_VOID in the deletes). */
#define GM_HOOK_CXX_NEXT(family, sym, type, ...)                         \
	do {                                                             \
		static void *next_;                                      \
		__typeof__(type) f_;                                     \
		if (GM_UNLIKELY(gm_hook_cxx_games(family)) &&            \
		    (f_ = (type)gm_hook_cxx_next(&next_, #sym)) != NULL) \
			return f_(__VA_ARGS__);                          \
	} while (0)
#define GM_HOOK_CXX_NEXT_VOID(family, sym, type, ...)                      \
	do {                                                               \
		static void *next_;                                        \
		__typeof__(type) f_;                                       \
		if (GM_UNLIKELY(gm_hook_cxx_games(family)) &&              \
		    (f_ = (type)gm_hook_cxx_next(&next_, #sym)) != NULL) { \
			f_(__VA_ARGS__);                                   \
			return;                                            \
		}                                                          \
	} while (0)

/* In the base form of family: to the game's library's definition, when it
 * has one (gm_hook_cxx_game_base). */
#define GM_HOOK_CXX_BASE(family, type, ...)                                     \
	do {                                                                    \
		__typeof__(type) f_;                                            \
		if (GM_UNLIKELY(gm_hook_cxx_games(family)) &&                   \
		    (f_ = (type)__atomic_load_n(&gm_hook_cxx_game_base[family], \
		                                __ATOMIC_ACQUIRE)) != NULL)     \
			return f_(__VA_ARGS__);                                 \
	} while (0)
#define GM_HOOK_CXX_BASE_VOID(family, type, ...)                                \
	do {                                                                    \
		__typeof__(type) f_;                                            \
		if (GM_UNLIKELY(gm_hook_cxx_games(family)) &&                   \
		    (f_ = (type)__atomic_load_n(&gm_hook_cxx_game_base[family], \
		                                __ATOMIC_ACQUIRE)) != NULL) {   \
			f_(__VA_ARGS__);                                        \
			return;                                                 \
		}                                                               \
	} while (0)

/* new: _Znwm _Znam, nothrow, aligned (std::align_val_t is a size_t) */
GMTRACE_API void *_Znwm(size_t n)
{
	GM_HOOK_CXX_BASE(gm_hook_cxx_new, void *(*)(size_t), n);
	return gm_hook_new_fast(n, gm_kind_new, 0);
}
GMTRACE_API void *_Znam(size_t n)
{
	GM_HOOK_CXX_NEXT(gm_hook_cxx_new, _Znam, void *(*)(size_t), n);
	return gm_hook_new_fast(n, gm_kind_new_array, 0);
}
GMTRACE_API void *_ZnwmRKSt9nothrow_t(size_t n, const void *nt)
{
	GM_HOOK_CXX_NEXT(gm_hook_cxx_new, _ZnwmRKSt9nothrow_t, void *(*)(size_t, const void *), n,
	                 nt);
	return gm_hook_new_fast(n, gm_kind_new, 1);
}
GMTRACE_API void *_ZnamRKSt9nothrow_t(size_t n, const void *nt)
{
	GM_HOOK_CXX_NEXT(gm_hook_cxx_new, _ZnamRKSt9nothrow_t, void *(*)(size_t, const void *), n,
	                 nt);
	return gm_hook_new_fast(n, gm_kind_new_array, 1);
}
GMTRACE_API void *_ZnwmSt11align_val_t(size_t n, size_t al)
{
	GM_HOOK_CXX_BASE(gm_hook_cxx_new_aligned, void *(*)(size_t, size_t), n, al);
	if (GM_UNLIKELY(!al))
		return gm_hook_new_align0(n, gm_kind_new, 0);
	return gm_hook_new(n, al, gm_kind_new, 0);
}
GMTRACE_API void *_ZnamSt11align_val_t(size_t n, size_t al)
{
	GM_HOOK_CXX_NEXT(gm_hook_cxx_new_aligned, _ZnamSt11align_val_t, void *(*)(size_t, size_t),
	                 n, al);
	if (GM_UNLIKELY(!al))
		return gm_hook_new_align0(n, gm_kind_new_array, 0);
	return gm_hook_new(n, al, gm_kind_new_array, 0);
}
GMTRACE_API void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, const void *nt)
{
	GM_HOOK_CXX_NEXT(gm_hook_cxx_new_aligned, _ZnwmSt11align_val_tRKSt9nothrow_t,
	                 void *(*)(size_t, size_t, const void *), n, al, nt);
	if (GM_UNLIKELY(!al))
		return gm_hook_new_align0(n, gm_kind_new, 1);
	return gm_hook_new(n, al, gm_kind_new, 1);
}
GMTRACE_API void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, const void *nt)
{
	GM_HOOK_CXX_NEXT(gm_hook_cxx_new_aligned, _ZnamSt11align_val_tRKSt9nothrow_t,
	                 void *(*)(size_t, size_t, const void *), n, al, nt);
	if (GM_UNLIKELY(!al))
		return gm_hook_new_align0(n, gm_kind_new_array, 1);
	return gm_hook_new(n, al, gm_kind_new_array, 1);
}

/* delete: plain, sized, aligned, sized+aligned, nothrow, for both forms */
GMTRACE_API void _ZdlPv(void *p)
{
	GM_HOOK_CXX_BASE_VOID(gm_hook_cxx_delete, void (*)(void *), p);
	gm_hook_free(p, gm_kind_delete, 0);
}
GMTRACE_API void _ZdaPv(void *p)
{
	GM_HOOK_CXX_NEXT_VOID(gm_hook_cxx_delete, _ZdaPv, void (*)(void *), p);
	gm_hook_free(p, gm_kind_delete_array, 0);
}
GMTRACE_API void _ZdlPvm(void *p, size_t n)
{
	GM_HOOK_CXX_NEXT_VOID(gm_hook_cxx_delete, _ZdlPvm, void (*)(void *, size_t), p, n);
	gm_hook_free(p, gm_kind_delete, n);
}
GMTRACE_API void _ZdaPvm(void *p, size_t n)
{
	GM_HOOK_CXX_NEXT_VOID(gm_hook_cxx_delete, _ZdaPvm, void (*)(void *, size_t), p, n);
	gm_hook_free(p, gm_kind_delete_array, n);
}
GMTRACE_API void _ZdlPvSt11align_val_t(void *p, size_t al)
{
	GM_HOOK_CXX_BASE_VOID(gm_hook_cxx_delete_aligned, void (*)(void *, size_t), p, al);
	gm_hook_free(p, gm_kind_delete, 0);
}
GMTRACE_API void _ZdaPvSt11align_val_t(void *p, size_t al)
{
	GM_HOOK_CXX_NEXT_VOID(gm_hook_cxx_delete_aligned, _ZdaPvSt11align_val_t,
	                      void (*)(void *, size_t), p, al);
	gm_hook_free(p, gm_kind_delete_array, 0);
}
GMTRACE_API void _ZdlPvmSt11align_val_t(void *p, size_t n, size_t al)
{
	GM_HOOK_CXX_NEXT_VOID(gm_hook_cxx_delete_aligned, _ZdlPvmSt11align_val_t,
	                      void (*)(void *, size_t, size_t), p, n, al);
	gm_hook_free(p, gm_kind_delete, n);
}
GMTRACE_API void _ZdaPvmSt11align_val_t(void *p, size_t n, size_t al)
{
	GM_HOOK_CXX_NEXT_VOID(gm_hook_cxx_delete_aligned, _ZdaPvmSt11align_val_t,
	                      void (*)(void *, size_t, size_t), p, n, al);
	gm_hook_free(p, gm_kind_delete_array, n);
}
GMTRACE_API void _ZdlPvRKSt9nothrow_t(void *p, const void *nt)
{
	GM_HOOK_CXX_NEXT_VOID(gm_hook_cxx_delete, _ZdlPvRKSt9nothrow_t,
	                      void (*)(void *, const void *), p, nt);
	gm_hook_free(p, gm_kind_delete, 0);
}
GMTRACE_API void _ZdaPvRKSt9nothrow_t(void *p, const void *nt)
{
	GM_HOOK_CXX_NEXT_VOID(gm_hook_cxx_delete, _ZdaPvRKSt9nothrow_t,
	                      void (*)(void *, const void *), p, nt);
	gm_hook_free(p, gm_kind_delete_array, 0);
}
GMTRACE_API void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al, const void *nt)
{
	GM_HOOK_CXX_NEXT_VOID(gm_hook_cxx_delete_aligned, _ZdlPvSt11align_val_tRKSt9nothrow_t,
	                      void (*)(void *, size_t, const void *), p, al, nt);
	gm_hook_free(p, gm_kind_delete, 0);
}
GMTRACE_API void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al, const void *nt)
{
	GM_HOOK_CXX_NEXT_VOID(gm_hook_cxx_delete_aligned, _ZdaPvSt11align_val_tRKSt9nothrow_t,
	                      void (*)(void *, size_t, const void *), p, al, nt);
	gm_hook_free(p, gm_kind_delete_array, 0);
}
