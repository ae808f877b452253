/* frame.c - frame ends: per-frame totals, spikes, ticks, capture level */
#define _GNU_SOURCE
#include "frame.h"

#include <errno.h>
#include <string.h>

#include "../log/format.h"
#include "../support/mem.h"
#include "../support/support.h"
#include "event.h"
#include "pool.h"
#include "../budget/budget.h"
#include "session.h"

#define GM_FRAME_WINDOW 128     /* frames in the rolling median */
#define GM_FRAME_MIN_HISTORY 30 /* frames before relative limits apply */

extern gm_frame_acc_t gm_thread_accs[];

int gm_event_level;
int gm_event_alloc_level;
uint64_t gm_frame_number;
int gm_frame_explicit;
int gm_frame_auto_ended;

static int gm_frame_lock;                          /* spin flag: one frame end at a time */
static uint64_t gm_frame_ticks;                    /* ticks so far */
static gm_frame_acc_t gm_frame_snap[16384];        /* totals at the previous frame end */
static int64_t gm_frame_live;                      /* process live bytes at the last frame end */
static uint64_t gm_frame_end_tsc;                  /* TSC of the last frame end; 0 before one */
static uint64_t gm_frame_hist[3][GM_FRAME_WINDOW]; /* allocations, bytes, ns */
static uint64_t gm_frame_nhist;
static gmtrace_spike_fn gm_frame_cb;

/* Frames level, per thread: tag counters, then their frame-end snapshot. */
__thread gm_tag_acc_t *gm_event_tag_acc __attribute__((tls_model("initial-exec")));
static gm_tag_acc_t *gm_frame_tag_accs[16384];

void gm_event_tag_acc_make(gm_thread_t *t)
{
	gm_tag_acc_t *a;
	uint32_t idx;
	if (!t->acc)
		return;
	idx = t->index < 16384 ? t->index : 16383;
	a = __atomic_load_n(&gm_frame_tag_accs[idx], __ATOMIC_ACQUIRE);
	if (!a) {
		/* one block per thread, the first time it allocates in the
		 * frames level (from the private arena) */
		a = gm_mem_alloc(2 * GM_TAG_ACC_SLOTS * sizeof(*a));
		if (!a)
			return;
		__atomic_store_n(&gm_frame_tag_accs[idx], a, __ATOMIC_RELEASE);
	}
	gm_event_tag_acc = a;
}

/* One gm_rec_frame_tags record: allocations per tag in this frame. */
static void gm_frame_tags(gm_thread_t *t, uint64_t frame, uint64_t nthreads)
{
	static uint64_t sum[GM_TAG_ACC_SLOTS][2];
	uint64_t extra[2 * 255];
	uint32_t i, s, n = 0;
	memset(sum, 0, sizeof(sum));
	for (i = 0; i < nthreads && i < 16384; i++) {
		gm_tag_acc_t *a = __atomic_load_n(&gm_frame_tag_accs[i], __ATOMIC_ACQUIRE), *snap;
		if (!a)
			continue;
		snap = a + GM_TAG_ACC_SLOTS;
		for (s = 0; s < GM_TAG_ACC_SLOTS; s++) {
			uint64_t na = __atomic_load_n(&a[s].nalloc, __ATOMIC_RELAXED);
			uint64_t nb = __atomic_load_n(&a[s].bytes, __ATOMIC_RELAXED);
			sum[s][0] += na - snap[s].nalloc;
			sum[s][1] += nb - snap[s].bytes;
			snap[s].nalloc = na;
			snap[s].bytes = nb;
		}
	}
	for (s = 0; s < GM_TAG_ACC_SLOTS && n < 255; s++) {
		uint64_t id = s == GM_TAG_ACC_SLOTS - 1 ? 0xffffff : s;
		if (!sum[s][0])
			continue;
		extra[2 * n] = id | (sum[s][0] << 24);
		extra[2 * n + 1] = sum[s][1];
		n++;
	}
	if (n)
		gm_thread_put_var(t, gm_rec_frame_tags, frame, n, extra, n * 16);
}

static void *gm_frame_cb_user;

/* limits, from the options (0 = off) */
static uint64_t gm_frame_limit_allocs, gm_frame_limit_bytes, gm_frame_limit_ns;
static double gm_frame_factor;
static int gm_frame_stderr;

static int gm_frame_said_bursts;

void gm_frame_configure(void)
{
	gm_options_t *o = &gm_session_options;
	gm_frame_limit_allocs = o->spike_allocations;
	gm_frame_limit_bytes = o->spike_bytes;
	gm_frame_limit_ns = o->spike_alloc_ns;
	gm_frame_factor = (double)o->spike_factor_pct / 100.0;
	gm_frame_stderr = o->spike_stderr;
	gm_thread_sample_every = o->timing_sample ? (uint32_t)o->timing_sample : 1;
	/* bursts need the kernel to say when a thread was preempted */
	gm_thread_burst =
	        o->burst_allocations && gm_thread_rseq_probe() ? (uint32_t)o->burst_allocations : 0;
	if (o->burst_allocations && !gm_thread_burst && !gm_frame_said_bursts) {
		gm_frame_said_bursts = 1; /* (once: a fork child inherits it) */
		gm_support_warn("GMTRACE_BURST_ALLOCATIONS: no restartable-sequences area for ",
		                "this thread (glibc 2.35 and Linux 4.18 or later register one)",
		                "; bursts are off");
	}
	gm_event_level = o->level;
	gm_event_alloc_level = gm_event_level; /* until gm_stack_start */
}

void gm_frame_reset(uint32_t nthreads)
{
	/* the used slots only: the two tables are 11 MiB each, and zeroing all
	 * of them wrote every page (a fork child took ~6,000 page faults and
	 * 20 ms to start, and 23 MiB more of memory) */
	if (nthreads > 16384)
		nthreads = 16384;
	memset(gm_thread_accs, 0, nthreads * sizeof(gm_frame_acc_t));
	memset(gm_frame_snap, 0, nthreads * sizeof(gm_frame_acc_t));
	memset(gm_frame_hist, 0, sizeof(gm_frame_hist));
	for (uint32_t i = 0; i < 16384; i++)
		if (gm_frame_tag_accs[i])
			memset(gm_frame_tag_accs[i], 0,
			       2 * GM_TAG_ACC_SLOTS * sizeof(gm_tag_acc_t));
	gm_event_tag_acc = NULL;
	gm_frame_nhist = 0;
	gm_frame_live = 0;
	gm_frame_end_tsc = 0;
	gm_frame_number = 0;
	gm_frame_ticks = 0;
	gm_frame_lock = 0;
}

/* TSC ticks per ns from the session's start sample; 0 in its first
 * millisecond. A millisecond is enough: the two clocks are read tens of ns
 * apart, an error of a few parts in 10^5 (the rate is taken again each
 * second). It used to wait 20 ms, and a game's first frames' spikes then
 * said 0 ns in the allocator. */
static double gm_frame_ticks_per_ns(void)
{
	static double cached;
	static uint64_t cached_at;
	uint64_t mono, tsc;
	if (!gm_session_log.hdr)
		return 0;
	mono = gm_support_mono_ns();
	if (cached && mono - cached_at < 1000000000ull)
		return cached;
	tsc = gm_support_tsc();
	if (mono - gm_session_log.hdr->mono0 < 1000000ull)
		return cached;
	cached = (double)(tsc - gm_session_log.hdr->tsc0) /
	         (double)(mono - gm_session_log.hdr->mono0);
	cached_at = mono;
	return cached;
}

/* Median of the last frames of one metric (quickselect on a copy). */
static uint64_t gm_frame_median(const uint64_t *v, uint64_t n)
{
	uint64_t a[GM_FRAME_WINDOW];
	uint64_t lo = 0, hi, k;
	if (n > GM_FRAME_WINDOW)
		n = GM_FRAME_WINDOW;
	if (n == 0)
		return 0;
	memcpy(a, v, n * sizeof(*a));
	hi = n - 1;
	k = n / 2;
	while (lo < hi) {
		uint64_t pivot = a[(lo + hi) / 2], i = lo, j = hi;
		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				uint64_t tmp = a[i];
				a[i] = a[j];
				a[j] = tmp;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return a[k];
}

/* The limit for one metric: the absolute one, or factor x median once
 * there is history (whichever is lower when both are set). The relative
 * limit applies to allocation counts and bytes only, and never below the
 * median plus a floor (32 allocations, 32 KiB): the allocator time is an
 * estimate from one timed call in N, too noisy to compare with a median,
 * so it has an absolute limit only. */
static uint64_t gm_frame_limit(uint64_t absolute, int metric)
{
	static const uint64_t floor_[2] = {32, 32 * 1024};
	uint64_t rel = 0;
	if (metric < 2 && gm_frame_factor > 0 && gm_frame_nhist >= GM_FRAME_MIN_HISTORY) {
		uint64_t med = gm_frame_median(gm_frame_hist[metric], gm_frame_nhist);
		rel = (uint64_t)((double)med * gm_frame_factor);
		if (rel < med + floor_[metric])
			rel = med + floor_[metric];
	}
	if (absolute && rel)
		return absolute < rel ? absolute : rel;
	return absolute ? absolute : rel;
}

static void gm_frame_spike_line(const gmtrace_spike_t *s)
{
	char line[256], num[24];
	size_t len = 0;
	line[0] = 0;
	gm_support_append(line, sizeof(line), &len, "spike at frame ");
	gm_support_u64(num, s->frame);
	gm_support_append(line, sizeof(line), &len, num);
	gm_support_append(line, sizeof(line), &len, ": ");
	gm_support_u64(num, s->allocations);
	gm_support_append(line, sizeof(line), &len, num);
	gm_support_append(line, sizeof(line), &len, " allocations, ");
	gm_support_u64(num, s->allocated_bytes);
	gm_support_append(line, sizeof(line), &len, num);
	gm_support_append(line, sizeof(line), &len, " bytes, ");
	gm_support_u64(num, s->alloc_ns / 1000);
	gm_support_append(line, sizeof(line), &len, num);
	gm_support_append(line, sizeof(line), &len, " us in the allocator");
	gm_support_warn(line, 0, 0);
}

void gm_frame_cost(gm_thread_t *t)
{
	uint64_t extra[2 * GM_COST_CLASSES];
	uint64_t nthreads, i;
	unsigned c;
	if (!gm_session_log.hdr || !__atomic_load_n(&gm_thread_recording, __ATOMIC_RELAXED))
		return;
	memset(extra, 0, sizeof(extra));
	nthreads = __atomic_load_n(&gm_session_log.hdr->nthreads, __ATOMIC_RELAXED);
	if (nthreads > 16384)
		nthreads = 16384;
	for (i = 0; i < nthreads; i++) {
		for (c = 0; c < GM_COST_CLASSES; c++) {
			extra[2 * c] +=
			        __atomic_load_n(&gm_thread_accs[i].cost_n[c], __ATOMIC_RELAXED);
			extra[2 * c + 1] +=
			        __atomic_load_n(&gm_thread_accs[i].cost_ticks[c], __ATOMIC_RELAXED);
		}
	}
	gm_thread_put_var(t, gm_rec_alloc_cost, 0, GM_COST_CLASSES, extra, sizeof(extra));
}

/* A thread's running totals now (the counts, bytes, ticks and live bytes
 * a frame end differences). */
static void gm_frame_totals(const gm_frame_acc_t *a, gm_frame_acc_t *now)
{
	now->nalloc = __atomic_load_n(&a->nalloc, __ATOMIC_RELAXED);
	now->nfree = __atomic_load_n(&a->nfree, __ATOMIC_RELAXED);
	now->alloc_bytes = __atomic_load_n(&a->alloc_bytes, __ATOMIC_RELAXED);
	now->free_bytes = __atomic_load_n(&a->free_bytes, __ATOMIC_RELAXED);
	now->alloc_ticks = __atomic_load_n(&a->alloc_ticks, __ATOMIC_RELAXED);
	now->live = __atomic_load_n(&a->live, __ATOMIC_RELAXED);
}

void gm_frame_end(gm_thread_t *t, unsigned source)
{
	uint64_t frame, sum[6] = {0}, nthreads, i, active = 0, ticks_total = 0, at, length;
	int64_t live = 0, peak_growth = 0;
	uint32_t flags = 0;
	gmtrace_spike_t spike;
	double tpn;
	int recording = __atomic_load_n(&gm_thread_recording, __ATOMIC_ACQUIRE);
	int fire = 0;

	if (source != gm_present_marker && __atomic_load_n(&gm_frame_explicit, __ATOMIC_RELAXED))
		return;
	/* not recording (before start-up, after the end) or called from inside
	 * gmtrace: not a frame of the capture, and its totals go to the next */
	if (!recording || t->busy || !gm_session_log.hdr)
		return;
	while (__atomic_exchange_n(&gm_frame_lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
	frame = __atomic_add_fetch(&gm_frame_number, 1, __ATOMIC_SEQ_CST);
	if (source != gm_present_marker)
		__atomic_store_n(&gm_frame_auto_ended, 1, __ATOMIC_RELAXED);
	/* the mark's reading after the new number is seen by every thread: an
	 * allocation that still saw the old one (and may carry a reading of a
	 * burst, record/thread.h) was made before the mark */
	__builtin_ia32_lfence();
	at = gm_thread_put(t, gm_rec_w0(frame, gm_rec_frame, 0), source);
	/* a thread's allocator estimate is at most the frame's length: one timed
	 * call preempted would otherwise count timing_sample times over */
	length = gm_frame_end_tsc && at > gm_frame_end_tsc ? at - gm_frame_end_tsc : UINT64_MAX;
	gm_frame_end_tsc = at;
	nthreads = __atomic_load_n(&gm_session_log.hdr->nthreads, __ATOMIC_RELAXED);
	if (nthreads > 16384)
		nthreads = 16384;
	for (i = 0; i < nthreads; i++) {
		gm_frame_acc_t *a = &gm_thread_accs[i], *s = &gm_frame_snap[i], now;
		uint64_t d[5], pf;
		int64_t peak;
		gm_frame_totals(a, &now);
		pf = __atomic_load_n(&a->peak_frame, __ATOMIC_RELAXED);
		peak = __atomic_load_n(&a->peak, __ATOMIC_RELAXED);
		d[0] = now.nalloc - s->nalloc;
		d[1] = now.nfree - s->nfree;
		d[2] = now.alloc_bytes - s->alloc_bytes;
		d[3] = now.free_bytes - s->free_bytes;
		d[4] = now.alloc_ticks - s->alloc_ticks;
		if (d[4] > length)
			d[4] = length;
		live += now.live;
		/* growth above the live bytes this thread began the frame with */
		if (pf == frame - 1 && peak > s->live)
			peak_growth += peak - s->live;
		if (d[0] | d[1] | d[2] | d[3] | d[4]) {
			uint64_t extra[6] = {d[0], d[1], d[2], d[3], d[4], 0};
			gm_thread_put_var(t, gm_rec_frame_thread, frame, i, extra, sizeof(extra));
			active += d[0] != 0;
			sum[0] += d[0];
			sum[1] += d[1];
			sum[2] += d[2];
			sum[3] += d[3];
			ticks_total += d[4];
		}
		*s = now;
	}
	if (gm_event_level == gm_level_frames)
		flags |= GM_FRAME_FLAG_FRAMES_LEVEL;
	if (source != gm_present_marker)
		flags |= GM_FRAME_FLAG_AUTO;
	if (active > 1)
		flags |= GM_FRAME_FLAG_PEAK_APPROX;
	{
		int64_t peak = gm_frame_live + peak_growth;
		uint64_t extra[8] = {sum[0],         sum[1],
		                     sum[2],         sum[3],
		                     (uint64_t)live, (uint64_t)(peak > live ? peak : live),
		                     ticks_total,    flags};
		gm_thread_put_var(t, gm_rec_frame_sum, frame, active, extra, sizeof(extra));
	}
	gm_frame_live = live;
	if (gm_event_level == gm_level_frames)
		gm_frame_tags(t, frame, nthreads);
	gm_pool_frame_end(t, frame);
	if ((frame & 1023) == 0)
		gm_frame_cost(t);

	/* spikes */
	tpn = gm_frame_ticks_per_ns();
	memset(&spike, 0, sizeof(spike));
	spike.frame = frame;
	spike.allocations = sum[0];
	spike.allocated_bytes = sum[2];
	spike.alloc_ns = tpn > 0 ? (uint64_t)((double)ticks_total / tpn) : 0;
	spike.limit_allocations = gm_frame_limit(gm_frame_limit_allocs, 0);
	spike.limit_bytes = gm_frame_limit(gm_frame_limit_bytes, 1);
	spike.limit_alloc_ns = gm_frame_limit(gm_frame_limit_ns, 2);
	if (spike.limit_allocations && spike.allocations > spike.limit_allocations)
		spike.reasons |= GM_SPIKE_ALLOCATIONS;
	if (spike.limit_bytes && spike.allocated_bytes > spike.limit_bytes)
		spike.reasons |= GM_SPIKE_BYTES;
	if (spike.limit_alloc_ns && tpn > 0 && spike.alloc_ns > spike.limit_alloc_ns)
		spike.reasons |= GM_SPIKE_ALLOC_TIME;
	gm_frame_hist[0][gm_frame_nhist % GM_FRAME_WINDOW] = spike.allocations;
	gm_frame_hist[1][gm_frame_nhist % GM_FRAME_WINDOW] = spike.allocated_bytes;
	gm_frame_hist[2][gm_frame_nhist % GM_FRAME_WINDOW] = spike.alloc_ns;
	gm_frame_nhist++;
	if (spike.reasons) {
		uint64_t extra[6] = {spike.allocations,     spike.limit_allocations,
		                     spike.allocated_bytes, spike.limit_bytes,
		                     spike.alloc_ns,        spike.limit_alloc_ns};
		gm_thread_put_var(t, gm_rec_spike, frame, spike.reasons, extra, sizeof(extra));
		fire = 1;
	}
	__atomic_store_n(&gm_frame_lock, 0, __ATOMIC_RELEASE);
	/* budgets: evictions at the frame boundary run outside the frame lock
	 * (an evictor may allocate, free, even end a frame) */
	gm_budget_frame(t, frame);
	if (fire) {
		gmtrace_spike_fn cb = __atomic_load_n(&gm_frame_cb, __ATOMIC_ACQUIRE);
		if (gm_frame_stderr)
			gm_frame_spike_line(&spike);
		if (cb)
			cb(&spike, gm_frame_cb_user);
	}
}

void gm_frame_tail(gm_thread_t *t)
{
	uint64_t sum[4] = {0}, nthreads, i, active = 0, ticks = 0, frame;
	int64_t live = 0;
	if (gm_event_level != gm_level_frames || t->busy ||
	    !__atomic_load_n(&gm_thread_recording, __ATOMIC_ACQUIRE) || !gm_session_log.hdr)
		return;
	while (__atomic_exchange_n(&gm_frame_lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
	frame = __atomic_load_n(&gm_frame_number, __ATOMIC_SEQ_CST) + 1;
	nthreads = __atomic_load_n(&gm_session_log.hdr->nthreads, __ATOMIC_RELAXED);
	if (nthreads > 16384)
		nthreads = 16384;
	for (i = 0; i < nthreads; i++) {
		const gm_frame_acc_t *s = &gm_frame_snap[i];
		gm_frame_acc_t now;
		gm_frame_totals(&gm_thread_accs[i], &now);
		active += now.nalloc != s->nalloc;
		sum[0] += now.nalloc - s->nalloc;
		sum[1] += now.nfree - s->nfree;
		sum[2] += now.alloc_bytes - s->alloc_bytes;
		sum[3] += now.free_bytes - s->free_bytes;
		ticks += now.alloc_ticks - s->alloc_ticks;
		live += now.live;
	}
	{
		/* (no peak for the tail: its live bytes at the end stand for it) */
		uint64_t extra[8] = {
		        sum[0],         sum[1],
		        sum[2],         sum[3],
		        (uint64_t)live, (uint64_t)live,
		        ticks,          GM_FRAME_FLAG_FRAMES_LEVEL | GM_FRAME_FLAG_AT_END};
		gm_thread_put_var(t, gm_rec_frame_sum, frame, active, extra, sizeof(extra));
	}
	__atomic_store_n(&gm_frame_lock, 0, __ATOMIC_RELEASE);
}

void gm_frame_tick(gm_thread_t *t)
{
	uint64_t n = __atomic_add_fetch(&gm_frame_ticks, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&gm_thread_recording, __ATOMIC_RELAXED) && !t->busy)
		gm_thread_put(t, gm_rec_w0(n, gm_rec_sim_tick, 0), 0);
}

int gm_frame_level_set(gm_thread_t *t, int level)
{
	if (level < 0 || level >= gm_level_count)
		return -EINVAL;
	__atomic_store_n(&gm_event_level, level, __ATOMIC_RELAXED);
	__atomic_store_n(&gm_event_alloc_level, gm_stack_depth ? -1 : level, __ATOMIC_RELAXED);
	if (__atomic_load_n(&gm_thread_recording, __ATOMIC_RELAXED) && !t->busy)
		gm_thread_put(t, gm_rec_w0((uint64_t)level, gm_rec_level, 0), 0);
	return 0;
}

void gm_frame_spike_callback(gmtrace_spike_fn fn, void *user)
{
	gm_frame_cb_user = user;
	__atomic_store_n(&gm_frame_cb, fn, __ATOMIC_RELEASE);
}
