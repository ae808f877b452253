/* thread.c - per-thread recording: registration, chunk switches, exit
 *
 * Everything here runs with the thread's busy flag set, so allocations made
 * by what it calls (pthread_setspecific's first use, nanosleep's nothing)
 * are forwarded unrecorded instead of recursing.
 */
#include "thread.h"

#include "../budget/heap.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#if defined(__x86_64__) && defined(__has_include)
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#define GM_THREAD_HAVE_RSEQ 1
/* weak: a C library older than 2.35 has no rseq area to tell of, and the
 * preload must still load there (bursts then stay off) */
#pragma weak __rseq_offset
#pragma weak __rseq_size
#endif
#endif

#include "../log/drain.h"
#include "context.h"
#include "session.h"

__thread gm_thread_t gm_thread_self __attribute__((tls_model("initial-exec"))) = {
        .chunk = -1,
};
int gm_thread_recording;

static pthread_key_t gm_thread_key;
static int gm_thread_key_ok;

static void gm_thread_exit(void *arg);

int gm_thread_init(void)
{
	if (gm_thread_key_ok)
		return 0;
	if (pthread_key_create(&gm_thread_key, gm_thread_exit) != 0)
		return -EAGAIN;
	gm_thread_key_ok = 1;
	return 0;
}

static void gm_thread_commit_pending(gm_thread_t *t);

/* Waits for a chunk before a claimer looks whether every chunk is held by
 * a thread (nothing committed for a drainer to free) and grows the log. */
#define GM_THREAD_GROW_WAITS 32

/* The log full for a while: when every chunk is held by a thread (threads
 * that recorded a little and now wait for each other would wait for ever),
 * more chunks. Said once on stderr, and once when it cannot grow. */
static void gm_thread_grow(gm_ring_t *ring)
{
	static int said_grew, said_stuck;
	int rc = gm_ring_grow(ring);
	if (rc == -EAGAIN)
		return; /* the drainer frees a committed chunk */
	if (rc > 0) {
		if (!__atomic_exchange_n(&said_grew, 1, __ATOMIC_RELAXED))
			gm_support_warn("every chunk of the shared-memory log is held by a thread "
			                "(threads that recorded and now wait): the log grows; a "
			                "larger GMTRACE_RING_SIZE saves the waits",
			                0, 0);
		return;
	}
	if (!__atomic_exchange_n(&said_stuck, 1, __ATOMIC_RELAXED))
		gm_support_warn("every chunk of the shared-memory log is held by a thread and the "
		                "log cannot grow ",
		                rc == -ERANGE ? "(it is at its largest)" :
		                rc == -ENOSPC || rc == -EFAULT || rc == -ENOMEM ?
		                                "(no room in /dev/shm)" :
		                                "(its pages could not be had)",
		                ": threads wait until one fills its chunk or ends");
}

/* Claim a chunk for t, waiting while the log is full. Returns 0, or -1 if
 * recording stopped meanwhile. The wait is counted in the log header and
 * written as a gm_rec_stall record at the start of the new chunk. */
static int gm_thread_claim(gm_thread_t *t)
{
	gm_ring_t *ring = &gm_session_log;
	uint64_t waits = 0, start = 0;
	int idx;
	while ((idx = gm_ring_claim(ring, t->index, t->seq, t->last_tsc)) < 0) {
		struct timespec ts = {0, 50000};
		if (!__atomic_load_n(&gm_thread_recording, __ATOMIC_ACQUIRE))
			return -1;
		if (waits == 0) {
			start = gm_support_mono_ns();
			/* a full log: our own full chunk goes to the drainer now */
			gm_thread_commit_pending(t);
		}
		waits++;
		if (waits % GM_THREAD_GROW_WAITS == 0)
			gm_thread_grow(ring);
		if (!gm_session_drain_help())
			nanosleep(&ts, NULL);
	}
	t->chunk = idx;
	t->seq++;
	t->pos = (uint64_t *)gm_ring_data(ring, idx);
	t->end = t->pos + ring->hdr->chunk_bytes / 8;
	if (waits) {
		uint64_t ns = gm_support_mono_ns() - start;
		uint64_t now = gm_support_tsc();
		__atomic_add_fetch(&ring->hdr->stalls, waits, __ATOMIC_RELAXED);
		__atomic_add_fetch(&ring->hdr->stall_ns, ns, __ATOMIC_RELAXED);
		/* keep the chunk's tsc_base valid: a time record first */
		t->pos[2] = now;
		t->pos[3] = 0;
		t->pos[1] = gm_rec_w1(0, now);
		__atomic_store_n(&t->pos[0], gm_rec_w0(0, gm_rec_time, 1), __ATOMIC_RELEASE);
		t->pos[5] = gm_rec_w1(ns, now);
		__atomic_store_n(&t->pos[4], gm_rec_w0(waits, gm_rec_stall, 0), __ATOMIC_RELEASE);
		t->pos += 6;
		t->last_tsc = now;
	}
	return 0;
}

/* Bytes of t's chunk in use: up to pos, which may be past the end
 * (gm_thread_claim_slot). */
static uint32_t gm_thread_used(const gm_thread_t *t)
{
	return (uint32_t)((unsigned char *)(t->pos < t->end ? t->pos : t->end) -
	                  gm_ring_data(&gm_session_log, t->chunk));
}

static void gm_thread_commit_pending(gm_thread_t *t)
{
	if (t->pending) {
		gm_ring_commit(&gm_session_log, t->pending - 1, t->pending_used);
		t->pending = 0;
	}
}

/* Make room for units more units, switching chunks if needed. A full chunk
 * is committed at the next switch, not at this one: the switch may be a
 * signal handler's, which found the chunk full because the code it
 * interrupted had just claimed the chunk's last slot and not yet written
 * it. That write lands after the handler returns; committed now, the chunk
 * could be drained (to the hole: the record lost, uncounted) and handed to
 * another thread before it. */
static int gm_thread_room(gm_thread_t *t, unsigned units)
{
	if (t->pos && t->pos + 2 * units <= t->end)
		return 0;
	if (t->chunk >= 0) {
		gm_thread_commit_pending(t);
		t->pending = t->chunk + 1;
		t->pending_used = gm_thread_used(t);
		if (GM_UNLIKELY(t->late))
			__atomic_store_n(&gm_session_log.chunks[t->chunk].late_tid, t->os_tid,
			                 __ATOMIC_RELEASE);
		t->chunk = -1;
		t->pos = t->end = NULL;
		gm_session_drain_help(); /* no core free: drain it ourselves */
	}
	if (gm_thread_claim(t) != 0)
		return -1;
	return t->pos + 2 * units <= t->end ? 0 : -1;
}

/* Write a record into reserved room: extra units first, first word last. */
static void gm_thread_store(gm_thread_t *t, uint64_t w0, uint64_t b, const uint64_t *extra,
                            unsigned nextra, uint64_t now)
{
	uint64_t *p = t->pos;
	unsigned i;
	t->pos = p + 2 + 2 * nextra;
	t->last_tsc = now;
	__asm__ volatile("" ::: "memory");
	for (i = 0; i < 2 * nextra; i++)
		p[2 + i] = extra[i];
	p[1] = gm_rec_w1(b, now);
	__atomic_store_n(&p[0], w0, __ATOMIC_RELEASE);
}

/* A lost record of lost calls (gm_thread_busy_call) into reserved room. */
static void gm_thread_store_lost(gm_thread_t *t, uint64_t lost, uint64_t now)
{
	gm_thread_store(t,
	                gm_rec_w0(lost < GM_REC_PTR_MASK ? lost : GM_REC_PTR_MASK, gm_rec_lost, 0),
	                0, NULL, 0, now);
}

/* Totals slots, indexed by thread index; threads past the table share the
 * last slot (their per-thread split is then lost, the totals stay close). */
#define GM_THREAD_MAX_ACC 16384
gm_frame_acc_t gm_thread_accs[GM_THREAD_MAX_ACC];
uint32_t gm_thread_sample_every = 16;
uint32_t gm_thread_burst = GM_THREAD_BURST_REUSE;
uint64_t gm_thread_rseq_mark;

#ifdef GM_THREAD_HAVE_RSEQ
/* The kernel accepts a descriptor only if the four bytes before its abort
 * address hold the signature the thread registered with (glibc's
 * RSEQ_SIG); the section itself is empty (start 0, length 0), so the
 * kernel never aborts into it and only ever clears the word. */
static const uint32_t gm_thread_rseq_sig[2] __attribute__((aligned(8))) = {RSEQ_SIG, 0};
static struct rseq_cs gm_thread_rseq_desc;

/* The calling thread's rseq_cs word, or NULL when glibc registered no
 * rseq area for it (an old kernel, glibc.pthread.rseq=0). */
static uint64_t *gm_thread_rseq_word(void)
{
	char *tp;
	struct rseq *area;
	if (!&__rseq_size || !&__rseq_offset ||
	    __rseq_size < offsetof(struct rseq, rseq_cs) + sizeof(uint64_t))
		return NULL;
	__asm__("mov %%fs:0, %0" : "=r"(tp));
	area = (struct rseq *)(void *)(tp + __rseq_offset);
	if ((int32_t)__atomic_load_n(&area->cpu_id, __ATOMIC_RELAXED) < 0)
		return NULL; /* not registered, or registration failed */
	return (uint64_t *)(void *)((char *)area + offsetof(struct rseq, rseq_cs));
}

int gm_thread_rseq_probe(void)
{
	if (!gm_thread_rseq_word())
		return 0;
	gm_thread_rseq_desc.version = 0;
	gm_thread_rseq_desc.flags = 0;
	gm_thread_rseq_desc.start_ip = 0;
	gm_thread_rseq_desc.post_commit_offset = 0;
	gm_thread_rseq_desc.abort_ip = (uint64_t)(uintptr_t)&gm_thread_rseq_sig[1];
	gm_thread_rseq_mark = (uint64_t)(uintptr_t)&gm_thread_rseq_desc;
	return 1;
}
#else
static uint64_t *gm_thread_rseq_word(void)
{
	return NULL;
}

int gm_thread_rseq_probe(void)
{
	return 0;
}
#endif

static void gm_thread_register(gm_thread_t *t)
{
	char name[16] = {0};
	uint64_t words[2] = {0, 0};
	t->index = __atomic_fetch_add(&gm_session_log.hdr->nthreads, 1, __ATOMIC_RELAXED);
	t->acc = &gm_thread_accs[t->index < GM_THREAD_MAX_ACC ? t->index : GM_THREAD_MAX_ACC - 1];
	if (GM_UNLIKELY(t->index >= GM_FORMAT_MAX_THREADS)) {
		/* no capture can name it (a drainer would count its chunks
		 * damaged and leave them out): it goes unrecorded, said once */
		static int said;
		t->state = gm_thread_unrecorded;
		if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
			gm_support_warn("more than 1048576 threads in this process: the later ones "
			                "are not recorded (a capture names at most that many)",
			                0, 0);
		return;
	}
	t->rseq_cs = gm_thread_rseq_mark ? gm_thread_rseq_word() : NULL;
	t->burst_n = t->rseq_cs ? gm_thread_burst : 0;
	t->sample_left = gm_thread_sample_every;
	t->seq = 0;
	t->os_tid = (uint32_t)gm_support_gettid();
	t->last_tsc = gm_support_tsc();
	t->state = gm_thread_active;
	if (gm_thread_key_ok)
		pthread_setspecific(gm_thread_key, t);
	prctl(PR_GET_NAME, name, 0, 0, 0);
	memcpy(words, name, sizeof(words));
	if (gm_thread_room(t, 2) == 0)
		gm_thread_store(t, gm_rec_w0(t->os_tid, gm_rec_thread_start, 1), strlen(name),
		                words, 1, gm_support_tsc());
	/* a fork child's thread keeps its tag/asset stacks: say so again */
	t->busy = 0;
	gm_context_restate(t);
	t->busy = 1;
}

/* in_slow moved by d in one instruction (a signal handler on this thread
 * sees it before or after, never half done), between compiler barriers. */
static inline void gm_thread_slow_mark(gm_thread_t *t, int d)
{
	__asm__ volatile("" ::: "memory");
#if defined(__x86_64__)
	__asm__ volatile("addl %1, %0" : "+m"(t->in_slow) : "ri"(d) : "memory");
#else
	__atomic_add_fetch(&t->in_slow, (uint32_t)d, __ATOMIC_RELAXED);
#endif
	__asm__ volatile("" ::: "memory");
}

void gm_thread_put_slow(gm_thread_t *t, uint64_t w0, uint64_t b, const uint64_t *extra,
                        unsigned nextra, uint64_t now)
{
	int saved_errno;
	if (t->busy || !__atomic_load_n(&gm_thread_recording, __ATOMIC_ACQUIRE))
		return;
	/* while busy here nothing of ours allocates or frees (but
	 * registering, below): a call that arrives then is a signal
	 * handler's, counted (gm_thread_busy_call). in_slow goes up before
	 * busy and down after it, each in one instruction, so no moment of
	 * busy is uncovered (a handler between the two records as usual, its
	 * own slow path nesting in_slow) */
	gm_thread_slow_mark(t, 1);
	saved_errno = errno; /* hooks must leave errno as the allocator set it */
	t->busy = 1;
	t->reuse_left = 0; /* a record of the slow path ends a burst */
	if (t->state != gm_thread_active) {
		/* (the thread's first record: the C library may allocate for
		 * the key, and that is gmtrace's own) */
		gm_thread_slow_mark(t, -1);
		if (t->state == gm_thread_new) {
			gm_thread_register(t);
		} else if (t->state == gm_thread_exited) {
			/* records after the exit destructor (another key's
			 * destructor): keep them, and have the destructor run once
			 * more to commit them. The C library runs four rounds of
			 * key destructors at most: a record of the last round left
			 * the chunk the thread's for good (one a thread, and then
			 * every thread waited for room), so its chunks carry its id
			 * from now on, and a drainer commits them once it is gone */
			t->state = gm_thread_active;
			t->late = 1;
			if (gm_thread_key_ok)
				pthread_setspecific(gm_thread_key, t);
		}
		gm_thread_slow_mark(t, 1);
		if (t->state != gm_thread_active)
			goto out; /* gm_thread_unrecorded */
	}
	/* room for a time record (2 units) and the record itself */
	if (gm_thread_room(t, 3 + nextra) != 0)
		goto out;
	if (now - t->last_tsc >= GM_REC_TICK_HALF || now < t->last_tsc) {
		uint64_t full[2] = {now, 0};
		gm_thread_store(t, gm_rec_w0(0, gm_rec_time, 1), 0, full, 1, now);
	}
	gm_thread_store(t, w0, b, extra, nextra, now);
	/* handlers' calls that went unrecorded meanwhile: one lost record
	 * (those arriving after the last look are in the next one) */
	for (;;) {
		uint64_t lost = __atomic_exchange_n(&t->lost, 0, __ATOMIC_RELAXED);
		if (!lost || gm_thread_room(t, 1) != 0) {
			if (lost)
				__atomic_add_fetch(&t->lost, lost, __ATOMIC_RELAXED);
			break;
		}
		gm_thread_store_lost(t, lost, now);
	}
	if (GM_UNLIKELY(t->late) && t->chunk >= 0)
		__atomic_store_n(&gm_session_log.chunks[t->chunk].late_tid, t->os_tid,
		                 __ATOMIC_RELEASE);
out:
	t->busy = 0;
	gm_thread_slow_mark(t, -1);
	errno = saved_errno;
}

void gm_thread_attach(gm_thread_t *t)
{
	if (t->state == gm_thread_active || t->state == gm_thread_unrecorded || t->busy ||
	    !__atomic_load_n(&gm_thread_recording, __ATOMIC_ACQUIRE))
		return;
	/* a time record is the cheapest record that goes through the slow path */
	gm_thread_put_slow(t, gm_rec_w0(0, gm_rec_time, 1), 0,
	                   (const uint64_t[2]){gm_support_tsc(), 0}, 1, gm_support_tsc());
}

void gm_thread_put_var(gm_thread_t *t, unsigned type, uint64_t a, uint64_t b, const void *data,
                       uint64_t nbytes)
{
	uint64_t buf[2 * GM_REC_MAX_EXTRA];
	uint64_t units;
	const unsigned char *src = data;
	if (!__atomic_load_n(&gm_thread_recording, __ATOMIC_ACQUIRE) || t->busy)
		return;
	if (nbytes > sizeof(buf))
		nbytes = sizeof(buf);
	units = (nbytes + 15) / 16;
	memset(buf, 0, units * 16);
	if (nbytes)
		memcpy(buf, src, nbytes);
	gm_thread_put_slow(t, gm_rec_w0(a, type, (unsigned)units), b, buf, (unsigned)units,
	                   gm_support_tsc());
}

void gm_thread_flush(gm_thread_t *t)
{
	uint64_t lost;
	if (!gm_session_log.hdr)
		return;
	gm_thread_commit_pending(t);
	if (t->chunk < 0)
		return;
	/* a handler's calls counted after the last switch's look */
	lost = __atomic_exchange_n(&t->lost, 0, __ATOMIC_RELAXED);
	if (lost && t->pos && t->pos + 2 <= t->end)
		gm_thread_store_lost(t, lost, gm_support_tsc());
	gm_ring_commit(&gm_session_log, t->chunk, gm_thread_used(t));
	t->chunk = -1;
	t->pos = t->end = NULL;
}

/* Mends chunk idx of this thread's up to used, from what is drained of it. */
static void gm_thread_mend_chunk(int idx, uint32_t used)
{
	const gm_chunk_t *c = &gm_session_log.chunks[idx];
	uint32_t from = __atomic_load_n(&c->drained, __ATOMIC_ACQUIRE);
	if (from < used)
		gm_drain_mend(gm_ring_data(&gm_session_log, idx), from, used,
		              __atomic_load_n(&c->drained_tsc, __ATOMIC_ACQUIRE));
}

void gm_thread_mend(gm_thread_t *t)
{
	if (!gm_session_log.hdr)
		return;
	/* the chunk before, full, not committed yet: a handler that filled
	 * it after the slot it interrupted went on into the current one */
	if (t->pending)
		gm_thread_mend_chunk(t->pending - 1, t->pending_used);
	if (t->chunk >= 0 && t->pos)
		gm_thread_mend_chunk(t->chunk, gm_thread_used(t));
}

void gm_thread_reset(gm_thread_t *t)
{
	t->chunk = -1;
	t->pending = 0; /* (the parent's chunk) */
	t->pos = t->end = NULL;
	t->state = gm_thread_new;
	t->busy = 0;
	t->in_slow = 0;
	t->lost = 0; /* (the parent's to write) */
	t->acc = NULL;
}

static void gm_thread_exit(void *arg)
{
	gm_thread_t *t = &gm_thread_self;
	(void)arg;
	if (t->state != gm_thread_active)
		return;
	gm_thread_put(t, gm_rec_w0(t->os_tid, gm_rec_thread_end, 0), 0);
	t->busy = 1;
	gm_heap_thread_exit();
	gm_thread_flush(t);
	t->state = gm_thread_exited;
	t->busy = 0;
}
