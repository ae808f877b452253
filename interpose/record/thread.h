/* thread.h - per-thread recording state and the hot record writers
 *
 * Each thread owns one chunk of the shared-memory log at a time and appends
 * 16-byte records to it with plain stores: no lock, no syscall, no
 * allocation. The slow path (first record of a thread, chunk full, a time
 * record due) lives in thread.c.
 *
 * Time: every record carries the low 24 bits of the TSC, read with a plain
 * (not serializing) rdtsc. Measured here, a second clock read per
 * malloc+free pair costs ~10 ns while the first hides behind the call into
 * the allocator (~2.5 ns), and reading the TSC *after* an allocation returns
 * and *before* a free starts orders cross-thread pairs: thread B can only
 * free what thread A's malloc returned after A read its TSC. Only nearly:
 * the CPU may run a plain rdtsc a few hundred cycles early, and cores'
 * counters may differ a little; the reader repairs such pairs from the
 * addresses (analysis/log/reader.c, causal repair), which costs the game
 * nothing, where lfence before each read cost ~20 ns per pair here. So the
 * capture keeps one TSC per event (an allocation in a burst reuses the
 * reading before it: gm_thread_alloc_tsc); the 24-bit field keeps records at 16
 * bytes, and a gm_rec_time record (full TSC) is written when the gap since
 * the thread's previous record reaches 2^23 ticks.
 *
 * Signal safety: a slot is claimed (pos advanced) before it is written, so a
 * signal handler that allocates between the two gets the next slot and both
 * records survive; the claim is one instruction (gm_thread_claim_slot), so a
 * handler cannot cut it in two either (reading pos, then storing it moved:
 * a handler's record in between was written over, a thousand of 37,000
 * frees in a timer handler lost). A record's first word is stored last with
 * release order so a concurrent drainer never sees half a record.
 */
#ifndef GM_THREAD_H
#define GM_THREAD_H

#include <stdint.h>

#include "../log/format.h"
#include "../support/support.h"

typedef enum gm_thread_state {
	gm_thread_new = 0, /* no record yet: the slow path registers it */
	gm_thread_active = 1,
	gm_thread_exited = 2, /* past its exit destructor */
	/* an index past what a capture can name (GM_FORMAT_MAX_THREADS):
	 * its calls go to the allocator unrecorded */
	gm_thread_unrecorded = 3,
	gm_thread_state_count
} gm_thread_state_t;

#define GM_COST_CLASSES 40

/* One thread's running totals, written only by that thread (relaxed
 * stores) and read at every frame end by the thread that ends the frame,
 * which turns the differences into per-frame records (record/frame.c).
 * They live in a static table, not in TLS, so they stay readable after
 * the thread is gone. */
typedef struct gm_frame_acc {
	uint64_t nalloc, nfree;
	uint64_t alloc_bytes; /* requested sizes */
	uint64_t free_bytes;  /* usable sizes of freed blocks (frames level) */
	int64_t live;         /* usable bytes allocated minus freed (frames level) */
	int64_t peak;         /* highest live since peak_frame began */
	uint64_t alloc_ticks; /* estimated TSC ticks inside the allocator */
	uint64_t peak_frame;  /* frame number peak belongs to */
	/* timed allocator calls by size class c (sizes up to 2^c): count and
	 * TSC ticks, for the cost of an allocation of that size */
	uint64_t cost_n[GM_COST_CLASSES];
	uint64_t cost_ticks[GM_COST_CLASSES];
} __attribute__((aligned(64))) gm_frame_acc_t; /* a cache line of its own per thread */

/* Size class of n bytes for gm_frame_acc_t.cost_*: smallest c, 2^c >= n. */
static inline unsigned gm_thread_size_class(uint64_t n)
{
	unsigned c = n <= 1 ? 0 : 64u - (unsigned)__builtin_clzll(n - 1);
	return c < GM_COST_CLASSES ? c : GM_COST_CLASSES - 1;
}

#define GM_ACC_ADD(field, v) __atomic_store_n(&(field), (field) + (v), __ATOMIC_RELAXED)

typedef struct gm_thread {
	uint64_t *pos;     /* next free word of the current chunk, or NULL */
	uint64_t *end;     /* end of the current chunk */
	uint64_t last_tsc; /* TSC of this thread's last record */
	int busy;          /* recursion guard: hooks forward without recording */
	int state;         /* gm_thread_state_t */
	int chunk;         /* current chunk index, -1 if none */
	int pending;       /* index + 1 of the chunk before it, full, committed at
	                      the next switch (0: none): see gm_thread_room */
	uint32_t pending_used;
	uint32_t index; /* thread index in this process's log */
	uint32_t seq;   /* next chunk sequence number */
	uint32_t os_tid;
	uint32_t sample_left; /* calls until the next timed allocator call */
	uint32_t reuse_left;  /* allocations left that may carry last_tsc
	                         (gm_thread_alloc_tsc) */
	uint64_t burst_frame; /* gm_frame_number when reuse_left was set */
	uint64_t *rseq_cs;    /* the rseq_cs word of this thread's rseq area
	                         (gm_thread_rseq_mark), NULL without one */
	uint32_t burst_n;     /* gm_thread_burst, or 0 without an rseq area */
	uint32_t no_help;     /* > 0: never drain here (a budget eviction: other
	                         threads would take the room it frees meanwhile) */
	uint32_t in_slow;     /* > 0 while gm_thread_put_slow switches chunks: a
	                         call arriving then, the thread busy, is a signal
	                         handler's (that code allocates nothing),
	                         forwarded unrecorded */
	uint64_t lost;        /* such calls, written as a gm_rec_lost record */
	gm_frame_acc_t *acc;  /* this thread's totals, NULL until it registers */
	uint32_t late;        /* 1 once it recorded after its exit destructor: its
	                         chunks carry its id (gm_chunk_t.late_tid) */
	uintptr_t iterate_sp; /* the stack at the outermost dl_iterate_phdr call
	                         (hook/process.c), 0: none; deeper than it, the
	                         loader's lock is held: no module walk is waited
	                         for. (A callback that longjmps out leaves it set,
	                         and only calls deeper than it then count as in.) */
	int mods_holding;     /* 1 while it takes or holds the module walk's lock
	                         (record/session.c) */
} gm_thread_t;

extern __thread gm_thread_t gm_thread_self __attribute__((tls_model("initial-exec")));

/* 1 while this process records; read on every hook call. */
extern int gm_thread_recording;

/* A hook's call that is not recorded because t is busy: counted as a lost
 * record when it came from a signal handler that interrupted the slow path
 * (t->in_slow), which writes the count once its own record is stored.
 * Returns 1 when it was counted so, 0 when the call is gmtrace's own. */
static inline int gm_thread_busy_call(gm_thread_t *t)
{
	if (GM_LIKELY(!t->in_slow))
		return 0;
	__atomic_add_fetch(&t->lost, 1, __ATOMIC_RELAXED); /* (a nested handler's too) */
	return 1;
}

/* Slow path of gm_thread_put*: registers the thread, switches chunks,
 * writes time records, waits (counted) when the log is full. */
void gm_thread_put_slow(gm_thread_t *t, uint64_t w0, uint64_t b, const uint64_t *extra,
                        unsigned nextra, uint64_t now);

/* Moves t->pos on by words and returns where it was, in one instruction
 * (x86-64: xadd without lock, the position being this thread's alone), so
 * that a signal handler on this thread claims the slot after, never the
 * same one; elsewhere an atomic add. pos may go past end (a handler filled
 * the chunk between the caller's look and the claim): the caller then
 * takes the slow path, which commits the chunk up to its end. */
static inline __attribute__((always_inline)) uint64_t *gm_thread_claim_slot(gm_thread_t *t,
                                                                            unsigned words)
{
#if defined(__x86_64__)
	uintptr_t at = (uintptr_t)words * 8;
	__asm__ volatile("xaddq %0, %1" : "+r"(at), "+m"(t->pos) : : "memory");
	return (uint64_t *)at;
#else
	return (uint64_t *)__atomic_fetch_add((uintptr_t *)(void *)&t->pos, (uintptr_t)words * 8,
	                                      __ATOMIC_RELAXED);
#endif
}

/* Append a one-unit record with fields a/type/x and b carrying the TSC now,
 * when the chunk has room and the step from the thread's previous record
 * fits the tick field. Returns 0, or -1 with nothing written (the slow
 * path's case: gm_thread_put_slow, or the caller's own). */
static inline __attribute__((always_inline)) int gm_thread_try_put(gm_thread_t *t, uint64_t w0,
                                                                   uint64_t b, uint64_t now)
{
	uint64_t *p = t->pos;
	if (GM_UNLIKELY(p >= t->end || now - t->last_tsc >= GM_REC_TICK_HALF))
		return -1;
	p = gm_thread_claim_slot(t, 2); /* claim the slot before filling it */
	if (GM_UNLIKELY(p + 2 > t->end))
		return -1;
	t->last_tsc = now;
	p[1] = gm_rec_w1(b, now);
	__atomic_store_n(&p[0], w0, __ATOMIC_RELEASE);
	return 0;
}

/* Bursts: a reading taken less than GM_THREAD_BURST_TICKS after the
 * thread's previous record (about 0.3-0.5 us at 2-3.5 GHz) lets the
 * thread's next gm_thread_burst allocations (option burst_allocations,
 * 0 by default: off, at most 15) carry the reading of the
 * record before each of them instead of a read of their own, as long as
 * the thread was not preempted meanwhile (below). */
#define GM_THREAD_BURST_TICKS 1024u
#define GM_THREAD_BURST_REUSE 0u
extern uint32_t gm_thread_burst;

/* Whether the thread was preempted: the kernel's restartable-sequences
 * area. glibc registers one per thread; its rseq_cs word names the
 * critical section the thread is in, and the kernel sets it to 0 when it
 * preempts the thread or delivers it a signal while it runs outside that
 * section (and at some other switches, a sleep or a wait in a lock: not
 * at all of them, and the kernel promises none). Arming a burst stores
 * gm_thread_rseq_mark there (the address of a descriptor of an empty
 * section, which nothing can run inside); the word still holding it at
 * an allocation means the thread was neither preempted nor signalled
 * since, so a burst never carries a reading across a preemption. The
 * order of the capture does not rest on it: the reader places a burst
 * allocation from its thread's next reading (analysis/log/reader.c). */
extern uint64_t gm_thread_rseq_mark;

/* 1 when the calling thread has an rseq area (gm_thread_rseq_mark is then
 * set); 0 otherwise, and bursts stay off. */
int gm_thread_rseq_probe(void);

/* Frames ended so far (record/frame.c): a burst ends at a frame mark. */
extern uint64_t gm_frame_number;

/* The TSC an allocation's record carries, taken after the allocation
 * returned (*fresh = 1), or in a burst the thread's previous record's (a
 * reading from before the call, *fresh = 0): the allocation comes after
 * that record by position, and before the thread's next reading, which
 * the reader takes as its bound (analysis/log/reader.c, gm_reader_latest).
 * A burst ends when the thread was preempted or took a signal since it was
 * armed (gm_thread_rseq_mark), at a frame mark on any thread (so a burst
 * allocation never carries a reading from before the frame it was made
 * in), at a free that reads the clock GM_THREAD_BURST_TICKS or more after
 * the record before it (hook/alloc.c, gm_hook_free_record), and at every
 * other record (gm_thread_put,
 * gm_thread_put2, gm_thread_put_slow). Frees always read the clock, so a
 * block's free on another thread still carries a later reading than its
 * allocation. The burst is armed only once the record that read the clock
 * is written (gm_thread_burst_arm): a signal handler allocating before
 * that reads the clock itself. */
static inline __attribute__((always_inline)) uint64_t gm_thread_alloc_tsc(gm_thread_t *t,
                                                                          int *fresh)
{
	if (GM_UNLIKELY(t->reuse_left)) {
		if (t->burst_frame == __atomic_load_n(&gm_frame_number, __ATOMIC_RELAXED) &&
		    __atomic_load_n(t->rseq_cs, __ATOMIC_RELAXED) == gm_thread_rseq_mark) {
			t->reuse_left--;
			*fresh = 0;
			return t->last_tsc;
		}
		t->reuse_left = 0; /* a frame ended, or the thread was preempted */
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
	}
	*fresh = 1;
	return gm_support_tsc();
}

/* Whether a reading at now came soon enough after the thread's record
 * before it (at before) to start or go on with a burst. */
static inline __attribute__((always_inline)) int gm_thread_bursting(uint64_t before, uint64_t now)
{
	return now - before < GM_THREAD_BURST_TICKS;
}

/* After a record carrying now, read fresh, was written: a burst starts
 * when the thread's record before it (at before) was less than
 * GM_THREAD_BURST_TICKS earlier. */
static inline __attribute__((always_inline)) void gm_thread_burst_arm(gm_thread_t *t,
                                                                      uint64_t before, uint64_t now)
{
	if (GM_UNLIKELY(t->burst_n != 0) && gm_thread_bursting(before, now)) {
		__atomic_store_n(t->rseq_cs, gm_thread_rseq_mark, __ATOMIC_RELAXED);
		t->burst_frame = __atomic_load_n(&gm_frame_number, __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST); /* armed once all is set */
		t->reuse_left = t->burst_n;
	}
}

/* Append a one-unit record with fields a/type/x and b; returns the TSC it
 * carries. */
static inline __attribute__((always_inline)) uint64_t gm_thread_put(gm_thread_t *t, uint64_t w0,
                                                                    uint64_t b)
{
	uint64_t now = gm_support_tsc();
	t->reuse_left = 0;
	if (GM_UNLIKELY(gm_thread_try_put(t, w0, b, now) != 0))
		gm_thread_put_slow(t, w0, b, 0, 0, now);
	return now;
}

/* Append a two-unit record (realloc, fail): e0, e1 are the extra unit. */
static inline __attribute__((always_inline)) uint64_t
gm_thread_put2(gm_thread_t *t, uint64_t w0, uint64_t b, uint64_t e0, uint64_t e1)
{
	uint64_t now = gm_support_tsc();
	uint64_t *p = t->pos;
	t->reuse_left = 0;
	if (GM_UNLIKELY(p + 4 > t->end || now - t->last_tsc >= GM_REC_TICK_HALF) ||
	    GM_UNLIKELY((p = gm_thread_claim_slot(t, 4)) + 4 > t->end)) {
		uint64_t extra[2] = {e0, e1};
		gm_thread_put_slow(t, w0, b, extra, 1, now);
		return now;
	}
	t->last_tsc = now;
	p[1] = gm_rec_w1(b, now);
	p[2] = e0;
	p[3] = e1;
	__atomic_store_n(&p[0], w0, __ATOMIC_RELEASE);
	return now;
}

/* Append a record of n extra units laid out by the caller (16 bytes each,
 * padding included; at most 255): rare records too long to copy on the
 * stack (stacks). Nothing while not recording or busy. */
static inline void gm_thread_put_units(gm_thread_t *t, uint64_t w0, uint64_t b,
                                       const uint64_t *units, unsigned n)
{
	if (!__atomic_load_n(&gm_thread_recording, __ATOMIC_ACQUIRE) || t->busy)
		return;
	gm_thread_put_slow(t, w0, b, units, n, gm_support_tsc());
}

/* Append a record with n extra units of data (at most 255 units; longer
 * data is cut). Always takes the slow path: for rare records only. */
void gm_thread_put_var(gm_thread_t *t, unsigned type, uint64_t a, uint64_t b, const void *data,
                       uint64_t nbytes);

/* Register t (thread index, totals slot, first chunk, thread-start record)
 * if it is new; safe to call on every slow path. */
void gm_thread_attach(gm_thread_t *t);

/* Commit the current chunk (thread exit, fork, exec, end of process). */
void gm_thread_flush(gm_thread_t *t);

/* At the end of the process, on the thread ending it: its current chunk,
 * and the full one before it not committed yet, mended (gm_drain_mend)
 * from what is drained of them, as the thread will never finish a record
 * a signal handler interrupted. */
void gm_thread_mend(gm_thread_t *t);

/* Forget the current chunk without committing it (fork child: the chunk
 * belongs to the parent's log). */
void gm_thread_reset(gm_thread_t *t);

/* Install the thread-exit destructor key; returns 0 or a negative errno. */
int gm_thread_init(void);

#endif
